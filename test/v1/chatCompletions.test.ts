/**
 * The OpenAI-compatible front door, driven by the real `openai` client over TCP against a real app (real gate, real demo
 * experts, SQLite file): models, streamed and plain completions, multi-turn, forced experts, errors, auth, abort.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import OpenAI from 'openai';
import { createTestApp, testConfig, type TestApp } from '../support/testApp.js';
import { writeDemoRegistry, writeLongAnswerModel } from '../support/writeDemoRegistry.js';
import { makeTempDir } from '../support/tempDir.js';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import type { DecisionRow } from '../../src/store/Store.js';
import { isLoopbackHost } from '../../adapters/http/v1/registerV1.js';

let app: TestApp;
let client: OpenAI;
let baseURL: string;

let models: { dir: string; remove(): void };

before(async () => {
  models = makeTempDir('moe-v1-models-');
  // The general expert never stops by itself, so its own maxTokens (24) is what ends its answers.
  const endless = await writeLongAnswerModel(models.dir);
  app = await createTestApp({ RATE_LIMIT_PER_USER: '2/min' }, { maxTokens: 24, registry: { general: { model: endless } } });
  baseURL = `${await app.http.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await app.dispose();
  models.remove();
});

interface Moe {
  decisionId: string;
  expert: string;
  confidence: number;
  fallbackReason: string | null;
  conversationId: string;
}

/** The `moe` object our replies add to OpenAI's shapes. */
function moeOf(body: object): Moe {
  const moe = (body as { moe?: Moe }).moe;
  assert.ok(moe, 'reply has a moe object');
  return moe;
}

function row(app: TestApp, id: string): DecisionRow {
  const r = app.store.getDecision(id);
  assert.ok(r, `decision ${id} is logged`);
  return r;
}

/** Polls the log until the decision leaves `pending` (the positive signal that the router finished with it). */
async function settledRow(app: TestApp, id: string): Promise<DecisionRow> {
  for (let i = 0; i < 500; i++) {
    const r = app.store.getDecision(id);
    if (r && r.status !== 'pending') return r;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`decision ${id} stayed pending`);
}

test('GET /v1/models lists moe-router and every expert', async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  assert.deepEqual(ids, ['moe-router', 'healthcare', 'finance', 'cybersecurity', 'general']);
  assert.equal((await client.models.retrieve('finance')).id, 'finance');
});

test('a plain completion: OpenAI shape, the answering expert as model, moe headers and object, usage, a logged row', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'moe-router', messages: [{ role: 'user', content: 'how do I spot a phishing email' }], user: 'alice' })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.model, 'cybersecurity');
  assert.equal(data.choices.length, 1);
  assert.equal(data.choices[0]!.message.role, 'assistant');
  assert.ok(data.choices[0]!.message.content!.length > 0);
  assert.ok(['stop', 'length'].includes(data.choices[0]!.finish_reason));
  const moe = moeOf(data);
  assert.equal(moe.expert, 'cybersecurity');
  assert.equal(moe.fallbackReason, null);
  assert.match(moe.conversationId, /^v1:[0-9a-f]{24}$/);
  assert.equal(response.headers.get('x-moe-expert'), 'cybersecurity');
  assert.equal(response.headers.get('x-moe-decision-id'), moe.decisionId);
  assert.equal(Number(response.headers.get('x-moe-confidence')), moe.confidence); // the body's value, unrounded
  const r = row(app, moe.decisionId);
  assert.equal(r.status, 'answered');
  assert.equal(r.userId, 'alice');
  assert.equal(r.answer, data.choices[0]!.message.content);
  assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
  assert.equal(data.usage.prompt_tokens, r.promptTokens);
  assert.equal(data.usage.completion_tokens, r.completionTokens);
  assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);

  // A vote on it works as for /predict.
  const vote = await fetch(`${baseURL.replace(/\/v1$/, '')}/feedback`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decisionId: moe.decisionId, userId: 'alice', vote: 'up' }),
  });
  assert.equal(vote.status, 200, await vote.clone().text());
  // So does one with the completion's own id (chatcmpl-<decisionId>), which is all some clients keep.
  const byCompletionId = await fetch(`${baseURL.replace(/\/v1$/, '')}/feedback`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decisionId: data.id, userId: 'bob', vote: 'down' }),
  });
  assert.equal(byCompletionId.status, 200, await byCompletionId.clone().text());
  assert.equal(((await byCompletionId.json()) as { decisionId: string }).decisionId, moe.decisionId);
});

