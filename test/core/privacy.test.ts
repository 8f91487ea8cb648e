/** LOG_QUERY_TEXT, QUERY_RETENTION, `moe forget` and the per-user rate limit, on real apps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { RouterError } from '../../src/core/errors.js';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { createTestApp, testConfig, testGate, REPO_ROOT } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';
import { readVotes } from '../../src/store/TrainingLog.js';

const Q = 'how do I spot a phishing email';

test('LOG_QUERY_TEXT=false stores no question or answer text, yet re-routing still works', async (t) => {
  const app = await createTestApp({ LOG_QUERY_TEXT: 'false' }, { maxTokens: 12 });
  t.after(() => app.dispose());
  const r = await app.router.ask(Q, { platform: 'discord', userId: 'u1' });
  const row = app.store.getDecision(r.decisionId)!;
  assert.equal(row.query, null);
  assert.equal(row.answer, null);
  assert.equal(row.queryChars, Q.length, 'only the length is kept');
  assert.equal(row.status, 'answered');
  const again = await app.router.reroute(r.decisionId, 'finance', { platform: 'discord', userId: 'u1' });
  assert.equal(again.expert.id, 'finance');
  assert.equal(app.store.getDecision(again.decisionId)!.query, null);
  const dump = JSON.stringify(app.store.db.prepare('SELECT * FROM decisions').all());
  assert.ok(!dump.includes('phishing'), 'the text is nowhere in the decision log');
});

for (const logText of ['true', 'false']) {
  test(`moe forget --user: a re-route of the forgotten question within the hour is refused and logs nothing (LOG_QUERY_TEXT=${logText})`, async (t) => {
    const app = await createTestApp({ LOG_QUERY_TEXT: logText }, { maxTokens: 12 });
    t.after(() => app.dispose());
    const r = await app.router.ask(Q, { platform: 'discord', userId: 'u1' });
    const rows = (): number => (app.store.db.prepare('SELECT COUNT(*) AS n FROM decisions').get() as { n: number }).n;
    app.store.forgetUser('u1');
    const before = rows();
    await assert.rejects(app.router.reroute(r.decisionId, 'finance', { platform: 'discord', userId: 'u1' }), (err: unknown) => err instanceof RouterError && err.code === 'not_found');
    assert.equal(rows(), before, 'no new decision row');
    const dump = JSON.stringify(app.store.db.prepare('SELECT * FROM decisions').all());
    assert.ok(!dump.includes('phishing'), 'the forgotten text is not logged again');
  });
}

test('QUERY_RETENTION: text older than the period is deleted at start-up; newer text stays', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const now = (): number => clock;
  const config = testConfig(tmp.dir, { QUERY_RETENTION: '1h' });
  const first = await createApp(config, { gate: testGate(), logger: silentLogger(), now });
  const old = await first.router.ask(Q, { platform: 'slack', userId: 'u1' });
  clock += 50 * 60_000;
  const recent = await first.router.ask('what is a good way to save for retirement', { platform: 'slack', userId: 'u1' });
  await first.close();

  clock += 20 * 60_000; // `old` is now 70 minutes old, `recent` 20
  const second = await createApp(config, { gate: testGate(), logger: silentLogger(), now });
  t.after(() => second.close());
  const oldRow = second.store.getDecision(old.decisionId)!;
  assert.equal(oldRow.query, null);
  assert.equal(oldRow.answer, null);
  assert.equal(oldRow.expert, old.expert.id, 'the routing record stays');
  assert.equal(second.store.getDecision(recent.decisionId)!.query, 'what is a good way to save for retirement');
});

test('QUERY_RETENTION shorter than the hourly sweep: a running bot deletes the text in time, and a follow-up then gets no history', async (t) => {
  const app = await createTestApp({ QUERY_RETENTION: '2s' }, { maxTokens: 12 });
  t.after(() => app.dispose());
  const conversationKey = 'http:retention-test';
  const first = await app.router.ask(Q, { platform: 'http', userId: 'u1', conversationKey });
  assert.equal(app.store.getDecision(first.decisionId)!.query, Q);
  // The positive signal: the running bot's own sweep clears the text, no restart and no manual call.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && app.store.getDecision(first.decisionId)!.query !== null) await new Promise((resolve) => setTimeout(resolve, 50));
  const purged = app.store.getDecision(first.decisionId)!;
  assert.equal(purged.query, null, 'deleted by the running bot\'s sweep');
  assert.equal(purged.answer, null);
  const followUp = await app.router.ask('what else should i check', { platform: 'http', userId: 'u1', conversationKey });
  assert.equal(followUp.conversation?.turn, 2, 'still the same conversation');
  const alone = await app.router.ask('what else should i check', { platform: 'http', userId: 'u1', conversationKey: 'http:retention-alone', expert: followUp.expert.id });
  assert.equal(followUp.promptTokens, alone.promptTokens, 'the deleted turn does not reach the expert');
});

test('`moe forget --user` deletes that user\'s text and votes, keeps others, and prints what it removed', async (t) => {
  const app = await createTestApp({}, { maxTokens: 12 });
  t.after(() => app.dispose());
  const mine = await app.router.ask(Q, { platform: 'discord', userId: 'forget-me' });
  const theirs = await app.router.ask('what is a good way to save for retirement', { platform: 'discord', userId: 'keep-me' });
  app.router.feedback(theirs.decisionId, 'forget-me', -1, 'finance');
  app.router.feedback(theirs.decisionId, 'keep-me', 1);

  const cli = (user: string): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli.ts'), 'forget', '--user', user], {
      cwd: REPO_ROOT, env: { ...process.env, DB_PATH: app.config.dbPath }, encoding: 'utf8',
    });
  const out = cli('forget-me');
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /Forgot user forget-me: removed text and user id from 1 decision\(s\) and deleted 1 vote\(s\)/);

  const row = app.store.getDecision(mine.decisionId)!;
  assert.equal(row.query, null);
  assert.equal(row.answer, null);
  assert.equal(row.userId, null);
  const votes = readVotes(app.store);
  assert.deepEqual(votes.map((v) => v.userId), ['keep-me']);
  assert.equal(app.store.getDecision(theirs.decisionId)!.query, 'what is a good way to save for retirement');

  assert.match(cli('forget-me').stdout, /from 0 decision\(s\) and deleted 0 vote\(s\)/, 'running it again finds nothing');
  const usage = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli.ts'), 'forget'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: moe forget --user ID/);
});

test('rate limit: over RATE_LIMIT_PER_USER a user gets "slow down, try again in N s", nothing is generated; others are not affected', async (t) => {
  // The limiter (rate-limiter-flexible) reads Date.now(); only Date is mocked, timers and I/O run as usual.
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  const app = await createTestApp({ RATE_LIMIT_PER_USER: '2/min' }, { maxTokens: 12 });
  t.after(() => app.dispose());
  await app.router.ask(Q, { platform: 'discord', userId: 'eager' });
  t.mock.timers.tick(10_000);
  await app.router.ask(Q, { platform: 'discord', userId: 'eager' });
  t.mock.timers.tick(5_000);
  const before = app.store.stats().total;
  await assert.rejects(app.router.ask(Q, { platform: 'discord', userId: 'eager' }), (err: unknown) => {
    assert.ok(err instanceof RouterError);
    assert.equal(err.code, 'rate_limited');
    assert.equal(err.retryAfterSec, 45, 'the first of the two questions leaves the window in 45 s');
    assert.match(err.message, /Slow down.*Try again in 45 s/);
    return true;
  });
  assert.equal(app.store.stats().total, before, 'no decision, no generation');
  await app.router.ask(Q, { platform: 'discord', userId: 'patient' });
  await app.router.ask(Q, { platform: 'slack', userId: 'eager' }); // another platform's user with the same id
  await app.router.ask(Q, { platform: 'http', userId: null }); // anonymous HTTP: only the expert queues bound it
  await app.router.ask(Q, { platform: 'http', userId: null });
  await app.router.ask(Q, { platform: 'http', userId: null });
  t.mock.timers.tick(46_000);
  await app.router.ask(Q, { platform: 'discord', userId: 'eager' }); // window moved on
});
