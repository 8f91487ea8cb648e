/**
 * Shared set-up for the Slack end-to-end tests: a fake Slack (test/support/fakeSlack.ts), the real app (createApp:
 * temp SQLite file, real gate, real node-llama-cpp demo experts) and the real Bolt App started by startSlack.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startSlack, type SlackBot } from '../../adapters/slack/index.js';
import type { AdapterLogger } from '../../adapters/shared/logger.js';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { APP_TOKEN, BOT_TOKEN, BOT_USER_ID, FakeSlack, SIGNING_SECRET, type FakeMessage } from '../support/fakeSlack.js';
import { createTestApp, testGate, type TestApp } from '../support/testApp.js';

export const UPDATE_INTERVAL_MS = 150;
export const ADMIN = 'UADMIN01';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export function captureLogger(lines: LogLine[]): AdapterLogger {
  return {
    info: (fields, message) => lines.push({ level: 'info', message, fields }),
    warn: (fields, message) => lines.push({ level: 'warn', message, fields }),
    error: (fields, message) => lines.push({ level: 'error', message, fields }),
  };
}

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

/** A person posts `@moe <question>` in a channel: the message exists in the fake and the event is delivered. */
export async function mention(h: Harness, question: string, user = 'U0USER01', channel = 'C0GENERAL'): Promise<{ q: FakeMessage; callback: Json; status: number; answeredAtAck: boolean }> {
  const q = h.fake.userMessage(channel, user, `<@${BOT_USER_ID}> ${question}`);
  const callback = h.fake.eventCallback(mentionEvent(q));
  const res = await h.fake.deliverEvent(h.eventsUrl, callback);
  const answeredAtAck = voteBlock(h.fake.thread(channel, q.ts).at(-1)) !== null;
  return { q, callback, status: res.status, answeredAtAck };
}

type Element = { type: string; action_id?: string; value?: string; text?: { text?: string }; options?: { value: string; text: { text: string } }[] };
type Block = { type: string; text?: { text?: string }; elements?: Element[]; accessory?: Element };

export function blocksOf(m: FakeMessage | undefined): Block[] {
  return (m?.blocks ?? []) as Block[];
}

export function voteBlock(m: FakeMessage | undefined): { up: Element; down: Element } | null {
  const actions = blocksOf(m).find((b) => b.type === 'actions')?.elements ?? [];
  const up = actions.find((e) => e.action_id === 'moe_vote_up');
  const down = actions.find((e) => e.action_id === 'moe_vote_down');
  return up && down ? { up, down } : null;
}

export function sectionsText(m: FakeMessage): string[] {
  return blocksOf(m).filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
}

export function contextText(m: FakeMessage): string {
  return blocksOf(m).filter((b) => b.type === 'context').flatMap((b) => (b.elements ?? []).map((e) => (e as { text?: string }).text ?? '')).join(' ');
}

/** The bot's messages in the thread once the last one carries the vote buttons. */
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
  assert.ok(v?.up.value, 'answer has vote buttons');
  return v.up.value;
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

/** Polls `check` until it returns a value (effects that follow the last API call). */
export async function eventually<T>(check: () => T | null | undefined, timeoutMs = 5_000): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if ((value !== null && value !== undefined) || Date.now() > deadline) return value ?? null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
