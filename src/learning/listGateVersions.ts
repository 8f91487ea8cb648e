import fs from 'node:fs';
import type { Config } from '../config.js';
import { Gate } from '../gate/Gate.js';
import { GateVersions, type GateVersionRow } from '../store/GateVersions.js';
import type { Store } from '../store/Store.js';

/**
 * Recorded gate versions, newest first. Before anything is recorded (a fresh database, or none yet) the bot routes
 * with the gate at GATE_PATH, so that one is listed as the active row, marked as not recorded yet.
 */
export function listGateVersions(store: Store | null, config: Pick<Config, 'gatePath'>): GateVersionRow[] {
  const rows = store ? new GateVersions(store).list() : [];
  if (rows.length > 0 || !fs.existsSync(config.gatePath)) return rows;
  const gate = Gate.load(config.gatePath);
  return [{
    version: gate.version,
    createdAt: Date.parse(gate.createdAt) || 0,
    path: config.gatePath,
    metrics: { heldOutAccuracy: gate.metrics?.heldOut?.accuracy ?? null, recorded: false },
    examples: gate.metrics?.trainRows ?? 0,
    feedbackExamples: 0,
    promoted: true,
    active: true,
    reason: `the shipped gate (${config.gatePath}), not recorded yet: the first retraining or \`moe train\` records it as a version`,
  }];
}
