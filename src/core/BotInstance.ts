import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/Store.js';
import type { InstanceRow } from '../store/types.js';

/** Another bot process runs on the same database: this one refuses to start, before touching anything. */
export class InstanceRunningError extends Error {
  constructor(readonly holder: InstanceRow, dbPath: string) {
    super(`another moe-router (pid ${holder.pid} on ${holder.host}, started ${new Date(holder.startedAt).toISOString()}) is using ${dbPath};`
      + ' stop it first, or set DB_PATH to another database');
    this.name = 'InstanceRunningError';
  }
}

export interface BotInstanceOptions {
  /** How often the claim is refreshed (default 10 s). */
  heartbeatMs?: number;
  /** A holder whose heartbeat is older than this is gone (hung, or its pid reused), even if its pid exists (default 60 s). */
  staleMs?: number;
  /** The heartbeat could not be written, or another process took the database over. */
  onProblem?: (message: string) => void;
}

/**
 * Claims the database for this bot process, or throws InstanceRunningError when a running one holds it. Only after the
 * claim may start-up touch the log (e.g. fail the pending rows of the process that died). Call release() at shutdown.
 */
export function claimBotInstance(store: Store, dbPath: string, options: BotInstanceOptions = {}): { release(): void } {
  const staleMs = options.staleMs ?? 60_000;
  const startedAt = Date.now();
  const me: InstanceRow = { instanceId: randomUUID(), pid: process.pid, host: os.hostname(), startedAt, heartbeatAt: startedAt };
  const holder = store.claimInstance(me, (h) => isRunning(h, staleMs));
  if (holder) throw new InstanceRunningError(holder, dbPath);
  const timer = setInterval(() => {
    try {
      if (!store.beatInstance(me.instanceId, Date.now())) options.onProblem?.('another process took over this database');
    } catch (err) {
      options.onProblem?.(`heartbeat not written: ${(err as Error).message}`);
    }
  }, options.heartbeatMs ?? 10_000);
  timer.unref();
  return {
    release() {
      clearInterval(timer);
      store.releaseInstance(me.instanceId);
    },
  };
}

function isRunning(holder: InstanceRow, staleMs: number): boolean {
  const fresh = Date.now() - holder.heartbeatAt < staleMs;
  return holder.host === os.hostname() ? fresh && processAlive(holder.pid) : fresh;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
