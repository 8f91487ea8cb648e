/**
 * Discord follow-ups end to end: the real discord.js Client against the fake Discord on loopback, the real Router
 * (real gate, demo experts, SQLite file). Assertions are on the REST calls a user would see and on the decision log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startDiscord, type DiscordBot } from '../../adapters/discord/index.js';
import { FakeDiscord, type FakeMessage, type InteractionHandle } from '../support/fakeDiscord.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { captureLogger, type LogLine } from '../support/captureLogger.js';

type Component = { type: number; custom_id?: string; label?: string; emoji?: { name?: string }; components?: Component[]; style?: number };

function components(m: FakeMessage): Component[] {
  return (m.components as { components: Component[] }[]).flatMap((row) => row.components);
}

const hasVotes = (m: FakeMessage): boolean => components(m).some((c) => c.emoji?.name === '👍');

function waitForAnswer(fake: FakeDiscord, h: InteractionHandle): Promise<FakeMessage[]> {
  return fake.waitFor(() => {
    const visible = fake.messagesFor(h.token).filter((m) => !m.deleted);
    return visible.length > 0 && hasVotes(visible[visible.length - 1]!) ? visible : null;
  }, 60_000, `answer to ${h.token}`);
}

function turns(app: TestApp, user: string): { turn: number; follow_up: number; route_reason: string; expert: string; conversation_id: string }[] {
  const db = new Database(path.join(app.dir, 'moe.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT turn, follow_up, route_reason, expert, conversation_id FROM decisions WHERE user_id = ? ORDER BY created_at').all(user) as ReturnType<typeof turns>;
  } finally {
    db.close();
  }
}

/** Polls `check` (for effects that make no REST call, e.g. a log line). */
async function poll(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    app = await createTestApp({ DISCORD_TOKEN: 'fake-token', DISCORD_API_URL: fake.apiUrl });
    bot = await startDiscord({ router: app.core, config: app.config, logger: captureLogger(logs), editIntervalMs: 200 });
  });
  after(async () => {
    await bot?.stop();
    await app?.dispose();
    await fake?.close();
  });

  test('the Follow up button opens a modal with one text input; its text is answered in the chain by the conversation\'s expert', async () => {
    const ask = fake.slash('ask', { query: 'is it ok to take ibuprofen every day for my back pain' }, { id: '301' });
    const [answer] = (await waitForAnswer(fake, ask)).slice(-1);
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
    const chained = await waitForAnswer(fake, submit);
    assert.match(chained[0]!.content, /^🩺 Healthcare Expert · /, 'the follow-up stays with the healthcare expert, with the usual header');
    assert.ok(components(chained.at(-1)!).some((c) => c.custom_id?.includes('follow')), 'the follow-up answer can be followed up too');
    const rows = turns(app, '301');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up, r.expert]), [[1, 0, 'healthcare'], [2, 1, 'healthcare']]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
  });

  test('a reply that mentions the bot continues the answer\'s conversation; other messages are ignored', async () => {
    const ask = fake.slash('ask', { query: 'my credit card got charged twice for the same order' }, { id: '302' });
    const answer = (await waitForAnswer(fake, ask)).at(-1)!;
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
    const reasons = logs.filter((l) => l.message === 'discord: message ignored').map((l) => l.fields.reason);
    assert.ok(reasons.includes('not a reply') && reasons.includes('does not mention the bot'), JSON.stringify(reasons));
  });

  test('/ask inside a thread continues the thread\'s conversation', async () => {
    const threadId = fake.snowflake();
    const first = fake.slash('ask', { query: 'how do i set up 2fa on my gmail' }, { id: '303' }, undefined, { threadId });
    await waitForAnswer(fake, first);
    const second = fake.slash('ask', { query: 'what if i lose my phone' }, { id: '303' }, undefined, { threadId });
    const answer = await waitForAnswer(fake, second);
    assert.match(answer[0]!.content, /^🔐 Cybersecurity Expert · /);
    const outside = fake.slash('ask', { query: 'what if i lose my phone' }, { id: '303' });
    await waitForAnswer(fake, outside);
    const rows = turns(app, '303');
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up]), [[1, 0], [2, 1], [1, 0]]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
    assert.notEqual(rows[2]!.conversation_id, rows[0]!.conversation_id, '/ask outside the thread starts its own conversation');
  });
});
