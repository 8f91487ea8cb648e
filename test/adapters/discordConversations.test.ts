/**
 * Discord follow-ups end to end: the real discord.js Client against the fake Discord on loopback, the real Router
 * (real gate, demo experts, SQLite file). Assertions are on the REST calls a user would see and on the decision log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startDiscord, type DiscordBot } from '../../adapters/discord/index.js';
import { CHANNEL_ID, DM_CHANNEL_ID, FakeDiscord, type FakeMessage, type InteractionHandle } from '../support/fakeDiscord.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { captureLogger, type LogLine } from '../support/captureLogger.js';

type Component = { type: number; custom_id?: string; label?: string; emoji?: { name?: string }; components?: Component[]; style?: number };

function components(m: FakeMessage): Component[] {
  return (m.components as { components: Component[] }[]).flatMap((row) => row.components);
}

const hasVotes = (m: FakeMessage): boolean => components(m).some((c) => c.emoji?.name === '👍');

/** Polls `check` (for effects that make no REST call, e.g. a log line). */
async function poll(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An answer's messages once it is complete: its buttons are shown and it is linked to its decision (logged after). */
async function waitForAnswer(fake: FakeDiscord, h: InteractionHandle, logs: LogLine[]): Promise<FakeMessage[]> {
  const messages = await fake.waitFor(() => {
    const visible = fake.messagesFor(h.token).filter((m) => !m.deleted);
    return visible.length > 0 && hasVotes(visible[visible.length - 1]!) ? visible : null;
  }, 60_000, `answer to ${h.token}`);
  const decisionId = components(messages.at(-1)!).find((c) => c.emoji?.name === '👍')!.custom_id!.split(':')[2];
  await poll(() => logs.some((l) => l.message === 'discord: answered' && l.fields.decisionId === decisionId), `the answer ${decisionId} to be linked`);
  return messages;
}

/** A user's decisions in order, with their conversation's key. */
function turns(app: TestApp, user: string): { turn: number; follow_up: number; route_reason: string; expert: string; conversation_id: string; key: string | null }[] {
  const db = new Database(path.join(app.dir, 'moe.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT d.turn, d.follow_up, d.route_reason, d.expert, d.conversation_id, c.key FROM decisions d
      LEFT JOIN conversations c ON c.id = d.conversation_id WHERE d.user_id = ? ORDER BY d.created_at, d.rowid`).all(user) as ReturnType<typeof turns>;
  } finally {
    db.close();
  }
}

describe('Discord follow-ups', () => {
  let fake: FakeDiscord;
  let app: TestApp;
  let bot: DiscordBot;
  const logs: LogLine[] = [];
  before(async () => {
    fake = new FakeDiscord();
    await fake.start();
    app = await createTestApp({ DISCORD_TOKEN: 'fake-token', DISCORD_API_URL: fake.apiUrl, CONVERSATION_MAX_TURNS: '4' });
    bot = await startDiscord({ router: app.core, config: app.config, logger: captureLogger(logs), editIntervalMs: 200 });
  });
  after(async () => {
    await bot?.stop();
    await app?.dispose();
    await fake?.close();
  });

  test('the Follow up button opens a modal with one text input; its text is answered in the chain by the conversation\'s expert', async () => {
    const ask = fake.slash('ask', { query: 'is it ok to take ibuprofen every day for my back pain' }, { id: '301' });
    const [answer] = (await waitForAnswer(fake, ask, logs)).slice(-1);
    const follow = components(answer!).find((c) => c.type === 2 && c.custom_id?.includes('follow'));
    assert.ok(follow, 'the answer has a Follow up button');
    assert.equal(follow.label, 'Follow up');

    const click = fake.click(answer!, follow.custom_id!, { id: '301' });
    const callback = await fake.waitFor(() => fake.callsFor(click.token).find((c) => c.path.endsWith('/callback')), 20_000, 'the modal');
    assert.equal(callback.body?.type, 9, 'a modal is shown');
    const modal = callback.body?.data as { custom_id: string; components: { components: { custom_id: string; type: number }[] }[] };
    assert.ok(modal.custom_id.includes('follow'));
    const inputs = modal.components.flatMap((row) => row.components);
    assert.equal(inputs.length, 1, 'one text input');
    assert.equal(inputs[0]!.type, 4);

    const submit = fake.submitModal(answer!, modal.custom_id, { [inputs[0]!.custom_id]: 'how much is too much' }, { id: '301' });
    const chained = await waitForAnswer(fake, submit, logs);
    assert.match(chained[0]!.content, /^🩺 Healthcare Expert · /, 'the follow-up stays with the healthcare expert, with the usual header');
    assert.ok(components(chained.at(-1)!).some((c) => c.custom_id?.includes('follow')), 'the follow-up answer can be followed up too');
    assert.notEqual(chained[0]!.id, answer!.id, 'a new message, not an edit of the answer');
    const rows = turns(app, '301');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up, r.expert]), [[1, 0, 'healthcare'], [2, 1, 'healthcare']]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
    const root = fake.messagesFor(ask.token)[0]!;
    assert.equal(rows[1]!.key, `discord:${CHANNEL_ID}:${root.id}`, 'keyed by the channel and the first answer\'s message');
    assert.ok(!fake.callsFor(ask.token).some((c) => c.method === 'GET'), 'named by the deferral\'s response: no extra request');
  });

  test('when the deferral\'s response has no body, the reply message is fetched; if that fails too, the interaction keys it', async () => {
    fake.callbackResponses = false; // e.g. a proxy that drops callback bodies
    try {
      const fetched = fake.slash('ask', { query: 'how do i set up 2fa on my gmail' }, { id: '308' });
      const [answer] = await waitForAnswer(fake, fetched, logs);
      assert.ok(fake.callsFor(fetched.token).some((c) => c.method === 'GET' && c.path.endsWith('/messages/@original')), 'fetched @original');
      fake.failNext('GET', /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/, { status: 404, code: 10008, message: 'Unknown Message' });
      const unknown = fake.slash('ask', { query: 'what is a good way to save for retirement' }, { id: '308' });
      const [second] = await waitForAnswer(fake, unknown, logs);
      assert.match(second!.content, /^💰 Finance Expert · /, 'still answered');
      assert.ok(logs.some((l) => l.message === 'discord: could not fetch the reply message' && l.fields.interactionId === unknown.id));
      assert.deepEqual(turns(app, '308').map((r) => [r.turn, r.key]), [[1, `discord:${CHANNEL_ID}:${answer!.id}`], [1, `discord:${CHANNEL_ID}:${unknown.id}`]]);
    } finally {
      fake.callbackResponses = true;
    }
  });

  test('/ask in a DM is keyed by the DM channel and the answer message', async () => {
    const ask = fake.slash('ask', { query: 'how do i set up 2fa on my gmail' }, { id: '309' }, undefined, { dm: true });
    const [answer] = await waitForAnswer(fake, ask, logs);
    assert.equal(answer!.channel_id, DM_CHANNEL_ID);
    assert.deepEqual(turns(app, '309').map((r) => [r.turn, r.key]), [[1, `discord:${DM_CHANNEL_ID}:${answer!.id}`]]);
  });

  test('a reply that mentions the bot continues the answer\'s conversation; other messages are ignored', async () => {
    const ask = fake.slash('ask', { query: 'my credit card got charged twice for the same order' }, { id: '302' });
    const answer = (await waitForAnswer(fake, ask, logs)).at(-1)!;
    const before = fake.channelMessages().length;
    fake.userMessage('thanks', { id: '302' }, { replyTo: answer }); // no mention: Discord sends no text, and it is no follow-up
    fake.userMessage('<@900000000000000003> how do i budget', { id: '302' }, { mentionsBot: true }); // a mention, but no reply
    await poll(() => logs.filter((l) => l.message === 'discord: message ignored').length >= 2, 'the two messages to be ignored');

    fake.userMessage('<@900000000000000003> should i call the bank or dispute it in the app', { id: '302' }, { replyTo: answer, mentionsBot: true });
    const reply = await fake.waitFor(() => fake.channelMessages().slice(before).find((m) => hasVotes(m)), 60_000, 'the reply answer');
    assert.match(reply.content, /^💰 Finance Expert · /);
    assert.ok(!reply.content.includes('💭'), 'the placeholder was replaced by the answer');
    const rows = turns(app, '302');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up]), [[1, 0], [2, 1]]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
    assert.equal(rows[1]!.key, `discord:${CHANNEL_ID}:${answer.id}`, 'the reply keeps the conversation\'s key');
    const reasons = logs.filter((l) => l.message === 'discord: message ignored').map((l) => l.fields.reason);
    assert.ok(reasons.includes('not a reply') && reasons.includes('does not mention the bot'), JSON.stringify(reasons));
    // Guilds + Guild Messages (1 | 512): the privileged Message Content intent (1 << 15) is not asked for.
    assert.deepEqual(fake.identified.map((d) => d.intents), [1 | 512]);
    const sent = fake.calls.filter((c) => c.path.startsWith(`/channels/${CHANNEL_ID}/messages`) && typeof c.body?.content === 'string');
    assert.ok(sent.length >= 2, 'the placeholder and the answer');
    for (const c of sent) assert.deepEqual(c.body?.allowed_mentions, { parse: [] }, `${c.method} ${c.path} pings no one`);
  });

  test('/ask inside a thread continues the thread\'s conversation', async () => {
    const threadId = fake.snowflake();
    const first = fake.slash('ask', { query: 'how do i set up 2fa on my gmail' }, { id: '303' }, undefined, { threadId });
    await waitForAnswer(fake, first, logs);
    const second = fake.slash('ask', { query: 'what if i lose my phone' }, { id: '303' }, undefined, { threadId });
    const answer = await waitForAnswer(fake, second, logs);
    assert.match(answer[0]!.content, /^🔐 Cybersecurity Expert · /);
    assert.equal(answer[0]!.channel_id, threadId, 'answered in the thread');
    const outside = fake.slash('ask', { query: 'what if i lose my phone' }, { id: '303' });
    const [outsideAnswer] = await waitForAnswer(fake, outside, logs);
    const rows = turns(app, '303');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up]), [[1, 0], [2, 1], [1, 0]]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
    assert.notEqual(rows[2]!.conversation_id, rows[0]!.conversation_id, '/ask outside the thread starts its own conversation');
    assert.deepEqual(rows.map((r) => r.key), [`discord:${threadId}:${threadId}`, `discord:${threadId}:${threadId}`, `discord:${CHANNEL_ID}:${outsideAnswer!.id}`]);
  });

  test('/ask in a thread Discord never announced to the bot (uncached: a user install elsewhere, a private thread) continues it too', async () => {
    const threadId = fake.snowflake();
    const place = { threadId, announced: false };
    await waitForAnswer(fake, fake.slash('ask', { query: 'how do i set up 2fa on my gmail' }, { id: '310' }, undefined, place), logs);
    const answer = await waitForAnswer(fake, fake.slash('ask', { query: 'what if i lose my phone' }, { id: '310' }, undefined, place), logs);
    assert.equal(answer[0]!.channel_id, threadId, 'answered in the thread');
    const rows = turns(app, '310');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up, r.key]), [[1, 0, `discord:${threadId}:${threadId}`], [2, 1, `discord:${threadId}:${threadId}`]]);
  });

  test('the first /ask in a thread started from one of the bot\'s answers continues that answer\'s conversation', async () => {
    const ask = fake.slash('ask', { query: 'is it ok to take ibuprofen every day for my back pain' }, { id: '304' });
    const [answer] = await waitForAnswer(fake, ask, logs);
    const threadId = answer!.id; // a thread started from a message has that message's id
    const inThread = fake.slash('ask', { query: 'how much is too much' }, { id: '304' }, undefined, { threadId });
    const threadAnswer = await waitForAnswer(fake, inThread, logs);
    assert.equal(threadAnswer[0]!.channel_id, threadId, 'answered in the thread');
    assert.match(threadAnswer[0]!.content, /^🩺 Healthcare Expert · /, 'with the conversation\'s expert and the usual header');
    const again = fake.slash('ask', { query: 'and if i drink alcohol' }, { id: '304' }, undefined, { threadId });
    await waitForAnswer(fake, again, logs);
    // The Follow up button on the thread's answer stays in the conversation, and answers in the thread.
    const follow = components(threadAnswer.at(-1)!).find((c) => c.custom_id?.includes('follow'))!;
    const click = fake.click(threadAnswer.at(-1)!, follow.custom_id!, { id: '304' });
    const callback = await fake.waitFor(() => fake.callsFor(click.token).find((c) => c.path.endsWith('/callback')), 20_000, 'the modal');
    const modal = callback.body?.data as { custom_id: string; components: { components: { custom_id: string }[] }[] };
    const submit = fake.submitModal(threadAnswer.at(-1)!, modal.custom_id, { [modal.components[0]!.components[0]!.custom_id]: 'what about for kids' }, { id: '304' });
    const [followed] = await waitForAnswer(fake, submit, logs);
    assert.equal(followed!.channel_id, threadId);

    let rows = turns(app, '304');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up, r.expert]), [[1, 0, 'healthcare'], [2, 1, 'healthcare'], [3, 1, 'healthcare'], [4, 1, 'healthcare']]);
    assert.equal(new Set(rows.map((r) => r.conversation_id)).size, 1, 'one conversation');
    assert.equal(rows[0]!.key, `discord:${CHANNEL_ID}:${answer!.id}`);

    // Past CONVERSATION_MAX_TURNS (4 here) the thread starts afresh under its own key, says so once, and goes on there.
    const [fresh] = await waitForAnswer(fake, fake.slash('ask', { query: 'is it safe with blood thinners' }, { id: '304' }, undefined, { threadId }), logs);
    assert.equal(fresh!.content.split('\n')[1], '_New conversation: the earlier one reached its maximum length, so I started fresh._');
    const [next] = await waitForAnswer(fake, fake.slash('ask', { query: 'what about for kids' }, { id: '304' }, undefined, { threadId }), logs);
    assert.equal(next!.content.split('\n')[1], '', 'no notice: the new conversation runs');
    rows = turns(app, '304');
    assert.deepEqual(rows.slice(4).map((r) => [r.turn, r.follow_up, r.key]), [[1, 0, `discord:${threadId}:${threadId}`], [2, 1, `discord:${threadId}:${threadId}`]]);
    assert.equal(rows[4]!.conversation_id, rows[5]!.conversation_id);
  });

  test('past CONVERSATION_MAX_TURNS the next /ask in the thread starts afresh under the same key, and the answer says so in one line', async () => {
    const threadId = fake.snowflake();
    const questions = ['how do i set up 2fa on my gmail', 'what if i lose my phone', 'are backup codes safe', 'what about passkeys', 'and on my work account'];
    const answers: FakeMessage[][] = [];
    for (const query of questions) answers.push(await waitForAnswer(fake, fake.slash('ask', { query }, { id: '307' }, undefined, { threadId }), logs));
    const notices = answers.map((a) => a[0]!.content.split('\n')[1]);
    assert.deepEqual(notices.slice(0, 4), ['', '', '', ''], 'no notice while the conversation runs');
    assert.equal(notices[4], '_New conversation: the earlier one reached its maximum length, so I started fresh._');
    const rows = turns(app, '307');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up]), [[1, 0], [2, 1], [3, 1], [4, 1], [1, 0]]);
    assert.equal(new Set(rows.slice(0, 4).map((r) => r.conversation_id)).size, 1);
    assert.notEqual(rows[4]!.conversation_id, rows[0]!.conversation_id, 'a new conversation');
    assert.equal(rows[4]!.key, `discord:${threadId}:${threadId}`, 'under the same key (the key\'s row now holds the new conversation)');
  });

  test('a thread started from someone else\'s message is a conversation of its own; one from a deleted answer still continues it', async () => {
    const people = fake.userMessage('', { id: '305' }); // no mention: the bot does not even get its text
    await poll(() => logs.some((l) => l.message === 'discord: message ignored' && l.fields.messageId === people.id), 'the message to be ignored');
    const inThread = fake.slash('ask', { query: 'what if i lose my phone' }, { id: '305' }, undefined, { threadId: people.id });
    const [answer] = await waitForAnswer(fake, inThread, logs);
    assert.equal(answer!.channel_id, people.id);
    assert.deepEqual(turns(app, '305').map((r) => [r.turn, r.follow_up, r.key]), [[1, 0, `discord:${people.id}:${people.id}`]]);

    const ask = fake.slash('ask', { query: 'my credit card got charged twice for the same order' }, { id: '306' });
    const [deleted] = await waitForAnswer(fake, ask, logs);
    fake.deleteMessage(deleted!); // the thread stays; its starter is gone, the answer's conversation is still in the log
    const afterDelete = fake.slash('ask', { query: 'should i call the bank or dispute it in the app' }, { id: '306' }, undefined, { threadId: deleted!.id });
    const [continued] = await waitForAnswer(fake, afterDelete, logs);
    assert.match(continued!.content, /^💰 Finance Expert · /);
    const rows = turns(app, '306');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up]), [[1, 0], [2, 1]]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
  });
});
