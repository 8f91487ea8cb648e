/**
 * `npm run bench:admin`: every /admin/api/* read the dashboard makes, on a log of 100k decisions and 10k votes
 * (30 days, SQLite file in WAL mode as the bot runs it), through the real fastify routes (inject: the whole HTTP
 * pipeline without a socket) with bearer auth. Target: p99 ≤ 50 ms per request.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/app.js';
import { Store } from '../src/store/Store.js';
import { v7 as uuidv7 } from 'uuid';
import { readLabelledCsv } from '../src/gate/readLabelledCsv.js';
import { trainGate } from '../src/gate/trainGate.js';
import { silentLogger } from '../src/logger.js';
import { makeTempDir } from '../test/support/tempDir.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 100_000);
const VOTES = Number(process.env.BENCH_VOTES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const TARGET_MS = 50;
const DAY = 86_400_000;
const TOKEN = 'bench-admin-token';

/** Deterministic pseudo-random numbers (mulberry32), so every run seeds the same log. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EXPERTS = ['healthcare', 'finance', 'cybersecurity', 'general'] as const;
const LABELS = ['healthcare', 'finance', 'cybersecurity', 'none'] as const;

function seed(dbPath: string, now: number): void {
  const store = Store.open(dbPath, { keepText: true });
  const rnd = random(42);
  const ids: string[] = [];
  const insertVote = store.db.prepare(`INSERT OR IGNORE INTO feedback (decision_id, user_id, vote, corrected_expert, is_admin, created_at)
    VALUES (?, ?, ?, ?, 0, ?)`);
  const complete = store.db.prepare(`UPDATE decisions SET status = 'answered', answer = 'demo answer', latency_ms = ?, prompt_tokens = 40,
    completion_tokens = ?, completed_at = ? WHERE id = ?`);
  store.db.transaction(() => {
    for (let i = 0; i < DECISIONS; i++) {
      const createdAt = now - 30 * DAY + Math.floor((i / DECISIONS) * 30 * DAY);
      const label = LABELS[Math.floor(rnd() * 4)]!;
      const fallback = label === 'none' || rnd() < 0.05;
      const gateExpert = fallback ? 'general' : (label as (typeof EXPERTS)[number]);
      const busy = !fallback && rnd() < 0.01;
      const id = uuidv7({ msecs: createdAt });
      ids.push(id);
      store.insertDecision({
        id, createdAt, platform: rnd() < 0.5 ? 'discord' : 'slack', channelId: 'c1', userId: `u${Math.floor(rnd() * 2000)}`,
        query: `question number ${i} about ${label}`, gateVersion: 'g-bench', label, gateExpert, expert: busy ? 'general' : gateExpert,
        confidence: 0.5 + rnd() / 2, probabilities: { healthcare: 0.25, finance: 0.25, cybersecurity: 0.25, none: 0.25 },
        fallbackReason: busy ? 'expert_busy' : fallback ? 'off_topic' : null, reroutedFrom: null,
      });
      complete.run(200 + Math.floor(rnd() * 2000), 20 + Math.floor(rnd() * 200), createdAt + 1000, id);
    }
    for (let v = 0; v < VOTES; v++) {
      const i = Math.floor(rnd() * DECISIONS);
      const createdAt = now - 30 * DAY + Math.floor((i / DECISIONS) * 30 * DAY) + 60_000;
      const up = rnd() < 0.7;
      const corrected = !up && rnd() < 0.4 ? EXPERTS[Math.floor(rnd() * 4)]! : null;
      insertVote.run(ids[i], `voter${Math.floor(rnd() * 500)}`, up ? 1 : -1, corrected, createdAt);
    }
    for (let g = 0; g < 20; g++) {
      store.insertGateVersion({
        version: `g-bench-${g}`, createdAt: now - (20 - g) * DAY, path: 'none', examples: 8000, feedbackExamples: g * 10, promoted: g % 3 !== 1,
        reason: 'bench', metrics: { heldOutAccuracy: 0.9, training: { heldOut: { accuracy: 0.9, macroF1: 0.9, ece: 0.02 } } },
      });
    }
  })();
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  void store.close();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const tmp = makeTempDir('moe-bench-admin-');
  try {
    const now = Date.now();
    const dbPath = path.join(tmp.dir, 'moe.sqlite');
    let t = performance.now();
    seed(dbPath, now);
    console.log(`seeded ${DECISIONS.toLocaleString('en-US')} decisions and ${VOTES.toLocaleString('en-US')} votes over 30 days in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const config = loadConfig({
      DB_PATH: dbPath, GATE_PATH: path.join(tmp.dir, 'gate.json'), DATASET_PATH: path.join(ROOT, 'data/dataset.csv'),
      EXPERTS_PATH: path.join(ROOT, 'models/experts.json'), DEMO_MODELS_DIR: path.join(ROOT, 'models/demo'), LOG_LEVEL: 'silent',
      LLAMA_GPU: 'cpu', ADMIN_TOKEN: TOKEN, RETRAIN_INTERVAL: 'off',
    });
    t = performance.now();
    const gate = trainGate(readLabelledCsv(config.datasetPath)).gate;
    const app = await createApp(config, { gate, logger: silentLogger() });
    console.log(`app ready in ${((performance.now() - t) / 1000).toFixed(1)} s; ${RUNS} requests per endpoint after 10 warm-up\n`);

    const urls = [
      '/admin/api/summary',
      '/admin/api/timeseries?range=24h&bucket=hour',
      '/admin/api/timeseries?range=7d&bucket=day',
      '/admin/api/timeseries?range=30d&bucket=day',
      '/admin/api/timeseries?range=30d&bucket=hour',
      '/admin/api/timeseries?range=90d&bucket=day',
      '/admin/api/confusion',
      '/admin/api/gates',
      '/admin/api/experts',
      '/admin/api/decisions?limit=50',
      '/admin/api/decisions?limit=50&vote=down',
      '/admin/api/decisions?limit=50&expert=finance&fallback=false',
      '/admin/api/decisions?limit=50&vote=none&fallback=true',
    ];
    const headers = { authorization: `Bearer ${TOKEN}` };
    let worst = 0;
    console.log('| endpoint | p50 ms | p99 ms | max ms | target p99 ≤ 50 ms |');
    console.log('|---|---|---|---|---|');
    for (const url of urls) {
      for (let i = 0; i < 10; i++) await app.http.inject({ method: 'GET', url, headers });
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        const res = await app.http.inject({ method: 'GET', url, headers });
        times.push(performance.now() - s);
        if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      }
      times.sort((a, b) => a - b);
      const p99 = percentile(times, 0.99);
      worst = Math.max(worst, p99);
      console.log(`| ${url.replace('/admin/api/', '')} | ${percentile(times, 0.5).toFixed(2)} | ${p99.toFixed(2)} | ${times.at(-1)!.toFixed(2)} | ${p99 <= TARGET_MS ? 'met' : 'MISSED'} |`);
    }
    console.log(`\nworst p99 ${worst.toFixed(2)} ms (target ≤ ${TARGET_MS} ms: ${worst <= TARGET_MS ? 'met' : 'MISSED'}, ${(worst / TARGET_MS).toFixed(2)}x of it)`);
    await app.close();
  } finally {
    tmp.remove();
  }
}

await main();
