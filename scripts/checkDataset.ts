/**
 * Checks the training set: ≥ N rows per label, no duplicates after normalising case and punctuation, and no two rows
 * that differ by exactly one swapped word (a sign of templated rows that teach the gate nothing new). Rows shorter than
 * `minSwapWords` words are exempt from the swap check: "what is PKI" / "what is gdp" are different questions.
 * CLI: `node --import tsx scripts/checkDataset.ts [data/dataset.csv] [--min 1000]`; exit 1 when a check fails.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLabelledCsv } from '../src/gate/readLabelledCsv.js';
import { LABELS, type Label } from '../src/gate/types.js';

export interface DatasetCheck {
  ok: boolean;
  rows: number;
  perLabel: Record<Label, number>;
  duplicates: Array<{ lines: [number, number]; text: string }>;
  oneWordSwaps: Array<{ lines: [number, number]; texts: [string, string] }>;
  problems: string[];
}

/** Lower case, punctuation removed, whitespace collapsed. */
export function normalizeForDuplicates(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function checkDataset(file: string, minPerLabel = 1000, minSwapWords = 5): DatasetCheck {
  const rows = readLabelledCsv(file);
  const perLabel = Object.fromEntries(LABELS.map((l) => [l, 0])) as Record<Label, number>;
  for (const r of rows) perLabel[r.label]++;

  const seen = new Map<string, number>();
  const duplicates: DatasetCheck['duplicates'] = [];
  const unique: Array<{ index: number; words: string[] }> = [];
  rows.forEach((r, i) => {
    const key = normalizeForDuplicates(r.text);
    const first = seen.get(key);
    if (first !== undefined) duplicates.push({ lines: [rows[first]!.line, r.line], text: r.text });
    else {
      seen.set(key, i);
      unique.push({ index: i, words: key.split(' ') });
    }
  });

  // Rows that agree everywhere except one word position share a key with that position masked.
  const masked = new Map<string, number>();
  const oneWordSwaps: DatasetCheck['oneWordSwaps'] = [];
  for (const { index, words } of unique) {
    if (words.length < Math.max(2, minSwapWords)) continue;
    for (let p = 0; p < words.length; p++) {
      const key = `${words.length}|${p}|${words.slice(0, p).join(' ')}|*|${words.slice(p + 1).join(' ')}`;
      const other = masked.get(key);
      if (other === undefined) masked.set(key, index);
      else {
        oneWordSwaps.push({ lines: [rows[other]!.line, rows[index]!.line], texts: [rows[other]!.text, rows[index]!.text] });
        break;
      }
    }
  }

  const problems: string[] = [];
  for (const l of LABELS) if (perLabel[l] < minPerLabel) problems.push(`label ${l} has ${perLabel[l]} rows (need ≥ ${minPerLabel})`);
  for (const d of duplicates.slice(0, 20)) problems.push(`lines ${d.lines[0]} and ${d.lines[1]} are duplicates: "${d.text}"`);
  for (const s of oneWordSwaps.slice(0, 20)) problems.push(`lines ${s.lines[0]} and ${s.lines[1]} differ by one word: "${s.texts[0]}" / "${s.texts[1]}"`);
  if (duplicates.length > 20) problems.push(`… ${duplicates.length} duplicates in all`);
  if (oneWordSwaps.length > 20) problems.push(`… ${oneWordSwaps.length} one-word swaps in all`);
  return { ok: problems.length === 0, rows: rows.length, perLabel, duplicates, oneWordSwaps, problems };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const minIdx = args.indexOf('--min');
  const min = minIdx >= 0 ? Number(args[minIdx + 1]) : 1000;
  const file = args.find((a, i) => !a.startsWith('--') && (minIdx < 0 || i !== minIdx + 1)) ?? 'data/dataset.csv';
  try {
    const result = checkDataset(file, min);
    console.log(`${file}: ${result.rows} rows; ${LABELS.map((l) => `${l} ${result.perLabel[l]}`).join(', ')}`);
    for (const p of result.problems) console.log(`  ✗ ${p}`);
    console.log(result.ok ? 'dataset OK' : 'dataset check FAILED');
    process.exitCode = result.ok ? 0 : 1;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
