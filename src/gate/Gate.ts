/** A trained gate: routes a question to an expert with calibrated probabilities; saved as a versioned JSON file. */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GateFileError } from './errors.js';
import { computeMetrics, type EvalMetrics } from './evaluate.js';
import { CHAR_BUCKETS, GROUP_CHAR, PairTable, SpellIndex, Featurizer, TermCounter, tfidfInto, termGroup, type FeatureOptions } from './featurize.js';
import { jointLogLikelihood, softmax } from './NaiveBayes.js';
import { labelToExpert } from '../core/labels.js';
import { DOMAIN_LABELS, LABELS, type DomainLabel, type GateModel, type Label, type RouteDecision, type TrainingExample } from './types.js';

export const GATE_FILE_FORMAT = 'moe-gate';
/** Distinct tokens a routing gate keeps featurised (then it starts again): bounded memory on an endless stream. */
const ROUTING_TOKEN_CACHE = 100_000;
/** Bump when the file layout or the featurisation changes meaning; old files then fail with a clear error. */
export const GATE_FORMAT_VERSION = 1;

/** Held-out figures measured while training (stored in the gate file). */
export interface GateTrainingMetrics {
  trainRows: number;
  /** Rows whose out-of-fold probabilities fitted temperature and fallback thresholds. */
  calibrationRows: number;
  /** Rows the held-out metrics below were measured on (never seen by fit or calibration). */
  testRows: number;
  featureCount: number;
  temperature: number;
  fallbackThreshold: number;
  noneThreshold: number;
  trainSeconds: number;
  /** Where trainSeconds went (absent in gates trained before it was recorded). */
  phaseSeconds?: TrainPhaseSeconds;
  heldOut: EvalMetrics | null;
}

/**
 * Seconds per training phase: featurize (tokens, stems, n-grams, counts of the rows, and the typo lexicon),
 * augment (noisy copies of the rows, when on), fit (vocabulary, idf, NB sums per part), calibrate (out-of-fold
 * scores, temperature, thresholds), evaluate (held-out metrics), finish (final model and the gate around it).
 */
export interface TrainPhaseSeconds {
  featurize: number;
  augment: number;
  fit: number;
  calibrate: number;
  evaluate: number;
  finish: number;
}

/** The linear model over the features: complement naive Bayes, or NB log-count ratios with logistic regression. */
export type GateModelKind = 'complement-nb' | 'nb-lr';

export function isGateModelKind(value: unknown): value is GateModelKind {
  return value === 'complement-nb' || value === 'nb-lr';
}

export interface GateParams {
  version: string;
  /** How the weights were fitted (default `complement-nb`, the only kind before it was recorded). */
  model?: GateModelKind;
  createdAt: string;
  features: FeatureOptions;
  /**
   * Term names by feature ("w:stem", "b:stem stem", "c#bucket"), or a function that builds them: routing only needs
   * `index`, so training leaves the names to the first save. A function needs `index`.
   */
  vocabulary: readonly string[] | (() => readonly string[]);
  /** Known words, most frequent first, for typo correction of unknown words. */
  lexicon: string[];
  idf: Float64Array;
  /** Weight of each feature for each label, [feature * LABELS.length + class]: NB's log-probabilities, or NB-LR's weights. */
  logProb: Float64Array;
  /** Bias per label: NB's log-priors, or NB-LR's intercepts. */
  logPrior: Float64Array;
  temperature: number;
  /** A domain label with calibrated probability below this falls back as `unsure`. */
  fallbackThreshold: number;
  /** A question whose `none` probability reaches this falls back as `off_topic` even when a domain ranks first. */
  noneThreshold: number;
  metrics: GateTrainingMetrics | null;
  /** The vocabulary's lookup tables when the caller has them already (training); otherwise parsed from `vocabulary`. */
  index?: GateIndex;
}

/** Term → feature id tables of a vocabulary. */
export interface GateIndex {
  /** Stem → feature id of its "w:stem" term. */
  words: Map<string, number>;
  /** Character bucket → feature id of its "c#bucket" term, or -1. */
  chars: Int32Array;
  /** (feature id of the first word, of the second) → feature id of the "b:first second" term. */
  bigrams: PairTable;
  /** Feature id → GROUP_WORD / GROUP_CHAR. */
  group: Uint8Array;
}

