/**
 * Routes the newest user message of a conversation given the earlier ones, for callers that send the whole
 * conversation each time (OpenAI-style /v1 `messages`): the follow-up rule replayed over the user turns.
 */
import { routeFollowUp, DEFAULT_FOLLOW_UP_PARAMS, type ConversationRouting, type FollowUpDecision, type FollowUpParams } from './routeFollowUp.js';
import type { GateModel, RouteDecision } from '../gate/types.js';

/** Earlier user turns replayed at most: older ones hardly move the decayed evidence, and each costs a gate call. */
export const MAX_REPLAYED_TURNS = 12;

export interface ConversationRoute extends FollowUpDecision {
  /** The gate's decision on the newest message alone. */
  alone: RouteDecision;
}

/** `userMessages` oldest first; the last one is routed. Throws on an empty list. */
export function routeConversation(gate: GateModel, userMessages: readonly string[], params: FollowUpParams = DEFAULT_FOLLOW_UP_PARAMS): ConversationRoute {
  if (userMessages.length === 0) throw new Error('routeConversation needs at least one user message');
  const turns = userMessages.slice(-MAX_REPLAYED_TURNS - 1);
  let state: ConversationRouting | null = null;
  for (let i = 0; i < turns.length - 1; i++) state = routeFollowUp(turns[i]!, gate.route(turns[i]!), state, params).next;
  const text = turns[turns.length - 1]!;
  const alone = gate.route(text);
  return { ...routeFollowUp(text, alone, state, params), alone };
}
