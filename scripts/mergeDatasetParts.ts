/**
 * Merges data/parts/<label>.csv (written by the dataset authors) into data/dataset.csv: header `text,label`, labels in
 * LABELS order, rows in file order, so the merge is deterministic. Refuses while a part is missing or unfinished.
 * CLI: `node --import tsx scripts/mergeDatasetParts.ts [data/parts] [data/dataset.csv]`
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLabelledCsv } from '../src/gate/readLabelledCsv.js';
import { LABELS } from '../src/gate/types.js';

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

export function mergeDatasetParts(partsDir: string, out: string): Record<string, number> {
  const lines = ['text,label'];
  const counts: Record<string, number> = {};
  for (const label of LABELS) {
    const file = path.join(partsDir, `${label}.csv`);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing (still ${fs.existsSync(`${file}.partial`) ? 'being written' : 'absent'})`);
    const rows = readLabelledCsv(file);
    const wrong = rows.find((r) => r.label !== label);
    if (wrong) throw new Error(`${file}:${wrong.line}: label ${wrong.label} in the ${label} file`);
    for (const r of rows) lines.push(`${csvField(r.text)},${label}`);
    counts[label] = rows.length;
  }
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, lines.join('\n') + '\n');
  fs.renameSync(tmp, out);
  return counts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [partsDir = 'data/parts', out = 'data/dataset.csv'] = process.argv.slice(2);
  try {
    console.log(`wrote ${out}:`, mergeDatasetParts(partsDir, out));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
