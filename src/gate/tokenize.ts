/** Text → normalised word tokens, with natural's tokenizer and Porter stemmer (memoised). */
import tokenizers from 'natural/lib/natural/tokenizers/regexp_tokenizer.js';
import PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';

// Unicode-aware split: natural's default WordTokenizer drops accented and non-Latin letters.
const tokenizer = new tokenizers.RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

/** Longest token kept; longer runs (base64, hashes, 100 kB of "a") are cut so cost stays bounded. */
export const MAX_TOKEN_CHARS = 32;
const STEM_CACHE_LIMIT = 200_000;
const stemCache = new Map<string, string>();

export function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = /^\p{N}+$/u.test(word) ? '#num' : PorterStemmer.stem(word);
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

/**
 * Stop words are kept on purpose: with natural's list removed, 4-fold CV accuracy on data/dataset.csv fell by 1 point
 * and off-topic fallback on public_offtopic_none by 6 ("how do i make…" is how recipes start); IDF already
 * down-weights words that are everywhere. Returns the word tokens of a text, at most `maxTokens`.
 */
export function tokenize(text: string, maxTokens = 2_000): string[] {
  const raw = tokenizer.tokenize(normalizeText(text));
  const out: string[] = [];
  for (const tok of raw) {
    if (tok === '') continue;
    out.push(tok.length > MAX_TOKEN_CHARS ? tok.slice(0, MAX_TOKEN_CHARS) : tok);
    if (out.length >= maxTokens) break;
  }
  return out;
}
