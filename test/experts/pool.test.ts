import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { ExpertError } from '../../src/experts/types.js';
import type { ExpertId } from '../../src/gate/types.js';
import { tempDir, testConfig } from './helpers.js';

function isExpertError(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ExpertError, `expected ExpertError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

test('the shipped registry answers with demo models generated on first use', async (t) => {
  const dir = await tempDir(t);
  const pool = await createExpertPool(testConfig(dir), { registryPath: 'models/experts.json' });
  t.after(() => pool.dispose());
  assert.deepEqual(pool.list().map((e) => e.id), ['healthcare', 'finance', 'cybersecurity', 'general']);
  assert.equal(pool.fallbackId(), 'general');
  assert.equal(pool.info('cybersecurity').legacyName, 'CybersecurityExpert');
  assert.equal(pool.info('healthcare').emoji, '🩺');
  assert.ok(pool.list().every((e) => e.demo));
  assert.ok(pool.status().every((s) => s.state === 'unloaded'), 'experts load lazily');

  const chunks: string[] = [];
  const result = await pool.generate('healthcare', 'I have a headache, what should I do?', { onTextChunk: (c) => chunks.push(c) });
  assert.ok(result.text.length > 0);
  assert.ok(chunks.length >= 2, 'answer streams in several chunks');
  assert.equal(chunks.join('').trim(), result.text, 'chunks arrive in order and add up to the answer');
  assert.equal(result.demo, true);
  assert.ok(result.completionTokens > 0 && result.promptTokens > 0);
  assert.ok(result.timeToFirstTokenMs <= result.totalMs);
  assert.equal(pool.status().find((s) => s.id === 'healthcare')?.state, 'loaded');
  assert.equal(pool.status().find((s) => s.id === 'finance')?.state, 'unloaded');
});

test('concurrent questions to one expert are answered together, maxTokens caps the length', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir, { endless: ['finance'], maxTokens: 64 });
  const pool = await createExpertPool(testConfig(dir), { registryPath });
  t.after(() => pool.dispose());
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.generate('finance', `question ${i}`, { maxTokens: 20 })));
  for (const r of results) assert.equal(r.completionTokens, 20);
  assert.equal(new Set(results.map((r) => r.text)).size > 1, true, 'each question gets its own sampled answer');
});

test('abort stops a generation mid-way', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir, { endless: ['general'], maxTokens: 100_000, contextSize: 4096 });
  const pool = await createExpertPool(testConfig(dir), { registryPath });
  t.after(() => pool.dispose());
  const controller = new AbortController();
  let chunks = 0;
  const pending = pool.generate('general', 'talk forever', {
    signal: controller.signal,
    onTextChunk: () => {
      if (++chunks === 5) controller.abort();
    },
  });
  await assert.rejects(pending, isExpertError('cancelled'));
  assert.ok(chunks >= 5);
  // The expert stays usable after an abort.
  const after = await pool.generate('general', 'short one', { maxTokens: 5 });
  assert.equal(after.completionTokens, 5);
  await assert.rejects(pool.generate('general', 'x', { signal: AbortSignal.abort() }), isExpertError('cancelled'));
});

test('a generation longer than the expert timeout is stopped with expert_timeout', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir, { endless: ['general'], maxTokens: 1_000_000, contextSize: 4096, timeoutSeconds: 3 });
  const pool = await createExpertPool(testConfig(dir), { registryPath });
  t.after(() => pool.dispose());
  await pool.generate('general', 'warm up', { maxTokens: 2 });
  let chunks = 0;
  await assert.rejects(pool.generate('general', 'talk forever', { onTextChunk: () => chunks++ }), isExpertError('expert_timeout'));
  assert.ok(chunks > 0, 'it was stopped mid-generation');
  assert.equal(pool.status().find((s) => s.id === 'general')?.state, 'loaded', 'a timeout alone does not disable the expert');
});

test('a full queue gives expert_busy at once', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir, { endless: ['cybersecurity'], maxTokens: 100_000, contextSize: 4096 });
  const pool = await createExpertPool(testConfig(dir, { EXPERT_BATCH_SIZE: '1', EXPERT_QUEUE_LIMIT: '1' }), { registryPath });
  t.after(() => pool.dispose());
  const controller = new AbortController();
  let started!: () => void;
  const firstChunk = new Promise<void>((resolve) => (started = resolve));
  const running = pool.generate('cybersecurity', 'one', { signal: controller.signal, onTextChunk: () => started() });
  await firstChunk;
  const waiting = pool.generate('cybersecurity', 'two', { signal: controller.signal });
  const status = pool.status().find((s) => s.id === 'cybersecurity')!;
  assert.equal(status.active, 1);
  assert.equal(status.queued, 1);
  await assert.rejects(pool.generate('cybersecurity', 'three'), isExpertError('expert_busy'));
  const outcomes = Promise.allSettled([running, waiting]);
  controller.abort();
  for (const o of await outcomes) {
    assert.equal(o.status, 'rejected');
    isExpertError('cancelled')(o.reason);
  }
  const after = await pool.generate('cybersecurity', 'four', { maxTokens: 3 });
  assert.equal(after.completionTokens, 3);
});

test('under a small memory budget the least recently used idle expert is unloaded', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir, { maxTokens: 8 });
  const probe = await createExpertPool(testConfig(dir), { registryPath });
  await probe.generate('finance', 'hi');
  const one = probe.memoryUsedBytes();
  await probe.dispose();
  assert.ok(one > 0, 'a loaded expert has a memory estimate');

  // Room for two experts, not three.
  const budget = Math.floor(one * 2.5);
  const pool = await createExpertPool(testConfig(dir, { EXPERT_MEMORY_BUDGET: String(budget) }), { registryPath });
  t.after(() => pool.dispose());
  const state = (id: string): string | undefined => pool.status().find((s) => s.id === id)?.state;
  await pool.generate('finance', 'a');
  await pool.generate('healthcare', 'b');
  await pool.generate('finance', 'c'); // finance is now more recently used than healthcare
  await pool.generate('general', 'd');
  assert.equal(state('healthcare'), 'unloaded');
  assert.equal(state('finance'), 'loaded');
  assert.equal(state('general'), 'loaded');
  assert.ok(pool.memoryUsedBytes() <= budget);
  // An unloaded expert loads again when asked.
  const again = await pool.generate('healthcare', 'e');
  assert.ok(again.text.length > 0);
  assert.equal(state('healthcare'), 'loaded');

  const tiny = await createExpertPool(testConfig(dir, { EXPERT_MEMORY_BUDGET: '1000' }), { registryPath });
  t.after(() => tiny.dispose());
  await assert.rejects(tiny.generate('finance', 'x'), (err: unknown) => {
    assert.ok(err instanceof ExpertError && err.code === 'expert_unavailable');
    assert.match(err.message, /memory budget/);
    return true;
  });
});

test('unknown expert ids are rejected clearly', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir);
  const pool = await createExpertPool(testConfig(dir), { registryPath });
  t.after(() => pool.dispose());
  const legal = 'legal' as ExpertId; // what a caller past the type system could send
  await assert.rejects(pool.generate(legal, 'x'), isExpertError('invalid_expert'));
  assert.throws(() => pool.info(legal), isExpertError('invalid_expert'));
});

test('long-answer fixtures: an endless sentence-level model writes answers past 20,000 characters', async (t) => {
  const dir = await tempDir(t);
  const registryPath = await writeDemoRegistry(dir, { longAnswers: ['general'], maxTokens: 400 });
  const pool = await createExpertPool(testConfig(dir), { registryPath });
  t.after(() => pool.dispose());
  const short = await pool.generate('general', 'a few thousand characters please', { maxTokens: 80 });
  assert.ok(short.text.length > 4_000 && short.text.length < 8_000, `got ${short.text.length}`);
  const long = await pool.generate('general', 'a very long answer please', { maxTokens: 400 });
  assert.ok(long.text.length > 20_000, `got ${long.text.length}`);
  assert.match(long.text, /^[A-Z].*\.$/s, 'whole sentences');
});
