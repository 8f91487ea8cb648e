import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const pool = new Uint8Array(16 * 256);
let used = pool.length;

/**
 * A UUIDv7 (millisecond time first, so ids sort by creation time and append to the end of the decisions B-tree).
 * Its random bytes come from a pooled buffer: uuid's default draws them with one getRandomValues call per id (~3 µs).
 */
export function newId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  return v7({ random: pool.subarray(used, (used += 16)) });
}
