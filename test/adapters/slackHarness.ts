/**
 * Shared set-up for the Slack end-to-end tests: a fake Slack (test/support/fakeSlack.ts), the real app (createApp:
 * temp SQLite file, real gate, real node-llama-cpp demo experts) and the real Bolt App started by startSlack.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startSlack, type SlackBot } from '../../adapters/slack/index.js';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { APP_TOKEN, BOT_TOKEN, BOT_USER_ID, FakeSlack, SIGNING_SECRET, type Delivery, type FakeMessage } from '../support/fakeSlack.js';
import { createTestApp, testGate, type TestApp } from '../support/testApp.js';
import { captureLogger, type LogLine } from '../support/captureLogger.js';

export const UPDATE_INTERVAL_MS = 150;
export const ADMIN = 'UADMIN01';

export { captureLogger, type LogLine } from '../support/captureLogger.js';

export interface Harness {
  fake: FakeSlack;
  app: TestApp;
  bot: SlackBot;
  logs: LogLine[];
  /** POST target for events, interactivity and commands (HTTP mode). */
  eventsUrl: string;
  /** Stops the adapter and the core, and starts both again on the same SQLite file (a process restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: { socket?: boolean; env?: Record<string, string> } = {}): Promise<Harness> {
  const fake = new FakeSlack();
  await fake.start();
  fake.disableStreaming('unknown_method', NO_STREAM_TEAM);
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: fake.apiUrl,
    SLACK_ADMIN_USER_IDS: ADMIN,
    ...(options.socket ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    ...options.env,
  };
  const logs: LogLine[] = [];
  let app = await createTestApp(env);
  const first = app;
  const start = (a: TestApp): Promise<SlackBot> =>
    startSlack({ router: a.core, config: a.config, logger: captureLogger(logs), updateIntervalMs: UPDATE_INTERVAL_MS, host: '127.0.0.1', port: 0 });
  let bot = await start(app);
  const h: Harness = {
    fake, app, bot, logs,
    eventsUrl: `http://127.0.0.1:${bot.port}/slack/events`,
    async restart() {
      await h.bot.stop();
      await app.close();
      const again = await createApp(first.config, { gate: testGate(), logger: silentLogger() });
      app = { ...again, dir: first.dir, dispose: first.dispose };
      bot = await start(app);
      Object.assign(h, { app, bot, eventsUrl: `http://127.0.0.1:${bot.port}/slack/events` });
    },
    async close() {
      await h.bot.stop();
      if (app !== first) await app.close();
      await first.dispose();
      await fake.close();
    },
  };
  return h;
}

type Json = Record<string, unknown>;

export function mentionEvent(q: FakeMessage, text = q.text): Json {
  return { type: 'app_mention', user: q.user, text, ts: q.ts, channel: q.channel, event_ts: q.ts, ...(q.threadTs ? { thread_ts: q.threadTs } : {}) };
}

export function dmEvent(q: FakeMessage, extra: Json = {}): Json {
  return { type: 'message', channel_type: 'im', user: q.user, text: q.text, ts: q.ts, channel: q.channel, event_ts: q.ts, ...extra };
}

/** A workspace whose Slack cannot stream (the fake answers chat.startStream with unknown_method for it). */
export const NO_STREAM_TEAM = 'T0NOSTREAM';

/** A person posts `@moe <question>` in a channel: the message exists in the fake and the event is delivered. */
export async function mention(
  h: Harness, question: string, user = 'U0USER01', channel = 'C0GENERAL', teamId?: string,
): Promise<{ q: FakeMessage; callback: Json; status: number; answeredAtAck: boolean }> {
  const q = h.fake.userMessage(channel, user, `<@${BOT_USER_ID}> ${question}`);
  const callback = h.fake.eventCallback(mentionEvent(q), undefined, teamId);
  const res = await h.fake.deliverEvent(h.eventsUrl, callback);
  const answeredAtAck = voteBlock(h.fake.thread(channel, q.ts).at(-1)) !== null;
  return { q, callback, status: res.status, answeredAtAck };
}

