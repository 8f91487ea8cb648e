/** Reads `text,label` (or the old service's `query,expert`) CSV files; every problem names the file and line. */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DatasetError } from './errors.js';
import { LABELS, type Label, type TrainingExample } from './types.js';

export interface LabelledRow extends TrainingExample {
  /** 1-based line of the file where the row starts. */
  line: number;
}

const LABEL_ALIASES: Record<string, Label> = {
  healthcare: 'healthcare',
  health: 'healthcare',
  medical: 'healthcare',
  finance: 'finance',
  financial: 'finance',
  cybersecurity: 'cybersecurity',
  cyber: 'cybersecurity',
  security: 'cybersecurity',
  none: 'none',
  general: 'none',
  offtopic: 'none',
  fallback: 'none',
};

/** `HealthcareExpert`, `healthcare`, `general`, `none`, `Cyber-Security` → a Label, or null. */
export function normalizeLabel(raw: string): Label | null {
  let key = raw.toLowerCase().replace(/[^a-z]/g, '');
  if (key.endsWith('expert') && key !== 'expert') key = key.slice(0, -'expert'.length);
  return LABEL_ALIASES[key] ?? null;
}

/** Line where an unclosed quote opened (csv-parse reports the end of the file instead). */
function unclosedQuoteLine(text: string): number | null {
  let inQuote = false;
  let line = 1;
  let openedAt = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    else if (ch === '"') {
      if (!inQuote) openedAt = line;
      inQuote = !inQuote;
    }
  }
  return inQuote ? openedAt : null;
}

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

export function parseLabelledCsv(text: string, file: string): LabelledRow[] {
  let records: ParsedRecord[];
  try {
    records = parse(text, { bom: true, info: true, raw: true, skip_empty_lines: true }) as unknown as ParsedRecord[];
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
      throw new DatasetError('dataset_invalid', file, unclosedQuoteLine(text) ?? e.lines ?? null, 'a quoted field is never closed (missing ")');
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
    const { record, raw, info } = records[r]!;
    const line = info.lines - (raw.replace(/[\r\n]+$/, '').match(/\n/g)?.length ?? 0);
    const text = (record[textCol] ?? '').trim();
    if (text === '') throw new DatasetError('dataset_invalid', file, line, 'empty text');
    const rawLabel = (record[labelCol] ?? '').trim();
    const label = normalizeLabel(rawLabel);
    if (label === null) {
      throw new DatasetError('dataset_invalid', file, line, `unknown label "${rawLabel}" (expected one of ${LABELS.join(', ')}, or general / <Name>Expert)`);
    }
    const row: LabelledRow = { text, label, line };
    const kind = kindCol >= 0 ? record[kindCol]?.trim() : undefined;
    if (kind) row.kind = kind;
    if (weightCol >= 0 && record[weightCol]?.trim()) {
      const w = Number(record[weightCol]);
      if (!Number.isFinite(w) || w < 0) throw new DatasetError('dataset_invalid', file, line, `weight must be a number ≥ 0, got "${record[weightCol]}"`);
      row.weight = w;
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new DatasetError('dataset_invalid', file, 2, 'no rows after the header');
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
  return parseLabelledCsv(text, file);
}
