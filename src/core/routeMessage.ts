/**
 * How a caller shapes routing: a conversation sent whole with each request (/v1 `messages`) is routed by the follow-up
 * rule over its own questions, and a named expert (/v1 `model`) is taken as it is.
 */
import type { ChatTurn } from '../experts/types.js';
import { isExpertId, type ExpertId, type GateModel, type RouteDecision } from '../gate/types.js';
import { RouterError } from './errors.js';
import { routeConversation } from './routeConversation.js';
import { routeFollowUp, type ConversationRouting, type FollowUpDecision } from './routeFollowUp.js';

/**
 * The follow-up rule for `text` (`alone` is the gate on it): over the earlier turns the caller sent (newest first),
 * when it sent them, otherwise over the conversation's stored routing state.
 */
export function followUpRule(gate: GateModel, text: string, alone: RouteDecision, sent: readonly ChatTurn[] | undefined, stored: ConversationRouting | null): FollowUpDecision {
  if (sent === undefined) return routeFollowUp(text, alone, stored);
  const questions = sent.map((t) => t.question).filter((q) => q.trim() !== '').reverse();
  return questions.length === 0 ? routeFollowUp(text, alone, null) : routeConversation(gate, [...questions, text], undefined, alone);
}

/** The expert the caller named, checked; undefined when it named none. */
export function callerExpert(expert: ExpertId | undefined): ExpertId | undefined {
  if (expert !== undefined && !isExpertId(expert)) throw new RouterError('invalid_expert', { expert: String(expert) });
  return expert;
}
