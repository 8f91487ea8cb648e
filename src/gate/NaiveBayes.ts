/** Sparse multinomial Naive Bayes over TF-IDF values, with per-example weights (feedback can count more or less). */
import { tfidfInto, type FeatureOptions } from './featurize.js';

/** Documents as raw term counts over training-time term ids, in one flat (CSR) store: no object per document. */
export class SparseCorpus {
  offsets: Int32Array<ArrayBuffer> = new Int32Array(1024);
  ids: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  counts: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  length = 0;
  maxDocLength = 0;

  add(ids: ArrayLike<number>, counts: ArrayLike<number>): void {
    const start = this.offsets[this.length]!;
    const end = start + ids.length;
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    if (end > this.ids.length) {
      this.ids = grow(this.ids, end);
      this.counts = grow(this.counts, end);
    }
    for (let k = 0; k < ids.length; k++) {
      this.ids[start + k] = ids[k]!;
      this.counts[start + k] = counts[k]!;
    }
    this.offsets[++this.length] = end;
    this.maxDocLength = Math.max(this.maxDocLength, ids.length);
  }
}

function grow(a: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(min, a.length * 2));
  out.set(a);
  return out;
}

/** Scratch buffers for one document mapped to model features. */
export class LocalDoc {
  ids: Int32Array;
  counts: Int32Array;
  values: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
  }

  /** Loads document `d` of `corpus`, keeping the terms the model knows, and computes its TF-IDF values. */
  load(corpus: SparseCorpus, d: number, featureOf: Int32Array, idf: Float64Array, group: Uint8Array, features: FeatureOptions): this {
    let k = 0;
    for (let i = corpus.offsets[d]!, end = corpus.offsets[d + 1]!; i < end; i++) {
      const f = featureOf[corpus.ids[i]!]!;
      if (f >= 0) {
        this.ids[k] = f;
        this.counts[k++] = corpus.counts[i]!;
      }
    }
    this.length = k;
    tfidfInto(this.ids, this.counts, k, idf, group, features, this.values);
    return this;
  }
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
 * Sufficient statistics of NB, kept per part (e.g. 0 = training split, 1 = held-out) so that a model of the split and
 * a model of all rows come out of one pass: NB counts add up. Vocabulary and idf are shared (computed on all rows,
 * without labels), which keeps the values of a document identical in both models.
 */
export interface NaiveBayesStats {
  classCount: number;
  featureOf: Int32Array;
  termOf: Int32Array;
  idf: Float64Array;
  group: Uint8Array;
  /** Per part: [f * classCount + c] summed weighted TF-IDF. */
  featureSum: Float32Array[];
  classMass: Float64Array[];
  classWeight: Float64Array[];
}

export function collectStats(
  docs: SparseCorpus,
  labels: Int32Array,
  weights: Float64Array,
  partOf: Uint8Array,
  partCount: number,
  termGroup: Uint8Array,
  classCount: number,
  features: FeatureOptions,
  options: NaiveBayesOptions = DEFAULT_NB_OPTIONS,
): NaiveBayesStats {
  const termCount = termGroup.length;
  const df = new Int32Array(termCount);
  // Noisy copies count too: their typo n-grams are what makes the gate robust (measured: keeping them out lost ~1 pt).
  const totalTerms = docs.offsets[docs.length]!;
  for (let i = 0; i < totalTerms; i++) df[docs.ids[i]!]!++;
  const featureOf = new Int32Array(termCount).fill(-1);
  const termList: number[] = [];
  for (let t = 0; t < termCount; t++) {
    if (df[t]! >= options.minDf) {
      featureOf[t] = termList.length;
      termList.push(t);
    }
  }
  const v = termList.length;
  const n = docs.length;
  const idf = new Float64Array(v);
  const group = new Uint8Array(v);
  for (let f = 0; f < v; f++) {
    const t = termList[f]!;
    // sklearn's smooth idf, so results compare with the Python service.
    idf[f] = Math.log((1 + n) / (1 + df[t]!)) + 1;
    group[f] = termGroup[t]!;
  }
  // Float32: one array per part, and half the memory to touch at random matters more than the 7th digit.
  const featureSum = Array.from({ length: partCount }, () => new Float32Array(v * classCount));
  const classMass = Array.from({ length: partCount }, () => new Float64Array(classCount));
  const classWeight = Array.from({ length: partCount }, () => new Float64Array(classCount));
  const local = new LocalDoc(docs.maxDocLength);
  for (let r = 0; r < docs.length; r++) {
    local.load(docs, r, featureOf, idf, group, features);
    const values = local.values;
    const c = labels[r]!;
    const w = weights[r]!;
    const part = partOf[r]!;
    const sums = featureSum[part]!;
    classWeight[part]![c]! += w;
    let mass = 0;
    for (let k = 0; k < local.length; k++) {
      const x = values[k]! * w;
      sums[local.ids[k]! * classCount + c]! += x;
      mass += x;
    }
    classMass[part]![c]! += mass;
  }
  return { classCount, featureOf, termOf: new Int32Array(termList), idf, group, featureSum, classMass, classWeight };
}

/** The model of the union of `parts`. */
export function modelFromStats(stats: NaiveBayesStats, parts: readonly number[], options: NaiveBayesOptions = DEFAULT_NB_OPTIONS): NaiveBayesModel {
  const { classCount, idf } = stats;
  const v = idf.length;
  const featureSum = new Float64Array(v * classCount);
  const classMass = new Float64Array(classCount);
  const classWeight = new Float64Array(classCount);
  for (const p of parts) {
    const sums = stats.featureSum[p]!;
    for (let i = 0; i < sums.length; i++) featureSum[i]! += sums[i]!;
    for (let c = 0; c < classCount; c++) {
      classMass[c]! += stats.classMass[p]![c]!;
      classWeight[c]! += stats.classWeight[p]![c]!;
    }
  }
  const logProb = new Float64Array(v * classCount);
  const alpha = options.alpha;
  if (options.complement) {
    const totalMass = classMass.reduce((a, b) => a + b, 0);
    const denom = Array.from(classMass, (m) => Math.log(totalMass - m + alpha * v));
    for (let f = 0; f < v; f++) {
      const base = f * classCount;
      let fTotal = 0;
      for (let c = 0; c < classCount; c++) fTotal += featureSum[base + c]!;
      // Negated so that, as in plain NB, a higher score means "more this class".
      for (let c = 0; c < classCount; c++) logProb[base + c] = denom[c]! - Math.log(fTotal - featureSum[base + c]! + alpha);
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
  return { classCount, featureOf: stats.featureOf, termOf: stats.termOf, idf, group: stats.group, logProb, logPrior };
}

/** Fits one model on every document. */
export function fitNaiveBayes(
  docs: SparseCorpus,
  labels: Int32Array,
  weights: Float64Array,
  termGroup: Uint8Array,
  classCount: number,
  features: FeatureOptions,
  options: NaiveBayesOptions = DEFAULT_NB_OPTIONS,
): NaiveBayesModel {
  const stats = collectStats(docs, labels, weights, new Uint8Array(docs.length), 1, termGroup, classCount, features, options);
  return modelFromStats(stats, [0], options);
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
