/**
 * The fast training path against plain references: the tokenizer's ASCII scan against natural's RegexpTokenizer,
 * the hashed spelling index against a Map, the whole trained model against a direct re-computation of the
 * features and complement NB sums with strings and Maps, and NB-LR's fit against its own loss.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import tokenizers from 'natural/lib/natural/tokenizers/regexp_tokenizer.js';
import { addNoise, seededRandom } from '../../src/gate/addNoise.js';
import { charBuckets, DEFAULT_FEATURE_OPTIONS, PairTable, SpellIndex, TWO_EDIT_MIN_LENGTH } from '../../src/gate/featurize.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { MAX_TOKEN_CHARS, normalizeText, stem, tokenize, TokenSpans } from '../../src/gate/tokenize.js';
import { trainGate } from '../../src/gate/trainGate.js';
import { LABELS, type TrainingExample } from '../../src/gate/types.js';
import { DEFAULT_NB_LR_OPTIONS, NbLrFit, type SparseRows } from '../../src/gate/nbLogisticRegression.js';
import { FIXTURES, REPO } from './helpers.js';

const regexTokenizer = new tokenizers.RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

/** tokenize() as it was: normalise, split with natural's RegexpTokenizer, cut long tokens. */
function regexTokenize(text: string, maxTokens = 2_000): string[] {
  const out: string[] = [];
  for (const tok of regexTokenizer.tokenize(normalizeText(text))) {
    if (tok === '') continue;
    out.push(tok.length > MAX_TOKEN_CHARS ? tok.slice(0, MAX_TOKEN_CHARS) : tok);
    if (out.length >= maxTokens) break;
  }
  return out;
}

const datasetTexts = readLabelledCsv(path.join(REPO, 'data', 'dataset.csv')).map((r) => r.text);

const ODD_TEXTS = [
  '',
  '   ',
  "it's an e-mail about wi-fi, a-b-c and ab-c-d; x'-y -z- 'q' don't",
  "rock'n'roll re-re-entry co--op a-1 1-a",
  'FEVER and HEADACHE, Doctor!! COVID19 2fa 24/7',
  '¿Cómo está tu corazón? 心脏病 naïve café',
  '🤒🤒🤒 \u0000\uffff\ud800',
  'a'.repeat(100),
  `${'word '.repeat(2_100)}end`,
  'supercalifragilisticexpialidocious-antidisestablishmentarianism',
];