type Button = { text: { text: string }; value: string };
type Element = {
  type: string; action_id?: string; value?: string; text?: { text?: string }; options?: { value: string; text: { text: string } }[];
  positive_button?: Button; negative_button?: Button;
};
type Block = { type: string; text?: { text?: string }; elements?: Element[]; accessory?: Element };

export function blocksOf(m: FakeMessage | undefined): Block[] {
  return (m?.blocks ?? []) as Block[];
}

/** The 👍/👎 feedback_buttons of an answer (in its context_actions block): the action id and both values. */
export function voteBlock(m: FakeMessage | undefined): { actionId: string; up: string; down: string } | null {
  const block = blocksOf(m).find((b) => b.type === 'context_actions');
  const buttons = block?.elements?.find((e) => e.type === 'feedback_buttons');
  if (!buttons?.action_id || !buttons.positive_button || !buttons.negative_button) return null;
  return { actionId: buttons.action_id, up: buttons.positive_button.value, down: buttons.negative_button.value };
}

/** Clicks 👍 or 👎 of an answer's feedback_buttons as `user`. */
export function vote(h: Harness, m: FakeMessage, user: string, which: 'up' | 'down'): Promise<Delivery> {
  const v = voteBlock(m);
  assert.ok(v, 'answer has feedback buttons');
  return h.fake.deliverInteraction(h.eventsUrl, h.fake.blockAction(m, user, v.actionId, which === 'up' ? v.up : v.down, 'feedback_buttons'));
}

export function sectionsText(m: FakeMessage): string[] {
  return blocksOf(m).filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
}

/** The answer text a message shows: its streamed markdown, or its sections (messages posted with blocks). */
export function bodyText(m: FakeMessage): string {
  return m.stream !== null ? m.text : sectionsText(m).join('\n\n');
}

export function contextText(m: FakeMessage): string {
  return blocksOf(m).filter((b) => b.type === 'context').flatMap((b) => (b.elements ?? []).map((e) => (e as { text?: string }).text ?? '')).join(' ');
}

/** The bot's messages in the thread once `count` of them carry the vote buttons (the footer of a finished answer). */
export function waitForAnswer(h: Harness, channel: string, threadTs: string, count = 1, timeoutMs = 60_000): Promise<FakeMessage[]> {
  return h.fake.waitFor(() => {
    const msgs = h.fake.thread(channel, threadTs);
    const answered = msgs.filter((m) => voteBlock(m) !== null);
    return answered.length >= count ? msgs : null;
  }, timeoutMs, `answer in ${channel}:${threadTs}`);
}

export function waitForEphemeral(h: Harness, user: string, pattern: RegExp, timeoutMs = 20_000): Promise<FakeMessage> {
  return h.fake.waitFor(() => h.fake.ephemerals(user).find((m) => pattern.test(m.text) || pattern.test(JSON.stringify(m.blocks))), timeoutMs, `ephemeral ${pattern} for ${user}`);
}

export function decisionIdOf(m: FakeMessage): string {
  const v = voteBlock(m);
  assert.ok(v, 'answer has vote buttons');
  return v.up.split('|')[0]!;
}

export function openDb(h: Harness): Database.Database {
  return new Database(path.join(h.app.dir, 'moe.sqlite'), { readonly: true, fileMustExist: true });
}

export function query<T>(h: Harness, sql: string, ...params: unknown[]): T[] {
  const db = openDb(h);
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Resolves when `count` log lines match (a positive signal that the adapter handled something, even by ignoring it). */
export function waitForLogs(h: Harness, count: number, match: (l: LogLine) => boolean, what: string): Promise<LogLine[]> {
  return h.fake.waitFor(() => {
    const found = h.logs.filter(match);
    return found.length >= count ? found : null;
  }, 20_000, what);
}

/** Polls `check` until it returns a value (effects that follow the last API call). */
export async function eventually<T>(check: () => T | null | undefined, timeoutMs = 5_000): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if ((value !== null && value !== undefined) || Date.now() > deadline) return value ?? null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
