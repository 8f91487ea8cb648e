/**
 * The one tokenizer of the gate, for training and routing alike: text → normalised word tokens (natural's
 * RegexpTokenizer split) and their stems (natural's Porter stemmer, memoised; for ASCII words its exact port in
 * porterStemmer.ts, 8× faster). TokenSpans.scan is the tokenizer; tokenize() is its tokens as strings. ASCII text,
 * nearly all of it, takes a hand-written scan that splits as the RegexpTokenizer does (test/gate/training.test.ts
 * checks it against natural's): the regex path allocated a normalised copy, a split array and a filtered array per
 * text.
 */
import PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';
import tokenizers from 'natural/lib/natural/tokenizers/regexp_tokenizer.js';
import { isPlainAsciiWord, porterStemAscii } from './porterStemmer.js';

// Unicode-aware split: natural's default WordTokenizer drops accented and non-Latin letters.
const tokenizer = new tokenizers.RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

/** Longest token kept; longer runs (base64, hashes, 100 kB of "a") are cut so cost stays bounded. */
export const MAX_TOKEN_CHARS = 32;
const STEM_CACHE_LIMIT = 200_000;
const stemCache = new Map<string, string>();

function isDigits(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    // An ASCII character other than 0-9 is no \p{N}: only other scripts' digits need the regex.
    if (c < 48 || c > 57) return c >= 128 && /^\p{N}+$/u.test(word);
  }
  return word.length > 0;
}

/** The stem of a token: "#num" for a number, else its Porter stem. */
export function stemUncached(word: string): string {
  if (isDigits(word)) return '#num';
  return isPlainAsciiWord(word) ? porterStemAscii(word) : PorterStemmer.stem(word);
}

/** stemUncached, memoised. */
export function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = stemUncached(word);
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, s);
  }
  return s;
}

/** Lower-case, fold accents (café → cafe), keep letters/digits of any script. */
export function normalizeText(text: string): string {
  let t = text.toLowerCase();
  // Only pay for NFKD when there is something non-ASCII to fold.
  if (/[^\x00-\x7f]/.test(t)) t = t.normalize('NFKD').replace(/\p{M}+/gu, '');
  // "e-mail" / "wi-fi" / "it's" become one token: such joins are words, not separators.
  return /['’-]/.test(t) ? t.replace(/(\p{L})['’-](\p{L})/gu, '$1$2') : t;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** 1 for an ASCII letter (either case), 2 for a digit, 0 otherwise. */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 97; c <= 122; c++) ASCII_CLASS[c] = 1;
for (let c = 65; c <= 90; c++) ASCII_CLASS[c] = 1;
for (let c = 48; c <= 57; c++) ASCII_CLASS[c] = 2;

/** Lower case of an ASCII code (A-Z → a-z, others unchanged). */
const LOWER = new Uint8Array(128);
for (let c = 0; c < 128; c++) LOWER[c] = c >= 65 && c <= 90 ? c | 32 : c;

/**
 * Tokens as positions: the same tokens as tokenize(), but a plain token of ASCII text comes as its range in `text`
 * (`start[k]`..`end[k]`, still to be lower-cased) rather than as a new string, so a caller that looks tokens up can
 * skip building the strings it already knows. A token that is not such a slice (joined "e-mail", cut at
 * MAX_TOKEN_CHARS, or from non-ASCII text) comes as a string in `strings[k]`, with `start[k]` = -1. Either way the
 * scan also fingerprints each token: `hash[k]`, FNV-1a of its (lower-cased) characters, and its first eight
 * characters packed four to an int in `packed0[k]` / `packed1[k]` when they are all below 256 (`packable[k]` = 1).
 */
export class TokenSpans {
  start = new Int32Array(256);
  end = new Int32Array(256);
  hash = new Int32Array(256);
  packed0 = new Int32Array(256);
  packed1 = new Int32Array(256);
  packable = new Uint8Array(256);
  strings: string[] = [];
  length = 0;

