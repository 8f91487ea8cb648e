/**
 * Trains a gate: featurise once; hold out a stratified test split; fit temperature and fallback thresholds on
 * 5-fold out-of-fold probabilities of the other rows; measure on the test split; then fit on every row. One pass
 * collects NB counts per part; they add up, so each fold's model is cheap.
 */
import crypto from 'node:crypto';
import { addNoise, seededRandom } from './addNoise.js';
import { CodedError } from './errors.js';
import { computeMetrics, type EvalRow } from './evaluate.js';
import { TrainingCorpus } from './corpus.js';
import { DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from './featurize.js';
import { decide, Gate, type GateModelKind, type GateTrainingMetrics, type TrainPhaseSeconds } from './Gate.js';
import { DEFAULT_NB_OPTIONS, PartsModel, softmax, type NaiveBayesOptions } from './NaiveBayes.js';
import { DEFAULT_NB_LR_OPTIONS, logCountRatios, NbLrFit, type NbLrOptions } from './nbLogisticRegression.js';
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
  /** `nb-lr` (default): NB log-count ratios with logistic regression on top; `complement-nb`: complement naive Bayes. */
  model?: GateModelKind;
  nbLr?: Partial<NbLrOptions>;
  /** Called as each phase ends (for progress on a terminal). */
  onPhase?: (phase: keyof TrainPhaseSeconds, seconds: number) => void;
}

export interface TrainGateResult {
  gate: Gate;
  metrics: GateTrainingMetrics;
}

/** Training examples that cannot be used (an unknown label, an empty text, a label with no rows). */
export class TrainingDataError extends CodedError<'training_data_invalid'> {
  constructor(message: string) {
    super('training_data_invalid', message);
  }
}

/**
 * The temperature minimising the negative log-likelihood of the true labels (each row's loss capped at -ln 1e-12),
 * for T in [1e-3, 1e3]: Newton's method on u = ln T, kept inside a bracket that every step narrows (bisection when a
 * step would leave it). Half a dozen passes over the rows where golden-section search took 62 to get as close.
 */
