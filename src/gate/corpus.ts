/**
 * The training corpus: every row featurised once (by the Featurizer that routing uses too) into a list of
 * (term, count) in first-seen order. Terms get dense ids in first-seen order, characters and words alike: frequent
 * terms show up early, so the hot part of every term-indexed array is small and stays in cache (hashed buckets spread
 * it over megabytes). collectStats then makes one pass over the lists for the NB sums, after which only typed arrays
 * remain.
 *
 * Model features come in the gate's canonical order: character buckets ascending, then words and bigrams in
 * first-seen order. A canonical term id is the bucket of a character term, CHAR_BUCKETS + word index otherwise.
 */
import { CHAR_BUCKETS, Featurizer, GROUP_CHAR, GROUP_WORD, growInt32, PairTable, TermCounter, tfidfInto, type FeatureOptions, type TermSource } from './featurize.js';
import type { GateIndex } from './Gate.js';
import type { SparseRows } from './nbLogisticRegression.js';
import { DEFAULT_NB_OPTIONS, jointLogLikelihood, type NaiveBayesOptions, type NaiveBayesStats } from './NaiveBayes.js';

/** Final TF-IDF vectors of the rows that get scored (calibration and test rows), by row. */
export class ScoredRows implements SparseRows {
  private readonly rowOf: Int32Array;
  private readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly values: Float64Array;
  private count = 0;

  /** For `rows` rows of `entries` features in all. */
  constructor(docCount: number, rows: number, entries: number) {
    this.rowOf = new Int32Array(docCount).fill(-1);
    this.offsets = new Int32Array(rows + 1);
    this.ids = new Int32Array(entries);
    this.values = new Float64Array(entries);
  }

  add(doc: number, ids: Int32Array, values: Float64Array, length: number): void {
    const start = this.offsets[this.count]!;
    this.ids.set(ids.subarray(0, length), start);
    this.values.set(values.subarray(0, length), start);
    this.rowOf[doc] = this.count;
    this.offsets[++this.count] = start + length;
  }

  private row(doc: number): number {
    const row = this.rowOf[doc]!;
    if (row < 0) throw new Error(`row ${doc} was not kept for scoring`);
    return row;
  }

  /** Where document `doc`'s features are in `ids` / `values`. */
  range(doc: number): [number, number] {
    const row = this.row(doc);
    return [this.offsets[row]!, this.offsets[row + 1]!];
  }

  /** Number of features of document `doc`. */
  length(doc: number): number {
    const row = this.row(doc);
    return this.offsets[row + 1]! - this.offsets[row]!;
  }

  /** Sets the bits of the features of document `doc` in `bits`. */
  markFeatures(doc: number, bits: Uint32Array): void {
    const row = this.row(doc);
    const ids = this.ids;
    for (let i = this.offsets[row]!, end = this.offsets[row + 1]!; i < end; i++) bits[ids[i]! >>> 5]! |= 1 << (ids[i]! & 31);
  }

  /** Joint log-likelihood per class of document `doc` under a model ([f * classes + c], priors) into `out`. */
  score(doc: number, logProb: Float64Array, logPrior: Float64Array, out: Float64Array): Float64Array {
    const row = this.row(doc);
    const start = this.offsets[row]!;
    const end = this.offsets[row + 1]!;
    return jointLogLikelihood(this.ids.subarray(start, end), this.values.subarray(start, end), logProb, logPrior, out);
  }
}

/** Term ids fit in the low 24 bits of a document entry; the high 8 bits hold its count minus one (255: see overflow). */
const TERM_MASK = (1 << 24) - 1;

/** Count of document entry `i` (see TrainingCorpus.docTerms). */
function entryCount(entry: number, overflow: Map<number, number>, i: number): number {
  const c = entry >>> 24;
  return c < 255 ? c + 1 : 256 + (overflow.get(i) ?? 0);
}

/** Creates a term the first time it appears: the corpus is the Featurizer's TermSource while rows are added. */
export class TrainingCorpus implements TermSource {
  private termIsChar = new Uint8Array(1 << 18);
  /** Bucket of a character term; word index of a word or bigram term. */
  private termRef = new Int32Array(1 << 18);
  private terms = 0;
  /** Per term, its document frequency. */
  private docFreq = new Int32Array(1 << 18);
  private readonly charTerm = new Int32Array(CHAR_BUCKETS).fill(-1);