describe('fast training path', () => {
  it('tokenizes like the regex tokenizer, as strings and as spans', () => {
    const random = seededRandom(5);
    const alphabet = "ab-'' -c1Z9 ’é.,x--y'z";
    const generated = Array.from({ length: 3_000 }, () => {
      let s = '';
      for (let i = Math.floor(random() * 20); i > 0; i--) s += alphabet[Math.floor(random() * alphabet.length)];
      return s;
    });
    const spans = new TokenSpans();
    for (const text of [...ODD_TEXTS, ...generated, ...datasetTexts.slice(0, 2_000)]) {
      const expected = regexTokenize(text);
      assert.deepEqual(tokenize(text), expected, JSON.stringify(text.slice(0, 60)));
      spans.scan(text);
      const fromSpans = Array.from({ length: spans.length }, (_, k) => (spans.start[k]! >= 0 ? text.slice(spans.start[k], spans.end[k]).toLowerCase() : spans.strings[k]!));
      assert.deepEqual(fromSpans, expected, JSON.stringify(text.slice(0, 60)));
    }
  });

  it('stems numbers to one token', () => {
    assert.equal(stem('12345'), '#num');
    assert.equal(stem('passwords'), stem('password'));
  });

  it('corrects spelling like a Map of each word and its one-letter deletions (two for long words)', () => {
    const counts = new Map<string, number>();
    for (const text of datasetTexts) for (const w of tokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const lexicon = [...counts].filter(([, c]) => c >= 2).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
    const index = new SpellIndex(lexicon);
    const reference = new Map<string, string>();
    for (const w of lexicon) {
      if (w.length < index.minLength) continue;
      if (!reference.has(w)) reference.set(w, w);
      for (let i = 0; i < w.length; i++) {
        const d = w.slice(0, i) + w.slice(i + 1);
        if (!reference.has(d)) reference.set(d, w);
      }
    }
    const correct = (word: string): string | null => {
      if (word.length < index.minLength) return null;
      const direct = reference.get(word);
      if (direct !== undefined) return direct;
      for (let i = 0; i < word.length; i++) {
        const hit = reference.get(word.slice(0, i) + word.slice(i + 1));
        if (hit !== undefined) return hit;
      }
      if (word.length < TWO_EDIT_MIN_LENGTH) return null;
      for (let i = 0; i < word.length; i++) {
        const shorter = word.slice(0, i) + word.slice(i + 1);
        for (let j = 0; j < shorter.length; j++) {
          const hit = reference.get(shorter.slice(0, j) + shorter.slice(j + 1));
          if (hit !== undefined) return hit;
        }
      }
      return null;
    };
    const random = seededRandom(3);
    let hits = 0;
    for (const w of lexicon) {
      for (const q of [w, addNoise(w, 0.2, random), `${w}x`, w.slice(1), `${w.slice(0, 2)}${w.slice(3)}`, `x${w.slice(0, 3)}${w.slice(4)}y`]) {
        const expected = correct(q);
        if (expected !== null) hits++;
        assert.equal(index.correct(q), expected, q);
      }
    }
    assert.ok(hits > 1_000, `${hits} corrections exercised`);
  });

  it('keeps pairs in its pair table through regrowth', () => {
    const table = new PairTable(4);
    for (let i = 0; i < 5_000; i++) assert.equal(table.setIfAbsent(i % 97, i, i * 3), i * 3);
    for (let i = 0; i < 5_000; i++) assert.equal(table.setIfAbsent(i % 97, i, -5), i * 3);
    for (let i = 0; i < 5_000; i++) assert.equal(table.get(i % 97, i), i * 3);
    assert.equal(table.get(1, 0), -1);
    assert.equal(table.size, 5_000);
  });

  it('trains the model a direct computation gives (vocabulary, idf, complement NB log-probabilities)', () => {
    const rows: TrainingExample[] = [
      ...readLabelledCsv(path.join(FIXTURES, 'small.csv')),
      // Counts past 255 of one term in a document, joined words, accents and other scripts, weights.
      { text: `${'tax '.repeat(400)}refund`, label: 'finance' },
      { text: `${'fever '.repeat(300)}and a headache`, label: 'healthcare', weight: 2 },
      { text: "my e-mail pass-word was phished, it's the wi-fi", label: 'cybersecurity', weight: 0.5 },
      { text: 'Café naïve résumé 心脏病 сердце', label: 'none' },
    ];
    const { gate } = trainGate(rows, { heldOutFraction: 0.2, seed: 4, model: 'complement-nb' });
    const reference = referenceModel(rows, { p: 0.08, weight: 0.5 }, 4);
    assert.deepEqual(gate.vocabulary, reference.vocabulary);
    const model = gate as unknown as { idf: Float64Array; logProb: Float64Array; logPrior: Float64Array };
    assert.deepEqual(Array.from(model.idf), reference.idf);
    assert.deepEqual(Array.from(model.logPrior), Array(LABELS.length).fill(-Math.log(LABELS.length)));
    // The gate sums in float32 per cross-fitting part; the reference in float64 over all rows.
    for (let i = 0; i < reference.logProb.length; i++) {
      assert.ok(Math.abs(model.logProb[i]! - reference.logProb[i]!) < 1e-5 * Math.max(1, Math.abs(reference.logProb[i]!)), `logProb[${i}] ${model.logProb[i]} vs ${reference.logProb[i]}`);
    }
  });
});

describe('NB-LR', () => {
  it('starts as the NB log-count-ratio model and lowers the weighted training loss from there', () => {
    // Two classes, three features: feature 0 says class 0, feature 1 class 1, feature 2 is shared but, in the rows
    // that carry it, mostly class 1 — NB's ratios undercount it, the regression learns it.
    const docs: Array<[number[], number[], number]> = [];
    for (let i = 0; i < 40; i++) docs.push([[0], [1], 0], [[1], [1], 1], [[0, 2], [0.5, 0.8], 1], [[2], [1], i % 4 === 0 ? 0 : 1]);
    const offsets = [0];
    const ids: number[] = [];
    const values: number[] = [];
    for (const [f, x] of docs) {
      ids.push(...f);
      values.push(...x);
      offsets.push(ids.length);
    }
    const rows: SparseRows = { ids: Int32Array.from(ids), values: Float64Array.from(values), range: (d) => [offsets[d]!, offsets[d + 1]!] };
    const labels = Int32Array.from(docs.map((d) => d[2]));
    const weights = new Float64Array(docs.length).fill(1);
    const ratios = Float64Array.from([1.5, -1.5, 0.2, -0.2, -0.3, 0.3]);
    const loss = (fit: NbLrFit): number => {
      const linear = fit.linear();
      let total = 0;
      docs.forEach(([f, x, y]) => {
        const z = [fit.bias[0]!, fit.bias[1]!];
        f.forEach((id, j) => {
          z[0]! += x[j]! * linear[id * 2]!;
          z[1]! += x[j]! * linear[id * 2 + 1]!;
        });
        const max = Math.max(z[0]!, z[1]!);
        total += max + Math.log(Math.exp(z[0]! - max) + Math.exp(z[1]! - max)) - z[y]!;
      });
      return total / docs.length;
    };
    const fit = new NbLrFit(ratios, 2);
    assert.deepEqual(Array.from(fit.linear()), Array.from(ratios), 'multipliers start at 1: the NB model');
    const before = loss(fit);
    fit.train(rows, Int32Array.from(docs.keys()), labels, weights, DEFAULT_NB_LR_OPTIONS, 5, seededRandom(1));
    const after = loss(fit);
    assert.ok(after < before * 0.8, `loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
    // A row of weight 0 teaches nothing.
    const idle = new NbLrFit(ratios, 2);
    idle.train(rows, Int32Array.from(docs.keys()), labels, new Float64Array(docs.length), DEFAULT_NB_LR_OPTIONS, 3, seededRandom(1));
    assert.deepEqual(Array.from(idle.linear()), Array.from(ratios));
    // Nor does a row lighter than minRowWeight (a capped user's flood teaches through the NB counts only).
    const light = new NbLrFit(ratios, 2);
    light.train(rows, Int32Array.from(docs.keys()), labels, new Float64Array(docs.length).fill(DEFAULT_NB_LR_OPTIONS.minRowWeight * 0.9), DEFAULT_NB_LR_OPTIONS, 3, seededRandom(1));
    assert.deepEqual(Array.from(light.linear()), Array.from(ratios));
  });
});

describe('example weights', () => {
  // The same made-up question under two labels: the heavier label must win, and swapping the weights must swap the
  // route. A fit that ignored weights would route both gates the same way.
  const small = readLabelledCsv(path.join(FIXTURES, 'small.csv')).map(({ text, label }) => ({ text, label }));
  const texts = ['my zorblat wants a kreplon code again', 'zorblat kreplon reset keeps failing', 'the kreplon on my zorblat expired today', 'zorblat asks for the kreplon every morning'];
  const conflicting = (cyber: number, finance: number): TrainingExample[] =>
    texts.flatMap((text) => [
      { text, label: 'cybersecurity' as const, weight: cyber },
      { text, label: 'finance' as const, weight: finance },
    ]);
  for (const model of ['nb-lr', 'complement-nb'] as const) {
    it(`decide between conflicting labels (${model})`, () => {
      const probe = 'why does my zorblat keep asking for a kreplon';
      const toCyber = trainGate([...small, ...conflicting(3, 1)], { model, heldOutFraction: 0 }).gate.route(probe);
      const toFinance = trainGate([...small, ...conflicting(1, 3)], { model, heldOutFraction: 0 }).gate.route(probe);
      assert.equal(toCyber.label, 'cybersecurity', JSON.stringify(toCyber.probabilities));
      assert.equal(toFinance.label, 'finance', JSON.stringify(toFinance.probabilities));
    });
  }
});

/**
 * The final model trainGate should produce, computed directly: terms as strings ("w:stem", "c#bucket",
 * "b:stem stem") counted per document with Maps, the rows then their seeded noisy copies; terms in ≥ 2 documents
 * kept in canonical order (buckets ascending, then words and bigrams in first-seen order); sublinear tf × smooth idf,
 * l2-normalised per group; complement NB with alpha 0.1.
 */
function referenceModel(rows: TrainingExample[], augment: { p: number; weight: number }, seed: number): { vocabulary: string[]; idf: number[]; logProb: number[] } {
  const random = seededRandom(seed + 7919);
  const docs = [
    ...rows.map((r) => ({ text: r.text, label: LABELS.indexOf(r.label), weight: r.weight ?? 1 })),
    ...rows.map((r) => ({ text: addNoise(r.text, augment.p, random), label: LABELS.indexOf(r.label), weight: (r.weight ?? 1) * augment.weight })),
  ];
  const firstSeen = new Map<string, number>();
  const see = (term: string): void => {
    if (!firstSeen.has(term)) firstSeen.set(term, firstSeen.size);
  };
  const counted = docs.map((d) => {
    const tokens = tokenize(d.text);
    const counts = new Map<string, number>();
    const add = (term: string): void => {
      counts.set(term, (counts.get(term) ?? 0) + 1);
    };
    for (const t of tokens) {
      see(`w:${stem(t)}`);
      add(`w:${stem(t)}`);
      for (const b of charBuckets(t, DEFAULT_FEATURE_OPTIONS)) add(`c#${b}`);
    }
    for (let i = 1; i < tokens.length; i++) {
      const term = `b:${stem(tokens[i - 1]!)} ${stem(tokens[i]!)}`;
      see(term);
      add(term);
    }
    return counts;
  });
  const df = new Map<string, number>();
  for (const counts of counted) for (const term of counts.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const kept = [...df].filter(([, n]) => n >= 2).map(([term]) => term);
  const chars = kept.filter((t) => t.startsWith('c#')).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
  const words = kept.filter((t) => !t.startsWith('c#')).sort((a, b) => firstSeen.get(a)! - firstSeen.get(b)!);
  const vocabulary = [...chars, ...words];
  const featureOf = new Map(vocabulary.map((t, f) => [t, f]));
  const idf = vocabulary.map((t) => Math.log((1 + docs.length) / (1 + df.get(t)!)) + 1);
  const c = LABELS.length;
  const sums = new Float64Array(vocabulary.length * c);
  const mass = new Float64Array(c);
  counted.forEach((counts, d) => {
    const entries = [...counts].filter(([term]) => featureOf.has(term)).map(([term, n]) => ({ f: featureOf.get(term)!, x: (1 + Math.log(n)) * idf[featureOf.get(term)!]!, char: term.startsWith('c#') }));
    const norm = (char: boolean): number => Math.sqrt(entries.filter((e) => e.char === char).reduce((s, e) => s + e.x * e.x, 0));
    const normChar = norm(true);
    const normWord = norm(false);
    for (const e of entries) {
      const x = (e.x / (e.char ? normChar : normWord)) * docs[d]!.weight;
      sums[e.f * c + docs[d]!.label]! += x;
      mass[docs[d]!.label]! += x;
    }
  });
  const alpha = 0.1;
  const total = mass.reduce((a, b) => a + b, 0);
  const logProb: number[] = [];
  for (let f = 0; f < vocabulary.length; f++) {
    let featureTotal = 0;
    for (let j = 0; j < c; j++) featureTotal += sums[f * c + j]!;
    for (let j = 0; j < c; j++) logProb.push(Math.log(total - mass[j]! + alpha * vocabulary.length) - Math.log(featureTotal - sums[f * c + j]! + alpha));
  }
  return { vocabulary, idf, logProb };
}
