/**
 * Experts on serving engines, against a loopback engine that follows OpenAI's streaming format: answers, what the
 * engine receives, and each way an engine fails (500, hang past the timeout, malformed chunk, reset mid-stream, wrong
 * key, refused connection) as the user and the decision log see it, through the real router and demo fallback expert.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import type { ExpertPool } from '../../src/experts/ExpertPool.js';
import type { EndpointStatus } from '../../src/experts/types.js';
import { RouterError } from '../../src/core/errors.js';
import type { ExpertId } from '../../src/gate/types.js';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine.js';
import { createTestApp, testConfig, type TestApp } from '../support/testApp.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { tempDir } from './helpers.js';

const FINANCE_QUESTION = 'what is a good way to save for retirement';

/** A demo registry in `dir` whose `id` expert is served by `endpoint` instead. */
async function remoteRegistry(dir: string, id: ExpertId, endpoint: Record<string, unknown>, generation: Record<string, number> = {}): Promise<string> {
  const file = await writeDemoRegistry(dir, { maxTokens: 16 });
  const raw = JSON.parse(await readFile(file, 'utf8')) as { experts: Record<string, unknown>[] };
  for (const e of raw.experts) {
    if (e.id !== id) continue;
    delete e.model;
    e.endpoint = endpoint;
    e.generation = { ...(e.generation as object), ...generation };
  }
  await writeFile(file, JSON.stringify(raw, null, 2));
  return file;
}

function endpointOf(pool: ExpertPool, id: ExpertId): EndpointStatus {
  const s = pool.status().find((x) => x.id === id)?.endpoint;
  assert.ok(s, `${id} is an endpoint expert`);
  return s;
}

/** Waits for the endpoint to reach `health` (the background probe's positive signal). */
async function health(pool: ExpertPool, id: ExpertId, want: EndpointStatus['health']): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (endpointOf(pool, id).health === want) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`${id} never became ${want}: ${JSON.stringify(endpointOf(pool, id))}`);
}

interface Harness {
  engine: FakeEngine;
  pool: ExpertPool;
  app: TestApp;
  warnings: string[];
}

async function harness(t: Parameters<typeof tempDir>[0], opts: { apiKey?: string; engineKey?: string; timeoutSeconds?: number; maxModelLen?: number; contextSize?: number } = {}): Promise<Harness> {
  const dir = await tempDir(t);
  const engine = await startFakeEngine({
    model: 'fin-8b', answer: 'Save early, spread your investments and keep costs low.',
    ...(opts.engineKey ? { apiKey: opts.engineKey } : {}), ...(opts.maxModelLen ? { maxModelLen: opts.maxModelLen } : {}),
  });
  t.after(() => engine.stop().catch(() => undefined));
  if (opts.apiKey) process.env.MOE_TEST_ENGINE_KEY = opts.apiKey;
  const registryPath = await remoteRegistry(dir, 'finance', {
    baseUrl: engine.baseUrl, model: 'fin-8b', maxConcurrent: 2, ...(opts.apiKey ? { apiKeyEnv: 'MOE_TEST_ENGINE_KEY' } : {}),
  }, { ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}), ...(opts.contextSize ? { contextSize: opts.contextSize } : {}) });
  const warnings: string[] = [];
  const pool = await createExpertPool(testConfig(dir), { registryPath, warn: (m) => warnings.push(m), probeBackoff: { minMs: 20, maxMs: 200 } });
  const app = await createTestApp({}, { experts: pool, disposeExperts: true });
  t.after(() => app.dispose());
  return { engine, pool, app, warnings };
}

