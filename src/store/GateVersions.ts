/**
 * The gate_versions table: every trained gate, its metrics, and which one routes now (at most one row is active).
 * Reads and writes commit the store's queued writes first (Store.db does), so they never miss one.
 */
import type { Statement } from 'better-sqlite3';
import type { Store } from './Store.js';
import type { GateVersionRow } from './types.js';

export type { GateVersionRow };

export type NewGateVersion = Omit<GateVersionRow, 'active'>;

interface RawGateVersion {
  version: string;
  created_at: number;
  path: string;
  metrics_json: string;
  examples: number;
  feedback_examples: number;
  promoted: number;
  active: number;
  reason: string | null;
}

function toRow(r: RawGateVersion): GateVersionRow {
  return {
    version: r.version,
    createdAt: r.created_at,
    path: r.path,
    metrics: JSON.parse(r.metrics_json) as Record<string, unknown>,
    examples: r.examples,
    feedbackExamples: r.feedback_examples,
    promoted: r.promoted === 1,
    active: r.active === 1,
    reason: r.reason,
  };
}

export class GateVersions {
  private readonly s: Record<'insert' | 'list' | 'get' | 'getAny' | 'active' | 'clearActive' | 'setActive' | 'markPruned' | 'pruned' | 'remove', Statement>;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.s = {
      insert: db.prepare(`INSERT INTO gate_versions (version, created_at, path, metrics_json, examples, feedback_examples, promoted, active, reason)
        VALUES (@version, @createdAt, @path, @metrics, @examples, @feedbackExamples, @promoted, 0, @reason)`),
      list: db.prepare('SELECT * FROM gate_versions WHERE pruned_at IS NULL ORDER BY created_at DESC, rowid DESC'),
      get: db.prepare('SELECT * FROM gate_versions WHERE version = ? AND pruned_at IS NULL'),
      getAny: db.prepare('SELECT * FROM gate_versions WHERE version = ?'),
      active: db.prepare('SELECT * FROM gate_versions WHERE active = 1'),
      clearActive: db.prepare('UPDATE gate_versions SET active = 0 WHERE active = 1'),
      setActive: db.prepare('UPDATE gate_versions SET active = 1, promoted = 1 WHERE version = ? AND pruned_at IS NULL'),
      markPruned: db.prepare('UPDATE gate_versions SET pruned_at = ? WHERE version = ? AND active = 0 AND pruned_at IS NULL'),
      pruned: db.prepare('SELECT * FROM gate_versions WHERE pruned_at IS NOT NULL ORDER BY created_at'),
      remove: db.prepare('DELETE FROM gate_versions WHERE version = ? AND pruned_at IS NOT NULL'),
    };
  }

  /** Newest first. */
  list(): GateVersionRow[] {
    this.store.flush();
    return (this.s.list.all() as RawGateVersion[]).map(toRow);
  }

  /** A listed version; `includePruned` also finds one being pruned (its name is still taken). */
  get(version: string, options: { includePruned?: boolean } = {}): GateVersionRow | null {
    this.store.flush();
    const row = (options.includePruned ? this.s.getAny : this.s.get).get(version) as RawGateVersion | undefined;
    return row ? toRow(row) : null;
  }

  active(): GateVersionRow | null {
    this.store.flush();
    const row = this.s.active.get() as RawGateVersion | undefined;
    return row ? toRow(row) : null;
  }

  /** Records a version and, when `activate`, makes it the only active one, in one transaction. */
  insert(g: NewGateVersion, options: { activate?: boolean } = {}): void {
    this.store.flush();
    this.store.db.transaction(() => {
      this.s.insert.run({ ...g, metrics: JSON.stringify(g.metrics), promoted: g.promoted ? 1 : 0 });
      if (options.activate) this.activateIn(g.version);
    }).immediate();
  }

  /** Makes `version` the only active gate (and marks it promoted); false when no such version is recorded. */
  activate(version: string): boolean {
    this.store.flush();
    return this.store.db.transaction(() => this.activateIn(version)).immediate();
  }

  /** Pruning, step 1: hides `versions` from listing and rollback (never the active one); returns those marked. */
  markPruned(versions: readonly string[], now = Date.now()): string[] {
    this.store.flush();
    return this.store.db.transaction(() => versions.filter((v) => this.s.markPruned.run(now, v).changes === 1)).immediate();
  }

  /** Rows marked pruned whose deletion has not finished (their files may still exist). */
  pruned(): GateVersionRow[] {
    this.store.flush();
    return (this.s.pruned.all() as RawGateVersion[]).map(toRow);
  }

  /** Pruning, last step: deletes a marked row once its file is gone. */
  remove(version: string): void {
    this.store.flush();
    this.s.remove.run(version);
  }

  private activateIn(version: string): boolean {
    if (!this.s.get.get(version)) return false;
    this.s.clearActive.run();
    this.s.setActive.run(version);
    return true;
  }
}
