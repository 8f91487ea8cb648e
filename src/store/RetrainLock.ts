/** At most one retraining at a time across processes (bot and CLI on one database): a lock row with its holder's pid. */
import os from 'node:os';
import type { Store } from './Store.js';

const LOCK_NAME = 'retrain';

export interface RetrainLockHolder {
  owner: string;
  pid: number;
  host: string;
  started_at: number;
}

/** True when a process with this pid runs on this host (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock row, or returns who holds it. A holder whose process is gone (crashed) is replaced. */
export function acquireRetrainLock(store: Store, owner: string, staleMs = 3_600_000): { ok: true } | { ok: false; holder: RetrainLockHolder } {
  const host = os.hostname();
  const db = store.db;
  return db.transaction((): { ok: true } | { ok: false; holder: RetrainLockHolder } => {
    const holder = db.prepare('SELECT owner, pid, host, started_at FROM retrain_lock WHERE name = ?').get(LOCK_NAME) as RetrainLockHolder | undefined;
    if (holder) {
      const dead = holder.host === host && !isProcessAlive(holder.pid);
      if (!dead && Date.now() - holder.started_at < staleMs) return { ok: false, holder };
    }
    db.prepare('INSERT OR REPLACE INTO retrain_lock (name, owner, pid, host, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(LOCK_NAME, owner, process.pid, host, Date.now());
    return { ok: true };
  }).immediate();
}

/** Releases the lock if this process holds it. */
export function releaseRetrainLock(store: Store): void {
  store.db.prepare('DELETE FROM retrain_lock WHERE name = ? AND pid = ? AND host = ?').run(LOCK_NAME, process.pid, os.hostname());
}
