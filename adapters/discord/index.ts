/**
 * The Discord adapter: logs the bot in and turns interactions into CoreApi calls (no routing logic, no SQL).
 * Every interaction is handled inside its own try/catch, so a user's message can never crash the bot.
 */
import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import { ConfigError, type Config } from '../../src/config.js';
import type { CoreApi } from '../../src/core/types.js';
import { isExpectedError, userErrorMessage } from '../shared/format.js';
import { createLogger, errorFields, type Logger } from '../../src/logger.js';
import { handleRetrain, handleStats } from './admin.js';
import { deliverAnswer } from './answer.js';
import { interactionChain } from './AnswerChain.js';
import { ASK_COMMAND, QUERY_OPTION, RETRAIN_COMMAND, STATS_COMMAND } from './commands.js';
import type { DiscordContext } from './context.js';
import { DeferralQueue } from './DeferralQueue.js';
import { InteractionThreads } from './InteractionThreads.js';
import { parseCustomId } from './customIds.js';
import { handleComponent } from './feedback.js';
import { askConversation, handleFollowUpModal, handleMessage } from './followUps.js';
import { isPermissionError, NO_MENTIONS, PERMISSION_MESSAGE, replyEphemeral } from './replies.js';

export interface StartDiscordOptions {
  router: CoreApi;
  config: Config;
  logger?: Logger;
  /** Minimum milliseconds between two edits of a streamed reply (default 1000: well inside Discord's rate limits). */
  editIntervalMs?: number;
  /** How long stop() waits for interactions in progress (default 10000 ms). */
  drainTimeoutMs?: number;
}

export interface DiscordBot {
  client: Client;
  stop(): Promise<void>;
}

export async function startDiscord(options: StartDiscordOptions): Promise<DiscordBot> {
  const { router, config } = options;
  const token = config.discord.token;
  if (!token) throw new ConfigError('DISCORD_TOKEN', 'is required to start the Discord adapter');
  const ctx: DiscordContext = {
    router,
    config,
    logger: options.logger ?? createLogger(config).child({ component: 'discord' }),
    editIntervalMs: options.editIntervalMs ?? 1000,
    deferrals: new DeferralQueue(),
    threads: new InteractionThreads(),
  };
  const client = new Client({
    // Guild Messages (not the privileged Message Content): a reply that mentions the bot arrives with its text.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    allowedMentions: NO_MENTIONS,
    // DISCORD_API_URL (a proxy) replaces the REST base; the gateway address then comes from GET /gateway/bot.
    rest: config.discord.apiUrl ? { api: config.discord.apiUrl } : {},
  });

  const active = new Set<Promise<void>>();
  let stopping = false;
  client.on(Events.Raw, (packet: unknown) => ctx.threads.note(packet)); // before InteractionCreate: a slash command's thread
  client.on(Events.InteractionCreate, (interaction) => {
    const work = (stopping ? refuseWhileStopping(ctx, interaction) : handleInteraction(ctx, interaction)).finally(() => active.delete(work));
    active.add(work);
  });
  client.on(Events.MessageCreate, (message) => {
    if (stopping || !client.user) return;
    const botUserId = client.user.id;
    const work = handleMessage(ctx, message, botUserId)
      .catch((err: unknown) => ctx.logger.error({ messageId: message.id, ...errorFields(err) }, 'discord: reply failed'))
      .finally(() => active.delete(work));
    active.add(work);
  });
  client.on(Events.Error, (err) => ctx.logger.error(errorFields(err), 'discord: client error'));
  client.on(Events.ShardDisconnect, (event, shardId) => ctx.logger.warn({ code: event.code, shardId }, 'discord: gateway disconnected'));

  const ready = once(client, Events.ClientReady);
  ready.catch(() => undefined); // awaited below; this only keeps a later 'error' event from being an unhandled rejection
  try {
    await client.login(token);
    await ready;
  } catch (err) {
    await client.destroy();
    throw loginError(err, config.discord.apiUrl);
  }
  ctx.logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'discord: ready');

  return {
    client,
    async stop() {
      stopping = true;
      const drainMs = options.drainTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...active]),
        new Promise((resolve) => { timer = setTimeout(resolve, drainMs); }),
      ]);
      clearTimeout(timer);
      await client.destroy();
    },
  };
}

