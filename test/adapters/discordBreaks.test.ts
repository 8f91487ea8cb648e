/**
 * Discord answers whose expert breaks mid-answer: the real discord.js Client against the fake Discord, the real Router,
 * and two experts served by loopback engines (test/support/fakeEngine.ts) that fail the way serving engines do.
 * Before any of the expert's text was on screen the fallback expert answers; after, the message ends with an error line.
 * An answer still being written can be replied to, and deleted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDiscord, type DiscordBot } from '../../adapters/discord/index.js';
import { FakeDiscord, type FakeMessage, type InteractionHandle } from '../support/fakeDiscord.js';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';
import { captureLogger, type LogLine } from '../support/captureLogger.js';
import { writeEndpointRegistry } from '../support/writeDemoRegistry.js';
import type { ExpertId } from '../../src/gate/types.js';

const EPHEMERAL = 64;
const FINANCE_ANSWER = 'Dispute the duplicate charge with your card issuer and keep the receipt.';
/** Long enough (one word per 150 ms) that the engine is still writing when the test stops it. */
const SECURITY_ANSWER = Array.from({ length: 80 }, (_, i) => `step${i}`).join(' ');

type Component = { type: number; custom_id?: string; emoji?: { name?: string } };

function components(m: FakeMessage): Component[] {
  return (m.components as { components: Component[] }[]).flatMap((row) => row.components);
}

const hasVotes = (m: FakeMessage): boolean => components(m).some((c) => c.emoji?.name === '👍');

function ephemeralTexts(fake: FakeDiscord, h: InteractionHandle): string[] {
  return fake.callsFor(h.token).flatMap((c) => {
    const data = (c.path.endsWith('/callback') ? c.body?.data : c.body) as { content?: string; flags?: number } | undefined;
    return c.method === 'POST' && typeof data?.content === 'string' && ((data.flags ?? 0) & EPHEMERAL) ? [data.content] : [];
  });
}

