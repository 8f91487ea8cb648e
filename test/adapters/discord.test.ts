/**
 * The Discord adapter end to end: the real discord.js Client logs in to a fake Discord on loopback
 * (test/support/fakeDiscord.ts) and drives the real Router (createApp: temp SQLite file, real gate, real
 * node-llama-cpp demo experts). Assertions are on what a Discord user would see: the REST calls the bot makes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startDiscord, type DiscordBot } from '../../adapters/discord/index.js';
import { PERMISSION_MESSAGE } from '../../adapters/discord/replies.js';
import {
  ADMIN_PERMISSIONS, DM_CHANNEL_ID, FakeDiscord, MISSING_ACCESS, MISSING_PERMISSIONS, type FakeMessage, type InteractionHandle, type RecordedCall,
} from '../support/fakeDiscord.js';
import { createTestApp, REPO_ROOT, type TestApp } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';
import { writeEditedRegistry, writeLongAnswerModel } from '../support/writeDemoRegistry.js';
import { captureLogger, type LogLine } from '../support/captureLogger.js';

const EDIT_INTERVAL_MS = 200;
const EPHEMERAL = 64;


interface Harness {
  fake: FakeDiscord;
  app: TestApp;
  bot: DiscordBot;
  logs: LogLine[];
  close(): Promise<void>;
}

async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const fake = new FakeDiscord();
  await fake.start();
  const app = await createTestApp({ DISCORD_TOKEN: 'fake-token', DISCORD_API_URL: fake.apiUrl, ...env });
  const logs: LogLine[] = [];
  const bot = await startDiscord({ router: app.core, config: app.config, logger: captureLogger(logs), editIntervalMs: EDIT_INTERVAL_MS });
  return {
    fake, app, bot, logs,
    async close() {
      await bot.stop();
      await app.dispose();
      await fake.close();
    },
  };
}

type Component = { type: number; custom_id?: string; label?: string; emoji?: { name?: string }; options?: { value: string; label: string }[] };

function components(m: FakeMessage): Component[] {
  return (m.components as { components: Component[] }[]).flatMap((row) => row.components);
}

function voteButtons(m: FakeMessage): { up: string; down: string } | null {
  const list = components(m);
  const up = list.find((c) => c.emoji?.name === '👍')?.custom_id;
  const down = list.find((c) => c.emoji?.name === '👎')?.custom_id;
  return up && down ? { up, down } : null;
}

/** The visible messages of an answered interaction, once the last one carries the vote buttons. */
function waitForAnswer(fake: FakeDiscord, h: InteractionHandle, timeoutMs = 60_000): Promise<FakeMessage[]> {
  return fake.waitFor(() => {
    const visible = fake.messagesFor(h.token).filter((m) => !m.deleted);
    return visible.length > 0 && voteButtons(visible[visible.length - 1]!) ? visible : null;
  }, timeoutMs, `answer to ${h.token}`);
}

/** The first interaction callback (the response Discord requires within 3 s). */
function waitForCallback(fake: FakeDiscord, h: InteractionHandle, timeoutMs = 20_000): Promise<RecordedCall> {
  return fake.waitFor(() => fake.callsFor(h.token).find((c) => c.path.endsWith('/callback')), timeoutMs, `callback of ${h.token}`);
}

/** An ephemeral message the user got, whichever way it was sent (callback reply, or follow-up). */
function waitForEphemeral(fake: FakeDiscord, h: InteractionHandle, timeoutMs = 20_000): Promise<string> {
  return fake.waitFor(() => {
    for (const c of fake.callsFor(h.token)) {
      const data = (c.path.endsWith('/callback') ? c.body?.data : c.body) as { content?: string; flags?: number } | undefined;
      if (c.method === 'POST' && data && typeof data.content === 'string' && ((data.flags ?? 0) & EPHEMERAL)) return data.content;
    }
    return null;
  }, timeoutMs, `ephemeral reply to ${h.token}`);
}

/** Polls `check` until it returns a value (for effects that follow the last REST call). */
async function eventually<T>(check: () => T | null | undefined, timeoutMs = 5_000): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if ((value !== null && value !== undefined) || Date.now() > deadline) return value ?? null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function decisionIdOf(m: FakeMessage): string {
  const up = voteButtons(m)?.up;
  assert.ok(up, 'answer has vote buttons');
  return up.split(':')[2]!;
}

