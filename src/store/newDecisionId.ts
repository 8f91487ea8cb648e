import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7-shaped id: millisecond time first, then randomness. Time-ordered ids append to the end of the
 * decisions B-tree instead of splitting pages all over it, which keeps inserts cheap as the log grows.
 */
export function newDecisionId(now = Date.now()): string {
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
