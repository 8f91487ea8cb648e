/** The training set of a retraining: our data and the vote examples, split into training and held-out rows. */
import type { GateModel, TrainingExample } from '../gate/types.js';
import {
  DEFAULT_FEEDBACK_RULES,
  isHeldOutDataRow,
  isHeldOutDecision,
  selfTrainingExamples,
  votesToExamples,
  type FeedbackRules,
  type FeedbackTrainingExample,
  type LoggedQuestion,
  type VoteRecord,
} from './feedbackExamples.js';

/** Share of our own rows never trained on by a retrained gate: the fixed part of the comparison. */
export const DATA_HOLDOUT_FRACTION = 0.1;
/** Share of voted decisions kept for the comparison instead of training. */
export const FEEDBACK_HOLDOUT_FRACTION = 0.1;
/** At most this many held-out feedback rows per user, so one account cannot steer the comparison. */
export const FEEDBACK_HOLDOUT_PER_USER = 5;
/** Names the split; a gate trained with another split (or none, like `moe train`) is not compared as-is. */
export const HOLDOUT_KEY = `data${DATA_HOLDOUT_FRACTION}-votes${FEEDBACK_HOLDOUT_FRACTION}-v1`;

export interface TrainingSet {
  train: TrainingExample[];
  /** Our own held-out rows plus held-out feedback rows: both gates are measured on exactly these. */
  heldOut: TrainingExample[];
  dataTrain: TrainingExample[];
  dataHeldOut: TrainingExample[];
  feedbackHeldOut: TrainingExample[];
  feedbackTrain: FeedbackTrainingExample[];
  /** Self-training rows from logged questions nobody voted on. */
  selfTrain: FeedbackTrainingExample[];
  /** Votes that became examples / were skipped, by reason. */
  votesUsed: number;
  votesSkipped: Record<string, number>;
}

export interface TrainingSetOptions {
  dataHoldout?: number;
  feedbackHoldout?: number;
  /** Logged questions for self-training (newest first). */
  logged?: readonly LoggedQuestion[];
  /** Re-scores the logged questions (the gate routing now knows more than the one that routed them); default none. */
  activeGate?: GateModel;
}

/** Splits our data and the feedback examples into training and held-out rows (stable from run to run). */
export function buildTrainingSet(
  data: readonly TrainingExample[],
  votes: readonly VoteRecord[],
  rules: FeedbackRules = DEFAULT_FEEDBACK_RULES,
  options: TrainingSetOptions = {},
): TrainingSet {
  const dataFraction = options.dataHoldout ?? DATA_HOLDOUT_FRACTION;
  const fbFraction = options.feedbackHoldout ?? FEEDBACK_HOLDOUT_FRACTION;
  const dataTrain: TrainingExample[] = [];
  const dataHeldOut: TrainingExample[] = [];
  for (const row of data) (isHeldOutDataRow(row.text, dataFraction) ? dataHeldOut : dataTrain).push(row);

  const { examples, used, skipped } = votesToExamples(votes, rules);
  const feedbackTrain: FeedbackTrainingExample[] = [];
  const feedbackHeldOut: TrainingExample[] = [];
  const heldPerUser = new Map<string, number>();
  for (const e of examples) {
    if (!isHeldOutDecision(e.decisionId, fbFraction)) {
      feedbackTrain.push(e);
      continue;
    }
    // Only positive evidence is a reliable answer key; spread 👎 rows are training-only.
    if (e.source === 'downvote') continue;
    const n = heldPerUser.get(e.userId) ?? 0;
    if (n >= FEEDBACK_HOLDOUT_PER_USER) continue;
    heldPerUser.set(e.userId, n + 1);
    feedbackHeldOut.push({ text: e.text, label: e.label, kind: `feedback:${e.source}` });
  }
  const voted = new Set(votes.map((v) => v.decisionId));
  let logged = (options.logged ?? []).filter((q) => !voted.has(q.decisionId));
  const gate = options.activeGate;
  if (gate && rules.selfTrainingMinConfidence !== null) logged = logged.slice(0, rules.selfTrainingLimit).map((q) => rescore(gate, q));
  const selfTrain = selfTrainingExamples(logged, rules);
  return {
    train: [...dataTrain, ...feedbackTrain, ...selfTrain],
    heldOut: [...dataHeldOut, ...feedbackHeldOut],
    dataTrain,
    dataHeldOut,
    feedbackHeldOut,
    feedbackTrain,
    selfTrain,
    votesUsed: used,
    votesSkipped: skipped,
  };
}

function rescore(gate: GateModel, q: LoggedQuestion): LoggedQuestion {
  if (q.query === null) return q;
  const d = gate.route(q.query);
  return { ...q, topLabel: d.label, confidence: d.confidence, probabilities: d.probabilities };
}
