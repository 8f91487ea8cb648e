/**
 * Lets interaction deferrals go out before answer work starts. Generation does synchronous work on the event
 * loop (prompt templating, tokenizing), so a burst of questions could otherwise hold later deferrals past
 * Discord's 3-second window. Answer work waits (briefly, capped) until no deferral is in flight.
 */
export class DeferralQueue {
  private pending = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly maxWaitMs = 2_000) {}

  /** Runs a deferral, counting it as in flight until it settles. */
  async defer<T>(send: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await send();
    } finally {
      this.pending--;
      if (this.pending === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Resolves when no deferral is in flight, or after maxWaitMs. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, this.maxWaitMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(wake);
    });
  }
}
