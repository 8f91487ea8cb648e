/** The HTTP API over the real router (real gate, real demo experts, SQLite file): happy paths and every error path. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { readVotes } from '../../src/store/TrainingLog.js';

let app: TestApp;

before(async () => {
  app = await createTestApp({ RATE_LIMIT_PER_USER: '2/min' }, { maxTokens: 12 });
});
after(() => app.dispose());

interface Json {
  [key: string]: unknown;
}

async function post(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
  const res = await app.http.inject({
    method: 'POST', url, headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.statusCode, body: res.json<Json>(), headers: res.headers };
}

/** Parses a server-sent-events body into [event, data] pairs. */
function parseSse(text: string): [string, Json][] {
  return text.split('\n\n').filter(Boolean).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
    const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
    return [event, JSON.parse(data) as Json];
  });
}

test('POST /predict answers like the old service: expert name, response, confidence, decisionId, fallback', async () => {
  const { status, body } = await post('/predict', { query: 'how do I spot a phishing email' });
  assert.equal(status, 200);
  assert.equal(body.expert, 'CybersecurityExpert');
  assert.equal(typeof body.response, 'string');
  assert.ok((body.response as string).length > 0);
  assert.ok(typeof body.confidence === 'number' && body.confidence > 0.5 && body.confidence <= 1);
  assert.equal(body.fallback, false);
  assert.equal(body.fallbackReason, null);
  assert.equal(body.demo, true);
  const row = app.store.getDecision(body.decisionId as string)!;
  assert.equal(row.status, 'answered');
  assert.equal(row.platform, 'http');
  assert.equal(row.userId, null);
});

test('POST /predict?query=... with no body works, as the old service did; off-topic → GeneralExpert with fallback true', async () => {
  const res = await app.http.inject({ method: 'POST', url: '/predict?query=how%20do%20I%20bake%20sourdough%20bread' });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json<Json>();
  assert.equal(body.expert, 'GeneralExpert');
  assert.equal(body.fallback, true);
  assert.equal(body.fallbackReason, 'off_topic');
});

test('streaming with Accept: text/event-stream: decision, chunks, done', async () => {
  const res = await app.http.inject({
    method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    payload: JSON.stringify({ query: 'what is a good way to save for retirement' }),
  });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  const events = parseSse(res.body);
  assert.equal(events[0]![0], 'decision');
  assert.equal(events[0]![1].expert, 'FinanceExpert');
  assert.equal(events.at(-1)![0], 'done');
  const done = events.at(-1)![1];
  const chunks = events.filter(([e]) => e === 'chunk').map(([, d]) => d.text as string);
  assert.ok(chunks.length > 0);
  assert.equal(chunks.join(''), done.response);
  assert.equal(done.decisionId, events[0]![1].decisionId);
});

