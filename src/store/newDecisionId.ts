import { randomUUID } from 'node:crypto';

let lastMs = -1;
let lastPrefix = '';

/**
 * A UUIDv7-shaped id: millisecond time first, then randomness. Time-ordered ids append to the end of the
 * decisions B-tree instead of splitting pages all over it, which keeps inserts cheap as the log grows.
 */
export function newDecisionId(now = Date.now()): string {
  if (now !== lastMs) { // the time part is formatted once per millisecond
    const time = now.toString(16).padStart(12, '0').slice(-12);
    lastPrefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    lastMs = now;
  }
  return lastPrefix + randomUUID().slice(15);
}