  // Word index (words and bigrams in first-seen order): a stem index and -1 for a word, the two word term ids for a bigram.
  private readonly stems: string[] = [];
  private readonly wordOfStem = new Map<string, number>();
  private wordFirst = new Int32Array(1 << 16);
  private wordSecond = new Int32Array(1 << 16);
  private words = 0;
  private readonly bigramIds: PairTable;

  // Documents: distinct terms in first-seen order, as CSR. Each entry packs the term id (bits 0-23) and its count
  // minus one (bits 24-31; a count past 256 keeps 255 there and the rest in `overflow`, by position).
  private docStart = new Int32Array(1024);
  private docTerms = new Int32Array(1 << 20);
  private readonly overflow = new Map<number, number>();
  length = 0;

  private readonly featurizer: Featurizer;
  private readonly counter = new TermCounter();

  /** `expectedChars`: total length of the texts to come, to size the document store once (it grows if short). */
  constructor(
    private readonly features: FeatureOptions,
    expectedChars = 0,
  ) {
    // Sizes from chat-like text (measured on the public routing data): about 2.1 distinct terms per character of text
    // (character n-grams dominate), a distinct token per 60 characters, a new bigram per 20, a new term per 9.
    // Short estimates only cost a regrowth.
    const entries = Math.ceil(expectedChars * 2.5) + 1024;
    if (entries > this.docTerms.length) this.docTerms = new Int32Array(entries);
    this.featurizer = new Featurizer(features, this, Math.max(1024, Math.ceil(expectedChars / 50)));
    this.bigramIds = new PairTable(Math.max(1 << 12, Math.ceil(expectedChars / 20)));
    const terms = Math.ceil(expectedChars / 8);
    if (terms > this.termRef.length) {
      this.termRef = new Int32Array(terms);
      this.termIsChar = new Uint8Array(terms);
      this.docFreq = new Int32Array(terms);
    }
  }

  private newTerm(isChar: boolean, ref: number): number {
    const t = this.terms++;
    if (t > TERM_MASK) throw new Error('more than 16 million distinct terms in one training set');
    if (t === this.termRef.length) {
      const grown = new Uint8Array(2 * t);
      grown.set(this.termIsChar);
      this.termIsChar = grown;
      this.termRef = growInt32(this.termRef, 2 * t);
      this.docFreq = growInt32(this.docFreq, 2 * t);
    }
    this.termIsChar[t] = isChar ? 1 : 0;
    this.termRef[t] = ref;
    return t;
  }

  /** A new word (second < 0; first = stem index) or bigram (first, second = word term ids) term. */
  private newWord(first: number, second: number): number {
    const w = this.words++;
    if (w === this.wordFirst.length) {
      this.wordFirst = growInt32(this.wordFirst, 2 * w);
      this.wordSecond = growInt32(this.wordSecond, 2 * w);
    }
    this.wordFirst[w] = first;
    this.wordSecond[w] = second;
    return this.newTerm(false, w);
  }

  /** TermSource: the word term of a stem, created on first sight. */
  word(stem: string): number {
    let w = this.wordOfStem.get(stem);
    if (w === undefined) {
      w = this.newWord(this.stems.length, -1);
      this.stems.push(stem);
      this.wordOfStem.set(stem, w);
    }
    return w;
  }

  /** TermSource: the term of a character bucket, created on first sight. */
  char(bucket: number): number {
    let t = this.charTerm[bucket]!;
    if (t < 0) this.charTerm[bucket] = t = this.newTerm(true, bucket);
    return t;
  }

  /** TermSource: the term of a bigram of two word terms, created on first sight. */
  bigram(first: number, second: number): number {
    const id = this.bigramIds.get(first, second);
    return id >= 0 ? id : this.bigramIds.setIfAbsent(first, second, this.newWord(first, second));
  }