describe('Discord answers whose expert breaks', () => {
  let fake: FakeDiscord;
  let finance: FakeEngine;
  let security: FakeEngine;
  let app: TestApp;
  let bot: DiscordBot;
  let tmp: { dir: string; remove(): void };
  const logs: LogLine[] = [];

  before(async () => {
    fake = new FakeDiscord();
    await fake.start();
    finance = await startFakeEngine({ model: 'fin', answer: FINANCE_ANSWER });
    security = await startFakeEngine({ model: 'sec', answer: SECURITY_ANSWER, chunkDelayMs: 150 });
    tmp = makeTempDir('moe-discord-breaks-');
    const registry = await writeEndpointRegistry(tmp.dir, { finance: { baseUrl: finance.baseUrl, model: 'fin' }, cybersecurity: { baseUrl: security.baseUrl, model: 'sec' } });
    app = await createTestApp({ DISCORD_TOKEN: 'fake-token', DISCORD_API_URL: fake.apiUrl, EXPERTS_PATH: registry });
    bot = await startDiscord({ router: app.core, config: app.config, logger: captureLogger(logs), editIntervalMs: 200 });
  });
  after(async () => {
    await bot?.stop();
    await app?.dispose();
    await finance?.stop().catch(() => undefined);
    await security?.stop().catch(() => undefined);
    await fake?.close();
    tmp?.remove();
  });

  /** The background probe reports the engine up (a positive signal, polled: it makes no call the fakes see). */
  async function endpointUp(id: ExpertId): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (app.core.expertStatus().find((s) => s.id === id)?.endpoint?.health !== 'up') {
      if (Date.now() > deadline) assert.fail(`${id}'s engine never came up`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test('broken before any of its text was shown: the fallback expert answers in the same message', async () => {
    await endpointUp('finance');
    finance.setMode({ kind: 'malformed', goodChunks: 4 }); // four words, then a chunk that is not JSON, in one write
    const ask = fake.slash('ask', { query: 'my credit card got charged twice for the same order' }, { id: '700' });
    const answer = await fake.waitFor(() => fake.messagesFor(ask.token).find((m) => !m.deleted && hasVotes(m)), 60_000, 'the answer');
    assert.equal(fake.messagesFor(ask.token)[0], answer, 'the deferred reply itself carries the answer');
    assert.match(answer.content.split('\n')[0]!, /^💬 General Assistant · fallback: the chosen expert is unavailable/);
    assert.ok(answer.content.split('\n\n')[1]!.trim().length > 0, 'an answer under the header');
    const edits = fake.callsFor(ask.token).filter((c) => c.method === 'PATCH').map((c) => String(c.body?.content));
    assert.ok(edits.every((content) => !content.includes('Dispute')), 'none of the broken expert\'s words were ever shown');
    assert.deepEqual(ephemeralTexts(fake, ask), [], 'no error');
    assert.ok(finance.calls.some((c) => c.path === '/v1/chat/completions'), 'the finance engine was asked first');

    const decisionId = components(answer).find((c) => c.emoji?.name === '👍')!.custom_id!.split(':')[2]!;
    const row = app.store.getDecision(decisionId)!;
    assert.deepEqual([row.status, row.gateExpert, row.expert, row.fallbackReason], ['answered', 'finance', 'general', 'expert_unavailable']);
  });

  test('a reply with a mention to an answer still being written is a follow-up of its conversation', async () => {
    await endpointUp('cybersecurity');
    const ask = fake.slash('ask', { query: 'how do i recognise a phishing email' }, { id: '702' });
    const first = await fake.waitFor(() => fake.messagesFor(ask.token).find((m) => m.content.includes('step2')), 60_000, 'the answer streaming');
    assert.ok(!hasVotes(first), 'still being written');
    const before = fake.channelMessages().length;
    fake.userMessage('<@900000000000000003> and what about sms phishing', { id: '702' }, { replyTo: first, mentionsBot: true });
    const reply = await fake.waitFor(() => fake.channelMessages().slice(before).find((m) => hasVotes(m)), 60_000, 'the follow-up\'s answer');
    assert.match(reply.content, /^🔐 Cybersecurity Expert · /);
    const rows = app.store.db.prepare("SELECT turn, follow_up, conversation_id FROM decisions WHERE user_id = '702' ORDER BY created_at").all() as { turn: number; follow_up: number; conversation_id: string }[];
    assert.deepEqual(rows.map((r) => [r.turn, r.follow_up]), [[1, 0], [2, 1]]);
    assert.equal(rows[0]!.conversation_id, rows[1]!.conversation_id);
  });

  test('an answer deleted while it is written stops its generation: the row is cancelled, nobody is told of an error', async () => {
    await endpointUp('cybersecurity');
    const ask = fake.slash('ask', { query: 'how do i secure my home wifi router' }, { id: '703' });
    const first = await fake.waitFor(() => fake.messagesFor(ask.token).find((m) => m.content.includes('step2')), 60_000, 'the answer streaming');
    first.deleted = true; // a moderator deletes it
    // Polled: once generation stops, the fakes see no more calls to wake a waitFor. The log line is the answer flow's end.
    const stopped = (): boolean => logs.some((l) => l.message.startsWith('discord: the answer was deleted while it was written') && l.fields.userId === '703');
    for (const deadline = Date.now() + 30_000; !stopped() && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(stopped(), 'the answer flow ended on the deleted message');
    const row = app.store.db.prepare("SELECT status, error FROM decisions WHERE user_id = '703'").get() as { status: string; error: string | null };
    assert.equal(row.status, 'cancelled', `${row.status}: ${String(row.error)}`);
    assert.deepEqual(ephemeralTexts(fake, ask), [], 'no error told to anyone');
    assert.ok(!fake.messagesFor(ask.token).some((m) => !m.deleted), 'nothing posted in its place');
    // Before, every throttled edit until the expert finished failed the same way (~40 here).
    const gone = fake.callsFor(ask.token).filter((c) => c.method === 'PATCH' && c.status === 404);
    assert.ok(gone.length >= 1 && gone.length <= 3, `${gone.length} edits found the message gone`);
  });

  test('broken after some of its text was shown: the message keeps that text and ends with an error line', async () => {
    await endpointUp('cybersecurity');
    const ask = fake.slash('ask', { query: 'how do i set up 2fa on my gmail' }, { id: '701' });
    await fake.waitFor(() => fake.callsFor(ask.token).find((c) => c.method === 'PATCH' && String(c.body?.content).includes('step0')), 60_000, 'the first words on screen');
    await security.stop(); // the engine goes away mid-answer
    const ended = await fake.waitFor(() => fake.messagesFor(ask.token).find((m) => m.content.includes('unavailable')), 30_000, 'the error line');
    assert.match(ended.content, /^🔐 Cybersecurity Expert · /, 'the header stays');
    assert.match(ended.content, /\n\nstep0\b/, 'the text shown stays');
    assert.match(ended.content, /\n\n⚠️ That expert is unavailable right now\. Please try again later\.$/, 'it ends with the error line');
    assert.ok(!ended.content.includes('▌'), 'no streaming cursor');
    assert.equal(ended.deleted, false);
    assert.deepEqual(components(ended), [], 'no buttons on an answer that failed');
    assert.deepEqual(ephemeralTexts(fake, ask), [], 'told in the message, not privately');
    assert.equal(fake.messagesFor(ask.token).length, 1);

    const rows = app.store.db.prepare("SELECT status, error, expert FROM decisions WHERE user_id = '701'").all() as { status: string; error: string; expert: string }[];
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]!.status, rows[0]!.expert], ['failed', 'cybersecurity']);
    assert.match(rows[0]!.error, /^expert_unavailable: /);
  });
});
