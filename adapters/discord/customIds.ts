/**
 * custom_id encoding for the answer buttons and the correction select. The decisionId travels inside the id,
 * so a click works after a restart without any in-memory state.
 */
import { isExpertId, type ExpertId } from '../../src/gate/types.js';

export type CustomAction =
  | { kind: 'upvote'; decisionId: string }
  | { kind: 'downvote'; decisionId: string; runnerUp: ExpertId }
  | { kind: 'correct'; decisionId: string }
  | { kind: 'reroute'; decisionId: string; expertId: ExpertId }
  /** The Follow up button, and the modal it opens (the submitted text follows up that answer). */
  | { kind: 'followUp'; decisionId: string }
  | { kind: 'followUpModal'; decisionId: string };

const PREFIX = 'moe';
const DECISION_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function encodeCustomId(action: CustomAction): string {
  switch (action.kind) {
    case 'upvote':
      return `${PREFIX}:up:${action.decisionId}`;
    case 'downvote':
      return `${PREFIX}:down:${action.decisionId}:${action.runnerUp}`;
    case 'correct':
      return `${PREFIX}:fix:${action.decisionId}`;
    case 'reroute':
      return `${PREFIX}:ask:${action.decisionId}:${action.expertId}`;
    case 'followUp':
      return `${PREFIX}:follow:${action.decisionId}`;
    case 'followUpModal':
      return `${PREFIX}:followup:${action.decisionId}`;
  }
}

/** Parses a custom_id; null for anything this bot did not create (or a tampered id). */
export function parseCustomId(customId: string): CustomAction | null {
  const [prefix, kind, decisionId, extra, ...more] = customId.split(':');
  if (prefix !== PREFIX || !decisionId || !DECISION_ID.test(decisionId) || more.length > 0) return null;
  if (kind === 'up' && extra === undefined) return { kind: 'upvote', decisionId };
  if (kind === 'fix' && extra === undefined) return { kind: 'correct', decisionId };
  if (kind === 'follow' && extra === undefined) return { kind: 'followUp', decisionId };
  if (kind === 'followup' && extra === undefined) return { kind: 'followUpModal', decisionId };
  if (kind === 'down' && isExpertId(extra)) return { kind: 'downvote', decisionId, runnerUp: extra };
  if (kind === 'ask' && isExpertId(extra)) return { kind: 'reroute', decisionId, expertId: extra };
  return null;
}
