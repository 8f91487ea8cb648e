import { setMaxListeners } from 'node:events';
import { RouterError } from './errors.js';

interface Job {
  abort: AbortController | null;
  done: Promise<unknown>;
}

/** The answers being generated now, and the shutdown that lets them finish or aborts them. */
export class InFlight {
  private readonly jobs = new Set<Job>();
  /**
   * Aborts every answer still running at shutdown. One for all questions without a caller's signal: a controller per
   * question cost ~3% of the router's time, and its signal lived long enough to reach the old generation.
   */
  private readonly shutdown = new AbortController();
  closing = false;

  constructor() {
    setMaxListeners(0, this.shutdown.signal); // every answer in flight listens to it (and removes its listener after)
  }

  get size(): number {
    return this.jobs.size;
  }

  /**
   * Runs one answer, tracked until it settles. Its signal aborts on shutdown or on the caller's abort. A caller's
   * controller is used as is; a caller's signal gets a controller of this answer's own, which the caller's abort is
   * forwarded to (AbortSignal.any() on the long-lived shutdown signal would leak, and on Node 20 cost ~5 µs more per
   * answer than a listener).
   */
  run<T>(caller: AbortSignal | AbortController | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (!caller) return this.track({ abort: null, done: work(this.shutdown.signal) });
    // The caller's own controller: aborted by the caller or at shutdown, with no second signal (each AbortSignal puts
    // ~0.7 KB of hidden classes in V8's old space on Node 20, and a forwarding listener more).
    if (caller instanceof AbortController) return this.track({ abort: caller, done: work(caller.signal) });
    const callerSignal = caller;
    const abort = new AbortController();
    const forward = (): void => abort.abort(callerSignal.reason);
    if (callerSignal.aborted) forward();
    else callerSignal.addEventListener('abort', forward, { once: true });
    return this.track({ abort, done: work(abort.signal) }, () => callerSignal.removeEventListener('abort', forward));
  }

  private track<T>(job: Job, cleanup?: () => void): Promise<T> {
    this.jobs.add(job);
    return (job.done as Promise<T>).finally(() => {
      this.jobs.delete(job);
      cleanup?.();
    });
  }

  /** Stops taking questions, waits up to `graceMs` for answers in flight, then aborts the rest and waits for them. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const settled = (): Promise<unknown> => Promise.allSettled([...this.jobs].map((j) => j.done));
    await Promise.race([settled(), sleep(graceMs)]);
    const reason = new RouterError('shutting_down');
    this.shutdown.abort(reason);
    for (const job of this.jobs) job.abort?.abort(reason);
    await Promise.race([settled(), sleep(2_000)]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
