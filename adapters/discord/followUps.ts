/**
 * Follow-ups on Discord: the Follow up button's modal, a reply to one of the bot's answers that mentions the bot, and
 * /ask inside a thread. Each continues a conversation (the core's follow-up rule picks the expert); the answer comes
 * as a new message of the chain, with the usual header, streaming, votes and buttons.
 */
import type { ChatInputCommandInteraction, Message, ModalSubmitInteraction } from 'discord.js';
import type { AskOptions } from '../../src/core/types.js';
import { userErrorMessage } from '../shared/format.js';
import { deliverAnswer } from './answer.js';
import { interactionChain, type AnswerChain } from './AnswerChain.js';
import type { DiscordContext } from './context.js';
import { FOLLOW_UP_INPUT, NO_MENTIONS, replyEphemeral } from './replies.js';

/** A Discord conversation: `discord:<channel or thread>:<root message>`. */
export function discordConversationKey(channelId: string, rootMessageId: string): string {
  return `discord:${channelId}:${rootMessageId}`;
}

type ConversationOptions = Pick<AskOptions, 'conversationKey' | 'followUpOf'>;

/**
 * The conversation an /ask belongs to. In a thread started from one of the bot's answers (a thread's id is its
 * starter message's): that answer's conversation. In any other thread: the thread's own, `discord:<thread>:<thread>`.
 * Elsewhere a new one, rooted at the bot's answer message (known once the reply is deferred).
 */
export async function askConversation(ctx: DiscordContext, interaction: ChatInputCommandInteraction, chain: AnswerChain): Promise<ConversationOptions> {
  const fromPayload = ctx.threads.take(interaction.id);
  const channel = interaction.channel;
  const thread = channel?.isThread() ? { id: channel.id, parentId: channel.parentId } : fromPayload; // the payload's when not cached
  if (thread) {
    const own = discordConversationKey(thread.id, thread.id);
    const starter = thread.parentId ? ctx.router.findDecisionByMessage('discord', `${thread.parentId}:${thread.id}`) : null;
    return starter ? { followUpOf: starter, conversationKey: own } : { conversationKey: own };
  }
  if (!interaction.channelId) return { conversationKey: null };
  const root = (await chain.firstMessageId()) ?? interaction.id; // the interaction's id is unique too, should Discord not say
  return { conversationKey: discordConversationKey(interaction.channelId, root) };
}

/** The Follow up modal was submitted: its text follows up the answer the button was on. */
export async function handleFollowUpModal(ctx: DiscordContext, interaction: ModalSubmitInteraction, decisionId: string): Promise<void> {
  const query = interaction.fields.getTextInputValue(FOLLOW_UP_INPUT);
  if (query.trim() === '') return replyEphemeral(interaction, userErrorMessage({ code: 'empty_query' }));
  if (query.length > ctx.config.maxQueryChars) return replyEphemeral(interaction, userErrorMessage({ code: 'query_too_long' }, ctx.config.maxQueryChars));
  const answer = interaction.message; // the answer the button was on: the root should its conversation have ended
  const conversationKey = answer ? discordConversationKey(answer.channelId, answer.id) : null;
  await deliverAnswer(ctx, interactionChain(ctx, interaction), (options) => ctx.router.ask(query, { ...options, followUpOf: decisionId, conversationKey }));
}

/** The question in a message that mentions the bot: the text without the bot's mention(s). */
export function questionFromMessage(content: string, botUserId: string): string {
  return content.replaceAll(`<@${botUserId}>`, '').replaceAll(`<@!${botUserId}>`, '').trim();
}

/**
 * A person's message: answered when it replies to one of the bot's answers and mentions the bot (without the Message
 * Content intent, Discord sends the text of exactly those messages); everything else is ignored.
 */
export async function handleMessage(ctx: DiscordContext, message: Message, botUserId: string): Promise<void> {
  const ignore = (reason: string): void => ctx.logger.debug({ messageId: message.id, reason }, 'discord: message ignored');
  if (message.author.bot || message.author.id === botUserId) return ignore('from a bot');
  const repliedTo = message.reference?.messageId;
  if (!repliedTo) return ignore('not a reply');
  if (!message.mentions.users.has(botUserId)) return ignore('does not mention the bot');
  const decisionId = ctx.router.findDecisionByMessage('discord', `${message.channelId}:${repliedTo}`);
  if (!decisionId) return ignore('not a reply to an answer');
  if (!ctx.router.claimDelivery('discord', [`msg:${message.id}`])) return ignore('already answered');
  const query = questionFromMessage(message.content, botUserId);
  if (query === '' || query.length > ctx.config.maxQueryChars) {
    await message.reply({ content: userErrorMessage({ code: query === '' ? 'empty_query' : 'query_too_long' }, ctx.config.maxQueryChars), allowedMentions: NO_MENTIONS });
    return;
  }
  const conversationKey = discordConversationKey(message.channelId, repliedTo); // used only if the answer's conversation ended
  await deliverAnswer(ctx, messageChain(message), (options) => ctx.router.ask(query, { ...options, followUpOf: decisionId, conversationKey }));
}

/** A reply to a person's message: a placeholder at once, edited while the answer streams, further parts as replies. */
export function messageChain(message: Message): AnswerChain {
  let first: Message | null = null;
  let last: Message | null = null;
  const placeholder = (): Message => {
    if (!first) throw new Error('the answer chain was not opened');
    return first;
  };
  return {
    id: message.id,
    userId: message.author.id,
    channelId: message.channelId,
    async open() {
      first = await message.reply({ content: '💭 …', allowedMentions: NO_MENTIONS });
      last = first;
    },
    firstMessageId: () => Promise.resolve(first?.id ?? null),
    edit: async (content, components) => placeholder().edit({ content, components, allowedMentions: NO_MENTIONS }),
    async append(content, components) {
      last = await (last ?? placeholder()).reply({ content, components, allowedMentions: NO_MENTIONS });
      return last;
    },
    async discard() {
      await first?.delete().catch(() => undefined);
    },
    // A plain message has no private reply: the asker is answered in the channel.
    async tellPrivately(content) {
      await message.reply({ content, allowedMentions: NO_MENTIONS });
    },
  };
}
