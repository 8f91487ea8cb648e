/** Routing metrics: accuracy (a `none` row is right when the gate falls back), macro-F1, ECE, per label/kind. */
import type { Label, RouteDecision } from './types.js';

export interface EvalRow {
  label: Label;
  kind?: string;
  decision: RouteDecision;
}

export interface GroupScore {
  n: number;
  accuracy: number;
}

export interface EvalMetrics {
  n: number;
  accuracy: number;
  /** Mean F1 over the true labels present; the predicted label of a fallback is `none`. */
  macroF1: number;
  /** Expected calibration error of `confidence` against "top label is right", 10 equal-width bins. */
  ece: number;
  fallbackRate: number;
  byLabel: Record<string, GroupScore>;
  byKind: Record<string, GroupScore>;
  /** trueLabel → predicted (routed label, `none` for a fallback) → count. */
  confusion: Record<string, Record<string, number>>;
}

export function predictedLabel(decision: RouteDecision): Label {
  return decision.fallback ? 'none' : decision.label;
}

export function isCorrect(label: Label, decision: RouteDecision): boolean {
  return predictedLabel(decision) === label;
}

const ECE_BINS = 10;

export function expectedCalibrationError(confidences: readonly number[], correct: readonly boolean[]): number {
  if (confidences.length === 0) return 0;
  const count = new Array<number>(ECE_BINS).fill(0);
  const conf = new Array<number>(ECE_BINS).fill(0);
  const hits = new Array<number>(ECE_BINS).fill(0);
  for (let i = 0; i < confidences.length; i++) {
    const b = Math.min(ECE_BINS - 1, Math.floor(confidences[i]! * ECE_BINS));
    count[b]!++;
    conf[b]! += confidences[i]!;
    if (correct[i]) hits[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < ECE_BINS; b++) {
    if (count[b]! > 0) ece += Math.abs(hits[b]! - conf[b]!) / confidences.length;
  }
  return ece;
}

function score(acc: Map<string, { n: number; ok: number }>): Record<string, GroupScore> {
  const out: Record<string, GroupScore> = {};
  for (const [key, { n, ok }] of [...acc].sort(([a], [b]) => a.localeCompare(b))) out[key] = { n, accuracy: n ? ok / n : 0 };
  return out;
}

export function computeMetrics(rows: readonly EvalRow[]): EvalMetrics {
  const byLabel = new Map<string, { n: number; ok: number }>();
  const byKind = new Map<string, { n: number; ok: number }>();
  const confusion: Record<string, Record<string, number>> = {};
  const predictedCount = new Map<string, number>();
  const confidences: number[] = [];
  const topRight: boolean[] = [];
  let ok = 0;
  let fallbacks = 0;
  for (const { label, kind, decision } of rows) {
    const predicted = predictedLabel(decision);
    const right = predicted === label;
    if (right) ok++;
    if (decision.fallback) fallbacks++;
    const l = byLabel.get(label) ?? { n: 0, ok: 0 };
    l.n++;
    if (right) l.ok++;
    byLabel.set(label, l);
    if (kind) {
      const k = byKind.get(kind) ?? { n: 0, ok: 0 };
      k.n++;
      if (right) k.ok++;
      byKind.set(kind, k);
    }
    const row = (confusion[label] ??= {});
    row[predicted] = (row[predicted] ?? 0) + 1;
    predictedCount.set(predicted, (predictedCount.get(predicted) ?? 0) + 1);
    confidences.push(decision.confidence);
    topRight.push(decision.label === label);
  }
  let f1Sum = 0;
  for (const [label, { n, ok: tp }] of byLabel) {
    const predicted = predictedCount.get(label) ?? 0;
    const precision = predicted ? tp / predicted : 0;
    const recall = n ? tp / n : 0;
    f1Sum += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  const n = rows.length;
  return {
    n,
    accuracy: n ? ok / n : 0,
    macroF1: byLabel.size ? f1Sum / byLabel.size : 0,
    ece: expectedCalibrationError(confidences, topRight),
    fallbackRate: n ? fallbacks / n : 0,
    byLabel: score(byLabel),
    byKind: score(byKind),
    confusion,
  };
}