function openDb(app: TestApp): Database.Database {
  return new Database(path.join(app.dir, 'moe.sqlite'), { readonly: true, fileMustExist: true });
}

/** Every call that sends message text must forbid pings. */
function assertNoMentionsAllowed(calls: RecordedCall[]): number {
  let checked = 0;
  for (const c of calls) {
    const data = (c.path.endsWith('/callback') ? c.body?.data : c.body) as { content?: unknown; allowed_mentions?: unknown } | undefined;
    if (c.method === 'GET' || !data || typeof data.content !== 'string') continue;
    assert.deepEqual(data.allowed_mentions, { parse: [] }, `${c.method} ${c.path} allows mentions`);
    checked++;
  }
  return checked;
}

describe('Discord adapter with demo experts', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_LIMIT_PER_USER: '5/min' });
  });
  after(async () => {
    await h?.close();
  });

  test('/ask defers at once, then shows the expert, confidence, demo label and vote buttons', async () => {
    const ask = h.fake.slash('ask', { query: 'How do I spot a phishing email that asks me to reset my password?' }, { id: '100' });
    const callback = await waitForCallback(h.fake, ask);
    assert.equal(callback.body?.type, 5, 'deferred (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE)');
    assert.equal(((callback.body?.data as { flags?: number }).flags ?? 0) & EPHEMERAL, 0, 'the answer is public');
    assert.ok(callback.at - ask.sentAt < 3000, 'deferred inside Discord\'s 3-second window');

    const [answer, ...rest] = await waitForAnswer(h.fake, ask);
    assert.equal(rest.length, 0);
    assert.match(answer!.content, /^🔐 Cybersecurity Expert · \d{1,3}%/);
    assert.match(answer!.content.split('\n')[0]!, /_demo model output_/);
    assert.ok(answer!.content.split('\n\n')[1]!.trim().length > 0, 'an answer body under the header');
    assert.equal(answer!.flags & EPHEMERAL, 0);

    const decisionId = decisionIdOf(answer!);
    const db = openDb(h.app);
    const row = db.prepare('SELECT expert, status, platform, user_id FROM decisions WHERE id = ?').get(decisionId) as Record<string, unknown>;
    db.close();
    assert.deepEqual(row, { expert: 'cybersecurity', status: 'answered', platform: 'discord', user_id: '100' });
    const patches = h.fake.callsFor(ask.token).filter((c) => c.method === 'PATCH');
    assert.ok(patches.length >= 1);
    const linked = await eventually(() => h.app.core.findDecisionByMessage('discord', `${answer!.channel_id}:${answer!.id}`));
    assert.equal(linked, decisionId, 'the answer message is linked to its decision');
  });

  test('👍 records a vote; voting again changes it; both confirmed privately', async () => {
    const ask = h.fake.slash('ask', { query: 'Should I use a password manager for my accounts?' }, { id: '101' });
    const [answer] = await waitForAnswer(h.fake, ask);
    const { up, down } = voteButtons(answer!)!;
    const decisionId = decisionIdOf(answer!);

    const click = h.fake.click(answer!, up, { id: '201' });
    assert.match(await waitForEphemeral(h.fake, click), /Recorded your 👍/);
    const db = openDb(h.app);
    const vote = (): unknown => db.prepare('SELECT vote, corrected_expert FROM feedback WHERE decision_id = ? AND user_id = ?').get(decisionId, '201');
    assert.deepEqual(vote(), { vote: 1, corrected_expert: null });

    const again = h.fake.click(answer!, down, { id: '201' });
    assert.match(await waitForEphemeral(h.fake, again), /Changed your vote to 👎/);
    assert.deepEqual(vote(), { vote: -1, corrected_expert: null });
    const count = db.prepare('SELECT COUNT(*) AS n FROM feedback WHERE decision_id = ?').get(decisionId) as { n: number };
    db.close();
    assert.equal(count.n, 1, 'one vote per user per answer');
  });

  test('👎 → "which expert should have answered?" → the correction is stored in SQLite', async () => {
    const ask = h.fake.slash('ask', { query: 'How much of my salary should I put into savings each month?' }, { id: '102' });
    const [answer] = await waitForAnswer(h.fake, ask);
    const decisionId = decisionIdOf(answer!);
    const down = h.fake.click(answer!, voteButtons(answer!)!.down, { id: '202' });
    assert.match(await waitForEphemeral(h.fake, down), /Which expert should have answered\?/);

    const [menu] = h.fake.messagesFor(down.token);
    assert.ok(menu && menu.flags & EPHEMERAL, 'the menu is only shown to the voter');
    const select = components(menu).find((c) => c.type === 3)!;
    assert.deepEqual(select.options!.map((o) => o.value).sort(), ['cybersecurity', 'finance', 'general', 'healthcare']);
    const askInstead = components(menu).find((c) => c.type === 2 && /^Ask .+ instead$/.test(c.label ?? ''));
    assert.ok(askInstead, 'an "Ask <runner-up> instead" button');

    const pick = h.fake.select(menu, select.custom_id!, ['healthcare'], { id: '202' });
    await h.fake.waitFor(() => h.fake.callsFor(pick.token).find((c) => c.path.endsWith('/callback')));
    const update = h.fake.callsFor(pick.token)[0]!;
    assert.equal(update.body?.type, 7, 'the private menu is updated in place');
    assert.match(String((update.body?.data as { content?: string }).content), /Healthcare Expert should have answered/);

    const db = openDb(h.app);
    const row = db.prepare('SELECT vote, corrected_expert, is_admin FROM feedback WHERE decision_id = ? AND user_id = ?').get(decisionId, '202');
    db.close();
    assert.deepEqual(row, { vote: -1, corrected_expert: 'healthcare', is_admin: 0 });
  });

  test('an admin\'s correction is marked as an admin correction', async () => {
    const ask = h.fake.slash('ask', { query: 'What are the symptoms of the flu?' }, { id: '103' });
    const [answer] = await waitForAnswer(h.fake, ask);
    const decisionId = decisionIdOf(answer!);
    const down = h.fake.click(answer!, voteButtons(answer!)!.down, { id: '203' }, ADMIN_PERMISSIONS);
    await waitForEphemeral(h.fake, down);
    const [menu] = h.fake.messagesFor(down.token);
    const select = components(menu!).find((c) => c.type === 3)!;
    const pick = h.fake.select(menu!, select.custom_id!, ['general'], { id: '203' }, ADMIN_PERMISSIONS);
    await h.fake.waitFor(() => h.fake.callsFor(pick.token).length > 0);
    const db = openDb(h.app);
    const row = db.prepare('SELECT corrected_expert, is_admin FROM feedback WHERE decision_id = ?').get(decisionId);
    db.close();
    assert.deepEqual(row, { corrected_expert: 'general', is_admin: 1 });
  });

  test('"Ask <runner-up> instead" re-routes the same question and posts a new answer with its own buttons', async () => {
    const ask = h.fake.slash('ask', { query: 'Is it safe to click links in emails about my bank account?' }, { id: '104' });
    const [answer] = await waitForAnswer(h.fake, ask);
    const firstId = decisionIdOf(answer!);
    const down = h.fake.click(answer!, voteButtons(answer!)!.down, { id: '104' });
    await waitForEphemeral(h.fake, down);
    const [menu] = h.fake.messagesFor(down.token);
    const askInstead = components(menu!).find((c) => c.type === 2 && c.custom_id?.startsWith('moe:ask:'))!;
    const runnerUp = askInstead.custom_id!.split(':')[3]!;
    assert.notEqual(runnerUp, 'cybersecurity');

    const reroute = h.fake.click(menu!, askInstead.custom_id!, { id: '104' });
    const callback = await waitForCallback(h.fake, reroute);
    assert.equal(callback.body?.type, 5);
    assert.equal(((callback.body?.data as { flags?: number }).flags ?? 0) & EPHEMERAL, 0, 'the new answer is public');
    const [second] = await waitForAnswer(h.fake, reroute);
    const secondId = decisionIdOf(second!);
    assert.notEqual(secondId, firstId);
    const names: Record<string, string> = { healthcare: 'Healthcare Expert', finance: 'Finance Expert', general: 'General Assistant' };
    assert.ok(second!.content.startsWith(`${(h.app.router.experts().find((e) => e.id === runnerUp))!.emoji} ${names[runnerUp]}`), second!.content.split('\n')[0]);
    assert.match(second!.content.split('\n')[0]!, /re-asked/);
    const db = openDb(h.app);
    const row = db.prepare('SELECT expert, rerouted_from FROM decisions WHERE id = ?').get(secondId);
    db.close();
    assert.deepEqual(row, { expert: runnerUp, rerouted_from: firstId });
  });

  test('/ask in a DM with the bot (no guild, context 1) streams its answer, and the votes on it are recorded', async () => {
    const ask = h.fake.slash('ask', { query: 'How do I make my home wifi network more secure?' }, { id: '150' }, undefined, { dm: true });
    const callback = await waitForCallback(h.fake, ask);
    assert.equal(callback.body?.type, 5, 'deferred');
    const [answer] = await waitForAnswer(h.fake, ask);
    assert.equal(answer!.channel_id, DM_CHANNEL_ID, 'answered in the DM');
    assert.match(answer!.content, /^🔐 Cybersecurity Expert · \d{1,3}% · _demo model output_\n\n\S/, 'the same header as in a server');
    const edits = h.fake.callsFor(ask.token).filter((c) => c.method === 'PATCH' && c.path.endsWith('@original'));
    assert.ok(edits.length >= 1, 'streamed into the deferred reply');
    const decisionId = decisionIdOf(answer!);
    const db = openDb(h.app);
    const row = db.prepare('SELECT status, platform, user_id, channel_id FROM decisions WHERE id = ?').get(decisionId);
    assert.deepEqual(row, { status: 'answered', platform: 'discord', user_id: '150', channel_id: DM_CHANNEL_ID });
    db.close();
    assert.equal(await eventually(() => h.app.core.findDecisionByMessage('discord', `${DM_CHANNEL_ID}:${answer!.id}`)), decisionId);

    const up = h.fake.click(answer!, voteButtons(answer!)!.up, { id: '150' });
    assert.match(await waitForEphemeral(h.fake, up), /Recorded your 👍/);
    const down = h.fake.click(answer!, voteButtons(answer!)!.down, { id: '150' });
    assert.match(await waitForEphemeral(h.fake, down), /Changed your vote to 👎\. Which expert should have answered\?/);
    const db2 = openDb(h.app);
    const votes = db2.prepare('SELECT user_id, vote, is_admin FROM feedback WHERE decision_id = ?').all(decisionId);
    db2.close();
    assert.deepEqual(votes, [{ user_id: '150', vote: -1, is_admin: 0 }], 'recorded like a vote in a server; no admin rights in a DM');
  });

  test('admin commands sent from a DM are refused privately (they are guild-only)', async () => {
    const stats = h.fake.slash('stats', {}, { id: '151' }, undefined, { dm: true });
    assert.match(await waitForEphemeral(h.fake, stats), /Only server admins/);
  });

  for (const [name, error] of [['Missing Permissions', MISSING_PERMISSIONS], ['Missing Access', MISSING_ACCESS]] as const) {
    test(`${name} while answering: the user is told privately what to grant, and the decision is not left pending`, async () => {
      const user = name === 'Missing Access' ? '161' : '160';
      const ask = h.fake.slash('ask', { query: `How do I choose a good password for my email? (${name})` }, { id: user });
      // Every edit of this reply is refused, as in a channel the bot may not post in.
      h.fake.failNext('PATCH', new RegExp(`/webhooks/\\d+/${ask.token}/messages/@original$`), error, 1000);
      assert.equal(await waitForEphemeral(h.fake, ask, 60_000), PERMISSION_MESSAGE);
      const db = openDb(h.app);
      const rows = db.prepare('SELECT status FROM decisions WHERE user_id = ?').all(user) as { status: string }[];
      db.close();
      assert.equal(rows.length, 1);
      assert.notEqual(rows[0]!.status, 'pending');
      assert.ok(h.fake.messagesFor(ask.token).filter((m) => !(m.flags & EPHEMERAL)).every((m) => m.deleted), 'no public leftovers');
      assert.ok(h.logs.some((l) => l.level === 'warn' && String(l.fields.code) === String(error.code)), 'logged as a warning');
    });
  }

  test('a question with @everyone and a role mention pings no one', async () => {
    const ask = h.fake.slash('ask', { query: '@everyone <@&123456789012345678> how do I choose a strong password?' }, { id: '105' });
    const messages = await waitForAnswer(h.fake, ask);
    assert.ok(messages.length >= 1);
    assert.ok(assertNoMentionsAllowed(h.fake.callsFor(ask.token)) >= 1);
  });

  test('bad input gets a short private answer, never silence', async () => {
    const empty = h.fake.slash('ask', { query: '   ' }, { id: '106' });
    assert.match(await waitForEphemeral(h.fake, empty), /Please type a question/);
    const huge = h.fake.slash('ask', { query: 'password '.repeat(1000) }, { id: '106' });
    assert.match(await waitForEphemeral(h.fake, huge), /too long \(at most 4000 characters\)/);
    const missing = h.fake.slash('ask', {}, { id: '106' });
    assert.match(await waitForEphemeral(h.fake, missing), /Please type a question/);
    const unknownCommand = h.fake.slash('dance', {}, { id: '106' });
    assert.match(await waitForEphemeral(h.fake, unknownCommand), /Unknown command/);

    const ask = h.fake.slash('ask', { query: 'How do I back up my laptop safely?' }, { id: '106' });
    const [answer] = await waitForAnswer(h.fake, ask);
    const foreign = h.fake.click(answer!, 'not-ours:123', { id: '206' });
    assert.match(await waitForEphemeral(h.fake, foreign), /no longer supported/);
    const unknownDecision = h.fake.click(answer!, 'moe:up:00000000-0000-0000-0000-000000000000', { id: '206' });
    assert.match(await waitForEphemeral(h.fake, unknownDecision), /no longer know that answer/);
    const unknownReroute = h.fake.click(answer!, 'moe:ask:00000000-0000-0000-0000-000000000000:finance', { id: '206' });
    const text = await waitForEphemeral(h.fake, unknownReroute);
    assert.match(text, /no longer know that answer/);
    assert.ok(h.fake.messagesFor(unknownReroute.token).filter((m) => !(m.flags & EPHEMERAL)).every((m) => m.deleted), 'no public leftovers');

    const db = openDb(h.app);
    const n = db.prepare("SELECT COUNT(*) AS n FROM decisions WHERE user_id = '106'").get() as { n: number };
    db.close();
    assert.equal(n.n, 1, 'rejected questions made no decisions');
  });

  test('a user over the rate limit is told privately to slow down', async () => {
    for (let i = 0; i < 5; i++) {
      await waitForAnswer(h.fake, h.fake.slash('ask', { query: `What is a good monthly budget, question ${i}?` }, { id: '107' }));
    }
    const sixth = h.fake.slash('ask', { query: 'And one more budget question?' }, { id: '107' });
    assert.match(await waitForEphemeral(h.fake, sixth), /asking too fast\. Try again in \d+ s/);
    const visible = h.fake.messagesFor(sixth.token).filter((m) => !m.deleted && !(m.flags & EPHEMERAL));
    assert.equal(visible.length, 0, 'the public "thinking…" reply is removed');
  });

  test('a 429 with retry-after is honoured and the answer still arrives', async () => {
    h.fake.rateLimitOnce('PATCH', /\/messages\/@original$/, 0.5);
    const ask = h.fake.slash('ask', { query: 'How do I enable two-factor authentication?' }, { id: '108' });
    await waitForAnswer(h.fake, ask);
    const patches = h.fake.callsFor(ask.token).filter((c) => c.method === 'PATCH');
    const limited = patches.findIndex((c) => c.status === 429);
    assert.ok(limited >= 0, 'the fake answered 429 once');
    const retry = patches[limited + 1];
    assert.ok(retry && retry.status === 200, 'the edit was retried');
    assert.ok(retry.at - patches[limited]!.at >= 450, `retried after retry-after (waited ${retry.at - patches[limited]!.at} ms)`);
  });

  test('/retrain: members are refused privately; admins get the result', async () => {
    const member = h.fake.slash('retrain', {}, { id: '109' });
    assert.match(await waitForEphemeral(h.fake, member), /Only server admins/);

    const admin = h.fake.slash('retrain', {}, { id: '209' }, ADMIN_PERMISSIONS);
    const callback = await waitForCallback(h.fake, admin);
    assert.equal(callback.body?.type, 5);
    assert.equal(((callback.body?.data as { flags?: number }).flags ?? 0) & EPHEMERAL, EPHEMERAL, 'the result is private to the admin');
    const result = await h.fake.waitFor(() => h.fake.callsFor(admin.token).find((c) => c.method === 'PATCH')?.body?.content as string | undefined, 60_000);
    assert.match(result, /held-out accuracy: old .+ → new \d+\.\d%/);
    assert.match(result, /examples used: \d+/);
    assert.match(result, /promoted|kept/);
  });

  test('ADMIN_USER_IDS, when set, is the only admin list', async () => {
    const original = h.app.config.discord.adminUserIds;
    h.app.config.discord.adminUserIds = ['310'];
    try {
      const manager = h.fake.slash('stats', {}, { id: '311' }, ADMIN_PERMISSIONS);
      assert.match(await waitForEphemeral(h.fake, manager), /Only server admins/);
      const listed = h.fake.slash('stats', {}, { id: '310' });
      const stats = await waitForEphemeral(h.fake, listed);
      assert.match(stats, /Decisions: \d+ · fallback rate \d+% · gate /);
      assert.match(stats, /🔐 Cybersecurity Expert: \d+/);
      assert.match(stats, /👍 rate: \d+% of \d+ votes/);
    } finally {
      h.app.config.discord.adminUserIds = original;
    }
  });

  test('20 concurrent /ask from different users all get deferred and answered', async () => {
    const questions = ['How do I create a budget?', 'What causes migraines?', 'How do I secure my home wifi?', 'What is the capital of France?'];
    const asks = Array.from({ length: 20 }, (_, i) => h.fake.slash('ask', { query: `${questions[i % 4]} (${i})` }, { id: String(400 + i) }));
    const callbacks = await Promise.all(asks.map((a) => waitForCallback(h.fake, a)));
    for (const [i, c] of callbacks.entries()) {
      assert.equal(c.body?.type, 5);
      assert.ok(c.at - asks[i]!.sentAt < 3000, `ask ${i} deferred in time`);
    }
    const answers = await Promise.all(asks.map((a) => waitForAnswer(h.fake, a, 120_000)));
    const ids = new Set(answers.map((msgs) => decisionIdOf(msgs[msgs.length - 1]!)));
    assert.equal(ids.size, 20);
    const db = openDb(h.app);
    const n = db.prepare("SELECT COUNT(*) AS n FROM decisions WHERE platform = 'discord' AND status = 'answered' AND CAST(user_id AS INTEGER) BETWEEN 400 AND 419").get() as { n: number };
    db.close();
    assert.equal(n.n, 20);
  });

  test('every message the bot sent forbids mentions, and nothing crashed', () => {
    assert.ok(assertNoMentionsAllowed(h.fake.calls) > 50);
    assert.deepEqual(h.logs.filter((l) => l.level === 'error'), []);
    assert.ok(h.bot.client.isReady());
  });
});

