/** SseData: the data of each server-sent event, however the engine splits and ends its lines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseData } from '../../src/experts/SseData.js';

/** Every event's data when `text` arrives in pieces of `size` characters. */
function read(text: string, size: number): string[] {
  const events = new SseData();
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...events.push(text.slice(i, i + size)));
  out.push(...events.end());
  return out;
}

test('one data line per event, split anywhere, with \\n, \\r\\n or \\r line ends', () => {
  const events = ['{"a":1}', '{"b":"x y"}', '[DONE]'];
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = events.map((e) => `data: ${e}${eol}${eol}`).join('');
    for (const size of [1, 2, 3, 7, text.length]) assert.deepEqual(read(text, size), events, `eol ${JSON.stringify(eol)}, pieces of ${size}`);
  }
});

test('several data lines join with \\n; comments, other fields and empty events are skipped; no space after the colon is fine', () => {
  const text = ': keep-alive\n\nevent: message\nid: 7\ndata: first\ndata:second\nretry: 10\n\n\n\ndata\n\n';
  assert.deepEqual(read(text, 1), ['first\nsecond', '']);
  assert.deepEqual(read(text, text.length), ['first\nsecond', '']);
});

test('a last event without its blank line still counts when the stream ends', () => {
  assert.deepEqual(read('data: one\n\ndata: two\n', 4), ['one', 'two']);
  assert.deepEqual(read('data: one\n\ndata: two', 100), ['one', 'two']);
  assert.deepEqual(read('data: one\n\n\n', 100), ['one']);
});
