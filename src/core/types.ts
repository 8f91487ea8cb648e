/**
 * The contract between the core and its surfaces (adapters, HTTP, CLI). Adapters depend on this file only, so they
 * never reach into routing logic or SQL. A chat adapter is given one `CoreApi`, which src/app.ts assembles from the
 * Router (questions and votes), MessageLinks (which message shows which answer) and the operations (stats, retrain).
 */
import type { ExpertId, Label, FallbackReason } from '../gate/types.js';
import type { ChatTurn, ExpertInfo, ExpertStatus } from '../experts/types.js';
import type { Platform, Vote } from '../store/types.js';

export type { Platform, Vote };

export interface AskOptions {
  platform: Platform;
  /** Null for anonymous HTTP callers (not rate limited). */
  userId: string | null;
  channelId?: string | null;
  signal?: AbortSignal;
  /**
   * Instead of `signal`, the caller's controller of this question alone: the caller aborts it to cancel, the router at
   * shutdown. Saves the router a controller of its own per question (HTTP).
   */
  controller?: AbortController;
  onTextChunk?: (text: string) => void;
  /**
   * Called once, before the first text chunk, when the decision is recorded and the answering expert is known
   * (after any busy/unavailable fallback); lets streams announce the expert early.
   */
  onDecision?: (decision: DecisionInfo) => void;
  /**
   * The conversation this question is a turn of, platform-qualified: `discord:<channel or thread>:<root message>`,
   * `slack:<channel>:<thread_ts>`, `http:<id>`. A follow-up when it has turns already; a new one otherwise.
   * With `followUpOf`, the key to use only when that answer has no conversation (any more).
   */
  conversationKey?: string | null;
  /** Continue the conversation of this earlier answer (Discord's Follow up button, a reply to an answer). */
  followUpOf?: string | null;
  /**
   * Asked when the expert breaks mid-answer: a streaming caller that has shown none of its text yet (a throttled stream
   * holds the first chunks back) drops the chunks it got and returns true, and the fallback expert answers instead;
   * false once text was shown (the answer then fails). Without it, any chunk passed on counts as shown.
   */
  startOver?: () => boolean;
  /** Ask this expert instead of the gate's choice (e.g. /v1 `model: "finance"`); logged with fallback reason `forced`. */
  expert?: ExpertId;
  /**
   * The earlier turns, newest first, when the caller sends the whole conversation each time (/v1 `messages`): the
   * follow-up rule routes over their questions and the expert sees them, instead of what the log keeps for the key.
   */
  history?: readonly ChatTurn[];
  /** The caller's system text, appended to the expert's own system prompt. */
  systemPrompt?: string;
  /** The caller's generation settings; the expert keeps them within its own limits. */
  generation?: { maxTokens?: number; temperature?: number; topP?: number };
}

/** A question's place in its conversation, and how the follow-up rule routed it. */
export interface ConversationInfo {
  key: string;
  /** 1-based. */
  turn: number;
  followUp: boolean;
  /** `fresh` (first turn), `sticky` (stayed with the conversation's expert) or `switched`. */
  reason: 'fresh' | 'sticky' | 'switched';
  /** What the gate said about the message alone. */
  gateAlone: ExpertId;
  /** Set when this message started afresh under a key whose conversation was idle too long or had too many turns. */
  restarted: 'idle' | 'max_turns' | null;
}

/** What is known about a question before its answer: the first event of a stream. */
export interface DecisionInfo {
  decisionId: string;
  expert: ExpertInfo;
  /** Calibrated gate confidence in the label that was routed to (0..1). */
  confidence: number;
  probabilities: Record<Label, number>;
  /** Why the fallback expert answered instead of the gate's choice, or null. */
  fallbackReason: AnswerFallbackReason;
  /** Best other domain expert, for "Ask <runner-up> instead". */
  runnerUp: ExpertInfo;
  /** The answer was written by a generated demo model. */
  demo: boolean;
  /** Decision this one re-routes, if any. */
  reroutedFrom: string | null;
  /** The conversation, when the question is a turn of one. */
  conversation?: ConversationInfo | null;
}

/** `forced`: the caller named the expert (AskOptions.expert), so the gate's choice was not used. */
export type AnswerFallbackReason = FallbackReason | 'expert_unavailable' | 'expert_busy' | 'forced' | null;

export interface AskResult extends DecisionInfo {
  response: string;
  latencyMs: number;
  /** Tokens of the prompt and the answer, as the expert counted them (always set by Router). */
  promptTokens?: number;
  completionTokens?: number;
  /** `length` when the answer was cut at its token limit (the caller's `max_tokens` or the expert's own). */
  finishReason?: 'stop' | 'length';
  /** The gate was unsure (or the user re-asked): a vote on this answer teaches the gate most, so adapters invite one. */
  feedbackWanted: boolean;
}

export interface FeedbackResult {
  decisionId: string;
  vote: Vote;
  correctedExpert: ExpertId | null;
  /** True when this replaced an earlier vote by the same user. */
  replaced: boolean;
}

export interface RetrainReport {
  version: string;
  promoted: boolean;
  /** Why it was or was not promoted, one sentence. */
  reason: string;
  examplesUsed: number;
  feedbackExamples: number;
  oldAccuracy: number | null;
  newAccuracy: number;
  oldVersion: string | null;
  durationMs: number;
}

export interface RouterStats {
  decisionsByExpert: Record<string, number>;
  total: number;
  fallbackRate: number;
  upvoteRate: number | null;
  votes: number;
  gateVersion: string;
}

/** Questions and votes: src/core/Router.ts. */
export interface RouterApi {
  ask(query: string, options: AskOptions): Promise<AskResult>;
  reroute(decisionId: string, expertId: ExpertId, options: AskOptions): Promise<AskResult>;
  feedback(decisionId: string, userId: string, vote: Vote, correctedExpert?: ExpertId | null, options?: { admin?: boolean }): FeedbackResult;
  experts(): ExpertInfo[];
  expertStatus(): ExpertStatus[];
  gateVersion(): string;
  /** Whether a conversation runs under this key (e.g. a Slack thread the bot has answered in). */
  hasConversation(key: string): boolean;
}

/** Platform messages and deliveries: src/core/MessageLinks.ts. */
export interface MessageLinksApi {
  /** Remembers which platform message shows a decision's answer (e.g. Slack channel:ts), persisted. */
  attachMessage(decisionId: string, platform: Platform, messageRef: string): void;
  /** The decision whose answer a platform message shows (for reactions on it), or null. */
  findDecisionByMessage(platform: Platform, messageRef: string): string | null;
  /**
   * Claims a delivery for answering exactly once: returns false if any of `keys` (event id, channel+ts)
   * was claimed before, even before a restart; otherwise records them all and returns true.
   */
  claimDelivery(platform: Platform, keys: string[]): boolean;
}

/** Admin commands: the decision log in numbers (src/core/routerStats.ts) and retraining (src/learning/Retrainer.ts). */
export interface OperationsApi {
  stats(): RouterStats;
  retrain(options?: { requestedBy?: string }): Promise<RetrainReport>;
}

/** Everything a chat adapter may call, as one object. */
export interface CoreApi extends RouterApi, MessageLinksApi, OperationsApi {}
