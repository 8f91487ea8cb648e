import fs from 'node:fs';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import type { TrainingExample } from '../gate/types.js';

let cache: { file: string; mtimeMs: number; size: number; rows: TrainingExample[] } | null = null;

/** Our training set, parsed again only when the file changed (parsing is a tenth of a retraining). */
export function readDataset(file: string): TrainingExample[] {
  const { mtimeMs, size } = fs.statSync(file);
  if (cache?.file !== file || cache.mtimeMs !== mtimeMs || cache.size !== size) cache = { file, mtimeMs, size, rows: readLabelledCsv(file) };
  return cache.rows;
}
