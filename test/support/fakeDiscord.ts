/**
 * A fake Discord for tests: REST under /api/v10 and a gateway WebSocket on the same loopback port, enough for
 * the real discord.js Client to log in, receive INTERACTION_CREATE and answer through the interaction webhooks.
 * Interactions come from a guild channel (context 0, with `member`) or from the bot's DM (context 1: no guild, a
 * `user`, a DM channel), as Discord sends them. Every REST call is recorded so tests can assert what a user would
 * see; `failNext` answers chosen calls with Discord's JSON errors (e.g. 403 Missing Access, code 50001).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedCall {
  method: string;
  /** Path without /api/v10 and query, with `%40original` decoded to `@original`. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | null;
  status: number;
  at: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  content: string;
  flags: number;
  components: unknown[];
  /** Interaction token whose webhook created it. */
  token: string;
  deleted: boolean;
  edits: number;
}

export interface FakeUser {
  id: string;
  username?: string;
}

export interface InteractionHandle {
  id: string;
  token: string;
  sentAt: number;
}

/** Where an interaction happens: a guild text channel (default), a thread in it, or the bot's DM with the user. */
export interface InteractionPlace {
  dm?: boolean;
  /**
   * A public thread of the guild channel, by id (its parent is CHANNEL_ID). A thread started from a message has that
   * message's id (pass the message's id); any other thread has an id of its own (pass fake.snowflake()).
   */
  threadId?: string;
  /**
   * False: Discord never announces the thread to the bot (no THREAD_CREATE), as for a user-installed app in a server the
   * bot is not in, or a private thread it is not a member of; the interaction's payload still says it is a thread.
   */
  announced?: boolean;
}

/** Discord's JSON error answers, e.g. { status: 403, code: 50001, message: 'Missing Access' }. */
export interface FakeError {
  status: number;
  code: number;
  message: string;
}

export const MISSING_ACCESS: FakeError = { status: 403, code: 50001, message: 'Missing Access' };
export const MISSING_PERMISSIONS: FakeError = { status: 403, code: 50013, message: 'Missing Permissions' };

export const GUILD_ID = '900000000000000001';
export const CHANNEL_ID = '900000000000000002';
/** The DM channel between the bot and a user (interactions with context 1). */
export const DM_CHANNEL_ID = '900000000000000005';
export const BOT_USER_ID = '900000000000000003';
/** All permissions as Discord sends them (a decimal string). */
export const ADMIN_PERMISSIONS = '2147483647';
/** Send Messages + Use Application Commands, no Manage Server. */
export const MEMBER_PERMISSIONS = String(0x800 + 0x80000000);

export class FakeDiscord {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  /** Registered command lists by route path (PUT bodies). */
  readonly commands = new Map<string, unknown[]>();
  readonly appId = '900000000000000004';
  /** The IDENTIFY payloads the bot sent on the gateway (token, intents, …), in order. */
  readonly identified: Record<string, unknown>[] = [];
  private server = http.createServer((req, res) => void this.onRequest(req, res));
  private wss = new WebSocketServer({ server: this.server });
  private sockets = new Set<WebSocket>();
  private seq = 0;
  private nextId = 1_000_000n;
  private listeners = new Set<() => void>();
  /** Interaction id → id of the message its component was on (for UPDATE_MESSAGE responses). */
  private interactionMessage = new Map<string, string>();
  /** Interaction id → its type (2 command, 3 component, 5 modal submit), for callback responses. */
  private interactionTypes = new Map<string, number>();
  private callsByToken = new Map<string, RecordedCall[]>();
  private messagesByToken = new Map<string, FakeMessage[]>();
  /** Pending forced 429s: path regex → retry-after seconds. */
  private rateLimits: { method: string; pattern: RegExp; retryAfterSec: number }[] = [];
  /** Pending forced errors: matching requests answer `error`, `times` times. */
  private failures: { method: string; pattern: RegExp; error: FakeError; times: number }[] = [];
  /** Threads announced to the bot with THREAD_CREATE. */
  private threads = new Set<string>();
  /** Interaction token → the channel its messages go to. */
  private channelByToken = new Map<string, string>();

