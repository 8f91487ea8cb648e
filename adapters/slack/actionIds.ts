/**
 * action_id and value of our buttons and select. Values come back from Slack (signed, but built by us long ago),
 * so they are parsed strictly: an unknown or malformed one is refused, never trusted.
 */
import { isExpertId, type ExpertId } from '../../src/gate/types.js';

export const ACTION = {
  upvote: 'moe_vote_up',
  downvote: 'moe_vote_down',
  correct: 'moe_correct',
  reroute: 'moe_reroute',
} as const;

export type SlackAction =
  | { kind: 'upvote'; decisionId: string }
  | { kind: 'downvote'; decisionId: string; runnerUp: ExpertId }
  | { kind: 'correct'; decisionId: string; expertId: ExpertId; threadTs: string | null }
  | { kind: 'reroute'; decisionId: string; expertId: ExpertId; threadTs: string | null };

const DECISION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TS = /^\d{1,12}\.\d{1,9}$/;

/** The button/option value for an action (decision id, then expert and thread when the action needs them). */
export function encodeValue(action: SlackAction): string {
  switch (action.kind) {
    case 'upvote':
      return action.decisionId;
    case 'downvote':
      return `${action.decisionId}|${action.runnerUp}`;
    case 'correct':
    case 'reroute':
      return `${action.decisionId}|${action.expertId}|${action.threadTs ?? ''}`;
  }
}

export function parseAction(actionId: string, value: string | undefined): SlackAction | null {
  if (typeof value !== 'string') return null;
  const [decisionId = '', expert, thread, ...extra] = value.split('|');
  if (!DECISION_ID.test(decisionId) || extra.length > 0) return null;
  const threadTs = thread === undefined || thread === '' ? null : thread;
  if (threadTs !== null && !TS.test(threadTs)) return null;
  switch (actionId) {
    case ACTION.upvote:
      return expert === undefined ? { kind: 'upvote', decisionId } : null;
    case ACTION.downvote:
      return isExpertId(expert) && thread === undefined ? { kind: 'downvote', decisionId, runnerUp: expert } : null;
    case ACTION.correct:
      return isExpertId(expert) ? { kind: 'correct', decisionId, expertId: expert, threadTs } : null;
    case ACTION.reroute:
      return isExpertId(expert) ? { kind: 'reroute', decisionId, expertId: expert, threadTs } : null;
    default:
      return null;
  }
}
