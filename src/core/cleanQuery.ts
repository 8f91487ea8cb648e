import { RouterError } from './errors.js';
import { wellFormed } from '../store/wellFormed.js';

/**
 * The core's edge for question text: strips control characters (keeping newlines and tabs), replaces lone UTF-16
 * surrogates with U+FFFD (SQLite would store them as invalid UTF-8), normalises to NFC, trims, and enforces the limit.
 */
export function cleanQuery(query: unknown, maxChars: number): string {
  if (typeof query !== 'string') throw new RouterError('empty_query');
  const stripped = query.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029]/g, '');
  const text = wellFormed(stripped).normalize('NFC').trim();
  if (text === '') throw new RouterError('empty_query');
  if (text.length > maxChars) {
    throw new RouterError('query_too_long', { maxQueryChars: maxChars, length: text.length });
  }
  return text;
}
