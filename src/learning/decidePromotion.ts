/** The promotion guard: a candidate gate replaces the active one only when it is not worse on the same held-out rows. */
import { isCorrect } from '../gate/evaluate.js';
import type { GateModel, TrainingExample } from '../gate/types.js';
import type { TrainingSet } from './buildTrainingSet.js';

/** Share of rows routed right (a `none` row is right when the gate falls back). Works on any GateModel. */
export function accuracyOf(gate: GateModel, rows: readonly TrainingExample[]): number {
  if (rows.length === 0) return 0;
  let ok = 0;
  for (const r of rows) if (isCorrect(r.label, gate.route(r.text))) ok++;
  return ok / rows.length;
}

export interface PromotionDecision {
  promote: boolean;
  reason: string;
}

/** The candidate may be at most `margin` below the baseline on the same held-out rows. */
export function decidePromotion(newAccuracy: number, oldAccuracy: number | null, margin: number, heldOutRows: number): PromotionDecision {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  if (oldAccuracy === null) return { promote: true, reason: `no active gate to compare with; held-out accuracy ${pct(newAccuracy)} on ${heldOutRows} rows` };
  const delta = newAccuracy - oldAccuracy;
  const change = `${pct(oldAccuracy)} → ${pct(newAccuracy)} on ${heldOutRows} held-out rows`;
  if (delta >= -margin) return { promote: true, reason: `promoted: ${change} (${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(1)} points)` };
  return { promote: false, reason: `kept the active gate: ${change} is worse by more than the ${(margin * 100).toFixed(1)}-point margin` };
}

export interface HeldOutPart {
  n: number;
  candidate: number;
  baseline: number;
}

export interface Comparison extends PromotionDecision {
  newAccuracy: number;
  oldAccuracy: number;
  dataHeldOut: HeldOutPart;
  feedbackHeldOut: HeldOutPart;
}

/** Measures both gates on the set's held-out rows (our data and votes, each once) and applies the guard. */
export function compareGates(candidate: GateModel, baseline: GateModel, set: TrainingSet, margin: number): Comparison {
  const part = (rows: readonly TrainingExample[]): HeldOutPart => ({ n: rows.length, candidate: accuracyOf(candidate, rows), baseline: accuracyOf(baseline, rows) });
  const dataHeldOut = part(set.dataHeldOut);
  const feedbackHeldOut = part(set.feedbackHeldOut);
  // The combined accuracy is the parts' row-weighted mean.
  const combined = (k: 'candidate' | 'baseline'): number =>
    set.heldOut.length ? (dataHeldOut[k] * dataHeldOut.n + feedbackHeldOut[k] * feedbackHeldOut.n) / set.heldOut.length : 0;
  const newAccuracy = combined('candidate');
  const oldAccuracy = combined('baseline');
  return { ...decidePromotion(newAccuracy, oldAccuracy, margin, set.heldOut.length), newAccuracy, oldAccuracy, dataHeldOut, feedbackHeldOut };
}
