/**
 * Run by malformed.test.ts in a child process (a bad model file could abort the whole process inside llama.cpp):
 * asks every expert of the given registry one question and prints what happened as JSON.
 */
import { loadConfig } from '../../src/config.js';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import { ExpertError } from '../../src/experts/types.js';

const [registryPath, demoDir] = process.argv.slice(2);
const pool = await createExpertPool(loadConfig({ LLAMA_GPU: 'cpu', DEMO_MODELS_DIR: demoDir, EXPERT_BATCH_SIZE: '2' }), { registryPath });
const results: Record<string, { ok: boolean; code?: string; message?: string; state?: string; reason?: string | null }> = {};
for (const { id } of pool.list()) {
  try {
    const r = await pool.generate(id, 'Is this model all right?', { maxTokens: 8 });
    results[id] = { ok: r.text.length > 0 };
  } catch (err) {
    results[id] = err instanceof ExpertError ? { ok: false, code: err.code, message: err.message } : { ok: false, message: String(err) };
  }
  const s = pool.status().find((x) => x.id === id)!;
  results[id] = { ...results[id], state: s.state, reason: s.unavailableReason };
}
await pool.dispose();
console.log(JSON.stringify(results));
