/**
 * Builds a real moe-router app for tests: a temp SQLite file, the real gate trained on our dataset (once per process),
 * and the real node-llama-cpp demo experts. Adapter tests use this to drive the real Router.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp, type App, type CreateAppOptions } from '../../src/app.js';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import { EXPERT_IDS, type ExpertId } from '../../src/gate/types.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { trainGate } from '../../src/gate/trainGate.js';
import type { TrainingExample } from '../../src/gate/types.js';
import type { Gate } from '../../src/gate/Gate.js';
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

/** Our own training data, data/dataset.csv. */
export function datasetExamples(): TrainingExample[] {
  return readLabelledCsv(path.join(REPO_ROOT, 'data/dataset.csv'));
}

let gate: Gate | null = null;

/** The real gate trained on our dataset, trained once per test process. */
export function testGate(): Gate {
  gate ??= trainGate(datasetExamples()).gate;
  return gate;
}

/** Changes to one expert of models/experts.json for a test, e.g. { model: 'missing.gguf' } or { generation: { maxTokens: 4000 } }. */
export interface ExpertOverride {
  model?: string;
  generation?: Record<string, number>;
  systemPrompt?: string;
}

/**
 * Writes a copy of models/experts.json with `overrides` into `dir` and returns its path; a `model` path is relative
 * to `dir`. E.g. writeTestRegistry(dir, { finance: { model: 'missing.gguf' } }) makes the finance expert unavailable.
 */
export function writeTestRegistry(dir: string, overrides: Partial<Record<ExpertId, ExpertOverride>>): string {
  const registry = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'models/experts.json'), 'utf8')) as {
    experts: { id: ExpertId; model: string; systemPrompt: string; generation?: Record<string, number> }[];
  };
  for (const entry of registry.experts) {
    const o = overrides[entry.id];
    if (!o) continue;
    if (o.model !== undefined) entry.model = o.model;
    if (o.systemPrompt !== undefined) entry.systemPrompt = o.systemPrompt;
    if (o.generation) entry.generation = { ...entry.generation, ...o.generation };
  }
  const file = path.join(dir, 'experts.json');
  fs.writeFileSync(file, JSON.stringify(registry, null, 2));
  return file;
}

export interface TestAppOptions extends CreateAppOptions {
  /** Per-expert changes to the registry (see writeTestRegistry); the app gets its own expert pool from it. */
  registry?: Partial<Record<ExpertId, ExpertOverride>>;
  /** Caps every expert's answer length (tokens), to keep tests fast; implies a registry copy. */
  maxTokens?: number;
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
export async function createTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const tmp = makeTempDir('moe-app-');
  try {
    const app = await createTestAppAt(tmp.dir, env, options);
    return {
      ...app,
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

/** Like createTestApp, in an existing dir (e.g. to restart on the same database); dispose() keeps the dir. */
export async function createTestAppAt(dir: string, env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig(dir, env);
  const { maxTokens, registry: overrides, ...appOptions } = options;
  let registry = overrides;
  if (maxTokens !== undefined) {
    registry = { ...registry };
    for (const id of EXPERT_IDS) registry[id] = { ...registry[id], generation: { ...registry[id]?.generation, maxTokens } };
  }
  // A custom registry means our own pool, which createApp then owns (disposes on close).
  const experts = registry ? await createExpertPool(config, { registryPath: writeTestRegistry(dir, registry) }) : undefined;
  const app = await createApp(config, {
    gate: testGate(), logger: silentLogger(), ...(experts ? { experts, disposeExperts: true } : {}), ...appOptions,
  });
  return { ...app, dir, dispose: () => app.close() };
}
