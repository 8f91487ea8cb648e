import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DatasetError } from '../../src/gate/errors.js';
import { normalizeLabel, parseLabelledCsv, readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { FIXTURES, tempDir } from './helpers.js';

function lineOf(fn: () => unknown): { line: number | null; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DatasetError, `expected DatasetError, got ${String(err)}`);
    return { line: err.line, message: err.message };
  }
  assert.fail('expected an error');
}

describe('labelled CSV reading', () => {
  it('reads text,label with extra columns and kind', () => {
    const rows = readLabelledCsv(path.join(FIXTURES, 'eval.csv'));
    assert.equal(rows.length, 8);
    assert.deepEqual(rows[0], { text: 'my head hurts and i have a high fever', label: 'healthcare', kind: 'plain', line: 2 });
  });

  it("maps the old service's query,expert header and expert names", () => {
    const rows = readLabelledCsv(path.join(FIXTURES, 'old_service.csv'));
    assert.deepEqual(
      rows.map((r) => r.label),
      ['healthcare', 'finance', 'cybersecurity', 'none'],
    );
    for (const [raw, label] of [['HealthcareExpert', 'healthcare'], ['general', 'none'], ['NONE', 'none'], ['Cyber-Security', 'cybersecurity'], ['banana', null]] as const) {
      assert.equal(normalizeLabel(raw), label, raw);
    }
  });

  it('names the line of each problem', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['question,answer\nhi,there\n', 1, /missing column text/],
      ['text,label\nfine row,finance\n"",healthcare\n', 3, /empty text/],
      ['text,label\nfine row,finance\nsecond,finance\nthird,banking\n', 4, /unknown label "banking"/],
      ['text,label\nfine row,finance\n"never closed,finance\nmore,none\n', 3, /never closed/],
      ['text,label\n"multi\nline row",finance\nbad,,extra\n', 4, /bad CSV/],
      ['text,label\n', 2, /no rows/],
      ['', 1, /empty/],
    ];
    for (const [csv, line, message] of cases) {
      const err = lineOf(() => parseLabelledCsv(csv, 'x.csv'));
      assert.equal(err.line, line, `${JSON.stringify(csv)}: ${err.message}`);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`x.csv:${line}:`), err.message);
    }
  });

  it('gives a clear error for a missing file', () => {
    const file = path.join(tempDir(), 'missing.csv');
    assert.throws(() => readLabelledCsv(file), (err: unknown) => err instanceof DatasetError && err.code === 'dataset_missing' && err.message.includes(file));
  });

  it('tolerates a BOM and CRLF line ends', () => {
    const file = path.join(tempDir(), 'bom.csv');
    fs.writeFileSync(file, '\ufefftext,label\r\nhello,none\r\nfever,healthcare\r\n');
    assert.deepEqual(readLabelledCsv(file).map((r) => [r.text, r.label, r.line]), [['hello', 'none', 2], ['fever', 'healthcare', 3]]);
  });
});
