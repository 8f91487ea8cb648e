/** Router.ask end to end: real gate, real node-llama-cpp demo experts, real SQLite file. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RouterError } from '../../src/core/errors.js';
import { Store } from '../../src/store/Store.js';
import { createTestApp, testGate, type TestApp } from '../support/testApp.js';
import { readVotes } from '../../src/store/TrainingLog.js';
import { GateVersions } from '../../src/store/GateVersions.js';

let app: TestApp;

before(async () => {
  app = await createTestApp({}, { maxTokens: 24 });
});
after(() => app.dispose());

async function rejects(p: Promise<unknown>, code: string): Promise<RouterError> {
  let caught: unknown;
  await p.catch((err: unknown) => {
    caught = err;
  });
  assert.ok(caught instanceof RouterError, `expected RouterError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** First of `candidates` the real gate routes with `reason`; fails loudly if the gate routes none that way. */
function questionWithReason(reason: 'off_topic' | 'unsure', candidates: string[]): string {
  const q = candidates.find((c) => testGate().route(c).fallbackReason === reason);
  assert.ok(q, `the gate routed none of ${JSON.stringify(candidates)} as ${reason}`);
  return q;
}

test('a finance question is answered by the finance expert, and the decision is logged as answered', async () => {
  const chunks: string[] = [];
  const decisions: string[] = [];
  const r = await app.router.ask('  My card got declined at the shop but I have money in my account\u0007 ', {
    platform: 'discord', userId: 'u1', channelId: 'c1',
    onTextChunk: (t) => chunks.push(t),
    onDecision: (d) => decisions.push(`${d.decisionId}:${d.expert.id}:${chunks.length}`),
  });
  assert.equal(r.expert.id, 'finance');
  assert.equal(r.fallbackReason, null);
  assert.ok(r.confidence > 0.5 && r.confidence <= 1);
  assert.ok(r.response.length > 0);
  assert.equal(chunks.join(''), r.response, 'streamed chunks add up to the answer');
  assert.deepEqual(decisions, [`${r.decisionId}:finance:0`], 'the decision is announced once, before the first chunk');
  assert.equal(r.demo, true);
  assert.notEqual(r.runnerUp.id, 'finance');
  assert.equal(r.reroutedFrom, null);
  assert.equal(r.feedbackWanted, false, 'a confident route needs no invitation to vote');

  const row = app.store.getDecision(r.decisionId)!;
  assert.equal(row.status, 'answered');
  assert.equal(row.platform, 'discord');
  assert.equal(row.userId, 'u1');
  assert.equal(row.channelId, 'c1');
  assert.equal(row.query, 'My card got declined at the shop but I have money in my account', 'trimmed, control characters stripped');
  assert.equal(row.expert, 'finance');
  assert.equal(row.gateExpert, 'finance');
  assert.equal(row.gateVersion, app.router.gateVersion());
  assert.equal(row.answer, r.response);
  assert.ok((row.completionTokens ?? 0) > 0);
  assert.ok(row.latencyMs !== null && row.latencyMs >= 0);
  assert.ok(Math.abs(Object.values(row.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('empty, whitespace-only, control-character-only and overlong questions get clear errors and no decision', async () => {
  const before = app.store.stats().total;
  for (const q of ['', '   \n\t ', '\u0000\u0001\u0007']) {
    const err = await rejects(app.router.ask(q, { platform: 'cli', userId: 'u2' }), 'empty_query');
    assert.match(err.message, /empty/);
  }
  const long = 'a'.repeat(app.config.maxQueryChars + 1);
  const err = await rejects(app.router.ask(long, { platform: 'cli', userId: 'u2' }), 'query_too_long');
  assert.match(err.message, new RegExp(`at most ${app.config.maxQueryChars} characters`));
  assert.equal(app.store.stats().total, before, 'nothing was logged or generated');
});

test('an off-topic question goes to the general expert with the reason recorded', async () => {
  const q = questionWithReason('off_topic', ['how do I bake sourdough bread', 'recommend a good movie', 'what is the weather like tomorrow']);
  const r = await app.router.ask(q, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.equal(r.expert.isFallback, true);
  assert.equal(r.fallbackReason, 'off_topic');
  const row = app.store.getDecision(r.decisionId)!;
  assert.equal(row.fallbackReason, 'off_topic');
  assert.equal(row.label, 'none');
});

test('a question the gate is unsure about goes to the general expert with reason "unsure"', async () => {
  const q = questionWithReason('unsure', ['hello', 'ok', 'hmm', '??', 'qwxz']);
  const r = await app.router.ask(q, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.equal(r.fallbackReason, 'unsure');
  assert.equal(r.feedbackWanted, r.confidence < 0.5, 'a vote is invited when the gate is below 50%');
  assert.equal(app.store.getDecision(r.decisionId)!.fallbackReason, 'unsure');
});

test('reroute answers the same question with another expert and links the decisions', async () => {
  const first = await app.router.ask('how do I know if an email is phishing', { platform: 'slack', userId: 'u3' });
  const second = await app.router.reroute(first.decisionId, 'healthcare', { platform: 'slack', userId: 'u3' });
  assert.equal(second.expert.id, 'healthcare');
  assert.equal(second.reroutedFrom, first.decisionId);
  assert.equal(second.feedbackWanted, true, 'a vote on a re-asked answer is a correction: always invited');
  assert.notEqual(second.decisionId, first.decisionId);
  const row = app.store.getDecision(second.decisionId)!;
  assert.equal(row.reroutedFrom, first.decisionId);
  assert.equal(row.query, 'how do I know if an email is phishing');
  assert.equal(row.status, 'answered');
  await rejects(app.router.reroute('no-such-decision', 'finance', { platform: 'slack', userId: 'u3' }), 'not_found');
  // @ts-expect-error an id from outside (a button payload) may name no expert
  await rejects(app.router.reroute(first.decisionId, 'astrology', { platform: 'slack', userId: 'u3' }), 'invalid_expert');
});

test('feedback: one vote per user and decision, a second replaces the first, corrections and admin flag kept', async () => {
  const r = await app.router.ask('what is a good way to save for retirement', { platform: 'discord', userId: 'u4' });
  const first = app.router.feedback(r.decisionId, 'voter', 1);
  assert.deepEqual(first, { decisionId: r.decisionId, vote: 1, correctedExpert: null, replaced: false });
  const second = app.router.feedback(r.decisionId, 'voter', -1, 'healthcare', { admin: true });
  assert.equal(second.replaced, true);
  app.router.feedback(r.decisionId, 'other', 1);
  const votes = readVotes(app.store).filter((v) => v.decisionId === r.decisionId);
  assert.equal(votes.length, 2);
  const mine = votes.find((v) => v.userId === 'voter')!;
  assert.equal(mine.vote, -1);
  assert.equal(mine.correctedExpert, 'healthcare');
  assert.equal(mine.isAdmin, true);
  assert.equal(mine.query, 'what is a good way to save for retirement');

  assert.throws(() => app.router.feedback('nope', 'voter', 1), (e: unknown) => e instanceof RouterError && e.code === 'not_found');
  // @ts-expect-error votes from outside may be anything
  assert.throws(() => app.router.feedback(r.decisionId, 'voter', 2), (e: unknown) => e instanceof RouterError && e.code === 'invalid_vote');
  // @ts-expect-error corrections from outside may name no expert
  assert.throws(() => app.router.feedback(r.decisionId, 'voter', -1, 'astrology'), (e: unknown) => e instanceof RouterError && e.code === 'invalid_expert');
});

test('message links and delivery claims survive a restart of the store', async () => {
  const r = await app.router.ask('how often should I change my passwords', { platform: 'slack', userId: 'u5' });
  app.core.attachMessage(r.decisionId, 'slack', 'C1:1700000000.000100');
  assert.equal(app.core.findDecisionByMessage('slack', 'C1:1700000000.000100'), r.decisionId);
  assert.equal(app.core.findDecisionByMessage('discord', 'C1:1700000000.000100'), null);
  assert.equal(app.core.claimDelivery('slack', ['Ev1', 'C1:1.2']), true);
  assert.equal(app.core.claimDelivery('slack', ['Ev1']), false, 'same event id');
  assert.equal(app.core.claimDelivery('slack', ['Ev2', 'C1:1.2']), false, 'same message, new event id (a retry)');
  assert.equal(app.core.claimDelivery('discord', ['Ev1']), true, 'claims are per platform');

  // A second connection to the same file sees them, as the bot would after a restart.
  const reopened = Store.open(app.config.dbPath, { keepText: true });
  try {
    assert.equal(reopened.findDecisionByMessage('slack', 'C1:1700000000.000100'), r.decisionId);
    assert.equal(reopened.claimDelivery('slack', ['Ev1']), false);
    assert.equal(reopened.claimDelivery('slack', ['Ev3']), true);
  } finally {
    reopened.close();
  }
});

test('stats count decisions by expert, fallbacks and votes', () => {
  const s = app.core.stats();
  assert.ok(s.total >= 5);
  assert.equal(Object.values(s.decisionsByExpert).reduce((a, b) => a + b, 0), s.total);
  assert.ok(s.fallbackRate > 0 && s.fallbackRate < 1);
  assert.ok(s.votes >= 2);
  assert.equal(s.gateVersion, app.router.gateVersion());
});

test('a swapped gate routes the next question; the version is recorded per decision', async () => {
  const original = app.activeGate.current();
  const renamed = { version: 'test-swapped', route: (text: string) => ({ ...original.route(text), gateVersion: 'test-swapped' }) };
  app.activeGate.swap(renamed);
  try {
    const r = await app.router.ask('how do I pay off credit card debt', { platform: 'cli', userId: null });
    assert.equal(app.store.getDecision(r.decisionId)!.gateVersion, 'test-swapped');
    assert.equal(app.router.gateVersion(), 'test-swapped');
  } finally {
    app.activeGate.swap(original);
  }
});

test('retrain is delegated to the app\'s retrainer: its report names a version it recorded', async () => {
  const report = await app.core.retrain({ requestedBy: 'test' });
  assert.equal(typeof report.promoted, 'boolean');
  assert.ok(report.reason.length > 0 && report.examplesUsed > 0, JSON.stringify(report));
  const recorded = new GateVersions(app.store).list().find((v) => v.version === report.version);
  assert.ok(recorded, `version ${report.version} is in gate_versions`);
  assert.equal(recorded.promoted, report.promoted);
});

test('a lone UTF-16 surrogate over HTTP is stored as U+FFFD (valid UTF-8) and text is NFC', async () => {
  const res = await app.http.inject({
    method: 'POST', url: '/predict', payload: { query: 'is my password safe\ud800 with cafe\u0301 wifi', userId: 'surrogate' },
  });
  assert.equal(res.statusCode, 200, res.body);
  const { decisionId } = JSON.parse(res.body) as { decisionId: string };
  const row = app.store.getDecision(decisionId)!;
  assert.equal(row.query, 'is my password safe\ufffd with caf\u00e9 wifi');
  const hex = (app.store.db.prepare('SELECT hex(query) AS h FROM decisions WHERE id = ?').get(decisionId) as { h: string }).h;
  assert.ok(hex.includes('EFBFBD'), 'U+FFFD in UTF-8');
  assert.ok(!hex.includes('EDA080'), 'no surrogate bytes (invalid UTF-8)');
});

test('a lone UTF-16 surrogate in an id (userId, conversationId, /v1 user) is a clear 400; no id is stored as invalid UTF-8', async () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['/predict', { query: 'can someone hack my smart fridge', userId: 'ann\ud800ie' }, 'userId'],
    ['/predict', { query: 'can someone hack my smart fridge', conversationId: 'chat-\udc00-1' }, 'conversationId'],
    ['/v1/chat/completions', { model: 'moe-router', user: 'ann\ud800ie', messages: [{ role: 'user', content: 'can someone hack my smart fridge' }] }, 'user'],
    ['/feedback', { decisionId: 'any', vote: 'up', userId: 'ann\ud800ie' }, 'userId'],
  ];
  const before = (app.store.db.prepare('SELECT COUNT(*) AS n FROM decisions').get() as { n: number }).n;
  for (const [url, payload, field] of cases) {
    const res = await app.http.inject({ method: 'POST', url, payload });
    assert.equal(res.statusCode, 400, `${url} ${field}: ${res.body}`);
    const body = JSON.parse(res.body) as { message?: string; error: string | { message: string } };
    const message = typeof body.error === 'object' ? body.error.message : body.message!;
    assert.match(message, new RegExp(field), `${url}: the message names ${field}`);
  }
  assert.equal((app.store.db.prepare('SELECT COUNT(*) AS n FROM decisions').get() as { n: number }).n, before, 'nothing was asked');
  const bad = app.store.db.prepare(`SELECT (SELECT COUNT(*) FROM decisions WHERE hex(user_id) GLOB '*ED[AB]*')
    + (SELECT COUNT(*) FROM conversations WHERE hex(key) GLOB '*ED[AB]*') AS n`).get() as { n: number };
  assert.equal(bad.n, 0, 'no surrogate bytes in user ids or conversation keys');
});

test('a vote on a cancelled question is refused with a clear error, over HTTP too; nothing is recorded', async () => {
  const abort = new AbortController();
  const asked = app.router.ask('how do I treat a mild fever', {
    platform: 'http', userId: 'u9', signal: abort.signal, onDecision: () => abort.abort(),
  });
  const err = await rejects(asked, 'cancelled');
  assert.match(err.message, /cancelled/);
  const failed = readLatest('u9');
  assert.equal(failed.status, 'cancelled');
  const refused = await rejects(Promise.resolve().then(() => app.router.feedback(failed.id, 'voter', 1)), 'invalid_vote');
  assert.match(refused.message, /cancelled before its answer was complete.*nothing to rate/);
  const res = await app.http.inject({ method: 'POST', url: '/feedback', payload: { decisionId: failed.id, userId: 'voter', vote: 'up' } });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal((JSON.parse(res.body) as { error: string }).error, 'invalid_vote');
  assert.equal(readVotes(app.store).filter((v) => v.decisionId === failed.id).length, 0);
});

test('decision ids are UUIDv7: they sort in the order the questions were asked and carry the time', async () => {
  const before = Date.now();
  const ids: string[] = [];
  for (const q of ['what is a stock', 'what is a bond', 'what is an index fund']) ids.push((await app.router.ask(q, { platform: 'cli', userId: null })).decisionId);
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= Date.now(), 'the first 48 bits are the creation time in ms');
  }
  assert.deepEqual([...ids].sort(), ids);
});

function readLatest(userId: string): { id: string; status: string } {
  return app.store.db.prepare('SELECT id, status FROM decisions WHERE user_id = ? ORDER BY created_at DESC LIMIT 1').get(userId) as { id: string; status: string };
}
