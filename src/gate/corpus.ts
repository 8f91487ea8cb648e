/**
 * The training corpus: every row featurised once into a list of (term, count) in first-seen order. Each distinct
 * token is stemmed and split into character n-grams once (a slot), so a repeated word costs one table lookup and no
 * string. Terms get dense ids in first-seen order, characters and words alike: frequent terms show up early, so the
 * hot part of every term-indexed array is small and stays in cache (hashed buckets spread it over megabytes).
 * collectStats then makes one pass over the lists for the NB sums, after which only typed arrays remain.
 *
 * Model features come in the gate's canonical order: character buckets ascending, then words and bigrams in
 * first-seen order. A canonical term id is the bucket of a character term, CHAR_BUCKETS + word index otherwise.
 */
import { CHAR_BUCKETS, GROUP_CHAR, GROUP_WORD, growInt32, maxCharBuckets, PairTable, writeCharBuckets, type FeatureOptions } from './featurize.js';
import type { GateIndex } from './Gate.js';
import { DEFAULT_NB_OPTIONS, jointLogLikelihood, type NaiveBayesOptions, type NaiveBayesStats } from './NaiveBayes.js';
import { stemUncached, TokenSpans } from './tokenize.js';


/** Final TF-IDF vectors of the rows that get scored (calibration and test rows), by row. */
export class ScoredRows {
  private readonly rowOf: Int32Array;
  private readonly offsets: Int32Array;
  private readonly ids: Int32Array;
  private readonly vals: Float64Array;
  private count = 0;

  /** For `rows` rows of `entries` features in all. */
  constructor(docCount: number, rows: number, entries: number) {
    this.rowOf = new Int32Array(docCount).fill(-1);
    this.offsets = new Int32Array(rows + 1);
    this.ids = new Int32Array(entries);
    this.vals = new Float64Array(entries);
  }

  add(doc: number, ids: Int32Array, values: Float64Array, length: number): void {
    const start = this.offsets[this.count]!;
    this.ids.set(ids.subarray(0, length), start);
    this.vals.set(values.subarray(0, length), start);
    this.rowOf[doc] = this.count;
    this.offsets[++this.count] = start + length;
  }

  private row(doc: number): number {
    const row = this.rowOf[doc]!;
    if (row < 0) throw new Error(`row ${doc} was not kept for scoring`);
    return row;
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
    return jointLogLikelihood(this.ids.subarray(start, end), this.vals.subarray(start, end), logProb, logPrior, out);
  }
}

/** Tokens the cache keeps between trainings (as tokenize.ts's stem cache, a few tens of megabytes at most). */
const TOKEN_CACHE_LIMIT = 200_000;
/** Term ids fit in the low 24 bits of a document entry. */
const TERM_MASK = (1 << 24) - 1;
const ENTRY_MASK = (1 << 24) - 1;
const PACKED = 1 << 30;

/**
 * Distinct tokens and their stems, looked up by their characters (lower-cased on the fly) without building a string
 * per occurrence: an open-addressing table of (hash, entry + 1). Stems are interned (stemId), so a corpus maps a
 * stem to its word term through an array rather than a Map of strings. Kept across trainings, like tokenize.ts's
 * stem cache (a token's stem never changes), up to TOKEN_CACHE_LIMIT tokens (see TrainingCorpus.trimCache).
 */
class TokenTable {
  readonly tokens: string[] = [];
  stemId = new Int32Array(1024);
  readonly stems: string[] = [];
  private readonly stemIndex = new Map<string, number>();
  private table: Int32Array;
  private mask: number;

