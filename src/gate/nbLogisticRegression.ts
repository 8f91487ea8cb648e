/**
 * NB-LR (Wang & Manning 2012, "NBSVM" with a logistic loss): per class, the naive Bayes log-count ratio of every
 * feature, r_c = log(p_c / |p_c|) − log(q_c / |q_c|) (p: smoothed sums of the class's rows, q: of the other rows),
 * scales that feature, and a multinomial logistic regression learns one multiplier per (feature, class) on top.
 * Multipliers start at 1 and are pulled back towards 1 (an L2 penalty on w − 1), so the model starts as naive Bayes
 * and moves only where the data says so. The result is a linear model over the same TF-IDF features: weight r·w per
 * (feature, class) plus a bias, scored exactly like naive Bayes' log-probabilities.
 */
import type { NaiveBayesStats } from './NaiveBayes.js';

export interface NbLrOptions {
  /** Smoothing of the NB sums behind the ratios (default 0.1, as for naive Bayes). */
  alpha: number;
  /** Passes over the rows of the first fit (later fits start from the previous one and make one pass). */
  epochs: number;
  /**
   * Adagrad step size (default 0.05). At 0.5 the first steps moved every multiplier of a row by half its size, so on
   * small data the last rows seen decided the model and example weights barely counted; 0.05 learns more from votes
   * than 0.1 (bench:learning) at the same cross-validated accuracy.
   */
  learningRate: number;
  /** Pull of each multiplier back towards 1, per row it is seen in (default 0.01). */
  l2: number;
  /**
   * Rows lighter than this (default 0.25) teach only through the NB counts behind the ratios, not the multipliers:
   * self-training guesses, small shares of a spread 👎, and the votes of a user the per-user cap scaled down. Counts
   * add up in proportion to weight, but a discriminative fit keeps pushing on rows it cannot fit, however light: a
   * capped flood of wrong corrections moved NB-LR by more than its held-out guard allows.
   */
  minRowWeight: number;
}

/** Rows whose largest gradient (weight × error of a class probability) is below this are not learned from. */
const SKIP_GRADIENT = 0.01;

export const DEFAULT_NB_LR_OPTIONS: NbLrOptions = { alpha: 0.1, epochs: 3, learningRate: 0.05, l2: 0.01, minRowWeight: 0.25 };

/** Rows as the fits read them: sparse TF-IDF vectors by document. */
export interface SparseRows {
  /** Feature ids and values of document `doc`, as [start, end) into `ids` / `values`. */
  range(doc: number): [number, number];
  readonly ids: Int32Array;
  readonly values: Float64Array;
}

/** NB log-count ratios [f * classes + c] from the NB sums of `parts`. */
export function logCountRatios(stats: NaiveBayesStats, parts: readonly number[], alpha: number): Float64Array {
  const { classCount, featureSum } = stats;
  const v = stats.idf.length;
  const sums = new Float64Array(v * classCount);
  for (const p of parts) {
    for (let c = 0; c < classCount; c++) {
      const base = (p * classCount + c) * v;
      for (let f = 0; f < v; f++) sums[f * classCount + c]! += featureSum[base + f]!;
    }
  }
  const classTotal = new Float64Array(classCount);
  const featureTotal = new Float64Array(v);
  let total = 0;
  for (let f = 0; f < v; f++) {
    for (let c = 0; c < classCount; c++) {
      const s = sums[f * classCount + c]!;
      classTotal[c]! += s;
      featureTotal[f]! += s;
    }
    total += featureTotal[f]!;
  }
  const logP = new Float64Array(classCount);
  const logQ = new Float64Array(classCount);
  for (let c = 0; c < classCount; c++) {
    logP[c] = Math.log(classTotal[c]! + alpha * v);
    logQ[c] = Math.log(total - classTotal[c]! + alpha * v);
  }
  const ratios = sums;
  for (let f = 0; f < v; f++) {
    for (let c = 0; c < classCount; c++) {
      const s = sums[f * classCount + c]!;
      ratios[f * classCount + c] = Math.log(s + alpha) - logP[c]! - (Math.log(featureTotal[f]! - s + alpha) - logQ[c]!);
    }
  }
  return ratios;
}