/** A failed login as one line naming the setting to check, as Slack's start does (discord.js says neither). */
function loginError(err: unknown, apiUrl: string | null): Error {
  const message = err instanceof Error ? err.message : String(err);
  const own = err as { code?: unknown; cause?: { code?: unknown } };
  if (own.code === 'TokenInvalid') return new ConfigError('DISCORD_TOKEN', `Discord rejected the bot token (${message})`);
  const code = own.code ?? own.cause?.code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_)/.test(code)) {
    return new Error(`discord: cannot reach the Discord API (${message})${apiUrl ? `; check DISCORD_API_URL (${apiUrl})` : ''}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

/** During shutdown: a short private "restarting" note instead of silence. */
async function refuseWhileStopping(ctx: DiscordContext, interaction: Interaction): Promise<void> {
  if (!interaction.isRepliable()) return;
  await replyEphemeral(interaction, userErrorMessage({ code: 'shutting_down' })).catch((err: unknown) =>
    ctx.logger.warn({ interactionId: interaction.id, ...errorFields(err) }, 'discord: could not answer during shutdown'));
}

/** Routes one interaction; never throws (errors are logged and the user gets a short private message). */
export async function handleInteraction(ctx: DiscordContext, interaction: Interaction): Promise<void> {
  try {
    if (interaction.isChatInputCommand()) {
      switch (interaction.commandName) {
        case ASK_COMMAND: {
          const query = interaction.options.getString(QUERY_OPTION, false) ?? '';
          // Checked before deferring so the error can be private without a public "thinking…" flash.
          if (query.trim() === '') return await replyEphemeral(interaction, userErrorMessage({ code: 'empty_query' }));
          if (query.length > ctx.config.maxQueryChars) {
            return await replyEphemeral(interaction, userErrorMessage({ code: 'query_too_long' }, ctx.config.maxQueryChars));
          }
          const chain = interactionChain(ctx, interaction);
          return void (await deliverAnswer(ctx, chain, async (options) => ctx.router.ask(query, { ...options, ...(await askConversation(ctx, interaction, chain)) })));
        }
        case RETRAIN_COMMAND:
          return await handleRetrain(ctx, interaction);
        case STATS_COMMAND:
          return await handleStats(ctx, interaction);
        default:
          return await replyEphemeral(interaction, '⚠️ Unknown command. Try /ask.');
      }
    }
    if (interaction.isButton() || interaction.isStringSelectMenu()) {
      const action = parseCustomId(interaction.customId);
      if (!action) return await replyEphemeral(interaction, '⚠️ This button is no longer supported.');
      return await handleComponent(ctx, interaction, action);
    }
    if (interaction.isModalSubmit()) {
      const action = parseCustomId(interaction.customId);
      if (action?.kind === 'followUpModal') return await handleFollowUpModal(ctx, interaction, action.decisionId);
    }
    if (interaction.isRepliable()) await replyEphemeral(interaction, '⚠️ This action is not supported.');
  } catch (err) {
    const fields = { interactionId: interaction.id, userId: interaction.user.id, ...errorFields(err) };
    if (isExpectedError(err)) ctx.logger.warn(fields, 'discord: request refused');
    else if (isPermissionError(err)) ctx.logger.warn(fields, 'discord: not allowed in this channel');
    else ctx.logger.error(fields, 'discord: interaction failed');
    if (!interaction.isRepliable()) return;
    try {
      await replyEphemeral(interaction, isPermissionError(err) ? PERMISSION_MESSAGE : userErrorMessage(err, ctx.config.maxQueryChars));
    } catch (replyErr) {
      ctx.logger.error({ interactionId: interaction.id, ...errorFields(replyErr) }, 'discord: could not tell the user about an error');
    }
  }
}
