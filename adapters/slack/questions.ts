/**
 * `@moe <question>` in a channel, direct messages, and follow-ups in a thread the bot answered in: filter what is not
 * a question, claim the delivery (event id and channel+ts, persisted, so retries, duplicates — a mention arrives as
 * app_mention and as message — and restarts answer once), then answer in the thread, as a turn of its conversation.
 */
import type { webApi } from '@slack/bolt';
import { userErrorMessage } from '../shared/format.js';
import { errorFields } from '../../src/logger.js';
import { deliverAnswer } from './answer.js';
import type { SlackContext } from './context.js';
import { questionFromSlack } from './mrkdwn.js';

export const WORKING_REACTION = 'hourglass_flowing_sand';

/** Subtypes that are still a person asking something; every other subtype (edits, joins, bot posts…) is ignored. */
const QUESTION_SUBTYPES = new Set(['thread_broadcast', 'file_share']);

export interface IncomingMessage {
  eventId: string | null;
  retryNum: number | null;
  channel: string;
  ts: string;
  threadTs: string | null;
  user: string | null;
  text: string;
  subtype: string | null;
  botId: string | null;
  botUserId: string | null;
  /** The asker's workspace (event `user_team`, else the delivery's team). */
  teamId: string | null;
  /** Said to the bot (a mention or a DM), not a plain message in a thread it answered in. */
  addressed: boolean;
}

/** Why a message is not answered, or null when it is a question. */
export function ignoreReason(m: IncomingMessage): string | null {
  if (m.botId || (m.botUserId !== null && m.user === m.botUserId)) return 'from a bot';
  if (m.subtype !== null && !QUESTION_SUBTYPES.has(m.subtype)) return `subtype ${m.subtype}`;
  if (!m.user) return 'no user';
  if (!m.channel || !m.ts) return 'no channel or ts';
  return null;
}

/** Whether `text` has a letter or digit outside :shortcodes: ("👍", ":joy:" and "!!" have none). */
export function hasWords(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text.replace(/:[a-z0-9_+'-]+:/gi, ''));
}

/** A Slack thread is one conversation: `slack:<channel>:<thread_ts>` (a top-level message's own ts starts its thread). */
export function slackConversationKey(channel: string, threadTs: string): string {
  return `slack:${channel}:${threadTs}`;
}

export async function handleQuestion(ctx: SlackContext, client: webApi.WebClient, m: IncomingMessage): Promise<void> {
  const ignored = ignoreReason(m);
  if (ignored !== null) return void ctx.logger.debug({ channel: m.channel, ts: m.ts, reason: ignored }, 'slack: message ignored');
  const question = questionFromSlack(m.text, m.botUserId ?? undefined);
  // A file, an emoji or a :shortcode: posted in the thread without a word is not a question to the bot; said to it, an
  // empty message gets a hint.
  if (!m.addressed && !hasWords(question)) return void ctx.logger.debug({ channel: m.channel, ts: m.ts, reason: 'no text' }, 'slack: message ignored');
  const user = m.user!;
  const keys = [`msg:${m.channel}:${m.ts}`];
  if (m.eventId) keys.unshift(`event:${m.eventId}`);
  if (!ctx.router.claimDelivery('slack', keys)) {
    ctx.logger.info({ eventId: m.eventId, channel: m.channel, ts: m.ts, retryNum: m.retryNum }, 'slack: duplicate delivery ignored');
    return;
  }
  const threadTs = m.threadTs ?? m.ts;
  if (question === '' || question.length > ctx.config.maxQueryChars) {
    const code = question === '' ? 'empty_query' : 'query_too_long';
    await client.chat.postEphemeral({
      channel: m.channel, user, thread_ts: threadTs,
      text: userErrorMessage({ code }, ctx.config.maxQueryChars),
    });
    return;
  }

  const reacted = await client.reactions.add({ channel: m.channel, timestamp: m.ts, name: WORKING_REACTION }).then(
    () => true,
    (err: unknown) => {
      ctx.logger.warn({ channel: m.channel, ts: m.ts, ...errorFields(err) }, 'slack: could not add the working reaction');
      return false;
    },
  );
  try {
    const conversationKey = slackConversationKey(m.channel, threadTs);
    await deliverAnswer(ctx, client, { channel: m.channel, threadTs, userId: user, teamId: m.teamId }, (options) => ctx.router.ask(question, { ...options, conversationKey }));
  } finally {
    if (reacted) {
      await client.reactions.remove({ channel: m.channel, timestamp: m.ts, name: WORKING_REACTION }).catch((err: unknown) =>
        ctx.logger.warn({ channel: m.channel, ts: m.ts, ...errorFields(err) }, 'slack: could not remove the working reaction'));
    }
  }
}
