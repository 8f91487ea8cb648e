/** /admin and /admin/api/* over the real app (real gate, demo experts, SQLite file): access, CSRF, numbers, privacy. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { createLogger } from '../../src/logger.js';
import { GateVersions } from '../../src/store/GateVersions.js';
import { ADMIN_TOKEN, SeedClock, csrfOf, injectPost, seedThroughApi, signIn, type Seeded } from './helpers.js';

interface Json {
  [key: string]: unknown;
}

let app: TestApp;
let seeded: Seeded;
const logLines: Json[] = [];

before(async () => {
  const clock = new SeedClock();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Json);
      done();
    },
  });
  app = await createTestApp({ ADMIN_TOKEN }, { maxTokens: 6, now: clock.now, logger: createLogger({ logLevel: 'info' }, sink) });
  seeded = await seedThroughApi(injectPost(app), clock);
  // A re-route answered with 👍: the confusion matrix counts it as "the second expert was right".
  const first = seeded.decisions.find((d) => d.expert === 'finance')!;
  const second = await app.router.reroute(first.decisionId, 'cybersecurity', { platform: 'discord', userId: 'rerouter' });
  app.router.feedback(second.decisionId, 'rerouter', 1);
});
after(() => app.dispose());

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; raw: string }> {
  const res = await app.http.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? res.json<Json>() : {}, raw: res.body };
}

async function post(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const res = await app.http.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
  return { status: res.statusCode, body: res.json<Json>() };
}

const ENDPOINTS = ['summary', 'timeseries', 'confusion', 'gates', 'experts', 'decisions', 'retrain'];

test('without ADMIN_TOKEN, /admin and /admin/api/* are 404 and say how to enable the dashboard', async (t) => {
  const off = await createTestApp({}, { maxTokens: 4 });
  t.after(() => off.dispose());
  for (const url of ['/admin', '/admin/api/summary', '/admin/assets/dashboard.js']) {
    const res = await off.http.inject({ method: 'GET', url, headers: { authorization: 'Bearer anything' } });
    assert.equal(res.statusCode, 404, url);
    assert.match(res.json<Json>().message as string, /ADMIN_TOKEN/);
  }
  const login = await off.http.inject({ method: 'POST', url: '/admin/login', payload: { token: 'x' } });
  assert.equal(login.statusCode, 404);
});

test('GET /admin without a session is a login form with one input, name="token"', async () => {
  const res = await get('/admin');
  assert.equal(res.status, 200);
  const inputs = res.raw.match(/<input\b[^>]*>/g) ?? [];
  assert.equal(inputs.length, 1, res.raw);
  assert.match(inputs[0]!, /name="token"/);
  assert.doesNotMatch(res.raw, /csrf-token/);
});

test('every /admin/api endpoint answers 401 without a session cookie, with a wrong token, or with a stale cookie', async () => {
  for (const name of ENDPOINTS) {
    const url = `/admin/api/${name}`;
    assert.equal((await get(url)).status, 401, url);
    assert.equal((await get(url, { authorization: 'Bearer wrong-token' })).status, 401, url);
    assert.equal((await get(url, { authorization: `Basic ${ADMIN_TOKEN}` })).status, 401, url);
    assert.equal((await get(url, { cookie: 'moe_admin=not-a-session' })).status, 401, url);
    const ok = await get(url, { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(ok.status, 200, `${url}: ${ok.raw}`);
  }
  assert.equal((await get('/admin/api/nothing-here')).status, 401);
  assert.equal((await get('/admin/api/nothing-here', { authorization: `Bearer ${ADMIN_TOKEN}` })).status, 404);
  assert.equal((await post('/admin/api/rollback', { version: 'x' })).status, 401);
});

test('a wrong token gets a clear message after a delay; the right one sets an HttpOnly, SameSite=Strict session cookie', async () => {
  const started = Date.now();
  const wrong = await app.http.inject({
    method: 'POST', url: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=not-the-token',
  });
  assert.ok(Date.now() - started >= 450, 'the wrong-token answer is delayed');
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.body, /That token is not right/);
  assert.equal(wrong.headers['set-cookie'], undefined);

  const right = await app.http.inject({ method: 'POST', url: '/admin/login', payload: { token: ADMIN_TOKEN } });
  assert.equal(right.statusCode, 303);
  assert.equal(right.headers.location, '/admin');
  const cookie = String(right.headers['set-cookie']);
  assert.match(cookie, /^moe_admin=[A-Za-z0-9_-]{40,};/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.ok(!cookie.includes(ADMIN_TOKEN));
  const page = await get('/admin', { cookie: cookie.split(';')[0]! });
  assert.match(page.raw, /<meta name="csrf-token" content="[^"]+">/);
  assert.match(page.raw, /src="\/admin\/assets\/dashboard\.js"/);
});

test('logout ends the session: its cookie no longer opens the API', async () => {
  const cookie = await signIn(app);
  const csrf = await csrfOf(app, cookie);
  assert.equal((await get('/admin/api/summary', { cookie })).status, 200);
  const out = await app.http.inject({
    method: 'POST', url: '/admin/logout', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf }).toString(),
  });
  assert.equal(out.statusCode, 303);
  assert.match(String(out.headers['set-cookie']), /moe_admin=; .*Max-Age=0/);
  assert.equal((await get('/admin/api/summary', { cookie })).status, 401);
});

test('actions need the session and its CSRF token: refused without it, with a wrong one, or with only the bearer token', async () => {
  const cookie = await signIn(app);
  const csrf = await csrfOf(app, cookie);
  for (const url of ['/admin/api/retrain', '/admin/api/rollback']) {
    const body = { version: 'no-such-version' };
    assert.equal((await post(url, body, { cookie })).status, 403, url);
    assert.equal((await post(url, body, { cookie, 'x-csrf-token': 'forged' })).status, 403, url);
    assert.equal((await post(url, body, { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-csrf-token': csrf })).status, 403, url);
  }
  const other = await signIn(app);
  assert.equal((await post('/admin/api/rollback', { version: 'x' }, { cookie: other, 'x-csrf-token': csrf })).status, 403,
    "one session's CSRF token does not work for another");
  const res = await post('/admin/api/rollback', { version: 'no-such-version' }, { cookie, 'x-csrf-token': csrf });
  assert.equal(res.status, 404);
  assert.match(res.body.message as string, /no gate version "no-such-version"/);
});

test('the summary counts match the table rows and the seeded answers', async () => {
  const { body: s } = await get('/admin/api/summary', { authorization: `Bearer ${ADMIN_TOKEN}` });
  const db = app.store.db;
  const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
  assert.equal(s.decisions, count('SELECT COUNT(*) AS n FROM decisions'));
  assert.equal(s.decisions, seeded.decisions.length + 1); // + the re-route
  const byExpert = Object.fromEntries((db.prepare('SELECT expert, COUNT(*) AS n FROM decisions GROUP BY expert').all() as { expert: string; n: number }[])
    .map((r) => [r.expert, r.n]));
  assert.deepEqual(s.byExpert, byExpert);
  const expected = { ...seeded.byExpert, cybersecurity: (seeded.byExpert.cybersecurity ?? 0) + 1 };
  assert.deepEqual(s.byExpert, expected);
  assert.equal(s.votes, count('SELECT COUNT(*) AS n FROM feedback'));
  assert.equal(s.votes, seeded.votes + 1);
  assert.equal(s.upvoteRate, (seeded.upvotes + 1) / (seeded.votes + 1));
  assert.equal(s.fallbackRate, count('SELECT COUNT(*) AS n FROM decisions WHERE fallback_reason IS NOT NULL') / (s.decisions as number));
  assert.ok(seeded.fallbacks > 0, 'the seed includes off-topic questions that fall back');
  assert.equal(s.fallbackRate, seeded.fallbacks / (seeded.decisions.length + 1));
  assert.equal(s.gateVersion, app.router.gateVersion());
  assert.equal(s.textLogged, true);
});

test('the time series puts each seeded question and vote in its day', async () => {
  const { status, body } = await get('/admin/api/timeseries?range=7d&bucket=day', { authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.equal(status, 200);
  const ts = body as unknown as { buckets: number[]; questions: Record<string, number[]>; totals: number[]; fallbacks: number[]; votes: Record<string, number[]>; upvotes: Record<string, number[]> };
  assert.equal(ts.buckets.length, 8); // 7 days back, rounded down to a whole UTC day, up to now
  const sum = (xs: number[] = []): number => xs.reduce((a, b) => a + b, 0);
  for (const [expert, n] of Object.entries(seeded.byExpert)) {
    assert.equal(sum(ts.questions[expert]), n + (expert === 'cybersecurity' ? 1 : 0), expert);
  }
  const bucketOf = (daysAgo: number): number => ts.buckets.findLastIndex((b) => b <= Date.now() - daysAgo * 86_400_000);
  for (const day of [0, 3, 6]) {
    const expected = seeded.decisions.filter((d) => bucketOf(d.daysAgo) === bucketOf(day)).length + (day === 0 ? 1 : 0);
    assert.equal(ts.totals[bucketOf(day)], expected, `day -${day}`);
  }
  assert.equal(sum(ts.fallbacks), seeded.fallbacks);
  for (const [expert, [votes, up]] of Object.entries(seeded.votesByExpert)) {
    assert.equal(sum(ts.votes[expert]) - (expert === 'cybersecurity' ? 1 : 0), votes, expert);
    assert.equal(sum(ts.upvotes[expert]) - (expert === 'cybersecurity' ? 1 : 0), up, expert);
  }
  assert.equal((await get('/admin/api/timeseries?range=90d&bucket=hour', { authorization: `Bearer ${ADMIN_TOKEN}` })).status, 200);
  assert.equal((await get('/admin/api/timeseries?range=1y', { authorization: `Bearer ${ADMIN_TOKEN}` })).status, 400);
});

test('the confusion matrix counts corrections and 👍 after a re-route', async () => {
  const { body } = await get('/admin/api/confusion', { authorization: `Bearer ${ADMIN_TOKEN}` });
  const cells = body.cells as Record<string, Record<string, number>>;
  const expected = structuredClone(seeded.corrections);
  (expected.finance ??= {}).cybersecurity = (expected.finance.cybersecurity ?? 0) + 1;
  assert.deepEqual(cells, expected);
  assert.equal(body.fromReroutes, 1);
  assert.equal(body.fromCorrections, Object.values(seeded.corrections).flatMap(Object.values).reduce((a, b) => a + b, 0));
});

test('recent decisions filter by expert, vote and fallback, show question text, and hash user ids', async () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  type Row = { id: string; expert: string; upvotes: number; downvotes: number; fallbackReason: string | null; user: string | null; query: string | null };
  const list = async (qs: string): Promise<Row[]> => {
    const res = await get(`/admin/api/decisions?limit=500&${qs}`, auth);
    assert.equal(res.status, 200, res.raw);
    return res.body.decisions as Row[];
  };
  const all = await list('');
  assert.equal(all.length, seeded.decisions.length + 1);
  const down = await list('vote=down');
  assert.deepEqual(down.map((r) => r.id).sort(), seeded.decisions.filter((d) => d.vote === 'down').map((d) => d.decisionId).sort());
  assert.ok(down.every((r) => r.downvotes > 0));
  const none = await list('vote=none');
  assert.deepEqual(none.map((r) => r.id).sort(), seeded.decisions.filter((d) => d.vote === null).map((d) => d.decisionId).sort());
  const fallbacks = await list('fallback=true');
  assert.equal(fallbacks.length, seeded.fallbacks);
  assert.ok(fallbacks.every((r) => r.fallbackReason !== null));
  const finance = await list('expert=finance');
  assert.equal(finance.length, seeded.byExpert.finance);
  assert.ok(finance.every((r) => r.expert === 'finance'));
  const byId = new Map(all.map((r) => [r.id, r]));
  for (const d of seeded.decisions) {
    const row = byId.get(d.decisionId)!;
    assert.equal(row.query, d.query);
    assert.match(row.user!, /^[0-9a-f]{10}$/);
  }
  const users = new Set(seeded.decisions.map((d) => byId.get(d.decisionId)!.user));
  assert.equal(users.size, 5, 'one stable hash per user');
  const raw = (await get('/admin/api/decisions?limit=500', auth)).raw;
  for (const u of ['user-0', 'user-1', 'voter-0', 'rerouter']) assert.ok(!raw.includes(u), `${u} appears only hashed`);
  assert.equal((await get('/admin/api/decisions?vote=maybe', auth)).status, 400);
});

test('the experts panel lists every expert with state, queue, busy rejections and speed', async () => {
  const { body } = await get('/admin/api/experts', { authorization: `Bearer ${ADMIN_TOKEN}` });
  const experts = body.experts as { id: string; state: string; queued: number; busyRejections: number; tokensPerSecond: number | null; memoryBytes: number | null }[];
  assert.deepEqual(experts.map((e) => e.id).sort(), ['cybersecurity', 'finance', 'general', 'healthcare']);
  for (const e of experts) {
    assert.equal(typeof e.queued, 'number');
    assert.equal(e.busyRejections, 0);
    if ((seeded.byExpert[e.id] ?? 0) > 0) {
      assert.equal(e.state, 'loaded', e.id);
      assert.ok(e.memoryBytes !== null && e.memoryBytes > 0, `${e.id} reports its memory`);
    }
    // Speed is over the answers of the last 24 hours (from the start of that hour): answers a day old are at the edge.
    const mine = seeded.decisions.filter((d) => d.expert === e.id);
    if (mine.some((d) => d.daysAgo === 0) || e.id === 'cybersecurity') assert.ok(e.tokensPerSecond !== null && e.tokensPerSecond > 0, e.id);
    else if (mine.every((d) => d.daysAgo >= 2)) assert.equal(e.tokensPerSecond, null, e.id);
  }
});

test('a rollback is logged with who did it', async () => {
  const cookie = await signIn(app);
  const csrf = await csrfOf(app, cookie);
  new GateVersions(app.store).insert({
    version: 'g-old', createdAt: Date.now() - 1000, path: app.config.gatePath, metrics: {}, examples: 1, feedbackExamples: 0, promoted: true, reason: 'test',
  });
  // rollback loads the file first: a missing file is refused with a clear error and changes nothing
  const refused = await post('/admin/api/rollback', { version: 'g-old' }, { cookie, 'x-csrf-token': csrf });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(new GateVersions(app.store).active(), null);
  (await import('../support/testApp.js')).testGate().save(app.config.gatePath);
  const ok = await post('/admin/api/rollback', { version: 'g-old' }, { cookie, 'x-csrf-token': csrf });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.to, 'g-old');
  assert.equal(new GateVersions(app.store).active()?.version, 'g-old');
  const line = logLines.find((l) => l.msg === 'admin: gate rolled back');
  assert.ok(line, 'the rollback is logged');
  assert.match(line.admin as string, /^admin-session:[0-9a-f]{8}$/);
  assert.equal(line.to, 'g-old');
  const { body } = await get('/admin/api/summary', { authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.equal(body.activeGateVersion, 'g-old');
});

test('with LOG_QUERY_TEXT=false no question text reaches the dashboard, not even rows logged before it was turned off', async (t) => {
  const clock = new SeedClock();
  const quiet = await createTestApp({ ADMIN_TOKEN, LOG_QUERY_TEXT: 'false' }, { maxTokens: 4, now: clock.now });
  t.after(() => quiet.dispose());
  const s = await seedThroughApi(injectPost(quiet), clock);
  // A row from before the setting changed still has its text in the table; the dashboard must not read it.
  quiet.store.db.prepare('UPDATE decisions SET query = ? WHERE id = ?').run(s.decisions[0]!.query, s.decisions[0]!.decisionId);
  const cookie = await signIn(quiet);
  const bodies: string[] = [];
  for (const url of ['/admin', ...ENDPOINTS.map((e) => `/admin/api/${e}`), '/admin/api/decisions?limit=500', '/admin/api/decisions?vote=down']) {
    const res = await quiet.http.inject({ method: 'GET', url, headers: { cookie } });
    assert.equal(res.statusCode, 200, url);
    bodies.push(res.body);
  }
  const decisions = JSON.parse(bodies.at(-2)!) as { textLogged: boolean; decisions: { query: string | null }[] };
  assert.equal(decisions.textLogged, false);
  assert.equal(decisions.decisions.length, s.decisions.length);
  assert.ok(decisions.decisions.every((d) => d.query === null));
  // Short questions ("hi") occur inside other words; long ones cannot appear by chance.
  const distinctive = s.decisions.filter((d) => d.query.length >= 20);
  assert.ok(distinctive.length >= 15);
  for (const d of distinctive) {
    for (const body of bodies) assert.ok(!body.includes(d.query), `question text "${d.query}" leaked`);
  }
});
