/**
 * Crashes and a second instance: a kill -9 leaves pending rows that the next start-up marks failed; a second `npm start`
 * on the same database refuses at once and touches nothing of the running bot's; a setup error at start is one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Store } from '../../src/store/Store.js';
import { createTestAppAt, REPO_ROOT, testGate, writeTestRegistry } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

const MAIN = path.join(REPO_ROOT, 'src/main.ts');

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** Environment without the caller's moe settings, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PORT|HOST|DB_PATH|GATE_PATH|EXPERTS_PATH|LOG_|DISCORD_|SLACK_|RATE_|QUERY_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** `npm start` on the database in `dir` (gate saved there first), HTTP on a free port. */
function startBot(dir: string, extra: Record<string, string> = {}): Child {
  return spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({
      PORT: '0', DB_PATH: path.join(dir, 'moe.sqlite'), GATE_PATH: path.join(dir, 'gate.json'), LOG_LEVEL: 'info', LLAMA_GPU: 'cpu',
      RATE_LIMIT_PER_USER: 'off', ...extra,
    }),
  });
}

/** Resolves with the first stdout line that `match` accepts; rejects when the process exits first. */
function waitForLine(child: Child, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (match(line)) resolve(line);
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) first: ${stderr}`)));
  });
}

function exitOf(child: Child): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('npm start with an expert that has both model and endpoint exits 1 with one line on stderr, and no stack on stdout', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  testGate().save(path.join(tmp.dir, 'gate.json'));
  const registry = path.join(tmp.dir, 'experts.json');
  const expert = (id: string): Record<string, unknown> => ({ id, displayName: id, description: id, emoji: '*', systemPrompt: 'Help.', model: 'demo' });
  writeFileSync(registry, JSON.stringify({ fallback: 'general', experts: [
    expert('healthcare'), expert('finance'), expert('cybersecurity'), { ...expert('general'), endpoint: { baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } },
  ] }));
  const bot = startBot(tmp.dir, { EXPERTS_PATH: registry });
  let [stdout, stderr] = ['', ''];
  bot.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  bot.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  assert.equal(await exitOf(bot), 1);
  assert.deepEqual(stderr.trim().split('\n').filter((l) => !/^\(node:\d+\)|--trace-warnings/.test(l)).length, 1, stderr);
  assert.match(stderr, /^moe: could not start: .*experts\.json: experts\[general\]: has both "model" and "endpoint"/m);
  assert.match(stdout, /"msg":"could not start"/, 'one line in the log too');
  assert.doesNotMatch(stdout, /"stack"|at .*\.ts:\d+/, 'without a stack');
});

test('a second npm start on the same database refuses at once and leaves the running bot\'s rows alone; after kill -9 the next start fails them', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const first = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/core/fixtures/askThenHang.ts'), tmp.dir], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (first.exitCode === null) first.kill('SIGKILL');
  });
  const decisionId = (await waitForLine(first, (l) => l.startsWith('PENDING '))).slice('PENDING '.length);

  // The first bot is alive, mid-answer. A second one on the same DB_PATH must not mark that answer failed.
  testGate().save(path.join(tmp.dir, 'gate.json'));
  const second = startBot(tmp.dir);
  t.after(() => {
    if (second.exitCode === null) second.kill('SIGKILL');
  });
  let stderr = '';
  second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const outcome = await Promise.race([
    exitOf(second).then((code) => ({ exited: code })),
    waitForLine(second, (l) => l.includes('HTTP API listening')).then(() => ({ exited: 'listening' as const }), () => new Promise<never>(() => undefined)),
  ]);
  assert.equal(outcome.exited, 1, `the second instance should refuse, got ${String(outcome.exited)}: ${stderr}`);
  assert.match(stderr, new RegExp(`^moe: could not start: another moe-router \\(pid ${first.pid} on .+\\) is using .*moe\\.sqlite; stop it first`, 'm'));
  const inspect = Store.open(path.join(tmp.dir, 'moe.sqlite'), { keepText: true });
  assert.equal(inspect.getDecision(decisionId)!.status, 'pending', 'the running bot\'s answer is untouched');
  inspect.close();

  first.kill('SIGKILL');
  await exitOf(first);
  const app = await createTestAppAt(tmp.dir);
  t.after(() => app.close());
  const row = app.store.getDecision(decisionId)!;
  assert.equal(row.status, 'failed', 'its owner is gone: the row is interrupted');
  assert.match(row.error ?? '', /interrupted/);
  assert.equal(app.store.stats().byStatus.pending, 0);
});

test('kill -9 of npm start with questions in flight: acknowledged answers are answered, the rest failed, nothing pending, integrity ok', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  testGate().save(path.join(tmp.dir, 'gate.json'));
  const registry = writeTestRegistry(tmp.dir, {
    finance: { generation: { maxTokens: 8 } }, cybersecurity: { generation: { maxTokens: 2000 } }, healthcare: { generation: { maxTokens: 2000 } },
  });
  const bot = startBot(tmp.dir, { EXPERTS_PATH: registry });
  t.after(() => {
    if (bot.exitCode === null) bot.kill('SIGKILL');
  });
  const listening = JSON.parse(await waitForLine(bot, (l) => l.includes('HTTP API listening'))) as { address: string };

  const ask = (query: string): Promise<{ ok: boolean; decisionId?: string }> =>
    fetch(`${listening.address}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
      .then(async (res) => ({ ok: res.status === 200, decisionId: ((await res.json()) as { decisionId?: string }).decisionId }))
      .catch(() => ({ ok: false }));
  // Long answers first, so they are in flight (or queued) when the short one is acknowledged.
  const long = ['how do I spot a phishing email', 'how much sleep do adults need', 'is my router firewall enough', 'what helps with a sore throat']
    .map((q) => ask(q));
  const acknowledged = await ask('what is a good way to save for retirement');
  assert.ok(acknowledged.ok && acknowledged.decisionId, 'the short answer came back');
  bot.kill('SIGKILL');
  await exitOf(bot);
  const others = await Promise.all(long);

  const app = await createTestAppAt(tmp.dir);
  t.after(() => app.close());
  assert.equal(app.store.getDecision(acknowledged.decisionId)!.status, 'answered', 'an acknowledged answer is in the log');
  for (const r of others) if (r.ok) assert.equal(app.store.getDecision(r.decisionId!)!.status, 'answered');
  const byStatus = app.store.stats().byStatus;
  assert.equal(byStatus.pending, 0);
  // How many long answers were cut short depends on the machine's speed; each one cut short is failed as interrupted.
  assert.equal(byStatus.answered + byStatus.failed, app.store.stats().total);
  const failed = app.store.db.prepare("SELECT error FROM decisions WHERE status = 'failed'").all() as { error: string }[];
  assert.ok(failed.every((f) => /interrupted/.test(f.error)), JSON.stringify(failed));
  assert.deepEqual(app.store.db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
});
