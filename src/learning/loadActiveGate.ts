/**
 * The gate the bot routes with: the version marked active in the database (after a retrain or rollback), else the
 * file at GATE_PATH, trained from DATASET_PATH on first use.
 */
import fs from 'node:fs';
import type { Config } from '../config.js';
import { Store } from '../store/Store.js';
import { Gate } from '../gate/Gate.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { trainGate } from '../gate/trainGate.js';

export async function loadActiveGate(config: Pick<Config, 'gatePath' | 'datasetPath'> & Partial<Pick<Config, 'dbPath'>>): Promise<Gate> {
  const fromDatabase = config.dbPath ? activeGateInDatabase(config.dbPath) : null;
  if (fromDatabase) return fromDatabase;
  if (fs.existsSync(config.gatePath)) return Gate.load(config.gatePath);
  // Fresh clone: no gate yet, so train one from the shipped dataset and keep it for next time.
  const { gate } = trainGate(readLabelledCsv(config.datasetPath));
  gate.save(config.gatePath);
  return gate;
}

/** The active gate version recorded in an existing database, or null (no database yet, or nothing retrained). */
function activeGateInDatabase(dbPath: string): Gate | null {
  if (dbPath !== ':memory:' && !fs.existsSync(dbPath)) return null;
  const store = Store.open(dbPath, { keepText: true });
  try {
    const row = store.activeGateVersion();
    return row ? Gate.load(row.path) : null;
  } finally {
    store.close();
  }
}