test('a streamed completion: chunks in OpenAI format, moe and usage in the last chunk, [DONE], the same text logged', async () => {
  const stream = await client.chat.completions.create({
    model: 'moe-router', stream: true, messages: [{ role: 'user', content: 'what is a good way to save for retirement' }],
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.length >= 3, `got ${chunks.length} chunks`);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'finance' && c.id === chunks[0]!.id));
  assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
  const last = chunks.at(-1)!;
  assert.ok(['stop', 'length'].includes(last.choices[0]!.finish_reason ?? ''));
  const moe = moeOf(last);
  assert.equal(moe.expert, 'finance');
  assert.ok(last.usage && last.usage.completion_tokens > 0);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(row(app, moe.decisionId).answer, text.trim());

  // The raw stream ends with data: [DONE], as OpenAI's does.
  const raw = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'moe-router', stream: true, messages: [{ role: 'user', content: 'how do I budget my salary' }] }),
  });
  assert.match(raw.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(raw.headers.get('x-moe-expert'), 'finance');
  assert.match(await raw.text(), /data: \[DONE\]\n\n$/);

  // With stream_options.include_usage (Open WebUI sends it) the last chunk is the usage-only one: it carries moe too.
  const withUsage = await client.chat.completions.create({
    model: 'moe-router', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'is a roth ira better than a 401k' }],
  });
  const usageChunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of withUsage) usageChunks.push(chunk);
  const usageLast = usageChunks.at(-1)!;
  assert.deepEqual(usageLast.choices, []);
  assert.ok(usageLast.usage && usageLast.usage.completion_tokens > 0);
  assert.deepEqual(usageChunks.slice(0, -1).filter((c) => c.usage), [], 'usage once, as OpenAI sends it: clients add it up over chunks');
  const usageMoe = moeOf(usageLast);
  assert.equal(usageMoe.expert, 'finance');
  assert.equal(row(app, usageMoe.decisionId).status, 'answered');
});

test('multi-turn: routed on the last user message, the earlier turns reach the expert, client system text is appended', async () => {
  const question = { role: 'user' as const, content: 'what are the symptoms of the flu and when should I see a doctor' };
  const alone = await client.chat.completions.create({ model: 'moe-router', messages: [question] });
  const withHistory = await client.chat.completions.create({
    model: 'moe-router',
    messages: [
      { role: 'system', content: 'Answer in one short paragraph.' },
      { role: 'user', content: 'how should I pay off my credit card debt' },
      { role: 'assistant', content: 'Pay the card with the highest interest rate first, and keep paying the others.' },
      question,
    ],
  });
  assert.equal(alone.model, 'healthcare');
  assert.equal(withHistory.model, 'healthcare');
  // The history and the system text are in the prompt: more prompt tokens than the question alone.
  assert.ok(withHistory.usage!.prompt_tokens > alone.usage!.prompt_tokens + 20, `${withHistory.usage!.prompt_tokens} vs ${alone.usage!.prompt_tokens}`);
  const r = row(app, moeOf(withHistory).decisionId);
  assert.equal(r.query, question.content, 'the logged question is the last user message');
  // One conversation keeps its id across turns: the same first question gives the same id.
  const next = await client.chat.completions.create({
    model: 'moe-router',
    messages: [
      { role: 'user', content: 'how should I pay off my credit card debt' },
      { role: 'assistant', content: 'Pay the highest rate first.' },
      { role: 'user', content: 'and should I close the card afterwards' },
    ],
  });
  assert.equal(moeOf(next).conversationId, moeOf(withHistory).conversationId);
});

test('multi-turn routing follows the conversation rule: a terse follow-up stays with the conversation\'s expert', async () => {
  // Alone, "how much is too much" reads as a money question; after one about ibuprofen it is about the dose.
  const alone = await client.chat.completions.create({ model: 'moe-router', messages: [{ role: 'user', content: 'how much is too much' }] });
  assert.equal(alone.model, 'finance', 'on its own the follow-up reads as finance');
  const followUp = await client.chat.completions.create({
    model: 'moe-router',
    messages: [
      { role: 'user', content: 'what is a safe dose of ibuprofen for a headache' },
      { role: 'assistant', content: 'For adults, 200 to 400 mg every 4 to 6 hours.' },
      { role: 'user', content: 'how much is too much' },
    ],
  });
  assert.equal(followUp.model, 'healthcare');
  const r = row(app, moeOf(followUp).decisionId);
  assert.equal(r.expert, 'healthcare');
  assert.equal(r.gateExpert, 'finance', 'the log keeps what the gate said about the message alone');
  assert.equal(r.fallbackReason, null);
});

