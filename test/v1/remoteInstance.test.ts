/**
 * moe-router behind moe-router: a second instance's /v1 serves one expert of the first (answered and logged in both),
 * and a client that disconnects from /v1 cancels the generation upstream too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import { startFakeEngine } from '../support/fakeEngine.js';
import { createTestApp, testConfig, type TestApp } from '../support/testApp.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { makeTempDir } from '../support/tempDir.js';
import type { DecisionRow } from '../../src/store/Store.js';

/** An app whose finance expert is `endpoint`; the rest are demo models. */
async function appWithRemoteFinance(t: { after: (fn: () => Promise<void> | void) => void }, endpoint: Record<string, unknown>): Promise<TestApp> {
  const tmp = makeTempDir('moe-v1-remote-');
  t.after(() => tmp.remove());
  const file = await writeDemoRegistry(tmp.dir, { maxTokens: 24 });
  const raw = JSON.parse(await readFile(file, 'utf8')) as { experts: Record<string, unknown>[] };
  const finance = raw.experts.find((e) => e.id === 'finance')!;
  delete finance.model;
  finance.endpoint = endpoint;
  await writeFile(file, JSON.stringify(raw));
  const experts = await createExpertPool(testConfig(tmp.dir), { registryPath: file });
  const app = await createTestApp({}, { experts, disposeExperts: true });
  t.after(() => app.dispose());
  return app;
}

async function settled(app: TestApp, where: string): Promise<DecisionRow[]> {
  for (let i = 0; i < 500; i++) {
    const rows = app.store.db.prepare(`SELECT id FROM decisions WHERE ${where}`).all() as { id: string }[];
    const full = rows.map((r) => app.store.getDecision(r.id)!);
    if (full.length > 0 && full.every((r) => r.status !== 'pending')) return full;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`no settled decision where ${where}`);
}

test('a second moe-router\'s /v1 as a remote expert: answered, and logged in both', async (t) => {
  const upstream = await createTestApp({}, { maxTokens: 24 });
  t.after(() => upstream.dispose());
  const upstreamUrl = `${await upstream.http.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  const front = await appWithRemoteFinance(t, { baseUrl: upstreamUrl, model: 'finance', maxConcurrent: 4 });
  const frontUrl = `${await front.http.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  const client = new OpenAI({ baseURL: frontUrl, apiKey: 'x', maxRetries: 0 });

  const stream = await client.chat.completions.create({
    model: 'moe-router', stream: true, user: 'carol', messages: [{ role: 'user', content: 'what is a good way to save for retirement' }],
  });
  let text = '';
  let moe: { decisionId: string; expert: string } | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    moe = (chunk as { moe?: typeof moe }).moe ?? moe;
  }
  assert.ok(moe);
  assert.equal(moe.expert, 'finance');
  const mine = front.store.getDecision(moe.decisionId)!;
  assert.equal(mine.status, 'answered');
  assert.equal(mine.expert, 'finance');
  assert.equal(mine.answer, text.trim());
  const theirs = await settled(upstream, "expert = 'finance'");
  assert.equal(theirs.length, 1);
  assert.equal(theirs[0]!.status, 'answered');
  assert.equal(theirs[0]!.fallbackReason, 'forced', 'the front named the expert');
  assert.equal(theirs[0]!.query, 'what is a good way to save for retirement');
  assert.equal(theirs[0]!.answer, mine.answer);
  assert.ok(front.experts.status().find((s) => s.id === 'finance')!.endpoint?.health === 'up');
});

test('a client that disconnects from /v1 cancels the generation locally (row cancelled) and upstream (engine sees the close)', async (t) => {
  const engine = await startFakeEngine({ model: 'slow', answer: 'word '.repeat(400), chunkDelayMs: 25 });
  t.after(() => engine.stop());
  const front = await appWithRemoteFinance(t, { baseUrl: engine.baseUrl, model: 'slow' });
  const frontUrl = `${await front.http.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  const client = new OpenAI({ baseURL: frontUrl, apiKey: 'x', maxRetries: 0 });
  const controller = new AbortController();
  const { data: stream, response } = await client.chat.completions.create(
    { model: 'finance', stream: true, messages: [{ role: 'user', content: 'tell me everything about index funds' }] },
    { signal: controller.signal },
  ).withResponse();
  const decisionId = response.headers.get('x-moe-decision-id')!;
  const iterator = stream[Symbol.asyncIterator]();
  let seen = 0;
  while (seen < 3) if (!(await iterator.next()).done) seen++;
  controller.abort();
  const [row] = await settled(front, `id = '${decisionId}'`);
  assert.equal(row!.status, 'cancelled');
  assert.match(row!.error ?? '', /^cancelled/);
  const call = await engine.waitForCompletionCalls(1);
  for (let i = 0; i < 500 && !call.clientClosed; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(call.clientClosed, true, 'the engine saw the request go away before its answer was complete');
});