  /** Appends one document. */
  addText(text: string): void {
    const counter = this.counter;
    this.featurizer.count(text, counter);
    const d = this.length;
    if (d + 2 > this.docStart.length) this.docStart = growInt32(this.docStart, d + 2);
    const base = this.docStart[d]!;
    const k = counter.length;
    if (base + k > this.docTerms.length) this.docTerms = growInt32(this.docTerms, Math.max(base + k, Math.ceil(this.docTerms.length * 1.5)));
    const { ids, counts } = counter;
    const terms = this.docTerms;
    const docFreq = this.docFreq;
    for (let j = 0; j < k; j++) {
      const t = ids[j]!;
      const c = counts[j]!;
      terms[base + j] = t | (Math.min(c - 1, 255) << 24);
      if (c > 256) this.overflow.set(base + j, c - 256);
      docFreq[t]!++;
    }
    counter.reset();
    this.docStart[d + 1] = base + k;
    this.length = d + 1;
  }

  /** Tokens seen at least `min` times so far, most frequent first (ties in code-unit order). */
  frequentWords(min: number): string[] {
    return this.featurizer.frequentWords(min);
  }

  /**
   * Term names ("c#bucket", "w:stem", "b:stem stem") for canonical term ids (bucket, or CHAR_BUCKETS + word index).
   * The function keeps only the small tables it needs, not the corpus.
   */
  termNames(canonicalTerms: Int32Array): () => string[] {
    const stems = this.stems;
    const wordFirst = this.wordFirst.slice(0, this.words);
    const wordSecond = this.wordSecond.slice(0, this.words);
    const termRef = this.termRef.slice(0, this.terms);
    const name = (t: number): string => {
      if (t < CHAR_BUCKETS) return `c#${t}`;
      const w = t - CHAR_BUCKETS;
      const second = wordSecond[w]!;
      if (second < 0) return `w:${stems[wordFirst[w]!]!}`;
      return `b:${stems[wordFirst[termRef[wordFirst[w]!]!]!]!} ${stems[wordFirst[termRef[second]!]!]!}`;
    };
    return () => Array.from(canonicalTerms, name);
  }

  /**
   * The Gate's lookup tables for a vocabulary given as canonical term ids by feature (the same tables Gate would
   * parse from the term names, without building and parsing them).
   */
  gateIndex(canonicalTerm: Int32Array): GateIndex {
    const v = canonicalTerm.length;
    const chars = new Int32Array(CHAR_BUCKETS).fill(-1);
    const words = new Map<string, number>();
    const group = new Uint8Array(v);
    const featureOfWord = new Int32Array(this.words).fill(-1);
    for (let f = 0; f < v; f++) {
      const t = canonicalTerm[f]!;
      if (t < CHAR_BUCKETS) {
        chars[t] = f;
        group[f] = GROUP_CHAR;
        continue;
      }
      group[f] = GROUP_WORD;
      const w = t - CHAR_BUCKETS;
      featureOfWord[w] = f;
      if (this.wordSecond[w]! < 0) words.set(this.stems[this.wordFirst[w]!]!, f);
    }
    const bigrams = new PairTable(v - words.size);
    for (let f = 0; f < v; f++) {
      const t = canonicalTerm[f]!;
      if (t < CHAR_BUCKETS) continue;
      const w = t - CHAR_BUCKETS;
      const second = this.wordSecond[w]!;
      if (second < 0) continue;
      // A bigram in ≥ minDf documents has both its words in them too, so both are features.
      const a = featureOfWord[this.termRef[this.wordFirst[w]!]!]!;
      const b = featureOfWord[this.termRef[second]!]!;
      if (a >= 0 && b >= 0) bigrams.setIfAbsent(a, b, f);
    }
    return { words, chars, bigrams, group };
  }

