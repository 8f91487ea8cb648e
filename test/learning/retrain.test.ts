import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { RouterError } from '../../src/core/errors.js';
import { createLogger } from '../../src/logger.js';
import { Gate } from '../../src/gate/Gate.js';
import { trainGate } from '../../src/gate/trainGate.js';
import { DEFAULT_FEEDBACK_RULES } from '../../src/learning/feedbackExamples.js';
import { loadActiveGate, watchActiveGate } from '../../src/learning/ActiveGate.js';
import { buildTrainingSet } from '../../src/learning/buildTrainingSet.js';
import { gatesDir } from '../../src/learning/GateFiles.js';
import { rollbackGate } from '../../src/learning/rollbackGate.js';
import { scheduleRetraining } from '../../src/learning/scheduleRetraining.js';
import { acquireRetrainLock, releaseRetrainLock } from '../../src/store/RetrainLock.js';
import { readVotes } from '../../src/store/TrainingLog.js';
import { Store } from '../../src/store/Store.js';
import { learningEnv, REPO_ROOT, smallDataset, writeCsv } from './helpers.js';

const PHRASES = [
  'my zorblat keeps asking for a kreplon code',
  'the zorblat rejected my kreplon again',
  'is it normal that zorblat locks the kreplon',
  'zorblat kreplon reset does not work',
  'how do I get a new kreplon for my zorblat',
  'zorblat says the kreplon expired',
  'someone changed my zorblat kreplon',
  'zorblat kreplon warning on login',
];

test('corrections teach the gate: a similar new question is routed to the corrected expert after retraining', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  const probe = 'what should I do when my zorblat wants the kreplon';
  assert.notEqual(env.activeGate.current().route(probe).expert, 'cybersecurity', 'the untrained gate does not know these words');
  PHRASES.forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));

  const report = await env.retrainer.retrain({ requestedBy: 'test' });
  assert.equal(report.promoted, true, report.reason);
  assert.ok(report.feedbackExamples >= 6, `${report.feedbackExamples} feedback examples`);
  assert.equal(env.activeGate.current().version, report.version, 'swapped in without a restart');
  assert.equal(env.activeGate.current().route(probe).expert, 'cybersecurity');
  assert.equal(env.versions.active()?.version, report.version);
  const row = env.versions.get(report.version)!;
  assert.ok(fs.existsSync(row.path) && Gate.load(row.path).version === report.version, 'the promoted gate is saved under models/gates');
  assert.equal(path.dirname(row.path), gatesDir(env.config));
});

test('a worse candidate is recorded but not promoted; the active gate keeps routing', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  // Admin votes are not capped: relabelling every healthcare question as finance makes a clearly worse gate.
  for (const row of smallDataset().filter((r) => r.label === 'healthcare')) env.vote(env.logQuestion(row.text), 'admin1', -1, 'finance', true);
  const report = await env.retrainer.retrain({ requestedBy: 'test' });
  assert.equal(report.promoted, false, report.reason);
  assert.ok(report.oldAccuracy !== null && report.newAccuracy < report.oldAccuracy - 0.02, `${report.oldAccuracy} → ${report.newAccuracy}`);
  assert.match(report.reason, /kept the active gate/);
  assert.equal(env.activeGate.current().version, env.initial.version);
  assert.equal(env.versions.active()?.version, env.initial.version);
  const row = env.versions.get(report.version)!;
  assert.equal(row.promoted, false);
  assert.ok(fs.existsSync(row.path), 'every candidate is kept, promoted or not');
  assert.equal(typeof row.metrics.heldOutAccuracy, 'number');
});

