/**
 * Reads labelled rows: `text,label` (or the old service's `query,expert`) CSV files, and JSON Lines files of
 * `{"text", "label", "kind"?, "weight"?}`; every problem names the file and line.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DatasetError } from './errors.js';
import { parseLabel } from '../core/labels.js';
import { LABELS, type TrainingExample } from './types.js';

export interface LabelledRow extends TrainingExample {
  /** 1-based line of the file where the row starts. */
  line: number;
}

/**
 * Line where the quoted field that csv-parse choked on opened: the first quote at the start of a field that is never
 * closed, or is closed by a quote not followed by a comma or a line end. csv-parse reports where it noticed (the end of
 * the file, or a quote many lines on), not where the mistake is.
 */
function openQuoteLine(text: string): number | null {
  let line = 1;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (fieldStart && ch === 34) {
      const openedAt = line;
      for (i++; ; i++) {
        if (i >= text.length) return openedAt;
        const c = text.charCodeAt(i);
        if (c === 10) line++;
        else if (c === 34) {
          if (text.charCodeAt(i + 1) === 34) i++;
          else break;
        }
      }
      const next = text.charCodeAt(i + 1);
      if (i + 1 < text.length && next !== 44 && next !== 10 && next !== 13) return openedAt;
      fieldStart = false;
      continue;
    }
    if (ch === 10) line++;
    fieldStart = ch === 44 || ch === 10 || (ch === 13 && text.charCodeAt(i + 1) !== 10);
  }
  return null;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Text as the gate should see it: lone UTF-16 surrogates become U+FFFD (they are not text), then NFC. */
export function wellFormedText(text: string): string {
  // ASCII, nearly every row, is both already: 50k rows spent 40 ms in replace() and normalize() for nothing.
  if (!NON_ASCII.test(text)) return text;
  return text.toWellFormed().normalize('NFC');
}

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/**
 * 1-based line where each non-empty record starts, for LF or CRLF files (quoted fields may span lines); null when the
 * file has other line endings, so the caller asks csv-parse instead.
 */
function recordStartLines(text: string): number[] | null {
  const starts: number[] = [];
  let line = 1;
  let inQuote = false;
  let atLineStart = true;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inQuote) {
      if (ch === 34) inQuote = false; // a doubled quote reopens at once on the next character
      else if (ch === 10) line++;
      continue;
    }
    if (ch === 10) {
      line++;
      atLineStart = true;
      continue;
    }
    if (ch === 13) {
      if (text.charCodeAt(i + 1) !== 10) return null;
      continue;
    }
    if (atLineStart) {
      starts.push(line);
      atLineStart = false;
    }
    if (ch === 34) inQuote = true;
  }
  return starts;
}

/**
 * The usual CSV read by hand, as csv-parse (bom, skip_empty_lines) reads it: LF line ends, fields quoted with "…" and
 * "" inside, no record wider than the first. Records with the line each starts on; null for anything else (a CR,
 * a stray or unclosed quote, a record too wide, a lone surrogate), which csv-parse then reads or reports. csv-parse took
 * 0.2 s of `moe train` on 50k rows (4 MB); this is a scan with a slice per field.
 */