  /**
   * One pass: vocabulary (terms in ≥ minDf documents, character terms first), smooth idf, per-part NB sums (see
   * NaiveBayesStats) and the TF-IDF vectors (tfidfInto, as routing computes them) of the documents flagged in `keep`.
   */
  collectStats(
    labels: Int32Array,
    weights: Float64Array,
    partOf: Uint8Array,
    partCount: number,
    keep: Uint8Array,
    classCount: number,
    options: NaiveBayesOptions = DEFAULT_NB_OPTIONS,
  ): { stats: NaiveBayesStats; rows: ScoredRows } {
    const n = this.length;
    const vocab = this.vocabulary(options.minDf);
    const { v, featureOf, termOf, idf, group, charFeatures } = vocab;
    // Documents in (part, class) order, stable: each group's sums are one v-long array, so the scatter stays in cache;
    // every sum still adds its documents in row order, so the result is the same as in row order.
    const groups = partCount * classCount;
    const groupStart = new Int32Array(groups + 1);
    for (let r = 0; r < n; r++) groupStart[partOf[r]! * classCount + labels[r]! + 1]!++;
    for (let g = 0; g < groups; g++) groupStart[g + 1]! += groupStart[g]!;
    const order = new Int32Array(n);
    const fill = groupStart.slice(0, groups);
    for (let r = 0; r < n; r++) order[fill[partOf[r]! * classCount + labels[r]!]!++] = r;

    const featureSum = new Float32Array(groups * v);
    const classMass = new Float64Array(groups);
    const classWeight = new Float64Array(groups);
    let keptRows = 0;
    let keptEntries = 0;
    let longest = 0;
    for (let r = 0; r < n; r++) {
      const len = this.docStart[r + 1]! - this.docStart[r]!;
      if (len > longest) longest = len;
      if (keep[r] !== 1) continue;
      keptRows++;
      keptEntries += len;
    }
    const rows = new ScoredRows(n, keptRows, keptEntries);
    const ids = new Int32Array(longest);
    const counts = new Int32Array(longest);
    const values = new Float64Array(longest);
    const { docTerms, docStart, overflow, features } = this;
    for (let g = 0; g < groups; g++) {
      const sums = featureSum.subarray(g * v, (g + 1) * v);
      let mass = 0;
      let weight = 0;
      for (let o = groupStart[g]!, oEnd = groupStart[g + 1]!; o < oEnd; o++) {
        const r = order[o]!;
        let k = 0;
        for (let i = docStart[r]!, end = docStart[r + 1]!; i < end; i++) {
          const entry = docTerms[i]!;
          const f = featureOf[entry & TERM_MASK]!;
          if (f < 0) continue;
          ids[k] = f;
          counts[k++] = entryCount(entry, overflow, i);
        }
        tfidfInto(ids, counts, k, idf, charFeatures, features, values);
        const w = weights[r]!;
        weight += w;
        for (let j = 0; j < k; j++) {
          const x = values[j]! * w;
          sums[ids[j]!]! += x;
          mass += x;
        }
        if (keep[r] === 1) rows.add(r, ids, values, k);
      }
      classMass[g] = mass;
      classWeight[g] = weight;
    }
    return { stats: { classCount, partCount, featureOf, termOf, idf, group, featureSum, classMass, classWeight }, rows };
  }

  /**
   * Terms in ≥ minDf documents and their smooth idf, numbered in the model's order: character buckets ascending, then
   * words and bigrams in first-seen order.
   */
  private vocabulary(minDf: number): Vocabulary {
    const terms = this.terms;
    const docFreq = this.docFreq;
    const isChar = this.termIsChar;
    const n = this.length;
    // Noisy copies count too: their typo n-grams are what makes the gate robust (measured: keeping them out lost ~1 pt).
    const featureOf = new Int32Array(terms).fill(-1);
    let v = 0;
    for (let bucket = 0; bucket < CHAR_BUCKETS; bucket++) {
      const t = this.charTerm[bucket]!;
      if (t >= 0 && docFreq[t]! >= minDf) featureOf[t] = v++;
    }
    const charFeatures = v;
    for (let t = 0; t < terms; t++) if (isChar[t] === 0 && docFreq[t]! >= minDf) featureOf[t] = v++;
    const idf = new Float64Array(v);
    const termOf = new Int32Array(v);
    for (let t = 0; t < terms; t++) {
      const f = featureOf[t]!;
      if (f < 0) continue;
      // sklearn's smooth idf, so results compare with the Python service.
      idf[f] = Math.log((1 + n) / (1 + docFreq[t]!)) + 1;
      termOf[f] = isChar[t] === 1 ? this.termRef[t]! : CHAR_BUCKETS + this.termRef[t]!;
    }
    const group = new Uint8Array(v);
    group.fill(GROUP_CHAR, 0, charFeatures);
    group.fill(GROUP_WORD, charFeatures);
    return { v, featureOf, termOf, idf, group, charFeatures };
  }
}

interface Vocabulary {
  v: number;
  featureOf: Int32Array;
  /** Feature → canonical term id: the bucket of a character term, CHAR_BUCKETS + word index of a word or bigram. */
  termOf: Int32Array;
  idf: Float64Array;
  group: Uint8Array;
  /** Features below this are character terms. */
  charFeatures: number;
}