describe('Discord adapter with a long-answer expert and an unavailable one', () => {
  let h: Harness;
  let tmp: { dir: string; remove(): void };
  before(async () => {
    tmp = makeTempDir('moe-discord-');
    const longModel = await writeLongAnswerModel(tmp.dir);
    const registryFile = await writeEditedRegistry(tmp.dir, (e) => {
      if (e.id === 'finance') Object.assign(e, { model: longModel, generation: { ...e.generation, maxTokens: 1000 } });
      if (e.id === 'healthcare') e.model = path.join(tmp.dir, 'missing-healthcare.gguf');
    });
    h = await startHarness({ EXPERTS_PATH: registryFile });
  });
  after(async () => {
    await h?.close();
    tmp?.remove();
  });

  test('a 5,000-character answer streams (throttled) and continues in follow-ups split at word boundaries', async () => {
    const ask = h.fake.slash('ask', { query: 'How should I split my income between rent, savings and investing?' }, { id: '500' });
    const messages = await waitForAnswer(h.fake, ask, 120_000);
    const total = messages.map((m) => m.content).join('\n');
    assert.ok(total.length > 4000, `a long answer (${total.length} chars)`);
    assert.ok(messages.length >= 3, `split into ${messages.length} messages`);
    assert.match(messages[0]!.content, /^💰 Finance Expert · \d+%/);
    for (const [i, m] of messages.entries()) {
      assert.ok(m.content.length <= 2000, `message ${i} has ${m.content.length} chars`);
      assert.equal(m.flags & EPHEMERAL, 0);
      assert.equal(voteButtons(m) !== null, i === messages.length - 1, 'buttons only on the last message');
      if (i < messages.length - 1) assert.match(m.content, /[\w.!?,;:)"']$/, 'ends on a whole word');
    }
    const decisionId = decisionIdOf(messages.at(-1)!);
    // Logged after the parts are linked (the links make no REST call to wait for).
    assert.ok(await eventually(() => h.logs.find((l) => l.message === 'discord: answered' && l.fields.decisionId === decisionId)));
    for (const m of messages) {
      // A reply to any part, or a thread started from it, continues this answer's conversation.
      assert.equal(h.app.core.findDecisionByMessage('discord', `${m.channel_id}:${m.id}`), decisionId, `part ${m.id} is linked to the answer`);
    }
    const words = messages.slice(1).map((m) => m.content.split(/\s+/)[0]!);
    for (const w of words) assert.ok(total.includes(` ${w}`) || total.includes(`\n${w}`), 'continuations start on a whole word');

    const edits = h.fake.callsFor(ask.token).filter((c) => c.method === 'PATCH' && c.path.endsWith('@original'));
    const streamed = edits.slice(0, -1);
    assert.ok(streamed.length >= 2, `the answer streamed in ${streamed.length} edits`);
    for (const e of streamed) assert.ok(String(e.body?.content).length <= 2000);
    const span = edits[edits.length - 1]!.at - edits[0]!.at;
    assert.ok(edits.length <= span / EDIT_INTERVAL_MS + 2, `${edits.length} edits in ${span} ms: throttled to one per ${EDIT_INTERVAL_MS} ms`);
  });

  test('an unavailable expert falls back to the general expert, and the header says why', async () => {
    const ask = h.fake.slash('ask', { query: 'What are the early symptoms of diabetes and when should I see a doctor?' }, { id: '501' });
    const [answer] = await waitForAnswer(h.fake, ask, 60_000);
    assert.match(answer!.content.split('\n')[0]!, /^💬 General Assistant · fallback: the chosen expert is unavailable/);
  });

  test('re-asking the unavailable expert explicitly also falls back rather than failing silently', async () => {
    const ask = h.fake.slash('ask', { query: 'How do I protect my email account from hackers?' }, { id: '502' });
    const [answer] = await waitForAnswer(h.fake, ask, 60_000);
    const reroute = h.fake.click(answer!, `moe:ask:${decisionIdOf(answer!)}:healthcare`, { id: '502' });
    const [second] = await waitForAnswer(h.fake, reroute, 60_000);
    assert.match(second!.content.split('\n')[0]!, /General Assistant · fallback: the chosen expert is unavailable/);
  });
});

describe('Discord adapter when no expert can answer', () => {
  let h: Harness;
  let tmp: { dir: string; remove(): void };
  before(async () => {
    tmp = makeTempDir('moe-discord-');
    const registryFile = await writeEditedRegistry(tmp.dir, (e) => (e.model = path.join(tmp.dir, `missing-${e.id}.gguf`)));
    h = await startHarness({ EXPERTS_PATH: registryFile });
  });
  after(async () => {
    await h?.close();
    tmp?.remove();
  });

  test('the user is told privately that the expert is unavailable; the bot keeps running', async () => {
    const ask = h.fake.slash('ask', { query: 'How do I spot a phishing email?' }, { id: '600' });
    const text = await waitForEphemeral(h.fake, ask, 60_000);
    assert.match(text, /unavailable/);
    assert.doesNotMatch(text, /gguf|\/tmp|Error:|\bat \S+:\d+/);
    assert.ok(h.fake.messagesFor(ask.token).filter((m) => !(m.flags & EPHEMERAL)).every((m) => m.deleted), 'the public placeholder is removed');
    const second = h.fake.slash('ask', { query: 'What is a budget?' }, { id: '601' });
    assert.match(await waitForEphemeral(h.fake, second, 60_000), /unavailable/);
    assert.ok(h.bot.client.isReady());
  });
});

describe('startDiscord with bad settings', () => {
  test('a missing token, a token Discord rejects, or an API it cannot reach fails start with one line naming the setting', async () => {
    const fake = new FakeDiscord();
    await fake.start();
    fake.invalidToken = 'revoked-token';
    const app = await createTestApp({ DISCORD_API_URL: fake.apiUrl });
    try {
      await assert.rejects(startDiscord({ router: app.core, config: app.config }), /DISCORD_TOKEN: is required/);
      const config = { ...app.config, discord: { ...app.config.discord, token: 'revoked-token' } };
      await assert.rejects(startDiscord({ router: app.core, config, logger: captureLogger([]) }), /^ConfigError: DISCORD_TOKEN: Discord rejected the bot token \(.*invalid token.*\)/i);
      // Nothing listens on port 9 (discard): the proxy address is what to check.
      const unreachable = { ...app.config, discord: { ...app.config.discord, token: 'any-token', apiUrl: 'http://127.0.0.1:9/api' } };
      await assert.rejects(startDiscord({ router: app.core, config: unreachable, logger: captureLogger([]) }),
        /^Error: discord: cannot reach the Discord API \(.*ECONNREFUSED.*\); check DISCORD_API_URL \(http:\/\/127\.0\.0\.1:9\/api\)$/);
    } finally {
      await app.dispose();
      await fake.close();
    }
  });
});

describe('npm run register-commands', () => {
  let fake: FakeDiscord;
  let tmp: { dir: string; remove(): void };
  before(async () => {
    fake = new FakeDiscord();
    await fake.start();
    tmp = makeTempDir('moe-register-');
  });
  after(async () => {
    await fake.close();
    tmp.remove();
  });

  const tsxLoader = path.join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');
  const script = path.join(REPO_ROOT, 'adapters/discord/registerCommands.ts');
  // Runs in an empty folder with a clean environment, so a developer's .env cannot change the outcome.
  // Asynchronous: the fake Discord answering the script lives in this process.
  const run = (env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', `file://${tsxLoader}`, script], {
        cwd: tmp.dir, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  test('registers /ask, /retrain and /stats in the guild when DISCORD_GUILD_ID is set', async () => {
    const r = await run({ DISCORD_TOKEN: 't', DISCORD_APP_ID: fake.appId, DISCORD_GUILD_ID: '777', DISCORD_API_URL: fake.apiUrl });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Registered 3 commands in guild 777.*\/ask, \/retrain, \/stats/);
    const body = fake.commands.get(`/applications/${fake.appId}/guilds/777/commands`) as {
      name: string; default_member_permissions?: string | null; contexts: number[]; integration_types: number[];
    }[];
    assert.deepEqual(body.map((c) => c.name), ['ask', 'retrain', 'stats']);
    const byName = Object.fromEntries(body.map((c) => [c.name, c]));
    // /ask: server and user installs, in servers, the bot's DM and group DMs.
    assert.deepEqual(byName.ask!.integration_types, [0, 1]);
    assert.deepEqual(byName.ask!.contexts, [0, 1, 2]);
    for (const admin of ['retrain', 'stats']) {
      assert.deepEqual(byName[admin]!.integration_types, [0], `${admin} is a server install only`);
      assert.deepEqual(byName[admin]!.contexts, [0], `${admin} is guild-only`);
      assert.equal(byName[admin]!.default_member_permissions, '32', `${admin} needs Manage Server by default`);
    }
    const put = fake.calls.find((c) => c.method === 'PUT')!;
    assert.equal(put.status, 200);
  });

  test('registers globally without DISCORD_GUILD_ID', async () => {
    const r = await run({ DISCORD_TOKEN: 't', DISCORD_APP_ID: fake.appId, DISCORD_API_URL: fake.apiUrl });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /globally/);
    assert.ok(fake.commands.has(`/applications/${fake.appId}/commands`));
  });

  test('missing DISCORD_TOKEN or DISCORD_APP_ID: one clear line, exit 1', async () => {
    const noToken = await run({ DISCORD_APP_ID: fake.appId, DISCORD_API_URL: fake.apiUrl });
    assert.equal(noToken.status, 1);
    assert.equal(noToken.stderr.trim().split('\n').length, 1);
    assert.match(noToken.stderr, /DISCORD_TOKEN/);
    const noApp = await run({ DISCORD_TOKEN: 't', DISCORD_API_URL: fake.apiUrl });
    assert.equal(noApp.status, 1);
    assert.match(noApp.stderr, /^register-commands: DISCORD_APP_ID/);
  });

  test('a token Discord rejects: one line naming the refusal, exit 1', async () => {
    fake.invalidToken = 'revoked-token';
    const r = await run({ DISCORD_TOKEN: 'revoked-token', DISCORD_APP_ID: fake.appId, DISCORD_API_URL: fake.apiUrl });
    fake.invalidToken = null;
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /Discord refused the registration: .*401|Unauthorized/);
  });
});
