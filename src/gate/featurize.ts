/**
 * Terms and TF-IDF weights. Terms are word unigrams and bigrams of stems ("w:" / "b:") and character n-grams of each
 * word with boundary marks ("c:"), so a typo still shares most of its n-grams with the right word.
 */
import NGrams from 'natural/lib/natural/ngrams/ngrams.js';
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

export function termGroup(term: string): number {
  return term.startsWith('c:') ? GROUP_CHAR : GROUP_WORD;
}

/** Terms of one word: its stem unigram and its character n-grams. */
export function wordTerms(word: string, options: FeatureOptions): string[] {
  const terms = ['w:' + stem(word)];
  const padded = `<${word}>`;
  for (let n = options.charMin; n <= options.charMax; n++) {
    for (let i = 0; i + n <= padded.length; i++) terms.push('c:' + padded.slice(i, i + n));
  }
  // A word shorter than charMin still gets its whole padded form.
  if (padded.length < options.charMin) terms.push('c:' + padded);
  return terms;
}

/** Counts term ids; a dense scratch array with a touched list beats a Map per document. */
export class TermCounter {
  ids: number[] = [];
  private counts = new Float64Array(1024);

  add(id: number): void {
    if (id >= this.counts.length) {
      const grown = new Float64Array(Math.max(id + 1, this.counts.length * 2));
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
    this.ids = [];
  }
}

/**
 * Maps terms to ids, caching each word's ids. `termId` returns -1 for an unknown term (routing) or interns it
 * (training).
 */
export class TermIndexer {
  private readonly wordCache = new Map<string, { stem: string; ids: Int32Array }>();

  constructor(
    readonly options: FeatureOptions,
    private readonly termId: (term: string) => number,
    private readonly cacheLimit = 100_000,
  ) {}

  /** Adds the term ids of `text` to `counter` (which the caller resets). */
  countText(text: string, counter: TermCounter): void {
    const tokens = tokenize(text);
    const stems: string[] = new Array<string>(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const word = tokens[i]!;
      let entry = this.wordCache.get(word);
      if (entry === undefined) {
        const ids = wordTerms(word, this.options)
          .map(this.termId)
          .filter((id) => id >= 0);
        entry = { stem: stem(word), ids: Int32Array.from(ids) };
        if (this.wordCache.size >= this.cacheLimit) this.wordCache.clear();
        this.wordCache.set(word, entry);
      }
      stems[i] = entry.stem;
      for (const id of entry.ids) counter.add(id);
    }
    if (stems.length > 1) {
      for (const [a, b] of NGrams.bigrams(stems)) {
        const id = this.termId(`b:${a} ${b}`);
        if (id >= 0) counter.add(id);
      }
    }
  }
}

/**
 * TF-IDF values of counted terms: sublinear tf (1 + ln c) × idf, l2-normalised per group, times the group weight.
 * `counts` is aligned with `ids`; ids index `idf` and `group`.
 */
export function tfidfValues(
  ids: ArrayLike<number>,
  counts: ArrayLike<number>,
  idf: ArrayLike<number>,
  group: ArrayLike<number>,
  options: FeatureOptions,
): Float64Array {
  const values = new Float64Array(ids.length);
  let normWord = 0;
  let normChar = 0;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const v = (1 + Math.log(counts[k]!)) * idf[id]!;
    values[k] = v;
    if (group[id] === GROUP_CHAR) normChar += v * v;
    else normWord += v * v;
  }
  const scaleWord = normWord > 0 ? options.wordWeight / Math.sqrt(normWord) : 0;
  const scaleChar = normChar > 0 ? options.charWeight / Math.sqrt(normChar) : 0;
  for (let k = 0; k < ids.length; k++) values[k]! *= group[ids[k]!] === GROUP_CHAR ? scaleChar : scaleWord;
  return values;
}
