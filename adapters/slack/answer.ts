/**
 * The Slack answer flow, used for questions and for "Ask <expert> instead": post a placeholder in the thread,
 * stream the answer into it with throttled chat.update, then the final blocks (continued in further thread
 * messages past the size limits) with the expert line and vote buttons on the last message.
 */
import type { webApi } from '@slack/bolt';
import type { AskOptions, AskResult } from '../../src/core/types.js';
import { answerHeader, userErrorMessage } from '../shared/format.js';
import { errorFields } from '../shared/logger.js';
import { answerMessages, noticeMessage, plainTextMessages, streamingMessage, type SlackMessage } from './blocks.js';
import type { SlackContext } from './context.js';
import { StreamingMessage } from './StreamingMessage.js';

/** Router call to make once the placeholder is posted (ask or reroute), given the streaming options. */
export type AnswerCall = (options: AskOptions) => Promise<AskResult>;

export interface AnswerTarget {
  channel: string;
  /** Thread to answer in (the question's ts for a new thread). */
  threadTs: string;
  userId: string;
}

/** Posts the answer; returns it, or null when the router refused or failed (the user was told why). */
export async function deliverAnswer(ctx: SlackContext, client: webApi.WebClient, target: AnswerTarget, call: AnswerCall): Promise<AskResult | null> {
  const first = streamingMessage(null, '');
  const placeholder = await client.chat.postMessage({ channel: target.channel, thread_ts: target.threadTs, text: first.text, blocks: first.blocks });
  const ts = placeholder.ts;
  if (!ts) throw new Error('chat.postMessage returned no ts');
  const stream = new StreamingMessage(client, target.channel, ts, ctx.updateIntervalMs, (err) =>
    ctx.logger.warn({ channel: target.channel, ts, ...errorFields(err) }, 'slack: streaming update failed'));

  let result: AskResult;
  try {
    result = await call({
      platform: 'slack',
      userId: target.userId,
      channelId: target.channel,
      onDecision: (decision) => stream.setHeader(answerHeader(decision)),
      onTextChunk: (text) => stream.push(text),
    });
  } catch (err) {
    await stream.finish();
    ctx.logger.warn({ channel: target.channel, userId: target.userId, ...errorFields(err) }, 'slack: no answer');
    await update(client, target.channel, ts, noticeMessage(userErrorMessage(err, ctx.config.maxQueryChars)));
    return null;
  }
  await stream.finish();

  const messages = answerMessages(result);
  const refs = [ts];
  try {
    await update(client, target.channel, ts, messages[0]!);
  } catch (err) {
    // Slack refused the blocks (a limit we did not foresee): show the answer as plain text rather than nothing.
    ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(err) }, 'slack: answer blocks refused, posting plain text');
    messages.splice(0, messages.length, ...plainTextMessages(result));
    await client.chat.update({ channel: target.channel, ts, text: messages[0]!.text, blocks: [] });
  }
  for (const message of messages.slice(1)) {
    const posted = await client.chat.postMessage({
      channel: target.channel, thread_ts: target.threadTs, text: message.text, ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}),
    });
    if (posted.ts) refs.push(posted.ts);
  }
  try {
    // Every part is linked, so a 👍/👎 reaction on any of them counts for this answer.
    for (const ref of refs) {
      ctx.router.attachMessage(result.decisionId, 'slack', `${target.channel}:${ref}`);
      ctx.threads.remember(target.channel, ref, target.threadTs);
    }
  } catch (err) {
    ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(err) }, 'slack: could not remember the answer message');
  }
  ctx.logger.info({
    decisionId: result.decisionId, expert: result.expert.id, parts: messages.length, latencyMs: result.latencyMs,
  }, 'slack: answered');
  return result;
}

async function update(client: webApi.WebClient, channel: string, ts: string, message: SlackMessage): Promise<void> {
  await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
}