  port = 0;
  /**
   * Whether an interaction callback asked `with_response=true` gets Discord's callback response (the interaction with
   * response_message_id, and the message for immediate replies); false answers 204 as to any other callback.
   */
  callbackResponses = true;
  /** Bot token the fake rejects with 401 (as Discord does for a revoked or mistyped token). */
  invalidToken: string | null = null;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<void> {
    this.wss.on('connection', (ws) => this.onGateway(ws));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  snowflake(): string {
    this.nextId += 1n;
    return (900000000000000000n + this.nextId).toString();
  }

  /** The next request matching method+path answers 429 with `retry-after` (seconds), once. */
  rateLimitOnce(method: string, pattern: RegExp, retryAfterSec: number): void {
    this.rateLimits.push({ method, pattern, retryAfterSec });
  }

  /** The next `times` requests matching method+path answer `error` (Discord's JSON error body). */
  failNext(method: string, pattern: RegExp, error: FakeError, times = 1): void {
    this.failures.push({ method, pattern, error, times });
  }

  /** Resolves when `check` returns a value (re-checked after every REST call), or rejects after timeoutMs. */
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first) return resolve(first);
      const listener = (): void => {
        const value = check();
        if (value) {
          clearTimeout(timer);
          this.listeners.delete(listener);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`fake Discord: timed out waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** REST calls made with an interaction's token (callback and webhook calls), in order. */
  callsFor(token: string): RecordedCall[] {
    return this.callsByToken.get(token) ?? [];
  }

  /** Messages created through an interaction's webhook (original first), deleted ones included. */
  messagesFor(token: string): FakeMessage[] {
    return this.messagesByToken.get(token) ?? [];
  }

  /** Sends a chat-input command as `user`; options are string options. */
  slash(name: string, options: Record<string, string>, user: FakeUser, permissions = MEMBER_PERMISSIONS, place: InteractionPlace = {}): InteractionHandle {
    return this.dispatchInteraction(2, user, permissions, {
      id: this.appId + '0',
      name,
      type: 1,
      options: Object.entries(options).map(([optName, value]) => ({ name: optName, type: 3, value })),
    }, undefined, place);
  }

  /** Clicks a button on a message the bot sent (in the DM or thread when the message is there). */
  click(message: FakeMessage, customId: string, user: FakeUser, permissions = MEMBER_PERMISSIONS): InteractionHandle {
    return this.dispatchInteraction(3, user, permissions, { custom_id: customId, component_type: 2 }, message, this.placeOf(message));
  }

  /** Submits a modal the bot showed (from a button on `message`): `fields` maps text input custom ids to values. */
  submitModal(message: FakeMessage, customId: string, fields: Record<string, string>, user: FakeUser): InteractionHandle {
    const components = Object.entries(fields).map(([id, value]) => ({ type: 1, components: [{ type: 4, custom_id: id, value }] }));
    // Discord sends the message whose button opened the modal along with the submission.
    return this.dispatchInteraction(5, user, MEMBER_PERMISSIONS, { custom_id: customId, components }, message, this.placeOf(message));
  }

  /**
   * A person posts in the guild channel (MESSAGE_CREATE). Without the Message Content intent Discord sends the text
   * only when the message mentions the bot, which `mentionsBot` decides; `replyTo` makes it a reply to that message.
   */
  userMessage(content: string, user: FakeUser, options: { replyTo?: FakeMessage; mentionsBot?: boolean; bot?: boolean } = {}): FakeMessage {
    const m: FakeMessage = { id: this.snowflake(), channel_id: CHANNEL_ID, content, flags: 0, components: [], token: 'user', deleted: false, edits: 0 };
    this.messages.set(m.id, m);
    const author = { id: user.id, username: user.username ?? `user${user.id}`, discriminator: '0', global_name: null, avatar: null, ...(options.bot ? { bot: true } : {}) };
    const botUser = { id: BOT_USER_ID, username: 'moe-router', discriminator: '0', avatar: null, bot: true };
    this.dispatch('MESSAGE_CREATE', {
      id: m.id, channel_id: CHANNEL_ID, guild_id: GUILD_ID, author, member: { roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 },
      content: options.mentionsBot ? content : '', type: options.replyTo ? 19 : 0, tts: false, pinned: false, mention_everyone: false,
      mentions: options.mentionsBot ? [botUser] : [], mention_roles: [], attachments: [], embeds: [], components: [], flags: 0,
      timestamp: new Date().toISOString(), edited_timestamp: null,
      ...(options.replyTo ? { message_reference: { type: 0, message_id: options.replyTo.id, channel_id: options.replyTo.channel_id, guild_id: GUILD_ID } } : {}),
    });
    return m;
  }

  /** Someone deletes a message (a moderator, or the author): gone from the channel, and MESSAGE_DELETE is dispatched. */
  deleteMessage(message: FakeMessage): void {
    message.deleted = true;
    this.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channel_id, ...(message.channel_id === DM_CHANNEL_ID ? {} : { guild_id: GUILD_ID }) });
  }

  /** Messages the bot posted with its own token in a channel (replies to people), oldest first. */
  channelMessages(channelId = CHANNEL_ID): FakeMessage[] {
    return this.messagesFor(`channel:${channelId}`);
  }

  /** Picks values in a string select on a message the bot sent. */
  select(message: FakeMessage, customId: string, values: string[], user: FakeUser, permissions = MEMBER_PERMISSIONS): InteractionHandle {
    return this.dispatchInteraction(3, user, permissions, { custom_id: customId, component_type: 3, values }, message, this.placeOf(message));
  }

  /** Where a message is: the DM, a thread the bot was told about, or the guild channel. */
  private placeOf(message: FakeMessage): InteractionPlace {
    if (message.channel_id === DM_CHANNEL_ID) return { dm: true };
    return this.threads.has(message.channel_id) ? { threadId: message.channel_id } : {};
  }

  private dispatchInteraction(
    type: 2 | 3 | 5, user: FakeUser, permissions: string, data: Record<string, unknown>, message?: FakeMessage, place: InteractionPlace = {},
  ): InteractionHandle {
    const id = this.snowflake();
    const token = `tok_${id}`;
    this.interactionTypes.set(id, type);
    const apiUser = { id: user.id, username: user.username ?? `user${user.id}`, discriminator: '0', global_name: null, avatar: null };
    const where: Record<string, unknown> = place.dm
      ? {
        // A DM: no guild and no member; the user, the DM channel, and context 1 (BOT_DM).
        channel_id: DM_CHANNEL_ID,
        channel: { id: DM_CHANNEL_ID, type: 1, flags: 0, last_message_id: null, recipients: [apiUser] },
        user: apiUser,
        app_permissions: '0',
        authorizing_integration_owners: { '1': user.id },
        context: 1,
      }
      : place.threadId ? {
        guild_id: GUILD_ID,
        channel_id: place.threadId,
        channel: { id: place.threadId, type: 11, guild_id: GUILD_ID, parent_id: CHANNEL_ID, name: 'a thread', thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date(0).toISOString(), locked: false } },
        member: { user: apiUser, roles: [], permissions, joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 },
        app_permissions: ADMIN_PERMISSIONS,
        guild_locale: 'en-US',
        authorizing_integration_owners: { '0': GUILD_ID },
        context: 0,
      } : {
        guild_id: GUILD_ID,
        channel_id: CHANNEL_ID,
        channel: { id: CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: 'general' },
        member: { user: apiUser, roles: [], permissions, joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 },
        app_permissions: ADMIN_PERMISSIONS,
        guild_locale: 'en-US',
        authorizing_integration_owners: { '0': GUILD_ID },
        context: 0,
      };
    this.channelByToken.set(token, place.dm ? DM_CHANNEL_ID : place.threadId ?? CHANNEL_ID);
    if (place.threadId && place.announced !== false && !this.threads.has(place.threadId)) {
      // Discord tells the bot about a thread (THREAD_CREATE, Guilds intent) before anything happens in it.
      this.threads.add(place.threadId);
      this.dispatch('THREAD_CREATE', { ...(where.channel as object), newly_created: true, member_count: 1, message_count: 0 });
    }
    const payload: Record<string, unknown> = {
      id, token, application_id: this.appId, type, data, version: 1, locale: 'en-US', entitlements: [], attachment_size_limit: 10_485_760, ...where,
    };
    if (message) {
      payload.message = this.messageJson(message);
      this.interactionMessage.set(id, message.id);
    }
    this.dispatch('INTERACTION_CREATE', payload);
    return { id, token, sentAt: Date.now() };
  }

  private dispatch(t: string, d: unknown): void {
    this.seq += 1;
    const frame = JSON.stringify({ op: 0, t, s: this.seq, d });
    for (const ws of this.sockets) ws.send(frame);
  }

  private onGateway(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 } }));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d?: unknown };
      if (msg.op === 1) ws.send(JSON.stringify({ op: 11 }));
      if (msg.op === 2) {
        this.identified.push(msg.d as Record<string, unknown>);
        this.seq += 1;
        ws.send(JSON.stringify({
          op: 0, t: 'READY', s: this.seq,
          d: {
            v: 10,
            user: { id: BOT_USER_ID, username: 'moe-router', discriminator: '0', avatar: null, bot: true },
            guilds: [{ id: GUILD_ID, unavailable: true }],
            session_id: 'fake-session',
            resume_gateway_url: `ws://127.0.0.1:${this.port}`,
            application: { id: this.appId, flags: 0 },
          },
        }));
        // discord.js waits (15 s) for a GUILD_CREATE per guild listed in READY before emitting clientReady.
        this.dispatch('GUILD_CREATE', {
          id: GUILD_ID, name: 'Fake Guild', icon: null, owner_id: '1', unavailable: false, member_count: 2, large: false,
          roles: [], emojis: [], stickers: [], features: [], members: [], presences: [], voice_states: [], threads: [],
          stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
          channels: [{ id: CHANNEL_ID, type: 0, name: 'general', guild_id: GUILD_ID, position: 0, permission_overwrites: [] }],
          joined_at: new Date(0).toISOString(), preferred_locale: 'en-US',
        });
      }
    });
  }

  private messageJson(m: FakeMessage): Record<string, unknown> {
    return {
      id: m.id, channel_id: m.channel_id, ...(m.channel_id === DM_CHANNEL_ID ? {} : { guild_id: GUILD_ID }), content: m.content, flags: m.flags, components: m.components,
      type: 20, tts: false, pinned: false, mention_everyone: false, mentions: [], mention_roles: [], attachments: [], embeds: [],
      timestamp: new Date().toISOString(), edited_timestamp: null, webhook_id: this.appId, application_id: this.appId,
      author: { id: BOT_USER_ID, username: 'moe-router', discriminator: '0', avatar: null, bot: true },
    };
  }

  private createMessage(token: string, data: Record<string, unknown> | undefined, id = this.snowflake()): FakeMessage {
    const m: FakeMessage = {
      id, channel_id: this.channelByToken.get(token) ?? CHANNEL_ID, token, deleted: false, edits: 0,
      content: typeof data?.content === 'string' ? data.content : '',
      flags: typeof data?.flags === 'number' ? data.flags : 0,
      components: Array.isArray(data?.components) ? data.components : [],
    };
    this.messages.set(m.id, m);
    const list = this.messagesByToken.get(token) ?? [];
    list.push(m);
    this.messagesByToken.set(token, list);
    return m;
  }

  private originalOf(token: string): FakeMessage | undefined {
    return this.messagesFor(token)[0];
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = u.pathname.replace(/^\/api\/v10/, '').replace(/%40/g, '@');
    const method = req.method ?? 'GET';
    let body: Record<string, unknown> | null = null;
    if (raw) {
      try { body = JSON.parse(raw) as Record<string, unknown>; } catch { body = { raw }; }
    }
    const call: RecordedCall = { method, path, query: u.searchParams, body, status: 200, at: Date.now() };

    const send = (status: number, json?: unknown, headers: Record<string, string> = {}): void => {
      call.status = status;
      this.calls.push(call);
      const token = /^\/(?:interactions\/\d+|webhooks\/\d+)\/([^/]+)/.exec(path)?.[1];
      if (token) this.callsByToken.set(token, [...this.callsFor(token), call]);
      if (json === undefined) {
        res.writeHead(status, headers).end(); // a 204 must carry no content-type
      } else {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
      }
      for (const l of [...this.listeners]) l();
    };

    const limitIndex = this.rateLimits.findIndex((r) => r.method === method && r.pattern.test(path));
    if (limitIndex >= 0) {
      const [limit] = this.rateLimits.splice(limitIndex, 1);
      const after = String(limit!.retryAfterSec);
      return send(429, { message: 'You are being rate limited.', retry_after: limit!.retryAfterSec, global: false },
        { 'retry-after': after, 'x-ratelimit-scope': 'user', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': after, 'x-ratelimit-bucket': 'fake' });
    }

    const failIndex = this.failures.findIndex((f) => f.method === method && f.pattern.test(path));
    if (failIndex >= 0) {
      const failure = this.failures[failIndex]!;
      failure.times -= 1;
      if (failure.times <= 0) this.failures.splice(failIndex, 1);
      return send(failure.error.status, { message: failure.error.message, code: failure.error.code });
    }

    let m: RegExpExecArray | null;
    if (this.invalidToken !== null && req.headers.authorization === `Bot ${this.invalidToken}`) {
      return send(401, { message: '401: Unauthorized', code: 0 });
    }
    if (method === 'GET' && path === '/gateway/bot') {
      return send(200, { url: `ws://127.0.0.1:${this.port}`, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 14_400_000, max_concurrency: 1 } });
    }
    if (method === 'PUT' && (m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      const list = Array.isArray(body) ? (body as unknown[]) : [];
      this.commands.set(path, list);
      return send(200, list.map((c) => ({ ...(c as object), id: this.snowflake(), application_id: m![1], version: '1' })));
    }
    if (method === 'POST' && (m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path))) {
      const token = m[2]!;
      const type = Number(body?.type);
      const data = body?.data as Record<string, unknown> | undefined;
      const created = type === 4 || type === 5 ? this.createMessage(token, type === 5 ? { flags: data?.flags, content: '' } : data) : undefined;
      const original = [...this.messages.values()].find((x) => x.id === this.interactionMessage.get(m![1]!));
      if (type === 7 && original && data) Object.assign(original, { content: data.content ?? original.content, components: data.components ?? original.components });
      if (u.searchParams.get('with_response') !== 'true' || !this.callbackResponses) return send(204);
      const shown = created ?? (type === 7 ? original : undefined);
      const flags = Number(data?.flags ?? 0);
      return send(200, {
        interaction: {
          id: m[1], type: this.interactionTypes.get(m[1]!) ?? 2,
          ...(shown ? { response_message_id: shown.id, response_message_loading: type === 5, response_message_ephemeral: (flags & 64) !== 0 } : {}),
        },
        // Discord documents the message here for immediate replies and updates only, not for a deferral.
        resource: { type, ...(shown && type !== 5 ? { message: this.messageJson(shown) } : {}) },
      });
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/([^/]+)$/.exec(path))) {
      const [, , token, ref] = m;
      const target = ref === '@original' ? this.originalOf(token!) : this.messages.get(ref!);
      if (!target || target.deleted) return send(404, { message: 'Unknown Message', code: 10008 });
      if (method === 'PATCH') {
        if (typeof body?.content === 'string') target.content = body.content;
        if (Array.isArray(body?.components)) target.components = body.components;
        target.edits += 1;
        return send(200, this.messageJson(target));
      }
      if (method === 'DELETE') {
        target.deleted = true;
        return send(204);
      }
      if (method === 'GET') return send(200, this.messageJson(target));
    }
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/messages$/.exec(path))) {
      const token = `channel:${m[1]!}`;
      this.channelByToken.set(token, m[1]!);
      return send(200, this.messageJson(this.createMessage(token, body ?? undefined)));
    }
    if ((method === 'PATCH' || method === 'DELETE') && (m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const target = this.messages.get(m[2]!);
      if (!target || target.deleted) return send(404, { message: 'Unknown Message', code: 10008 });
      if (method === 'DELETE') {
        target.deleted = true;
        return send(204);
      }
      if (typeof body?.content === 'string') target.content = body.content;
      if (Array.isArray(body?.components)) target.components = body.components;
      target.edits += 1;
      return send(200, this.messageJson(target));
    }
    if (method === 'POST' && (m = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path))) {
      return send(200, this.messageJson(this.createMessage(m[2]!, body ?? undefined)));
    }
    return send(404, { message: `fake Discord has no route ${method} ${path}`, code: 0 });
  }
}
