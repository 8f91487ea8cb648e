/**
 * A fake Slack on loopback for adapter tests, driving the real Bolt App:
 * - a Web API server (`/api/<method>`, the paths @slack/web-api calls) that records every call and answers like
 *   Slack, including its errors (invalid_blocks, msg_blocks_too_long, message_not_found, ratelimited + Retry-After);
 * - a sender of correctly signed Events API, interactivity (`payload=` form) and slash-command deliveries
 *   (v0 HMAC-SHA256 of `v0:timestamp:body`), and of forged ones;
 * - native streaming (chat.startStream / appendStream / stopStream: recipient ids required outside DMs, 12,000
 *   characters per markdown_text) and the AI-app thread methods (assistant.threads.setStatus / setSuggestedPrompts /
 *   setTitle); `disableStreaming()` makes chat.startStream answer like a workspace that cannot stream;
 * - response_url endpoints, and a Socket Mode WebSocket (`apps.connections.open` returns its ws://127.0.0.1 URL;
 *   it sends `hello`, then envelopes, and resolves each when the app acks its envelope_id).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export const BOT_TOKEN = 'xoxb-fake-bot-token';
export const APP_TOKEN = 'xapp-fake-app-token';
export const SIGNING_SECRET = 'fake-signing-secret';
export const BOT_USER_ID = 'UMOEBOT';
export const BOT_ID = 'BMOEBOT';
export const TEAM_ID = 'T0FAKE';
export const APP_ID = 'A0FAKE';
/** Slack's limit on one markdown_text (a field or a chunk) of a streamed message. */
export const MARKDOWN_TEXT_LIMIT = 12_000;

type Json = Record<string, unknown>;

export interface RecordedCall {
  method: string;
  params: Json;
  token: string | null;
  /** What the fake answered (`ok: false` with `error` for failures). */
  response: Json;
  status: number;
  at: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  threadTs: string | null;
  user: string;
  text: string;
  blocks: Json[];
  /** Set for chat.postEphemeral messages: the only user who sees it. */
  ephemeralFor: string | null;
  /** Each chat.update / response_url replacement, in order (the latest is also in text/blocks). */
  updates: { text: string; blocks: Json[]; at: number }[];
  reactions: Set<string>;
  responseUrl: string | null;
  /** Natively streamed messages: 'streaming' until chat.stopStream, then 'stopped'; null for posted ones. */
  stream: 'streaming' | 'stopped' | null;
  /** Each markdown_text appended to a streamed message, in order (text holds them joined). */
  chunks: { text: string; at: number }[];
  /** recipient_team_id / recipient_user_id a stream was started with. */
  recipient: { teamId: string | null; userId: string | null } | null;
}

/** A thread's status, as set with assistant.threads.setStatus ('' clears it). */
export interface ThreadStatusChange {
  channel: string;
  threadTs: string;
  status: string;
  at: number;
}

export interface Delivery {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

interface Failure {
  error: string;
  retryAfterSec: number | null;
  times: number;
  /** Only calls whose params match fail (default: every call of the method). */
  when: ((params: Json) => boolean) | null;
}

const SECTION_TEXT_LIMIT = 3000;
const MAX_BLOCKS = 50;
/** Observed cumulative block text limit (bolt-js#2509: msg_blocks_too_long at ~13k; 12k is the documented markdown one). */
const BLOCK_TEXT_TOTAL_LIMIT = 12_000;
const TEXT_LIMIT = 40_000;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** @slack/web-api sends form fields, with arrays/objects (blocks) JSON-encoded. */
function parseParams(body: string, contentType: string | undefined): Json {
  if (contentType?.includes('application/json')) return body ? (JSON.parse(body) as Json) : {};
  const out: Json = {};
  for (const [k, v] of new URLSearchParams(body)) {
    if (['blocks', 'attachments', 'chunks', 'prompts', 'metadata'].includes(k) && /^\s*[[{]/.test(v)) {
      try {
        out[k] = JSON.parse(v) as unknown;
        continue;
      } catch {
        // left as a string: the validator reports invalid_blocks_format like Slack
      }
    }
    out[k] = v;
  }
  return out;
}

/** Every `text` string inside a block tree (what counts towards Slack's cumulative limit). */
export function blockTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(blockTexts);
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === 'text' && typeof v === 'string') out.push(v);
    else out.push(...blockTexts(v));
  }
  return out;
}

