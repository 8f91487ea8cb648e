/**
 * `npm run bench:proxy`: what moe-router's /v1 adds in front of a serving engine. A loopback engine streams a fixed
 * answer instantly; the same streamed requests go straight to it and through /v1/chat/completions (gate, decision
 * log, remote expert), interleaved, at 1, 16 and 64 concurrent, and through a bare Node pass-through proxy as the
 * reference for what any proxy costs here. moe-router and the bare proxy run in processes of their own, as `npm start`
 * does; the load generator and the engine share this one (`-- --in-process`: the router in this one too, no bare
 * proxy, as the bench did before). Prints p50/p99 of total time and time to first token, the overhead against the
 * targets, the CPU time per request of each process, and the failover time when the engine is killed mid-run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { createApp } from '../src/app.js';
import { createExpertPool } from '../src/experts/createExpertPool.js';
import { silentLogger } from '../src/logger.js';
import { startFakeEngine } from '../test/support/fakeEngine.js';
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

/** The router process's garbage collections so far: scavenges (young space) and mark-compacts (old space). */
interface GcTotals {
  minor: number;
  minorMs: number;
  major: number;
  majorMs: number;
  majorMaxMs: number;
  /** Bytes in use in old space now: its growth over a level without a mark-compact is what the level promoted. */
  oldSpaceBytes: number;
}

/** What the router process says over IPC. */
type RouterMessage = { url: string } | { cpuMs: number; systemMs: number; mainMs: number | null; gc: GcTotals } | { profiling: boolean };

interface RunningRouter {
  url: string;
  close(): Promise<void>;
}

/** moe-router on a registry whose endpoint experts are the two engines (the fallback expert on the second). */
async function startRouter(dir: string, engineUrl: string, fallbackUrl: string): Promise<RunningRouter> {
  const endpointFor = (baseUrl: string, model: string): Record<string, unknown> => ({ baseUrl, model, maxConcurrent: 128 });
  const experts = ['healthcare', 'finance', 'cybersecurity', 'general'].map((id) => ({
    id, displayName: id, description: `${id} expert`, emoji: '•', systemPrompt: `You are the ${id} expert.`,
    endpoint: id === 'general' ? endpointFor(fallbackUrl, 'fallback-model') : endpointFor(engineUrl, 'engine-model'),
    generation: { maxTokens: 64, contextSize: 4096 },
  }));
  const registryPath = path.join(dir, 'experts.json');
  writeFileSync(registryPath, JSON.stringify({ fallback: 'general', experts }));
  const config = testConfig(dir, { EXPERT_QUEUE_LIMIT: '1000', RATE_LIMIT_PER_USER: 'off' });
  const pool = await createExpertPool(config, { registryPath, probeBackoff: { minMs: 200, maxMs: 200 } });
  const app = await createApp(config, { gate: testGate(), logger: silentLogger(), experts: pool, disposeExperts: true });
  return { url: await app.http.listen({ host: '127.0.0.1', port: 0 }), close: () => app.close() };
}

/** Bytes in use in V8's old space (objects promoted by scavenges or allocated there). */
function oldSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? 0;
}

