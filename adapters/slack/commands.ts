/** Slash commands: `/retrain` (admins only, SLACK_ADMIN_USER_IDS) and `/moe-stats`. */
import { retrainSummary, statsSummary, userErrorMessage } from '../shared/format.js';
import { errorFields } from '../../src/logger.js';
import { isAdmin, type SlackContext } from './context.js';
import { escapeMrkdwn } from './mrkdwn.js';

export const RETRAIN_COMMAND = '/retrain';
export const STATS_COMMAND = '/moe-stats';

export interface CommandReply {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
}

/** The acknowledgement (sent within Slack's 3 s) and, for work that takes longer, a follow-up. */
export interface CommandIo {
  ack(reply: CommandReply): Promise<void>;
  respond(reply: CommandReply): Promise<void>;
}

export async function handleRetrain(ctx: SlackContext, userId: string, io: CommandIo): Promise<void> {
  if (!isAdmin(ctx, userId)) {
    await io.ack({ response_type: 'ephemeral', text: '⛔ Only admins (SLACK_ADMIN_USER_IDS) can retrain the gate.' });
    return;
  }
  await io.ack({ response_type: 'ephemeral', text: '🔄 Retraining the gate from the labelled data and your votes…' });
  try {
    const report = await ctx.router.retrain({ requestedBy: `slack:${userId}` });
    ctx.logger.info({ userId, version: report.version, promoted: report.promoted }, 'slack: retrained');
    await io.respond({ response_type: 'ephemeral', text: escapeMrkdwn(retrainSummary(report)) });
  } catch (err) {
    ctx.logger.warn({ userId, ...errorFields(err) }, 'slack: retrain failed');
    await io.respond({ response_type: 'ephemeral', text: escapeMrkdwn(userErrorMessage(err)) });
  }
}

export async function handleStats(ctx: SlackContext, io: CommandIo): Promise<void> {
  await io.ack({ response_type: 'ephemeral', text: escapeMrkdwn(statsSummary(ctx.router.stats(), ctx.router.experts())) });
}
