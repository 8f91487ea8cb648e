/**
 * `npm run bench:proxy`: what moe-router's /v1 adds in front of a serving engine. A loopback engine streams a fixed
 * answer instantly; the same streamed requests go straight to it and through /v1/chat/completions (gate, decision
 * log, remote expert), interleaved, at 1, 16 and 64 concurrent. Prints p50/p99 of total time and time to first token,
 * the overhead against the targets, and the failover time when the engine is killed mid-run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/app.js';
import { createExpertPool } from '../src/experts/createExpertPool.js';
import { silentLogger } from '../src/logger.js';
import { startFakeEngine, type FakeEngine } from '../test/support/fakeEngine.js';
import { testConfig, testGate } from '../test/support/testApp.js';

interface Sample {
  ttft: number;
  total: number;
}

/** One streamed chat completion over fetch; times to the first content chunk and to the end of the stream. */
async function streamOnce(url: string, model: string): Promise<Sample> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'what is a good way to save for retirement' }] }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let ttft = -1;
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    if (ttft < 0 && decoder.decode(bytes as Uint8Array, { stream: true }).includes('"content":"')) ttft = performance.now() - started;
  }
  return { ttft: ttft < 0 ? performance.now() - started : ttft, total: performance.now() - started };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (ms: number): string => `${ms.toFixed(2).padStart(7)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moe-bench-proxy-'));
  const engine = await startFakeEngine({ model: 'engine-model', answer: 'Save early, spread your investments and keep costs low.', record: false });
  const fallback = await startFakeEngine({ model: 'fallback-model', answer: 'A general answer.', record: false });
  let app: Awaited<ReturnType<typeof createApp>> | null = null;
  try {
    const endpointFor = (e: FakeEngine, model: string): Record<string, unknown> => ({ baseUrl: e.baseUrl, model, maxConcurrent: 128 });
    const experts = ['healthcare', 'finance', 'cybersecurity', 'general'].map((id) => ({
      id, displayName: id, description: `${id} expert`, emoji: '•', systemPrompt: `You are the ${id} expert.`,
      endpoint: id === 'general' ? endpointFor(fallback, 'fallback-model') : endpointFor(engine, 'engine-model'),
      generation: { maxTokens: 64, contextSize: 4096 },
    }));
    const registryPath = path.join(dir, 'experts.json');
    writeFileSync(registryPath, JSON.stringify({ fallback: 'general', experts }));
    const config = testConfig(dir, { EXPERT_QUEUE_LIMIT: '1000', RATE_LIMIT_PER_USER: 'off' });
    const pool = await createExpertPool(config, { registryPath, probeBackoff: { minMs: 200, maxMs: 200 } });
    app = await createApp(config, { gate: testGate(), logger: silentLogger(), experts: pool, disposeExperts: true });
    const routerUrl = `${await app.http.listen({ host: '127.0.0.1', port: 0 })}/v1/chat/completions`;
    const engineUrl = `${engine.baseUrl}/chat/completions`;

    // Warm up both paths (connections, JIT, the gate).
    for (let i = 0; i < 50; i++) {
      await streamOnce(engineUrl, 'engine-model');
      await streamOnce(routerUrl, 'moe-router');
    }

    console.log('bench:proxy — streamed /v1/chat/completions, straight to a loopback engine vs through moe-router (gate + log + remote expert)');
    console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const targets: Record<number, { p50?: number; p99: number }> = { 1: { p50: 1, p99: 4 }, 16: { p99: 13 }, 64: { p99: 13 } };
    const plan: [concurrency: number, rounds: number][] = [[1, 400], [16, 40], [64, 12]];
    for (const [concurrency, rounds] of plan) {
      const direct: Sample[] = [];
      const proxied: Sample[] = [];
      for (let r = 0; r < rounds; r++) {
        // Interleaved: each round runs one batch each way, alternating which goes first.
        const batches = [
          async () => direct.push(...(await Promise.all(Array.from({ length: concurrency }, () => streamOnce(engineUrl, 'engine-model'))))),
          async () => proxied.push(...(await Promise.all(Array.from({ length: concurrency }, () => streamOnce(routerUrl, 'moe-router'))))),
        ];
        if (r % 2) batches.reverse();
        for (const b of batches) await b();
      }
      const row = (name: string, s: Sample[]): string => {
        const t = s.map((x) => x.total);
        const f = s.map((x) => x.ttft);
        return `  ${name.padEnd(13)} total p50 ${fmt(percentile(t, 50))}  p99 ${fmt(percentile(t, 99))} | first token p50 ${fmt(percentile(f, 50))}  p99 ${fmt(percentile(f, 99))}`;
      };
      console.log(`\n${concurrency} concurrent (${direct.length} requests each way)`);
      console.log(row('engine', direct));
      console.log(row('moe-router', proxied));
      const d50 = percentile(proxied.map((x) => x.total), 50) - percentile(direct.map((x) => x.total), 50);
      const d99 = percentile(proxied.map((x) => x.total), 99) - percentile(direct.map((x) => x.total), 99);
      const f50 = percentile(proxied.map((x) => x.ttft), 50) - percentile(direct.map((x) => x.ttft), 50);
      const f99 = percentile(proxied.map((x) => x.ttft), 99) - percentile(direct.map((x) => x.ttft), 99);
      const t = targets[concurrency]!;
      const verdict = (value: number, target: number | undefined): string => (target === undefined ? '' : value <= target ? ` (target <= ${target} ms: met)` : ` (target <= ${target} ms: MISSED)`);
      console.log(`  added by moe-router: total p50 ${fmt(d50)}${verdict(d50, t.p50)}, p99 ${fmt(d99)}${verdict(d99, t.p99)}`);
      console.log(`                       first token p50 ${fmt(f50)}, p99 ${fmt(f99)}`);
    }

    // Failover: kill the engine and time the next question, which the fallback expert's engine answers.
    await engine.stop();
    const killed = await streamOnce(routerUrl, 'moe-router');
    const after = await streamOnce(routerUrl, 'moe-router');
    console.log('\nfailover when the engine is killed mid-run (the fallback expert answers):');
    console.log(`  first question after the kill: first token ${fmt(killed.ttft)}, total ${fmt(killed.total)} (target <= 1000 ms: ${killed.ttft <= 1000 ? 'met' : 'MISSED'})`);
    console.log(`  while the engine is marked down: first token ${fmt(after.ttft)} (goes straight to the fallback)`);
  } finally {
    await app?.close();
    await engine.stop().catch(() => undefined);
    await fallback.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
