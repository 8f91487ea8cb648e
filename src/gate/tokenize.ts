/** Text → normalised word tokens, with natural's tokenizer and Porter stemmer (memoised). */
import tokenizers from 'natural/lib/natural/tokenizers/regexp_tokenizer.js';
import PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';
import stopwordList from 'natural/lib/natural/util/stopwords.js';

// Unicode-aware split: natural's default WordTokenizer drops accented and non-Latin letters.
const tokenizer = new tokenizers.RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

/**
 * natural's English stop words, minus words that change meaning for routing. Negations ("no", "not" are not in
 * natural's list) stay; "t" from "don't" is dropped with the other single letters.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  ...stopwordList.words,
  'i', 'im', 'ive', 'id', 'll', 're', 've', 'don', 'doesn', 'didn', 'isn', 'aren', 'wasn', 'please', 'hi', 'hello', 'hey', 'thanks',
  'thank', 'just', 'really', 'anyone', 'someone', 'something', 'know', 'need', 'want', 'tell', 'us', 'will',
]);

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
  return t.replace(/(\p{L})['’-](\p{L})/gu, '$1$2');
}

/** Content-word tokens of a text (stop words removed), at most `maxTokens`. */
export function tokenize(text: string, maxTokens = 2_000): string[] {
  const raw = tokenizer.tokenize(normalizeText(text));
  const out: string[] = [];
  for (const tok of raw) {
    if (tok === '' || STOP_WORDS.has(tok)) continue;
    out.push(tok.length > MAX_TOKEN_CHARS ? tok.slice(0, MAX_TOKEN_CHARS) : tok);
    if (out.length >= maxTokens) break;
  }
  return out;
}
