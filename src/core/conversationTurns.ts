/**
 * How a question becomes a turn of a conversation: which conversation it belongs to, and which expert answers it
 * (the follow-up rule: stay with the conversation's expert unless the message clearly switches topic).
 */
import { newId } from './newId.js';
import type { Store, QueuedStatement } from '../store/Store.js';
import type { DecisionRow } from '../store/types.js';
import { DOMAIN_LABELS, LABELS, type ExpertId, type GateModel, type Label, type RouteDecision } from '../gate/types.js';
import type { Config } from '../config.js';
import type { ChatTurn } from '../experts/types.js';
import { ConversationStore } from '../store/ConversationStore.js';
import { Conversations, type ConversationTurnHandle } from './Conversations.js';
import { callerExpert, followUpRule } from './routeMessage.js';
import { expertToLabel } from './labels.js';
import { RouterError } from './errors.js';
import type { AnswerFallbackReason, AskOptions, ConversationInfo } from './types.js';

/** The conversation turn a decision answers, and what adapters are told about it. */
export interface DecisionTurn {
  handle: ConversationTurnHandle;
  info: ConversationInfo;
}

/** Who answers a new question and why, given its conversation; `write` commits the conversation with the decision. */
export interface TurnChoice {
  expert: ExpertId;
  confidence: number;
  fallbackReason: AnswerFallbackReason;
  runnerUp: ExpertId;
  turn: DecisionTurn;
  write: QueuedStatement | null;
}

/** The router's conversations: rows in the store, recent ones cached. */
export function openConversations(store: Store, config: Config, now: () => number): Conversations {
  return new Conversations(new ConversationStore(store.db, () => store.flush()), {
    idleMs: config.conversationIdleMs, maxTurns: config.conversationMaxTurns, keepText: store.keepText, retentionMs: config.queryRetentionMs,
  }, now);
}

/** Earlier turns fetched for the expert at most; it keeps the newest that fit its history budget. */
const HISTORY_TURNS = 50;

/** The conversation so far for the expert, newest first (none for a question outside one). */
export function historyOf(conversations: Conversations, turn: DecisionTurn | null): ChatTurn[] {
  return turn ? conversations.history(turn.handle, HISTORY_TURNS) : [];
}

/** Opens the question's conversation (the caller's key, the one of the answer it follows up, or a new one) and routes it. */
export function openTurn(conversations: Conversations, store: Store, text: string, route: RouteDecision, options: AskOptions, gate: GateModel): TurnChoice {
  const [key, isNew] = conversationKey(conversations, store, options);
  const opened = continueOrOwn(conversations, conversations.open(key, options.platform, { isNew }), options); // a thread, a reply chain, an HTTP conversationId
  // A caller that sends the whole conversation says which turn this is; the log's count may have restarted or merged chats.
  const handle = options.history ? { ...opened, turn: options.history.length + 1, restarted: null } : opened;
  const rule = followUpRule(gate, text, route, options.history, handle.routing); // over the turns the caller sent, if it sent them
  const forced = callerExpert(options.expert); // the caller named the expert (/v1 `model`)
  const expert = forced ?? rule.expert;
  const same = expert === route.expert;
  return {
    expert,
    confidence: forced ? route.probabilities[expertToLabel(forced)] : rule.reason === 'fresh' ? route.confidence : rule.next.evidence[LABELS.indexOf(expertToLabel(expert))]!,
    fallbackReason: forced ? 'forced' : same ? route.fallbackReason : expert === 'general' ? 'off_topic' : null,
    runnerUp: same ? route.runnerUp : bestOtherDomain(route.probabilities, expert),
    turn: { handle, info: { key: handle.key, turn: handle.turn, followUp: handle.turn > 1, reason: rule.reason, gateAlone: route.expert, restarted: handle.restarted } },
    write: conversations.record(handle, rule),
  };
}

/**
 * A follow-up of an answer whose conversation is over (idle, too long) goes on under the caller's own key (a thread, the
 * answer's message), so the next follow-up finds it again; the reply says why it started afresh.
 */
function continueOrOwn(conversations: Conversations, opened: ConversationTurnHandle, options: AskOptions): ConversationTurnHandle {
  if (!opened.restarted || !options.followUpOf || !options.conversationKey || options.conversationKey === opened.key) return opened;
  const own = conversations.open(options.conversationKey, options.platform);
  return own.turn > 1 || own.restarted ? own : { ...own, restarted: opened.restarted };
}

/** A re-routed answer is the same turn of the same conversation, answered by the expert the user picked. */
export function rerouteTurn(conversations: Conversations, previous: DecisionRow, expert: ExpertId): DecisionTurn | null {
  const c = previous.conversation;
  if (!c) return null;
  const key = conversations.keyOf(c.id);
  if (key === null) return null;
  conversations.setExpert(c.id, expert);
  const handle: ConversationTurnHandle = { key, id: c.id, platform: previous.platform, turn: c.turn, startedAt: previous.createdAt, routing: null, restarted: null };
  return { handle, info: { key, turn: c.turn, followUp: c.followUp, reason: c.reason, gateAlone: previous.gateExpert, restarted: null } };
}

/** Best domain expert other than `expert` by the gate's probabilities; the gate's own runner-up is relative to its pick. */
export function bestOtherDomain(probabilities: Record<Label, number>, expert: ExpertId): Exclude<ExpertId, 'general'> {
  let best = DOMAIN_LABELS.find((l) => l !== expert)!;
  for (const label of DOMAIN_LABELS) if (label !== expert && (probabilities[label] ?? 0) > (probabilities[best] ?? 0)) best = label;
  return best;
}

function conversationKey(conversations: Conversations, store: Store, options: AskOptions): [key: string, isNew: boolean] {
  if (options.followUpOf) {
    const previous = store.getDecision(options.followUpOf);
    const key = previous?.conversation ? conversations.keyOf(previous.conversation.id) : null;
    if (key) return [key, false];
    // The caller's key (e.g. a thread started from that answer) when the answer's conversation ended or is unknown.
    if (options.conversationKey) return [options.conversationKey, false];
    if (!previous) throw new RouterError('not_found', 'That answer is not in the log any more; please ask again.');
    return [`${previous.platform}:${previous.id}`, false]; // an answer from before conversations, or whose conversation ended
  }
  // A caller sending the whole conversation with no earlier turn starts a new one, even under a key seen before.
  if (options.conversationKey) return [options.conversationKey, options.history?.length === 0];
  return [`${options.platform}:${newId()}`, true];
}
