/** Pruning old gate versions: what is kept, and that rows and files go together even when a run is interrupted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gatesDir } from '../../src/learning/GateFiles.js';
import { pruneGateVersions } from '../../src/learning/pruneGateVersions.js';
import { rollbackGate } from '../../src/learning/rollbackGate.js';
import { learningEnv, smallDataset, type LearningEnv } from './helpers.js';

const PHRASES = ['my zorblat keeps asking for a kreplon code', 'the zorblat rejected my kreplon again', 'zorblat kreplon reset does not work', 'zorblat says the kreplon expired'];

function filesOf(env: LearningEnv): string[] {
  return fs.readdirSync(gatesDir(env.config)).sort();
}

function rowFiles(env: LearningEnv): string[] {
  return env.versions.list().map((r) => path.basename(r.path)).sort();
}

test('only the newest 3 unpromoted candidates are kept after retrainings', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  // Admin votes relabelling healthcare as finance: every candidate is clearly worse, so none is promoted.
  for (const row of smallDataset().filter((r) => r.label === 'healthcare')) env.vote(env.logQuestion(row.text), 'admin1', -1, 'finance', true);
  const candidates: string[] = [];
  for (let i = 0; i < 5; i++) {
    const report = await env.retrainer.retrain();
    assert.equal(report.promoted, false, report.reason);
    candidates.push(report.version);
  }
  const rows = env.versions.list();
  assert.deepEqual(rows.map((r) => r.version), [...candidates.slice(2).reverse(), env.initial.version]);
  assert.equal(rows.at(-1)!.active, true, 'the active (initial) gate stays');
  assert.deepEqual(filesOf(env), rowFiles(env));
});

test('promoted versions beyond GATE_KEEP_VERSIONS go; the active version and its rollback target never do', async (t) => {
  const env = learningEnv({ GATE_KEEP_VERSIONS: '0' });
  t.after(env.close);
  const promoted: string[] = [];
  for (let i = 0; i < 3; i++) {
    env.vote(env.logQuestion(`${PHRASES[i]!} ${i}`), `user${i}`, -1, 'cybersecurity');
    const report = await env.retrainer.retrain();
    assert.equal(report.promoted, true, report.reason);
    promoted.push(report.version);
  }
  // With no other promoted versions kept, what remains is the active one and the one a rollback goes to.
  assert.deepEqual(env.versions.list().map((r) => r.version), [promoted[2], promoted[1]]);
  assert.deepEqual(rollbackGate(env.store), { from: promoted[2], to: promoted[1] });
  pruneGateVersions(env.versions, env.config);
  // Active is now promoted[1]; promoted[2] is newer, so no longer kept; nothing older is left to roll back to.
  assert.deepEqual(env.versions.list().map((r) => r.version), [promoted[1]]);
  assert.equal(env.versions.active()?.version, promoted[1]);
  assert.deepEqual(filesOf(env), rowFiles(env));
});

test('an interrupted prune hides the marked versions and the next run finishes it; the active version cannot be marked', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  env.vote(env.logQuestion(PHRASES[0]!), 'user0', -1, 'cybersecurity');
  const first = await env.retrainer.retrain();
  env.vote(env.logQuestion(PHRASES[1]!), 'user1', -1, 'cybersecurity');
  const second = await env.retrainer.retrain();
  assert.equal(second.promoted, true, second.reason);
  assert.deepEqual(env.versions.markPruned([second.version]), [], 'the active version is never marked');

  // Step 1 done, then the process died: rows marked, files still there.
  assert.deepEqual(env.versions.markPruned([env.initial.version, first.version]), [env.initial.version, first.version]);
  assert.deepEqual(env.versions.list().map((r) => r.version), [second.version], 'marked versions are no longer listed');
  assert.throws(() => rollbackGate(env.store, first.version), /no gate version/);
  assert.throws(() => rollbackGate(env.store), /No earlier promoted gate/);
  // ...and one of the two files was already deleted before the crash.
  fs.rmSync(path.join(gatesDir(env.config), `${env.initial.version}.json`));
  assert.equal(filesOf(env).length, 2);

  const { removed } = pruneGateVersions(env.versions, env.config);
  assert.deepEqual(removed.sort(), [env.initial.version, first.version].sort());
  assert.deepEqual(env.versions.pruned(), []);
  assert.deepEqual(filesOf(env), [`${second.version}.json`]);
  assert.equal(env.versions.active()?.version, second.version);
});