test('streaming with ?stream=true, and a refusal before the decision is a plain JSON 4xx', async () => {
  const ok = await app.http.inject({ method: 'POST', url: '/predict?stream=true', headers: { 'content-type': 'application/json' }, payload: '{"query":"is my password strong enough"}' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual([...new Set(parseSse(ok.body).map(([e]) => e))], ['decision', 'chunk', 'done']);
  const bad = await post('/predict?stream=true', { query: '   ' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'empty_query');
});

const BAD_REQUESTS: [string, string, Record<string, string>, number, string, RegExp][] = [
  ['not JSON', '{"query": "unclosed', {}, 400, 'bad_request', /not valid JSON/],
  ['empty JSON body', '', {}, 400, 'bad_request', /empty/i],
  ['query is a number', '{"query": 42}', {}, 400, 'bad_request', /query must be string/],
  ['body is an array', '["how do I budget"]', {}, 400, 'bad_request', /body must be object/],
  ['no query at all', '{}', {}, 400, 'empty_query', /Send the question/],
  ['empty query', '{"query": ""}', {}, 400, 'empty_query', /empty/],
  ['whitespace query', '{"query": " \\n\\t "}', {}, 400, 'empty_query', /empty/],
  ['overlong query', JSON.stringify({ query: 'x'.repeat(4001) }), {}, 400, 'query_too_long', /at most 4000 characters\); this one has 4001/],
  ['huge body', JSON.stringify({ query: 'x'.repeat(200_000) }), {}, 413, 'payload_too_large', /too large/i],
  ['bad userId', '{"query": "how do I budget", "userId": "<script>"}', {}, 400, 'bad_request', /userId must be an id of 1 to 256 characters without spaces, control characters, < > or lone surrogates/],
  ['userId with a space', '{"query": "how do I budget", "userId": "alice smith"}', {}, 400, 'bad_request', /userId must be an id of 1 to 256 characters without spaces, control characters, < > or lone surrogates/],
  ['overlong userId', JSON.stringify({ query: 'how do I budget', userId: 'u'.repeat(257) }), {}, 400, 'bad_request', /userId must be an id of 1 to 256 characters/],
  ['XML', '<query>hi</query>', { 'content-type': 'application/xml' }, 415, 'unsupported_media_type', /Unsupported Media Type.*send application\/json/i],
  ['plain text', 'how do I budget', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type', /Unsupported Media Type.*send application\/json/i],
];

for (const [name, payload, headers, status, error, message] of BAD_REQUESTS) {
  test(`POST /predict with ${name} → ${status} ${error}, and nothing is logged`, async () => {
    const before = app.store.stats().total;
    const res = await app.http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', ...headers }, payload });
    assert.equal(res.statusCode, status, res.body);
    const body = res.json<Json>();
    assert.equal(body.error, error);
    assert.match(body.message as string, message);
    assert.equal(app.store.stats().total, before);
  });
}

test('unknown routes → 404 JSON; a known route with another method → 405 with Allow', async () => {
  for (const [method, url] of [['GET', '/nope'], ['POST', '/healthz/x']] as const) {
    const res = await app.http.inject({ method, url });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<Json>().error, 'not_found');
  }
  for (const [method, url, allow] of [['GET', '/predict?query=hi', 'POST'], ['DELETE', '/feedback', 'POST'], ['POST', '/healthz', 'GET, HEAD']] as const) {
    const res = await app.http.inject({ method, url });
    assert.equal(res.statusCode, 405, `${method} ${url}`);
    assert.equal(res.headers.allow, allow);
    assert.deepEqual(Object.keys(res.json<Json>()).sort(), ['error', 'message']);
    assert.equal(res.json<Json>().error, 'method_not_allowed');
  }
});

test('an unknown JSON field is refused with 400 naming it, on /predict and /feedback; nothing is logged or recorded', async () => {
  const before = app.store.stats().total;
  const predict = await post('/predict', { query: 'how do I budget', usrId: 'alice' });
  assert.equal(predict.status, 400);
  assert.equal(predict.body.error, 'bad_request');
  assert.match(predict.body.message as string, /unknown field "usrId"/);
  assert.equal(app.store.stats().total, before);

  const { body: answer } = await post('/predict', { query: 'should I refinance my mortgage' });
  const id = answer.decisionId as string;
  const feedback = await post('/feedback', { decisionId: id, vote: 'down', expret: 'HealthcareExpert' });
  assert.equal(feedback.status, 400);
  assert.match(feedback.body.message as string, /unknown field "expret"/);
  assert.deepEqual(readVotes(app.store).filter((v) => v.decisionId === id), []);
  // Unknown query parameters stay ignored (cache busters), as before.
  const res = await app.http.inject({ method: 'POST', url: '/predict?query=how%20do%20I%20budget&_=123' });
  assert.equal(res.statusCode, 200, res.body);
});

test('a bad vote says what a vote is, in one line', async () => {
  for (const vote of ['sideways', 2, null]) {
    const res = await post('/feedback', { decisionId: 'any', vote });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'bad_request');
    assert.match(res.body.message as string, /^Invalid request: vote must be up\/down or \+1\/-1$/);
  }
});

/** Sends a request whose headers are too large for node's parser over a raw socket; returns the raw answer. */
async function oversizedHeaders(port: number, host: string, requestLine: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, host, () => {
      socket.write(`${requestLine}\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (chunk) => { data += chunk.toString(); });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

test('headers too large → 431 with the same JSON shape as every other error; under /v1, OpenAI\'s shape', async (t) => {
  const server = await createTestApp({}, { maxTokens: 4 });
  t.after(() => server.dispose());
  const address = new URL(await server.http.listen({ host: '127.0.0.1', port: 0 }));
  const raw = await oversizedHeaders(Number(address.port), address.hostname, 'GET /healthz HTTP/1.1');
  assert.match(raw, /^HTTP\/1\.1 431 /);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Json;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
  assert.equal(body.error, 'headers_too_large');
  // An OpenAI client reads error.message; /v1 answers every error in that shape, this one too.
  for (const line of ['POST /v1/chat/completions HTTP/1.1', 'GET /v1/models HTTP/1.1']) {
    const v1 = await oversizedHeaders(Number(address.port), address.hostname, line);
    assert.match(v1, /^HTTP\/1\.1 431 /, line);
    const err = (JSON.parse(v1.slice(v1.indexOf('\r\n\r\n') + 4)) as { error: Json }).error;
    assert.deepEqual(Object.keys(err).sort(), ['code', 'message', 'param', 'type'], line);
    assert.equal(err.code, 'headers_too_large');
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.message as string, /headers are too large/);
  }
});

test('a userId over its rate limit → 429 with Retry-After; anonymous calls are not limited', async () => {
  for (let i = 0; i < 2; i++) assert.equal((await post('/predict', { query: 'how do I budget', userId: 'alice' })).status, 200);
  const limited = await post('/predict', { query: 'how do I budget', userId: 'alice' });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error, 'rate_limited');
  assert.match(limited.body.message as string, /Try again in \d+ s/);
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60);
  assert.equal(limited.body.retryAfterSec, retryAfter);
  assert.equal((await post('/predict', { query: 'how do I budget' })).status, 200);
  assert.equal((await post('/predict', { query: 'how do I budget' })).status, 200);
  assert.equal((await post('/predict', { query: 'how do I budget' })).status, 200);
});

test('a vote written as the error message says, "+1" or "-1" (a JSON string: +1 is not a JSON number), is a vote', async () => {
  const { body: answer } = await post('/predict', { query: 'can i write off my home office if i rent' });
  const id = answer.decisionId as string;
  const up = await post('/feedback', { decisionId: id, vote: '+1', userId: 'carol' });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.equal(up.body.vote, 'up');
  const down = await post('/feedback', { decisionId: id, vote: '-1', userId: 'carol' });
  assert.equal(down.status, 200, JSON.stringify(down.body));
  assert.deepEqual([down.body.vote, down.body.replaced], ['down', true]);
  assert.deepEqual(readVotes(app.store).filter((v) => v.decisionId === id).map((v) => [v.userId, v.vote]), [['carol', -1]]);
});

test('POST /feedback: up, then down with a correction replaces it; errors are 4xx', async () => {
  const { body: answer } = await post('/predict', { query: 'should I pay off debt or invest' });
  const id = answer.decisionId as string;
  const up = await post('/feedback', { decisionId: id, vote: 'up' });
  assert.equal(up.status, 200);
  assert.deepEqual(up.body, { decisionId: id, vote: 'up', expert: null, replaced: false });
  const down = await post('/feedback', { decisionId: id, vote: 'down', expert: 'HealthcareExpert' });
  assert.deepEqual(down.body, { decisionId: id, vote: 'down', expert: 'HealthcareExpert', replaced: true });
  const named = await post('/feedback', { decisionId: id, vote: -1, expert: 'finance', userId: 'bob' });
  assert.equal(named.status, 200);
  const votes = readVotes(app.store).filter((v) => v.decisionId === id);
  assert.deepEqual(votes.map((v) => [v.userId, v.vote, v.correctedExpert]).sort(), [['bob', -1, 'finance'], ['http:anonymous', -1, 'healthcare']]);

  const cases: [unknown, number, string][] = [
    [{ decisionId: 'no-such-id', vote: 'up' }, 404, 'not_found'],
    [{ decisionId: id, vote: 'sideways' }, 400, 'bad_request'],
    [{ decisionId: id, vote: 2 }, 400, 'bad_request'],
    [{ vote: 'up' }, 400, 'bad_request'],
    [{ decisionId: id, vote: 'down', expert: 'AstrologyExpert' }, 400, 'invalid_expert'],
    ['not json', 400, 'bad_request'],
  ];
  for (const [payload, status, error] of cases) {
    const res = await post('/feedback', payload);
    assert.equal(res.status, status, JSON.stringify(payload));
    assert.equal(res.body.error, error);
    assert.equal(typeof res.body.message, 'string');
  }
});

test('GET /healthz names the gate version and the experts', async () => {
  const res = await app.http.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ status: string; gateVersion: string; experts: { id: string; available: boolean; demo: boolean }[] }>();
  assert.equal(body.status, 'ok');
  assert.equal(body.gateVersion, app.router.gateVersion());
  assert.deepEqual(body.experts.map((e) => e.id).sort(), ['cybersecurity', 'finance', 'general', 'healthcare']);
  assert.ok(body.experts.every((e) => e.available && e.demo));
});

test('GET /healthz is degraded, with the reason, as soon as an expert cannot answer: before anyone asks', async (t) => {
  const broken = await createTestApp({}, { maxTokens: 4, registry: { finance: { model: 'missing.gguf' } } });
  t.after(() => broken.dispose());
  const body = (await broken.http.inject({ method: 'GET', url: '/healthz' })).json<{ status: string; reasons: string[] }>();
  assert.equal(body.status, 'degraded');
  assert.equal(body.reasons.length, 1, body.reasons.join('\n'));
  assert.match(body.reasons[0]!, /^finance is unavailable: .*missing\.gguf/);
  assert.equal(broken.store.stats().total, 0, 'nobody has asked yet');
  const healthy = (await app.http.inject({ method: 'GET', url: '/healthz' })).json<{ status: string; reasons: string[] }>();
  assert.deepEqual([healthy.status, healthy.reasons], ['ok', []]);
});

test('GET /metrics is Prometheus text with decisions, fallbacks, latency, feedback and queue depth', async () => {
  const res = await app.http.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  assert.match(res.body, /moe_decisions_total\{expert="cybersecurity",platform="http",status="answered"\} \d+/);
  assert.match(res.body, /moe_fallbacks_total\{reason="off_topic"\} \d+/);
  assert.match(res.body, /moe_answer_latency_seconds_count\{expert="finance"\} \d+/);
  assert.match(res.body, /moe_feedback_total\{vote="down",corrected="yes"\} 2/);
  assert.match(res.body, /moe_rejected_total\{reason="rate_limited",platform="http"\} 1/);
  assert.match(res.body, /moe_expert_queue_depth\{expert="general"\} 0/);
});

test('OpenAPI docs at /docs, with schemas for the routes', async () => {
  const html = await app.http.inject({ method: 'GET', url: '/docs' });
  assert.ok([200, 302].includes(html.statusCode));
  const spec = (await app.http.inject({ method: 'GET', url: '/docs/json' })).json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
  assert.match(spec.openapi, /^3\./);
  assert.deepEqual(Object.keys(spec.paths).sort(), ['/feedback', '/healthz', '/metrics', '/predict']);
  assert.ok(spec.paths['/predict']!.post);
});

test('100 concurrent /predict calls over TCP → 100 answers and 100 decision rows, none lost', async (t) => {
  // Short prompts and answers keep 100 real generations quick on 2 cores; the point here is that no call is lost.
  const short = { systemPrompt: 'Answer briefly.' };
  const busy = await createTestApp({ EXPERT_QUEUE_LIMIT: '200', RATE_LIMIT_PER_USER: 'off' }, {
    maxTokens: 4, registry: { healthcare: short, finance: short, cybersecurity: short, general: short },
  });
  t.after(() => busy.dispose());
  const address = await busy.http.listen({ host: '127.0.0.1', port: 0 });
  const questions = ['how do I spot a phishing email', 'what is a good way to save for retirement', 'how much sleep do adults need', 'recommend a good movie'];
  const responses = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    fetch(`${address}/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `${questions[i % 4]} (${i})`, userId: `user${i}` }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }))));
  assert.deepEqual(responses.map((r) => r.status), Array(100).fill(200));
  const ids = new Set(responses.map((r) => r.body.decisionId as string));
  assert.equal(ids.size, 100);
  const rows = busy.store.db.prepare("SELECT id, status FROM decisions WHERE platform = 'http'").all() as { id: string; status: string }[];
  assert.equal(rows.length, 100);
  assert.ok(rows.every((r) => ids.has(r.id) && r.status === 'answered'));
});

