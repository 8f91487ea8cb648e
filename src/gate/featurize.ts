/**
 * Terms and TF-IDF weights. Terms are word unigrams and bigrams of stems ("w:stem", "b:stem stem") and character
 * n-grams of each word with boundary marks, hashed into buckets ("c#bucket") so a typo still shares most of its
 * n-grams with the right word, without building a string per n-gram.
 */
import { stem, TokenSpans } from './tokenize.js';

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

/** Words this long get a second edit when one is not enough (shorter ones would match too many other words). */
export const TWO_EDIT_MIN_LENGTH = 9;

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
  constructor(words: Iterable<string>, readonly minLength = 4) {
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
    const once = this.withinOneEdit(word);
    if (once !== null || word.length < TWO_EDIT_MIN_LENGTH) return once;
    // Two edits, one of them a letter the typist added: the word without one letter, within one edit.
    for (let i = 0; i < word.length; i++) {
      const hit = this.withinOneEdit(word.slice(0, i) + word.slice(i + 1));
      if (hit !== null) return hit;
    }
    return null;
  }

  private withinOneEdit(word: string): string | null {
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

/**
 * Counts term ids of one text: distinct ids in first-seen order with their counts, side by side. Per id, the text it
 * was last seen in (an epoch) and its position, so that reset() is O(1) and add() touches one cache line per id.
 */
export class TermCounter {
  /** Distinct ids in first-seen order: the first `length` entries. */
  ids = new Int32Array(256);
  /** Count of each of `ids`. */
  counts = new Int32Array(256);
  length = 0;
  /** [2id] epoch of the text it was last counted in, [2id + 1] its position in `ids`. */
  private where = new Int32Array(2048);
  private epoch = 1;

  add(id: number): void {
    let where = this.where;
    if (2 * id >= where.length) where = this.growWhere(id);
    if (where[2 * id] === this.epoch) {
      this.counts[where[2 * id + 1]!]!++;
      return;
    }
    if (this.length === this.ids.length) this.growIds();
    where[2 * id] = this.epoch;
    where[2 * id + 1] = this.length;
    this.ids[this.length] = id;
    this.counts[this.length++] = 1;
  }

  private growWhere(id: number): Int32Array<ArrayBuffer> {
    const grown = new Int32Array(Math.max(2 * id + 2, this.where.length * 2));
    grown.set(this.where);
    return (this.where = grown);
  }

  private growIds(): void {
    this.ids = growInt32(this.ids, this.ids.length * 2);
    this.counts = growInt32(this.counts, this.counts.length * 2);
  }

  reset(): void {
    this.length = 0;
    if (++this.epoch === 0x7fffffff) {
      this.where.fill(0);
      this.epoch = 1;
    }
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

/** Term ids fit in the low 24 bits of a token table entry's meta. */
const ENTRY_MASK = (1 << 24) - 1;
const PACKED = 1 << 30;

/**
 * Distinct tokens, looked up by their characters (lower-cased on the fly) without building a string per occurrence:
 * an open-addressing table of (hash, entry + 1). Entries are numbered 0, 1, 2… in order of first sight.
 */
class TokenTable {
  readonly tokens: string[] = [];
  private table: Int32Array;
  private mask: number;

  constructor(capacity = 2048) {
    let size = 4096;
    while (size < 2 * capacity) size *= 2;
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

  /** Adds a token known to be absent (`hash`: its TokenSpans hash); returns its entry. */
  add(token: string, hash: number): number {
    const entry = this.tokens.length;
    if (entry >= ENTRY_MASK - 1) throw new Error('more than 16 million distinct tokens');
    this.tokens.push(token);
    if (2 * this.tokens.length > this.mask) this.rehash();
    this.place(hash, entry);
    return entry;
  }

  private place(hash: number, entry: number): void {
    const token = this.tokens[entry]!;
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
    table[4 * i + 1] = (entry + 1) | meta;
    table[4 * i + 2] = p0;
    table[4 * i + 3] = p1;
  }

  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = (old.length / 4) * 2 - 1;
    for (let i = 0; i < old.length; i += 4) if (old[i + 1] !== 0) this.place(old[i]!, (old[i + 1]! & ENTRY_MASK) - 1);
  }
}

/**
 * Where a Featurizer's term ids come from: training creates a term the first time it appears (TrainingCorpus), a
 * trained gate looks terms up in its vocabulary (Gate; -1: not a feature).
 */
export interface TermSource {
  /** Term of a word stem, or -1. */
  word(stem: string): number;
  /** Term of a character n-gram bucket, or -1. */
  char(bucket: number): number;
  /** Term of the bigram of two word terms, or -1. */
  bigram(first: number, second: number): number;
  /** A known spelling for an unknown word within one edit (typo correction), or null. */
  correct?(word: string): string | null;
}

/**
 * The one featurizer, for training and routing alike: text → tokens (TokenSpans) → terms. Each token gives its stem's
 * word term and the character n-gram terms of the word; each pair of neighbouring tokens gives a bigram term. Each
 * distinct token is stemmed and split once (a slot: its word term and a range of character terms in one pool), so a
 * repeated word costs one table probe and no string.
 */
export class Featurizer {
  private tokens: TokenTable;
  private slotWord = new Int32Array(1024);
  private slotStart = new Int32Array(1024);
  private slotEnd = new Int32Array(1024);
  private seen = new Int32Array(1024);
  private pool = new Int32Array(1 << 16);
  private poolUsed = 0;
  private readonly spans = new TokenSpans();
  /** After scan(): slot and word term (-1: unknown) of each token, bigram term of tokens i - 1 and i at i ≥ 1. */
  private slots = new Int32Array(256);
  private wordIds = new Int32Array(256);
  private bigrams = new Int32Array(256);
  private n = 0;

  /**
   * `expectedTokens`: distinct tokens to size the tables for (they grow if short). `cacheLimit`: distinct tokens kept;
   * past it the cache starts again (a routing gate sees an unbounded stream of text).
   */
  constructor(
    readonly options: FeatureOptions,
    private readonly source: TermSource,
    expectedTokens = 1024,
    private readonly cacheLimit = Infinity,
  ) {
    this.tokens = new TokenTable(expectedTokens);
    if (expectedTokens > this.slotWord.length) {
      this.slotWord = new Int32Array(expectedTokens);
      this.slotStart = new Int32Array(expectedTokens);
      this.slotEnd = new Int32Array(expectedTokens);
      this.seen = new Int32Array(expectedTokens);
      this.pool = new Int32Array(expectedTokens * 24);
    }
  }

  /** Distinct tokens seen at least `min` times, most frequent first (ties in code-unit order). */
  frequentWords(min: number): string[] {
    const seen = this.seen;
    const tokens = this.tokens.tokens;
    const out: Array<[string, number]> = [];
    for (let slot = 0; slot < tokens.length; slot++) if (seen[slot]! >= min) out.push([tokens[slot]!, seen[slot]!]);
    return out.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  }

  /** A new slot for `token`: its word term (after typo correction when the source has it) and character terms. */
  private addSlot(token: string, hash: number): number {
    const slot = this.tokens.add(token, hash);
    if (slot === this.slotWord.length) {
      const cap = slot * 2;
      this.slotWord = growInt32(this.slotWord, cap);
      this.slotStart = growInt32(this.slotStart, cap);
      this.slotEnd = growInt32(this.slotEnd, cap);
      this.seen = growInt32(this.seen, cap);
    }
    const source = this.source;
    let spelled = token;
    let word = source.word(stem(token));
    if (word < 0 && source.correct) {
      const fixed = source.correct(token);
      if (fixed !== null) {
        spelled = fixed;
        word = source.word(stem(fixed));
      }
    }
    const most = maxCharBuckets(spelled, this.options);
    if (this.poolUsed + most > this.pool.length) this.pool = growInt32(this.pool, this.poolUsed + most);
    const pool = this.pool;
    const start = this.poolUsed;
    const end = writeCharBuckets(spelled, this.options, pool, start);
    let used = start;
    for (let k = start; k < end; k++) {
      const id = source.char(pool[k]!);
      if (id >= 0) pool[used++] = id;
    }
    this.poolUsed = used;
    this.slotWord[slot] = word;
    this.slotStart[slot] = start;
    this.slotEnd[slot] = used;
    this.seen[slot] = 0;
    return slot;
  }

  /** Tokenises `text` and resolves its terms (new tokens get slots, then new bigrams their terms); returns the token count. */
  private scan(text: string): number {
    if (this.tokens.size >= this.cacheLimit) {
      this.tokens = new TokenTable();
      this.poolUsed = 0;
    }
    const spans = this.spans.scan(text);
    const n = spans.length;
    if (this.slots.length < n) {
      const cap = Math.max(n, 2 * this.slots.length);
      this.slots = new Int32Array(cap);
      this.wordIds = new Int32Array(cap);
      this.bigrams = new Int32Array(cap);
    }
    const { slots, wordIds, bigrams, tokens } = this;
    for (let t = 0; t < n; t++) {
      let slot = tokens.find(text, spans, t);
      if (slot < 0) slot = this.addSlot(spans.token(text, t), spans.hash[t]!);
      slots[t] = slot;
      wordIds[t] = this.slotWord[slot]!;
    }
    for (let i = 1; i < n; i++) {
      const a = wordIds[i - 1]!;
      const b = wordIds[i]!;
      bigrams[i] = a < 0 || b < 0 ? -1 : this.source.bigram(a, b);
    }
    this.n = n;
    return n;
  }

  /**
   * Counts the terms of `text` into `counter` (which the caller resets), in first-seen order: each token's word term
   * then its character terms, then the bigrams. Returns the number of tokens.
   */
  count(text: string, counter: TermCounter): number {
    const n = this.scan(text);
    const { slots, wordIds, bigrams, slotStart, slotEnd, seen } = this;
    const pool = this.pool;
    for (let t = 0; t < n; t++) {
      const slot = slots[t]!;
      seen[slot]!++;
      const word = wordIds[t]!;
      if (word >= 0) counter.add(word);
      for (let k = slotStart[slot]!, end = slotEnd[slot]!; k < end; k++) counter.add(pool[k]!);
    }
    for (let i = 1; i < n; i++) if (bigrams[i]! >= 0) counter.add(bigrams[i]!);
    return this.n;
  }
}

export function growInt32(a: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(min, a.length * 2));
  out.set(a);
  return out;
}

/** 1 + ln(c) for small counts c (the same doubles Math.log gives). */
const SUBLINEAR_TF = new Float64Array(256);
for (let c = 1; c < SUBLINEAR_TF.length; c++) SUBLINEAR_TF[c] = 1 + Math.log(c);

/**
 * The one TF-IDF arithmetic, for training and routing alike. TF-IDF values of counted terms: sublinear tf (1 + ln c) × idf, l2-normalised per group, times the group weight.
 * Reads the first `length` entries of `ids`/`counts` (aligned; ids index `idf`; features below `charFeatures` are
 * character terms, the model's canonical order) and writes `out`.
 */
export function tfidfInto(
  ids: Int32Array,
  counts: Int32Array,
  length: number,
  idf: Float64Array,
  charFeatures: number,
  options: FeatureOptions,
  out: Float64Array,
): Float64Array {
  let normWord = 0;
  let normChar = 0;
  for (let k = 0; k < length; k++) {
    const id = ids[k]!;
    const c = counts[k]!;
    const v = (c < 256 ? SUBLINEAR_TF[c]! : 1 + Math.log(c)) * idf[id]!;
    out[k] = v;
    if (id < charFeatures) normChar += v * v;
    else normWord += v * v;
  }
  const scaleWord = normWord > 0 ? options.wordWeight / Math.sqrt(normWord) : 0;
  const scaleChar = normChar > 0 ? options.charWeight / Math.sqrt(normChar) : 0;
  for (let k = 0; k < length; k++) out[k]! *= ids[k]! < charFeatures ? scaleChar : scaleWord;
  return out;
}
