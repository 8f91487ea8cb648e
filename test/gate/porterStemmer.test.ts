/**
 * The Porter stemmer port (src/gate/porterStemmer.ts) against natural's, word for word: the gate's terms are natural's
 * stems, so a single difference would change what a trained gate means.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';
import { seededRandom } from '../../src/gate/addNoise.js';
import { isPlainAsciiWord, porterStemAscii } from '../../src/gate/porterStemmer.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { stem, tokenize } from '../../src/gate/tokenize.js';
import { FIXTURES, REPO } from './helpers.js';

/** Words where the port and natural's disagree, as "word: natural → port" (at most 10). */
function differences(words: Iterable<string>): string[] {
  const out: string[] = [];
  for (const w of words) {
    const want = PorterStemmer.stem(w);
    const got = porterStemAscii(w);
    if (got !== want && out.push(`${w}: ${want} → ${got}`) >= 10) break;
  }
  return out;
}

describe('Porter stemmer port', () => {
  it('stems every word of our dataset and the fixtures as natural does', () => {
    const words = new Set<string>();
    for (const file of [path.join(REPO, 'data', 'dataset.csv'), ...['small.csv', 'eval.csv', 'old_service.csv'].map((f) => path.join(FIXTURES, f))]) {
      for (const row of readLabelledCsv(file)) for (const w of tokenize(row.text)) if (isPlainAsciiWord(w)) words.add(w);
    }
    assert.ok(words.size > 5_000, `only ${words.size} words`);
    assert.deepEqual(differences(words), []);
  });

  it('stems every word of up to four letters over an alphabet that reaches each rule, and them with each suffix', () => {
    // Vowels, y (a vowel after a consonant), the letters the rules test (l s z w x), a double consonant's t and d.
    const letters = 'aeiyobsltdzwx';
    const words: string[] = [];
    const grow = (prefix: string, depth: number): void => {
      if (prefix) words.push(prefix);
      if (depth > 0) for (const c of letters) grow(prefix + c, depth - 1);
    };
    grow('', 4);
    const suffixes = ['sses', 'ies', 's', 'eed', 'ed', 'ing', 'y', 'ational', 'tional', 'enci', 'izer', 'abli', 'bli', 'alli', 'entli', 'eli', 'ousli', 'ization', 'ation', 'ator', 'alism', 'iveness', 'fulness', 'aliti', 'biliti', 'logi', 'icate', 'ative', 'alize', 'iciti', 'ical', 'ful', 'ness', 'ance', 'ement', 'ment', 'ible', 'ism', 'iti', 'ous', 'ive', 'ize', 'sion', 'tion', 'e', 'll'];
    const short = words.filter((w) => w.length <= 3);
    assert.deepEqual(differences([...words, ...short.flatMap((w) => suffixes.map((s) => w + s))]), []);
  });

  it('stems random words of letters and digits as natural does', () => {
    const random = seededRandom(14);
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const words = Array.from({ length: 50_000 }, () => Array.from({ length: 1 + Math.floor(random() * 14) }, () => chars[Math.floor(random() * chars.length)]!).join(''));
    assert.deepEqual(differences(words), []);
  });

  it('leaves other words to natural, and numbers to #num', () => {
    assert.equal(isPlainAsciiWord('caresses'), true);
    assert.equal(isPlainAsciiWord('Caresses'), false);
    assert.equal(isPlainAsciiWord('café'), false);
    for (const w of ['naïve', 'corazón', 'relational', 'caresses']) assert.equal(stem(w), PorterStemmer.stem(w));
    assert.equal(stem('2024'), '#num');
    assert.equal(stem('\u0662\u0660\u0662\u0664'), '#num', 'Arabic-Indic digits are a number too');
    assert.equal(stem('1\u00b2'), '#num');
    assert.equal(stem('12a'), PorterStemmer.stem('12a'));
  });
});
