import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DatasetError } from '../../src/gate/errors.js';
import { parseLabel } from '../../src/core/labels.js';
import { parse } from 'csv-parse/sync';
import { seededRandom } from '../../src/gate/addNoise.js';
import { parseLabelledCsv, parseLabelledJsonl, parseSimpleCsv, readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
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

  it('lets a row leave off kind and weight: the dataset weighs a few rows without a column on every row', () => {
    const rows = parseLabelledCsv('text,label,kind,weight\nhow do i budget,finance\ni want to die,healthcare,crisis,3\n"is it, safe",healthcare,plain\n', 'x.csv');
    assert.deepEqual(rows, [
      { text: 'how do i budget', label: 'finance', line: 2 },
      { text: 'i want to die', label: 'healthcare', kind: 'crisis', weight: 3, line: 3 },
      { text: 'is it, safe', label: 'healthcare', kind: 'plain', line: 4 },
    ]);
    // The same through csv-parse (a CR sends the file there).
    assert.deepEqual(parseLabelledCsv('text,label,kind,weight\r\nhow do i budget,finance\r\ni want to die,healthcare,crisis,3\r\n', 'x.csv').map((r) => r.weight), [undefined, 3]);
  });

  it("maps the old service's query,expert header and expert names", () => {
    const rows = readLabelledCsv(path.join(FIXTURES, 'old_service.csv'));
    assert.deepEqual(
      rows.map((r) => r.label),
      ['healthcare', 'finance', 'cybersecurity', 'none'],
    );
    for (const [raw, label] of [['HealthcareExpert', 'healthcare'], ['general', 'none'], ['NONE', 'none'], ['Cyber-Security', 'cybersecurity'], ['banana', null]] as const) {
      assert.equal(parseLabel(raw), label, raw);
    }
  });

  it('names the line of each problem', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['question,answer\nhi,there\n', 1, /missing column text/],
      ['text,label\nfine row,finance\n"",healthcare\n', 3, /empty text/],
      ['text,label\nfine row,finance\nsecond,finance\nthird,banking\n', 4, /unknown label "banking"/],
      ['text,label\nfine row,finance\n"never closed,finance\nmore,none\n', 3, /never closed/],
      ['text,label\n"multi\nline row",finance\nbad,,extra\n', 4, /bad CSV/],
      ['text,label,kind,weight\nfine row,finance\nonly text\n', 3, /1 field where the header has 4 \(text,label,kind,weight\); only kind and weight may be left off/],
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

  it('names the line where an unclosed quote opened, not where csv-parse noticed', () => {
    const lines = ['text,label'];
    for (let line = 2; line <= 30; line++) {
      if (line === 21) lines.push('"never closed,finance');
      else if (line === 28) lines.push('he said "hi" there,none');
      else lines.push(`row number ${line},none`);
    }
    const err = lineOf(() => parseLabelledCsv(`${lines.join('\n')}\n`, 'x.csv'));
    assert.equal(err.line, 21, err.message);
    assert.match(err.message, /never closed/);
    // A stray quote closed on its own line is reported there, as a CSV error.
    const stray = lineOf(() => parseLabelledCsv('text,label\nfine,none\n"12" pizza,none\n', 'x.csv'));
    assert.equal(stray.line, 3, stray.message);
    assert.match(stray.message, /bad CSV/);
  });

  it('normalises text as it reads it: lone surrogates become U+FFFD, then NFC', () => {
    const csv = parseLabelledCsv('text,label\n"a\ud800b \udc00 ok \ud83d\ude00",none\ncafe\u0301 latte,none\n', 'x.csv');
    assert.deepEqual(csv.map((r) => r.text), ['a\ufffdb \ufffd ok \ud83d\ude00', 'caf\u00e9 latte']);
    const jsonl = parseLabelledJsonl('{"text":"lone \\ud800 here","label":"finance"}\n\n{"query":"cafe\u0301","expert":"HealthcareExpert","kind":"k","weight":2}\n', 'x.jsonl');
    assert.deepEqual(jsonl, [
      { text: 'lone \ufffd here', label: 'finance', line: 1 },
      { text: 'caf\u00e9', label: 'healthcare', kind: 'k', weight: 2, line: 3 },
    ]);
    for (const row of [...csv, ...jsonl]) assert.equal(Buffer.from(row.text, 'utf8').toString('utf8'), row.text, 'round-trips through UTF-8');
  });

  it('reads JSON Lines files and names the line of each problem', () => {
    const file = path.join(tempDir(), 'rows.jsonl');
    fs.writeFileSync(file, '{"text":"fever and chills","label":"healthcare"}\n{"text":"stock tips","label":"finance"}\n');
    assert.deepEqual(readLabelledCsv(file).map((r) => [r.text, r.label, r.line]), [['fever and chills', 'healthcare', 1], ['stock tips', 'finance', 2]]);
    const cases: Array<[string, number, RegExp]> = [
      ['{"text":"ok","label":"none"}\n{"text":"x",\n', 2, /not valid JSON/],
      ['{"text":"ok","label":"none"}\n\n["a"]\n', 3, /expected an object/],
      ['{"text":"ok","label":"banking"}\n', 1, /unknown label "banking"/],
      ['{"text":" ","label":"none"}\n', 1, /empty text/],
      ['\n\n', 1, /no rows/],
    ];
    for (const [text, line, message] of cases) {
      const err = lineOf(() => parseLabelledJsonl(text, 'x.jsonl'));
      assert.equal(err.line, line, `${JSON.stringify(text)}: ${err.message}`);
      assert.match(err.message, message);
    }
  });

  it('gives a clear error for a missing file', () => {
    const file = path.join(tempDir(), 'missing.csv');
    assert.throws(() => readLabelledCsv(file), (err: unknown) => err instanceof DatasetError && err.code === 'dataset_missing' && err.message.includes(file));
  });

  it('counts lines across quoted line breaks and blank lines, whatever the line ends', () => {
    const lines = ['text,label', '"two', 'lines",finance', '', 'fine,none', '"a ""quoted"" word",healthcare', 'oops,banking'];
    for (const eol of ['\n', '\r\n', '\r']) {
      const err = lineOf(() => parseLabelledCsv(lines.join(eol) + eol, 'x.csv'));
      assert.equal(err.line, 7, `${JSON.stringify(eol)}: ${err.message}`);
      assert.deepEqual(parseLabelledCsv(lines.slice(0, -1).join(eol) + eol, 'x.csv').map((r) => r.line), [2, 5, 6], JSON.stringify(eol));
    }
  });

  it('tolerates a BOM and CRLF line ends', () => {
    const file = path.join(tempDir(), 'bom.csv');
    fs.writeFileSync(file, '\ufefftext,label\r\nhello,none\r\nfever,healthcare\r\n');
    assert.deepEqual(readLabelledCsv(file).map((r) => [r.text, r.label, r.line]), [['hello', 'none', 2], ['fever', 'healthcare', 3]]);
  });

  it('reads the usual CSV by hand exactly as csv-parse does, and leaves it anything else', () => {
    /** csv-parse's records and the line each starts on (its line count at the record's end, less the line breaks in it). */
    const reference = (text: string): { record: string[]; line: number }[] | 'error' => {
      try {
        const parsed = parse(text, { bom: true, info: true, raw: true, skip_empty_lines: true, relax_column_count_less: true }) as unknown as { record: string[]; raw: string; info: { lines: number } }[];
        return parsed.map((r) => ({ record: r.record, line: r.info.lines - (r.raw.replace(/^[\r\n]+|[\r\n]+$/g, '').match(/\n/g)?.length ?? 0) }));
      } catch {
        return 'error';
      }
    };
    const random = seededRandom(5);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const texts: string[] = [fs.readFileSync(path.join(FIXTURES, 'small.csv'), 'utf8'), fs.readFileSync(path.join(FIXTURES, 'eval.csv'), 'utf8'), '', '\n\n', '\ufeffa,b\n1,2', 'a,b\n1,\n,\n'];
    // Well-formed files (fields quoted or not, "" inside, line breaks in quotes, blank lines, no final line end)…
    for (let k = 0; k < 300; k++) {
      const width = 1 + Math.floor(random() * 3);
      const lines = Array.from({ length: 1 + Math.floor(random() * 5) }, () => {
        if (random() < 0.1) return '';
        return Array.from({ length: width }, () => {
          const field = Array.from({ length: Math.floor(random() * 6) }, () => pick(['a', 'b', ' ', 'é', '😀', ',', '"', '\n'])).join('');
          return /[",\n]/.test(field) || random() < 0.3 ? `"${field.replace(/"/g, '""')}"` : field;
        }).join(',');
      });
      texts.push((random() < 0.2 ? '\ufeff' : '') + lines.join('\n') + (random() < 0.7 ? '\n' : ''));
    }
    // …and random text over the characters that matter.
    for (let k = 0; k < 3000; k++) texts.push(Array.from({ length: Math.floor(random() * 16) }, () => pick(['a', 'b', ',', '"', '""', '\n', '\r', ' ', '\ud83d', '\ude00', 'é'])).join(''));
    let simple = 0;
    for (const text of texts) {
      const fast = parseSimpleCsv(text);
      if (fast === null) continue;
      simple++;
      assert.deepEqual(fast, reference(text), JSON.stringify(text));
    }
    assert.ok(simple > 600, `only ${simple} of ${texts.length} read by hand`);
    assert.equal(parseSimpleCsv('a,b\r\n1,2\r\n'), null);
    assert.equal(parseSimpleCsv('a,b\n"1,2\n'), null);
    assert.equal(parseSimpleCsv('a,b\n1"x",2\n'), null);
    assert.equal(parseSimpleCsv('a,b\n1,2,3\n'), null);
  });
});
