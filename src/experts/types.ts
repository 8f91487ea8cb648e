import type { ErrorCode } from '../core/errors.js';
import type { ExpertId } from '../gate/types.js';

/** Ends a history turn cut to fit the expert's history budget (local and endpoint experts alike). */
export const CUT_MARK = ' […]';

/** An earlier question and its answer in the same conversation. */
export interface ChatTurn {
  question: string;
  answer: string;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  /** Earlier turns of the conversation, newest first; the expert keeps as many as fit its history budget. */
  history?: readonly ChatTurn[];
  /** Called with each new piece of text, in order. */
  onTextChunk?: (text: string) => void;
  /** At most the expert's own generation.maxTokens. */
  maxTokens?: number;
  /** Clamped to 0..2; default the expert's generation.temperature. */
  temperature?: number;
  /** Clamped to (0, 1]; default the expert's generation.topP. */
  topP?: number;
  /** A caller's system text, appended to the expert's own system prompt (never replacing its disclaimers). */
  systemSuffix?: string;
}

export interface GenerateResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** Milliseconds from the call to the first text chunk (queue wait included). */
  timeToFirstTokenMs: number;
  totalMs: number;
  /** True when a generated demo model wrote this (adapters label it as demo output). */
  demo: boolean;
  /** `length` when the answer was cut at its token limit (the caller's or the expert's own), as OpenAI reports it. */
  finishReason: 'stop' | 'length';
}

export interface ExpertInfo {
  id: ExpertId;
  displayName: string;
  /** One-word name in the old service's style (`CybersecurityExpert`); the HTTP API returns it for parity. */
  legacyName: string;
  description: string;
  emoji: string;
  isFallback: boolean;
  demo: boolean;
}

/** A remote expert's serving engine (an OpenAI-compatible /v1), as health-checked by the expert. */
export interface EndpointStatus {
  baseUrl: string;
  model: string;
  /** `unknown` until the first request or probe; `down` after a failure, until a probe succeeds. */
  health: 'unknown' | 'up' | 'down';
  /** The last failure, e.g. "connection refused"; null when up. */
  lastError: string | null;
  /** Epoch ms of the last state change. */
  since: number;
  /** Epoch ms of the next background probe while down; null when up. */
  nextProbeAt: number | null;
  maxConcurrent: number;
}

export interface ExpertStatus extends ExpertInfo {
  state: 'unloaded' | 'loading' | 'loaded' | 'unavailable';
  unavailableReason: string | null;
  active: number;
  queued: number;
  /** Estimated RAM+VRAM while loaded (local experts), for the admin dashboard. */
  memoryBytes?: number;
  /** Set for an expert served by a remote engine (`endpoint` in models/experts.json); absent for a local model. */
  endpoint?: EndpointStatus;
}

/**
 * The codes of the one table (src/core/errors.ts) an expert fails with: `cancelled` (the caller's signal),
 * `invalid_expert` (no such expert), `prompt_too_long` (the question with the least history does not fit).
 */
export type ExpertErrorCode = Extract<ErrorCode, 'expert_busy' | 'expert_unavailable' | 'expert_timeout' | 'cancelled' | 'invalid_expert' | 'prompt_too_long'>;

export class ExpertError extends Error {
  /** The expert, not the question, failed: the fallback expert may answer if none of this text was shown (busy, unavailable, a remote engine's timeout). */
  readonly engineFailed: boolean;

  constructor(readonly code: ExpertErrorCode, readonly expertId: string, message: string, options: { engineFailed?: boolean } = {}) {
    super(message);
    this.name = 'ExpertError';
    this.engineFailed = options.engineFailed ?? (code === 'expert_busy' || code === 'expert_unavailable');
  }
}

/** What the router needs from the experts; ExpertPool implements it. */
export interface ExpertProvider {
  list(): ExpertInfo[];
  info(id: ExpertId): ExpertInfo;
  fallbackId(): ExpertId;
  status(): ExpertStatus[];
  /** Rejects with ExpertError (busy at once when the queue is full; unavailable; timeout; aborted). */
  generate(id: ExpertId, query: string, options?: GenerateOptions): Promise<GenerateResult>;
  dispose(): Promise<void>;
}
