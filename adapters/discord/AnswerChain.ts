/**
 * Where a Discord answer is shown: a first message that is edited while the answer streams, further messages for the
 * parts past 2,000 characters, and a private line for the asker. The reply to an interaction is one such chain
 * (interactionChain); a reply to a plain message, followed by further messages in its channel, can be another.
 */
import type { Message, MessageActionRowComponentBuilder, ActionRowBuilder, RepliableInteraction } from 'discord.js';
import type { DiscordContext } from './context.js';
import { errorFields } from '../../src/logger.js';
import { discardReply, NO_MENTIONS, replyEphemeral } from './replies.js';

export type Row = ActionRowBuilder<MessageActionRowComponentBuilder>;

export interface AnswerChain {
  /** For log lines (the interaction or message id). */
  readonly id: string;
  readonly userId: string;
  readonly channelId: string | null;
  /** Shows at once that an answer is coming (a deferral, a placeholder). */
  open(): Promise<void>;
  /** After open(): the id of the answer's first message (the root of a new conversation), or null if Discord did not say. */
  firstMessageId(): Promise<string | null>;
  /** Sets the first message's content (each streaming step, then the first part of the answer). */
  edit(content: string, components: Row[]): Promise<Message>;
  /** Sends the next part of a long answer. */
  append(content: string, components: Row[]): Promise<Message>;
  /** Removes the first message when no answer will come. */
  discard(): Promise<void>;
  /** Tells only the asker (errors, permission problems). */
  tellPrivately(content: string): Promise<void>;
}

/** The reply to a slash command or button: deferred at once (Discord's 3-second window), edited, then follow-ups. */
export function interactionChain(ctx: DiscordContext, interaction: RepliableInteraction): AnswerChain {
  let firstId: string | null = null;
  return {
    id: interaction.id,
    userId: interaction.user.id,
    channelId: interaction.channelId,
    async open() {
      // The callback's response names the reply message (response_message_id), so no extra request is needed for it.
      const response = await ctx.deferrals.defer(() => interaction.deferReply({ withResponse: true }).catch((err: unknown) => {
        if (!interaction.deferred) throw err;
        return null; // acknowledged, but with no response body to read (e.g. a proxy): firstMessageId() fetches it
      }));
      firstId = response?.interaction.responseMessageId ?? response?.resource?.message?.id ?? null;
      await ctx.deferrals.idle();
    },
    async firstMessageId() {
      if (firstId) return firstId;
      try {
        return (await interaction.fetchReply()).id;
      } catch (err) {
        ctx.logger.warn({ interactionId: interaction.id, ...errorFields(err) }, 'discord: could not fetch the reply message');
        return null;
      }
    },
    edit: (content, components) => interaction.editReply({ content, components, allowedMentions: NO_MENTIONS }),
    append: (content, components) => interaction.followUp({ content, components, allowedMentions: NO_MENTIONS }),
    discard: () => discardReply(interaction),
    tellPrivately: (content) => replyEphemeral(interaction, content),
  };
}
