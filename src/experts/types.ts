import type { ExpertId } from '../gate/types.js';

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
  maxTokens?: number;
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

export interface ExpertStatus extends ExpertInfo {
  state: 'unloaded' | 'loading' | 'loaded' | 'unavailable';
  unavailableReason: string | null;
  active: number;
  queued: number;
  /** Estimated RAM+VRAM while loaded (local experts), for the admin dashboard. */
  memoryBytes?: number;
}

export type ExpertErrorCode = 'expert_busy' | 'expert_unavailable' | 'expert_timeout' | 'aborted' | 'unknown_expert' | 'prompt_too_long';

export class ExpertError extends Error {
  constructor(readonly code: ExpertErrorCode, readonly expertId: string, message: string) {
    super(message);
    this.name = 'ExpertError';
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
