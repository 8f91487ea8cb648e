/**
 * The gate that routes now, in one place: the in-process holder the router reads, where it comes from at start
 * (the version active in the database, else GATE_PATH), how it is recorded as a version, and how a process follows
 * a version made active elsewhere (`moe retrain`, `moe gate rollback`, `moe train`).
 */
import fs from 'node:fs';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { Gate } from '../gate/Gate.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { trainGate } from '../gate/trainGate.js';
import type { GateModel } from '../gate/types.js';
import { GateVersions } from '../store/GateVersions.js';
import { Store } from '../store/Store.js';
import { gateFile } from './GateFiles.js';

/**
 * Holds the gate that routes now. The router calls `current()` once per question, so `swap()` (after retraining
 * or a rollback) takes effect for the next question while answers in flight keep the decision they already made.
 */
export class ActiveGate {
  private gate: GateModel;

  constructor(initial: GateModel) {
    this.gate = initial;
  }

  current(): GateModel {
    return this.gate;
  }

  /** Replaces the gate; returns the previous one. */
  swap(gate: GateModel): GateModel {
    const previous = this.gate;
    this.gate = gate;
    return previous;
  }
}

/**
 * The gate the bot routes with: the version marked active in the database (after a retrain, rollback or `moe train`),
 * else the file at GATE_PATH, trained from DATASET_PATH on first use.
 */
export async function loadActiveGate(config: Pick<Config, 'gatePath' | 'datasetPath'> & Partial<Pick<Config, 'dbPath'>>): Promise<Gate> {
  const fromDatabase = config.dbPath ? activeGateInDatabase(config.dbPath) : null;
  if (fromDatabase) return fromDatabase;
  if (fs.existsSync(config.gatePath)) return Gate.load(config.gatePath);
  // Fresh clone: no gate yet, so train one from the shipped dataset and keep it for next time.
  const { gate } = trainGate(readLabelledCsv(config.datasetPath));
  gate.save(config.gatePath);
  return gate;
}

/** The active gate version recorded in an existing database, or null (no database yet, or nothing recorded). */
function activeGateInDatabase(dbPath: string): Gate | null {
  if (dbPath !== ':memory:' && !fs.existsSync(dbPath)) return null;
  const store = Store.open(dbPath, { keepText: true });
  try {
    const row = new GateVersions(store).active();
    return row ? Gate.load(row.path) : null;
  } finally {
    void store.close();
  }
}

/**
 * Records the gate routing now (e.g. models/gate.json) as the active version, so it can be listed and rolled back
 * to; does nothing once some version is active. Call it holding the retrain lock.
 */
export function recordInitialGate(versions: GateVersions, config: Pick<Config, 'gatePath'>, gate: GateModel): void {
  if (versions.active() || !(gate instanceof Gate)) return;
  if (versions.get(gate.version)) {
    versions.activate(gate.version);
    return;
  }
  const file = gateFile(config, gate.version);
  gate.save(file);
  versions.insert({
    version: gate.version, createdAt: Date.parse(gate.createdAt) || Date.now(), path: file,
    metrics: { holdoutKey: null }, examples: gate.metrics?.trainRows ?? 0, feedbackExamples: 0, promoted: true,
    reason: `initial gate (${config.gatePath})`,
  }, { activate: true });
}

/**
 * Polls the database every `intervalMs` and swaps in the active version when another process changed it.
 * Returns a function that stops polling.
 */
export function watchActiveGate(store: Store, activeGate: ActiveGate, intervalMs: number, logger?: Logger): () => void {
  const versions = new GateVersions(store);
  let lastError = '';
  const check = (): void => {
    try {
      const row = versions.active();
      if (!row || row.version === activeGate.current().version) return;
      const gate = Gate.load(row.path);
      const previous = activeGate.swap(gate);
      lastError = '';
      logger?.info({ from: previous.version, to: gate.version }, 'gate: switched to the version made active in the database');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError) logger?.error({ err: message }, 'gate: could not load the active version; still routing with the current gate');
      lastError = message;
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