test('an endpoint expert answers through the engine, streamed; the engine gets the prompt, history and settings', async (t) => {
  const { engine, pool, app } = await harness(t, { apiKey: 'sk-engine', engineKey: 'sk-engine', maxModelLen: 100_000 });
  await health(pool, 'finance', 'up');
  const chunks: string[] = [];
  const r = await app.router.ask(FINANCE_QUESTION, {
    platform: 'http', userId: null, onTextChunk: (c) => chunks.push(c),
    history: [{ question: 'I am 30', answer: 'Good time to start.' }],
    systemPrompt: 'Be brief.', generation: { maxTokens: 5, temperature: 0.2 },
  });
  assert.equal(r.expert.id, 'finance');
  assert.equal(r.fallbackReason, null);
  assert.equal(r.response, 'Save early, spread your investments');
  assert.ok(chunks.length >= 5, 'streamed chunk by chunk');
  assert.equal(r.completionTokens, 5, 'usage from the engine');
  assert.equal(r.finishReason, 'length', 'the engine said max_tokens cut the answer');
  const call = engine.calls.find((c) => c.path === '/v1/chat/completions')!;
  assert.equal(call.authorization, 'Bearer sk-engine');
  assert.equal(call.body?.model, 'fin-8b');
  assert.equal(call.body?.stream, true);
  assert.equal(call.body?.max_tokens, 5);
  assert.equal(call.body?.temperature, 0.2);
  const messages = call.body?.messages as { role: string; content: string }[];
  assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.match(messages[0]!.content, /^You are the finance expert\.\n\nBe brief\.$/);
  assert.equal(messages[3]!.content, FINANCE_QUESTION);
  const row = app.store.getDecision(r.decisionId)!;
  assert.equal(row.status, 'answered');
  assert.equal(row.expert, 'finance');
  assert.equal(endpointOf(pool, 'finance').health, 'up');
});

test('with an endpoint expert, the local fallback expert is loaded at start, before any failover needs it', async (t) => {
  const { pool } = await harness(t);
  const state = (): string | undefined => pool.status().find((e) => e.id === 'general')?.state;
  for (let i = 0; i < 3_000 && state() !== 'loaded'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(state(), 'loaded', 'loaded without a question asked');
  assert.equal(pool.status().find((e) => e.id === 'healthcare')?.state, 'unloaded', 'the other local experts still load on first use');
});

test('history beyond the expert\'s context is trimmed, oldest first', async (t) => {
  const { engine, pool, app } = await harness(t, { contextSize: 512 });
  await health(pool, 'finance', 'up');
  // Newest first, as the router passes it: turn 19 is the latest.
  const history = Array.from({ length: 20 }, (_, i) => ({ question: `question ${19 - i} `.repeat(10), answer: `answer ${19 - i} `.repeat(10) }));
  await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null, history });
  const messages = engine.calls.find((c) => c.path === '/v1/chat/completions')!.body?.messages as { role: string; content: string }[];
  assert.ok(messages.length > 4 && messages.length < 42, `kept ${(messages.length - 2) / 2} turns`);
  assert.match(messages.at(-3)!.content, /^question 19 /, 'the newest turn is kept');
  assert.match(messages.at(-2)!.content, /^answer 19 /);
  assert.match(messages[1]!.content, /^question \d+ /, 'whole turns, oldest kept first in the prompt');
  const chars = messages.reduce((n, m) => n + m.content.length, 0);
  assert.ok(chars / 4 < 512, `about ${chars / 4} tokens`);
});

test('a newest turn larger than the history budget (a pasted log) goes to the engine cut to fit, not dropped with the rest', async (t) => {
  const { engine, pool, app } = await harness(t, { contextSize: 2048 });
  await health(pool, 'finance', 'up');
  const pasted = { question: `my statement says: ${'interest charged on the balance 19.99% '.repeat(5_000)}`, answer: 'That is your purchase APR.' };
  await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null, history: [pasted, { question: 'hi', answer: 'hello' }] });
  const messages = engine.calls.find((c) => c.path === '/v1/chat/completions')!.body?.messages as { role: string; content: string }[];
  assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user'], 'the newest turn only');
  assert.match(messages[1]!.content, /^my statement says: interest charged on the balance 19\.99% .* \[…\]$/s);
  assert.equal(messages[2]!.content, 'That is your purchase APR.');
  assert.ok(messages[1]!.content.length / 4 <= 2048 / 4, `within the history budget: ${messages[1]!.content.length} characters`);
});

