/** The gate the bot routes with: today the file at GATE_PATH, trained from DATASET_PATH on first use. */
import fs from 'node:fs';
import type { Config } from '../config.js';
import { Gate } from './Gate.js';
import { readLabelledCsv } from './readLabelledCsv.js';
import { trainGate } from './trainGate.js';

export async function loadActiveGate(config: Pick<Config, 'gatePath' | 'datasetPath'>): Promise<Gate> {
  if (fs.existsSync(config.gatePath)) return Gate.load(config.gatePath);
  // Fresh clone: no gate yet, so train one from the shipped dataset and keep it for next time.
  const { gate } = trainGate(readLabelledCsv(config.datasetPath));
  gate.save(config.gatePath);
  return gate;
}