test('503 with Retry-After when every expert that could answer is busy', async (t) => {
  const tight = await createTestApp({ EXPERT_BATCH_SIZE: '1', EXPERT_QUEUE_LIMIT: '0' }, { maxTokens: 12 });
  t.after(() => tight.dispose());
  const calls = await Promise.all([1, 2, 3].map((i) => tight.http.inject({
    method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ query: `what is a good way to save for retirement (${i})` }),
  })));
  const statuses = calls.map((c) => c.statusCode).sort();
  assert.deepEqual(statuses, [200, 200, 503]);
  const refused = calls.find((c) => c.statusCode === 503)!;
  assert.equal(refused.json<Json>().error, 'expert_busy');
  assert.ok(Number(refused.headers['retry-after']) >= 1);
});

test('one user id rule for /v1 `user`, /predict and /feedback: an id /v1 took can vote, one it refuses is a clear 400', async () => {
  const user = 'alice+test@example.com';
  const chat = await post('/v1/chat/completions', { model: 'moe-router', user, messages: [{ role: 'user', content: 'how do I budget' }] });
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  const decisionId = (chat.body.moe as { decisionId: string }).decisionId;
  assert.equal(app.store.getDecision(decisionId)!.userId, user);
  const vote = await post('/feedback', { decisionId, vote: 'up', userId: user });
  assert.equal(vote.status, 200, JSON.stringify(vote.body));
  assert.equal((await post('/predict', { query: 'how do I budget', userId: 'bob+1@example.com' })).status, 200);
  const refused = await post('/v1/chat/completions', { model: 'moe-router', user: 'alice smith', messages: [{ role: 'user', content: 'how do I budget' }] });
  assert.equal(refused.status, 400);
  assert.deepEqual([(refused.body.error as Json).param, (refused.body.error as Json).type], ['user', 'invalid_request_error']);
  assert.match(String((refused.body.error as Json).message), /user must be an id of 1 to 256 characters/);
  // A blank user is an anonymous caller, as OpenAI takes it, not an error.
  const blank = await post('/v1/chat/completions', { model: 'moe-router', user: '  ', messages: [{ role: 'user', content: 'how do I budget' }] });
  assert.equal(blank.status, 200, JSON.stringify(blank.body));
  assert.equal(app.store.getDecision((blank.body.moe as { decisionId: string }).decisionId)!.userId, null);
  // /predict and /feedback say the same rule in words, not as the schema's regular expression.
  for (const [url, body] of [['/predict', { query: 'how do I budget', userId: 'alice smith' }], ['/feedback', { decisionId, vote: 'up', userId: '' }],
    ['/predict', { query: 'how do I budget', userId: 'x'.repeat(257) }]] as const) {
    const res = await post(url, body);
    assert.equal(res.status, 400, url);
    assert.equal(res.body.message, 'Invalid request: userId must be an id of 1 to 256 characters without spaces, control characters, < > or lone surrogates', url);
  }
});