/** Each failure before text: the fallback answers, the row says so, the endpoint is marked down. */
/** `probed`: what the endpoint's state says once the background probe (GET /models) has failed too, when it words it otherwise. */
for (const [name, mode, expected, probed] of [
  ['500', { kind: 'status', status: 500 }, /answered 500/, null],
  ['a malformed chunk', { kind: 'malformed' }, /malformed stream chunk/, null],
  ['a connection reset', { kind: 'reset' }, /broke mid-answer|cannot reach/, null],
  ['a stream that ends without an answer', { kind: 'truncated' }, /ended the stream without an answer/, /malformed stream chunk|ended the stream/],
  ['a stream that ends cleanly but unfinished', { kind: 'truncated', goodChunks: 2 }, /ended the stream before the answer was complete/, /malformed stream chunk|ended the stream/],
  ['a 200 JSON error instead of a stream', { kind: 'status', status: 200, body: { error: { message: 'model is loading, retry' } } }, /answered application\/json: "model is loading, retry", not an event stream/, /not a model list/],
  ['an HTML page (a baseUrl that is not the engine\'s /v1)', { kind: 'html' }, /answered text\/html, not an event stream/, /answered (GET \/models with )?text\/html, not (an event stream|a model list)/],
] as const) {
  test(`an engine that fails with ${name} before any text: the fallback expert answers, the row says so`, async (t) => {
    const { engine, pool, app, warnings } = await harness(t);
    await health(pool, 'finance', 'up');
    engine.setMode(mode);
    const r = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
    assert.equal(r.expert.id, 'general');
    assert.equal(r.fallbackReason, 'expert_unavailable');
    assert.ok(r.response.length > 0);
    const row = app.store.getDecision(r.decisionId)!;
    assert.equal(row.status, 'answered');
    assert.equal(row.gateExpert, 'finance');
    assert.equal(row.expert, 'general');
    assert.equal(row.fallbackReason, 'expert_unavailable');
    assert.match(row.error ?? '', expected, 'the row says what happened to the engine');
    const ep = endpointOf(pool, 'finance');
    assert.equal(ep.health, 'down');
    assert.match(ep.lastError ?? '', probed ?? expected);
    assert.ok(warnings.some((w) => /expert finance unavailable/.test(w)), warnings.join('\n'));
    // While it is down, questions skip it at once (no request reaches the engine) ...
    const calls = engine.calls.filter((c) => c.path === '/v1/chat/completions').length;
    const again = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
    assert.equal(again.fallbackReason, 'expert_unavailable');
    assert.equal(engine.calls.filter((c) => c.path === '/v1/chat/completions').length, calls);
    // ... and the background probe picks up the recovery without a restart.
    engine.setMode({ kind: 'ok' });
    await health(pool, 'finance', 'up');
    assert.equal((await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null })).expert.id, 'finance');
  });
}

test('an engine that hangs past the expert timeout: the fallback answers; /healthz and /metrics show the endpoint down', async (t) => {
  const { engine, pool, app } = await harness(t, { timeoutSeconds: 0.5 });
  await health(pool, 'finance', 'up');
  engine.setMode({ kind: 'hang' });
  const r = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.equal(r.fallbackReason, 'expert_unavailable');
  assert.match(endpointOf(pool, 'finance').lastError ?? '', /took longer than 0\.5 s|did not answer in time/);
  assert.match(app.store.getDecision(r.decisionId)!.error ?? '', /took longer than 0\.5 s|did not answer in time/);
  const healthz = (await app.http.inject({ method: 'GET', url: '/healthz' })).json<{ status: string; reasons: string[]; experts: { id: string; available: boolean; endpoint: EndpointStatus | null }[] }>();
  const finance = healthz.experts.find((e) => e.id === 'finance')!;
  assert.equal(finance.available, false);
  assert.equal(finance.endpoint?.health, 'down');
  assert.equal(finance.endpoint?.baseUrl, engine.baseUrl);
  assert.equal(healthz.experts.find((e) => e.id === 'general')!.endpoint, null);
  assert.equal(healthz.status, 'degraded');
  assert.ok(healthz.reasons.some((r) => /^finance is unavailable: .*(took longer|did not answer)/.test(r)), healthz.reasons.join('\n'));
  const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, new RegExp(`moe_expert_endpoint_up\\{expert="finance",base_url="${engine.baseUrl.replace(/[.]/g, '\\.')}"\\} 0`));
});

