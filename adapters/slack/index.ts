/**
 * The Slack adapter: a Bolt App (HTTP Events API or Socket Mode) whose listeners turn Slack events into CoreApi
 * calls and back (no routing logic, no SQL). Every listener runs inside its own try/catch, so a user's message
 * can never crash the bot, and stop() lets answers in progress finish.
 */
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, type webApi } from '@slack/bolt';
import { ConfigError, type Config } from '../../src/config.js';
import { RouterError } from '../../src/core/errors.js';
import type { CoreApi } from '../../src/core/types.js';
import { userErrorMessage } from '../shared/format.js';
import { createLogger, errorFields, type Logger } from '../../src/logger.js';
import { parseAction } from './actionIds.js';
import { createAssistant, greetMessagesTab } from './assistant.js';
import { AnswerThreads } from './AnswerThreads.js';
import { boltLogger } from './boltLogger.js';
import { handleRetrain, handleStats, RETRAIN_COMMAND, STATS_COMMAND } from './commands.js';
import { createReceiver, slackSettings, type SlackMode } from './connection.js';
import type { SlackContext } from './context.js';
import { handleAction, recordVote, voteFromReaction, type ActionPlace } from './feedback.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { handleQuestion, slackConversationKey, type IncomingMessage } from './questions.js';
import { retryOnReset, slackErrorCode } from './slackErrors.js';
import { WorkspaceFeatures } from './WorkspaceFeatures.js';

export interface StartSlackOptions {
  router: CoreApi;
  config: Config;
  logger?: Logger;
  /** Minimum milliseconds between two chat.update calls of a streamed answer (default 1000). */
  updateIntervalMs?: number;
  /** HTTP mode: address to listen on (default config.host; put a TLS reverse proxy in front for Slack). */
  host?: string;
  /** HTTP mode: port to listen on (default config.slack.port; 0 picks a free one). */
  port?: number;
  /** How long stop() waits for answers in progress (default 10000 ms). */
  drainTimeoutMs?: number;
}

export interface SlackBot {
  app: App;
  mode: SlackMode;
  /** HTTP mode: the port Bolt listens on (events, interactivity and commands all POST to /slack/events). */
  port: number | null;
  stop(): Promise<void>;
}

type Fields = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const obj = (v: unknown): Fields => (typeof v === 'object' && v !== null ? (v as Fields) : {});

