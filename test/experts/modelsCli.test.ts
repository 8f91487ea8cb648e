import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/models.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { tempDir } from './helpers.js';

/** Runs `moe models ...` in this process, capturing what it prints. */
async function models(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    const status = await run(args);
    return { status, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function moe(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
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
  const r = await models(['list', '--registry', registry, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { fallback: string; experts: { id: string; status: string; detail: string | null }[] };
  const status = Object.fromEntries(out.experts.map((e) => [e.id, e]));
  assert.equal(out.fallback, 'general');
  assert.equal(status.cybersecurity?.status, 'not downloaded');
  assert.equal(status.finance?.status, 'invalid');
  assert.match(status.finance?.detail ?? '', /not a valid GGUF/);
  assert.equal(status.general?.status, 'ready');

  const text = await models(['list', '--registry', registry]);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /🔐 cybersecurity .*not downloaded \(run: npx moe models pull\)/);

  const bad = await models(['list', '--registry', path.join(dir, 'missing.json')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /missing\.json: \(file\): file not found/);
  assert.equal((await models(['frobnicate'])).status, 2);
  const nothing = await models(['pull', '--registry', await writeDemoRegistry(path.join(dir, 'all-demo'))]);
  assert.equal(nothing.status, 0);
  assert.match(nothing.stdout, /nothing to download/);
});
