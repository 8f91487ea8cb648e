/**
 * natural's Porter stemmer (natural 8.1.1, lib/natural/stemmers/porter_stemmer.js) for words of ASCII lower-case
 * letters and digits, step for step and quirk for quirk, without its regular expressions: natural's builds a dozen
 * strings and regex matches per word, which was a sixth of `moe train` on 50k rows (58k distinct words, 5.5 µs each).
 * Same output for every such word (test/gate/porterStemmer.test.ts compares them); other words go to natural's.
 *
 * natural's own quirks kept on purpose, since the gate's terms are its stems: its "measure" is the length of the
 * consonant/vowel pattern (which can be odd, e.g. 0.5 for "syo") over two, step 2 and step 3 apply every suffix rule
 * whose condition holds on the word as it came in, one after another, and step 5a's *o test reads the letters before
 * the last one.
 */

/** 1 for a, e, i, o, u. */
const VOWEL = new Uint8Array(128);
for (const c of 'aeiou') VOWEL[c.charCodeAt(0)] = 1;
const Y = 121;

/** Whether `word` is all ASCII lower-case letters and digits (the words this module stems). */
export function isPlainAsciiWord(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) return false;
  }
  return true;
}

/** A consonant for the groups (natural's [^aeiouy]): not a vowel and not y. */
function isConsonant(c: number): boolean {
  return VOWEL[c] !== 1 && c !== Y;
}

/**
 * natural's categorizeGroups(w[0, end)) reduced to what is read of it: runs of consonants followed by y become "CV",
 * runs of vowels "V" (not merged with that V), every other run "C". Returns natural's measure of it (-1 for the
 * empty word): its length, less a leading C and then a trailing V, over two; with `vowelsOnly`, its number of Vs.
 */
function groups(w: string, end: number, vowelsOnly: boolean): number {
  if (end <= 0) return vowelsOnly ? 0 : -1;
  let length = 0;
  let vowels = 0;
  let firstIsC = false;
  let lastIsV = false;
  // Whether the last symbol is a C (consecutive Cs merge into one).
  let inC = false;
  let i = 0;
  while (i < end) {
    const ch = w.charCodeAt(i);
    if (VOWEL[ch] === 1) {
      i++;
      while (i < end && VOWEL[w.charCodeAt(i)] === 1) i++;
      length++;
      vowels++;
      inC = false;
      lastIsV = true;
      continue;
    }
    let yAfterRun = false;
    if (ch === Y) i++;
    else {
      i++;
      while (i < end && isConsonant(w.charCodeAt(i))) i++;
      if (i < end && w.charCodeAt(i) === Y) {
        yAfterRun = true;
        i++;
      }
    }
    if (!inC) {
      if (length === 0) firstIsC = true;
      length++;
    }
    if (yAfterRun) {
      length++;
      vowels++;
      inC = false;
      lastIsV = true;
    } else {
      inC = true;
      lastIsV = false;
    }
  }
  if (vowelsOnly) return vowels;
  if (firstIsC) length--;
  if (lastIsV && length > 0) length--;
  return length / 2;
}

function measure(w: string, end = w.length): number {
  return groups(w, end, false);
}

function hasVowelGroup(w: string, end: number): boolean {
  return groups(w, end, true) > 0;
}

/** natural's categorizeChars(w): per letter C or V, a consonant before y making "CV". */
function categorizeChars(w: string): string {
  let out = '';
  for (let i = 0; i < w.length; i++) {
    const ch = w.charCodeAt(i);
    if (isConsonant(ch) && i + 1 < w.length && w.charCodeAt(i + 1) === Y) {
      out += 'CV';
      i++;
    } else out += VOWEL[ch] === 1 ? 'V' : 'C';
  }
  return out;
}

function step1a(w: string): string {
  if (w.endsWith('sses') || w.endsWith('ies')) return w.slice(0, -2);
  if (w.length > 2 && w.charCodeAt(w.length - 1) === 115 && w.charCodeAt(w.length - 2) !== 115) return w.slice(0, -1);
  return w;
}

function step1b(w: string): string {
  if (w.endsWith('eed')) return measure(w, w.length - 3) > 0 ? w.slice(0, -1) : w;
  const cut = w.endsWith('ed') ? 2 : w.endsWith('ing') ? 3 : 0;
  if (cut === 0 || w.length === cut) return w;
  const t = w.slice(0, -cut);
  if (!hasVowelGroup(t, t.length)) return w;
  if (t.endsWith('at') || t.endsWith('bl') || t.endsWith('iz')) return `${t}e`;
  const last = t.charCodeAt(t.length - 1);
  // natural: /([^aeiou])\1$/ and /[^lsz]$/
  if (t.length >= 2 && last === t.charCodeAt(t.length - 2) && VOWEL[last] !== 1 && last !== 108 && last !== 115 && last !== 122) return t.slice(0, -1);
  if (measure(t) === 1 && categorizeChars(t).endsWith('CVC') && last !== 119 && last !== 120 && last !== Y) return `${t}e`;
  return t;
}