export function parseSimpleCsv(text: string): { record: string[]; line: number }[] | null {
  if (text.includes('\r') || !text.isWellFormed()) return null;
  const out: { record: string[]; line: number }[] = [];
  const n = text.length;
  // The next quote, comma and line break at or after the scan, found by indexOf (n when none): no loop per character.
  const next = (ch: string, from: number): number => {
    const at = text.indexOf(ch, from);
    return at < 0 ? n : at;
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let quote = next('"', i);
  let comma = next(',', i);
  let newline = next('\n', i);
  let line = 1;
  let width = -1;
  while (i < n) {
    // An empty line is skipped.
    if (i === newline) {
      line++;
      newline = next('\n', ++i);
      continue;
    }
    const start = line;
    const record: string[] = [];
    for (;;) {
      if (i === quote) {
        let value = '';
        let from = i + 1;
        for (;;) {
          quote = next('"', from);
          if (quote === n) return null;
          if (text.charCodeAt(quote + 1) === 34) {
            value += text.slice(from, quote + 1);
            from = quote + 2;
            continue;
          }
          value += text.slice(from, quote);
          i = quote + 1;
          break;
        }
        while (newline < i) {
          line++;
          newline = next('\n', newline + 1);
        }
        record.push(value);
        quote = next('"', i);
        if (comma < i) comma = next(',', i);
        if (i < n && i !== comma && i !== newline) return null;
      } else {
        const end = Math.min(comma, newline);
        if (quote < end) return null;
        record.push(text.slice(i, end));
        i = end;
      }
      if (i >= n) break;
      if (i === newline) {
        line++;
        newline = next('\n', ++i);
        break;
      }
      comma = next(',', ++i);
    }
    // A record may leave off trailing columns (kind, weight); parseLabelledCsv says when it left off text or label.
    if (width < 0) width = record.length;
    else if (record.length > width) return null;
    out.push({ record, line: start });
  }
  return out;
}

/** Records with the line each starts on; csv-parse's `info` and `raw` cost twice its plain parse, so only as a fallback. */
function parseRecords(text: string): ParsedRecord[] | { record: string[]; line: number }[] {
  const simple = parseSimpleCsv(text);
  if (simple !== null) return simple;
  const plain = parse(text, { bom: true, skip_empty_lines: true, relax_column_count_less: true }) as string[][];
  const starts = recordStartLines(text);
  if (starts !== null && starts.length === plain.length) return plain.map((record, i) => ({ record, line: starts[i]! }));
  return parse(text, { bom: true, info: true, raw: true, skip_empty_lines: true, relax_column_count_less: true }) as unknown as ParsedRecord[];
}

function recordLine(r: ParsedRecord | { record: string[]; line: number }): number {
  return 'line' in r ? r.line : r.info.lines - (r.raw.replace(/^[\r\n]+|[\r\n]+$/g, '').match(/\r\n|\r|\n/g)?.length ?? 0);
}

export function parseLabelledCsv(text: string, file: string): LabelledRow[] {
  let records: ReturnType<typeof parseRecords>;
  try {
    records = parseRecords(text);
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    if (e.code === 'CSV_QUOTE_NOT_CLOSED' || e.code === 'CSV_INVALID_CLOSING_QUOTE') {
      const opened = openQuoteLine(text);
      // A quote closed on the line it opened, then followed by text, is a stray quote; across lines, a missing one.
      if (e.code === 'CSV_QUOTE_NOT_CLOSED' || (opened !== null && typeof e.lines === 'number' && opened < e.lines)) {
        throw new DatasetError('dataset_invalid', file, opened ?? e.lines ?? null, 'a quoted field is never closed (missing ")');
      }
    }
    const detail = (e.message ?? String(err)).replace(/\s*(at|on) line \d+\s*$/, '');
    throw new DatasetError('dataset_invalid', file, typeof e.lines === 'number' ? e.lines : null, `bad CSV: ${detail}`);
  }
  if (records.length === 0) throw new DatasetError('dataset_invalid', file, 1, 'the file is empty (expected a header like text,label)');

  const header = records[0]!.record.map((h) => h.trim().toLowerCase());
  const textCol = header.indexOf('text') >= 0 ? header.indexOf('text') : header.indexOf('query');
  const labelCol = header.indexOf('label') >= 0 ? header.indexOf('label') : header.indexOf('expert');
  const kindCol = header.indexOf('kind');
  const weightCol = header.indexOf('weight');
  if (textCol < 0 || labelCol < 0) {
    const missing = [textCol < 0 ? 'text (or query)' : null, labelCol < 0 ? 'label (or expert)' : null].filter(Boolean).join(' and ');
    throw new DatasetError('dataset_invalid', file, 1, `missing column ${missing}; header is "${records[0]!.record.join(',')}"`);
  }

  const rows: LabelledRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const { record } = records[r]!;
    const line = recordLine(records[r]!);
    if (record.length <= Math.max(textCol, labelCol)) {
      throw new DatasetError('dataset_invalid', file, line, `${record.length} field${record.length === 1 ? '' : 's'} where the header has ${header.length} (${header.join(',')}); only kind and weight may be left off`);
    }
    rows.push(labelledRow(file, line, record[textCol], record[labelCol], kindCol >= 0 ? record[kindCol] : undefined, weightCol >= 0 ? record[weightCol] : undefined));
  }
  if (rows.length === 0) throw new DatasetError('dataset_invalid', file, 2, 'no rows after the header');
  return rows;
}

/** One checked row; the raw fields as read (undefined: absent). */
function labelledRow(file: string, line: number, rawText: unknown, rawLabel: unknown, rawKind: unknown, rawWeight: unknown): LabelledRow {
  const text = wellFormedText(typeof rawText === 'string' ? rawText.trim() : '');
  if (text === '') throw new DatasetError('dataset_invalid', file, line, 'empty text');
  const labelText = typeof rawLabel === 'string' ? rawLabel.trim() : '';
  const label = parseLabel(labelText);
  if (label === null) {
    throw new DatasetError('dataset_invalid', file, line, `unknown label "${labelText}" (expected one of ${LABELS.join(', ')}, or general / <Name>Expert)`);
  }
  const row: LabelledRow = { text, label, line };
  const kind = typeof rawKind === 'string' ? rawKind.trim() : undefined;
  if (kind) row.kind = kind;
  if (rawWeight !== undefined && rawWeight !== null && String(rawWeight).trim() !== '') {
    const w = Number(rawWeight);
    if (!Number.isFinite(w) || w < 0) throw new DatasetError('dataset_invalid', file, line, `weight must be a number ≥ 0, got "${String(rawWeight)}"`);
    row.weight = w;
  }
  return row;
}

/** JSON Lines: one object per line with `text` (or `query`) and `label` (or `expert`); blank lines are skipped. */
export function parseLabelledJsonl(text: string, file: string): LabelledRow[] {
  const rows: LabelledRow[] = [];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const source = lines[i]!.trim();
    if (source === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (err) {
      throw new DatasetError('dataset_invalid', file, i + 1, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DatasetError('dataset_invalid', file, i + 1, 'expected an object like {"text": "...", "label": "finance"}');
    const o = value as Record<string, unknown>;
    rows.push(labelledRow(file, i + 1, o.text ?? o.query, o.label ?? o.expert, o.kind, o.weight));
  }
  if (rows.length === 0) throw new DatasetError('dataset_invalid', file, 1, 'no rows (expected one JSON object per line)');
  return rows;
}

export function readLabelledCsv(file: string): LabelledRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError('dataset_missing', file, null, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  return /\.(jsonl|ndjson)$/i.test(file) ? parseLabelledJsonl(text, file) : parseLabelledCsv(text, file);
}
