/**
 * Terms and TF-IDF weights. Terms are word unigrams and bigrams of stems ("w:stem", "b:stem stem") and character
 * n-grams of each word with boundary marks, hashed into buckets ("c#bucket") so a typo still shares most of its
 * n-grams with the right word, without building a string per n-gram.
 */
import { stem, tokenize } from './tokenize.js';

export interface FeatureOptions {
  /** Smallest character n-gram (default 3). */
  charMin: number;
  /** Largest character n-gram (default 5). */
  charMax: number;
  /** Weight of the word group (unigrams + bigrams) after its l2 norm (default 1). */
  wordWeight: number;
  /** Weight of the character group after its l2 norm (default 1). */
  charWeight: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { charMin: 3, charMax: 5, wordWeight: 1, charWeight: 1 };

export const GROUP_WORD = 0;
export const GROUP_CHAR = 1;
/** Hash buckets for character n-grams (2^18: few collisions for the ~100k n-grams of a chat corpus). */
export const CHAR_BUCKETS = 1 << 18;

export function termGroup(term: string): number {
  return term.startsWith('c#') ? GROUP_CHAR : GROUP_WORD;
}

/** Buckets of the character n-grams of `<word>` (FNV-1a, extended one character at a time). */
export function charBuckets(word: string, options: FeatureOptions): number[] {
  const padded = `<${word}>`;
  const out: number[] = [];
  const len = padded.length;
  for (let i = 0; i < len; i++) {
    let h = 0x811c9dc5;
    for (let j = i; j < len && j - i < options.charMax; j++) {
      h = Math.imul(h ^ padded.charCodeAt(j), 0x01000193);
      const n = j - i + 1;
      // A word shorter than charMin still gets its whole padded form.
      if (n >= options.charMin || (i === 0 && j === len - 1)) {
        let x = h ^ (h >>> 16);
        x = Math.imul(x, 0x45d9f3b);
        out.push((x ^ (x >>> 16)) & (CHAR_BUCKETS - 1));
      }
    }
  }
  return out;
}

/** How a TermIndexer turns terms into ids; -1 means "not a feature" (unknown at routing time). */
export interface TermLookup {
  word(stem: string): number;
  bigram(first: number, second: number): number;
  char(bucket: number): number;
  /** A known word for an unknown one (typo correction), or null. */
  correct?(word: string): string | null;
}

/**
 * Typo correction within one edit (drop, insert or replace a letter) by symmetric deletes: each known word is indexed
 * under itself and its one-letter deletions, so a lookup costs a handful of Map gets.
 */
export class SpellIndex {
  private readonly index = new Map<string, string>();

  /** `words` most frequent first: on a tie the more common word wins. */
  constructor(words: Iterable<string>, readonly minLength = 5) {
    for (const w of words) {
      if (w.length < minLength) continue;
      if (!this.index.has(w)) this.index.set(w, w);
      for (let i = 0; i < w.length; i++) {
        const d = w.slice(0, i) + w.slice(i + 1);
        if (!this.index.has(d)) this.index.set(d, w);
      }
    }
  }

  correct(word: string): string | null {
    if (word.length < this.minLength) return null;
    const direct = this.index.get(word);
    if (direct !== undefined) return direct;
    for (let i = 0; i < word.length; i++) {
      const hit = this.index.get(word.slice(0, i) + word.slice(i + 1));
      if (hit !== undefined) return hit;
    }
    return null;
  }
}

/** Counts term ids; a dense scratch array with a touched list beats a Map per document. */
export class TermCounter {
  ids: number[] = [];
  // Int32 rather than Float64: half the memory to touch across a vocabulary of a few hundred thousand terms.
  private counts = new Int32Array(1024);

