/**
 * The follow-up rule: which expert answers a message in a conversation, given what the gate says about the message
 * alone, how the message is worded, and what the conversation's earlier user turns said. Pure: no store, no clock.
 *
 * - A first message goes where the gate sends it (`fresh`).
 * - A follow-up stays with the conversation's expert (`sticky`) unless the switch score of a candidate label reaches 0
 *   (`switched`: a domain's expert, or `general` for `none`). The candidate is the label the gate ranks first for the
 *   message alone or, when that is the conversation's own, the runner-up (scored with weights of its own: the gate
 *   often ranks the conversation's label first on a message that leaves it, "also is a glucose monitor covered by
 *   insurance"). The score is a weighted sum of: the gate's log-odds for that label and for the conversation's
 *   label on the message alone; the same for the earlier user turns (a decayed average of their probabilities, so a
 *   return to an earlier topic is easier); the wording (a marked change of topic, "ok unrelated, …", raises it; a
 *   continuation, "what about for kids", lowers it; see topicCue.ts); the message's length in words, alone and times
 *   the log-odds for the new label (the gate is over-confident on two-word messages, so its odds count more in longer
 *   ones); whether the new label is off-topic and whether the conversation is on `general`.
 * - The weights are fitted on the training part of data/conversations.jsonl by scripts/fitFollowUp.ts (two logistic
 *   regressions, then the biases moved until false switches stay under 2%); re-fit them when the gate changes.
 */
import { FITTED_FOLLOW_UP_PARAMS } from './followUpParams.js';
import { countWords, topicCue, type TopicCue } from './topicCue.js';
import { LABELS, type ExpertId, type Label, type RouteDecision } from '../gate/types.js';
import { expertToLabel, labelToExpert } from './labels.js';

export type RouteReason = 'sticky' | 'switched' | 'fresh';

/** Weights of the switch score, one per feature (see switchFeatures). */
export interface SwitchWeights {
  bias: number;
  target: number;
  current: number;
  historyTarget: number;
  historyCurrent: number;
  marked: number;
  continuation: number;
  offTopic: number;
  fromGeneral: number;
  logWords: number;
  /** The gate's log-odds for the new label times logWords: it is over-confident on two-word messages. */
  targetByLength: number;
}

/** The rule's parameters; fitted by scripts/fitFollowUp.ts. */
export interface FollowUpParams {
  /** Share of the earlier evidence kept at each new turn (0 = only the previous turn counts). */
  historyDecay: number;
  /** For the label the gate ranks first, when it is not the conversation's. */
  weights: SwitchWeights;
  /** For the runner-up, when the gate ranks the conversation's label first. */
  runnerUpWeights: SwitchWeights;
}

/** What a conversation carries from turn to turn for routing. */
export interface ConversationRouting {
  /** The expert the conversation's last turn was routed to. */
  expert: ExpertId;
  /** Decayed average of the earlier user turns' gate probabilities, in LABELS order. */
  evidence: readonly number[];
}

export interface FollowUpDecision {
  expert: ExpertId;
  reason: RouteReason;
  /** What the gate said about the message alone. */
  gateAlone: ExpertId;
  cue: TopicCue | null;
  /** Switch score of the candidate (null for a first message). */
  score: number | null;
  /** The conversation's routing state after this turn, for the next one. */
  next: ConversationRouting;
}

export const DEFAULT_FOLLOW_UP_PARAMS: FollowUpParams = FITTED_FOLLOW_UP_PARAMS;

/** The switch score's inputs, in the order fitFollowUp.ts fits them. */
export const SWITCH_FEATURES = ['target', 'current', 'historyTarget', 'historyCurrent', 'marked', 'continuation', 'offTopic', 'fromGeneral', 'logWords', 'targetByLength'] as const satisfies readonly (keyof SwitchWeights)[];

/** Routes one message; `conversation` is null for the first message of a conversation. */
export function routeFollowUp(text: string, alone: RouteDecision, conversation: ConversationRouting | null, params: FollowUpParams = DEFAULT_FOLLOW_UP_PARAMS): FollowUpDecision {
  const p = alone.probabilities;
  if (conversation === null) {
    return { expert: alone.expert, reason: 'fresh', gateAlone: alone.expert, cue: null, score: null, next: { expert: alone.expert, evidence: LABELS.map((l) => p[l]) } };
  }
  const current = conversation.expert;
  const cue = topicCue(text);
  const { target, runnerUp } = switchCandidate(p, current);
  const x = switchFeatures(text, cue, p, conversation, target);
  const w = runnerUp ? params.runnerUpWeights : params.weights;
  let score = w.bias;
  for (const name of SWITCH_FEATURES) score += w[name] * x[name];
  const expert = score >= 0 ? labelToExpert(target) : current;
  const d = params.historyDecay;
  const evidence = LABELS.map((l, j) => d * (conversation.evidence[j] ?? 0) + (1 - d) * p[l]);
  return { expert, reason: expert === current ? 'sticky' : 'switched', gateAlone: alone.expert, cue, score, next: { expert, evidence } };
}

/** The label a follow-up could move the conversation to: the gate's first for the message alone, or its runner-up when the first is the conversation's. */
export function switchCandidate(p: Record<Label, number>, current: ExpertId): { target: Label; runnerUp: boolean } {
  const own = expertToLabel(current);
  let first: Label = LABELS[0];
  for (const l of LABELS) if (p[l] > p[first]) first = l;
  if (first !== own) return { target: first, runnerUp: false };
  let second: Label | null = null;
  for (const l of LABELS) if (l !== own && (second === null || p[l] > p[second])) second = l;
  return { target: second!, runnerUp: true };
}

/** The switch score's inputs for moving the conversation to `target`'s expert (weights are applied by the caller). */
export function switchFeatures(text: string, cue: TopicCue, p: Record<Label, number>, conversation: ConversationRouting, target: Label): Omit<SwitchWeights, 'bias'> {
  const currentLabel = expertToLabel(conversation.expert);
  const e = conversation.evidence;
  const logWords = Math.log(1 + countWords(text));
  const targetOdds = logOdds(p[target]);
  return {
    target: targetOdds,
    current: logOdds(p[currentLabel]),
    historyTarget: logOdds(e[LABELS.indexOf(target)] ?? 0),
    historyCurrent: logOdds(e[LABELS.indexOf(currentLabel)] ?? 0),
    marked: cue === 'marked' ? 1 : 0,
    continuation: cue === 'continuation' ? 1 : 0,
    offTopic: target === 'none' ? 1 : 0,
    fromGeneral: conversation.expert === 'general' ? 1 : 0,
    logWords,
    targetByLength: targetOdds * logWords,
  };
}

/** Log-odds clipped at ±9.2 (probabilities of 1e-4 and 1 - 1e-4): an over-confident gate should not dominate the sum. */
function logOdds(x: number): number {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, x));
  return Math.log(q / (1 - q));
}
