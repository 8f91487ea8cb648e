/**
 * A /v1 request that names an expert (`model: "finance"`) is a forced choice, not a fallback: README promises forced
 * answers do not count in the fallback rate. /stats already agreed; the dashboard, its filter and /metrics must too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { ADMIN_TOKEN } from './helpers.js';

interface Json {
  [key: string]: unknown;
}

let app: TestApp;
let forcedId: string;
let offTopicId: string;

before(async () => {
  app = await createTestApp({ ADMIN_TOKEN }, { maxTokens: 4 });
  const forced = await app.http.inject({
    method: 'POST', url: '/v1/chat/completions',
    payload: { model: 'finance', messages: [{ role: 'user', content: 'my gums bleed when i floss, should i see a dentist' }] },
  });
  assert.equal(forced.statusCode, 200, forced.body);
  forcedId = (forced.json<{ moe: { decisionId: string; fallbackReason: string } }>()).moe.decisionId;
  assert.equal(forced.json<{ moe: { fallbackReason: string } }>().moe.fallbackReason, 'forced');
  const offTopic = await app.http.inject({ method: 'POST', url: '/predict', payload: { query: 'whats a good recipe for banana bread with walnuts' } });
  assert.equal(offTopic.statusCode, 200, offTopic.body);
  const body = offTopic.json<{ decisionId: string; fallback: boolean }>();
  assert.equal(body.fallback, true, 'an off-topic question falls back');
  offTopicId = body.decisionId;
});
after(() => app.dispose());

async function adminGet(url: string): Promise<Json> {
  const res = await app.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<Json>();
}

test('/stats: one fallback out of two questions (the forced answer is not one)', () => {
  const stats = app.core.stats();
  assert.equal(stats.total, 2);
  assert.equal(stats.fallbackRate, 0.5);
});

test('dashboard summary and time series count the off-topic fallback only', async () => {
  const s = await adminGet('/admin/api/summary');
  assert.equal(s.decisions, 2);
  assert.equal(s.fallbacks, 1);
  assert.equal(s.fallbackRate, 0.5);
  const ts = await adminGet('/admin/api/timeseries?range=24h&bucket=hour') as { fallbacks: number[]; totals: number[] };
  assert.equal(ts.totals.reduce((a, b) => a + b, 0), 2);
  assert.equal(ts.fallbacks.reduce((a, b) => a + b, 0), 1);
});

test('recent decisions: fallback=true lists the off-topic answer, fallback=false the forced one', async () => {
  const ids = async (q: string): Promise<string[]> =>
    ((await adminGet(`/admin/api/decisions?${q}`)).decisions as { id: string }[]).map((d) => d.id);
  assert.deepEqual(await ids('fallback=true'), [offTopicId]);
  assert.deepEqual(await ids('fallback=false'), [forcedId]);
});

test('/metrics: moe_fallbacks_total has the off-topic fallback and no forced one', async () => {
  const text = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(text, /^moe_fallbacks_total\{reason="off_topic"\} 1$/m);
  assert.doesNotMatch(text, /moe_fallbacks_total\{reason="forced"\}/);
});
