/**
 * `npm run bench:router`: the router's own cost per question, generation excluded — gate + pending decision insert +
 * completion update + feedback write on a real SQLite file (WAL, synchronous=NORMAL, prepared statements).
 * Two views: the bare steps, and the full Router.ask()/feedback() path with an expert that answers instantly.
 * Targets: p99 ≤ 1 ms per decision and ≥ 20,000 decisions/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newDecisionId } from '../src/store/newDecisionId.js';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { ActiveGate } from '../src/ActiveGate.js';
import { Router } from '../src/router.js';
import { Store } from '../src/store/Store.js';
import { createRetrainer } from '../src/retrain.js';
import { readLabelledCsv } from '../src/gate/readLabelledCsv.js';
import { trainGate } from '../src/gate/trainGate.js';
import { EXPERT_IDS, type ExpertId } from '../src/gate/types.js';
import type { ExpertInfo, ExpertProvider, ExpertStatus, GenerateResult } from '../src/experts/types.js';
import { makeTempDir } from '../test/support/tempDir.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_N ?? 20_000);
const WARMUP = 2_000;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function report(name: string, perOpMs: Float64Array, wallMs: number, cpuMs: number): void {
  const sorted = Float64Array.from(perOpMs).sort();
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  const rate = (perOpMs.length / wallMs) * 1000;
  const cpuRate = (perOpMs.length / cpuMs) * 1000;
  console.log(`${name}\n  p50 ${(p50 * 1000).toFixed(1)} µs, p99 ${(p99 * 1000).toFixed(1)} µs (target ≤ 1000 µs: ${p99 <= 1 ? 'met' : 'MISSED'}, ${(p99 / 1).toFixed(2)}x of it)`
    + `\n  ${Math.round(rate).toLocaleString('en-US')} decisions/s wall, ${Math.round(cpuRate).toLocaleString('en-US')} per CPU-second `
    + `(target ≥ 20,000/s: ${rate >= 20_000 ? 'met' : 'MISSED'}, ${(rate / 20_000).toFixed(2)}x of it)`);
}

/** CPU time (user + system, all threads) in ms since `since`. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/** An expert that answers at once, so only the router's own work is measured. */
function instantExperts(): ExpertProvider {
  const info = (id: ExpertId): ExpertInfo => ({ id, displayName: id, legacyName: id, description: id, emoji: '*', isFallback: id === 'general', demo: false });
  const result: GenerateResult = { text: 'ok', promptTokens: 10, completionTokens: 1, timeToFirstTokenMs: 0, totalMs: 0, demo: false };
  return {
    list: () => EXPERT_IDS.map(info),
    info,
    fallbackId: () => 'general',
    status: () => EXPERT_IDS.map((id): ExpertStatus => ({ ...info(id), state: 'loaded', unavailableReason: null, active: 0, queued: 0 })),
    generate: async () => result,
    dispose: async () => undefined,
  };
}

async function main(): Promise<void> {
  const shared = path.resolve(ROOT, '../shared/data/public_routing.csv');
  const questionsFile = fs.existsSync(shared) ? shared : path.join(ROOT, 'data/dataset.csv');
  const questions = readLabelledCsv(questionsFile).map((r) => r.text);
  const gate = trainGate(readLabelledCsv(path.join(ROOT, 'data/dataset.csv'))).gate;
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores (other work on the machine inflates the tail)`);
  console.log(`router overhead, generation excluded: ${N.toLocaleString('en-US')} questions from ${path.relative(ROOT, questionsFile)} (${questions.length} distinct), gate ${gate.version}`);

  const tmp = makeTempDir('moe-bench-');
  try {
    // 0. The gate alone, to attribute the totals below.
    {
      const per = new Float64Array(N);
      let wall = 0;
      let cpu: NodeJS.CpuUsage = process.cpuUsage();
      for (let i = -WARMUP; i < N; i++) {
        const q = questions[(i + WARMUP) % questions.length]!;
        const t0 = performance.now();
        gate.route(q);
        const dt = performance.now() - t0;
        if (i === -1) cpu = process.cpuUsage();
        if (i >= 0) {
          per[i] = dt;
          wall += dt;
        }
      }
      report('gate.route alone (for attribution; the gate has its own bench)', per, wall, cpuMsSince(cpu));
    }

    // 1. The bare steps.
    {
      const store = Store.open(path.join(tmp.dir, 'steps.sqlite'), { keepText: true, backgroundCheckpoints: true });
      const per = new Float64Array(N);
      let wall = 0;
      let cpu: NodeJS.CpuUsage = process.cpuUsage();
      for (let i = -WARMUP; i < N; i++) {
        const q = questions[(i + WARMUP) % questions.length]!;
        const t0 = performance.now();
        const d = gate.route(q);
        const id = newDecisionId();
        store.insertDecision({
          id, createdAt: Date.now(), platform: 'http', channelId: null, userId: `u${i & 1023}`, query: q, gateVersion: d.gateVersion,
          label: d.label, gateExpert: d.expert, expert: d.expert, confidence: d.confidence, probabilities: d.probabilities,
          fallbackReason: d.fallbackReason, reroutedFrom: null,
        });
        store.completeDecision(id, { expert: d.expert, fallbackReason: d.fallbackReason, latencyMs: 1, completedAt: Date.now(), answer: 'ok', promptTokens: 10, completionTokens: 1 });
        store.recordFeedback({ decisionId: id, userId: 'voter', vote: 1, correctedExpert: null, isAdmin: false, createdAt: Date.now() });
        const dt = performance.now() - t0;
        if (i === -1) cpu = process.cpuUsage();
        if (i >= 0) {
          per[i] = dt;
          wall += dt;
        }
      }
      report('steps: gate.route + insert pending + complete + vote', per, wall, cpuMsSince(cpu));
      store.close();
    }

    // 2. The full Router path (validation, rate limiter, observers, in-flight tracking) with an instant expert.
    {
      const config = loadConfig({ RATE_LIMIT_PER_USER: 'off', LOG_LEVEL: 'silent' });
      const store = Store.open(path.join(tmp.dir, 'router.sqlite'), { keepText: true, backgroundCheckpoints: true });
      const activeGate = new ActiveGate(gate);
      const router = new Router({ config, store, experts: instantExperts(), gate: activeGate, retrainer: createRetrainer({ config, store, activeGate }) });
      const per = new Float64Array(N);
      let started = performance.now();
      let cpu: NodeJS.CpuUsage = process.cpuUsage();
      for (let i = -WARMUP; i < N; i++) {
        const q = questions[(i + WARMUP) % questions.length]!;
        const t0 = performance.now();
        const r = await router.ask(q, { platform: 'http', userId: `u${i & 1023}` });
        router.feedback(r.decisionId, 'voter', 1);
        if (i >= 0) per[i] = performance.now() - t0;
        if (i === -1) {
          started = performance.now();
          cpu = process.cpuUsage();
        }
      }
      report('Router.ask + Router.feedback, instant expert (validation, rate limiter, observers included)', per, performance.now() - started, cpuMsSince(cpu));
      await router.close();
      store.close();
    }
  } finally {
    tmp.remove();
  }
}

await main();
