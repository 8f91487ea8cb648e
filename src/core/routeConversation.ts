/**
 * Routes the newest user message of a conversation given the earlier ones, for callers that send the whole
 * conversation each time (OpenAI-style /v1 `messages`): the follow-up rule replayed over the user turns.
 *
 * The routing state after the earlier turns is cached by a hash of those turns (and the gate's version), and the state
 * after this turn is cached for the next request, which sends this one's turns plus one: a conversation sent again
 * and again costs one rule step per request instead of a gate call per earlier turn. Only hashes and routing state
 * (an expert and four probabilities) are kept, never text.
 */
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { routeFollowUp, DEFAULT_FOLLOW_UP_PARAMS, type ConversationRouting, type FollowUpDecision, type FollowUpParams } from './routeFollowUp.js';
import type { GateModel, RouteDecision } from '../gate/types.js';

/** Earlier user turns replayed at most when the state is not cached: older ones hardly move the decayed evidence, and each costs a gate call. */
export const MAX_REPLAYED_TURNS = 12;
/** Conversations whose routing state is kept (about 200 bytes each). */
const CACHED_STATES = 10_000;

export interface ConversationRoute extends FollowUpDecision {
  /** The gate's decision on the newest message alone. */
  alone: RouteDecision;
}

/** One cache per parameter set, so a refit (or a test's own parameters) never reads another's states. */
const caches = new WeakMap<FollowUpParams, LRUCache<string, ConversationRouting>>();

function cacheFor(params: FollowUpParams): LRUCache<string, ConversationRouting> {
  let cache = caches.get(params);
  if (!cache) caches.set(params, (cache = new LRUCache({ max: CACHED_STATES })));
  return cache;
}

/**
 * `userMessages` oldest first; the last one is routed (`alone`, the gate's decision on it, when the caller has it).
 * Throws on an empty list. Without a cached state, the newest MAX_REPLAYED_TURNS earlier turns are replayed.
 */
export function routeConversation(gate: GateModel, userMessages: readonly string[], params: FollowUpParams = DEFAULT_FOLLOW_UP_PARAMS, alone?: RouteDecision): ConversationRoute {
  if (userMessages.length === 0) throw new Error('routeConversation needs at least one user message');
  const last = userMessages.length - 1;
  const cache = cacheFor(params);
  const hash = crypto.createHash('sha256').update(gate.version);
  for (let i = 0; i < last; i++) hash.update(`\u0000${userMessages[i]!.length}:`).update(userMessages[i]!); // length-prefixed: turns cannot run together
  const earlierKey = hash.copy().digest('base64');
  let state: ConversationRouting | null = last === 0 ? null : cache.get(earlierKey) ?? null;
  if (last > 0 && state === null) {
    for (let i = Math.max(0, last - MAX_REPLAYED_TURNS); i < last; i++) state = routeFollowUp(userMessages[i]!, gate.route(userMessages[i]!), state, params).next;
    cache.set(earlierKey, state!);
  }
  const text = userMessages[last]!;
  const decision = alone ?? gate.route(text);
  const routed = routeFollowUp(text, decision, state, params);
  cache.set(hash.update(`\u0000${text.length}:`).update(text).digest('base64'), routed.next);
  return { ...routed, alone: decision };
}