/** Builds the lookup tables of a vocabulary of "w:stem", "b:stem stem" and "c#bucket" terms. */
export function indexVocabulary(vocabulary: readonly string[]): GateIndex {
  const v = vocabulary.length;
  const group = new Uint8Array(v);
  const words = new Map<string, number>();
  const chars = new Int32Array(CHAR_BUCKETS).fill(-1);
  const bigramTerms: number[] = [];
  for (let i = 0; i < v; i++) {
    const term = vocabulary[i]!;
    const kind = term.charCodeAt(0);
    const colon = term.charCodeAt(1);
    if (kind === 99 && colon === 35) {
      // c#bucket
      group[i] = GROUP_CHAR;
      chars[Number(term.slice(2)) & (CHAR_BUCKETS - 1)] = i;
    } else {
      group[i] = termGroup(term);
      if (kind === 119 && colon === 58) words.set(term.slice(2), i);
      else if (kind === 98 && colon === 58) bigramTerms.push(i);
    }
  }
  const bigrams = new PairTable(bigramTerms.length);
  for (const i of bigramTerms) {
    const term = vocabulary[i]!;
    const space = term.indexOf(' ', 2);
    if (space < 0) continue;
    const ia = words.get(term.slice(2, space));
    const ib = words.get(term.slice(space + 1));
    if (ia === undefined || ib === undefined) continue;
    bigrams.setIfAbsent(ia, ib, i);
  }
  return { words, chars, bigrams, group };
}

const finite = z.number().finite();
const metricsShape = z
  .object({ trainRows: z.number(), calibrationRows: z.number(), testRows: z.number(), featureCount: z.number(), temperature: z.number(), fallbackThreshold: z.number(), trainSeconds: z.number() })
  .passthrough();
const fileSchema = z.object({
  format: z.literal(GATE_FILE_FORMAT),
  formatVersion: z.number(),
  version: z.string().min(1),
  model: z.enum(['complement-nb', 'nb-lr']).optional(),
  createdAt: z.string(),
  labels: z.array(z.string()),
  features: z.object({ charMin: z.number().int().min(1).max(10), charMax: z.number().int().min(1).max(10), wordWeight: finite, charWeight: finite }),
  temperature: finite.positive(),
  fallbackThreshold: finite.min(0).max(1),
  noneThreshold: finite.min(0).max(1),
  metrics: metricsShape.nullable(),
});

/** The file: the header above, and arrays of a few hundred thousand entries checked by a loop (zod took seconds). */
type GateFileJson = z.infer<typeof fileSchema> & { vocabulary: string[]; lexicon: string[]; idf: number[]; logPrior: number[]; logProb: number[] };

/** An array of finite numbers as a Float64Array, or null. */
function finiteNumbers(value: unknown): Float64Array | null {
  if (!Array.isArray(value)) return null;
  const out = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    out[i] = x;
  }
  return out;
}

function strings(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  for (const x of value as unknown[]) if (typeof x !== 'string') return null;
  return value as string[];
}