/** Slack's checks on blocks that our adapter could plausibly break; returns the error code or null. */
export function validateBlocks(blocks: unknown): string | null {
  if (blocks === undefined) return null;
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > MAX_BLOCKS) return 'invalid_blocks';
  for (const b of blocks as Json[]) {
    if (typeof b !== 'object' || b === null || typeof b.type !== 'string') return 'invalid_blocks';
    if (b.type === 'section') {
      const t = (b.text as Json | undefined)?.text;
      if (typeof t !== 'string' || t.length === 0 || t.length > SECTION_TEXT_LIMIT) return 'invalid_blocks';
    }
    if (b.type === 'context') {
      const els = b.elements as Json[] | undefined;
      if (!Array.isArray(els) || els.length === 0 || els.length > 10) return 'invalid_blocks';
      if (els.some((e) => typeof e.text === 'string' && e.text.length > SECTION_TEXT_LIMIT)) return 'invalid_blocks';
    }
    if (b.type === 'context_actions') {
      const els = b.elements as Json[] | undefined;
      if (!Array.isArray(els) || els.length === 0 || els.length > 5) return 'invalid_blocks';
      for (const e of els) {
        if (e.type !== 'feedback_buttons' && e.type !== 'icon_button') return 'invalid_blocks';
        if (e.type !== 'feedback_buttons') continue;
        for (const button of [e.positive_button, e.negative_button] as (Json | undefined)[]) {
          const label = (button?.text as Json | undefined);
          if (!button || label?.type !== 'plain_text' || typeof label.text !== 'string' || label.text.length > 75) return 'invalid_blocks';
          if (typeof button.value !== 'string' || button.value.length > 2000) return 'invalid_blocks';
        }
      }
    }
    if (b.type === 'actions') {
      const els = b.elements as Json[] | undefined;
      if (!Array.isArray(els) || els.length === 0 || els.length > 25) return 'invalid_blocks';
      for (const e of els) {
        const label = (e.text as Json | undefined)?.text;
        if (e.type === 'button' && (typeof label !== 'string' || label.length > 75)) return 'invalid_blocks';
        if (typeof e.value === 'string' && e.value.length > 2000) return 'invalid_blocks';
        if (typeof e.action_id === 'string' && e.action_id.length > 255) return 'invalid_blocks';
      }
    }
  }
  const total = blockTexts(blocks).reduce((n, t) => n + t.length, 0);
  return total > BLOCK_TEXT_TOTAL_LIMIT ? 'msg_blocks_too_long' : null;
}

