import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addNoise, seededRandom } from '../../src/gate/addNoise.js';
import { computeMetrics, expectedCalibrationError } from '../../src/gate/evaluate.js';
import { decide } from '../../src/gate/Gate.js';
import type { Label } from '../../src/gate/types.js';

// Probabilities in LABELS order: healthcare, finance, cybersecurity, none.
const row = (label: Label, probs: number[], kind?: string) => ({ label, kind, decision: decide(probs, 0.5, 'g-test') });

describe('evaluation metrics', () => {
  it('scores a none row right only when the gate falls back, and a domain row only when routed to it', () => {
    const m = computeMetrics([
      row('healthcare', [0.9, 0.05, 0.03, 0.02], 'plain'),
      row('healthcare', [0.3, 0.25, 0.25, 0.2], 'typo'), // unsure → fallback → wrong
      row('finance', [0.1, 0.8, 0.05, 0.05], 'plain'),
      row('none', [0.05, 0.05, 0.1, 0.8], 'offtopic'),
      row('none', [0.1, 0.7, 0.1, 0.1], 'offtopic'),
    ]);
    assert.equal(m.n, 5);
    assert.equal(m.accuracy, 3 / 5);
    assert.equal(m.fallbackRate, 2 / 5);
    assert.deepEqual(m.byLabel, { finance: { n: 1, accuracy: 1 }, healthcare: { n: 2, accuracy: 0.5 }, none: { n: 2, accuracy: 0.5 } });
    assert.deepEqual(m.byKind.offtopic, { n: 2, accuracy: 0.5 });
    assert.deepEqual(m.confusion, { healthcare: { healthcare: 1, none: 1 }, finance: { finance: 1 }, none: { none: 1, finance: 1 } });
    // F1: healthcare P=1 R=.5 → 2/3; finance P=.5 R=1 → 2/3; none P=.5 R=.5 → .5
    assert.ok(Math.abs(m.macroF1 - (2 / 3 + 2 / 3 + 0.5) / 3) < 1e-12);
  });

  it('computes ECE over 10 bins', () => {
    assert.ok(Math.abs(expectedCalibrationError([0.95, 0.95], [true, false]) - 0.45) < 1e-12);
    assert.ok(Math.abs(expectedCalibrationError([0.75, 0.75, 0.75, 0.75], [true, true, true, false])) < 1e-12);
    assert.equal(expectedCalibrationError([], []), 0);
  });

  it('adds reproducible noise that depends on the seed', () => {
    const text = 'how do i reset the password of my online banking account';
    assert.equal(addNoise(text, 0.1, seededRandom(1)), addNoise(text, 0.1, seededRandom(1)));
    assert.notEqual(addNoise(text, 0.1, seededRandom(1)), addNoise(text, 0.1, seededRandom(2)));
    assert.equal(addNoise(text, 0, seededRandom(1)), text);
    const noisy = addNoise(text.repeat(50), 0.1, seededRandom(7));
    let same = 0;
    for (let i = 0; i < Math.min(noisy.length, 200); i++) if (noisy[i] === text.repeat(50)[i]) same++;
    assert.ok(same < 200, 'noise changed something');
  });
});
