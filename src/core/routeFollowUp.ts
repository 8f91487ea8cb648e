/**
 * The follow-up rule: which expert answers a message in a conversation, given what the gate says about the message
 * alone, how the message is worded, and what the conversation's earlier user turns said. Pure: no store, no clock.
 *
 * - A first message goes where the gate sends it (`fresh`).
 * - A follow-up stays with the conversation's expert (`sticky`) unless the label the gate ranks first for the message
 *   alone belongs to another expert (a domain's, or `general` for `none`) and the switch score reaches 0
 *   (`switched`). The score is a weighted sum of: the gate's log-odds for that label and for the conversation's
 *   label on the message alone; the same for the earlier user turns (a decayed average of their probabilities, so a
 *   return to an earlier topic is easier); the wording (a marked change of topic, "ok unrelated, …", raises it; a
 *   continuation, "what about for kids", lowers it; see topicCue.ts); the message's length in words, alone and times
 *   the log-odds for the new label (the gate is over-confident on two-word messages, so its odds count more in longer
 *   ones); whether the new label is off-topic and whether the conversation is on `general`.
 * - The weights are fitted on the training part of data/conversations.jsonl by scripts/fitFollowUp.ts (logistic
 *   regression, then the bias moved until false switches stay under 2%); re-fit them when the gate changes.
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
  weights: SwitchWeights;
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
  /** Switch score of the candidate (null when the message alone already agrees with the conversation, or is fresh). */
  score: number | null;
  /** The conversation's routing state after this turn, for the next one. */
  next: ConversationRouting;
}

export const DEFAULT_FOLLOW_UP_PARAMS: FollowUpParams = FITTED_FOLLOW_UP_PARAMS;

/** Routes one message; `conversation` is null for the first message of a conversation. */
export function routeFollowUp(text: string, alone: RouteDecision, conversation: ConversationRouting | null, params: FollowUpParams = DEFAULT_FOLLOW_UP_PARAMS): FollowUpDecision {
  const p = alone.probabilities;
  if (conversation === null) {
    return { expert: alone.expert, reason: 'fresh', gateAlone: alone.expert, cue: null, score: null, next: { expert: alone.expert, evidence: LABELS.map((l) => p[l]) } };
  }
  const current = conversation.expert;
  const top = topLabel(p);
  const cue = topicCue(text);
  let expert = current;
  let score: number | null = null;
  if (labelToExpert(top) !== current) {
    const x = switchFeatures(text, cue, p, conversation, top);
    const w = params.weights;
    score = w.bias + w.target * x.target + w.current * x.current + w.historyTarget * x.historyTarget + w.historyCurrent * x.historyCurrent
      + w.marked * x.marked + w.continuation * x.continuation + w.offTopic * x.offTopic + w.fromGeneral * x.fromGeneral + w.logWords * x.logWords
      + w.targetByLength * x.targetByLength;
    if (score >= 0) expert = labelToExpert(top);
  }
  const d = params.historyDecay;
  const evidence = LABELS.map((l, j) => d * (conversation.evidence[j] ?? 0) + (1 - d) * p[l]);
  return { expert, reason: expert === current ? 'sticky' : 'switched', gateAlone: alone.expert, cue, score, next: { expert, evidence } };
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

function topLabel(p: Record<Label, number>): Label {
  let top: Label = LABELS[0];
  for (const l of LABELS) if (p[l] > p[top]) top = l;
  return top;
}

/** Log-odds clipped at ±9.2 (probabilities of 1e-4 and 1 - 1e-4): an over-confident gate should not dominate the sum. */
function logOdds(x: number): number {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, x));
  return Math.log(q / (1 - q));
}
