/**
 * Terms and TF-IDF weights. Terms are word unigrams and bigrams of stems ("w:stem", "b:stem stem") and character
 * n-grams of each word with boundary marks, hashed into buckets ("c#bucket") so a typo still shares most of its
 * n-grams with the right word, without building a string per n-gram.
 */
import { stem, tokenizeInto } from './tokenize.js';

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
  const out = new Int32Array(maxCharBuckets(word, options));
  return Array.from(out.subarray(0, writeCharBuckets(word, options, out, 0)));
}

/** Room writeCharBuckets needs for `word`. */
export function maxCharBuckets(word: string, options: FeatureOptions): number {
  return (word.length + 2) * options.charMax;
}

/** Writes the buckets of charBuckets(word) into `out` from `at`; returns the index after the last one. */
export function writeCharBuckets(word: string, options: FeatureOptions, out: Int32Array, at: number): number {
  const { charMin, charMax } = options;
  const len = word.length + 2;
  for (let i = 0; i < len; i++) {
    let h = 0x811c9dc5;
    for (let j = i; j < len && j - i < charMax; j++) {
      // The padded form `<word>`, without building it.
      const code = j === 0 ? 60 : j === len - 1 ? 62 : word.charCodeAt(j - 1);
      h = Math.imul(h ^ code, 0x01000193);
      // A word shorter than charMin still gets its whole padded form.
      if (j - i + 1 >= charMin || (i === 0 && j === len - 1)) {
        let x = h ^ (h >>> 16);
        x = Math.imul(x, 0x45d9f3b);
        out[at++] = (x ^ (x >>> 16)) & (CHAR_BUCKETS - 1);
      }
    }
  }
  return at;
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
 * under itself and its one-letter deletions, so a lookup costs a handful of probes. The index is a table of hashes
 * pointing at (word, deleted position); keys are compared character by character, so no deletion string is built.
 * Same answers as a Map from each key string to the first word that produced it.
 */
export class SpellIndex {
  private readonly words: string[] = [];
  /** Per entry: index of the word (the one it corrects to), deleted position (-1: the word itself). */
  private keyWord = new Int32Array(1024);
  private keyDel = new Int32Array(1024);
  private entries = 0;
  /** Open addressing: [2i] hash, [2i + 1] entry + 1 (0 = empty). */
  private table = new Int32Array(2 * 2048);
  private mask = 2047;
  private prefix = new Int32Array(0);
  private suffix = new Int32Array(0);
  /** B^i */
  private power = new Int32Array(0);

  /** `words` most frequent first: on a tie the more common word wins. */
  constructor(words: Iterable<string>, readonly minLength = 5) {
    const list = Array.isArray(words) ? (words as readonly string[]) : [...words];
    let keys = 0;
    for (const w of list) if (w.length >= minLength) keys += w.length + 1;
    let size = 2048;
    while (size < 2 * keys) size *= 2;
    this.table = new Int32Array(2 * size);
    this.mask = size - 1;
    this.keyWord = new Int32Array(keys + 1);
    this.keyDel = new Int32Array(keys + 1);
    for (const w of list) {
      if (w.length < minLength) continue;
      const wi = this.words.length;
      this.words.push(w);
      this.hashes(w);
      this.insert(this.keyHash(w.length, -1), wi, -1);
      for (let i = 0; i < w.length; i++) this.insert(this.keyHash(w.length, i), wi, i);
    }
  }

  /** Fills prefix/suffix hashes of `w`: prefix[i] = H(w[0, i)), suffix[i] = Σ_{j ≥ i} w[j]·B^(L-1-j). */
  private hashes(w: string): void {
    const n = w.length;
    if (this.prefix.length < n + 1) {
      this.prefix = new Int32Array(2 * n + 2);
      this.suffix = new Int32Array(2 * n + 2);
      this.power = new Int32Array(2 * n + 2);
      this.power[0] = 1;
      for (let i = 1; i < this.power.length; i++) this.power[i] = Math.imul(this.power[i - 1]!, 0x01000193);
    }
    let h = 0;
    for (let i = 0; i < n; i++) {
      this.prefix[i] = h;
      h = (Math.imul(h, 0x01000193) + w.charCodeAt(i)) | 0;
    }
    this.prefix[n] = h;
    let s = 0;
    let p = 1;
    this.suffix[n] = 0;
    for (let i = n - 1; i >= 0; i--) {
      s = (s + Math.imul(w.charCodeAt(i), p)) | 0;
      p = Math.imul(p, 0x01000193);
      this.suffix[i] = s;
    }
  }

  /** Hash of the last hashes() word of length n, without the letter at `del` (-1: whole word). */
  private keyHash(n: number, del: number): number {
    if (del < 0) return this.prefix[n]!;
    // H(w minus w[del]) = H(w[0, del))·B^(n-1-del) + Σ_{j > del} w[j]·B^(n-1-j)
    return (Math.imul(this.prefix[del]!, this.power[n - 1 - del]!) + this.suffix[del + 1]!) | 0;
  }

  private slot(hash: number): number {
    let x = hash ^ (hash >>> 16);
    x = Math.imul(x, 0x45d9f3b);
    return (x ^ (x >>> 16)) & this.mask;
  }

  /** Whether key (a minus a[da]) equals (b minus b[db]); da/db = -1 for no deletion. */
  private static same(a: string, da: number, b: string, db: number): boolean {
    const la = a.length - (da >= 0 ? 1 : 0);
    if (la !== b.length - (db >= 0 ? 1 : 0)) return false;
    for (let j = 0; j < la; j++) {
      const ca = a.charCodeAt(da >= 0 && j >= da ? j + 1 : j);
      const cb = b.charCodeAt(db >= 0 && j >= db ? j + 1 : j);
      if (ca !== cb) return false;
    }
    return true;
  }

  /** Entry of key (w minus w[del]) with hash `hash`, or -1. */
  private find(hash: number, w: string, del: number): number {
    const table = this.table;
    let i = this.slot(hash);
    for (;;) {
      const e = table[2 * i + 1]! - 1;
      if (e < 0) return -1;
      if (table[2 * i] === hash && SpellIndex.same(this.words[this.keyWord[e]!]!, this.keyDel[e]!, w, del)) return e;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds key (words[wi] minus letter `del`) → words[wi] unless the key is there. */
  private insert(hash: number, wi: number, del: number): void {
    if (this.find(hash, this.words[wi]!, del) >= 0) return;
    const e = this.entries++;
    if (e === this.keyWord.length) {
      this.keyWord = growInt32(this.keyWord, 2 * e);
      this.keyDel = growInt32(this.keyDel, 2 * e);
    }
    this.keyWord[e] = wi;
    this.keyDel[e] = del;
    if (2 * this.entries > this.mask) this.rehash();
    this.place(hash, e);
  }

  private place(hash: number, e: number): void {
    const table = this.table;
    let i = this.slot(hash);
    while (table[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    table[2 * i] = hash;
    table[2 * i + 1] = e + 1;
  }

  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]! - 1);
  }

  correct(word: string): string | null {
    if (word.length < this.minLength) return null;
    this.hashes(word);
    const n = word.length;
    const direct = this.find(this.keyHash(n, -1), word, -1);
    if (direct >= 0) return this.words[this.keyWord[direct]!]!;
    for (let i = 0; i < n; i++) {
      const hit = this.find(this.keyHash(n, i), word, i);
      if (hit >= 0) return this.words[this.keyWord[hit]!]!;
    }
    return null;
  }
}

/** Counts term ids; a dense scratch array with a touched list beats a Map per document. */
export class TermCounter {
  /** Distinct ids in first-seen order: the first `length` entries. */
  ids = new Int32Array(256);
  length = 0;
  // Int32 rather than Float64: half the memory to touch across a vocabulary of a few hundred thousand terms.
  private counts = new Int32Array(1024);

  add(id: number): void {
    let counts = this.counts;
    if (id >= counts.length) counts = this.growCounts(id);
    const c = counts[id]!;
    if (c === 0) {
      if (this.length === this.ids.length) this.growIds();
      this.ids[this.length++] = id;
    }
    counts[id] = c + 1;
  }

  private growCounts(id: number): Int32Array<ArrayBuffer> {
    const grown = new Int32Array(Math.max(id + 1, this.counts.length * 2));
    grown.set(this.counts);
    return (this.counts = grown);
  }

  private growIds(): void {
    const grown = new Int32Array(this.ids.length * 2);
    grown.set(this.ids);
    this.ids = grown;
  }

  count(id: number): number {
    return this.counts[id]!;
  }

  /** Counts aligned with `ids`. */
  alignedCounts(): Float64Array {
    const out = new Float64Array(this.length);
    for (let k = 0; k < this.length; k++) out[k] = this.counts[this.ids[k]!]!;
    return out;
  }

  reset(): void {
    const ids = this.ids;
    const counts = this.counts;
    for (let k = 0; k < this.length; k++) counts[ids[k]!] = 0;
    this.length = 0;
  }
}

/**
 * Open-addressing map from a pair of non-negative int32 ids to an int32 (bigram → term id): a nested Map cost two
 * lookups and an object per first word, and bigrams are the most numerous terms. Keys and value of a slot sit side
 * by side, so a probe touches one cache line.
 */
export class PairTable {
  /** [3i] first id (-1: empty), [3i + 1] second id, [3i + 2] value. */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  /** Room for `capacity` pairs before the first regrowth (load stays at most 3/4). */
  constructor(capacity = 1024) {
    let cap = 16;
    while (cap * 3 < capacity * 4) cap *= 2;
    this.slots = new Int32Array(3 * cap).fill(-1);
    this.mask = cap - 1;
  }

  private slot(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The value of (a, b), or -1. */
  get(a: number, b: number): number {
    const slots = this.slots;
    let i = this.slot(a, b);
    for (;;) {
      const k = slots[3 * i]!;
      if (k === -1) return -1;
      if (k === a && slots[3 * i + 1] === b) return slots[3 * i + 2]!;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets (a, b) to `value` unless it is there; returns the value now stored. */
  setIfAbsent(a: number, b: number, value: number): number {
    const slots = this.slots;
    let i = this.slot(a, b);
    for (;;) {
      const k = slots[3 * i]!;
      if (k === -1) break;
      if (k === a && slots[3 * i + 1] === b) return slots[3 * i + 2]!;
      i = (i + 1) & this.mask;
    }
    slots[3 * i] = a;
    slots[3 * i + 1] = b;
    slots[3 * i + 2] = value;
    if (++this.size * 4 > this.mask * 3) this.rehash();
    return value;
  }

  private rehash(): void {
    const old = this.slots;
    const cap = 2 * (this.mask + 1);
    this.slots = new Int32Array(3 * cap).fill(-1);
    this.mask = cap - 1;
    const slots = this.slots;
    for (let i = 0; i < old.length; i += 3) {
      const a = old[i]!;
      if (a === -1) continue;
      let j = this.slot(a, old[i + 1]!);
      while (slots[3 * j] !== -1) j = (j + 1) & this.mask;
      slots[3 * j] = a;
      slots[3 * j + 1] = old[i + 1]!;
      slots[3 * j + 2] = old[i + 2]!;
    }
  }
}

/**
 * Maps a text to term ids, caching each distinct token's ids (stem + character n-grams), so repeated words cost one
 * Map lookup. The cache is a Map to a slot plus typed arrays per slot (an object per token made training GC-bound).
 */
export class TermIndexer {
  private readonly slotOf = new Map<string, number>();
  private wordOf = new Int32Array(1024);
  private charStart = new Int32Array(1024);
  private charEnd = new Int32Array(1024);
  private seen = new Int32Array(1024);
  // Character ids of all cached words in one pool.
  private pool = new Int32Array(1 << 16);
  private poolUsed = 0;
  private wordIds = new Int32Array(256);
  private readonly tokens: string[] = [];

  constructor(
    readonly options: FeatureOptions,
    private readonly lookup: TermLookup,
    private readonly cacheLimit = 100_000,
  ) {}

  /** Words seen at least `min` times (since the cache was last cleared), most frequent first. */
  frequentWords(min: number): string[] {
    const seen = this.seen;
    const out: Array<[string, number]> = [];
    for (const [w, slot] of this.slotOf) if (seen[slot]! >= min) out.push([w, seen[slot]!]);
    return out.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  }

  private addSlot(token: string): number {
    let spelled = token;
    let word = this.lookup.word(stem(token));
    if (word < 0 && this.lookup.correct) {
      const fixed = this.lookup.correct(token);
      if (fixed !== null) {
        spelled = fixed;
        word = this.lookup.word(stem(fixed));
      }
    }
    if (this.slotOf.size >= this.cacheLimit) {
      this.slotOf.clear();
      this.poolUsed = 0;
    }
    const slot = this.slotOf.size;
    if (slot === this.wordOf.length) {
      const cap = slot * 2;
      this.wordOf = growInt32(this.wordOf, cap);
      this.charStart = growInt32(this.charStart, cap);
      this.charEnd = growInt32(this.charEnd, cap);
      this.seen = growInt32(this.seen, cap);
    }
    const most = maxCharBuckets(spelled, this.options);
    if (this.poolUsed + most > this.pool.length) this.pool = growInt32(this.pool, Math.max(this.pool.length * 2, this.poolUsed + most));
    const pool = this.pool;
    const start = this.poolUsed;
    const end = writeCharBuckets(spelled, this.options, pool, start);
    let used = start;
    for (let k = start; k < end; k++) {
      const id = this.lookup.char(pool[k]!);
      if (id >= 0) pool[used++] = id;
    }
    this.poolUsed = used;
    this.wordOf[slot] = word;
    this.charStart[slot] = start;
    this.charEnd[slot] = used;
    this.seen[slot] = 0;
    this.slotOf.set(token, slot);
    return slot;
  }

  /** Adds the term ids of `text` to `counter` (which the caller resets). */
  countText(text: string, counter: TermCounter): void {
    const tokens = this.tokens;
    const n = tokenizeInto(text, tokens);
    if (this.wordIds.length < n) this.wordIds = new Int32Array(Math.max(n, this.wordIds.length * 2));
    const wordIds = this.wordIds;
    for (let t = 0; t < n; t++) {
      const token = tokens[t]!;
      let slot = this.slotOf.get(token);
      if (slot === undefined) slot = this.addSlot(token);
      this.seen[slot]!++;
      const word = this.wordOf[slot]!;
      wordIds[t] = word;
      if (word >= 0) counter.add(word);
      const pool = this.pool;
      for (let k = this.charStart[slot]!, end = this.charEnd[slot]!; k < end; k++) counter.add(pool[k]!);
    }
    for (let i = 1; i < n; i++) {
      const a = wordIds[i - 1]!;
      const b = wordIds[i]!;
      if (a < 0 || b < 0) continue;
      const id = this.lookup.bigram(a, b);
      if (id >= 0) counter.add(id);
    }
  }
}

export function growInt32(a: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(min, a.length * 2));
  out.set(a);
  return out;
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
