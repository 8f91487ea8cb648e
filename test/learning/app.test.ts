/** Retraining inside a running app (real demo experts, real SQLite) and from the `moe` CLI in another process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';
import { REPO_ROOT, smallDataset, writeCsv } from './helpers.js';
import { isHeldOutDecision } from '../../src/learning/feedbackExamples.js';
import { FEEDBACK_HOLDOUT_FRACTION } from '../../src/learning/buildTrainingSet.js';

const run = promisify(execFile);

const TEACH = [
  'my zorblat keeps asking for a kreplon code',
  'the zorblat rejected my kreplon again',
  'zorblat kreplon reset does not work',
  'how do I get a new kreplon for my zorblat',
  'zorblat says the kreplon expired',
  'someone changed my zorblat kreplon',
];

async function appWithSmallData(t: { after(fn: () => unknown): void }, env: Record<string, string> = {}): Promise<TestApp> {
  const tmp = makeTempDir('moe-learning-data-');
  t.after(tmp.remove);
  const datasetPath = path.join(tmp.dir, 'dataset.csv');
  writeCsv(datasetPath, smallDataset());
  const app = await createTestApp({ DATASET_PATH: datasetPath, GATE_RELOAD_INTERVAL: '200ms', RETRAIN_MARGIN: '1', ...env }, { maxTokens: 16 });
  t.after(() => app.dispose());
  return app;
}

/**
 * Asks the teaching questions through the router and corrects each to cybersecurity, one user per vote, until six
 * corrections are trained on: the retrainer holds back a share of votes by decision id, which is random.
 */
async function teach(app: TestApp): Promise<void> {
  let trained = 0;
  for (let i = 0; trained < TEACH.length; i++) {
    assert.ok(i < 10 * TEACH.length, 'six corrections outside the held-out share');
    const a = await app.router.ask(TEACH[i % TEACH.length]!, { platform: 'http', userId: `asker${i}` });
    app.router.feedback(a.decisionId, `voter${i}`, -1, 'cybersecurity');
    if (!isHeldOutDecision(a.decisionId, FEEDBACK_HOLDOUT_FRACTION)) trained++;
  }
}

async function moe(app: TestApp, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env, DB_PATH: app.config.dbPath, GATE_PATH: app.config.gatePath, DATASET_PATH: app.config.datasetPath,
    RETRAIN_MARGIN: String(app.config.retrainMargin), LOG_LEVEL: 'silent',
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli.ts'), ...args], { cwd: REPO_ROOT, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

test('the gate is hot-swapped while questions are being answered; answers in flight finish, later ones use the new gate', async (t) => {
  const app = await appWithSmallData(t);
  await teach(app);
  const before = app.router.gateVersion();
  const inFlight = ['how do I set a strong password', 'is my blood pressure too high', 'should I refinance my mortgage', 'best pizza in town']
    .map((q, i) => app.router.ask(q, { platform: 'discord', userId: `live${i}` }));
  const report = await app.core.retrain({ requestedBy: 'admin' });
  const answers = await Promise.all(inFlight);
  assert.equal(report.promoted, true, report.reason);
  assert.equal(report.oldVersion, before);
  for (const a of answers) {
    assert.ok(a.response.length > 0);
    assert.equal(app.store.getDecision(a.decisionId)?.gateVersion, before, 'decided before the swap');
    assert.equal(app.store.getDecision(a.decisionId)?.status, 'answered');
  }
  assert.equal(app.router.gateVersion(), report.version);
  const after = await app.router.ask('what to do when the zorblat wants my kreplon', { platform: 'slack', userId: 'later' });
  assert.equal(app.store.getDecision(after.decisionId)?.gateVersion, report.version);
  assert.equal(after.expert.id, 'cybersecurity', 'the correction is used without a restart');
});

test('`moe retrain` and `moe gate rollback` in another process reach the running app within seconds; `moe gate list` shows them', async (t) => {
  const app = await appWithSmallData(t);
  await teach(app);
  const retrain = await moe(app, ['retrain']);
  assert.equal(retrain.code, 0, retrain.stderr);
  const promoted = /Promoted gate (\S+) \(was (\S+)\)\./.exec(retrain.stdout);
  assert.ok(promoted, retrain.stdout);
  assert.match(retrain.stdout, /Held-out accuracy: \d+\.\d% → \d+\.\d%\. Trained on \d+ examples, \d+ of them from votes/);
  await waitFor(() => app.router.gateVersion() === promoted[1], 30_000, 'the app to switch to the CLI\'s gate');

  const list = await moe(app, ['gate', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const activeLine = list.stdout.split('\n').find((l) => l.startsWith('*'));
  assert.ok(activeLine?.includes(promoted[1]!), list.stdout);
  assert.match(list.stdout, new RegExp(`${promoted[2]}.*yes`), 'the initial gate is listed as promoted');
  assert.match(list.stdout, /why:\n.*promoted: /);

  const rollback = await moe(app, ['gate', 'rollback']);
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.match(rollback.stdout, new RegExp(`the active gate is now ${promoted[2]} \\(was ${promoted[1]}\\)`));
  await waitFor(() => app.router.gateVersion() === promoted[2], 30_000, 'the app to switch back after the rollback');

  const again = await moe(app, ['gate', 'rollback']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /No earlier promoted gate than/);
  const unknown = await moe(app, ['gate', 'rollback', 'g-missing']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no gate version "g-missing"/);
  const usage = await moe(app, ['gate', 'frobnicate']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown subcommand "frobnicate"/);
});
