/**
 * The Discord answer flow, used by /ask and by "Ask <expert> instead": defer at once (Discord's 3-second window),
 * stream the answer into the reply, then the header + answer (split over follow-ups past 2,000 characters)
 * and the 👍/👎 buttons on the last message.
 */
import type { RepliableInteraction } from 'discord.js';
import type { AskOptions, AskResult } from '../../src/core/types.js';
import { answerHeader, answerText, userErrorMessage } from '../shared/format.js';
import { errorFields } from '../shared/logger.js';
import { splitMessage } from '../shared/splitMessage.js';
import type { DiscordContext } from './context.js';
import { answerButtons, discardReply, NO_MENTIONS, replyEphemeral } from './replies.js';
import { StreamingReply } from './StreamingReply.js';

const DISCORD_LIMIT = 2000;

/** Router call to make once the reply is deferred (ask or reroute), given the streaming options. */
export type AnswerCall = (options: AskOptions) => Promise<AskResult>;

export async function deliverAnswer(ctx: DiscordContext, interaction: RepliableInteraction, call: AnswerCall): Promise<void> {
  await ctx.deferrals.defer(() => interaction.deferReply());
  await ctx.deferrals.idle();
  const stream = new StreamingReply(interaction, ctx.editIntervalMs, (err) =>
    ctx.logger.warn({ interactionId: interaction.id, ...errorFields(err) }, 'discord: streaming edit failed'));

  let result: AskResult;
  try {
    result = await call({
      platform: 'discord',
      userId: interaction.user.id,
      channelId: interaction.channelId,
      onDecision: (decision) => stream.setHeader(answerHeader(decision)),
      onTextChunk: (text) => stream.push(text),
    });
  } catch (err) {
    await stream.finish();
    ctx.logger.warn({ interactionId: interaction.id, userId: interaction.user.id, ...errorFields(err) }, 'discord: no answer');
    await discardReply(interaction);
    await replyEphemeral(interaction, userErrorMessage(err, ctx.config.maxQueryChars));
    return;
  }
  await stream.finish();

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