  private reserve(): void {
    if (this.length < this.start.length) return;
    const cap = this.length * 2;
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const out = new Int32Array(cap);
      out.set(a);
      return out;
    };
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.hash = grow(this.hash);
    this.packed0 = grow(this.packed0);
    this.packed1 = grow(this.packed1);
    const packable = new Uint8Array(cap);
    packable.set(this.packable);
    this.packable = packable;
  }

  private pushString(token: string): void {
    this.reserve();
    let h = 0x811c9dc5;
    let p0 = 0;
    let p1 = 0;
    let packable = 1;
    for (let j = 0; j < token.length; j++) {
      const c = token.charCodeAt(j);
      h = Math.imul(h ^ c, 0x01000193);
      if (j < 8) {
        if (c > 255) packable = 0;
        if (j < 4) p0 |= c << (8 * j);
        else p1 |= c << (8 * (j - 4));
      }
    }
    const k = this.length++;
    this.start[k] = -1;
    this.end[k] = -1;
    this.hash[k] = h;
    this.packed0[k] = packable ? p0 : 0;
    this.packed1[k] = packable ? p1 : 0;
    this.packable[k] = packable;
    this.strings[k] = token;
  }

  /** Token k of the last scan of `text`, as a string. */
  token(text: string, k: number): string {
    const start = this.start[k]!;
    return start >= 0 ? text.slice(start, this.end[k]!).toLowerCase() : this.strings[k]!;
  }

  /** Tokenises `text`, replacing the previous content. */
  scan(text: string, maxTokens = 2_000): this {
    this.length = 0;
    if (NON_ASCII.test(text)) {
      for (const token of regexTokens(text, maxTokens)) this.pushString(token);
      return this;
    }
    const n = text.length;
    let lastJoin = -3;
    let i = 0;
    while (i < n && this.length < maxTokens) {
      while (i < n && ASCII_CLASS[text.charCodeAt(i)] === 0) i++;
      if (i >= n) break;
      const first = i;
      // The common case, a run of letters and digits: fingerprinted on the way.
      let h = 0x811c9dc5;
      let p0 = 0;
      let p1 = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (ASCII_CLASS[c] === 0) break;
        const lc = LOWER[c]!;
        h = Math.imul(h ^ lc, 0x01000193);
        const j = i - first;
        if (j < 4) p0 |= lc << (8 * j);
        else if (j < 8) p1 |= lc << (8 * (j - 4));
      }
      let start = first;
      let token = '';
      for (;;) {
        if (i + 1 < n && i - 1 >= lastJoin + 2) {
          const c = text.charCodeAt(i);
          if ((c === 39 || c === 45) && ASCII_CLASS[text.charCodeAt(i - 1)] === 1 && ASCII_CLASS[text.charCodeAt(i + 1)] === 1) {
            token += text.slice(start, i);
            lastJoin = i;
            i++;
            start = i;
            while (i < n && ASCII_CLASS[text.charCodeAt(i)] !== 0) i++;
            continue;
          }
        }
        break;
      }
      if (token === '' && i - first <= MAX_TOKEN_CHARS) {
        this.reserve();
        const k = this.length++;
        this.start[k] = first;
        this.end[k] = i;
        this.hash[k] = h;
        this.packed0[k] = p0;
        this.packed1[k] = p1;
        this.packable[k] = 1;
        this.strings[k] = '';
      } else {
        token = (token + text.slice(start, i)).toLowerCase();
        this.pushString(token.length > MAX_TOKEN_CHARS ? token.slice(0, MAX_TOKEN_CHARS) : token);
      }
    }
    return this;
  }
}

/** Tokens of non-ASCII text: normalise (accents, joins), split with natural's RegexpTokenizer, cut long tokens. */
function regexTokens(text: string, maxTokens: number): string[] {
  const out: string[] = [];
  for (const tok of tokenizer.tokenize(normalizeText(text))) {
    if (tok === '') continue;
    out.push(tok.length > MAX_TOKEN_CHARS ? tok.slice(0, MAX_TOKEN_CHARS) : tok);
    if (out.length >= maxTokens) break;
  }
  return out;
}

const scratch = new TokenSpans();

/**
 * Stop words are kept on purpose: with natural's list removed, 4-fold CV accuracy on data/dataset.csv fell by 1 point
 * and off-topic fallback on public_offtopic_none by 6 ("how do i make…" is how recipes start); IDF already
 * down-weights words that are everywhere. Returns the word tokens of a text, at most `maxTokens`: TokenSpans' tokens.
 */
export function tokenize(text: string, maxTokens = 2_000): string[] {
  const spans = scratch.scan(text, maxTokens);
  return Array.from({ length: spans.length }, (_, k) => spans.token(text, k));
}