/** Multipliers and biases of an NB-LR fit; `linear()` gives the model's weights. */
export class NbLrFit {
  /** Multiplier per (feature, class), [f * classes + c]. */
  readonly w: Float64Array;
  readonly bias: Float64Array;
  /** Adagrad's summed squared gradients, kept so that a later fit can continue. */
  private readonly g2: Float64Array;
  private readonly g2Bias: Float64Array;

  constructor(
    readonly ratios: Float64Array,
    readonly classCount: number,
    from?: NbLrFit,
  ) {
    this.w = from ? from.w.slice() : new Float64Array(ratios.length).fill(1);
    this.bias = from ? from.bias.slice() : new Float64Array(classCount);
    this.g2 = from ? from.g2.slice() : new Float64Array(ratios.length);
    this.g2Bias = from ? from.g2Bias.slice() : new Float64Array(classCount);
  }

  /**
   * `epochs` passes of Adagrad over `docs` (visited in a seeded shuffled order), minimising the weighted softmax
   * cross-entropy plus the pull of every multiplier a row touches towards 1.
   */
  train(rows: SparseRows, docs: ArrayLike<number>, labels: Int32Array, weights: Float64Array, options: NbLrOptions, epochs: number, random: () => number): void {
    const c = this.classCount;
    const { w, bias, g2, g2Bias, ratios } = this;
    // Ratios and multipliers side by side, per feature [r × c, w × c] (64 bytes for 4 classes): a row's pass reads both
    // for each of its features, and two arrays cost two cache misses per feature where one line holds both.
    const stride = 2 * c;
    const features = ratios.length / c;
    const rw = new Float64Array(features * stride);
    for (let f = 0, a = 0, b = 0; f < features; f++, a += c, b += stride) {
      for (let k = 0; k < c; k++) {
        rw[b + k] = ratios[a + k]!;
        rw[b + c + k] = w[a + k]!;
      }
    }
    const { ids, values } = rows;
    const lr = options.learningRate;
    const l2 = options.l2;
    const minWeight = Math.max(options.minRowWeight, Number.MIN_VALUE);
    const order = Int32Array.from(docs as ArrayLike<number>);
    const z = new Float64Array(c);
    const grad = new Float64Array(c);
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      for (let o = 0; o < order.length; o++) {
        const doc = order[o]!;
        const weight = weights[doc]!;
        if (weight < minWeight) continue;
        const [start, end] = rows.range(doc);
        for (let k = 0; k < c; k++) z[k] = bias[k]!;
        for (let j = start; j < end; j++) {
          const base = ids[j]! * stride;
          const x = values[j]!;
          for (let k = 0; k < c; k++) z[k]! += x * rw[base + k]! * rw[base + c + k]!;
        }
        let max = -Infinity;
        for (let k = 0; k < c; k++) if (z[k]! > max) max = z[k]!;
        let sum = 0;
        for (let k = 0; k < c; k++) {
          z[k] = Math.exp(z[k]! - max);
          sum += z[k]!;
        }
        const y = labels[doc]!;
        let largest = 0;
        for (let k = 0; k < c; k++) {
          grad[k] = weight * (z[k]! / sum - (k === y ? 1 : 0));
          largest = Math.max(largest, Math.abs(grad[k]!));
        }
        // A row the model already gets right with room to spare teaches next to nothing: skipping it halves a pass.
        if (largest < SKIP_GRADIENT) continue;
        for (let k = 0; k < c; k++) {
          const g = grad[k]!;
          g2Bias[k]! += g * g;
          bias[k]! -= (lr * g) / Math.sqrt(g2Bias[k]! + 1e-8);
        }
        for (let j = start; j < end; j++) {
          const id = ids[j]!;
          const base = id * stride;
          const at2 = id * c;
          const x = values[j]!;
          for (let k = 0; k < c; k++) {
            const at = base + c + k;
            const g = grad[k]! * x * rw[base + k]! + l2 * (rw[at]! - 1);
            g2[at2 + k]! += g * g;
            rw[at]! -= (lr * g) / Math.sqrt(g2[at2 + k]! + 1e-8);
          }
        }
      }
    }
    for (let f = 0, a = 0, b = c; f < features; f++, a += c, b += stride) for (let k = 0; k < c; k++) w[a + k] = rw[b + k]!;
  }

  /** The linear model: weight r·w per (feature, class), [f * classes + c]. */
  linear(): Float64Array {
    const out = new Float64Array(this.w.length);
    for (let i = 0; i < out.length; i++) out[i] = this.ratios[i]! * this.w[i]!;
    return out;
  }
}
