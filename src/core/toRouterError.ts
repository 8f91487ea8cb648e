import { ExpertError } from '../experts/types.js';
import { RouterError } from './errors.js';

/** Expert failures become short user-facing RouterErrors; anything else is a bug and stays as it is. */
/** `nameOf` names the expert in a prompt_too_long message. */
export function toRouterError(err: unknown, signal: AbortSignal, closing: boolean, nameOf: (expertId: string) => string): RouterError | Error {
  if (err instanceof RouterError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof RouterError) return reason;
    return new RouterError('cancelled');
  }
  if (err instanceof ExpertError) {
    // An expert's code is a code of the table: only a cancellation while closing, and the message's params, differ.
    if (err.code === 'cancelled' && closing) return new RouterError('shutting_down');
    if (err.code === 'expert_busy') return new RouterError(err.code, { retryAfterSec: 5 });
    if (err.code === 'prompt_too_long') return new RouterError(err.code, { expert: nameOf(err.expertId) });
    return new RouterError(err.code, err.code === 'invalid_expert' ? { expert: err.expertId } : {});
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Busy, unavailable, or a remote engine that stopped mid-answer: the fallback expert may answer instead. */
export function canFallBack(err: unknown): err is ExpertError {
  return err instanceof ExpertError && err.engineFailed;
}
