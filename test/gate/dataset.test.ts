import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkDataset } from '../../scripts/checkDataset.js';
import { REPO, tempDir } from './helpers.js';

describe('dataset check', () => {
  it('data/dataset.csv has ≥1,000 rows per label, no duplicates and no one-word swaps', () => {
    const result = checkDataset(path.join(REPO, 'data', 'dataset.csv'));
    assert.deepEqual(result.problems, []);
    assert.ok(result.ok);
  });

  it('catches duplicates, one-word swaps and thin labels', () => {
    const file = path.join(tempDir(), 'd.csv');
    fs.writeFileSync(
      file,
      [
        'text,label',
        'How do I lower my blood pressure?',
        'how do i lower my blood pressure',
        'how do i lower my cholesterol level quickly',
        'how do i lower my sugar level quickly',
        'what is phishing',
        'what is inflation',
      ]
        .map((l, i) => (i === 0 ? l : `${l},${i < 5 ? 'healthcare' : 'finance'}`))
        .join('\n'),
    );
    const result = checkDataset(file, 2);
    assert.equal(result.ok, false);
    assert.deepEqual(result.duplicates.map((d) => d.lines), [[2, 3]]);
    assert.deepEqual(result.oneWordSwaps.map((d) => d.lines), [[4, 5]]);
    assert.ok(result.problems.some((p) => p.includes('cybersecurity has 0 rows')));
  });
});
