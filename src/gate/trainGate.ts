/**
 * Trains a gate: featurise once; hold out a stratified test split; fit temperature and fallback thresholds on
 * 5-fold out-of-fold probabilities of the other rows; measure on the test split; then fit on every row. One pass
 * collects NB counts per part; they add up, so each fold's model is cheap.
 */
import crypto from 'node:crypto';
import { addNoise, seededRandom } from './addNoise.js';
import { computeMetrics, type EvalRow } from './evaluate.js';
import { CHAR_BUCKETS, DEFAULT_FEATURE_OPTIONS, GROUP_CHAR, TermCounter, TermIndexer, type FeatureOptions } from './featurize.js';
import { decide, Gate, type GateTrainingMetrics } from './Gate.js';
import { collectStats, DEFAULT_NB_OPTIONS, jointLogLikelihood, LocalDoc, modelFromStats, softmax, SparseCorpus, type NaiveBayesModel, type NaiveBayesOptions } from './NaiveBayes.js';
import { isLabel, LABELS, type TrainingExample } from './types.js';

/** Cross-fitting folds for the out-of-fold probabilities that temperature and thresholds are fitted on. */
const FOLDS = 5;
/** Out-of-fold rows used at most for temperature and thresholds. */
const MAX_CALIBRATION_ROWS = 8_000;
/** Most frequent words kept for typo correction (bounds file size and load time). */
const MAX_LEXICON = 30_000;
const DEFAULT_AUGMENT = { p: 0.08, weight: 0.5 };
/** Above this many rows, augmentation is off by default. */
export const AUGMENT_MAX_ROWS = 20_000;

export interface TrainGateOptions {
  /** Fraction of rows held out for the reported metrics (default 0.1); calibration uses out-of-fold rows of the rest. */
  heldOutFraction?: number;
  /** Seed of the split (default 1), so the same data gives the same gate. */
  seed?: number;
  features?: Partial<FeatureOptions>;
  naiveBayes?: Partial<NaiveBayesOptions>;
  /** Upper bound on the share of in-domain calibration rows the thresholds may send to the fallback (default 0.05). */
  maxInDomainFallback?: number;
  /** Threshold used when there are too few rows to fit one (default 0.5). */
  defaultFallbackThreshold?: number;
  /**
   * Typo augmentation: each training row also enters as a seeded noisy copy (probability `p` per character) with
   * weight `weight` × its own. Default { p: 0.08, weight: 0.5 } up to AUGMENT_MAX_ROWS rows and off above (it doubles
   * the training work, and big corpora carry their own typos); null turns it off. Test rows are scored clean.
   */
  augment?: { p: number; weight: number } | null;
  /** Refit on all rows after measuring (default true); false keeps the split model, as the metrics describe. */
  refitOnAll?: boolean;
}

export interface TrainGateResult {
  gate: Gate;
  metrics: GateTrainingMetrics;
}

export class TrainingDataError extends Error {
  readonly code = 'training_data_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDataError';
  }
}

/** Golden-section search of the temperature minimising negative log-likelihood of the true labels. */
function fitTemperature(scores: Float64Array[], labels: number[]): number {
  const probs = new Float64Array(LABELS.length);
  const nll = (logT: number): number => {
    const t = Math.exp(logT);
    let sum = 0;
    for (let i = 0; i < scores.length; i++) sum -= Math.log(Math.max(1e-12, softmax(scores[i]!, t, probs)[labels[i]!]!));
    return sum;
  };
  let lo = Math.log(1e-3);
  let hi = Math.log(1e3);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = nll(a);
  let fb = nll(b);
  for (let it = 0; it < 60; it++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Fallback thresholds with the best calibration accuracy, among those keeping in-domain fallbacks under the bound:
 * `threshold` on the top domain probability (unsure) and `none` on the off-topic probability.
 */
function fitThresholds(probs: Float64Array[], labels: number[], maxInDomainFallback: number): { threshold: number; none: number } {
  const noneIdx = LABELS.indexOf('none');
  const n = probs.length;
  // Per row: top label, its probability and p(none); the grid below then needs no decide() calls.
  const top = new Int32Array(n);
  const pTop = new Float64Array(n);
  const pNone = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = probs[i]!;
    let k = 0;
    for (let j = 1; j < p.length; j++) if (p[j]! > p[k]!) k = j;
    top[i] = k;
    pTop[i] = p[k]!;
    pNone[i] = p[noneIdx]!;
  }
  const inDomain = labels.filter((l) => l !== noneIdx).length;
  let best = { threshold: 0, none: 1 };
  let bestAcc = -1;
  // Highest none-threshold first and lowest domain threshold first: on a tie the rule with fewer fallbacks wins.
  for (const none of [1, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2]) {
    for (let step = 0; step <= 90; step += 2) {
      const t = step / 100;
      let ok = 0;
      let domainFallbacks = 0;
      for (let i = 0; i < n; i++) {
        const fallback = top[i] === noneIdx || pNone[i]! >= none || pTop[i]! < t;
        const predicted = fallback ? noneIdx : top[i];
        if (predicted === labels[i]) ok++;
        if (fallback && labels[i] !== noneIdx) domainFallbacks++;
      }
      if (inDomain > 0 && domainFallbacks / inDomain > maxInDomainFallback) break;
      if (ok > bestAcc) {
        bestAcc = ok;
        best = { threshold: t, none };
      }
    }
  }
  return best;
}

/** Stratified, seeded: `fraction` of each label goes to `test`, the rest is dealt round-robin into `folds`. */
function stratifiedSplit(labels: Int32Array, fraction: number, folds: number, seed: number): { folds: number[][]; test: number[] } {
  const random = seededRandom(seed);
  const out = Array.from({ length: folds }, (): number[] => []);
  const test: number[] = [];
  for (let c = 0; c < LABELS.length; c++) {
    const rows: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) rows.push(i);
    });
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const held = Math.round(rows.length * fraction);
    rows.forEach((r, i) => (i < held ? test : out[(i - held) % folds]!).push(r));
  }
  return { folds: out, test };
}

