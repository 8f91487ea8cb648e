/**
 * The gate trained as shipped (data/dataset.csv) on the held-out parts of our urgent-health and mixed-domain sets,
 * which it never trains on. Thresholds sit a little under issue 14's targets (99%, 92%), so a regression fails CI.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Gate } from '../../src/gate/Gate.js';
import { normalizeForDuplicates } from '../../scripts/checkDataset.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { trainGate } from '../../src/gate/trainGate.js';
import { REPO } from './helpers.js';

const dataset = readLabelledCsv(path.join(REPO, 'data', 'dataset.csv'));
const urgent = readLabelledCsv(path.join(REPO, 'data', 'heldout', 'urgent_health.csv'));
const mixed = readLabelledCsv(path.join(REPO, 'data', 'heldout', 'mixed_domain.csv'));
let gate: Gate;

describe('held-out sets of our own', () => {
  before(() => {
    gate = trainGate(dataset).gate;
  });

  it('are held out: no row of either set is in the training data', () => {
    const trained = new Set(dataset.map((r) => normalizeForDuplicates(r.text)));
    for (const r of [...urgent, ...mixed]) assert.ok(!trained.has(normalizeForDuplicates(r.text)), r.text);
    assert.ok(urgent.length >= 50 && mixed.length >= 100, `${urgent.length} urgent, ${mixed.length} mixed rows`);
  });

  it('routes urgent health questions to healthcare, never to the fallback (≥ 97%; target 99%)', () => {
    const m = gate.evaluate(urgent);
    const wrong = urgent.filter((r) => gate.route(r.text).expert !== 'healthcare').map((r) => r.text);
    assert.ok(m.accuracy >= 0.97, `${(m.accuracy * 100).toFixed(1)}%; missed: ${wrong.join(' | ')}`);
    const fellBack = urgent.filter((r) => gate.route(r.text).fallback).map((r) => r.text);
    assert.deepEqual(fellBack, [], 'an urgent health question never goes to the general assistant');
  });

  // The shipped NB-LR gate reaches 92.9% (104 of 112): three rows of margin.
  it('routes mixed-domain questions by what the person needs (≥ 90%; target 92%)', () => {
    const m = gate.evaluate(mixed);
    assert.ok(m.accuracy >= 0.9, `${(m.accuracy * 100).toFixed(1)}%: ${JSON.stringify(m.confusion)}`);
  });
});
