/**
 * Vote-to-example rules: how 👍/👎 votes and corrections become weighted training examples for the gate.
 * Pure functions (no SQL, no files), shared by retraining (src/learning/buildTrainingSet.ts) and the learning benchmark.
 */
import crypto from 'node:crypto';
import { LABELS, type Label, type TrainingExample } from '../gate/types.js';
import { expertToLabel } from '../core/labels.js';
import type { LoggedQuestion, VoteRecord } from '../store/TrainingLog.js';

export type { VoteRecord, LoggedQuestion };

export type ExampleSource = 'correction' | 'reroute' | 'confirm' | 'downvote' | 'self';

export interface FeedbackTrainingExample extends TrainingExample {
  weight: number;
  decisionId: string;
  userId: string;
  source: ExampleSource;
}

export interface FeedbackRules {
  /** Weight of a correction ("the finance expert should have answered"); default 2 (it names the right expert). */
  correctionWeight: number;
  /** Weight of 👍 on an answer from "ask another expert" (it corrects the first route); default 2, as a correction. */
  rerouteWeight: number;
  /** Weight of 👍 confirming the expert that answered; default 1. */
  confirmWeight: number;
  /**
   * 👎 without a correction: 'spread' (default: the question counts for every other label, split by the gate's
   * probabilities, with total weight `downvoteWeight`) or 'ignore'.
   */
  downvote: 'ignore' | 'spread';
  /** Total weight of a spread 👎; default 1. */
  downvoteWeight: number;
  /** Admin votes count this many times more; default 2. */
  adminMultiplier: number;
  /** Most total weight one (non-admin) user's votes may carry in one retraining; larger totals are scaled down. Default 20. */
  userWeightCap: number;
  /**
   * Self-training: a logged question nobody voted on, whose top label has at least this probability under the active
   * gate, counts as an example of that label (null turns it off). Default 0.3.
   */
  selfTrainingMinConfidence: number | null;
  /** Weight of such an example; default 0.5 (a guess counts less than a vote). */
  selfTrainingWeight: number;
  /** Most recent logged questions considered; default 5,000 (keeps retraining fast on a big log). */
  selfTrainingLimit: number;
  /** Most self-training questions from one user; default 100. */
  selfTrainingPerUser: number;
  /**
   * Soft labels (default true): every label with at least `selfTrainingMinConfidence` probability gets an example
   * weighted by that probability, so a 55/40 guess teaches both labels instead of betting on one.
   */
  selfTrainingSoft: boolean;
  /**
   * Class balance (default true): every label's self-training examples weigh the same in total (none above the weight
   * of a vote), so they teach words, not "most questions are X": without it the gate's own bias grows with each round.
   */
  selfTrainingBalanced: boolean;
}

/** Chosen with bench/learning.ts (the figures are in its output). */
export const DEFAULT_FEEDBACK_RULES: FeedbackRules = {
  correctionWeight: 2,
  rerouteWeight: 2,
  confirmWeight: 1,
  downvote: 'spread',
  downvoteWeight: 1,
  adminMultiplier: 2,
  userWeightCap: 20,
  selfTrainingMinConfidence: 0.3,
  selfTrainingWeight: 0.5,
  selfTrainingLimit: 5_000,
  selfTrainingPerUser: 100,
  selfTrainingSoft: true,
  selfTrainingBalanced: true,
};

/** Active learning: adapters invite a vote on every answer routed with confidence below this (they teach the gate most). */
export const FEEDBACK_ASK_BELOW = 0.5;

/** Whether an adapter should invite a vote: the gate was unsure, or the answer came from "ask another expert". */
export function shouldAskForFeedback(confidence: number, rerouted = false): boolean {
  return rerouted || confidence < FEEDBACK_ASK_BELOW;
}

/** Why a vote became no example (counted in the retrain report). */
export type SkipReason = 'no_text' | 'expert_fallback' | 'downvote_ignored';

export interface VotesToExamplesResult {
  examples: FeedbackTrainingExample[];
  /** Votes that became at least one example. */
  used: number;
  skipped: Record<SkipReason, number>;
  /** Users whose votes were scaled down by the cap. */
  cappedUsers: number;
}

/** The label one vote teaches, and how much it counts, before admin weighting and the cap; null = nothing. */
function exampleOf(v: VoteRecord, rules: FeedbackRules): { label: Label; weight: number; source: ExampleSource }[] | SkipReason {
  if (v.correctedExpert !== null) {
    // An explicit correction wins over the thumb: it names the right expert.
    return [{ label: expertToLabel(v.correctedExpert), weight: rules.correctionWeight, source: 'correction' }];
  }
  // The general expert answered because the chosen one was busy or down: the vote rates that answer, not the route.
  if (v.fallbackReason === 'expert_busy' || v.fallbackReason === 'expert_unavailable') return 'expert_fallback';
  const answered = expertToLabel(v.expert);
  if (v.vote === 1) {
    if (v.reroutedFrom !== null) return [{ label: answered, weight: rules.rerouteWeight, source: 'reroute' }];
    return [{ label: answered, weight: rules.confirmWeight, source: 'confirm' }];
  }
  if (rules.downvote === 'ignore' || v.probabilities === null) return 'downvote_ignored';
  const others = LABELS.filter((l) => l !== answered);
  const mass = others.reduce((s, l) => s + (v.probabilities?.[l] ?? 0), 0);
  return others.map((label) => ({
    label,
    weight: rules.downvoteWeight * (mass > 0 ? (v.probabilities?.[label] ?? 0) / mass : 1 / others.length),
    source: 'downvote' as const,
  }));
}