  constructor(capacity = 2048) {
    let size = 4096;
    while (size < 2 * Math.min(capacity, TOKEN_CACHE_LIMIT)) size *= 2;
    this.table = new Int32Array(4 * size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.tokens.length;
  }

  // Each entry, 16 bytes: hash; meta = entry + 1 (bits 0-23) | length (bits 24-29) | PACKED (bit 30); and the first
  // eight characters, four to an int, when they are all below 256 (PACKED). A token of up to eight such characters is
  // then matched without touching its string. Hash and packing are TokenSpans' fingerprint.

  /** Entry of token k of `spans` (scanned from `text`), or -1. */
  find(text: string, spans: TokenSpans, k: number): number {
    const table = this.table;
    const hash = spans.hash[k]!;
    const p0 = spans.packed0[k]!;
    const p1 = spans.packed1[k]!;
    const start = spans.start[k]!;
    const token = start < 0 ? spans.strings[k]! : '';
    const len = start < 0 ? token.length : spans.end[k]! - start;
    const meta = (len << 24) | (spans.packable[k] === 1 ? PACKED : 0);
    let i = (hash ^ (hash >>> 15)) & this.mask;
    for (;;) {
      const m = table[4 * i + 1]!;
      if (m === 0) return -1;
      if (table[4 * i] === hash && (m & ~ENTRY_MASK) === meta && table[4 * i + 2] === p0 && table[4 * i + 3] === p1) {
        const entry = (m & ENTRY_MASK) - 1;
        if (meta & PACKED && len <= 8) return entry;
        const known = this.tokens[entry]!;
        if (start < 0) {
          if (known === token) return entry;
        } else {
          let j = 8;
          for (; j < len; j++) {
            let c = text.charCodeAt(start + j);
            if (c >= 65 && c <= 90) c |= 32;
            if (c !== known.charCodeAt(j)) break;
          }
          if (j === len) return entry;
        }
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Length and PACKED bits of a token's meta. */
  private static meta(token: string): number {
    for (let j = 0; j < token.length && j < 8; j++) if (token.charCodeAt(j) > 255) return token.length << 24;
    return (token.length << 24) | PACKED;
  }

  /** Adds a token known to be absent; returns its entry. */
  add(token: string, hash: number): number {
    const slot = this.tokens.length;
    if (slot >= ENTRY_MASK - 1) throw new Error('more than 16 million distinct tokens in one training set');
    this.tokens.push(token);
    if (slot === this.stemId.length) this.stemId = growInt32(this.stemId, 2 * slot);
    const s = stemUncached(token);
    let id = this.stemIndex.get(s);
    if (id === undefined) {
      id = this.stems.length;
      this.stems.push(s);
      this.stemIndex.set(s, id);
    }
    this.stemId[slot] = id;
    if (2 * this.tokens.length > this.mask) this.rehash();
    this.place(hash, slot);
    return slot;
  }

  private place(hash: number, slot: number): void {
    const token = this.tokens[slot]!;
    const meta = TokenTable.meta(token);
    let p0 = 0;
    let p1 = 0;
    if (meta & PACKED) {
      for (let j = 0; j < token.length && j < 8; j++) {
        const c = token.charCodeAt(j);
        if (j < 4) p0 |= c << (8 * j);
        else p1 |= c << (8 * (j - 4));
      }
    }
    const table = this.table;
    let i = (hash ^ (hash >>> 15)) & this.mask;
    while (table[4 * i + 1] !== 0) i = (i + 1) & this.mask;
    table[4 * i] = hash;
    table[4 * i + 1] = (slot + 1) | meta;
    table[4 * i + 2] = p0;
    table[4 * i + 3] = p1;
  }

  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = old.length / 4 * 2 - 1;
    for (let i = 0; i < old.length; i += 4) if (old[i + 1] !== 0) this.place(old[i]!, (old[i + 1]! & ENTRY_MASK) - 1);
  }
}

let tokenCache = new TokenTable(1 << 16);

export class TrainingCorpus {
  // Terms get dense ids in first-seen order, characters and words alike: frequent terms show up early, so the hot
  // part of every term-indexed array is small and stays in cache (hashed buckets spread it over megabytes).
  private termIsChar = new Uint8Array(1 << 18);
  /** Bucket of a character term; word index of a word or bigram term. */
  private termRef = new Int32Array(1 << 18);
  private terms = 0;
  /**
   * Per term, side by side: [2t] where it last went in docTerms (-1: nowhere yet; positions only grow, so the term is
   * in the document being added iff this is ≥ the document's start), [2t + 1] its document frequency.
   */
  termState = newTermState(1 << 18);
  private readonly charTerm = new Int32Array(CHAR_BUCKETS).fill(-1);

  // Word index (words and bigrams in first-seen order): a stem index and -1 for a word, the two word term ids for a bigram.
  private readonly stems: string[] = [];
  /** Word term of each of the token cache's stems, or -1. */
  private wordOfStem: Int32Array;
  private wordFirst = new Int32Array(1 << 16);
  private wordSecond = new Int32Array(1 << 16);
  private words = 0;
  private readonly bigramIds: PairTable;

  // Token slots (the corpus's distinct tokens): token, word term id, character term ids (a range of charPool), times seen.
  private readonly tokenTable: TokenTable;
  /** Slot of each of the token cache's tokens, or -1. */
  private slotOfToken: Int32Array;
  private readonly slotToken: string[] = [];
  private slotWord = new Int32Array(1 << 14);
  slotStart = new Int32Array(1 << 14);
  slotEnd = new Int32Array(1 << 14);
  seen = new Int32Array(1 << 14);
  charPool = new Int32Array(1 << 18);
  private charPoolUsed = 0;

  // Documents: distinct terms in first-seen order, as CSR. Each entry packs the term id (bits 0-23) and its count
  // minus one (bits 24-31; a count past 256 keeps 255 there and the rest in `overflow`, by position).
  private docStart = new Int32Array(1024);
  docTerms = new Int32Array(1 << 20);
  readonly overflow = new Map<number, number>();
  length = 0;

  private readonly spans = new TokenSpans();
  // Per token of the document being added: word term id, slot, bigram term id (from the second token on).
  wordIds = new Int32Array(256);
  slots = new Int32Array(256);
  bigrams = new Int32Array(256);

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
    const tokens = Math.ceil(expectedChars / 50);
    TrainingCorpus.trimCache();
    this.tokenTable = tokenCache;
    this.slotOfToken = new Int32Array(Math.max(tokenCache.size + tokens, 1024)).fill(-1);
    this.wordOfStem = new Int32Array(Math.max(tokenCache.stems.length + tokens, 1024)).fill(-1);
    this.bigramIds = new PairTable(Math.max(1 << 12, Math.ceil(expectedChars / 20)));
    if (tokens > this.slotWord.length) {
      this.slotWord = new Int32Array(tokens);
      this.slotStart = new Int32Array(tokens);
      this.slotEnd = new Int32Array(tokens);
      this.seen = new Int32Array(tokens);
      this.charPool = new Int32Array(tokens * 24);
    }
    const terms = Math.ceil(expectedChars / 8);
    if (terms > this.termRef.length) {
      this.termRef = new Int32Array(terms);
      this.termIsChar = new Uint8Array(terms);
      this.termState = newTermState(terms);
    }
  }

  /** Drops the token cache if a training left it over its limit (the corpus in use keeps its own copy of what it needs). */
  static trimCache(): void {
    if (tokenCache.size > TOKEN_CACHE_LIMIT) tokenCache = new TokenTable(1 << 16);
  }

  private newTerm(isChar: boolean, ref: number): number {
    const t = this.terms++;
    if (t > TERM_MASK) throw new Error('more than 16 million distinct terms in one training set');
    if (t === this.termRef.length) {
      const grown = new Uint8Array(2 * t);
      grown.set(this.termIsChar);
      this.termIsChar = grown;
      this.termRef = growInt32(this.termRef, 2 * t);
      const state = newTermState(2 * t);
      state.set(this.termState);
      this.termState = state;
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

  /** Word term of the token cache's stem `id`. */
  private wordId(id: number): number {
    if (id >= this.wordOfStem.length) {
      const grown = new Int32Array(Math.max(id + 1, 2 * this.wordOfStem.length)).fill(-1);
      grown.set(this.wordOfStem);
      this.wordOfStem = grown;
    }
    let w = this.wordOfStem[id]!;
    if (w < 0) {
      w = this.wordOfStem[id] = this.newWord(this.stems.length, -1);
      this.stems.push(this.tokenTable.stems[id]!);
    }
    return w;
  }

  /** A new slot for the token cache's token `entry`. */
  private addSlot(entry: number): number {
    const slot = this.slotToken.length;
    const token = this.tokenTable.tokens[entry]!;
    this.slotToken.push(token);
    if (entry >= this.slotOfToken.length) {
      const grown = new Int32Array(Math.max(entry + 1, 2 * this.slotOfToken.length)).fill(-1);
      grown.set(this.slotOfToken);
      this.slotOfToken = grown;
    }
    this.slotOfToken[entry] = slot;
    if (slot === this.slotWord.length) {
      const cap = slot * 2;
      this.slotWord = growInt32(this.slotWord, cap);
      this.slotStart = growInt32(this.slotStart, cap);
      this.slotEnd = growInt32(this.slotEnd, cap);
      this.seen = growInt32(this.seen, cap);
    }
    this.slotWord[slot] = this.wordId(this.tokenTable.stemId[entry]!);
    const most = maxCharBuckets(token, this.features);
    if (this.charPoolUsed + most > this.charPool.length) this.charPool = growInt32(this.charPool, this.charPoolUsed + most);
    const start = this.charPoolUsed;
    const end = writeCharBuckets(token, this.features, this.charPool, start);
    const pool = this.charPool;
    for (let k = start; k < end; k++) {
      const bucket = pool[k]!;
      let t = this.charTerm[bucket]!;
      if (t < 0) this.charTerm[bucket] = t = this.newTerm(true, bucket);
      pool[k] = t;
    }
    this.slotStart[slot] = start;
    this.slotEnd[slot] = end;
    this.charPoolUsed = end;
    return slot;
  }

  /** Slot of token k of the spans of `text`. */
  private slotOfSpan(text: string, spans: TokenSpans, k: number): number {
    const start = spans.start[k]!;
    const table = this.tokenTable;
    let entry = table.find(text, spans, k);
    if (entry < 0) entry = table.add(start >= 0 ? text.slice(start, spans.end[k]!).toLowerCase() : spans.strings[k]!, spans.hash[k]!);
    const slot = entry < this.slotOfToken.length ? this.slotOfToken[entry]! : -1;
    return slot >= 0 ? slot : this.addSlot(entry);
  }

  /** Appends one document. */
  addText(text: string): void {
    const spans = this.spans.scan(text);
    const n = spans.length;
    const d = this.length;
    if (d + 2 > this.docStart.length) this.docStart = growInt32(this.docStart, d + 2);
    if (this.wordIds.length < n) {
      this.wordIds = new Int32Array(Math.max(n, 2 * this.wordIds.length));
      this.slots = new Int32Array(this.wordIds.length);
      this.bigrams = new Int32Array(this.wordIds.length);
    }
    const wordIds = this.wordIds;
    const slots = this.slots;
    const bigrams = this.bigrams;
    // Slots (new tokens create their terms), then bigrams (new ones create theirs), then the counting, which then
    // runs over arrays that no longer grow.
    let bound = 2 * n;
    for (let t = 0; t < n; t++) {
      const slot = this.slotOfSpan(text, spans, t);
      slots[t] = slot;
      wordIds[t] = this.slotWord[slot]!;
      bound += this.slotEnd[slot]! - this.slotStart[slot]!;
    }
    for (let i = 1; i < n; i++) {
      const a = wordIds[i - 1]!;
      const b = wordIds[i]!;
      let id = this.bigramIds.get(a, b);
      if (id < 0) id = this.bigramIds.setIfAbsent(a, b, this.newWord(a, b));
      bigrams[i] = id;
    }
    const base = this.docStart[d]!;
    if (base + bound > this.docTerms.length) this.growDocs(base + bound);
    this.docStart[d + 1] = base + countTerms(this, base, n);
    this.length = d + 1;
  }

  private growDocs(min: number): void {
    this.docTerms = growInt32(this.docTerms, Math.max(min, Math.ceil(this.docTerms.length * 1.5)));
  }

  /** Tokens seen at least `min` times so far, most frequent first (ties in code-unit order). */
  frequentWords(min: number): string[] {
    const seen = this.seen;
    const tokens = this.slotToken;
    const out: Array<[string, number]> = [];
    for (let slot = 0; slot < tokens.length; slot++) if (seen[slot]! >= min) out.push([tokens[slot]!, seen[slot]!]);
    return out.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
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
   * NaiveBayesStats) and the TF-IDF vectors of the documents flagged in `keep`. TF-IDF per document: sublinear tf
   * (1 + ln count) × idf, l2-normalised per group (word terms, character terms) times the group weight; the same
   * arithmetic, in the same order, as tfidfInto over the document's terms in first-seen order.
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
    const { v } = vocab;
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
    for (let r = 0; r < n; r++) {
      if (keep[r] !== 1) continue;
      keptRows++;
      keptEntries += this.docStart[r + 1]! - this.docStart[r]!;
    }
    const rows = new ScoredRows(n, keptRows, keptEntries);
    const vector = new DocVector(this.features, vocab.charFeatures);
    for (let g = 0; g < groups; g++) {
      const sums = featureSum.subarray(g * v, (g + 1) * v);
      let mass = 0;
      let weight = 0;
      for (let o = groupStart[g]!, oEnd = groupStart[g + 1]!; o < oEnd; o++) {
        const r = order[o]!;
        vector.load(this.docTerms, this.overflow, this.docStart[r]!, this.docStart[r + 1]!, vocab.featureIdf);
        const w = weights[r]!;
        weight += w;
        mass += vector.scatter(sums, w);
        if (keep[r] === 1) {
          vector.scale();
          rows.add(r, vector.ids, vector.values, vector.length);
        }
      }
      classMass[g] = mass;
      classWeight[g] = weight;
    }
    const { featureOf, termOf, idf, group } = vocab;
    return { stats: { classCount, partCount, featureOf, termOf, idf, group, featureSum, classMass, classWeight }, rows };
  }

  /**
   * Terms in ≥ minDf documents and their smooth idf, numbered in the model's order: character buckets ascending, then
   * words and bigrams in first-seen order (so a feature's group is a comparison with charFeatures).
   */
  private vocabulary(minDf: number): Vocabulary {
    const terms = this.terms;
    const state = this.termState;
    const isChar = this.termIsChar;
    const n = this.length;
    // Noisy copies count too: their typo n-grams are what makes the gate robust (measured: keeping them out lost ~1 pt).
    const featureOf = new Int32Array(terms).fill(-1);
    let v = 0;
    for (let bucket = 0; bucket < CHAR_BUCKETS; bucket++) {
      const t = this.charTerm[bucket]!;
      if (t >= 0 && state[2 * t + 1]! >= minDf) featureOf[t] = v++;
    }
    const charFeatures = v;
    for (let t = 0; t < terms; t++) if (isChar[t] === 0 && state[2 * t + 1]! >= minDf) featureOf[t] = v++;
    const idf = new Float64Array(v);
    const termOf = new Int32Array(v);
    // Per term, side by side for the one lookup a document entry needs: feature id, idf (0 when pruned).
    const featureIdf = new Float64Array(2 * terms);
    for (let t = 0; t < terms; t++) {
      const f = featureOf[t]!;
      if (f < 0) continue;
      // sklearn's smooth idf, so results compare with the Python service.
      const x = Math.log((1 + n) / (1 + state[2 * t + 1]!)) + 1;
      idf[f] = x;
      termOf[f] = isChar[t] === 1 ? this.termRef[t]! : CHAR_BUCKETS + this.termRef[t]!;
      featureIdf[2 * t] = f;
      featureIdf[2 * t + 1] = x;
    }
    const group = new Uint8Array(v);
    group.fill(GROUP_CHAR, 0, charFeatures);
    group.fill(GROUP_WORD, charFeatures);
    return { v, featureOf, termOf, idf, group, charFeatures, featureIdf };
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
  /** Per term: [2t] its feature id, [2t + 1] its idf (0 for a pruned term; idf ≥ 1 otherwise). */
  featureIdf: Float64Array;
}


/** termState for `terms` terms: no position (-1), document frequency 0. */
function newTermState(terms: number): Int32Array<ArrayBuffer> {
  const state = new Int32Array(2 * terms);
  for (let i = 0; i < state.length; i += 2) state[i] = -1;
  return state;
}

/**
 * Counts the terms of the document being added (`corpus.slots` / `bigrams` / `wordIds`, `n` tokens) into its
 * (term, count) list at `base`, in first-seen order: each token's word then its character terms, then the bigrams.
 * Returns the number of distinct terms.
 */
function countTerms(corpus: TrainingCorpus, base: number, n: number): number {
  const state = corpus.termState;
  const terms = corpus.docTerms;
  const { slots, wordIds, bigrams, slotStart, slotEnd, charPool, seen } = corpus;
  let at = base;
  for (let i = 0; i < n + n - 1; i++) {
    // i < n: token i (its word, then its characters); i ≥ n: bigram i - n + 1.
    let from = 0;
    let to = 0;
    let t: number;
    if (i < n) {
      const slot = slots[i]!;
      seen[slot]!++;
      t = wordIds[i]!;
      from = slotStart[slot]!;
      to = slotEnd[slot]!;
    } else t = bigrams[i - n + 1]!;
    for (;;) {
      const last = state[2 * t]!;
      if (last >= base) {
        const entry = terms[last]!;
        if (entry >>> 24 !== 255) terms[last] = entry + (1 << 24);
        else corpus.overflow.set(last, (corpus.overflow.get(last) ?? 0) + 1);
      } else {
        state[2 * t] = at;
        state[2 * t + 1]!++;
        terms[at++] = t;
      }
      if (from === to) break;
      t = charPool[from++]!;
    }
  }
  return at - base;
}

/**
 * One document's TF-IDF vector: sublinear tf (1 + ln count) × idf, l2-normalised per group (word terms, character
 * terms), times the group weight; the arithmetic of tfidfInto, in the same order.
 */
class DocVector {
  ids = new Int32Array(1024);
  /** Unscaled tf × idf after load(); the final values after scale(). */
  values = new Float64Array(1024);
  length = 0;
  scaleWord = 0;
  scaleChar = 0;
  // 1 + ln(count) for small counts (the same doubles Math.log gives).
  private readonly tf = new Float64Array(256);

  constructor(
    private readonly features: FeatureOptions,
    private readonly charFeatures: number,
  ) {
    for (let c = 1; c < this.tf.length; c++) this.tf[c] = 1 + Math.log(c);
  }

  /**
   * Loads entries[start, end) (term id and count, see TrainingCorpus.docTerms), keeping features, via featureIdf
   * ([2t] feature, [2t + 1] idf or 0).
   */
  load(entries: Int32Array, overflow: Map<number, number>, start: number, end: number, featureIdf: Float64Array): void {
    if (end - start > this.values.length) {
      const cap = Math.max(end - start, 2 * this.values.length);
      this.values = new Float64Array(cap);
      this.ids = new Int32Array(cap);
    }
    const ids = this.ids;
    const values = this.values;
    const tf = this.tf;
    const charFeatures = this.charFeatures;
    let normWord = 0;
    let normChar = 0;
    let k = 0;
    for (let i = start; i < end; i++) {
      const entry = entries[i]!;
      const t = entry & TERM_MASK;
      const idf = featureIdf[2 * t + 1]!;
      if (idf === 0) continue;
      const f = featureIdf[2 * t]!;
      const c = entry >>> 24;
      const x = (c < 255 ? tf[c + 1]! : 1 + Math.log(256 + (overflow.get(i) ?? 0))) * idf;
      ids[k] = f;
      values[k++] = x;
      if (f < charFeatures) normChar += x * x;
      else normWord += x * x;
    }
    this.length = k;
    this.scaleWord = normWord > 0 ? this.features.wordWeight / Math.sqrt(normWord) : 0;
    this.scaleChar = normChar > 0 ? this.features.charWeight / Math.sqrt(normChar) : 0;
  }

  /** Adds the values × w into `sums` by feature; returns the mass added. */
  scatter(sums: Float32Array, w: number): number {
    const { ids, values, length, scaleWord, scaleChar, charFeatures } = this;
    let mass = 0;
    for (let j = 0; j < length; j++) {
      const f = ids[j]!;
      const x = values[j]! * (f < charFeatures ? scaleChar : scaleWord) * w;
      sums[f]! += x;
      mass += x;
    }
    return mass;
  }

  /** Turns the values into the final ones. */
  scale(): void {
    const { ids, values, length, scaleWord, scaleChar, charFeatures } = this;
    for (let j = 0; j < length; j++) values[j]! *= ids[j]! < charFeatures ? scaleChar : scaleWord;
  }
}