  add(id: number): void {
    if (id >= this.counts.length) {
      const grown = new Int32Array(Math.max(id + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    if (this.counts[id] === 0) this.ids.push(id);
    this.counts[id]! += 1;
  }

  count(id: number): number {
    return this.counts[id]!;
  }

  /** Counts aligned with `ids`. */
  alignedCounts(): Float64Array {
    const out = new Float64Array(this.ids.length);
    for (let k = 0; k < this.ids.length; k++) out[k] = this.counts[this.ids[k]!]!;
    return out;
  }

  reset(): void {
    for (const id of this.ids) this.counts[id] = 0;
    this.ids.length = 0;
  }
}

/** Maps a text to term ids, caching each word's ids (stem + character n-grams), so repeated words cost a lookup. */
export class TermIndexer {
  private readonly wordCache = new Map<string, { word: number; start: number; end: number; seen: number }>();
  // Character ids of all cached words in one pool: a typed array per word made training allocation-bound.
  private pool = new Int32Array(1 << 16);
  private poolUsed = 0;
  private readonly wordIds: number[] = [];

  constructor(
    readonly options: FeatureOptions,
    private readonly lookup: TermLookup,
    private readonly cacheLimit = 100_000,
  ) {}

  /** Words seen at least `min` times (since the cache was last cleared), most frequent first. */
  frequentWords(min: number): string[] {
    return [...this.wordCache]
      .filter(([, e]) => e.seen >= min)
      .sort((a, b) => b[1].seen - a[1].seen || (a[0] < b[0] ? -1 : 1))
      .map(([w]) => w);
  }

  /** Adds the term ids of `text` to `counter` (which the caller resets). */
  countText(text: string, counter: TermCounter): void {
    const tokens = tokenize(text);
    const wordIds = this.wordIds;
    wordIds.length = 0;
    for (const token of tokens) {
      let entry = this.wordCache.get(token);
      if (entry === undefined) {
        let spelled = token;
        let word = this.lookup.word(stem(token));
        if (word < 0 && this.lookup.correct) {
          const fixed = this.lookup.correct(token);
          if (fixed !== null) {
            spelled = fixed;
            word = this.lookup.word(stem(fixed));
          }
        }
        if (this.wordCache.size >= this.cacheLimit) {
          this.wordCache.clear();
          this.poolUsed = 0;
        }
        const buckets = charBuckets(spelled, this.options);
        if (this.poolUsed + buckets.length > this.pool.length) {
          const grown = new Int32Array(Math.max(this.pool.length * 2, this.poolUsed + buckets.length));
          grown.set(this.pool.subarray(0, this.poolUsed));
          this.pool = grown;
        }
        const start = this.poolUsed;
        for (const b of buckets) {
          const id = this.lookup.char(b);
          if (id >= 0) this.pool[this.poolUsed++] = id;
        }
        entry = { word, start, end: this.poolUsed, seen: 0 };
        this.wordCache.set(token, entry);
      }
      entry.seen++;
      wordIds.push(entry.word);
      if (entry.word >= 0) counter.add(entry.word);
      const pool = this.pool;
      for (let k = entry.start; k < entry.end; k++) counter.add(pool[k]!);
    }
    for (let i = 1; i < wordIds.length; i++) {
      const a = wordIds[i - 1]!;
      const b = wordIds[i]!;
      if (a < 0 || b < 0) continue;
      const id = this.lookup.bigram(a, b);
      if (id >= 0) counter.add(id);
    }
  }
}

/**
 * TF-IDF values of counted terms: sublinear tf (1 + ln c) × idf, l2-normalised per group, times the group weight.
 * Reads the first `length` entries of `ids`/`counts` (aligned; ids index `idf` and `group`) and writes `out`.
 */
export function tfidfInto(
  ids: ArrayLike<number>,
  counts: ArrayLike<number>,
  length: number,
  idf: ArrayLike<number>,
  group: ArrayLike<number>,
  options: FeatureOptions,
  out: Float64Array,
): Float64Array {
  let normWord = 0;
  let normChar = 0;
  for (let k = 0; k < length; k++) {
    const id = ids[k]!;
    const v = (1 + Math.log(counts[k]!)) * idf[id]!;
    out[k] = v;
    if (group[id] === GROUP_CHAR) normChar += v * v;
    else normWord += v * v;
  }
  const scaleWord = normWord > 0 ? options.wordWeight / Math.sqrt(normWord) : 0;
  const scaleChar = normChar > 0 ? options.charWeight / Math.sqrt(normChar) : 0;
  for (let k = 0; k < length; k++) out[k]! *= group[ids[k]!] === GROUP_CHAR ? scaleChar : scaleWord;
  return out;
}

export function tfidfValues(ids: ArrayLike<number>, counts: ArrayLike<number>, idf: ArrayLike<number>, group: ArrayLike<number>, options: FeatureOptions): Float64Array {
  return tfidfInto(ids, counts, ids.length, idf, group, options, new Float64Array(ids.length));
}
