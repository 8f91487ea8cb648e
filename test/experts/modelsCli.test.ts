import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { writeDemoRegistry } from '../../src/experts/fixtures.js';
import { tempDir } from './helpers.js';

function moe(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const HF_MODEL = 'hf:mradermacher/Llama-3-8B-Instruct-Cybersecurity-GGUF:Q4_K_M';

async function registryWithRemoteModel(dir: string): Promise<string> {
  const file = await writeDemoRegistry(dir, { models: { cybersecurity: HF_MODEL } });
  return file;
}

test('models pull says clearly when it is offline: one line, exit code 1', async (t) => {
  const dir = await tempDir(t);
  const registry = await registryWithRemoteModel(dir);
  // Port 9 (discard) on loopback: nothing listens, the connection is refused like an offline machine.
  const r = moe(['models', 'pull', '--registry', registry, '--endpoint', 'http://127.0.0.1:9/']);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^moe models pull: offline: cannot reach http:\/\/127\.0\.0\.1:9\//);
  assert.match(r.stdout, new RegExp(HF_MODEL));
});

test('models list shows each expert and whether its model is ready', async (t) => {
  const dir = await tempDir(t);
  const registry = await registryWithRemoteModel(dir);
  await writeFile(path.join(dir, 'finance.gguf'), 'garbage');
  const r = moe(['models', 'list', '--registry', registry, '--json'], { DEMO_MODELS_DIR: path.join(dir, 'demo') });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { fallback: string; experts: { id: string; status: string; detail: string | null }[] };
  const status = Object.fromEntries(out.experts.map((e) => [e.id, e]));
  assert.equal(out.fallback, 'general');
  assert.equal(status.cybersecurity?.status, 'not downloaded');
  assert.equal(status.finance?.status, 'invalid');
  assert.match(status.finance?.detail ?? '', /not a valid GGUF/);
  assert.equal(status.general?.status, 'ready');

  const text = moe(['models', 'list', '--registry', registry]);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /🔐 cybersecurity .*not downloaded \(run: npx moe models pull\)/);

  const bad = moe(['models', 'list', '--registry', path.join(dir, 'missing.json')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /missing\.json: \(file\): file not found/);
  assert.equal(moe(['models', 'frobnicate']).status, 2);
});
