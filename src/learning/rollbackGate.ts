import { RouterError } from '../core/errors.js';
import { Gate } from '../gate/Gate.js';
import { GateVersions, type GateVersionRow } from '../store/GateVersions.js';
import type { Store } from '../store/Store.js';

/** Where `moe gate rollback` without a version goes: the newest promoted version older than the active one. */
export function rollbackTarget(rows: readonly GateVersionRow[]): GateVersionRow | null {
  const active = rows.find((g) => g.active);
  if (!active) return null;
  return rows.find((g) => g.promoted && !g.active && g.createdAt <= active.createdAt) ?? null;
}

/**
 * Makes `version` (default: the promoted version before the active one) active again; returns both versions. A process
 * routing on the same database (the bot) follows within GATE_RELOAD_INTERVAL (watchActiveGate).
 */
export function rollbackGate(store: Store, version?: string): { from: string | null; to: string } {
  const versions = new GateVersions(store);
  const active = versions.active();
  let target = version ? versions.get(version) : null;
  if (version && !target) throw new RouterError('not_found', `There is no gate version "${version}" (see \`moe gate list\`).`);
  if (!target) {
    if (!active) throw new RouterError('not_found', 'No gate is recorded as active yet, so there is nothing to roll back from.');
    target = rollbackTarget(versions.list());
    if (!target) throw new RouterError('not_found', `No earlier promoted gate than ${active.version} to roll back to.`);
  }
  Gate.load(target.path); // fails with a clear GateFileError before anything changes when the file is missing or damaged
  // False only when a prune in another process removed it meanwhile.
  if (!versions.activate(target.version)) throw new RouterError('not_found', `There is no gate version "${target.version}" (see \`moe gate list\`).`);
  return { from: active?.version ?? null, to: target.version };
}