test('one user flooding wrong corrections is capped and barely moves the gate', async (t) => {
  const env = learningEnv({}, 250);
  t.after(env.close);
  const healthcare = smallDataset(600).filter((r) => r.label === 'healthcare').slice(250, 550);
  for (const row of healthcare) env.vote(env.logQuestion(row.text), 'mallory', -1, 'finance');
  const report = await env.retrainer.retrain({ requestedBy: 'test' });
  // Measured on our own held-out rows: the votes' held-out slice would carry mallory's own wrong labels.
  const data = env.versions.get(report.version)!.metrics.dataHeldOut as { n: number; candidate: number; baseline: number };
  assert.ok(data.candidate >= data.baseline - 0.01, `our held-out split: ${data.baseline} → ${data.candidate} on ${data.n} rows`);
  const fresh = smallDataset(700).filter((r) => r.label === 'healthcare').slice(550, 700);
  // Compared with the same recipe without mallory's votes (retrained gates never train on the held-out rows).
  const withoutMallory = trainGate(buildTrainingSet(smallDataset(250), []).train).gate;
  const before = fresh.filter((r) => withoutMallory.route(r.text).expert === 'healthcare').length;
  const after = fresh.filter((r) => env.activeGate.current().route(r.text).expert === 'healthcare').length;
  assert.ok(after >= before - 4, `${before} → ${after} of ${fresh.length} new healthcare questions routed right`);
  const uncapped = trainGate(buildTrainingSet(smallDataset(250), readVotes(env.store), { ...DEFAULT_FEEDBACK_RULES, userWeightCap: Infinity }).train).gate;
  const afterUncapped = fresh.filter((r) => uncapped.route(r.text).expert === 'healthcare').length;
  assert.ok(afterUncapped < before - 20, `without the cap: ${before} → ${afterUncapped}, so the cap is what protects`);
});

test('votes whose question text was not kept (LOG_QUERY_TEXT=false) become no examples', async (t) => {
  const env = learningEnv({ LOG_QUERY_TEXT: 'false' });
  t.after(env.close);
  PHRASES.forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));
  const report = await env.retrainer.retrain();
  assert.equal(report.feedbackExamples, 0);
});

test('a retraining after the dataset file changed trains on its new rows', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  const first = await env.retrainer.retrain();
  writeCsv(env.config.datasetPath, smallDataset(90));
  const second = await env.retrainer.retrain();
  assert.ok(second.examplesUsed > first.examplesUsed, `${first.examplesUsed} → ${second.examplesUsed} examples`);
});

test('the retrainer self-trains on what the active gate says about logged questions, not on the logged guess', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  const text = smallDataset().find((r) => env.activeGate.current().route(r.text).confidence > 0.8)!.text;
  // Logged by an earlier gate that had no idea (below the self-training minimum); the active gate is sure.
  env.store.insertDecision({
    id: '00000000-0000-4000-8000-00000000ffff', createdAt: Date.now(), platform: 'http', channelId: null, userId: 'asker', query: text,
    gateVersion: 'g-old', label: 'none', gateExpert: 'general', expert: 'general', confidence: 0.26,
    probabilities: { healthcare: 0.25, finance: 0.25, cybersecurity: 0.24, none: 0.26 }, fallbackReason: 'off_topic', reroutedFrom: null,
  });
  const report = await env.retrainer.retrain();
  assert.equal(env.versions.get(report.version)!.metrics.selfTrainingExamples, 1);
});

test('concurrent retrain requests make one run; another process holding the lock gets a clear "already running"', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  PHRASES.forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));
  const [a, b] = await Promise.all([env.retrainer.retrain(), env.retrainer.retrain()]);
  assert.equal(a, b, 'the second caller gets the same report');
  assert.equal(env.versions.list().length, 2, 'the initial gate and one candidate');

  const other = Store.open(env.config.dbPath, { keepText: true });
  t.after(() => other.close());
  assert.equal(acquireRetrainLock(other, 'cli').ok, true);
  await assert.rejects(env.retrainer.retrain(), (err: unknown) => err instanceof RouterError && err.code === 'retrain_unavailable' && /already running.*cli/.test(err.message));
  releaseRetrainLock(other);
  await env.retrainer.retrain();
  assert.equal(env.versions.list().length, 3);
});

test('rollback returns to the previous gate (or a named one) and a watching process swaps within its interval', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  PHRASES.forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));
  const first = await env.retrainer.retrain();
  assert.equal(first.promoted, true, first.reason);
  const stop = watchActiveGate(env.store, env.activeGate, 50);
  t.after(stop);

  assert.deepEqual(rollbackGate(env.store), { from: first.version, to: env.initial.version });
  await waitFor(() => env.activeGate.current().version === env.initial.version, 3000, 'the watcher to swap back');
  assert.deepEqual(rollbackGate(env.store, first.version), { from: env.initial.version, to: first.version });
  await waitFor(() => env.activeGate.current().version === first.version, 3000, 'the watcher to swap forward');
  assert.throws(() => rollbackGate(env.store, 'g-nope'), /no gate version "g-nope"/);
  assert.equal((await loadActiveGate(env.config)).version, first.version, '`moe route`/`moe eval` use the active version');
});

