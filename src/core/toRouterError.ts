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
    switch (err.code) {
      case 'expert_busy':
        return new RouterError('expert_busy', { retryAfterSec: 5 });
      case 'expert_unavailable':
        return new RouterError('expert_unavailable');
      case 'expert_timeout':
        return new RouterError('expert_timeout');
      case 'aborted':
        return new RouterError(closing ? 'shutting_down' : 'cancelled');
      case 'prompt_too_long':
        return new RouterError('prompt_too_long', { expert: nameOf(err.expertId) });
      case 'unknown_expert':
        return new RouterError('invalid_expert', { expert: err.expertId });
    }
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Busy or unavailable: the fallback expert may answer instead. */
export function canFallBack(err: unknown): err is ExpertError & { code: 'expert_busy' | 'expert_unavailable' } {
  return err instanceof ExpertError && (err.code === 'expert_busy' || err.code === 'expert_unavailable');
}
