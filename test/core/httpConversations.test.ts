/** conversationId over HTTP, against the real router, gate, demo experts and SQLite file. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/testApp.js';

let app: TestApp;

before(async () => {
  app = await createTestApp({ CONVERSATION_MAX_TURNS: '3' }, { maxTokens: 12 });
});
after(() => app.dispose());

interface Json {
  [key: string]: unknown;
}

async function predict(payload: Json): Promise<{ status: number; body: Json }> {
  const res = await app.http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  return { status: res.statusCode, body: res.json<Json>() };
}

test('the reply always carries a conversationId; sending it back makes a follow-up that stays with the expert', async () => {
  const first = await predict({ query: 'is it ok to take ibuprofen every day for my back pain' });
  assert.equal(first.status, 200);
  assert.equal(first.body.expertId, 'healthcare');
  const id = first.body.conversationId;
  assert.ok(typeof id === 'string' && id.length > 0 && id.length <= 200, 'a new conversation gets an id');
  const followUp = await predict({ query: 'how much is too much', conversationId: id });
  assert.equal(followUp.status, 200);
  assert.equal(followUp.body.conversationId, id);
  assert.equal(followUp.body.expertId, 'healthcare', 'a terse follow-up stays with the conversation\'s expert');
  const row = app.store.getDecision(String(followUp.body.decisionId))!;
  assert.deepEqual([row.conversation?.turn, row.conversation?.followUp, row.conversation?.reason], [2, true, 'sticky']);
  const other = await predict({ query: 'how much is too much' });
  assert.notEqual(other.body.conversationId, id, 'without the id it is a new conversation');
  const explicitNull = await predict({ query: 'how much is too much', conversationId: null });
  assert.equal(explicitNull.status, 200, 'null is the same as leaving it out');
  assert.ok(![id, other.body.conversationId].includes(explicitNull.body.conversationId), 'a new conversation');
  assert.equal(app.store.getDecision(String(explicitNull.body.decisionId))!.conversation?.turn, 1);
});

test('an unknown conversationId starts a new conversation under that id; past the turn limit the reply says so', async () => {
  const mine = 'my-app:session:42';
  const first = await predict({ query: 'how do i set up 2fa on my gmail', conversationId: mine });
  assert.equal(first.status, 200);
  assert.equal(first.body.conversationId, mine);
  assert.equal(first.body.notice, undefined);
  assert.equal(app.store.getDecision(String(first.body.decisionId))!.conversation?.turn, 1);
  await predict({ query: 'what if i lose my phone', conversationId: mine });
  await predict({ query: 'and sms codes?', conversationId: mine });
  const fourth = await predict({ query: 'what about passkeys', conversationId: mine });
  assert.equal(fourth.body.conversationId, mine);
  assert.match(String(fourth.body.notice), /^New conversation: .*maximum length/);
  assert.equal(app.store.getDecision(String(fourth.body.decisionId))!.conversation?.turn, 1);
});

test('an empty or over-long conversationId is a 400 with a clear message, and nothing is asked', async () => {
  for (const [conversationId, pattern] of [['', /conversationId is empty/], ['  ', /conversationId is empty/], ['x'.repeat(201), /conversationId is 201 characters long; at most 200/]] as const) {
    const r = await predict({ query: 'how do i budget', conversationId });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'bad_request');
    assert.match(String(r.body.message), pattern);
  }
  const wrongType = await predict({ query: 'how do i budget', conversationId: 42 });
  assert.equal(wrongType.status, 400);
  const ok = await predict({ query: 'how do i budget', conversationId: 'x'.repeat(200) });
  assert.equal(ok.status, 200);
  const emoji = await predict({ query: 'how do i budget', conversationId: '😀'.repeat(200) }); // 200 characters, 400 UTF-16 units
  assert.equal(emoji.status, 200);
  assert.equal(emoji.body.conversationId, '😀'.repeat(200));
  assert.match(String((await predict({ query: 'how do i budget', conversationId: '😀'.repeat(201) })).body.message), /conversationId is 201 characters long/);
  assert.match(String((await predict({ query: 'how do i budget', conversationId: 'a\u0000b' })).body.message), /control character/);
});

test('/predict cannot continue a /v1 chat, whose id anyone could compute from its user and first question', async () => {
  const res = await app.http.inject({
    method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ model: 'moe-router', user: 'zed', messages: [{ role: 'user', content: 'I have had a fever for three days' }] }),
  });
  const v1Id = (res.json() as { moe: { conversationId: string } }).moe.conversationId;
  assert.match(v1Id, /^v1:/);
  const r = await predict({ query: 'what did I tell you earlier?', userId: 'mallory', conversationId: v1Id });
  assert.equal(r.status, 400);
  assert.match(String(r.body.message), /belongs to \/v1\/chat\/completions conversations/);
  assert.deepEqual(app.store.db.prepare("SELECT COUNT(*) AS n FROM decisions WHERE user_id = 'mallory'").get(), { n: 0 }, 'nothing was asked');
});

test('streamed answers carry the conversationId in the decision and done events', async () => {
  const res = await app.http.inject({
    method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ query: 'my card got declined', conversationId: 'stream-1', stream: true }),
  });
  const events = res.body.split('\n\n').filter(Boolean).map((b) => [/^event: (.*)$/m.exec(b)?.[1], JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null') as Json] as const);
  assert.equal(events[0]?.[0], 'decision');
  assert.equal(events[0]?.[1].conversationId, 'stream-1');
  assert.equal(events.at(-1)?.[0], 'done');
  assert.equal(events.at(-1)?.[1].conversationId, 'stream-1');
});

test('/v1: the messages a client sends are the conversation — separate chats with the same opener stay apart, a chat with earlier turns is a logged follow-up', async () => {
  const chat = async (messages: { role: string; content: string }[]): Promise<{ decisionId: string; conversationId: string }> => {
    const res = await app.http.inject({
      method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ model: 'moe-router', user: 'v1-same', messages }),
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ moe: { decisionId: string; conversationId: string } }>().moe;
  };
  const opener = { role: 'user', content: 'is it ok to take ibuprofen every day for my back pain' };
  const separate = [await chat([opener]), await chat([opener]), await chat([opener])].map((m) => app.store.getDecision(m.decisionId)!);
  assert.deepEqual(separate.map((r) => [r.conversation?.turn, r.conversation?.followUp, r.conversation?.reason]), [[1, false, 'fresh'], [1, false, 'fresh'], [1, false, 'fresh']]);
  assert.equal(new Set(separate.map((r) => r.conversation?.id)).size, 3, 'three chats, three conversations');
  // The last of them goes on (after more turns than CONVERSATION_MAX_TURNS: the client holds the conversation).
  const earlier = [opener, { role: 'assistant', content: 'Occasional use is fine; daily use needs a doctor.' }];
  for (let i = 0; i < 3; i++) earlier.push({ role: 'user', content: `and what about the dose ${i}` }, { role: 'assistant', content: 'It depends on your weight.' });
  const followUp = app.store.getDecision((await chat([...earlier, { role: 'user', content: 'how much is too much' }])).decisionId)!;
  assert.deepEqual([followUp.conversation?.turn, followUp.conversation?.followUp, followUp.conversation?.reason, followUp.expert], [5, true, 'sticky', 'healthcare']);
});
