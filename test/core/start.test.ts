/** `npm start` (src/main.ts): a bad setting exits 1 naming it; a good start serves HTTP and stops cleanly on SIGTERM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, testGate } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

const MAIN = path.join(REPO_ROOT, 'src/main.ts');

/** Environment without the caller's moe settings, so only what a test sets counts. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PORT|HOST|DB_PATH|GATE_PATH|LOG_|DISCORD_|SLACK_|RATE_|QUERY_|EXPERT_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

for (const [setting, value] of [
  ['PORT', 'eighty'], ['PORT', '70000'], ['LOG_QUERY_TEXT', 'maybe'],
  ['EXPERT_TIMEOUT', '0'], ['EXPERT_MEMORY_BUDGET', '0'], ['EXPERT_MEMORY_BUDGET', '1MB'], ['EXPERT_MEMORY_BUDGET', '3MB'],
  ['RATE_LIMIT_PER_USER', '5/0min'],
] as const) {
  test(`npm start with ${setting}=${value} prints one line naming ${setting}, exits 1 and creates nothing`, () => {
    const tmp = makeTempDir();
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
        cwd: REPO_ROOT, env: cleanEnv({ PORT: '0', [setting]: value, DB_PATH: path.join(tmp.dir, 'moe.sqlite') }), encoding: 'utf8', timeout: 60_000,
      });
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^moe: configuration error: ${setting}: `));
      assert.equal(fs.existsSync(path.join(tmp.dir, 'moe.sqlite')), false, 'nothing was created');
    } finally {
      tmp.remove();
    }
  });
}

test('npm start serves the HTTP API on 127.0.0.1, logs JSON decisions, and shuts down cleanly on SIGTERM', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const gatePath = path.join(tmp.dir, 'gate.json');
  testGate().save(gatePath);
  const dbPath = path.join(tmp.dir, 'nested/data/moe.sqlite');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({ PORT: '0', DB_PATH: dbPath, GATE_PATH: gatePath, LOG_LEVEL: 'info', LLAMA_GPU: 'cpu' }),
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const entry = JSON.parse(line) as Record<string, unknown>; // every stdout line is a JSON log entry
        logs.push(entry);
        if (entry.msg === 'HTTP API listening') resolve(entry.address as string);
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(fs.existsSync(dbPath), 'the database folder and file were created');

  const health = await fetch(`${address}/healthz`);
  assert.equal(health.status, 200);
  const answer = await fetch(`${address}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"how do I spot a phishing email"}' });
  assert.equal(answer.status, 200);
  const body = (await answer.json()) as { decisionId: string; expert: string };

  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  const decision = logs.find((l) => l.msg === 'decision');
  assert.ok(decision, 'one log line per decision');
  assert.equal(decision.decisionId, body.decisionId);
  assert.equal(decision.status, 'answered');
  assert.ok(Number(decision.promptTokens) > 0 && Number(decision.completionTokens) > 0, 'token counts are in the line (history shows in promptTokens)');
  assert.ok(!JSON.stringify(logs).includes('phishing'), 'question text is never logged');
  assert.ok(logs.some((l) => l.msg === 'stopped'));
});