/** On-CPU time of this process's main thread (the event loop), without V8's and SQLite's helper threads; Linux only. */
function mainThreadMs(): number | null {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

/** The router process: answers `cpu` with its CPU time so far and `close` by exiting. */
async function routerProcess(): Promise<void> {
  const router = await startRouter(process.env.BENCH_DIR!, process.env.BENCH_ENGINE_URL!, process.env.BENCH_FALLBACK_URL!);
  const session = new Session();
  // Pauses of the main thread by kind: old-space collections are what reach the p99 at 16 concurrent.
  const gc: GcTotals = { minor: 0, minorMs: 0, major: 0, majorMs: 0, majorMaxMs: 0, oldSpaceBytes: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) [gc.minor, gc.minorMs] = [gc.minor + 1, gc.minorMs + e.duration];
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
        [gc.major, gc.majorMs, gc.majorMaxMs] = [gc.major + 1, gc.majorMs + e.duration, Math.max(gc.majorMaxMs, e.duration)];
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m: string) => {
    if (m === 'profile:start') {
      // --profile-router FILE: a CPU profile of the measured levels only (not start-up, warm-up or failover).
      session.connect();
      void session.post('Profiler.enable').then(() => session.post('Profiler.setSamplingInterval', { interval: 100 })).then(() => session.post('Profiler.start'))
        .then(() => process.send!({ profiling: true } satisfies RouterMessage));
    } else if (m === 'profile:stop') {
      void session.post('Profiler.stop').then(({ profile }) => writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify(profile)))
        .then(() => process.send!({ profiling: false } satisfies RouterMessage));
    } else if (m === 'heap:start') {
      // --heap-profile-router FILE: where the measured levels allocate, collected objects included (sampled every 4 KB).
      session.connect();
      void session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never)
        .then(() => process.send!({ profiling: true } satisfies RouterMessage));
    } else if (m === 'heap:stop') {
      void session.post('HeapProfiler.stopSampling').then(({ profile }) => writeFileSync(process.env.BENCH_HEAP_PROFILE!, JSON.stringify(profile)))
        .then(() => process.send!({ profiling: false } satisfies RouterMessage));
    } else if (m === 'cpu') {
      const used = process.cpuUsage();
      process.send!({ cpuMs: (used.user + used.system) / 1000, systemMs: used.system / 1000, mainMs: mainThreadMs(), gc: { ...gc, oldSpaceBytes: oldSpaceBytes() } } satisfies RouterMessage);
      gc.majorMaxMs = 0; // the longest old-space pause since the last question
    } else if (m === 'close') void router.close().then(() => process.exit(0));
  });
  process.send!({ url: router.url } satisfies RouterMessage);
}

/**
 * The reference for what any proxy costs here: a bare Node pass-through (node:http in, undici's request() out, the
 * engine's bytes piped back), with no gate, log, history or translation. Answers `cpu` and `close` as the router does.
 */
async function bareProxyProcess(): Promise<void> {
  const engine = new URL(process.env.BENCH_ENGINE_URL!);
  const pool = new Pool(engine.origin, { connections: 128 });
  const upstreamPath = `${engine.pathname}/chat/completions`;
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      // The one thing every proxy does with the body: read the JSON and name the engine's model.
      const body = JSON.stringify({ ...(JSON.parse(Buffer.concat(parts).toString('utf8')) as object), model: 'engine-model' });
      pool.request({ path: upstreamPath, method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (up) => {
          res.writeHead(up.statusCode, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
          for await (const bytes of up.body) res.write(bytes);
          res.end();
        })
        .catch((err: Error) => res.writableEnded || res.destroy(err));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (m: string) => {
    if (m === 'cpu') {
      const used = process.cpuUsage();
      process.send!({ cpuMs: (used.user + used.system) / 1000, systemMs: used.system / 1000, mainMs: mainThreadMs(), gc: { minor: 0, minorMs: 0, major: 0, majorMs: 0, majorMaxMs: 0, oldSpaceBytes: 0 } } satisfies RouterMessage);
    } else if (m === 'close') server.close(() => void pool.close().then(() => process.exit(0)));
  });
  process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } satisfies RouterMessage);
}

/** The next message from the router process. */
function nextMessage(child: ChildProcess): Promise<RouterMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the router process exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m: RouterMessage) => {
      child.off('exit', onExit);
      resolve(m);
    });
  });
}

/** A bench process's CPU time (and the router's GC) so far. */
async function cpuOf(child: ChildProcess): Promise<{ cpuMs: number; systemMs: number; mainMs: number | null; gc: GcTotals }> {
  const reply = nextMessage(child);
  child.send('cpu');
  const m = await reply;
  if (!('cpuMs' in m)) throw new Error('unexpected message from a bench process');
  return m;
}