/** The label of the feedback button whose value is `value` on `message` (what Slack echoes in the action). */
function feedbackLabel(message: FakeMessage, value: string): string {
  for (const b of message.blocks) {
    for (const e of (b.elements as Json[] | undefined) ?? []) {
      for (const key of ['positive_button', 'negative_button']) {
        const button = e[key] as Json | undefined;
        if (button?.value === value) return String((button.text as Json).text);
      }
    }
  }
  return '';
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  /** Bodies POSTed to response_url endpoints. */
  readonly responses: { id: string; body: Json; at: number }[] = [];
  /** Envelope acks received over Socket Mode. */
  readonly socketAcks: Json[] = [];
  private readonly server = http.createServer((req, res) => void this.route(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private readonly pendingAcks = new Map<string, (ack: Json) => void>();
  private readonly failures = new Map<string, Failure[]>();
  private ephemeralByResponse = new Map<string, FakeMessage>();
  private tsCounter = 0;
  /** chat.startStream's error by recipient team ('*': every team). */
  private readonly streamingErrors = new Map<string, string>();
  private idCounter = 0;
  private readonly tsBase = Math.floor(Date.now() / 1000);
  port = 0;

  async start(): Promise<void> {
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('message', (data: Buffer) => {
          let msg: Json;
          try {
            msg = JSON.parse(data.toString('utf8')) as Json;
          } catch {
            return;
          }
          this.socketAcks.push(msg);
          const id = typeof msg.envelope_id === 'string' ? msg.envelope_id : '';
          this.pendingAcks.get(id)?.(msg);
          this.pendingAcks.delete(id);
        });
        ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' }, connection_info: { app_id: APP_ID } }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` calls of `method` fail with `error` (`ratelimited` answers HTTP 429 with Retry-After). */
  failNext(method: string, error: string, options: { retryAfterSec?: number; times?: number; when?: (params: Json) => boolean } = {}): void {
    const list = this.failures.get(method) ?? [];
    list.push({ error, retryAfterSec: options.retryAfterSec ?? null, times: options.times ?? 1, when: options.when ?? null });
    this.failures.set(method, list);
  }

  /** From now on chat.startStream answers `error` for workspace `teamId` (default: all), like a Slack that cannot stream. */
  disableStreaming(error = 'unknown_method', teamId = '*'): void {
    this.streamingErrors.set(teamId, error);
  }

  /** Status changes of a thread (assistant.threads.setStatus), oldest first. */
  statuses(channel: string, threadTs: string): ThreadStatusChange[] {
    return this.callsOf('assistant.threads.setStatus')
      .filter((c) => c.response.ok === true && c.params.channel_id === channel && c.params.thread_ts === threadTs)
      .map((c) => ({ channel, threadTs, status: String(c.params.status), at: c.at }));
  }

  /** Forgets failures set up with failNext that have not happened yet. */
  clearFailures(): void {
    this.failures.clear();
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  nextTs(): string {
    this.tsCounter += 1;
    return `${this.tsBase}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.idCounter += 1;
    return `${prefix}${String(this.idCounter).padStart(6, '0')}`;
  }

  /** A message a person posted (so the bot can react to it); returns it with its ts. */
  userMessage(channel: string, user: string, text: string, threadTs: string | null = null): FakeMessage {
    const m: FakeMessage = {
      channel, ts: this.nextTs(), threadTs, user, text, blocks: [], ephemeralFor: null, updates: [], reactions: new Set(), responseUrl: null,
      stream: null, chunks: [], recipient: null,
    };
    this.messages.set(`${channel}:${m.ts}`, m);
    return m;
  }

  /** Bot messages (not ephemeral) in a thread, oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.threadTs === threadTs && m.user === BOT_USER_ID && m.ephemeralFor === null);
  }

  /** Ephemeral messages shown to `user`, oldest first. */
  ephemerals(user: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.ephemeralFor === user);
  }

  async waitFor<T>(check: () => T | null | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  // ---------------------------------------------------------------- deliveries to the app

  /** Signature headers Slack sends: v0=HMAC-SHA256(secret, `v0:${timestamp}:${body}`). */
  sign(body: string, secret = SIGNING_SECRET, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const sig = crypto.createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
    return { 'x-slack-signature': `v0=${sig}`, 'x-slack-request-timestamp': String(timestamp) };
  }

  /** Wraps an event the way the Events API delivers it (from workspace `teamId`). */
  eventCallback(event: Json, eventId = this.nextId('Ev'), teamId = TEAM_ID): Json {
    return {
      token: 'deprecated-verification-token', team_id: teamId, api_app_id: APP_ID, event, type: 'event_callback',
      event_id: eventId, event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: teamId, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    };
  }

  async post(url: string, body: string, contentType: string, headers: Record<string, string> = {}): Promise<Delivery> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
    return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers.entries()) };
  }

  /** A signed Events API delivery; `retryNum` adds X-Slack-Retry-Num/Reason like Slack's redeliveries. */
  deliverEvent(url: string, callback: Json, options: { retryNum?: number; secret?: string } = {}): Promise<Delivery> {
    const body = JSON.stringify(callback);
    const retry: Record<string, string> = options.retryNum
      ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }
      : {};
    return this.post(url, body, 'application/json', { ...this.sign(body, options.secret), ...retry });
  }

  /** A signed interactivity delivery (`payload=<json>` form), as for button clicks and selects. */
  deliverInteraction(url: string, payload: Json | string, secret?: string): Promise<Delivery> {
    const body = `payload=${encodeURIComponent(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
    return this.post(url, body, 'application/x-www-form-urlencoded', this.sign(body, secret));
  }

  /** A signed slash-command delivery; its response_url points back at this fake. */
  deliverCommand(url: string, command: Json): Promise<Delivery> {
    const body = new URLSearchParams(Object.entries(command).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.post(url, body, 'application/x-www-form-urlencoded', this.sign(body));
  }

  responseUrl(): string {
    return `http://127.0.0.1:${this.port}/respond/${this.nextId('R')}`;
  }

  command(name: string, user: string, channel: string, text = ''): Json {
    return {
      token: 'deprecated', team_id: TEAM_ID, team_domain: 'fake', channel_id: channel, channel_name: 'general', user_id: user,
      user_name: user.toLowerCase(), command: name, text, api_app_id: APP_ID, response_url: this.responseUrl(), trigger_id: this.nextId('trig.'),
    };
  }

  /** A block_actions payload for clicking `actionId` (button value or select option `value`) on `message`. */
  blockAction(message: FakeMessage, user: string, actionId: string, value: string, kind: 'button' | 'static_select' | 'feedback_buttons' = 'button'): Json {
    const actionTs = String(Date.now() / 1000);
    const action: Json = kind === 'button'
      ? { type: 'button', action_id: actionId, block_id: 'b', value, action_ts: actionTs }
      : kind === 'feedback_buttons'
        ? { type: 'feedback_buttons', action_id: actionId, block_id: 'b', value, text: { type: 'plain_text', text: feedbackLabel(message, value) }, action_ts: actionTs }
        : { type: 'static_select', action_id: actionId, block_id: 'b', selected_option: { text: { type: 'plain_text', text: value }, value }, action_ts: actionTs };
    const ephemeral = message.ephemeralFor !== null;
    return {
      type: 'block_actions', user: { id: user, username: user.toLowerCase(), team_id: TEAM_ID }, api_app_id: APP_ID,
      token: 'deprecated', team: { id: TEAM_ID, domain: 'fake' }, channel: { id: message.channel, name: 'general' },
      container: {
        type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: ephemeral,
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      },
      // Slack includes the message for normal messages only; ephemeral ones are changed through response_url.
      ...(ephemeral ? {} : { message: { type: 'message', user: BOT_USER_ID, bot_id: BOT_ID, ts: message.ts, thread_ts: message.threadTs ?? undefined, text: message.text, blocks: message.blocks } }),
      response_url: message.responseUrl ?? this.responseUrl(), trigger_id: this.nextId('trig.'), actions: [action],
    };
  }

  // ---------------------------------------------------------------- Socket Mode

  get socketCount(): number {
    return this.sockets.size;
  }

  /** Sends an envelope to every connected app and resolves with the first ack for it. */
  sendEnvelope(type: 'events_api' | 'interactive' | 'slash_commands', payload: Json, options: { retryAttempt?: number; timeoutMs?: number } = {}): Promise<Json> {
    const envelopeId = crypto.randomUUID();
    const acked = new Promise<Json>((resolve, reject) => {
      // The app shares this process: when its event loop was blocked (a retrain), the timer and an ack that already
      // arrived become due together, and timers run first. setImmediate runs after the socket is read, so an ack that
      // was sent in time still counts.
      const timer = setTimeout(() => setImmediate(() => {
        if (!this.pendingAcks.has(envelopeId)) return;
        this.pendingAcks.delete(envelopeId);
        reject(new Error(`no ack for ${type} envelope within ${options.timeoutMs ?? 10_000} ms`));
      }), options.timeoutMs ?? 10_000);
      this.pendingAcks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
    });
    const envelope = {
      envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: options.retryAttempt ? 'timeout' : '' } : {}),
    };
    for (const ws of this.sockets) ws.send(JSON.stringify(envelope));
    return acked;
  }

  // ---------------------------------------------------------------- the Web API

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(req);
      if (url.pathname.startsWith('/respond/')) return this.respondUrl(url.pathname.slice('/respond/'.length), body, res);
      const m = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      if (!m || req.method !== 'POST') {
        res.writeHead(404).end('not found');
        return;
      }
      const method = m[1]!;
      const params = parseParams(body, req.headers['content-type']);
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof params.token === 'string' ? params.token : null;
      const call: RecordedCall = { method, params, token, response: {}, status: 200, at: Date.now() };
      this.calls.push(call);

      const failure = this.takeFailure(method, params);
      if (failure) {
        call.response = { ok: false, error: failure.error };
        if (failure.error === 'ratelimited' && failure.retryAfterSec !== null) {
          call.status = 429;
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(failure.retryAfterSec) });
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
        }
        res.end(JSON.stringify(call.response));
        return;
      }
      call.response = this.answer(method, params, token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(call.response));
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  }

  private takeFailure(method: string, params: Json): Failure | null {
    const list = this.failures.get(method) ?? [];
    const f = list.find((x) => x.when === null || x.when(params));
    if (!f) return null;
    f.times -= 1;
    if (f.times <= 0) list.splice(list.indexOf(f), 1);
    return f;
  }

  private answer(method: string, p: Json, token: string | null): Json {
    const expected = method === 'apps.connections.open' ? APP_TOKEN : BOT_TOKEN;
    if (token === null) return { ok: false, error: 'not_authed' };
    if (token !== expected) return { ok: false, error: method === 'apps.connections.open' && token === BOT_TOKEN ? 'not_allowed_token_type' : 'invalid_auth' };
    const channel = typeof p.channel === 'string' ? p.channel : '';
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'moe', team_id: TEAM_ID, user_id: BOT_USER_ID, bot_id: BOT_ID, is_enterprise_install: false };
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${this.port}/link/?ticket=${this.nextId('t')}` };
      case 'chat.postMessage':
      case 'chat.postEphemeral': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const problem = this.checkContent(p);
        if (problem) return { ok: false, error: problem };
        const ephemeralFor = method === 'chat.postEphemeral' ? String(p.user ?? '') : null;
        if (ephemeralFor === '') return { ok: false, error: 'user_not_in_channel' };
        const msg: FakeMessage = {
          channel, ts: this.nextTs(), threadTs: typeof p.thread_ts === 'string' ? p.thread_ts : null, user: BOT_USER_ID,
          text: String(p.text ?? ''), blocks: (p.blocks as Json[] | undefined) ?? [], ephemeralFor, updates: [], reactions: new Set(), responseUrl: null,
          stream: null, chunks: [], recipient: null,
        };
        if (ephemeralFor !== null) {
          msg.responseUrl = this.responseUrl();
          this.ephemeralByResponse.set(msg.responseUrl.split('/respond/')[1]!, msg);
        }
        this.messages.set(`${channel}:${msg.ts}`, msg);
        return ephemeralFor !== null
          ? { ok: true, message_ts: msg.ts }
          : { ok: true, channel, ts: msg.ts, message: { type: 'message', user: BOT_USER_ID, bot_id: BOT_ID, text: msg.text, ts: msg.ts } };
      }
      case 'chat.delete': {
        const key = `${channel}:${String(p.ts)}`;
        const msg = this.messages.get(key);
        if (!msg) return { ok: false, error: 'message_not_found' };
        if (msg.user !== BOT_USER_ID || msg.ephemeralFor !== null) return { ok: false, error: 'cant_delete_message' };
        this.messages.delete(key);
        return { ok: true, channel, ts: msg.ts };
      }
      case 'chat.update': {
        const msg = this.messages.get(`${channel}:${String(p.ts)}`);
        if (!msg) return { ok: false, error: 'message_not_found' };
        if (msg.user !== BOT_USER_ID || msg.ephemeralFor !== null) return { ok: false, error: 'cant_update_message' };
        const problem = this.checkContent(p);
        if (problem) return { ok: false, error: problem };
        msg.text = String(p.text ?? '');
        msg.blocks = (p.blocks as Json[] | undefined) ?? [];
        msg.updates.push({ text: msg.text, blocks: msg.blocks, at: Date.now() });
        return { ok: true, channel, ts: msg.ts, text: msg.text };
      }
      case 'chat.startStream': {
        const recipient = { teamId: typeof p.recipient_team_id === 'string' ? p.recipient_team_id : null, userId: typeof p.recipient_user_id === 'string' ? p.recipient_user_id : null };
        const refused = this.streamingErrors.get(recipient.teamId ?? '') ?? this.streamingErrors.get('*');
        if (refused) return { ok: false, error: refused };
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const threadTs = typeof p.thread_ts === 'string' ? p.thread_ts : null;
        if (!threadTs) return { ok: false, error: 'invalid_arguments' };
        // Outside a DM Slack needs to know who the stream is for.
        if (!channel.startsWith('D') && (!recipient.teamId || !recipient.userId)) return { ok: false, error: 'invalid_arguments' };
        const texts = this.streamTexts(p);
        if (typeof texts === 'string') return { ok: false, error: texts };
        const msg: FakeMessage = {
          channel, ts: this.nextTs(), threadTs, user: BOT_USER_ID, text: '', blocks: [], ephemeralFor: null, updates: [], reactions: new Set(),
          responseUrl: null, stream: 'streaming', chunks: [], recipient,
        };
        this.appendChunks(msg, texts);
        this.messages.set(`${channel}:${msg.ts}`, msg);
        return { ok: true, channel, ts: msg.ts };
      }
      case 'chat.appendStream':
      case 'chat.stopStream': {
        const msg = this.messages.get(`${channel}:${String(p.ts)}`);
        if (!msg) return { ok: false, error: 'message_not_found' };
        if (msg.stream !== 'streaming') return { ok: false, error: 'message_not_in_streaming_state' };
        const texts = this.streamTexts(p);
        if (typeof texts === 'string') return { ok: false, error: texts };
        if (method === 'chat.appendStream' && texts.length === 0) return { ok: false, error: 'invalid_arguments' };
        if (method === 'chat.stopStream') {
          const problem = validateBlocks(p.blocks);
          if (problem) return { ok: false, error: problem };
        }
        this.appendChunks(msg, texts);
        if (method === 'chat.stopStream') {
          msg.stream = 'stopped';
          msg.blocks = (p.blocks as Json[] | undefined) ?? [];
        }
        return { ok: true, channel, ts: msg.ts };
      }
      case 'assistant.threads.setStatus': {
        if (typeof p.channel_id !== 'string' || typeof p.thread_ts !== 'string' || typeof p.status !== 'string') return { ok: false, error: 'invalid_arguments' };
        return { ok: true };
      }
      case 'assistant.threads.setSuggestedPrompts': {
        const prompts = p.prompts;
        if (typeof p.channel_id !== 'string' || !Array.isArray(prompts) || prompts.length === 0 || prompts.length > 4) return { ok: false, error: 'invalid_arguments' };
        if (prompts.some((x: Json) => typeof x?.title !== 'string' || typeof x?.message !== 'string' || x.title === '' || x.message === '')) return { ok: false, error: 'invalid_arguments' };
        return { ok: true };
      }
      case 'assistant.threads.setTitle':
        return typeof p.channel_id === 'string' && typeof p.thread_ts === 'string' && typeof p.title === 'string' ? { ok: true } : { ok: false, error: 'invalid_arguments' };
      case 'reactions.add':
      case 'reactions.remove': {
        const msg = this.messages.get(`${channel}:${String(p.timestamp)}`);
        if (!msg) return { ok: false, error: 'message_not_found' };
        const name = String(p.name ?? '');
        if (method === 'reactions.add') {
          if (msg.reactions.has(name)) return { ok: false, error: 'already_reacted' };
          msg.reactions.add(name);
        } else if (!msg.reactions.delete(name)) {
          return { ok: false, error: 'no_reaction' };
        }
        return { ok: true };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** The markdown texts of a streaming call (markdown_text and markdown_text chunks), or the error Slack answers. */
  private streamTexts(p: Json): string[] | string {
    const texts: string[] = [];
    if (p.markdown_text !== undefined) texts.push(String(p.markdown_text));
    if (p.chunks !== undefined) {
      if (!Array.isArray(p.chunks)) return 'invalid_chunks';
      for (const chunk of p.chunks as Json[]) {
        if (chunk?.type !== 'markdown_text' || typeof chunk.text !== 'string') return 'invalid_chunks';
        texts.push(chunk.text);
      }
    }
    return texts.some((t) => t.length > MARKDOWN_TEXT_LIMIT) ? 'msg_too_long' : texts;
  }

  private appendChunks(msg: FakeMessage, texts: string[]): void {
    for (const text of texts) {
      msg.chunks.push({ text, at: Date.now() });
      msg.text += text;
    }
  }

  private checkContent(p: Json): string | null {
    const text = typeof p.text === 'string' ? p.text : '';
    if (text === '' && p.blocks === undefined) return 'no_text';
    if (text.length > TEXT_LIMIT) return 'msg_too_long';
    return validateBlocks(p.blocks);
  }

  /** response_url: `replace_original` changes the ephemeral message it belongs to; everything is recorded. */
  private respondUrl(id: string, body: string, res: http.ServerResponse): void {
    let parsed: Json;
    try {
      parsed = JSON.parse(body) as Json;
    } catch {
      res.writeHead(400).end('invalid_payload');
      return;
    }
    this.responses.push({ id, body: parsed, at: Date.now() });
    const problem = validateBlocks(parsed.blocks);
    if (problem) {
      res.writeHead(400).end(problem);
      return;
    }
    const msg = this.ephemeralByResponse.get(id);
    if (msg && parsed.replace_original === true) {
      msg.text = String(parsed.text ?? '');
      msg.blocks = (parsed.blocks as Json[] | undefined) ?? [];
      msg.updates.push({ text: msg.text, blocks: msg.blocks, at: Date.now() });
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }
}
