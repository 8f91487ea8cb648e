/** Answers in flight: a caller that goes away, and a shutdown mid-answer. Uses a real demo model that never stops talking. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { RouterError } from '../../src/core/errors.js';
import { writeDemoModel } from '../../src/experts/demo/demoModel.js';
import { EXPERT_IDS, type ExpertId } from '../../src/gate/types.js';
import { createTestApp, type ExpertOverride, type TestApp } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

const models = makeTempDir();
let endless: Partial<Record<ExpertId, ExpertOverride>>;

before(async () => {
  const file = path.join(models.dir, 'endless.gguf');
  await writeDemoModel(file, { corpus: ['This answer goes on and on.', 'And then it continues further.'], endless: true });
  endless = Object.fromEntries(EXPERT_IDS.map((id) => [id, { model: file, generation: { maxTokens: 100_000 } }]));
});
after(models.remove);

/** Polls `check` until it holds; bounded only by the test's own timeout, since a busy machine slows every step. */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 50));
}

test('a streaming HTTP caller that disconnects mid-answer stops the generation; the decision is cancelled', async (t) => {
  const app: TestApp = await createTestApp({}, { registry: endless });
  t.after(() => app.dispose());
  const address = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const failed = new Promise<string>((resolve) => app.router.observe({ onFailed: (f) => resolve(f.decisionId) }));
  const abort = new AbortController();
  const res = await fetch(`${address}/predict?stream=true`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"how do I spot a phishing email"}', signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: chunk')) text += new TextDecoder().decode((await reader.read()).value);
  const decisionId = (JSON.parse(/event: decision\ndata: (.*)\n/.exec(text)![1]!) as { decisionId: string }).decisionId;
  abort.abort();
  assert.equal(await failed, decisionId, 'the router reports the decision failed');
  const row = app.store.getDecision(decisionId)!;
  assert.equal(row.status, 'cancelled');
  assert.match(row.error ?? '', /^cancelled/);
  await waitFor(() => app.router.expertStatus().every((s) => s.active === 0)); // the expert slot is free again
});

test('close() mid-answer: the answer is stopped after the grace period, its row failed "shutting_down", nothing left pending', async () => {
  const app: TestApp = await createTestApp({}, { registry: endless, shutdownGraceSec: 0.2 });
  let closing: Promise<void> | null = null;
  const answer = app.router.ask('how do I spot a phishing email', {
    platform: 'discord', userId: 'u1',
    onDecision: () => {
      closing = app.close();
    },
  });
  await assert.rejects(answer, (err: unknown) => err instanceof RouterError && err.code === 'shutting_down' && /shutting down/.test(err.message));
  assert.ok(closing);
  await closing;
  const { Store } = await import('../../src/store/Store.js');
  const store = Store.open(app.config.dbPath, { keepText: true });
  try {
    assert.deepEqual(store.stats().byStatus, { pending: 0, answered: 0, failed: 1, cancelled: 0 });
    const row = store.db.prepare('SELECT error FROM decisions').get() as { error: string };
    assert.match(row.error, /^shutting_down/);
  } finally {
    store.close();
    await app.dispose();
  }
});

test('close() mid-answer of a caller that gives its controller (HTTP): the router aborts that controller, the answer fails "shutting_down"', async () => {
  const app: TestApp = await createTestApp({}, { registry: endless, shutdownGraceSec: 0.2 });
  const controller = new AbortController();
  let closing: Promise<void> | null = null;
  const answer = app.router.ask('how do I spot a phishing email', {
    platform: 'http', userId: null, controller,
    onDecision: () => {
      closing = app.close();
    },
  });
  await assert.rejects(answer, (err: unknown) => err instanceof RouterError && err.code === 'shutting_down');
  assert.ok(controller.signal.aborted && controller.signal.reason instanceof RouterError, 'the caller\'s controller is aborted with the shutdown');
  await closing;
  await app.dispose();
});
