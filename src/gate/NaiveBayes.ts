/** Sparse multinomial Naive Bayes over TF-IDF values, with per-example weights (feedback can count more or less). */
import { tfidfValues, type FeatureOptions } from './featurize.js';

/** One document as raw term counts over the training-time term ids. */
export interface SparseDoc {
  ids: Int32Array;
  counts: Float64Array;
}

export interface NaiveBayesOptions {
  /** Additive smoothing (default 0.1; TF-IDF values are fractions, so a small alpha fits). */
  alpha: number;
  /** Drop terms seen in fewer training documents than this (default 2): smaller file, faster route, less noise. */
  minDf: number;
  /** Learn class priors from the data (default false: the mix of our dataset is not the mix users send). */
  fitPrior: boolean;
  /** Complement NB (Rennie et al. 2003): estimate each class from the other classes' counts; steadier on small data (default true). */
  complement: boolean;
}

export const DEFAULT_NB_OPTIONS: NaiveBayesOptions = { alpha: 0.1, minDf: 2, fitPrior: false, complement: true };

export interface NaiveBayesModel {
  classCount: number;
  /** Training term id → model feature id, or -1 when pruned. */
  featureOf: Int32Array;
  /** Model feature id → training term id. */
  termOf: Int32Array;
  idf: Float64Array;
  group: Uint8Array;
  /** log P(feature | class), row-major by feature: [f * classCount + c]. */
  logProb: Float64Array;
  logPrior: Float64Array;
}

/**
 * Fits on the documents listed in `rows`. `termGroup[t]` is the feature group of training term t.
 */
export function fitNaiveBayes(
  docs: readonly SparseDoc[],
  labels: Int32Array,
  weights: Float64Array,
  rows: readonly number[],
  termGroup: Uint8Array,
  classCount: number,
  features: FeatureOptions,
  options: NaiveBayesOptions = DEFAULT_NB_OPTIONS,
): NaiveBayesModel {
  const termCount = termGroup.length;
  const df = new Int32Array(termCount);
  for (const r of rows) for (const t of docs[r]!.ids) df[t]!++;

  const featureOf = new Int32Array(termCount).fill(-1);
  const termList: number[] = [];
  for (let t = 0; t < termCount; t++) {
    if (df[t]! >= options.minDf) {
      featureOf[t] = termList.length;
      termList.push(t);
    }
  }
  const v = termList.length;
  const n = rows.length;
  const idf = new Float64Array(v);
  const group = new Uint8Array(v);
  for (let f = 0; f < v; f++) {
    const t = termList[f]!;
    // sklearn's smooth idf, so results compare with the Python service.
    idf[f] = Math.log((1 + n) / (1 + df[t]!)) + 1;
    group[f] = termGroup[t]!;
  }

  const featureSum = new Float64Array(v * classCount);
  const classMass = new Float64Array(classCount);
  const classWeight = new Float64Array(classCount);
  for (const r of rows) {
    const local = toLocal(docs[r]!, featureOf);
    const values = tfidfValues(local.ids, local.counts, idf, group, features);
    const c = labels[r]!;
    const w = weights[r]!;
    classWeight[c]! += w;
    for (let k = 0; k < local.ids.length; k++) {
      const x = values[k]! * w;
      featureSum[local.ids[k]! * classCount + c]! += x;
      classMass[c]! += x;
    }
  }

  const logProb = new Float64Array(v * classCount);
  const alpha = options.alpha;
  if (options.complement) {
    const totalMass = classMass.reduce((a, b) => a + b, 0);
    for (let f = 0; f < v; f++) {
      let fTotal = 0;
      for (let c = 0; c < classCount; c++) fTotal += featureSum[f * classCount + c]!;
      for (let c = 0; c < classCount; c++) {
        const comp = fTotal - featureSum[f * classCount + c]!;
        // Negated so that, as in plain NB, a higher score means "more this class".
        logProb[f * classCount + c] = -(Math.log(comp + alpha) - Math.log(totalMass - classMass[c]! + alpha * v));
      }
    }
  } else {
    for (let c = 0; c < classCount; c++) {
      const denom = Math.log(classMass[c]! + alpha * v);
      for (let f = 0; f < v; f++) logProb[f * classCount + c] = Math.log(featureSum[f * classCount + c]! + alpha) - denom;
    }
  }
  const logPrior = new Float64Array(classCount);
  const totalWeight = classWeight.reduce((a, b) => a + b, 0);
  for (let c = 0; c < classCount; c++) {
    logPrior[c] = options.fitPrior && totalWeight > 0 ? Math.log((classWeight[c]! + 1) / (totalWeight + classCount)) : -Math.log(classCount);
  }
  return { classCount, featureOf, termOf: Int32Array.from(termList), idf, group, logProb, logPrior };
}

/** Keeps the terms the model knows, renumbered to model feature ids. */
export function toLocal(doc: SparseDoc, featureOf: Int32Array): { ids: Int32Array; counts: Float64Array } {
  let kept = 0;
  for (const t of doc.ids) if (featureOf[t]! >= 0) kept++;
  const ids = new Int32Array(kept);
  const counts = new Float64Array(kept);
  let k = 0;
  for (let i = 0; i < doc.ids.length; i++) {
    const f = featureOf[doc.ids[i]!]!;
    if (f >= 0) {
      ids[k] = f;
      counts[k++] = doc.counts[i]!;
    }
  }
  return { ids, counts };
}

/** Joint log-likelihood per class of a vector given as model feature ids and their TF-IDF values. */
export function jointLogLikelihood(
  ids: ArrayLike<number>,
  values: ArrayLike<number>,
  logProb: Float64Array,
  logPrior: Float64Array,
  out: Float64Array,
): Float64Array {
  const c = logPrior.length;
  for (let j = 0; j < c; j++) out[j] = logPrior[j]!;
  for (let k = 0; k < ids.length; k++) {
    const base = ids[k]! * c;
    const x = values[k]!;
    for (let j = 0; j < c; j++) out[j]! += x * logProb[base + j]!;
  }
  return out;
}

/** Softmax of scores / temperature, written into `out`. */
export function softmax(scores: ArrayLike<number>, temperature: number, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < scores.length; j++) max = Math.max(max, scores[j]! / temperature);
  let sum = 0;
  for (let j = 0; j < scores.length; j++) {
    const e = Math.exp(scores[j]! / temperature - max);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < scores.length; j++) out[j]! /= sum;
  return out;
}