test('whole answers in the shapes engines send are answers: finish_reason without [DONE], an empty answer; the endpoint stays up', async (t) => {
  const { engine, pool } = await harness(t);
  await health(pool, 'finance', 'up');
  engine.setMode({ kind: 'noDone' });
  const noDone = await pool.generate('finance', FINANCE_QUESTION);
  assert.equal(noDone.text, 'Save early, spread your investments and keep costs low.');
  engine.setMode({ kind: 'noDone', empty: true });
  const empty = await pool.generate('finance', FINANCE_QUESTION);
  assert.deepEqual([empty.text, empty.finishReason], ['', 'stop']);
  assert.equal(endpointOf(pool, 'finance').health, 'up');
});

test('an engine error in vLLM\'s own shape ({ object: "error", message }) keeps its message in the row', async (t) => {
  const { engine, pool, app } = await harness(t);
  await health(pool, 'finance', 'up');
  engine.setMode({ kind: 'status', status: 400, body: { object: 'error', message: 'best_of must be 1 when using greedy sampling', type: 'BadRequestError', code: 400 } });
  const r = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.match(app.store.getDecision(r.decisionId)!.error ?? '', /answered 400: 400 best_of must be 1 when using greedy sampling/);
  assert.equal(endpointOf(pool, 'finance').health, 'up', 'a 400 is about the request, not the engine');
  // FastAPI's validation error lists its problems under `detail`.
  engine.setMode({ kind: 'status', status: 422, body: { detail: [{ loc: ['body', 'messages'], msg: 'field required', type: 'missing' }] } });
  const r2 = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.match(app.store.getDecision(r2.decisionId)!.error ?? '', /answered 422: .*field required/);
});

test('a wrong key (401) and a refused connection: the fallback answers and the reason is shown', async (t) => {
  const { engine, pool, app } = await harness(t, { apiKey: 'sk-wrong', engineKey: 'sk-right' });
  const first = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.equal(first.expert.id, 'general');
  assert.equal(first.fallbackReason, 'expert_unavailable');
  assert.match(endpointOf(pool, 'finance').lastError ?? '', /rejected the API key \(401\)/);
  assert.match(app.store.getDecision(first.decisionId)!.error ?? '', /rejected the API key \(401\)/);

  const refused = await harness(t);
  await health(refused.pool, 'finance', 'up');
  await refused.engine.stop();
  const r = await refused.app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.equal(refused.app.store.getDecision(r.decisionId)!.fallbackReason, 'expert_unavailable');
  assert.match(endpointOf(refused.pool, 'finance').lastError ?? '', /refused the connection/);
  assert.match(refused.app.store.getDecision(r.decisionId)!.error ?? '', /refused the connection|cannot reach/); // a pooled socket may learn it first
  await refused.engine.restart();
  await health(refused.pool, 'finance', 'up');
  void engine;
});

test('a connection reset after text was shown ends the answer with a clear error; the row is failed with the reason', async (t) => {
  const { engine, pool, app } = await harness(t);
  await health(pool, 'finance', 'up');
  engine.setMode({ kind: 'reset', goodChunks: 3 });
  const chunks: string[] = [];
  await assert.rejects(app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null, onTextChunk: (c) => chunks.push(c) }), (err: unknown) => {
    assert.ok(err instanceof RouterError, String(err));
    assert.equal(err.code, 'expert_unavailable');
    return true;
  });
  assert.equal(chunks.join(''), 'Save early, spread ');
  const row = app.store.db.prepare("SELECT status, expert, error FROM decisions WHERE status != 'answered'").get() as { status: string; expert: string; error: string };
  assert.equal(row.status, 'failed');
  assert.equal(row.expert, 'finance');
  assert.match(row.error, /^expert_unavailable: .*connection to .* broke mid-answer \(the answer was cut off\)/);
});

