/** `npm start` on a fresh clone says that it trains the gate, from which file and how many rows, and how well it did. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PORT|HOST|DB_PATH|GATE_PATH|DATASET_PATH|LOG_|DISCORD_|SLACK_|RATE_|QUERY_|EXPERT_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

test('npm start without a gate file logs "training the gate from FILE (N rows)…", then the held-out accuracy, then serves', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const dataset = path.join(REPO_ROOT, 'test/gate/fixtures/small.csv');
  const rows = fs.readFileSync(dataset, 'utf8').trim().split('\n').length - 1;
  const gatePath = path.join(tmp.dir, 'gate.json');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/main.ts')], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({ PORT: '0', DB_PATH: path.join(tmp.dir, 'moe.sqlite'), GATE_PATH: gatePath, DATASET_PATH: dataset, LOG_LEVEL: 'info', LLAMA_GPU: 'cpu' }),
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const messages: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { msg: string };
        buf = buf.slice(nl + 1);
        messages.push(line.msg);
        if (line.msg === 'HTTP API listening') resolve();
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const training = messages.findIndex((m) => m === `training the gate from ${dataset} (${rows} rows)…`);
  const trained = messages.findIndex((m) => /^gate trained: held-out accuracy \d+\.\d% on \d+ rows/.test(m));
  assert.ok(training >= 0, messages.join('\n'));
  assert.ok(trained > training, messages.join('\n'));
  assert.ok(fs.existsSync(gatePath), 'the trained gate is kept for the next start');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});