export async function startSlack(options: StartSlackOptions): Promise<SlackBot> {
  const { router, config } = options;
  const settings = slackSettings(config);
  const logger = options.logger ?? createLogger(config).child({ component: 'slack' });
  const ctx: SlackContext = { router, config, logger, updateIntervalMs: options.updateIntervalMs ?? 1000, threads: new AnswerThreads(),
    workspaces: new WorkspaceFeatures(),
  };
  const bLogger = boltLogger(logger);
  const receiver = createReceiver(settings, bLogger);
  const app = new App({
    token: settings.botToken,
    receiver,
    logger: bLogger,
    // auth.test runs in init(), awaited below, so a bad token is a clear start-up error rather than a stray rejection.
    deferInitialization: true,
    // A few retries (rate limits honour Retry-After); Bolt's default retries for ~30 minutes, which would hang stop().
    clientOptions: { ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}), retryConfig: { retries: 3, factor: 2, minTimeout: 500 } },
  });

  const active = new Set<Promise<void>>();
  let stopping = false;
  /** Runs one listener's work: tracked for stop(), errors logged and never thrown back into Bolt. */
  const run = async (what: string, fields: Fields, work: () => Promise<void>, onError?: (err: unknown) => Promise<void>): Promise<void> => {
    if (stopping) return;
    const job = (async () => {
      try {
        await work();
      } catch (err) {
        // A RouterError is the user's input or a known state (told to the user); anything else is our bug.
        if (err instanceof RouterError) logger.warn({ ...fields, ...errorFields(err) }, `slack: ${what} refused`);
        else logger.error({ ...fields, ...errorFields(err) }, `slack: ${what} failed`);
        if (onError) await onError(err).catch((e: unknown) => logger.error({ ...fields, ...errorFields(e) }, 'slack: could not tell the user about an error'));
      }
    })();
    active.add(job);
    try {
      await job;
    } finally {
      active.delete(job);
    }
  };

  const onMessage = (kind: string) => async (args: { event: unknown; body: unknown; context: { botUserId?: string; retryNum?: number; teamId?: string }; client: webApi.WebClient }): Promise<void> => {
    const e = obj(args.event);
    const body = obj(args.body);
    // A message without a mention is a question in a DM, or a follow-up in a channel thread the bot answered in.
    if (kind === 'message' && e.channel_type !== 'im') {
      const threadTs = str(e.thread_ts);
      const reason = !threadTs ? 'not a direct message' : !ctx.router.hasConversation(slackConversationKey(str(e.channel) ?? '', threadTs)) ? 'a thread the bot has not answered in' : null;
      if (reason) return void logger.debug({ channel: str(e.channel), ts: str(e.ts), reason }, 'slack: message ignored');
    }
    const m: IncomingMessage = {
      eventId: str(body.event_id),
      retryNum: typeof args.context.retryNum === 'number' ? args.context.retryNum : null,
      channel: str(e.channel) ?? '',
      ts: str(e.ts) ?? '',
      threadTs: str(e.thread_ts),
      user: str(e.user),
      text: typeof e.text === 'string' ? e.text : '',
      subtype: str(e.subtype),
      botId: str(e.bot_id),
      botUserId: args.context.botUserId ?? null,
      teamId: str(e.user_team) ?? str(e.team) ?? str(body.team_id) ?? args.context.teamId ?? null,
      addressed: kind !== 'message' || e.channel_type === 'im',
    };
    await run('question', { eventId: m.eventId, channel: m.channel, ts: m.ts }, () => handleQuestion(ctx, args.client, m), async (err) => {
      if (!m.user || !m.channel) return;
      await args.client.chat.postEphemeral({ channel: m.channel, user: m.user, thread_ts: m.threadTs ?? m.ts, text: userErrorMessage(err, config.maxQueryChars) });
    });
  };
  // Messages in assistant threads go to the Assistant (and from it to onMessage); every other message to the listener below.
  app.assistant(createAssistant(ctx, { onMessage: onMessage('im'), run: (what, fields, work) => run(what, fields, work) }));
  app.event('app_mention', onMessage('mention'));
  app.event('message', onMessage('message'));
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'messages') return;
    await run('messages tab greeting', { channel: event.channel, userId: event.user }, () => greetMessagesTab(ctx, client, event.channel));
  });

  app.event('reaction_added', async ({ event, context, client }) => {
    const vote = voteFromReaction(event.reaction);
    const ignore = (reason: string): void => logger.debug({ reaction: event.reaction, user: event.user, reason }, 'slack: reaction ignored');
    if (vote === null) return ignore('not a vote');
    if (event.item.type !== 'message' || event.user === context.botUserId) return ignore('not a person voting on a message');
    const { channel, ts } = event.item;
    const decisionId = router.findDecisionByMessage('slack', `${channel}:${ts}`);
    if (decisionId === null) return ignore('not an answer');
    const place: ActionPlace = { userId: event.user, channel, threadTs: ctx.threads.threadOf(channel, ts), teamId: context.teamId ?? null };
    await run('reaction vote', { decisionId, channel }, () => recordVote(ctx, client, place, decisionId, vote, null), async (err) => {
      await client.chat.postEphemeral({ channel, user: event.user, text: userErrorMessage(err) });
    });
  });

  app.action(/^moe_/, async ({ ack, body, action, client, respond }) => {
    await ack();
    const b = obj(body);
    const a = obj(action);
    const container = obj(b.container);
    const message = obj(b.message);
    const userId = str(obj(b.user).id);
    const channel = str(obj(b.channel).id) ?? str(container.channel_id);
    if (!userId || !channel) return void logger.warn({ actionId: a.action_id }, 'slack: action without user or channel ignored');
    const place: ActionPlace = {
      userId, channel, threadTs: str(message.thread_ts) ?? str(container.thread_ts) ?? str(message.ts),
      teamId: str(obj(b.user).team_id) ?? str(obj(b.team).id),
    };
    const value = str(a.value) ?? str(obj(a.selected_option).value) ?? undefined;
    const parsed = parseAction(str(a.action_id) ?? '', value);
    const tell = async (text: string): Promise<void> => {
      await client.chat.postEphemeral({ channel, user: userId, text: escapeMrkdwn(text), ...(place.threadTs ? { thread_ts: place.threadTs } : {}) });
    };
    await run('action', { actionId: a.action_id, userId }, async () => {
      if (parsed === null) return await tell('⚠️ This button is no longer supported.');
      await handleAction(ctx, client, place, parsed, async (reply) => {
        if (str(b.response_url) !== null) await retryOnReset(() => respond({ replace_original: true, response_type: 'ephemeral', ...reply }));
        else await tell(reply.text);
      });
    }, (err) => tell(userErrorMessage(err, config.maxQueryChars)));
  });

  app.command(RETRAIN_COMMAND, async ({ command, ack, respond }) => {
    await run('/retrain', { userId: command.user_id }, () => handleRetrain(ctx, command.user_id, {
      ack: async (reply) => { await ack(reply); },
      respond: async (reply) => { await retryOnReset(() => respond(reply)); },
    }));
  });
  app.command(STATS_COMMAND, async ({ command, ack, respond }) => {
    await run('/moe-stats', { userId: command.user_id }, () => handleStats(ctx, {
      ack: async (reply) => { await ack(reply); },
      respond: async (reply) => { await retryOnReset(() => respond(reply)); },
    }));
  });

  app.error(async (err) => {
    logger.error(errorFields(err), 'slack: unhandled error in a listener');
  });

  try {
    await app.init();
  } catch (err) {
    const code = slackErrorCode(err);
    if (['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired'].includes(code)) {
      throw new ConfigError('SLACK_BOT_TOKEN', `Slack rejected the bot token (${code})`);
    }
    throw new Error(`slack: auth.test failed (${code})${settings.apiUrl ? `; check SLACK_API_URL (${settings.apiUrl})` : ''}`, { cause: err });
  }

  let port: number | null = null;
  if (receiver instanceof HTTPReceiver) {
    const server = await receiver.start({ host: options.host ?? config.host, port: options.port ?? config.slack.port });
    port = (server.address() as AddressInfo).port;
  } else {
    try {
      await receiver.start();
    } catch (err) {
      const code = slackErrorCode(err);
      if (['invalid_auth', 'not_authed', 'not_allowed_token_type'].includes(code)) {
        throw new ConfigError('SLACK_APP_TOKEN', `Slack rejected the app-level token (${code}); it needs the connections:write scope`);
      }
      throw err;
    }
  }
  logger.info({ mode: settings.mode, port }, 'slack: ready');

  return {
    app,
    mode: settings.mode,
    port,
    async stop() {
      if (stopping) return;
      stopping = true;
      // Stop receiving first: Slack then retries undelivered events to the next instance instead of losing them.
      await app.stop().catch((err: unknown) => logger.warn(errorFields(err), 'slack: receiver did not stop cleanly'));
      const drainMs = options.drainTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...active]), new Promise((resolve) => { timer = setTimeout(resolve, drainMs); })]);
      clearTimeout(timer);
    },
  };
}