test('a connection reset before a caller that waits for the whole answer saw any text: the fallback expert answers', async (t) => {
  const { engine, pool, app } = await harness(t);
  await health(pool, 'finance', 'up');
  engine.setMode({ kind: 'reset', goodChunks: 3 });
  const r = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.equal(r.fallbackReason, 'expert_unavailable');
  assert.ok(r.response.length > 0 && !r.response.startsWith('Save early'), r.response);
  const row = app.store.getDecision(r.decisionId)!;
  assert.deepEqual([row.status, row.gateExpert, row.expert, row.fallbackReason], ['answered', 'finance', 'general', 'expert_unavailable']);
});

test('maxConcurrent bounds the requests in flight; beyond it the bounded queue, then busy', async (t) => {
  const dir = await tempDir(t);
  const engine = await startFakeEngine({ model: 'm', chunkDelayMs: 30 });
  t.after(() => engine.stop());
  const registryPath = await remoteRegistry(dir, 'finance', { baseUrl: engine.baseUrl, model: 'm', maxConcurrent: 2 });
  const pool = await createExpertPool(testConfig(dir, { EXPERT_QUEUE_LIMIT: '1' }), { registryPath });
  t.after(() => pool.dispose());
  const running = [pool.generate('finance', 'a'), pool.generate('finance', 'b')];
  const waiting = pool.generate('finance', 'c');
  await engine.waitForCompletionCalls(2);
  assert.equal(pool.status().find((s) => s.id === 'finance')!.active, 2);
  assert.equal(pool.status().find((s) => s.id === 'finance')!.queued, 1);
  await assert.rejects(pool.generate('finance', 'd'), (err: unknown) => (err as { code?: string }).code === 'expert_busy');
  const results = await Promise.all([...running, waiting]);
  assert.ok(results.every((r) => r.text.length > 0));
  assert.equal(engine.calls.filter((c) => c.path === '/v1/chat/completions').length, 3);
});

/** The finance expert on an engine that streams 400 words, one per 25 ms: still streaming at its 3 s timeout (long enough that a loaded machine has shown text by then). */
async function streamingPastTimeout(t: Parameters<typeof tempDir>[0]): Promise<{ engine: FakeEngine; pool: ExpertPool }> {
  const dir = await tempDir(t);
  const engine = await startFakeEngine({ model: 'm', answer: 'word '.repeat(400), chunkDelayMs: 25 });
  t.after(() => engine.stop());
  const registryPath = await remoteRegistry(dir, 'finance', { baseUrl: engine.baseUrl, model: 'm' }, { timeoutSeconds: 3, maxTokens: 1000 });
  const pool = await createExpertPool(testConfig(dir), { registryPath, warn: () => undefined });
  return { engine, pool };
}

test('an engine still streaming at the expert timeout: the answer stops with expert_timeout and the engine sees the close', async (t) => {
  const { engine, pool } = await streamingPastTimeout(t);
  t.after(() => pool.dispose());
  const chunks: string[] = [];
  await assert.rejects(pool.generate('finance', 'talk for ten seconds', { onTextChunk: (c) => chunks.push(c) }), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'expert_timeout');
    assert.match((err as Error).message, /took longer than 3 s/);
    return true;
  });
  assert.ok(chunks.length > 0 && chunks.length < 400, `${chunks.length} chunks before the timeout`);
  const call = await engine.waitForCompletionCalls(1);
  for (let i = 0; i < 1_000 && !call.clientClosed; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(call.clientClosed, 'the engine saw the client go away');
});

test('an engine still streaming at the expert timeout, for a caller that waits for the whole answer: the fallback answers, the row keeps the timeout', async (t) => {
  const { pool } = await streamingPastTimeout(t);
  const app = await createTestApp({}, { experts: pool, disposeExperts: true });
  t.after(() => app.dispose());
  const r = await app.router.ask(FINANCE_QUESTION, { platform: 'http', userId: null });
  assert.equal(r.expert.id, 'general');
  assert.equal(r.fallbackReason, 'expert_unavailable');
  assert.ok(r.response.length > 0 && !r.response.startsWith('word'), r.response);
  const row = app.store.getDecision(r.decisionId)!;
  assert.deepEqual([row.status, row.gateExpert, row.expert], ['answered', 'finance', 'general']);
  assert.match(row.error ?? '', /^expert_timeout: .*took longer than 3 s/);
});
