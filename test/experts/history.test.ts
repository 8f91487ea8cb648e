import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import type { ChatTurn } from '../../src/experts/types.js';
import { writeDemoRegistry, type DemoRegistryOptions } from '../support/writeDemoRegistry.js';
import { tempDir, testConfig } from './helpers.js';

/** A pool of the demo experts in a temp dir, disposed after the test. */
async function demoPool(t: TestContext, options: DemoRegistryOptions) {
  const dir = await tempDir(t);
  const pool = await createExpertPool(testConfig(dir), { registryPath: await writeDemoRegistry(dir, options) });
  t.after(() => pool.dispose());
  return pool;
}

/** `n` earlier turns, newest first, each a question and a paragraph-long answer. */
function thread(n: number): ChatTurn[] {
  return Array.from({ length: n }, (_, i) => ({
    question: `follow-up number ${n - i}: what about the dose for my kids, and is it safe with food?`,
    answer: `Answer ${n - i}. Take it with food, keep to the dose on the label, and ask a pharmacist about children's doses. `.repeat(3),
  }));
}

test('the expert sees earlier turns within its history budget: the prompt grows with them, a 60-turn thread fits the context', async (t) => {
  const contextSize = 1024;
  const pool = await demoPool(t, { maxTokens: 16, contextSize });

  const alone = await pool.generate('healthcare', 'how much is too much', { maxTokens: 4 });
  const withOne = await pool.generate('healthcare', 'how much is too much', { maxTokens: 4, history: thread(1) });
  assert.ok(withOne.promptTokens > alone.promptTokens + 20, `one earlier turn reaches the prompt: ${alone.promptTokens} → ${withOne.promptTokens} tokens`);

  const long = await pool.generate('healthcare', 'how much is too much', { maxTokens: 4, history: thread(60) });
  assert.ok(long.text.length > 0, 'a long thread never fails the question');
  const budget = contextSize / 4; // generation.historyTokens defaults to a quarter of contextSize
  assert.ok(long.promptTokens > withOne.promptTokens, 'as many turns as fit are kept');
  assert.ok(long.promptTokens <= alone.promptTokens + budget, `history stays within its budget: ${long.promptTokens} tokens, ${alone.promptTokens} without history, budget ${budget}`);
  assert.ok(long.promptTokens + 4 <= contextSize);
});

test('a history budget larger than the context still leaves room for the answer', async (t) => {
  const contextSize = 512;
  const pool = await demoPool(t, { maxTokens: 120, contextSize, historyTokens: 100_000 });
  const r = await pool.generate('healthcare', 'how much is too much', { maxTokens: 120, history: thread(40) });
  assert.ok(r.text.length > 0);
  assert.ok(r.promptTokens > 200, `history fills the context: ${r.promptTokens} tokens`);
  assert.ok(r.promptTokens + 120 <= contextSize, `the answer's maxTokens still fit: ${r.promptTokens} + 120 of ${contextSize}`);
});

test('a history budget of 0 keeps the prompt to the question; turns larger than the context are dropped, not fatal', async (t) => {
  const pool = await demoPool(t, { maxTokens: 16, contextSize: 1024, historyTokens: 0 });
  const alone = await pool.generate('finance', 'the rate is 6.9%', { maxTokens: 4 });
  const withHistory = await pool.generate('finance', 'the rate is 6.9%', { maxTokens: 4, history: thread(5) });
  assert.equal(withHistory.promptTokens, alone.promptTokens);
  const huge = [{ question: 'paste '.repeat(3000), answer: 'ok' }];
  const r = await pool.generate('finance', 'the rate is 6.9%', { maxTokens: 4, history: huge });
  assert.equal(r.promptTokens, alone.promptTokens);
});

test('a pasted turn of megabytes is dropped like any turn over budget; the newer turns before it are kept', async (t) => {
  const pool = await demoPool(t, { maxTokens: 16, contextSize: 1024 });
  const [newest] = thread(1);
  const withNewest = await pool.generate('finance', 'the rate is 6.9%', { maxTokens: 4, history: [newest!] });
  const pasted = { question: 'my statement says: interest charged on the balance '.repeat(60_000), answer: 'ok' };
  const r = await pool.generate('finance', 'the rate is 6.9%', { maxTokens: 4, history: [newest!, pasted, ...thread(3)] });
  assert.ok(r.text.length > 0);
  // The history stops at the first turn that does not fit: the newest is in, the pasted one and all older are out.
  assert.equal(r.promptTokens, withNewest.promptTokens);
});

test('a newest turn larger than the budget (a pasted log) is cut to fit, not dropped with everything', async (t) => {
  const contextSize = 1024;
  const pool = await demoPool(t, { maxTokens: 16, contextSize });
  const alone = await pool.generate('cybersecurity', 'what does the third line mean', { maxTokens: 4 });
  const pasted = { question: `here is my firewall log: ${'DENY tcp 10.0.0.5:443 -> 203.0.113.9:51234 flags S '.repeat(2_000)}`, answer: 'It shows blocked connections.' };
  const r = await pool.generate('cybersecurity', 'what does the third line mean', { maxTokens: 4, history: [pasted, ...thread(3)] });
  const budget = contextSize / 4;
  assert.ok(r.promptTokens > alone.promptTokens + budget / 2, `the start of the pasted turn is kept: ${alone.promptTokens} → ${r.promptTokens} tokens`);
  assert.ok(r.promptTokens <= alone.promptTokens + budget, `within the history budget: ${r.promptTokens} tokens, budget ${budget}`);
});

