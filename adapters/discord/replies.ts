/** Message pieces the Discord adapter sends: no-mention policy, answer buttons, correction menu, error replies. */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  DiscordAPIError,
  MessageFlags,
  ModalBuilder,
  RESTJSONErrorCodes,
  StringSelectMenuBuilder,
  TextInputBuilder,
  TextInputStyle,
  type MessageActionRowComponentBuilder,
  type RepliableInteraction,
} from 'discord.js';
import type { ExpertInfo } from '../../src/experts/types.js';
import type { ExpertId } from '../../src/gate/types.js';
import type { AskResult } from '../../src/core/types.js';
import { expertLabel } from '../shared/format.js';
import { encodeCustomId } from './customIds.js';

/** Every message the bot sends: a question with @everyone or a role mention never pings anyone. */
export const NO_MENTIONS = { parse: [] as [] };

type Row = ActionRowBuilder<MessageActionRowComponentBuilder>;

export function answerButtons(result: Pick<AskResult, 'decisionId' | 'runnerUp'>): Row {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder().setCustomId(encodeCustomId({ kind: 'upvote', decisionId: result.decisionId }))
      .setEmoji('👍').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(encodeCustomId({ kind: 'downvote', decisionId: result.decisionId, runnerUp: result.runnerUp.id }))
      .setEmoji('👎').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(encodeCustomId({ kind: 'followUp', decisionId: result.decisionId }))
      .setLabel('Follow up').setEmoji('💬').setStyle(ButtonStyle.Secondary),
  );
}

/** The input of the Follow up modal. */
export const FOLLOW_UP_INPUT = 'question';

/** The Follow up button's modal: one text input; the submitted text follows up `decisionId`'s answer. */
export function followUpModal(decisionId: string, maxChars: number): ModalBuilder {
  return new ModalBuilder().setCustomId(encodeCustomId({ kind: 'followUpModal', decisionId })).setTitle('Follow up').addComponents(
    new ActionRowBuilder<TextInputBuilder>().addComponents(
      new TextInputBuilder().setCustomId(FOLLOW_UP_INPUT).setLabel('Your follow-up question').setStyle(TextInputStyle.Paragraph)
        .setRequired(true).setMinLength(1).setMaxLength(Math.min(4000, maxChars)),
    ),
  );
}

export function rerouteButton(decisionId: string, expert: ExpertInfo): Row {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder().setCustomId(encodeCustomId({ kind: 'reroute', decisionId, expertId: expert.id }))
      .setLabel(`Ask ${expert.displayName} instead`.slice(0, 80)).setEmoji(expert.emoji).setStyle(ButtonStyle.Primary),
  );
}

/** The 👎 follow-up: "Which expert should have answered?" and "Ask <runner-up> instead". */
export function correctionComponents(decisionId: string, experts: ExpertInfo[], runnerUp: ExpertId): Row[] {
  const select = new StringSelectMenuBuilder()
    .setCustomId(encodeCustomId({ kind: 'correct', decisionId }))
    .setPlaceholder('Which expert should have answered?')
    .addOptions(experts.slice(0, 25).map((e) => ({ label: e.displayName.slice(0, 100), value: e.id, emoji: e.emoji, description: e.description.slice(0, 100) || undefined })));
  const rows: Row[] = [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(select)];
  const runner = experts.find((e) => e.id === runnerUp);
  if (runner) rows.push(rerouteButton(decisionId, runner));
  return rows;
}

export function expertName(experts: ExpertInfo[], id: ExpertId): string {
  const e = experts.find((x) => x.id === id);
  return e ? expertLabel(e) : id;
}

/** Told privately when Discord refuses the bot in a channel (Missing Access, Missing Permissions). */
export const PERMISSION_MESSAGE = '⚠️ I am not allowed to post here. Ask a server admin to give me View Channel, Send Messages, '
  + 'Send Messages in Threads and Read Message History in this channel, or ask me in a DM.';

/** Discord refused the bot in this channel: Missing Access (50001) or Missing Permissions (50013). */
export function isPermissionError(err: unknown): boolean {
  return err instanceof DiscordAPIError
    && (err.code === RESTJSONErrorCodes.MissingAccess || err.code === RESTJSONErrorCodes.MissingPermissions);
}

/** The message is gone (a moderator or the asker deleted the answer while it was written). */
export function isUnknownMessage(err: unknown): boolean {
  return err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.UnknownMessage;
}

/** Removes a public reply that will not carry an answer (edited first: a follow-up to an unresolved deferral would inherit its public flag). */
export async function discardReply(interaction: RepliableInteraction): Promise<void> {
  await interaction.editReply({ content: '⚠️ No answer.', allowedMentions: NO_MENTIONS, components: [] }).catch(() => undefined);
  await interaction.deleteReply().catch(() => undefined);
}

/** Replies privately to the user, whatever state the interaction is in. */
export async function replyEphemeral(interaction: RepliableInteraction, content: string): Promise<void> {
  const message = { content, allowedMentions: NO_MENTIONS, flags: MessageFlags.Ephemeral as const };
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply(message);
    return;
  }
  if (interaction.deferred && !interaction.replied) {
    if (interaction.ephemeral) {
      await interaction.editReply({ content, allowedMentions: NO_MENTIONS, components: [] });
      return;
    }
    await discardReply(interaction);
  }
  await interaction.followUp(message);
}
