/**
 * When the router's writes become durable, now that pending rows and completions share one commit per event-loop turn:
 * a second connection to the same file (another process, in effect) is the judge. Instant fake experts, real SQLite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { ActiveGate } from '../../src/learning/ActiveGate.js';
import { Router } from '../../src/core/Router.js';
import { Store } from '../../src/store/Store.js';
import { RouterError } from '../../src/core/errors.js';
import { EXPERT_IDS, type ExpertId } from '../../src/gate/types.js';
import { ExpertError, type ExpertInfo, type ExpertProvider, type ExpertStatus, type GenerateResult } from '../../src/experts/types.js';
import { testConfig, testGate } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

/** Experts that answer at once; `onGenerate` runs when generation starts. */
function instantExperts(onGenerate: () => void = () => undefined): ExpertProvider {
  const info = (id: ExpertId): ExpertInfo => ({ id, displayName: id, legacyName: id, description: id, emoji: '*', isFallback: id === 'general', demo: false });
  return {
    list: () => EXPERT_IDS.map(info),
    info,
    fallbackId: () => 'general',
    status: () => EXPERT_IDS.map((id): ExpertStatus => ({ ...info(id), state: 'loaded', unavailableReason: null, active: 0, queued: 0 })),
    generate: async (): Promise<GenerateResult> => {
      onGenerate();
      return { text: 'an answer', promptTokens: 3, completionTokens: 2, finishReason: 'stop', timeToFirstTokenMs: 0, totalMs: 0, demo: false };
    },
    dispose: async () => undefined,
  };
}

function setup(
  t: import('node:test').TestContext, onGenerate?: (other: BetterSqlite3.Database) => void, experts?: ExpertProvider,
): { router: Router; store: Store; other: BetterSqlite3.Database } {
  const tmp = makeTempDir();
  const config = testConfig(tmp.dir);
  const store = Store.open(config.dbPath, { keepText: true, backgroundCheckpoints: true });
  const other = new BetterSqlite3(config.dbPath, { readonly: true });
  const activeGate = new ActiveGate(testGate());
  const router = new Router({ config, store, experts: experts ?? instantExperts(() => onGenerate?.(other)), gate: activeGate });
  t.after(async () => {
    await router.close(100);
    await store.close(); // resolves once the checkpoint worker has closed its connection, before the dir is removed
    other.close();
    tmp.remove();
  });
  return { router, store, other };
}

const statusOf = (db: BetterSqlite3.Database, id: string): string | undefined =>
  (db.prepare('SELECT status FROM decisions WHERE id = ?').get(id) as { status: string } | undefined)?.status;

test('generation starts only once the pending row is committed: another connection already sees it', async (t) => {
  const seen: (string | undefined)[] = [];
  const { router } = setup(t, (other) => {
    const row = other.prepare("SELECT status FROM decisions WHERE platform = 'cli' ORDER BY created_at DESC LIMIT 1").get() as { status: string } | undefined;
    seen.push(row?.status);
  });
  await router.ask('how do I spot a phishing email', { platform: 'cli', userId: 'u1' });
  assert.deepEqual(seen, ['pending']);
});

test('concurrent questions share commits; every row is there and answered, for this store at once and for others after the turn', async (t) => {
  const { router, store, other } = setup(t);
  const questions = ['how do I spot a phishing email', 'what is a good way to save for retirement', 'how much sleep do adults need', 'recommend a good movie'];
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => router.ask(`${questions[i % 4]} (${i})`, { platform: 'http', userId: `user${i}` })));
  assert.equal(new Set(results.map((r) => r.decisionId)).size, 100);
  assert.ok(results.every((r) => store.getDecision(r.decisionId)?.status === 'answered'), 'this store reads its own writes');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(other.prepare("SELECT status, COUNT(*) AS n FROM decisions WHERE platform = 'http' GROUP BY status").all(), [{ status: 'answered', n: 100 }]);
});

test('a vote is committed before feedback() returns; an unknown decision is not_found', async (t) => {
  const { router, other } = setup(t);
  const r = await router.ask('what is a good way to save for retirement', { platform: 'discord', userId: 'u1' });
  assert.equal(router.feedback(r.decisionId, 'voter', -1, 'cybersecurity').replaced, false);
  // No await: another process reading now sees the vote, and the completion committed with it.
  assert.deepEqual(other.prepare('SELECT user_id, vote, corrected_expert FROM feedback WHERE decision_id = ?').all(r.decisionId),
    [{ user_id: 'voter', vote: -1, corrected_expert: 'cybersecurity' }]);
  assert.equal(statusOf(other, r.decisionId), 'answered');
  assert.equal(router.feedback(r.decisionId, 'voter', 1).replaced, true);
  assert.equal((other.prepare('SELECT vote FROM feedback WHERE decision_id = ?').get(r.decisionId) as { vote: number }).vote, 1);
  assert.throws(() => router.feedback('no-such-decision', 'voter', 1), (e: unknown) => e instanceof RouterError && e.code === 'not_found');
});

test('an answer is committed before ask() returns: another process already sees it answered (a crash cannot lose it)', async (t) => {
  const { router, other } = setup(t);
  const r = await router.ask('how much sleep do adults need', { platform: 'slack', userId: 'u1' });
  assert.equal(statusOf(other, r.decisionId), 'answered');
  const many = await Promise.all([1, 2, 3].map((i) => router.ask(`how much sleep do adults need (${i})`, { platform: 'slack', userId: 'u1' })));
  for (const m of many) assert.equal(statusOf(other, m.decisionId), 'answered', 'answers in flight together share a commit, still before they return');
});

test('when describing the answer fails (an expert missing from the registry), the row is failed, never answered, and the caller gets the error', async (t) => {
  const experts = instantExperts();
  const registered = experts.info;
  // Only finance and the fallback are registered: the finance answer's runner-up cannot be described.
  experts.info = (id) => {
    if (id !== 'finance' && id !== 'general') throw new ExpertError('invalid_expert', id, `no expert "${id}" in the registry`);
    return registered(id);
  };
  const { router, store } = setup(t, undefined, experts);
  const question = 'what is a good way to save for retirement';
  assert.equal(testGate().route(question).expert, 'finance');
  await assert.rejects(router.ask(question, { platform: 'http', userId: 'u1' }), (e: unknown) => e instanceof RouterError && e.code === 'invalid_expert');
  const rows = store.db.prepare("SELECT status, error FROM decisions WHERE user_id = 'u1'").all() as { status: string; error: string }[];
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.status, 'failed');
  assert.match(rows[0]!.error, /^invalid_expert: no expert/);
});