function step1c(w: string): string {
  if (w.charCodeAt(w.length - 1) !== Y) return w;
  // natural: the groups without their last symbol have a V. After a consonant the y is the V of a final "CV", so the
  // Vs before that run count; otherwise the last symbol is a C and every V counts.
  let end = w.length;
  if (end >= 2 && isConsonant(w.charCodeAt(end - 2))) {
    end--;
    while (end > 0 && isConsonant(w.charCodeAt(end - 1))) end--;
  }
  return hasVowelGroup(w, end) ? `${w.slice(0, -1)}i` : w;
}

/** Rules [suffix, replacement]. */
type Rules = ReadonlyArray<readonly [string, string]>;

/** natural's rules of step 2 and step 3. */
const STEP2: Rules = [
  ['ational', 'ate'], ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['izer', 'ize'], ['abli', 'able'], ['bli', 'ble'],
  ['alli', 'al'], ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous'], ['ization', 'ize'], ['ation', 'ate'], ['ator', 'ate'],
  ['alism', 'al'], ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous'], ['aliti', 'al'], ['iviti', 'ive'],
  ['biliti', 'ble'], ['logi', 'log'],
];
const STEP3: Rules = [
  ['icate', 'ic'], ['ative', ''], ['alize', 'al'], ['iciti', 'ic'], ['ical', 'ic'], ['ful', ''], ['ness', ''],
];

/** Rules by the last letter of their suffix, in their order: a word only needs those ending in its own last letter. */
function byLastLetter(rules: Rules): Rules[] {
  const out: Array<Array<readonly [string, string]>> = Array.from({ length: 128 }, () => []);
  for (const rule of rules) out[rule[0].charCodeAt(rule[0].length - 1)]!.push(rule);
  return out;
}

const STEP2_BY_LAST = byLastLetter(STEP2);
const STEP3_BY_LAST = byLastLetter(STEP3);

/** natural's replacePatterns with measure threshold 0: each rule whose stem (on the word as given) has m > 0 applies in turn. */
function replacePatterns(w: string, rulesByLast: readonly Rules[]): string {
  const rules = rulesByLast[w.charCodeAt(w.length - 1)];
  if (rules === undefined) return w;
  let out = w;
  for (const [suffix, replacement] of rules) {
    if (!w.endsWith(suffix) || !(measure(w, w.length - suffix.length) > 0)) continue;
    if (out.endsWith(suffix)) {
      const next = out.slice(0, out.length - suffix.length) + replacement;
      if (next !== '') out = next;
    }
  }
  return out;
}

const STEP4 = byLastLetter(
  ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ou', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize'].map((s) => [s, ''] as const),
);

function step4(w: string): string {
  // natural: /^(.+?)(al|…|ize)$/ keeps the shortest non-empty prefix, i.e. drops the longest suffix of the list.
  let longest = 0;
  for (const [s] of STEP4[w.charCodeAt(w.length - 1)] ?? []) if (s.length > longest && s.length < w.length && w.endsWith(s)) longest = s.length;
  if (longest > 0 && measure(w, w.length - longest) > 1) return w.slice(0, -longest);
  if (w.length > 4 && (w.endsWith('sion') || w.endsWith('tion')) && measure(w, w.length - 3) > 1) return w.slice(0, -3);
  return w;
}

function step5a(w: string): string {
  if (w.charCodeAt(w.length - 1) !== 101) return w;
  const m = measure(w, w.length - 1);
  if (m > 1) return w.slice(0, -1);
  if (m !== 1) return w;
  // natural: categorizeChars(w).substr(-4, 3) === 'CVC' && /[^wxy].$/
  const cats = categorizeChars(w);
  const from = Math.max(cats.length - 4, 0);
  const cvc = cats.slice(from, from + 3) === 'CVC';
  const before = w.length >= 2 ? w.charCodeAt(w.length - 2) : -1;
  const o = cvc && before !== -1 && before !== 119 && before !== 120 && before !== Y;
  return o ? w : w.slice(0, -1);
}

function step5b(w: string): string {
  return w.endsWith('ll') && measure(w) > 1 ? w.slice(0, -1) : w;
}

/** natural's PorterStemmer.stem for a word of ASCII lower-case letters and digits (isPlainAsciiWord). */
export function porterStemAscii(word: string): string {
  if (word.length < 3) return word;
  return step5b(step5a(step4(replacePatterns(replacePatterns(step1c(step1b(step1a(word))), STEP2_BY_LAST), STEP3_BY_LAST))));
}
