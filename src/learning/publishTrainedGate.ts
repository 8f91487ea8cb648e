/**
 * `moe train` and the database: once a database has an active gate version, the bot, `moe route` and `moe eval` route
 * with that version, not with GATE_PATH. So a gate trained by `moe train` is recorded as a new version and made active
 * (the bot follows within GATE_RELOAD_INTERVAL; `moe gate rollback` undoes it), unless the caller says not to.
 */
import fs from 'node:fs';
import type { Config } from '../config.js';
import { RouterError } from '../core/errors.js';
import { Gate } from '../gate/Gate.js';
import { GateVersions } from '../store/GateVersions.js';
import { acquireRetrainLock, releaseRetrainLock } from '../store/RetrainLock.js';
import { Store } from '../store/Store.js';
import { recordInitialGate } from './ActiveGate.js';
import { gateFile, withUniqueVersion } from './GateFiles.js';
import { pruneGateVersions } from './pruneGateVersions.js';

export interface PublishOptions {
  /** Record and activate (default); false only explains which gate keeps routing. */
  promote: boolean;
  /** The CSV it was trained on, for the version's reason. */
  dataPath: string;
}

export interface PublishResult {
  /** The version recorded and made active, or null when nothing was recorded. */
  version: string | null;
  /** What happened and how to switch, for the operator. */
  message: string;
}

/**
 * Call before `gate` overwrites GATE_PATH: a database that has recorded nothing yet first records the gate there (so
 * `moe gate rollback` can go back to it). Without a database nothing is recorded: the bot starts from GATE_PATH.
 */
export function publishTrainedGate(config: Config, gate: Gate, options: PublishOptions): PublishResult {
  const reload = `A running bot on ${config.dbPath} switches to it within ${Math.ceil(config.gateReloadIntervalMs / 1000)} s`;
  if (!fs.existsSync(config.dbPath)) {
    return { version: null, message: `No database at ${config.dbPath} (DB_PATH) yet: the bot routes with ${config.gatePath} (GATE_PATH) when it starts.` };
  }
  const store = Store.open(config.dbPath, { keepText: config.logQueryText });
  try {
    const versions = new GateVersions(store);
    const active = versions.active();
    if (!options.promote) {
      const routing = active ? `gate ${active.version}, the version active in ${config.dbPath}` : config.gatePath;
      return { version: null, message: `Not recorded (--no-promote): the bot, \`moe route\` and \`moe eval\` keep routing with ${routing}. Run \`moe train\` without --no-promote to record and switch to a trained gate.` };
    }
    const lock = acquireRetrainLock(store, 'moe train');
    if (!lock.ok) throw new RouterError('retrain_unavailable', { detail: `a retraining is running (asked by ${lock.holder.owner}); the gate was not recorded. Run \`moe train\` again in a minute` });
    try {
      if (!active && fs.existsSync(config.gatePath)) recordInitialGate(versions, config, Gate.load(config.gatePath));
      const previous = versions.active();
      const recorded = withUniqueVersion(versions, gate);
      const file = gateFile(config, recorded.version);
      recorded.save(file);
      versions.insert({
        version: recorded.version, createdAt: Date.now(), path: file,
        // No holdout key: `moe train` fits on every row, so the next retraining compares with its own recipe.
        metrics: { holdoutKey: null, heldOutAccuracy: gate.metrics?.heldOut?.accuracy ?? null, requestedBy: 'moe train', training: gate.metrics },
        examples: gate.metrics?.trainRows ?? 0, feedbackExamples: 0, promoted: true, reason: `trained by \`moe train\` from ${options.dataPath}`,
      }, { activate: true });
      pruneGateVersions(versions, config);
      const was = previous ? ` (was ${previous.version})` : '';
      return { version: recorded.version, message: `Recorded as gate version ${recorded.version} and made it active in ${config.dbPath}${was}. ${reload}; \`moe gate rollback\` undoes it.` };
    } finally {
      releaseRetrainLock(store);
    }
  } finally {
    void store.close();
  }
}
