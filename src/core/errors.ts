/**
 * Every error code a user can see, once: its HTTP status, the emoji chat adapters put in front, and its message.
 * HTTP (adapters/http/errors.ts), Discord and Slack (adapters/shared/format.ts) all read this table.
 */

/** What a message may mention; each code's message uses the parts it needs. */
export interface ErrorParams {
  /** Seconds until trying again makes sense (rate limit, busy experts). */
  retryAfterSec?: number | null;
  /** MAX_QUERY_CHARS. */
  maxQueryChars?: number;
  /** Length of the refused question, in characters. */
  length?: number;
  /** The limit that was hit, in words, e.g. "5 questions per minute". */
  limit?: string;
  /** The expert name the caller gave. */
  expert?: string;
  /** A specific reason from the thrower (e.g. which retraining is running). */
  detail?: string;
}

interface ErrorSpec {
  status: number;
  emoji: '⚠️' | '⏳';
  message: string | ((p: ErrorParams) => string);
}

const retryIn = (p: ErrorParams): string => (p.retryAfterSec ? `in ${Math.ceil(p.retryAfterSec)} s` : 'in a minute');

export const ERRORS = {
  empty_query: { status: 400, emoji: '⚠️', message: 'Please type a question; this one is empty.' },
  query_too_long: {
    status: 400,
    emoji: '⚠️',
    message: (p) => `That question is too long${p.maxQueryChars ? ` (at most ${p.maxQueryChars} characters)` : ''}${p.length ? `; this one has ${p.length}` : ''}. Please shorten it.`,
  },
  prompt_too_long: {
    status: 400,
    emoji: '⚠️',
    message: (p) => `That question is too long for ${p.expert ?? 'this expert'} to read. Please shorten it.`,
  },
  rate_limited: {
    status: 429,
    emoji: '⏳',
    message: (p) => `Slow down, you are asking too fast. Try again ${retryIn(p)}${p.limit ? ` (at most ${p.limit})` : ''}.`,
  },
  invalid_vote: { status: 400, emoji: '⚠️', message: (p) => p.detail ?? 'vote must be up/down or +1/-1' },
  invalid_expert: {
    status: 400,
    emoji: '⚠️',
    message: (p) => (p.expert === undefined ? 'That choice is not valid.' : `There is no expert called "${p.expert}"; use healthcare, finance, cybersecurity or general.`),
  },
  not_found: { status: 404, emoji: '⚠️', message: 'I no longer know that answer (it may have been deleted); please ask again.' },
  expert_busy: { status: 503, emoji: '⏳', message: (p) => `The experts are busy right now. Please try again ${p.retryAfterSec ? retryIn(p) : 'in a few seconds'}.` },
  expert_unavailable: { status: 503, emoji: '⚠️', message: 'That expert is unavailable right now. Please try again later.' },
  expert_timeout: { status: 504, emoji: '⏳', message: 'The expert took too long to answer. Please try again.' },
  cancelled: { status: 499, emoji: '⚠️', message: 'The answer was cancelled before it was done. Please ask again.' },
  shutting_down: { status: 503, emoji: '⏳', message: 'The bot is shutting down or restarting. Please ask again in a minute.' },
  retrain_unavailable: { status: 409, emoji: '⚠️', message: (p) => `Retraining is not possible right now${p.detail ? `: ${p.detail}` : '.'}` },
  // Request-level errors of the HTTP API (the router never throws these).
  bad_request: { status: 400, emoji: '⚠️', message: (p) => (p.detail ? `Invalid request: ${p.detail}` : 'Invalid request.') },
  method_not_allowed: { status: 405, emoji: '⚠️', message: (p) => `${p.detail ?? 'That method'} is not allowed here; see /docs.` },
  payload_too_large: { status: 413, emoji: '⚠️', message: 'Request body is too large.' },
  unsupported_media_type: { status: 415, emoji: '⚠️', message: (p) => p.detail ?? 'Unsupported Media Type: send application/json.' },
  unauthorized: { status: 401, emoji: '⚠️', message: 'Sign in first.' },
  forbidden: { status: 403, emoji: '⚠️', message: 'That is not allowed.' },
  csrf: { status: 403, emoji: '⚠️', message: 'Actions need a dashboard session and its CSRF token (X-CSRF-Token header).' },
  gate_file: { status: 409, emoji: '⚠️', message: (p) => p.detail ?? 'That gate file cannot be used.' },
  request_timeout: { status: 408, emoji: '⏳', message: 'The request took too long to arrive.' },
  headers_too_large: { status: 431, emoji: '⚠️', message: 'Request headers are too large.' },
  internal: { status: 500, emoji: '⚠️', message: 'Something went wrong on our side. It has been logged; please try again.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** The user message for `code` with `params`, from the table. */
export function errorMessage(code: ErrorCode, params: ErrorParams = {}): string {
  const spec: ErrorSpec = ERRORS[code];
  return typeof spec.message === 'function' ? spec.message(params) : spec.message;
}

export function errorStatus(code: ErrorCode): number {
  return ERRORS[code].status;
}

/** The message as chat shows it: the table's emoji, then the message. */
export function chatErrorMessage(code: ErrorCode, params: ErrorParams = {}): string {
  return `${ERRORS[code].emoji} ${errorMessage(code, params)}`;
}

export class RouterError extends Error {
  readonly retryAfterSec: number | null;
  /** What the message was built from; a literal message is kept as `detail`. */
  readonly params: ErrorParams;

  /**
   * @param message omitted: the table's message; params: the table's message with them; a string: that text
   *   (kept as `detail` for codes whose message names a specific reason).
   */
  constructor(readonly code: ErrorCode, message?: string | ErrorParams, retryAfterSec: number | null = null) {
    const params: ErrorParams = typeof message === 'string' ? { detail: message } : { ...message };
    const retry = retryAfterSec ?? params.retryAfterSec ?? null;
    super(typeof message === 'string' ? message : errorMessage(code, { ...params, retryAfterSec: retry }));
    this.name = 'RouterError';
    this.params = params;
    this.retryAfterSec = retry;
  }
}
