/** Issue 15.7: a truncated or corrupt GGUF is not "ready" and its expert is unavailable at start, with the reason at warn level. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import { inspectModelFile } from '../../src/experts/inspectModelFile.js';
import { writeDemoModel } from '../../src/experts/demo/demoModel.js';
import { DEMO_CORPUS } from '../../src/experts/demo/demoCorpus.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { tempDir, testConfig } from './helpers.js';

test('a GGUF cut short is refused by size against its tensor table; an intact one passes', async (t) => {
  const dir = await tempDir(t);
  const whole = path.join(dir, 'whole.gguf');
  await writeDemoModel(whole, { corpus: DEMO_CORPUS.finance, name: 'whole' });
  await inspectModelFile(whole);
  const bytes = await readFile(whole);
  const cut = path.join(dir, 'cut.gguf');
  await writeFile(cut, bytes.subarray(0, bytes.length - 4096));
  await assert.rejects(inspectModelFile(cut), /truncated GGUF: its tensor table needs \d+ bytes but the file has \d+/);
  // Cut inside the header (metadata, tensor table): named as cut, not as metadata that lacks a key.
  for (const length of [100, 2_000]) {
    const short = path.join(dir, `short${length}.gguf`);
    await writeFile(short, bytes.subarray(0, length));
    await assert.rejects(inspectModelFile(short), new RegExp(`truncated GGUF: its header needs \\d+ bytes but the file has ${length} `));
  }

  const registryPath = await writeDemoRegistry(dir, { models: { finance: 'cut.gguf' } });
  const warnings: string[] = [];
  const pool = await createExpertPool(testConfig(dir), { registryPath, warn: (m) => warnings.push(m) });
  t.after(() => pool.dispose());
  const finance = pool.status().find((s) => s.id === 'finance')!;
  assert.equal(finance.state, 'unavailable');
  assert.match(finance.unavailableReason ?? '', /truncated GGUF/);
  assert.ok(warnings.some((w) => /^expert finance unavailable: .*truncated GGUF/.test(w)), warnings.join('\n'));
});

test('moe models list calls a truncated GGUF invalid, with the reason, not ready', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir);
  const bytes = await readFile(path.join(dir, 'finance.gguf'));
  await writeFile(path.join(dir, 'finance.gguf'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'models', 'list', '--registry', registryPath, '--json'], {
    encoding: 'utf8', env: { ...process.env, DEMO_MODELS_DIR: path.join(dir, 'demo'), LOG_LEVEL: 'silent' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { experts: { id: string; status: string; detail: string | null }[] };
  const finance = out.experts.find((e) => e.id === 'finance')!;
  assert.equal(finance.status, 'invalid');
  assert.match(finance.detail ?? '', /truncated GGUF/);
  assert.equal(out.experts.find((e) => e.id === 'healthcare')?.status, 'ready');
});
