/**
 * The Discord answer flow, used by /ask (in servers, DMs and group DMs), by "Ask <expert> instead" and follow-ups:
 * defer at once (Discord's 3-second window), stream the answer into the reply, then the header + answer (split over
 * follow-ups past 2,000 characters) and the 👍/👎 buttons on the last message. When Discord refuses the bot in the
 * channel (Missing Access / Missing Permissions), generation stops (its row is marked failed, not left pending) and
 * the user is told privately what to grant.
 */
import type { RepliableInteraction } from 'discord.js';
import type { AskOptions, AskResult } from '../../src/core/types.js';
import { answerHeader, answerText, userErrorMessage } from '../shared/format.js';
import { errorFields } from '../../src/logger.js';
import { splitMessage } from '../shared/splitMessage.js';
import type { DiscordContext } from './context.js';
import { answerButtons, discardReply, isPermissionError, NO_MENTIONS, PERMISSION_MESSAGE, replyEphemeral } from './replies.js';
import { StreamingReply } from './StreamingReply.js';

const DISCORD_LIMIT = 2000;

/** Router call to make once the reply is deferred (ask or reroute), given the streaming options. */
export type AnswerCall = (options: AskOptions) => Promise<AskResult>;

export async function deliverAnswer(ctx: DiscordContext, interaction: RepliableInteraction, call: AnswerCall): Promise<void> {
  await ctx.deferrals.defer(() => interaction.deferReply());
  await ctx.deferrals.idle();
  // Stops generation when Discord refuses the bot here: nobody would see the answer.
  const refused = new AbortController();
  const stream = new StreamingReply(interaction, ctx.editIntervalMs, (err) => {
    ctx.logger.warn({ interactionId: interaction.id, ...errorFields(err) }, 'discord: streaming edit failed');
    if (isPermissionError(err) && !refused.signal.aborted) refused.abort(err);
  });

  let result: AskResult;
  try {
    result = await call({
      platform: 'discord',
      userId: interaction.user.id,
      channelId: interaction.channelId,
      signal: refused.signal,
      onDecision: (decision) => stream.setHeader(answerHeader(decision)),
      onTextChunk: (text) => stream.push(text),
    });
  } catch (err) {
    await stream.finish();
    const reason: unknown = refused.signal.aborted ? refused.signal.reason : err;
    ctx.logger.warn({ interactionId: interaction.id, userId: interaction.user.id, ...errorFields(reason) }, 'discord: no answer');
    await discardReply(interaction);
    await replyEphemeral(interaction, isPermissionError(reason) ? PERMISSION_MESSAGE : userErrorMessage(err, ctx.config.maxQueryChars));
    return;
  }
  await stream.finish();
  try {
    await showAnswer(ctx, interaction, result);
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    ctx.logger.warn({ interactionId: interaction.id, decisionId: result.decisionId, ...errorFields(err) }, 'discord: not allowed to post the answer');
    await replyEphemeral(interaction, PERMISSION_MESSAGE);
  }
}

/** The finished answer: header + text split at 2,000 characters, buttons on the last part, linked to its decision. */
async function showAnswer(ctx: DiscordContext, interaction: RepliableInteraction, result: AskResult): Promise<void> {
  const parts = splitMessage(answerText(result), DISCORD_LIMIT);
  const buttons = [answerButtons(result)];
  const last = parts.length - 1;
  let message = await interaction.editReply({ content: parts[0], components: last === 0 ? buttons : [], allowedMentions: NO_MENTIONS });
  for (let i = 1; i <= last; i++) {
    message = await interaction.followUp({ content: parts[i]!, components: i === last ? buttons : [], allowedMentions: NO_MENTIONS });
  }
  try {
    ctx.router.attachMessage(result.decisionId, 'discord', `${message.channelId}:${message.id}`);
  } catch (err) {
    ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(err) }, 'discord: could not remember the answer message');
  }
  ctx.logger.info({
    decisionId: result.decisionId, expert: result.expert.id, parts: parts.length, latencyMs: result.latencyMs,
  }, 'discord: answered');
}
