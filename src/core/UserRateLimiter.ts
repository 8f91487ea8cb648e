import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RouterError } from './errors.js';

/** At most `count` questions per user in each window of `windowMs` (rate-limiter-flexible's fixed window). */
export class UserRateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(private readonly limit: { count: number; windowMs: number }) {
    this.limiter = new RateLimiterMemory({ points: limit.count, duration: limit.windowMs / 1000 });
  }

  /** Takes one question from `key`'s budget; rejects with RouterError rate_limited (and the seconds to wait) when spent. */
  async take(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const retryAfterSec = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new RouterError('rate_limited', { retryAfterSec, limit: `${this.limit.count} questions per ${describeWindow(this.limit.windowMs)}` });
    }
  }
}

function describeWindow(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${Math.round(ms / 1000)} s`;
}
