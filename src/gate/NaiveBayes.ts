/** Sparse multinomial Naive Bayes over TF-IDF values, with per-example weights (feedback can count more or less). */

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
  /** Model feature id → its term (for a TrainingCorpus: the bucket of a character term, CHAR_BUCKETS + word index otherwise). */
  termOf: Int32Array;
  idf: Float64Array;
  group: Uint8Array;
  /** log P(feature | class), row-major by feature: [f * classCount + c]. */
  logProb: Float64Array;
  logPrior: Float64Array;
}

/**
 * Sufficient statistics of NB, kept per part (e.g. cross-fitting folds and a held-out split) so that the model of any
 * union of parts comes out of one pass: NB counts add up. Vocabulary and idf are shared (computed on all rows,
 * without labels), which keeps the values of a document identical in every model.
 */
export interface NaiveBayesStats {
  classCount: number;
  partCount: number;
  featureOf: Int32Array;
  termOf: Int32Array;
  idf: Float64Array;
  group: Uint8Array;
  /**
   * Summed weighted TF-IDF, [(part * classCount + c) * v + f]: one v-long run per (part, class), so the documents of
   * one group scatter into a few hundred kilobytes, and a sweep over features in order reads a few sequential
   * streams. Float32: half the memory matters more than the 7th digit.
   */
  featureSum: Float32Array;
  /** [part * classCount + c] */
  classMass: Float64Array;
  classWeight: Float64Array;
}

/**
 * The model of the union of `parts` of a NaiveBayesStats. Log-probabilities are computed for the features asked
 * for, in feature order (`computeMarked`: scoring a few thousand calibration rows needs a fraction of the
 * vocabulary, and a sweep in order reads the sums as a few sequential streams), or for all (`complete`).
 */
export class PartsModel {
  /** [f * classCount + c], valid for the features computed so far. */
  readonly logProb: Float64Array;
  readonly logPrior: Float64Array;
  private readonly denom: Float64Array;
  private readonly partList: Int32Array;
  private readonly alpha: number;

  /** `buffer`: room for the log-probabilities to reuse (models used one after another may share one). */
  constructor(
    private readonly stats: NaiveBayesStats,
    parts: readonly number[],
    private readonly options: NaiveBayesOptions = DEFAULT_NB_OPTIONS,
    buffer?: Float64Array,
  ) {
    const { classCount, idf } = stats;
    const v = idf.length;
    this.partList = Int32Array.from(parts);
    this.logProb = buffer && buffer.length >= v * classCount ? buffer : new Float64Array(v * classCount);
    this.alpha = options.alpha;
    const classMass = new Float64Array(classCount);
    const classWeight = new Float64Array(classCount);
    for (const p of parts) {
      for (let c = 0; c < classCount; c++) {
        classMass[c]! += stats.classMass[p * classCount + c]!;
        classWeight[c]! += stats.classWeight[p * classCount + c]!;
      }
    }
    this.denom = new Float64Array(classCount);
    if (options.complement) {
      const totalMass = classMass.reduce((a, b) => a + b, 0);
      for (let c = 0; c < classCount; c++) this.denom[c] = Math.log(totalMass - classMass[c]! + this.alpha * v);
    } else {
      for (let c = 0; c < classCount; c++) this.denom[c] = Math.log(classMass[c]! + this.alpha * v);
    }
    this.logPrior = new Float64Array(classCount);
    const totalWeight = classWeight.reduce((a, b) => a + b, 0);
    for (let c = 0; c < classCount; c++) {
      this.logPrior[c] = options.fitPrior && totalWeight > 0 ? Math.log((classWeight[c]! + 1) / (totalWeight + classCount)) : -Math.log(classCount);
    }
  }

  /** Computes the log-probabilities of the features whose bit is set in `bits` (feature f: bit f & 31 of word f >> 5). */
  computeMarked(bits: Uint32Array): void {
    const c = this.stats.classCount;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w]!;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        word &= word - 1;
        const f = (w << 5) | bit;
        this.compute(f, this.logProb, f * c);
      }
    }
  }

  /** Writes the log-probabilities of feature `f` into out[at..at + classCount). */
  private compute(f: number, out: Float64Array, at: number): void {
    const { classCount, featureSum } = this.stats;
    const v = this.stats.idf.length;
    const parts = this.partList;
    const alpha = this.alpha;
    if (classCount === 4 && this.options.complement) {
      // The common case, unrolled: the sums of the four classes over the parts, in part order.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < parts.length; k++) {
        const o = parts[k]! * 4 * v + f;
        s0 += featureSum[o]!;
        s1 += featureSum[o + v]!;
        s2 += featureSum[o + 2 * v]!;
        s3 += featureSum[o + 3 * v]!;
      }
      const total = s0 + s1 + s2 + s3;
      const denom = this.denom;
      // Negated so that, as in plain NB, a higher score means "more this class".
      out[at] = denom[0]! - Math.log(total - s0 + alpha);
      out[at + 1] = denom[1]! - Math.log(total - s1 + alpha);
      out[at + 2] = denom[2]! - Math.log(total - s2 + alpha);
      out[at + 3] = denom[3]! - Math.log(total - s3 + alpha);
      return;
    }
    let total = 0;
    for (let c = 0; c < classCount; c++) {
      let s = 0;
      for (let k = 0; k < parts.length; k++) s += featureSum[(parts[k]! * classCount + c) * v + f]!;
      out[at + c] = s;
      total += s;
    }
    for (let c = 0; c < classCount; c++) {
      const s = out[at + c]!;
      out[at + c] = this.options.complement ? this.denom[c]! - Math.log(total - s + alpha) : Math.log(s + alpha) - this.denom[c]!;
    }
  }

  /** The full model, in a new array. */
  complete(): NaiveBayesModel {
    const { classCount, featureOf, termOf, idf, group } = this.stats;
    const v = idf.length;
    const logProb = new Float64Array(v * classCount);
    for (let f = 0; f < v; f++) this.compute(f, logProb, f * classCount);
    return { classCount, featureOf, termOf, idf, group, logProb, logPrior: this.logPrior };
  }
}

/** Joint log-likelihood per class of a vector given as model feature ids and their TF-IDF values. */
export function jointLogLikelihood(
  ids: ArrayLike<number>,
  values: ArrayLike<number>,
  logProb: Float64Array,
  logPrior: Float64Array,
  out: Float64Array,
  length = ids.length,
): Float64Array {
  const c = logPrior.length;
  for (let j = 0; j < c; j++) out[j] = logPrior[j]!;
  if (c === 4) {
    let o0 = out[0]!;
    let o1 = out[1]!;
    let o2 = out[2]!;
    let o3 = out[3]!;
    for (let k = 0; k < length; k++) {
      const base = ids[k]! * 4;
      const x = values[k]!;
      o0 += x * logProb[base]!;
      o1 += x * logProb[base + 1]!;
      o2 += x * logProb[base + 2]!;
      o3 += x * logProb[base + 3]!;
    }
    out[0] = o0;
    out[1] = o1;
    out[2] = o2;
    out[3] = o3;
    return out;
  }
  for (let k = 0; k < length; k++) {
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
