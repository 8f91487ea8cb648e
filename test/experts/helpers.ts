/** Shared setup for the experts tests: temp dirs and a config that points at them. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moe-experts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DEMO_MODELS_DIR: path.join(dir, 'demo'),
    EXPERTS_PATH: path.join(dir, 'experts.json'),
    LLAMA_GPU: 'cpu',
    EXPERT_BATCH_SIZE: '4',
    EXPERT_QUEUE_LIMIT: '4',
    ...env,
  });
}
