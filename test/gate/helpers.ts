import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const REPO = path.resolve(FIXTURES, '..', '..', '..');

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'moe-gate-test-'));
}