/** The value after `name` on the command line (`--levels 1,64`), or null without it; taken as is, since values such as `--trace-gc` start with dashes. */
function argAfter(name: string): string | null {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1]! : null;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moe-bench-proxy-'));
  const engine = await startFakeEngine({ model: 'engine-model', answer: 'Save early, spread your investments and keep costs low.', record: false });
  const fallback = await startFakeEngine({ model: 'fallback-model', answer: 'A general answer.', record: false });
  // --in-process: the router in this process too (the arrangement of the figures before December 2026).
  const inProcess = process.argv.includes('--in-process');
  // --profile-router FILE: the router process's CPU profile of the measured levels (100 µs samples).
  const profileArg = argAfter('--profile-router');
  const profilePath = profileArg === null ? null : path.resolve(profileArg);
  // --heap-profile-router FILE: the router process's sampled allocations of the measured levels (.heapprofile).
  const heapArg = argAfter('--heap-profile-router');
  const heapPath = heapArg === null ? null : path.resolve(heapArg);
  // --router-node-options '--trace-gc ...': node flags for the router process only.
  const routerFlags = argAfter('--router-node-options')?.split(' ').filter(Boolean) ?? [];
  let profile: ((m: 'profile:start' | 'profile:stop' | 'heap:start' | 'heap:stop') => Promise<void>) | null = null;
  let child: ChildProcess | null = null;
  let bare: ChildProcess | null = null;
  let local: RunningRouter | null = null;
  try {
    let routerCpuMs: (() => Promise<{ cpuMs: number; systemMs: number; mainMs: number | null; gc: GcTotals }>) | null = null;
    let url: string;
    if (inProcess) {
      local = await startRouter(dir, engine.baseUrl, fallback.baseUrl);
      url = local.url;
    } else {
      const c = fork(process.argv[1]!, [], {
        execArgv: [...process.execArgv, ...routerFlags],
        env: { ...process.env, BENCH_PROXY_ROLE: 'router', BENCH_PROFILE: profilePath ?? '', BENCH_HEAP_PROFILE: heapPath ?? '', BENCH_DIR: dir, BENCH_ENGINE_URL: engine.baseUrl, BENCH_FALLBACK_URL: fallback.baseUrl },
      });
      child = c;
      const started = await nextMessage(c);
      if (!('url' in started)) throw new Error('the router process did not start');
      url = started.url;
      routerCpuMs = () => cpuOf(c);
      if (profilePath || heapPath) {
        profile = async (m) => {
          const reply = nextMessage(c);
          c.send(m);
          await reply;
        };
      }
    }
    let bareUrl: string | null = null;
    if (!inProcess) {
      // The reference proxy in a process of its own too, like the router.
      bare = fork(process.argv[1]!, [], { env: { ...process.env, BENCH_PROXY_ROLE: 'bare', BENCH_ENGINE_URL: engine.baseUrl } });
      const started = await nextMessage(bare);
      if (!('url' in started)) throw new Error('the bare proxy process did not start');
      bareUrl = `${started.url}/v1/chat/completions`;
    }
    const routerUrl = `${url}/v1/chat/completions`;
    const engineUrl = `${engine.baseUrl}/chat/completions`;

    // Warm up both paths (connections, JIT, the gate) at every level: after 300 one at a time, V8 was still compiling
    // (~280 TurboFan jobs during the measured levels, ~0.3-0.6 ms of the router's CPU per request on its helper threads).
    for (let i = 0; i < 300; i++) {
      await streamOnce(engineUrl, 'engine-model');
      await streamOnce(routerUrl, 'moe-router');
      if (bareUrl) await streamOnce(bareUrl, 'moe-router');
    }
    for (let i = 0; i < 40; i++) {
      for (const c of [16, 64]) {
        await Promise.all(Array.from({ length: c }, () => streamOnce(engineUrl, 'engine-model')));
        await Promise.all(Array.from({ length: c }, () => streamOnce(routerUrl, 'moe-router')));
        if (bareUrl) await Promise.all(Array.from({ length: c }, () => streamOnce(bareUrl!, 'moe-router')));
      }
    }

    console.log('bench:proxy — streamed /v1/chat/completions, straight to a loopback engine vs through moe-router (gate + log + remote expert)');
    console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; moe-router ${inProcess ? 'in the same process as the load generator and the engine (--in-process)' : 'in its own process'}`);
    const targets: Record<number, { p50?: number; p99: number }> = { 1: { p50: 1, p99: 4 }, 16: { p99: 13 }, 64: { p99: 13 } };
    // --levels 1,64: only these concurrency levels (profiling one of them).
    const levels = argAfter('--levels')?.split(',').map(Number) ?? null;
    const plan = ([[1, 400], [16, 40], [64, 12]] as [concurrency: number, rounds: number][]).filter(([c]) => !levels || levels.includes(c));
    if (profilePath) await profile?.('profile:start');
    if (heapPath) await profile?.('heap:start');
    for (const [concurrency, rounds] of plan) {
      const direct: Sample[] = [];
      const proxied: Sample[] = [];
      const bareProxied: Sample[] = [];
      // CPU time of this process (load generator and engine) during each way's batches; of the router process over
      // the whole level (asked once before and after: a question per batch would cost it more than a request).
      const cpuMs = { direct: 0, proxied: 0, bare: 0 };
      const timed = async (way: keyof typeof cpuMs, batch: () => Promise<void>): Promise<void> => {
        const before = process.cpuUsage();
        await batch();
        const used = process.cpuUsage(before);
        cpuMs[way] += (used.user + used.system) / 1000;
      };
      const routerBefore = (await routerCpuMs?.()) ?? null;
      const bareBefore = bare ? await cpuOf(bare) : null;
      for (let r = 0; r < rounds; r++) {
        // Interleaved: each round runs one batch each way, alternating which goes first.
        const batches = [
          () => timed('direct', async () => void direct.push(...(await Promise.all(Array.from({ length: concurrency }, () => streamOnce(engineUrl, 'engine-model')))))),
          () => timed('proxied', async () => void proxied.push(...(await Promise.all(Array.from({ length: concurrency }, () => streamOnce(routerUrl, 'moe-router')))))),
        ];
        if (bareUrl) batches.push(() => timed('bare', async () => void bareProxied.push(...(await Promise.all(Array.from({ length: concurrency }, () => streamOnce(bareUrl!, 'moe-router')))))));
        // Rotated: each way goes first, second and last in turn.
        for (let k = 0; k < r % batches.length; k++) batches.push(batches.shift()!);
        for (const b of batches) await b();
      }
      const routerAfter = (await routerCpuMs?.()) ?? null;
      const bareCpuMs = bare && bareBefore ? (await cpuOf(bare)).cpuMs - bareBefore.cpuMs : null;
      const routerMs = routerAfter && routerBefore ? {
        cpu: routerAfter.cpuMs - routerBefore.cpuMs, system: routerAfter.systemMs - routerBefore.systemMs,
        main: routerAfter.mainMs !== null && routerBefore.mainMs !== null ? routerAfter.mainMs - routerBefore.mainMs : null,
        gc: {
          minor: routerAfter.gc.minor - routerBefore.gc.minor, minorMs: routerAfter.gc.minorMs - routerBefore.gc.minorMs,
          major: routerAfter.gc.major - routerBefore.gc.major, majorMs: routerAfter.gc.majorMs - routerBefore.gc.majorMs, majorMaxMs: routerAfter.gc.majorMaxMs,
          oldSpaceBytes: routerAfter.gc.oldSpaceBytes - routerBefore.gc.oldSpaceBytes,
        },
      } : null;
      const row = (name: string, s: Sample[]): string => {
        const t = s.map((x) => x.total);
        const f = s.map((x) => x.ttft);
        return `  ${name.padEnd(13)} total p50 ${fmt(percentile(t, 50))}  p99 ${fmt(percentile(t, 99))} | first token p50 ${fmt(percentile(f, 50))}  p99 ${fmt(percentile(f, 99))}`;
      };
      console.log(`\n${concurrency} concurrent (${direct.length} requests each way)`);
      console.log(row('engine', direct));
      console.log(row('moe-router', proxied));
      if (bareProxied.length > 0) console.log(row('bare proxy', bareProxied));
      const d50 = percentile(proxied.map((x) => x.total), 50) - percentile(direct.map((x) => x.total), 50);
      const d99 = percentile(proxied.map((x) => x.total), 99) - percentile(direct.map((x) => x.total), 99);
      const f50 = percentile(proxied.map((x) => x.ttft), 50) - percentile(direct.map((x) => x.ttft), 50);
      const f99 = percentile(proxied.map((x) => x.ttft), 99) - percentile(direct.map((x) => x.ttft), 99);
      const t = targets[concurrency]!;
      const verdict = (value: number, target: number | undefined): string => (target === undefined ? '' : value <= target ? ` (target <= ${target} ms: met)` : ` (target <= ${target} ms: MISSED)`);
      console.log(`  added by moe-router: total p50 ${fmt(d50)}${verdict(d50, t.p50)}, p99 ${fmt(d99)}${verdict(d99, t.p99)}`);
      console.log(`                       first token p50 ${fmt(f50)}, p99 ${fmt(f99)}`);
      if (bareProxied.length > 0) {
        // The floor: what one more hop through Node costs on this machine, before any work of moe-router's.
        const b50 = percentile(bareProxied.map((x) => x.total), 50) - percentile(direct.map((x) => x.total), 50);
        const b99 = percentile(bareProxied.map((x) => x.total), 99) - percentile(direct.map((x) => x.total), 99);
        // Below zero the reference is lost in the level's noise (64 concurrent), and so would be a difference with it.
        const own = b50 > 0 ? `; moe-router's own part of the p50: ${fmt(d50 - b50)}` : ' (within the noise here)';
        console.log(`  added by a bare Node pass-through proxy (reference): total p50 ${fmt(b50)}, p99 ${fmt(b99)}${own}`);
      }
      const perRequest = (ms: number): string => `${(ms / direct.length).toFixed(3)} ms`;
      if (routerMs === null) console.log(`  CPU per request: ${perRequest(cpuMs.direct)} straight, ${perRequest(cpuMs.proxied)} through moe-router: moe-router's share ${perRequest(cpuMs.proxied - cpuMs.direct)}`);
      else {
        console.log(`  CPU per request: moe-router process ${perRequest(routerMs.cpu)} (system ${perRequest(routerMs.system)}${routerMs.main === null ? '' : `, main thread ${perRequest(routerMs.main)}`}); load generator + engine process ${perRequest(cpuMs.direct)} straight, ${perRequest(cpuMs.proxied)} through moe-router`);
        if (bareCpuMs !== null) console.log(`  CPU per request of the bare proxy process (reference): ${perRequest(bareCpuMs)}`);
        const per1000 = (n: number): string => (n * 1000 / proxied.length).toFixed(1);
        const g = routerMs.gc;
        // Old space grows by what scavenges promote until a mark-compact empties it: the growth per request says how often one comes.
        const grown = g.major === 0 ? `; old space +${(g.oldSpaceBytes / proxied.length / 1024).toFixed(2)} KB per request` : '';
        console.log(`  moe-router GC per 1000 requests: ${per1000(g.minor)} scavenges (${per1000(g.minorMs)} ms), ${per1000(g.major)} mark-compacts (${per1000(g.majorMs)} ms; longest ${g.majorMaxMs.toFixed(1)} ms)${grown}`);
      }
    }

    if (profilePath) await profile?.('profile:stop');
    if (heapPath) await profile?.('heap:stop');
    if (profilePath) console.log(`\nmoe-router's CPU profile of the levels above: ${profilePath}`);
    if (heapPath) console.log(`moe-router's sampled allocations of the levels above: ${heapPath}`);

    // Failover: kill the engine and time the next question, which the fallback expert's engine answers.
    await engine.stop();
    const killed = await streamOnce(routerUrl, 'moe-router');
    const after = await streamOnce(routerUrl, 'moe-router');
    console.log('\nfailover when the engine is killed mid-run (the fallback expert answers):');
    console.log(`  first question after the kill: first token ${fmt(killed.ttft)}, total ${fmt(killed.total)} (target <= 1000 ms: ${killed.ttft <= 1000 ? 'met' : 'MISSED'})`);
    console.log(`  while the engine is marked down: first token ${fmt(after.ttft)} (goes straight to the fallback)`);
  } finally {
    await local?.close();
    for (const c of [child, bare]) {
      if (!c?.connected) continue;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.send('close');
      await exited;
    }
    await engine.stop().catch(() => undefined);
    await fallback.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_PROXY_ROLE === 'router') await routerProcess();
else if (process.env.BENCH_PROXY_ROLE === 'bare') await bareProxyProcess();
else await main();