/**
 * Applies the rules to votes (one per decision and user, as the store keeps them). Each user's total weight is capped
 * (admins excepted), so one account casting many votes cannot outweigh everyone else.
 */
export function votesToExamples(votes: readonly VoteRecord[], rules: FeedbackRules = DEFAULT_FEEDBACK_RULES): VotesToExamplesResult {
  const skipped: Record<SkipReason, number> = { no_text: 0, expert_fallback: 0, downvote_ignored: 0 };
  const examples: FeedbackTrainingExample[] = [];
  let used = 0;
  for (const v of votes) {
    const text = v.query?.trim() ?? '';
    if (text === '') {
      skipped.no_text++;
      continue;
    }
    const produced = exampleOf(v, rules);
    if (typeof produced === 'string') {
      skipped[produced]++;
      continue;
    }
    used++;
    const factor = v.isAdmin ? rules.adminMultiplier : 1;
    for (const p of produced) {
      if (p.weight <= 0) continue;
      examples.push({ text, label: p.label, weight: p.weight * factor, kind: p.source, decisionId: v.decisionId, userId: v.userId, source: p.source });
    }
  }
  const cappedUsers = capUserWeight(examples, votes, rules.userWeightCap);
  return { examples, used, skipped, cappedUsers };
}

/** Scales each non-admin user's examples so their total weight is at most `cap`; returns how many users were scaled. */
function capUserWeight(examples: FeedbackTrainingExample[], votes: readonly VoteRecord[], cap: number): number {
  const adminVotes = new Set(votes.filter((v) => v.isAdmin).map((v) => `${v.decisionId}\u0000${v.userId}`));
  const byUser = new Map<string, { total: number; rows: FeedbackTrainingExample[] }>();
  for (const e of examples) {
    if (adminVotes.has(`${e.decisionId}\u0000${e.userId}`)) continue;
    let entry = byUser.get(e.userId);
    if (!entry) byUser.set(e.userId, (entry = { total: 0, rows: [] }));
    entry.total += e.weight;
    entry.rows.push(e);
  }
  let capped = 0;
  for (const { total, rows } of byUser.values()) {
    if (total <= cap) continue;
    capped++;
    for (const e of rows) e.weight *= cap / total;
  }
  return capped;
}


/**
 * Self-training (Nigam et al. 2000, EM for Naive Bayes): confidently routed questions teach the gate the words users
 * really use. Never held out (they are not ground truth); the promotion guard catches a drift on our own data.
 * Pass questions re-scored by the active gate (buildTrainingSet does), not the guesses logged when they were routed.
 */
export function selfTrainingExamples(questions: readonly LoggedQuestion[], rules: FeedbackRules = DEFAULT_FEEDBACK_RULES): FeedbackTrainingExample[] {
  const min = rules.selfTrainingMinConfidence;
  if (min === null || rules.selfTrainingWeight <= 0) return [];
  const perUser = new Map<string, number>();
  const out: FeedbackTrainingExample[] = [];
  for (const q of questions.slice(0, rules.selfTrainingLimit)) {
    const text = q.query?.trim() ?? '';
    if (text === '' || q.confidence < min) continue;
    const user = q.userId ?? 'anonymous';
    const n = perUser.get(user) ?? 0;
    if (n >= rules.selfTrainingPerUser) continue;
    perUser.set(user, n + 1);
    const example = (label: Label, weight: number): FeedbackTrainingExample =>
      ({ text, label, weight, kind: 'self', decisionId: q.decisionId, userId: user, source: 'self' });
    const probabilities = rules.selfTrainingSoft ? q.probabilities : null;
    if (probabilities) {
      for (const label of LABELS) {
        const p = label === q.topLabel ? q.confidence : (probabilities[label] ?? 0);
        if (p >= min) out.push(example(label, rules.selfTrainingWeight * p));
      }
    } else {
      out.push(example(q.topLabel, rules.selfTrainingWeight));
    }
  }
  if (rules.selfTrainingBalanced) balanceLabels(out, 1 / rules.selfTrainingWeight);
  return out;
}

/** Scales each label's examples to the same total weight (the mean label total), scaling none up more than `maxUp`. */
function balanceLabels(examples: FeedbackTrainingExample[], maxUp: number): void {
  const totals = new Map<Label, number>();
  for (const e of examples) totals.set(e.label, (totals.get(e.label) ?? 0) + e.weight);
  const mean = [...totals.values()].reduce((a, b) => a + b, 0) / LABELS.length;
  for (const e of examples) {
    const total = totals.get(e.label) ?? 0;
    if (total > 0) e.weight *= Math.min(maxUp, mean / total);
  }
}

const fractions = new Map<string, number>();

/** A stable number in [0, 1) from a string, for splits that stay the same from one retraining to the next. */
export function stableFraction(key: string): number {
  let f = fractions.get(key);
  if (f === undefined) {
    // Remembered: each retraining asks again for every data row and vote (tens of thousands of hashes).
    if (fractions.size >= 500_000) fractions.clear();
    f = crypto.createHash('sha1').update(key).digest().readUInt32BE(0) / 2 ** 32;
    fractions.set(key, f);
  }
  return f;
}

/** True for the fixed share of our own rows kept out of every retrained gate, to compare gates fairly. */
export function isHeldOutDataRow(text: string, fraction: number): boolean {
  return stableFraction(`data:${text.trim().toLowerCase()}`) < fraction;
}

/** True for the share of voted decisions kept for evaluation instead of training. */
export function isHeldOutDecision(decisionId: string, fraction: number): boolean {
  return stableFraction(`vote:${decisionId}`) < fraction;
}
