/**
 * Votes: the 👍/👎 feedback_buttons on an answer (and the older 👍/👎 buttons), the `:+1:`/`:-1:` reactions on it, the private "which expert should have
 * answered?" select after a 👎, and "Ask <expert> instead" (a new answer in the same thread).
 */
import type { webApi } from '@slack/bolt';
import type { ExpertId } from '../../src/gate/types.js';
import type { Vote } from '../../src/core/types.js';
import { expertLabel } from '../shared/format.js';
import { deliverAnswer } from './answer.js';
import type { SlackAction } from './actionIds.js';
import { correctionMessage, rerouteActions, type Block } from './blocks.js';
import { isAdmin, type SlackContext } from './context.js';
import { escapeMrkdwn } from './mrkdwn.js';

/** Where an action happened: the voter, the channel, and the thread of the answer. */
export interface ActionPlace {
  userId: string;
  channel: string;
  threadTs: string | null;
  /** The voter's workspace. */
  teamId: string | null;
}

/** Replaces the private message the action came from (ephemeral messages can only be changed via response_url). */
export type ReplaceEphemeral = (message: { text: string; blocks?: Block[] }) => Promise<void>;

function expertName(ctx: SlackContext, id: ExpertId): string {
  const e = ctx.router.experts().find((x) => x.id === id);
  return e ? expertLabel(e) : id;
}

async function tell(client: webApi.WebClient, place: ActionPlace, text: string, blocks?: Block[]): Promise<void> {
  await client.chat.postEphemeral({
    channel: place.channel, user: place.userId, text: escapeMrkdwn(text),
    ...(blocks ? { blocks } : {}),
    ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
  });
}

/** Records a vote and confirms it privately; a 👎 also offers the correction select and the runner-up. */
export async function recordVote(
  ctx: SlackContext, client: webApi.WebClient, place: ActionPlace, decisionId: string, vote: Vote, runnerUp: ExpertId | null,
): Promise<void> {
  const r = ctx.router.feedback(decisionId, place.userId, vote, null, { admin: isAdmin(ctx, place.userId) });
  if (vote === 1) {
    await tell(client, place, r.replaced ? 'Changed your vote to 👍. Thanks!' : 'Recorded your 👍. Thanks!');
    return;
  }
  const intro = r.replaced ? 'Changed your vote to 👎.' : 'Recorded your 👎.';
  const fallbackRunnerUp = runnerUp ?? ctx.router.experts().find((e) => !e.isFallback)?.id ?? null;
  if (fallbackRunnerUp === null) return await tell(client, place, intro);
  const message = correctionMessage(decisionId, ctx.router.experts(), fallbackRunnerUp, place.threadTs, intro);
  await tell(client, place, `${intro} Which expert should have answered?`, message.blocks);
}

export async function handleAction(
  ctx: SlackContext, client: webApi.WebClient, place: ActionPlace, action: SlackAction, replace: ReplaceEphemeral,
): Promise<void> {
  switch (action.kind) {
    case 'upvote':
      return await recordVote(ctx, client, place, action.decisionId, 1, null);
    case 'downvote':
      return await recordVote(ctx, client, place, action.decisionId, -1, action.runnerUp);
    case 'correct': {
      ctx.router.feedback(action.decisionId, place.userId, -1, action.expertId, { admin: isAdmin(ctx, place.userId) });
      const chosen = ctx.router.experts().find((e) => e.id === action.expertId);
      const text = `Recorded: 👎, ${expertName(ctx, action.expertId)} should have answered. Retraining learns from this.`;
      await replace({
        text: escapeMrkdwn(text),
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(text) } },
          ...(chosen ? [rerouteActions(action.decisionId, chosen, action.threadTs ?? place.threadTs)] : []),
        ],
      });
      return;
    }
    case 'reroute': {
      const threadTs = action.threadTs ?? place.threadTs;
      if (threadTs === null) return await tell(client, place, '⚠️ I cannot find the thread of that answer any more; please ask again.');
      await replace({ text: escapeMrkdwn(`Asking ${expertName(ctx, action.expertId)}… the answer follows in the thread.`) });
      await deliverAnswer(ctx, client, { channel: place.channel, threadTs, userId: place.userId, teamId: place.teamId }, (options) =>
        ctx.router.reroute(action.decisionId, action.expertId, options));
      return;
    }
  }
}

/** `:+1:` / `:thumbsup:` (any skin tone) is 👍, `:-1:` / `:thumbsdown:` is 👎; anything else is not a vote. */
export function voteFromReaction(reaction: string): Vote | null {
  const name = reaction.replace(/::skin-tone-\d$/, '');
  if (name === '+1' || name === 'thumbsup') return 1;
  if (name === '-1' || name === 'thumbsdown') return -1;
  return null;
}
