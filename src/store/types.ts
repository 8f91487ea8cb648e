/**
 * The rows the store reads and writes. The core re-exports `Platform` and `Vote` from here, so the store depends on no
 * core type (dependencies point inward: core -> store, never back).
 */
import type { ExpertId, Label } from '../gate/types.js';

/** Where a question came from. */
export type Platform = 'discord' | 'slack' | 'http' | 'cli';

/** 👍 is 1, 👎 is -1. */
export type Vote = 1 | -1;

/** `cancelled`: the asker went away (a client disconnected, a request was aborted) before the answer was complete. */
export type DecisionStatus = 'pending' | 'answered' | 'failed' | 'cancelled';

/** What a question's row holds from the moment it is decided (NewDecision and DecisionRow both have it). */
interface DecidedQuestion {
  id: string;
  createdAt: number;
  platform: Platform;
  channelId: string | null;
  userId: string | null;
  gateVersion: string;
  label: Label;
  gateExpert: ExpertId;
  expert: ExpertId;
  confidence: number;
  probabilities: Record<Label, number>;
  fallbackReason: string | null;
  reroutedFrom: string | null;
}

export interface NewDecision extends DecidedQuestion {
  query: string;
  /** The conversation this question is a turn of, when it came with one (see ConversationStore). */
  conversation?: DecisionConversation | null;
}

/** A question's place in its conversation and how the follow-up rule routed it (gateExpert: the message alone). */
export interface DecisionConversation {
  id: string;
  turn: number;
  followUp: boolean;
  chosenExpert: ExpertId;
  reason: 'fresh' | 'sticky' | 'switched';
}

export interface DecisionRow extends DecidedQuestion {
  /** Null when text logging is off, after retention, or after `moe forget`. */
  query: string | null;
  queryChars: number;
  status: DecisionStatus;
  answer: string | null;
  /** `code: detail` of a failure; on an answer by the fallback, what happened to the chosen expert. */
  error: string | null;
  latencyMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  completedAt: number | null;
  conversation: DecisionConversation | null;
}

export interface DecisionOutcome {
  expert: ExpertId;
  fallbackReason: string | null;
  latencyMs: number;
  completedAt: number;
}

export interface FeedbackRow {
  decisionId: string;
  userId: string;
  vote: Vote;
  correctedExpert: ExpertId | null;
  isAdmin: boolean;
  createdAt: number;
}

/** A recorded vote (and whether it replaced the user's earlier one), or why it was refused. */
export type FeedbackOutcome = { replaced: boolean } | 'not_found' | 'failed' | 'cancelled';

export interface GateVersionRow {
  version: string;
  createdAt: number;
  path: string;
  metrics: Record<string, unknown>;
  examples: number;
  feedbackExamples: number;
  promoted: boolean;
  active: boolean;
  reason: string | null;
}

export interface StoreStats {
  total: number;
  byExpert: Record<string, number>;
  fallbacks: number;
  byStatus: Record<DecisionStatus, number>;
  upvotes: number;
  downvotes: number;
}

/** The bot process that owns the database (instance_lock). */
export interface InstanceRow {
  instanceId: string;
  pid: number;
  host: string;
  startedAt: number;
  heartbeatAt: number;
}
