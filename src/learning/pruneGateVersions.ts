/**
 * Keeps the gates folder from growing with every retraining: the active version, its rollback target, the newest
 * GATE_KEEP_VERSIONS other promoted versions and the newest few candidates stay; the rest go, row and file together.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { GateVersions } from '../store/GateVersions.js';
import { gatesDir } from './GateFiles.js';
import { rollbackTarget } from './rollbackGate.js';

/** Candidates (never promoted) kept for inspection with `moe gate list`. */
export const KEEP_CANDIDATES = 3;

export interface PruneResult {
  /** Versions whose rows and files were deleted (including any an interrupted run had left). */
  removed: string[];
}

/**
 * Call it holding the retrain lock. Crash-safe: rows are first marked pruned (hidden from listing and rollback, in one
 * transaction that skips the active version), then each file is deleted before its row, so a crash leaves no listed
 * version without its file, and the next run finishes what was marked.
 */
export function pruneGateVersions(versions: GateVersions, config: Pick<Config, 'gatePath' | 'gateKeepVersions'>, keepCandidates = KEEP_CANDIDATES): PruneResult {
  const rows = versions.list();
  const keep = new Set<string>();
  for (const r of rows) if (r.active) keep.add(r.version);
  const target = rollbackTarget(rows);
  if (target) keep.add(target.version);
  for (const r of rows.filter((g) => g.promoted && !g.active).slice(0, config.gateKeepVersions)) keep.add(r.version);
  for (const r of rows.filter((g) => !g.promoted).slice(0, keepCandidates)) keep.add(r.version);
  versions.markPruned(rows.filter((r) => !keep.has(r.version)).map((r) => r.version));

  const dir = gatesDir(config);
  const removed: string[] = [];
  for (const row of versions.pruned()) {
    // Only files we wrote; a row pointing elsewhere (e.g. GATE_PATH itself) loses its row, not the file.
    if (path.dirname(path.resolve(row.path)) === dir) fs.rmSync(row.path, { force: true });
    versions.remove(row.version);
    removed.push(row.version);
  }
  return { removed };
}