test('a retrain killed mid-way leaves the active gate, the database and the gate files as they were', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  PHRASES.forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));
  await env.retrainer.retrain(); // records the initial gate, promotes one
  const activeBefore = env.versions.active()!.version;
  const rowsBefore = env.versions.list().length;
  env.vote(env.logQuestion('zorblat kreplon again and again'), 'late', -1, 'cybersecurity');

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/learning/retrainChild.ts')], {
    cwd: REPO_ROOT, env: { ...process.env, ...envOf(env.config) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  child.stderr.on('data', (c: Buffer) => (errText += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('saving')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${errText}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;

  assert.equal(env.versions.active()!.version, activeBefore);
  assert.equal(env.versions.list().length, rowsBefore, 'no row for the unfinished candidate');
  const report = await env.retrainer.retrain({ requestedBy: 'after-crash' }); // the dead holder's lock is taken over
  assert.ok(report.version);
  const files = fs.readdirSync(gatesDir(env.config));
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'the half-written file is gone');
  for (const f of files) Gate.load(path.join(gatesDir(env.config), f)); // every file left is a whole gate
});

function envOf(config: { dbPath: string; gatePath: string; datasetPath: string; retrainMargin: number }): Record<string, string> {
  return { DB_PATH: config.dbPath, GATE_PATH: config.gatePath, DATASET_PATH: config.datasetPath, RETRAIN_MARGIN: String(config.retrainMargin), LOG_LEVEL: 'silent' };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the schedule retrains only once RETRAIN_MIN_FEEDBACK new votes with text have arrived', async (t) => {
  const env = learningEnv({ RETRAIN_INTERVAL: '100ms', RETRAIN_MIN_FEEDBACK: '3' });
  t.after(env.close);
  const lines: { msg: string; fresh?: number }[] = [];
  const logger = createLogger({ logLevel: 'debug' }, new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string; fresh?: number });
      done();
    },
  }));
  const ticksWith = (fresh: number): number => lines.filter((l) => l.msg === 'retrain: not enough new votes yet' && l.fresh === fresh).length;
  const stop = scheduleRetraining(env.retrainer, env.store, env.config, logger);
  t.after(stop);
  PHRASES.slice(0, 2).forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));
  await waitFor(() => ticksWith(2) >= 2, 30_000, 'two ticks that saw the two votes');
  assert.equal(env.versions.list().length, 0, 'two votes are not enough');
  env.vote(env.logQuestion(PHRASES[2]!), 'user2', -1, 'cybersecurity');
  await waitFor(() => env.versions.list().length === 2, 30_000, 'the scheduled run (the initial gate and one candidate)');
  await waitFor(() => ticksWith(0) >= 2, 30_000, 'two ticks after the run that saw no new votes');
  assert.equal(env.versions.list().length, 2, 'no new votes since, so no second run');
});

test('a retraining trains off the main thread: timers keep firing while it trains on our whole dataset', async (t) => {
  const env = learningEnv({ DATASET_PATH: path.join(REPO_ROOT, 'data', 'dataset.csv') });
  t.after(env.close);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  t.after(() => clearInterval(timer));
  let atTraining = -1;
  let whileTraining = -1;
  const report = await env.retrainer.retrain({
    requestedBy: 'test',
    onStage: (stage) => {
      if (stage === 'training') atTraining = ticks;
      if (stage === 'evaluating') whileTraining = ticks - atTraining;
    },
  });
  assert.ok(report.examplesUsed > 5_000, JSON.stringify(report));
  // Training on the main thread would run between the two stages without a single tick.
  assert.ok(whileTraining >= 3, `the event loop ran ${whileTraining} timer ticks while the gate trained`);
  assert.equal(env.versions.get(report.version)?.version, report.version);
});
