import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { seededRandom } from '../../src/gate/addNoise.js';
import { GateFileError } from '../../src/gate/errors.js';
import { Gate } from '../../src/gate/Gate.js';
import { loadActiveGate } from '../../src/learning/ActiveGate.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { trainGate, TrainingDataError } from '../../src/gate/trainGate.js';
import { LABELS, type RouteDecision } from '../../src/gate/types.js';
import { FIXTURES, tempDir } from './helpers.js';

const rows = readLabelledCsv(path.join(FIXTURES, 'small.csv'));
let gate: Gate;

function assertWellFormed(d: RouteDecision): void {
  const sum = LABELS.reduce((s, l) => s + d.probabilities[l], 0);
  assert.ok(Math.abs(sum - 1) < 1e-9, `probabilities sum to ${sum}`);
  for (const l of LABELS) assert.ok(d.probabilities[l] >= 0 && d.probabilities[l] <= 1);
  assert.equal(d.confidence, d.probabilities[d.label]);
  assert.equal(d.fallback, d.fallbackReason !== null);
  assert.equal(d.fallback, d.expert === 'general');
  assert.notEqual(d.runnerUp, d.expert);
  assert.equal(d.gateVersion, gate.version);
}

describe('gate training and routing', () => {
  before(() => {
    gate = trainGate(rows, { heldOutFraction: 0 }).gate;
  });

  it('routes clear questions of each domain to their expert', () => {
    const cases: Array<[string, string]> = [
      ['i have a fever and a headache, should i see a doctor', 'healthcare'],
      ['how do i pay less tax on my savings account interest', 'finance'],
      ['my email password was hacked by a phishing link', 'cybersecurity'],
    ];
    for (const [text, expert] of cases) {
      const d = gate.route(text);
      assertWellFormed(d);
      assert.equal(d.expert, expert, `${text} → ${JSON.stringify(d)}`);
      assert.equal(d.fallback, false);
    }
  });

  it('sends off-topic questions to the general fallback', () => {
    for (const text of ['tell me a joke about the weather', 'recommend a movie and some music for tonight']) {
      const d = gate.route(text);
      assertWellFormed(d);
      assert.equal(d.expert, 'general', `${text} → ${JSON.stringify(d)}`);
      assert.equal(d.fallback, true);
    }
  });

  it('copes with typos (character n-grams and one-edit spelling correction)', () => {
    assert.equal(gate.route('how do i creat a strong pasword').expert, 'cybersecurity');
    assert.equal(gate.route('what are the symptons of diabetis').expert, 'healthcare');
    assert.equal(gate.route('how shuold i save for retirment').expert, 'finance');
  });

  it('is more confident on a question full of domain words than on a vague one', () => {
    const clear = gate.route('phishing email hacked password malware ransomware firewall');
    const vague = gate.route('what should i do about it');
    assert.equal(clear.label, 'cybersecurity');
    assert.ok(clear.confidence > vague.confidence, `${clear.confidence} vs ${vague.confidence}`);
  });

  it('gives a decision, never a throw, for odd input', () => {
    const inputs = ['', '   ', '🤒🤒🤒', '¿Cómo está tu corazón? 心脏病', 'a'.repeat(100_000), 'fever '.repeat(20_000), '\u0000\uffff\ud800'];
    for (const text of inputs) {
      const d = gate.route(text);
      assertWellFormed(d);
    }
    const empty = gate.route('');
    assert.equal(empty.fallback, true);
    assert.equal(empty.fallbackReason, 'unsure');
    // Accents fold, so "fièvre"-style spelling of a known word still counts.
    assert.equal(gate.route('FEVER and HEADACHE, Doctor!!').expert, 'healthcare');
  });

  it('round-trips through its file and keeps every decision', () => {
    const dir = tempDir();
    const file = path.join(dir, 'nested', 'gate.json');
    gate.save(file);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['gate.json'], 'no temp file left behind');
    const loaded = Gate.load(file);
    assert.equal(loaded.version, gate.version);
    assert.match(loaded.version, /^g-\d{8}-\d{6}-[0-9a-f]{4}$/);
    for (const r of rows) {
      const a = gate.route(r.text);
      const b = loaded.route(r.text);
      assert.equal(b.expert, a.expert);
      for (const l of LABELS) assert.ok(Math.abs(a.probabilities[l] - b.probabilities[l]) < 1e-3);
    }
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const key of ['format', 'formatVersion', 'version', 'createdAt', 'labels', 'vocabulary', 'temperature', 'fallbackThreshold', 'metrics']) {
      assert.ok(key in json, `gate file has ${key}`);
    }
  });

  it('writes its file as JSON.stringify(toJSON()), byte for byte, whatever the numbers', () => {
    const dir = tempDir();
    const file = path.join(dir, 'gate.json');
    gate.save(file);
    assert.equal(fs.readFileSync(file, 'utf8'), JSON.stringify(gate.toJSON()));
    // Rounding edges (halves, ±0, the int32 limit of the fast path, huge values), and arrays longer than the
    // writer's 1 MiB buffer: 80k terms (a vocabulary of 1.2 MB) and 320k weights of every magnitude.
    const random = seededRandom(3);
    const edges = [0, -0, 4e-6, -4e-6, 5e-6, -5e-6, 1e-5, -1e-5, 1.5e-5, 0.1 + 0.2, 123.456789, -98765.4321, 21474.83647, -21474.83648, 1e12, -1e12, 0.99999999, 9.999995, 3, -3, 1e-7];
    const terms = 80_000;
    const idf = Array.from({ length: terms }, (_, i) => (i < edges.length ? edges[i]! : (random() - 0.5) * 10 ** (random() * 12 - 6)));
    const data = {
      ...gate.toJSON(),
      vocabulary: Array.from({ length: terms }, (_, i) => `w:term${i}`),
      idf,
      logProb: Array.from({ length: terms * LABELS.length }, (_, i) => idf[(i * 7919) % terms]! * (i % 3 === 0 ? -1 : 1)),
      logPrior: [1e-7, -5e-7, 0.1234565, -2147.4836475],
    };
    const odd = Gate.fromJSON(data, '(test)');
    odd.save(file);
    assert.equal(fs.readFileSync(file, 'utf8'), JSON.stringify(odd.toJSON()));
  });

  it('reports corrupt, incompatible and missing files clearly, naming the file', () => {
    const dir = tempDir();
    const good = path.join(dir, 'good.json');
    gate.save(good);
    const text = fs.readFileSync(good, 'utf8');
    const data = JSON.parse(text) as Record<string, unknown>;
    const cases: Array<[string, string, string]> = [
      ['truncated.json', text.slice(0, text.length / 2), 'gate_corrupt'],
      ['empty.json', '', 'gate_corrupt'],
      ['newer.json', JSON.stringify({ ...data, formatVersion: 99 }), 'gate_incompatible'],
      ['other.json', JSON.stringify({ hello: 'world' }), 'gate_incompatible'],
      ['labels.json', JSON.stringify({ ...data, labels: ['a', 'b', 'c', 'd'] }), 'gate_incompatible'],
      ['short.json', JSON.stringify({ ...data, logProb: (data.logProb as number[]).slice(1) }), 'gate_corrupt'],
      ['nan.json', JSON.stringify({ ...data, temperature: 'hot' }), 'gate_corrupt'],
    ];
    for (const [name, content, code] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      assert.throws(
        () => Gate.load(file),
        (err: unknown) => err instanceof GateFileError && err.code === code && err.message.includes(file),
        name,
      );
    }
    assert.throws(() => Gate.load(path.join(dir, 'nope.json')), (err: unknown) => err instanceof GateFileError && err.code === 'gate_missing');
    // A version written as a string is shown as written, not as the very version this build reads.
    const quoted = path.join(dir, 'quoted.json');
    fs.writeFileSync(quoted, JSON.stringify({ ...data, formatVersion: String(data.formatVersion) }));
    assert.throws(() => Gate.load(quoted), /format version "\d+" is not supported \(this build reads version \d+\)/);
  });

  it('refuses training data that lacks a label or has empty text', () => {
    assert.throws(() => trainGate(rows.filter((r) => r.label !== 'none')), TrainingDataError);
    assert.throws(() => trainGate([...rows, { text: '  ', label: 'finance' }]), /empty text/);
  });

  it('honours example weights', () => {
    // One heavy finance row against three plain healthcare rows of the same words: counted by weight finance wins,
    // counted by rows (weights ignored) healthcare would.
    const contested = (financeWeight: number) =>
      trainGate(
        [
          ...rows,
          { text: 'quantum zebra', label: 'finance', weight: financeWeight },
          ...Array.from({ length: 3 }, () => ({ text: 'quantum zebra', label: 'healthcare' as const })),
        ],
        { heldOutFraction: 0 },
      ).gate.route('quantum zebra');
    const heavy = contested(20);
    const light = contested(0.2);
    assert.equal(heavy.label, 'finance', JSON.stringify(heavy.probabilities));
    assert.equal(light.label, 'healthcare', JSON.stringify(light.probabilities));
    assert.ok(heavy.probabilities.finance > light.probabilities.finance);
  });

  it('measures held-out metrics and stores them in the gate', () => {
    const { gate: g, metrics } = trainGate(rows, { heldOutFraction: 0.4, seed: 3 });
    assert.ok(metrics.heldOut);
    assert.ok(metrics.testRows > 0 && metrics.calibrationRows > 0);
    assert.ok(metrics.temperature > 0);
    assert.ok(metrics.heldOut.accuracy >= 0 && metrics.heldOut.accuracy <= 1);
    assert.deepEqual(g.metrics, metrics);
  });

  it('loadActiveGate trains and saves the gate on first use, then loads it', async () => {
    const dir = tempDir();
    const config = { gatePath: path.join(dir, 'models', 'gate.json'), datasetPath: path.join(FIXTURES, 'small.csv') };
    const first = await loadActiveGate(config);
    assert.ok(fs.existsSync(config.gatePath));
    const second = await loadActiveGate(config);
    assert.equal(second.version, first.version);
  });
});