test('a model id asks that expert directly, logged as a forced choice; unknown fields are ignored', async () => {
  const reply = await client.chat.completions.create({
    model: 'finance',
    messages: [{ role: 'user', content: 'what are the symptoms of the flu' }],
    // Fields /v1 does not use: ignored, not errors.
    logit_bias: { 42: 1 }, presence_penalty: 0.5, seed: 7, n: 1,
    ...({ some_future_field: { nested: true } } as object),
  });
  assert.equal(reply.model, 'finance');
  const moe = moeOf(reply);
  assert.equal(moe.fallbackReason, 'forced');
  const r = row(app, moe.decisionId);
  assert.equal(r.expert, 'finance');
  assert.equal(r.gateExpert, 'healthcare', 'the gate\'s own choice is kept in the log');
  assert.equal(r.fallbackReason, 'forced');
});

test('max_tokens / max_completion_tokens are honoured', async () => {
  const a = await client.chat.completions.create({ model: 'general', max_tokens: 3, messages: [{ role: 'user', content: 'tell me a long story about bread' }] });
  assert.ok(a.usage!.completion_tokens <= 3);
  const b = await client.chat.completions.create({ model: 'general', max_completion_tokens: 2, temperature: 0, top_p: 0.5, messages: [{ role: 'user', content: 'tell me a long story about bread' }] });
  assert.ok(b.usage!.completion_tokens <= 2);
  assert.equal(b.choices[0]!.finish_reason, 'length');
  // The expert's own generation.maxTokens (24 in this app) cut a long answer: OpenAI's clients read that as `length`.
  const c = await client.chat.completions.create({ model: 'general', max_tokens: 500, messages: [{ role: 'user', content: 'tell me a long story about bread' }] });
  assert.equal(c.usage!.completion_tokens, 24);
  assert.equal(c.choices[0]!.finish_reason, 'length');
});

test('errors have OpenAI\'s shape and status: 400 bad request, 404 unknown model, 429 with retry-after', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'moe-router', messages: [] }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.param, 'messages');
    assert.match(err.message, /messages must be a non-empty array/);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'moe-router', messages: [{ role: 'assistant', content: 'hi' }] }), OpenAI.BadRequestError);
  await assert.rejects(client.chat.completions.create({ model: 'moe-router', messages: [{ role: 'user', content: '   ' }] }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.code, 'empty_query');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'moe-router', temperature: 7, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.param, 'temperature');
    return true;
  });
  // Wrong types of fields we read are named, never silently taken as something else (a non-streamed answer, say).
  for (const [extra, param] of [
    [{ stream: 'yes' }, 'stream'],
    [{ stream: true, stream_options: 'x' }, 'stream_options'],
    [{ stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
    [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
  ] as const) {
    await assert.rejects(client.chat.completions.create({ model: 'moe-router', messages: [{ role: 'user', content: 'hi' }], ...extra } as never), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.param, param);
      return true;
    });
  }
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.code, 'model_not_found');
    return true;
  });
  const raw = await fetch(`${baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  assert.equal(raw.status, 400);
  const body = (await raw.json()) as { error: { message: string; type: string; code: string } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.equal(body.error.code, 'invalid_request');
  assert.match(body.error.message, /could not parse the JSON body/);

  // Failures fastify finds before the route: OpenAI's shape with our codes, never fastify's FST_* ones.
  const requestError = async (init: RequestInit, url = `${baseURL}/chat/completions`): Promise<{ status: number; allow: string | null; error: { message: string; type: string; code: string } }> => {
    const res = await fetch(url, init);
    const json = (await res.json()) as { error: { message: string; type: string; code: string } };
    return { status: res.status, allow: res.headers.get('allow'), error: json.error };
  };
  const wrongType = await requestError({ method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<q>hello</q>' });
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.error.code, 'unsupported_media_type');
  assert.match(wrongType.error.message, /application\/json/);
  const huge = await requestError({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'moe-router', messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 ** 2) }] }) });
  assert.equal(huge.status, 413);
  assert.equal(huge.error.code, 'payload_too_large');
  const empty = await requestError({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
  assert.equal(empty.status, 400);
  assert.doesNotMatch(empty.error.code, /^FST_/);
  // A known path with the wrong method: 405 with Allow, as OpenAI answers.
  const get = await requestError({ method: 'GET' });
  assert.equal(get.status, 405);
  assert.equal(get.allow, 'POST');
  assert.equal(get.error.code, 'method_not_allowed');
  const postModels = await requestError({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, `${baseURL}/models/finance`);
  assert.equal(postModels.status, 405);
  assert.match(postModels.allow ?? '', /GET/);
  assert.equal((await requestError({ method: 'GET' }, `${baseURL}/embeddings`)).status, 404);

  // RATE_LIMIT_PER_USER is 2/min for this app; `user` is the user id.
  const ask = (): Promise<unknown> => client.chat.completions.create({ model: 'moe-router', user: 'rate-limited-bob', messages: [{ role: 'user', content: 'how do I reset my password safely' }] });
  await ask();
  await ask();
  await assert.rejects(ask(), (err: unknown) => {
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.ok(Number(err.headers?.get('retry-after')) >= 1);
    assert.equal(err.code, 'rate_limited');
    return true;
  });
});

test('API_KEYS: /v1 needs a right bearer key (401 otherwise); other endpoints are unchanged', async (t) => {
  const keyed = await createTestApp({ API_KEYS: 'key-one, key-two' }, { maxTokens: 8 });
  t.after(() => keyed.dispose());
  const url = `${await keyed.http.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  for (const apiKey of ['wrong', 'key-one-and-more', 'key']) {
    await assert.rejects(new OpenAI({ baseURL: url, apiKey, maxRetries: 0 }).models.list(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });
  }
  const missing = await fetch(`${url}/models`);
  assert.equal(missing.status, 401);
  const ok = await new OpenAI({ baseURL: url, apiKey: 'key-two', maxRetries: 0 }).chat.completions.create({
    model: 'moe-router', messages: [{ role: 'user', content: 'how do I spot a phishing email' }],
  });
  assert.equal(ok.model, 'cybersecurity');
});

