/** When the chosen expert cannot answer, the fallback expert does, and the decision says why. Real experts throughout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouterError } from '../../src/core/errors.js';
import { createTestApp } from '../support/testApp.js';

const FINANCE_Q = 'my card got declined at the shop but I have money in my account';

test('an unavailable expert (its model file is missing): the general expert answers, reason expert_unavailable', async (t) => {
  const app = await createTestApp({}, { maxTokens: 12, registry: { finance: { model: 'missing-finance.gguf' } } });
  t.after(() => app.dispose());
  const r = await app.router.ask(FINANCE_Q, { platform: 'discord', userId: 'u1' });
  assert.equal(r.expert.id, 'general');
  assert.equal(r.fallbackReason, 'expert_unavailable');
  assert.ok(r.response.length > 0);
  const row = app.store.getDecision(r.decisionId)!;
  assert.equal(row.gateExpert, 'finance', 'the gate choice is kept');
  assert.equal(row.expert, 'general');
  assert.equal(row.fallbackReason, 'expert_unavailable');
  assert.equal(row.status, 'answered');
  const finance = app.router.expertStatus().find((s) => s.id === 'finance')!;
  assert.equal(finance.state, 'unavailable');
  assert.match(finance.unavailableReason ?? '', /missing-finance\.gguf/);
});

test('a busy expert: the next question goes to the general expert; when that is busy too, a clear expert_busy error', async (t) => {
  // One question at a time per expert, nobody waits: the second finance question finds finance busy.
  const app = await createTestApp({ EXPERT_BATCH_SIZE: '1', EXPERT_QUEUE_LIMIT: '0' }, { maxTokens: 12 });
  t.after(() => app.dispose());
  const results = await Promise.allSettled([1, 2, 3].map((i) => app.router.ask(`${FINANCE_Q} (${i})`, { platform: 'http', userId: null })));
  const answered = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
  assert.deepEqual(answered.map((r) => [r.expert.id, r.fallbackReason]).sort(), [['finance', null], ['general', 'expert_busy']]);
  assert.equal(failed.length, 1);
  const err = failed[0];
  assert.ok(err instanceof RouterError);
  assert.equal(err.code, 'expert_busy');
  assert.ok((err.retryAfterSec ?? 0) > 0, 'busy errors say when to retry');
  const stats = app.store.stats();
  assert.deepEqual(stats.byStatus, { pending: 0, answered: 2, failed: 1, cancelled: 0 }, 'the refused question is logged as failed, not lost');
  // The fallback's row says what happened to the chosen expert; the chosen expert's own answer has no error.
  const general = app.store.getDecision(answered.find((r) => r.expert.id === 'general')!.decisionId)!;
  assert.equal(general.status, 'answered');
  assert.match(general.error ?? '', /^expert_busy: /);
  assert.equal(app.store.getDecision(answered.find((r) => r.expert.id === 'finance')!.decisionId)!.error, null);
});

test('a question cancelled by its caller is logged as cancelled', async (t) => {
  const app = await createTestApp({}, { maxTokens: 12 });
  t.after(() => app.dispose());
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(app.router.ask(FINANCE_Q, { platform: 'http', userId: null, signal: abort.signal }), (err: unknown) => {
    assert.ok(err instanceof RouterError);
    assert.equal(err.code, 'cancelled');
    return true;
  });
  const stats = app.store.stats();
  assert.equal(stats.byStatus.cancelled, 1);
  assert.equal(stats.byStatus.failed, 0);
});

test('shutting down: questions after close() are refused with shutting_down', async () => {
  const app = await createTestApp({}, { maxTokens: 12 });
  await app.close();
  await assert.rejects(app.router.ask(FINANCE_Q, { platform: 'http', userId: null }), (err: unknown) => err instanceof RouterError && err.code === 'shutting_down');
  await app.dispose();
});

test('a question longer than the expert\'s context: HTTP 400 "too long for Finance Expert", logged failed prompt_too_long, no fallback', async (t) => {
  const app = await createTestApp({}, { maxTokens: 12, registry: { finance: { generation: { contextSize: 256 } } } });
  t.after(() => app.dispose());
  const query = Array.from({ length: 40 }, (_, i) => `my card got declined at the shop but I have money in my account (${i})`).join(' ');
  const res = await app.http.inject({ method: 'POST', url: '/predict', payload: { query, userId: 'long' } });
  assert.equal(res.statusCode, 400, res.body);
  const body = JSON.parse(res.body) as { error: string; message: string };
  assert.equal(body.error, 'prompt_too_long');
  assert.match(body.message, /too long for Finance Expert/);
  const rows = app.store.db.prepare("SELECT expert, gate_expert, fallback_reason, status, error FROM decisions WHERE user_id = 'long'").all();
  assert.equal(rows.length, 1);
  assert.deepEqual({ ...rows[0] as Record<string, unknown>, error: undefined }, {
    expert: 'finance', gate_expert: 'finance', fallback_reason: null, status: 'failed', error: undefined,
  });
  assert.match((rows[0] as { error: string }).error, /^prompt_too_long: /);
  assert.equal(app.router.expertStatus().find((s) => s.id === 'finance')!.state, 'loaded', 'a long question does not break the expert');
});