function fitTemperature(scores: Float64Array[], labels: number[]): number {
  const c = LABELS.length;
  const n = scores.length;
  const flat = new Float64Array(n * c);
  for (let i = 0; i < n; i++) flat.set(scores[i]!, i * c);
  const z = new Float64Array(c);
  const p = new Float64Array(c);
  // First and second derivatives in u of the summed loss; rows at the cap contribute nothing.
  const derivatives = (u: number): [number, number] => {
    const inv = Math.exp(-u);
    let d1 = 0;
    let d2 = 0;
    for (let i = 0, base = 0; i < n; i++, base += c) {
      let max = -Infinity;
      for (let j = 0; j < c; j++) {
        z[j] = flat[base + j]! * inv;
        if (z[j]! > max) max = z[j]!;
      }
      let total = 0;
      for (let j = 0; j < c; j++) {
        p[j] = Math.exp(z[j]! - max);
        total += p[j]!;
      }
      const y = labels[i]!;
      if (p[y]! / total < 1e-12) continue;
      // loss = logsumexp(z) - z_y with dz/du = -z: d1 = z_y - E[z], d2 = -z_y + E[z] + Var[z].
      let mean = 0;
      let square = 0;
      for (let j = 0; j < c; j++) {
        const q = p[j]! / total;
        mean += q * z[j]!;
        square += q * z[j]! * z[j]!;
      }
      d1 += z[y]! - mean;
      d2 += -z[y]! + mean + square - mean * mean;
    }
    return [d1, d2];
  };
  let lo = Math.log(1e-3);
  let hi = Math.log(1e3);
  let u = 0;
  for (let it = 0; it < 200; it++) {
    const [d1, d2] = derivatives(u);
    if (d1 > 0) hi = u;
    else lo = u;
    let next = d2 > 0 ? u - d1 / d2 : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    const step = Math.abs(next - u);
    u = next;
    if (step < 1e-12 || hi - lo < 1e-12) break;
  }
  return Math.exp(u);
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
  // Rows by pTop ascending: raising the domain threshold t sends a growing prefix of them to the fallback, so each
  // (none, t) cell is counted by a sweep instead of a pass over every row.
  const byTop = Int32Array.from({ length: n }, (_, i) => i).sort((x, y) => pTop[x]! - pTop[y]!);
  let best = { threshold: 0, none: 1 };
  let bestAcc = -1;
  // Highest none-threshold first and lowest domain threshold first: on a tie the rule with fewer fallbacks wins.
  for (const none of [1, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2]) {
    // Rows that fall back whatever t is (top label none, or p(none) over the bar), and how the others fare at t = -∞.
    let okForced = 0;
    let domainForced = 0;
    let okOpen = 0;
    for (let i = 0; i < n; i++) {
      if (top[i] === noneIdx || pNone[i]! >= none) {
        if (labels[i] === noneIdx) okForced++;
        else domainForced++;
      } else if (top[i] === labels[i]) okOpen++;
    }
    // Among the other rows with pTop < t: right as top, right as fallback (label none), domain rows.
    let belowTopRight = 0;
    let belowNoneRight = 0;
    let belowDomain = 0;
    let next = 0;
    for (let step = 0; step <= 90; step += 2) {
      const t = step / 100;
      while (next < n && pTop[byTop[next]!]! < t) {
        const i = byTop[next++]!;
        if (top[i] === noneIdx || pNone[i]! >= none) continue;
        if (top[i] === labels[i]) belowTopRight++;
        if (labels[i] === noneIdx) belowNoneRight++;
        else belowDomain++;
      }
      const ok = okForced + okOpen - belowTopRight + belowNoneRight;
      const domainFallbacks = domainForced + belowDomain;
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

function versionId(createdAt: Date, logProb: Float64Array): string {
  const hash = crypto.createHash('sha1').update(Buffer.from(logProb.buffer, logProb.byteOffset, logProb.byteLength)).digest('hex').slice(0, 4);
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

  // Featurise every row once; every fit reuses the corpus.
  const augment = options.augment === undefined ? (examples.length <= AUGMENT_MAX_ROWS ? DEFAULT_AUGMENT : null) : options.augment;
  let chars = 0;
  for (const e of examples) chars += e.text.length;
  const corpus = new TrainingCorpus(features, augment ? 2 * chars : chars);
  const phaseSeconds: TrainPhaseSeconds = { featurize: 0, augment: 0, fit: 0, calibrate: 0, evaluate: 0, finish: 0 };
  let phaseStart = started;
  const endPhase = (phase: keyof TrainPhaseSeconds): void => {
    const now = performance.now();
    phaseSeconds[phase] = (now - phaseStart) / 1000;
    phaseStart = now;
    options.onPhase?.(phase, phaseSeconds[phase]);
  };
  for (let i = 0; i < examples.length; i++) corpus.addText(examples[i]!.text);
  // Words seen twice or more (before noisy copies add typos): the spellings typo correction maps unknown words onto.
  const lexicon = corpus.frequentWords(2).slice(0, MAX_LEXICON);
  endPhase('featurize');
  const n = examples.length;
  const docLabels = augment ? new Int32Array(2 * n) : labels;
  const docWeights = augment ? new Float64Array(2 * n) : weights;
  if (augment) {
    // Row n + i is the noisy copy of row i; it joins the same part as row i, so held-out rows stay unseen.
    const random = seededRandom((options.seed ?? 1) + 7919);
    docLabels.set(labels);
    docWeights.set(weights);
    for (let i = 0; i < n; i++) {
      corpus.addText(addNoise(examples[i]!.text, augment.p, random));
      docLabels[n + i] = labels[i]!;
      docWeights[n + i] = weights[i]! * augment.weight;
    }
  }
  endPhase('augment');

  // Parts 0..FOLDS-1 are cross-fitting folds; part FOLDS is the test split. NB counts add up, so the model of any
  // union of parts costs one pass over the vocabulary, and every non-test row gets an out-of-fold probability.
  const { folds, test } = stratifiedSplit(labels, heldOutFraction, FOLDS, options.seed ?? 1);
  const partOf = new Uint8Array(corpus.length);
  folds.forEach((rows, k) => rows.forEach((r) => (partOf[r] = k)));
  for (const r of test) partOf[r] = FOLDS;
  if (augment) for (let i = 0; i < n; i++) partOf[n + i] = partOf[i]!;
  const nbOptions = nb;
  const kind: GateModelKind = options.model ?? 'nb-lr';
  const lr: NbLrOptions = { ...DEFAULT_NB_LR_OPTIONS, ...options.nbLr };
  // NB-LR is fitted per calibration fold (NB counts just add up): fewer folds as the corpus grows.
  const calibrationFolds = kind === 'complement-nb' ? FOLDS : n <= 4_000 ? FOLDS : n <= AUGMENT_MAX_ROWS ? 2 : 1;
  // Rows that get scored: the calibration rows of each fold (and their noisy copies), and the test split; NB-LR
  // learns from every row's vector.
  const perFold = Math.ceil(MAX_CALIBRATION_ROWS / calibrationFolds);
  const keep = new Uint8Array(corpus.length);
  if (kind === 'nb-lr') keep.fill(1);
  for (const rows of folds.slice(0, calibrationFolds)) {
    for (const r of rows.slice(0, perFold)) {
      keep[r] = 1;
      if (augment) keep[n + r] = 1;
    }
  }
  for (const r of test) keep[r] = 1;
  const { stats, rows: scored } = corpus.collectStats(docLabels, docWeights, partOf, FOLDS + 1, keep, LABELS.length, nbOptions);
  // Scores rows with a model: first the log-probabilities of every feature they use, in feature order (one
  // sequential sweep over the sums instead of a cache miss per feature), then the rows.
  const used = new Uint32Array((stats.idf.length + 31) >>> 5);
  const scoreRows = (model: PartsModel, rows: readonly number[]): Float64Array[] => {
    used.fill(0);
    for (const r of rows) scored.markFeatures(r, used);
    model.computeMarked(used);
    return rows.map((r) => scored.score(r, model.logProb, model.logPrior, new Float64Array(LABELS.length)));
  };
  const foldParts = folds.map((_, k) => k);
  // The fold models and the split model are used one after another: they share one buffer.
  const scratch = new Float64Array(stats.idf.length * LABELS.length);
  // NB-LR: documents by part, and one seeded stream for the order of every pass.
  const docsOf = (parts: readonly number[]): Int32Array => {
    const inParts = new Uint8Array(FOLDS + 1);
    for (const p of parts) inParts[p] = 1;
    const out: number[] = [];
    for (let d = 0; d < corpus.length; d++) if (inParts[partOf[d]!] === 1) out.push(d);
    return Int32Array.from(out);
  };
  const lrRandom = seededRandom((options.seed ?? 1) + 104_729);
  // Big corpora need fewer passes (and every pass costs more).
  const firstEpochs = n > AUGMENT_MAX_ROWS ? 1 : lr.epochs;
  let lastFit: NbLrFit | undefined;
  /**
   * An NB-LR fit on `parts`: fresh with `firstEpochs` passes (calibration folds: a fit that started from another
   * fold's model would have seen the rows it is scored on), or `passes` on from the last fit (the models after them;
   * 0 for a big corpus's final model: the last fit's multipliers on ratios counted over every row).
   */
  const fitNbLr = (parts: readonly number[], fresh: boolean, passes = 1): { weights: Float64Array; bias: Float64Array } => {
    const from = fresh ? undefined : lastFit;
    const fit = new NbLrFit(logCountRatios(stats, parts, lr.alpha), LABELS.length, from);
    const epochs = from ? passes : firstEpochs;
    if (epochs > 0) fit.train(scored, docsOf(parts), docLabels, docWeights, lr, epochs, lrRandom);
    lastFit = fit;
    return { weights: fit.linear(), bias: fit.bias };
  };
  const scoreLinear = (model: { weights: Float64Array; bias: Float64Array }, rows: readonly number[]): Float64Array[] =>
    rows.map((r) => scored.score(r, model.weights, model.bias, new Float64Array(LABELS.length)));

  endPhase('fit');

  let temperature = 1;
  let fallbackThreshold = options.defaultFallbackThreshold ?? 0.5;
  let noneThreshold = 1;
  const calibFolds = folds.slice(0, calibrationFolds);
  let lastLinear: { weights: Float64Array; bias: Float64Array } | null = null;
  const calibRows = calibFolds.flat();
  const canCalibrate = calibRows.length >= 5 * LABELS.length && folds.every((f) => f.length > 0);
  if (canCalibrate) {
    const calibScores: Float64Array[] = [];
    const calibLabels: number[] = [];
    calibFolds.forEach((rows, k) => {
      const others = foldParts.filter((p) => p !== k);
      // Three scalars need a few thousand rows, not all of a big corpus; folds are already in shuffled order.
      // Users make typos: each row's noisy copy (same fold, so still out-of-fold) calibrates for them too.
      const chosen = rows.slice(0, perFold).flatMap((r) => (augment ? [r, n + r] : [r]));
      // Only the features of the scored rows get NB log-probabilities.
      calibScores.push(...(kind === 'nb-lr' ? scoreLinear((lastLinear = fitNbLr(others, true)), chosen) : scoreRows(new PartsModel(stats, others, nbOptions, scratch), chosen)));
      for (const r of chosen) calibLabels.push(labels[r % n]!);
    });
    temperature = fitTemperature(calibScores, calibLabels);
    const calibProbs = calibScores.map((s) => softmax(s, temperature, new Float64Array(LABELS.length)));
    ({ threshold: fallbackThreshold, none: noneThreshold } = fitThresholds(calibProbs, calibLabels, options.maxInDomainFallback ?? 0.05));
  }

  endPhase('calibrate');

  let heldOut = null;
  const splitNb = kind === 'complement-nb' ? new PartsModel(stats, foldParts, nbOptions, scratch) : null;
  // With one calibration fold its model (folds 1.. only) already has the test split unseen: it measures it.
  const splitLr =
    kind === 'nb-lr' && (test.length > 0 || options.refitOnAll === false) ? (calibrationFolds === 1 && lastLinear && options.refitOnAll !== false ? lastLinear : fitNbLr(foldParts, !lastFit)) : null;
  if (test.length > 0) {
    const testScores = splitLr ? scoreLinear(splitLr, test) : scoreRows(splitNb!, test);
    const evalRows: EvalRow[] = test.map((r, i) => {
      const hasEvidence = scored.length(r) > 0;
      const decision = decide(softmax(testScores[i]!, temperature, new Float64Array(LABELS.length)), fallbackThreshold, '', hasEvidence, noneThreshold);
      return { label: examples[r]!.label, kind: examples[r]!.kind, decision };
    });
    heldOut = computeMetrics(evalRows);
  }

  endPhase('evaluate');
  let logProb: Float64Array;
  let logPrior: Float64Array;
  if (kind === 'nb-lr') {
    ({ weights: logProb, bias: logPrior } = options.refitOnAll === false ? splitLr! : fitNbLr([...foldParts, FOLDS], !lastFit, n > AUGMENT_MAX_ROWS ? 0 : 1));
  } else {
    ({ logProb, logPrior } = (options.refitOnAll === false ? splitNb! : new PartsModel(stats, [...foldParts, FOLDS], nbOptions, scratch)).complete());
  }
  const { idf } = stats;
  const createdAt = new Date();
  const metrics: GateTrainingMetrics = {
    trainRows: options.refitOnAll === false ? calibRows.length : examples.length,
    calibrationRows: canCalibrate ? Math.min(calibRows.length, folds.reduce((a, f) => a + Math.min(f.length, perFold), 0)) : 0,
    testRows: test.length,
    featureCount: stats.termOf.length,
    temperature,
    fallbackThreshold,
    noneThreshold,
    trainSeconds: 0,
    phaseSeconds,
    heldOut,
  };
  const version = versionId(createdAt, logProb);
  // Term names are only needed to save the gate: built then.
  const vocabulary = corpus.termNames(stats.termOf);
  const index = corpus.gateIndex(stats.termOf);
  const gate = new Gate({
    version,
    createdAt: createdAt.toISOString(),
    features,
    vocabulary,
    index,
    lexicon,
    idf,
    logProb,
    logPrior,
    model: kind,
    temperature,
    fallbackThreshold,
    noneThreshold,
    metrics,
  });
  // The gate holds this same metrics object: the totals include building it.
  endPhase('finish');
  metrics.trainSeconds = (performance.now() - started) / 1000;
  return { gate, metrics };
}