function versionId(createdAt: Date, model: NaiveBayesModel): string {
  const hash = crypto.createHash('sha1').update(Buffer.from(model.logProb.buffer)).digest('hex').slice(0, 4);
  const iso = createdAt.toISOString();
  return `g-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${hash}`;
}

export function trainGate(examples: readonly TrainingExample[], options: TrainGateOptions = {}): TrainGateResult {
  const started = performance.now();
  const features: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, ...options.features };
  const nb: NaiveBayesOptions = { ...DEFAULT_NB_OPTIONS, ...options.naiveBayes };
  const heldOutFraction = options.heldOutFraction ?? 0.1;
  if (!(heldOutFraction >= 0 && heldOutFraction < 1)) throw new TrainingDataError(`heldOutFraction must be in [0, 1), got ${heldOutFraction}`);

  const labels = new Int32Array(examples.length);
  const weights = new Float64Array(examples.length);
  const perLabel = new Array<number>(LABELS.length).fill(0);
  examples.forEach((e, i) => {
    if (!isLabel(e.label)) throw new TrainingDataError(`example ${i + 1}: unknown label "${String(e.label)}"`);
    if (typeof e.text !== 'string' || e.text.trim() === '') throw new TrainingDataError(`example ${i + 1}: empty text`);
    const w = e.weight ?? 1;
    if (!Number.isFinite(w) || w < 0) throw new TrainingDataError(`example ${i + 1}: weight must be a number ≥ 0, got ${w}`);
    labels[i] = LABELS.indexOf(e.label);
    weights[i] = w;
    perLabel[labels[i]!]!++;
  });
  const missing = LABELS.filter((_, c) => perLabel[c] === 0);
  if (missing.length) throw new TrainingDataError(`training data has no rows labelled ${missing.join(', ')} (every label needs examples)`);

  // Featurise every row once; both fits reuse the sparse counts. Ids below CHAR_BUCKETS are character buckets.
  const terms: string[] = [];
  const stemIds = new Map<string, number>();
  const bigramIds = new Map<number, Map<number, number>>();
  const intern = (term: string): number => {
    terms.push(term);
    return CHAR_BUCKETS + terms.length - 1;
  };
  const indexer = new TermIndexer(features, {
    word: (s) => {
      let id = stemIds.get(s);
      if (id === undefined) stemIds.set(s, (id = intern(`w:${s}`)));
      return id;
    },
    bigram: (a, b) => {
      let row = bigramIds.get(a);
      if (row === undefined) bigramIds.set(a, (row = new Map()));
      let id = row.get(b);
      if (id === undefined) row.set(b, (id = intern(`b:${terms[a - CHAR_BUCKETS]!.slice(2)} ${terms[b - CHAR_BUCKETS]!.slice(2)}`)));
      return id;
    },
    char: (bucket) => bucket,
  }, Infinity);
  const counter = new TermCounter();
  const docs = new SparseCorpus();
  for (const e of examples) {
    counter.reset();
    indexer.countText(e.text, counter);
    docs.add(counter.ids, counter.alignedCounts());
  }
  // Words seen twice or more (before noisy copies add typos): the spellings typo correction maps unknown words onto.
  const lexicon = indexer.frequentWords(2).slice(0, MAX_LEXICON);
  const augment = options.augment === undefined ? (examples.length <= AUGMENT_MAX_ROWS ? DEFAULT_AUGMENT : null) : options.augment;
  const n = examples.length;
  const docLabels = augment ? new Int32Array(2 * n) : labels;
  const docWeights = augment ? new Float64Array(2 * n) : weights;
  if (augment) {
    // Row n + i is the noisy copy of row i; it joins the same part as row i, so held-out rows stay unseen.
    const random = seededRandom((options.seed ?? 1) + 7919);
    docLabels.set(labels);
    docWeights.set(weights);
    for (let i = 0; i < n; i++) {
      counter.reset();
      indexer.countText(addNoise(examples[i]!.text, augment.p, random), counter);
      docs.add(counter.ids, counter.alignedCounts());
      docLabels[n + i] = labels[i]!;
      docWeights[n + i] = weights[i]! * augment.weight;
    }
  }
  const termGroups = new Uint8Array(CHAR_BUCKETS + terms.length);
  termGroups.fill(GROUP_CHAR, 0, CHAR_BUCKETS);
  const termName = (t: number): string => (t < CHAR_BUCKETS ? `c#${t}` : terms[t - CHAR_BUCKETS]!);

  // Parts 0..FOLDS-1 are cross-fitting folds; part FOLDS is the test split. NB counts add up, so the model of any
  // union of parts costs one pass over the vocabulary, and every non-test row gets an out-of-fold probability.
  const { folds, test } = stratifiedSplit(labels, heldOutFraction, FOLDS, options.seed ?? 1);
  const partOf = new Uint8Array(docs.length);
  folds.forEach((rows, k) => rows.forEach((r) => (partOf[r] = k)));
  for (const r of test) partOf[r] = FOLDS;
  if (augment) for (let i = 0; i < n; i++) partOf[n + i] = partOf[i]!;
  const nbOptions = nb;
  const stats = collectStats(docs, docLabels, docWeights, partOf, FOLDS + 1, termGroups, LABELS.length, features, nbOptions);
  const local = new LocalDoc(docs.maxDocLength);
  const scoreRow = (model: NaiveBayesModel, r: number): { scores: Float64Array; hasEvidence: boolean } => {
    local.load(docs, r, model.featureOf, model.idf, model.group, features);
    const scores = jointLogLikelihood(local.ids.subarray(0, local.length), local.values, model.logProb, model.logPrior, new Float64Array(LABELS.length));
    return { scores, hasEvidence: local.length > 0 };
  };
  const foldParts = folds.map((_, k) => k);

  let temperature = 1;
  let fallbackThreshold = options.defaultFallbackThreshold ?? 0.5;
  let noneThreshold = 1;
  const calibRows = folds.flat();
  const canCalibrate = calibRows.length >= 5 * LABELS.length && folds.every((f) => f.length > 0);
  if (canCalibrate) {
    const calibScores: Float64Array[] = [];
    const calibLabels: number[] = [];
    folds.forEach((rows, k) => {
      const model = modelFromStats(stats, foldParts.filter((p) => p !== k), nbOptions);
      // Three scalars need a few thousand rows, not all of a big corpus; folds are already in shuffled order.
      for (const r of rows.slice(0, Math.ceil(MAX_CALIBRATION_ROWS / FOLDS))) {
        calibScores.push(scoreRow(model, r).scores);
        calibLabels.push(labels[r]!);
        // Users make typos: the noisy copy (same fold, so still out-of-fold) calibrates for them too.
        if (augment) {
          calibScores.push(scoreRow(model, n + r).scores);
          calibLabels.push(labels[r]!);
        }
      }
    });
    temperature = fitTemperature(calibScores, calibLabels);
    const calibProbs = calibScores.map((s) => softmax(s, temperature, new Float64Array(LABELS.length)));
    ({ threshold: fallbackThreshold, none: noneThreshold } = fitThresholds(calibProbs, calibLabels, options.maxInDomainFallback ?? 0.05));
  }

  let heldOut = null;
  const splitModel = modelFromStats(stats, foldParts, nbOptions);
  if (test.length > 0) {
    const evalRows: EvalRow[] = test.map((r) => {
      const { scores, hasEvidence } = scoreRow(splitModel, r);
      const decision = decide(softmax(scores, temperature, new Float64Array(LABELS.length)), fallbackThreshold, '', hasEvidence, noneThreshold);
      return { label: examples[r]!.label, kind: examples[r]!.kind, decision };
    });
    heldOut = computeMetrics(evalRows);
  }

  const finalModel = options.refitOnAll === false ? splitModel : modelFromStats(stats, [...foldParts, FOLDS], nbOptions);
  const createdAt = new Date();
  const metrics: GateTrainingMetrics = {
    trainRows: options.refitOnAll === false ? calibRows.length : examples.length,
    calibrationRows: canCalibrate ? Math.min(calibRows.length, folds.reduce((a, f) => a + Math.min(f.length, Math.ceil(MAX_CALIBRATION_ROWS / FOLDS)), 0)) : 0,
    testRows: test.length,
    featureCount: finalModel.termOf.length,
    temperature,
    fallbackThreshold,
    noneThreshold,
    trainSeconds: (performance.now() - started) / 1000,
    heldOut,
  };
  const gate = new Gate({
    version: versionId(createdAt, finalModel),
    createdAt: createdAt.toISOString(),
    features,
    vocabulary: Array.from(finalModel.termOf, termName),
    lexicon,
    idf: finalModel.idf,
    logProb: finalModel.logProb,
    logPrior: finalModel.logPrior,
    temperature,
    fallbackThreshold,
    noneThreshold,
    metrics,
  });
  return { gate, metrics };
}
