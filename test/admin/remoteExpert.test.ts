/** The experts panel with an expert served by a remote engine (loopback fake engine): its endpoint's health, up and down. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createExpertPool } from '../../src/experts/createExpertPool.js';
import { createTestApp, testConfig } from '../support/testApp.js';
import { startFakeEngine } from '../support/fakeEngine.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { makeTempDir } from '../support/tempDir.js';
import type { EndpointItem, ExpertItem } from '../../adapters/http/admin/apiTypes.js';
import { ADMIN_TOKEN } from './helpers.js';

test('a remote expert shows its endpoint: model, address, and health that turns down when the engine stops', async (t) => {
  const tmp = makeTempDir('moe-admin-remote-');
  t.after(tmp.remove);
  const engine = await startFakeEngine({ model: 'fin-8b', answer: 'Save early and keep costs low.' });
  t.after(() => engine.stop().catch(() => undefined));
  const registryPath = await writeDemoRegistry(tmp.dir, { maxTokens: 8 });
  const raw = JSON.parse(await readFile(registryPath, 'utf8')) as { experts: Record<string, unknown>[] };
  for (const e of raw.experts) {
    if (e.id !== 'finance') continue;
    delete e.model;
    e.endpoint = { baseUrl: engine.baseUrl, model: 'fin-8b', maxConcurrent: 2 };
  }
  await writeFile(registryPath, JSON.stringify(raw, null, 2));
  const pool = await createExpertPool(testConfig(tmp.dir), { registryPath, probeBackoff: { minMs: 20, maxMs: 200 } });
  const app = await createTestApp({ ADMIN_TOKEN }, { experts: pool, disposeExperts: true });
  t.after(() => app.dispose());

  const finance = async (): Promise<ExpertItem> => {
    const res = await app.http.inject({ method: 'GET', url: '/admin/api/experts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.statusCode, 200);
    return res.json<{ experts: ExpertItem[] }>().experts.find((e) => e.id === 'finance')!;
  };
  const ask = (): Promise<unknown> => app.http.inject({ method: 'POST', url: '/predict', payload: { query: 'what is a good way to save for retirement' } });

  const local = (await app.http.inject({ method: 'GET', url: '/admin/api/experts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
    .json<{ experts: ExpertItem[] }>().experts.find((e) => e.id === 'healthcare')!;
  assert.equal(local.endpoint, null, 'a local model has no endpoint');

  await ask();
  await engine.waitForCompletionCalls(1);
  let ep: EndpointItem | null = (await finance()).endpoint;
  assert.ok(ep);
  assert.equal(ep.model, 'fin-8b');
  assert.equal(ep.baseUrl, engine.baseUrl);
  assert.equal(ep.maxConcurrent, 2);
  assert.equal(ep.health, 'up');
  assert.equal(ep.lastError, null);

  await engine.stop();
  await ask(); // refused connection: the fallback answers, the endpoint is marked down
  ep = (await finance()).endpoint!;
  assert.equal(ep.health, 'down');
  assert.ok(ep.lastError, 'the last error is shown');
  assert.equal(typeof ep.nextProbeAt, 'number');
});