test('a HOST open to the network without API_KEYS gives one clear warning at start', async (t) => {
  const warnings: string[] = [];
  const logger = (await import('../../src/logger.js')).silentLogger();
  logger.warn = ((msg: unknown) => {
    warnings.push(String(msg));
  }) as typeof logger.warn;
  const open = await createTestApp({ HOST: '0.0.0.0' }, { logger });
  t.after(() => open.dispose());
  assert.equal(warnings.filter((w) => /API_KEYS/.test(w)).length, 1, warnings.join('\n'));
  assert.match(warnings.find((w) => /API_KEYS/.test(w))!, /HOST is 0\.0\.0\.0 and API_KEYS is empty/);
  const quiet: string[] = [];
  const keyedLogger = (await import('../../src/logger.js')).silentLogger();
  keyedLogger.warn = ((msg: unknown) => {
    quiet.push(String(msg));
  }) as typeof keyedLogger.warn;
  const keyed = await createTestApp({ HOST: '0.0.0.0', API_KEYS: 'k' }, { logger: keyedLogger });
  t.after(() => keyed.dispose());
  assert.equal(quiet.filter((w) => /API_KEYS/.test(w)).length, 0);
});

test('every spelling of a loopback HOST counts as loopback; any other address does not', () => {
  for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', '::ffff:10.0.0.1', 'example.com', '128.0.0.1', '0:0:0:0:0:0:0:0']) assert.ok(!isLoopbackHost(host), host);
});

test('503 when the expert is busy; a client that disconnects mid-stream cancels the generation and its row', async (t) => {
  const dir = path.join(app.dir, 'endless');
  const registryPath = await writeDemoRegistry(dir, { endless: ['general'], maxTokens: 3000, contextSize: 4096 });
  const config = testConfig(dir, { EXPERT_BATCH_SIZE: '1', EXPERT_QUEUE_LIMIT: '0' });
  const experts = await createExpertPool(config, { registryPath });
  const slow = await createTestApp({ EXPERT_BATCH_SIZE: '1', EXPERT_QUEUE_LIMIT: '0' }, { experts, disposeExperts: true });
  t.after(() => slow.dispose());
  const url = `${await slow.http.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  const c = new OpenAI({ baseURL: url, apiKey: 'x', maxRetries: 0 });

  const controller = new AbortController();
  const { data: stream, response } = await c.chat.completions.create(
    { model: 'general', stream: true, messages: [{ role: 'user', content: 'talk forever' }] },
    { signal: controller.signal },
  ).withResponse();
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.done, false);
  const decisionId = response.headers.get('x-moe-decision-id')!;
  assert.ok(decisionId);

  // While it streams, the one slot is taken and the queue holds none: 503.
  await assert.rejects(c.chat.completions.create({ model: 'general', messages: [{ role: 'user', content: 'me too' }] }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError && err.status === 503, String(err));
    assert.equal(err.code, 'expert_busy');
    assert.equal(err.type, 'server_error');
    return true;
  });

  controller.abort();
  const r = await settledRow(slow, decisionId);
  assert.equal(r.status, 'cancelled');
  assert.match(r.error ?? '', /^cancelled/);
  assert.ok((r.completionTokens ?? 0) < 3000);
  // The slot is free again at once: the generation really stopped.
  const after = await c.chat.completions.create({ model: 'general', max_tokens: 3, messages: [{ role: 'user', content: 'short one' }] });
  assert.equal(after.usage!.completion_tokens, 3);
});