/** Turns calibrated probabilities (in LABELS order) into a routing decision. */
export function decide(probabilities: ArrayLike<number>, fallbackThreshold: number, gateVersion: string, hasEvidence = true, noneThreshold = 1): RouteDecision {
  const probs = {} as Record<Label, number>;
  let top = 0;
  for (let j = 0; j < LABELS.length; j++) {
    probs[LABELS[j]!] = probabilities[j]!;
    if (probabilities[j]! > probabilities[top]!) top = j;
  }
  // With no known word there is nothing to rank: call it `none` rather than whichever class comes first.
  const label: Label = hasEvidence ? LABELS[top]! : 'none';
  const confidence = probs[label];
  let fallbackReason: RouteDecision['fallbackReason'] = null;
  if (!hasEvidence) fallbackReason = 'unsure';
  else if (label === 'none' || probs.none >= noneThreshold) fallbackReason = 'off_topic';
  else if (confidence < fallbackThreshold) fallbackReason = 'unsure';
  const expert = fallbackReason === null ? labelToExpert(label) : 'general';
  let runnerUp: DomainLabel = DOMAIN_LABELS[0];
  let best = -1;
  for (const d of DOMAIN_LABELS) {
    if (d !== expert && probs[d] > best) {
      best = probs[d];
      runnerUp = d;
    }
  }
  return { expert, confidence, probabilities: probs, fallback: fallbackReason !== null, fallbackReason, runnerUp, label, gateVersion };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Decimals kept in the file: weights and idf, priors. */
const DIGITS = 5;
const PRIOR_DIGITS = 6;

let fractions: { digits: Uint8Array; length: Uint8Array } | null = null;

/** For each fraction 0..99999 of five decimals: its five digits, and how many are left without trailing zeros. */
function fractionTable(): { digits: Uint8Array; length: Uint8Array } {
  if (fractions) return fractions;
  const digits = new Uint8Array(5 * 100_000);
  const length = new Uint8Array(100_000);
  for (let frac = 0; frac < 100_000; frac++) {
    let x = frac;
    let places = 5;
    for (let p = 4; p >= 0; p--) {
      const d = x % 10;
      digits[5 * frac + p] = 48 + d;
      if (d === 0 && places === p + 1) places--;
      x = (x / 10) | 0;
    }
    length[frac] = places;
  }
  return (fractions = { digits, length });
}

/**
 * Writes JSON text to a file through one reused buffer, numbers formatted straight into it: the 50k-row gate's million
 * numbers as rounded arrays, then one 10 MB string, took 0.2 s of `moe train`.
 */
class JsonFileWriter {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private at = 0;
  private readonly digits = new Uint8Array(24);

  constructor(private readonly fd: number) {}

  flush(): void {
    let done = 0;
    while (done < this.at) done += fs.writeSync(this.fd, this.buf, done, this.at - done);
    this.at = 0;
  }

  text(s: string): void {
    const bytes = Buffer.byteLength(s);
    if (this.at + bytes > this.buf.length) this.flush();
    if (bytes > this.buf.length) {
      const whole = Buffer.from(s);
      let done = 0;
      while (done < whole.length) done += fs.writeSync(this.fd, whole, done, whole.length - done);
    } else this.at += this.buf.write(s, this.at);
  }

  /**
   * A JSON array of `values` rounded to DIGITS places: the text JSON.stringify gives for round(x, DIGITS). For
   * k = Math.round(x·10^DIGITS) that is k's digits with the point put back and trailing zeros dropped (a double
   * nearest to k/10^d prints as that decimal), and "0" for ±0; int32 arithmetic, so |k| < 2^31 (others: stringify).
   */
  numbers(values: Float64Array): void {
    const f = 10 ** DIGITS;
    const { buf, digits } = this;
    const table = fractionTable();
    this.text('[');
    let at = this.at;
    for (let i = 0; i < values.length; i++) {
      if (at + 40 > buf.length) {
        this.at = at;
        this.flush();
        at = 0;
      }
      if (i > 0) buf[at++] = 44; // ,
      const k = Math.round(values[i]! * f);
      if (k === 0) {
        buf[at++] = 48;
        continue;
      }
      if (!(k > -0x7fffffff && k < 0x7fffffff)) {
        this.at = at;
        this.text(JSON.stringify(k / f));
        at = this.at;
        continue;
      }
      let u = k | 0;
      if (u < 0) {
        buf[at++] = 45; // -
        u = -u;
      }
      // u / f is below whole + 1 by at least 10^-DIGITS, so truncating gives the whole part.
      let whole = (u / f) | 0;
      const frac = u - whole * f;
      let n = 0;
      do {
        digits[n++] = 48 + (whole % 10);
        whole = (whole / 10) | 0;
      } while (whole > 0);
      while (n > 0) buf[at++] = digits[--n]!;
      if (frac === 0) continue;
      // The fraction's digits and length without trailing zeros, from a table.
      buf[at++] = 46; // .
      const places = table.length[frac]!;
      for (let p = 0, d = frac * DIGITS; p < places; p++) buf[at++] = table.digits[d + p]!;
    }
    this.at = at;
    this.text(']');
  }
}

export class Gate implements GateModel {
  readonly version: string;
  readonly model: GateModelKind;
  readonly createdAt: string;
  readonly features: FeatureOptions;
  readonly lexicon: readonly string[];
  readonly temperature: number;
  readonly fallbackThreshold: number;
  readonly noneThreshold: number;
  readonly metrics: GateTrainingMetrics | null;
  private readonly idf: Float64Array;
  /** Features below this are character terms (the canonical order: character terms first, then words and bigrams). */
  private readonly charFeatures: number;
  private readonly logProb: Float64Array;
  private readonly logPrior: Float64Array;
  private readonly featurizer: Featurizer;
  private readonly counter = new TermCounter();
  private readonly scores = new Float64Array(LABELS.length);
  private values = new Float64Array(256);
  private names: readonly string[] | (() => readonly string[]);

  constructor(params: GateParams) {
    const vocabularySize = params.idf.length;
    const names = typeof params.vocabulary === 'function' ? vocabularySize : params.vocabulary.length;
    if (names !== vocabularySize || params.logProb.length !== vocabularySize * LABELS.length || params.logPrior.length !== LABELS.length) {
      throw new Error(`inconsistent gate parameters: ${names} terms, ${params.idf.length} idf, ${params.logProb.length} log-probabilities`);
    }
    this.version = params.version;
    this.model = params.model ?? 'complement-nb';
    this.createdAt = params.createdAt;
    this.features = { ...params.features };
    this.names = params.vocabulary;
    this.lexicon = params.lexicon;
    this.idf = params.idf;
    this.logProb = params.logProb;
    this.logPrior = params.logPrior;
    this.temperature = params.temperature;
    this.fallbackThreshold = params.fallbackThreshold;
    this.noneThreshold = params.noneThreshold;
    this.metrics = params.metrics;
    let index = params.index;
    if (!index) {
      if (typeof params.vocabulary === 'function') throw new Error('a gate with lazily built term names needs their index');
      index = indexVocabulary(params.vocabulary);
    }
    const { words, chars, bigrams, group } = index;
    if (group.length !== vocabularySize) throw new Error(`inconsistent gate index: ${group.length} groups for ${vocabularySize} terms`);
    let charFeatures = 0;
    while (charFeatures < group.length && group[charFeatures] === GROUP_CHAR) charFeatures++;
    for (let f = charFeatures; f < group.length; f++) if (group[f] === GROUP_CHAR) throw new Error(`character term at feature ${f} after the word terms`);
    this.charFeatures = charFeatures;
    // Built on the first unknown word: a command that routes one question often needs none.
    let spelling: SpellIndex | null = null;
    const source = {
      correct: (w: string) => (spelling ??= new SpellIndex(params.lexicon)).correct(w),
      word: (s: string) => words.get(s) ?? -1,
      bigram: (a: number, b: number) => bigrams.get(a, b),
      char: (bucket: number) => chars[bucket]!,
    };
    this.featurizer = new Featurizer(this.features, source, 1024, ROUTING_TOKEN_CACHE);
  }

  /** Term names by feature id. */
  get vocabulary(): readonly string[] {
    if (typeof this.names === 'function') {
      const names = this.names();
      if (names.length !== this.idf.length) throw new Error(`inconsistent gate vocabulary: ${names.length} names for ${this.idf.length} terms`);
      this.names = names;
    }
    return this.names;
  }

  /** Calibrated probabilities in LABELS order, and whether any known term was seen. */
  probabilities(text: string): { probabilities: Float64Array; hasEvidence: boolean } {
    const counter = this.counter;
    counter.reset();
    this.featurizer.count(typeof text === 'string' ? text : '', counter);
    const ids = counter.ids;
    const n = counter.length;
    if (this.values.length < n) this.values = new Float64Array(Math.max(n, this.values.length * 2));
    const values = tfidfInto(ids, counter.counts, n, this.idf, this.charFeatures, this.features, this.values);
    jointLogLikelihood(ids, values, this.logProb, this.logPrior, this.scores, n);
    const hasEvidence = n > 0;
    counter.reset();
    return { probabilities: softmax(this.scores, this.temperature, new Float64Array(LABELS.length)), hasEvidence };
  }

  /** Total: any string gets a decision; text with no known term falls back as `unsure`. */
  route(text: string): RouteDecision {
    const { probabilities, hasEvidence } = this.probabilities(text);
    return decide(probabilities, this.fallbackThreshold, this.version, hasEvidence, this.noneThreshold);
  }

  evaluate(examples: readonly TrainingExample[]): EvalMetrics {
    return computeMetrics(examples.map((e) => ({ label: e.label, kind: e.kind, decision: this.route(e.text) })));
  }

  /** The file's fields before its big arrays, in file order. */
  private header(): Omit<GateFileJson, 'vocabulary' | 'lexicon' | 'idf' | 'logPrior' | 'logProb'> {
    return {
      format: GATE_FILE_FORMAT,
      formatVersion: GATE_FORMAT_VERSION,
      version: this.version,
      model: this.model,
      createdAt: this.createdAt,
      labels: [...LABELS],
      features: this.features,
      temperature: this.temperature,
      fallbackThreshold: this.fallbackThreshold,
      noneThreshold: this.noneThreshold,
      metrics: this.metrics as z.infer<typeof metricsShape> | null,
    };
  }

  toJSON(): GateFileJson {
    return {
      ...this.header(),
      vocabulary: [...this.vocabulary],
      lexicon: [...this.lexicon],
      idf: Array.from(this.idf, (x) => round(x, DIGITS)),
      logPrior: Array.from(this.logPrior, (x) => round(x, PRIOR_DIGITS)),
      logProb: Array.from(this.logProb, (x) => round(x, DIGITS)),
    };
  }

  /**
   * Writes atomically (temp file + rename), so a reader never sees half a gate. The text is JSON.stringify(toJSON()),
   * written in pieces: the header, the string arrays, then the number arrays from the typed arrays.
   */
  save(file: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w');
      try {
        const out = new JsonFileWriter(fd);
        // The header without its closing brace, then the arrays in toJSON()'s order.
        out.text(JSON.stringify(this.header()).slice(0, -1));
        out.text(`,"vocabulary":${JSON.stringify(this.vocabulary)},"lexicon":${JSON.stringify(this.lexicon)},"idf":`);
        out.numbers(this.idf);
        // One prior per label: stringify, as toJSON() does.
        out.text(`,"logPrior":${JSON.stringify(Array.from(this.logPrior, (x) => round(x, PRIOR_DIGITS)))},"logProb":`);
        out.numbers(this.logProb);
        out.text('}');
        out.flush();
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  static fromJSON(data: unknown, file: string): Gate {
    const head = data as { format?: unknown; formatVersion?: unknown } | null;
    if (typeof head !== 'object' || head === null || head.format !== GATE_FILE_FORMAT) {
      throw new GateFileError('gate_incompatible', file, `not a moe gate file (expected "format": "${GATE_FILE_FORMAT}")`);
    }
    if (head.formatVersion !== GATE_FORMAT_VERSION) {
      throw new GateFileError('gate_incompatible', file, `format version ${JSON.stringify(head.formatVersion) ?? 'missing'} is not supported (this build reads version ${GATE_FORMAT_VERSION}); retrain with \`moe train\``);
    }
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new GateFileError('gate_corrupt', file, `invalid field ${issue.path.slice(0, 2).join('.') || '(root)'}: ${issue.message}`);
    }
    const g = parsed.data;
    const raw = data as Record<string, unknown>;
    const vocabulary = strings(raw.vocabulary);
    const lexicon = strings(raw.lexicon);
    const idf = finiteNumbers(raw.idf);
    const logProb = finiteNumbers(raw.logProb);
    const logPrior = finiteNumbers(raw.logPrior);
    const bad = !vocabulary ? 'vocabulary' : !lexicon ? 'lexicon' : !idf ? 'idf' : !logProb ? 'logProb' : !logPrior ? 'logPrior' : null;
    if (bad) throw new GateFileError('gate_corrupt', file, `invalid field ${bad}: expected an array of ${bad === 'vocabulary' || bad === 'lexicon' ? 'strings' : 'finite numbers'}`);
    if (g.labels.join(',') !== LABELS.join(',')) {
      throw new GateFileError('gate_incompatible', file, `labels ${g.labels.join(',')} differ from this build's ${LABELS.join(',')}`);
    }
    try {
      return new Gate({
        version: g.version,
        model: g.model,
        createdAt: g.createdAt,
        features: g.features,
        vocabulary: vocabulary!,
        lexicon: lexicon!,
        idf: idf!,
        logProb: logProb!,
        logPrior: logPrior!,
        temperature: g.temperature,
        fallbackThreshold: g.fallbackThreshold,
        noneThreshold: g.noneThreshold,
        metrics: g.metrics as GateTrainingMetrics | null,
      });
    } catch (err) {
      throw new GateFileError('gate_corrupt', file, err instanceof Error ? err.message : String(err));
    }
  }

  static load(file: string): Gate {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new GateFileError('gate_missing', file, 'file not found (train one with `moe train`)');
      throw new GateFileError('gate_unreadable', file, `cannot read (${code ?? String(err)})`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new GateFileError('gate_corrupt', file, `not valid JSON (${err instanceof Error ? err.message : String(err)}); the file is damaged or truncated`);
    }
    return Gate.fromJSON(data, file);
  }
}

