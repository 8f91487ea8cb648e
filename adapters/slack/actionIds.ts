/**
 * action_id and value of our buttons and select. Values come back from Slack (signed, but built by us long ago),
 * so they are parsed strictly: an unknown or malformed one is refused, never trusted.
 */
import { isExpertId, type ExpertId } from '../../src/gate/types.js';

export const ACTION = {
  /** The 👍/👎 `feedback_buttons` element of an answer's `context_actions` block. */
  feedback: 'moe_feedback',
  /** The 👍/👎 buttons of answers posted before feedback_buttons (still in old threads). */
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
const UP = '+1';
const DOWN = '-1';

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

/** The positive and negative values of a feedback_buttons element (the click sends the one pressed). */
export function encodeFeedbackValues(decisionId: string, runnerUp: ExpertId): { positive: string; negative: string } {
  return { positive: `${decisionId}|${UP}`, negative: `${decisionId}|${DOWN}|${runnerUp}` };
}

function parseThread(thread: string | undefined): string | null | undefined {
  if (thread === undefined || thread === '') return null;
  return TS.test(thread) ? thread : undefined;
}

export function parseAction(actionId: string, value: string | undefined): SlackAction | null {
  if (typeof value !== 'string') return null;
  const [decisionId = '', second, third, ...extra] = value.split('|');
  if (!DECISION_ID.test(decisionId) || extra.length > 0) return null;
  switch (actionId) {
    case ACTION.feedback:
      if (second === UP && third === undefined) return { kind: 'upvote', decisionId };
      return second === DOWN && isExpertId(third) ? { kind: 'downvote', decisionId, runnerUp: third } : null;
    case ACTION.upvote:
      return second === undefined ? { kind: 'upvote', decisionId } : null;
    case ACTION.downvote:
      return isExpertId(second) && third === undefined ? { kind: 'downvote', decisionId, runnerUp: second } : null;
    case ACTION.correct:
    case ACTION.reroute: {
      const threadTs = parseThread(third);
      if (!isExpertId(second) || threadTs === undefined) return null;
      return { kind: actionId === ACTION.correct ? 'correct' : 'reroute', decisionId, expertId: second, threadTs };
    }
    default:
      return null;
  }
}
