/** Errors a user can cause or see; `code` lets adapters and HTTP pick the message and status. */
export type RouterErrorCode =
  | 'empty_query'
  | 'query_too_long'
  | 'rate_limited'
  | 'expert_busy'
  | 'expert_unavailable'
  | 'not_found'
  | 'invalid_vote'
  | 'invalid_expert'
  | 'shutting_down'
  /** The expert did not finish within EXPERT_TIMEOUT. */
  | 'expert_timeout'
  /** The caller went away (or aborted) before the answer was done. */
  | 'cancelled'
  /** Retraining is not possible right now (not set up, already running, too little data). */
  | 'retrain_unavailable';

export class RouterError extends Error {
  constructor(
    readonly code: RouterErrorCode,
    message: string,
    readonly retryAfterSec: number | null = null,
  ) {
    super(message);
    this.name = 'RouterError';
  }
}
