/**
 * The Discord answer flow, used by /ask (in servers, DMs and group DMs), by "Ask <expert> instead" and follow-ups:
 * one call answers a question into an AnswerChain given a router call. It opens the chain at once (a deferral),
 * streams the answer into the first message, then the header + answer (split past 2,000 characters) and the 👍/👎
 * buttons on the last message. An expert that breaks before any of its text was shown is replaced by the fallback
 * expert; after text was shown, the message ends with the error line. When Discord refuses the bot in the channel
 * (Missing Access / Missing Permissions), generation stops (its row is marked failed, not left pending) and the user is
 * told privately what to grant. When the answer's message is deleted while it is written, generation stops too (its row
 * is marked cancelled) and nobody is told anything. The first message is linked to its decision with the answer's
 * first words (the router announces the decision with them), so a reply to an answer still being written continues
 * its conversation.
 */
import type { AskResult } from '../../src/core/types.js';
import { askInto, type AnswerCall } from '../shared/askInto.js';
import { answerText, userErrorMessage } from '../shared/format.js';
import { errorFields } from '../../src/logger.js';
import { splitMessage } from '../shared/splitMessage.js';
import type { DiscordContext } from './context.js';
import type { AnswerChain } from './AnswerChain.js';
import { answerButtons, isPermissionError, isUnknownMessage, PERMISSION_MESSAGE } from './replies.js';
import { cutShort, StreamingReply } from './StreamingReply.js';

const DISCORD_LIMIT = 2000;

/** Answers into `chain`; returns the answer, or null when there was none (the asker was told why). */
export async function deliverAnswer(ctx: DiscordContext, chain: AnswerChain, call: AnswerCall): Promise<AskResult | null> {
  await chain.open();
  // Stops generation when Discord refuses the bot here or the message was deleted: nobody would see the answer.
  const refused = new AbortController();
  const stream = new StreamingReply(chain, ctx.editIntervalMs, (err) => {
    if (refused.signal.aborted) return;
    ctx.logger.warn({ interactionId: chain.id, ...errorFields(err) }, 'discord: streaming edit failed');
    if (isPermissionError(err) || isUnknownMessage(err)) refused.abort(err);
  });

  let result: AskResult;
  try {
    // askInto hands the stream's startOver to the router: it falls back when the expert breaks before any text was shown.
    result = await askInto(call, stream, {
      platform: 'discord', userId: chain.userId, channelId: chain.channelId, signal: refused.signal,
      onDecision: (decision) => void linkFirstMessage(ctx, chain, decision.decisionId),
    });
  } catch (err) {
    await stream.finish();
    const reason: unknown = refused.signal.aborted ? refused.signal.reason : err;
    ctx.logger.warn({ interactionId: chain.id, userId: chain.userId, ...errorFields(reason) }, 'discord: no answer');
    if (isPermissionError(reason)) {
      await chain.discard();
      await chain.tellPrivately(PERMISSION_MESSAGE);
      return null;
    }
    if (isUnknownMessage(reason)) {
      // Deleted on purpose: nothing to show, nobody to tell.
      ctx.logger.info({ interactionId: chain.id, userId: chain.userId }, 'discord: the answer was deleted while it was written; generation stopped');
      return null;
    }
    const notice = userErrorMessage(err, ctx.config.maxQueryChars);
    // Text already shown stays, ending with the error line; otherwise the placeholder goes and only the asker is told.
    if (stream.shownText !== null && (await endWith(ctx, chain, cutShort(stream.shownText, notice)))) return null;
    await chain.discard();
    await chain.tellPrivately(notice);
    return null;
  }
  await stream.finish();
  try {
    await showAnswer(ctx, chain, result);
  } catch (err) {
    if (isUnknownMessage(err)) {
      ctx.logger.info({ interactionId: chain.id, decisionId: result.decisionId }, 'discord: the answer was deleted before it was shown whole');
      return result;
    }
    if (!isPermissionError(err)) throw err;
    ctx.logger.warn({ interactionId: chain.id, decisionId: result.decisionId, ...errorFields(err) }, 'discord: not allowed to post the answer');
    await chain.tellPrivately(PERMISSION_MESSAGE);
  }
  return result;
}

/** Links the answer's first message to its decision while the answer is still written (a reply to it is a follow-up). */
async function linkFirstMessage(ctx: DiscordContext, chain: AnswerChain, decisionId: string): Promise<void> {
  try {
    const first = await chain.firstMessageId();
    if (first && chain.channelId) ctx.router.attachMessage(decisionId, 'discord', `${chain.channelId}:${first}`);
  } catch (err) {
    ctx.logger.warn({ decisionId, ...errorFields(err) }, 'discord: could not link the answer message early');
  }
}

/** Replaces the streamed message with its final content (no buttons); false when Discord refused. */
async function endWith(ctx: DiscordContext, chain: AnswerChain, content: string): Promise<boolean> {
  try {
    await chain.edit(content, []);
    return true;
  } catch (err) {
    ctx.logger.warn({ interactionId: chain.id, ...errorFields(err) }, 'discord: could not end the cut-off answer');
    return false;
  }
}

/** The finished answer: header + text split at 2,000 characters, buttons on the last part, every part linked to its decision. */
async function showAnswer(ctx: DiscordContext, chain: AnswerChain, result: AskResult): Promise<void> {
  const parts = splitMessage(answerText(result), DISCORD_LIMIT);
  const buttons = [answerButtons(result)];
  const last = parts.length - 1;
  const messages = [await chain.edit(parts[0]!, last === 0 ? buttons : [])];
  for (let i = 1; i <= last; i++) messages.push(await chain.append(parts[i]!, i === last ? buttons : []));
  try {
    // Any part may be replied to, or start a thread (whose id is then that part's id).
    for (const message of messages) ctx.router.attachMessage(result.decisionId, 'discord', `${message.channelId}:${message.id}`);
  } catch (err) {
    ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(err) }, 'discord: could not remember the answer message');
  }
  ctx.logger.info({
    decisionId: result.decisionId, expert: result.expert.id, parts: parts.length, latencyMs: result.latencyMs,
  }, 'discord: answered');
}
