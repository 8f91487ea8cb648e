/**
 * Builds a real moe-router app for tests: a temp SQLite file, the real gate trained on our dataset (once per process),
 * and the real node-llama-cpp demo experts. Adapter tests use this to drive the real Router.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp, type App, type CreateAppOptions } from '../../src/app.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { trainGate } from '../../src/gate/trainGate.js';
import type { GateModel, TrainingExample } from '../../src/gate/types.js';
import { silentLogger } from '../../src/logger.js';
import { makeTempDir } from './tempDir.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Config for tests: every file under `dir` (DB, gate) except the demo models, which are shared in models/demo
 * (generated once, like `npm start` does). `env` overrides settings by their environment names, e.g. { RATE_LIMIT_PER_USER: 'off' }.
 */
export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DB_PATH: path.join(dir, 'moe.sqlite'),
    GATE_PATH: path.join(dir, 'gate.json'),
    DATASET_PATH: path.join(REPO_ROOT, 'data/dataset.csv'),
    EXPERTS_PATH: path.join(REPO_ROOT, 'models/experts.json'),
    DEMO_MODELS_DIR: path.join(REPO_ROOT, 'models/demo'),
    LOG_LEVEL: 'silent',
    LLAMA_GPU: 'cpu',
    RATE_LIMIT_PER_USER: 'off',
    ...env,
  });
}

/** Our own training data (data/dataset.csv; while it is being assembled, its parts in data/parts). */
export function datasetExamples(): TrainingExample[] {
  const file = path.join(REPO_ROOT, 'data/dataset.csv');
  if (fs.existsSync(file)) return readLabelledCsv(file);
  const partsDir = path.join(REPO_ROOT, 'data/parts');
  return fs.readdirSync(partsDir).filter((f) => f.includes('.csv')).flatMap((f) => readLabelledCsv(path.join(partsDir, f)));
}

let gate: GateModel | null = null;

/** The real gate trained on our dataset, trained once per test process. */
export function testGate(): GateModel {
  gate ??= trainGate(datasetExamples()).gate;
  return gate;
}

export interface TestApp extends App {
  dir: string;
  /** Closes the app and deletes its temp dir. */
  dispose(): Promise<void>;
}

/**
 * A real app in a fresh temp dir: real gate, real demo experts (node-llama-cpp), SQLite file in the dir.
 * `env` overrides settings (e.g. { LOG_QUERY_TEXT: 'false', RATE_LIMIT_PER_USER: '2/min' }); `options` go to createApp.
 */
export async function createTestApp(env: Record<string, string> = {}, options: CreateAppOptions = {}): Promise<TestApp> {
  const tmp = makeTempDir('moe-app-');
  const config = testConfig(tmp.dir, env);
  try {
    const app = await createApp(config, { gate: testGate(), logger: silentLogger(), ...options });
    return {
      ...app,
      dir: tmp.dir,
      dispose: async () => {
        await app.close();
        tmp.remove();
      },
    };
  } catch (err) {
    tmp.remove();
    throw err;
  }
}
