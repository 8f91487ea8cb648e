/**
 * The hourly counts the dashboard reads (migration 008's triggers) against the same figures counted from the raw rows,
 * after every kind of write the store does: pending inserts, completions that change the answering expert, failures,
 * replaced votes that move to another hour, `moe forget`, re-routes, follow-ups, and a database migrated with rows in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { Store } from '../../src/store/Store.js';
import { AdminQueries } from '../../src/store/AdminQueries.js';
import { migrate, readMigrations, defaultMigrationsDir } from '../../src/store/migrate.js';
import type { ExpertId, Label } from '../../src/gate/types.js';
import { makeTempDir } from '../support/tempDir.js';
import { seededRandom } from '../../src/gate/addNoise.js';

const HOUR = 3_600_000;
const EXPERTS: ExpertId[] = ['healthcare', 'finance', 'cybersecurity', 'general'];
const PROBS: Record<Label, number> = { healthcare: 0.25, finance: 0.25, cybersecurity: 0.25, none: 0.25 };

/** The dashboard's figures counted the slow way, straight from decisions and feedback (questions once answered or failed). */
function bruteForce(store: Store, from: number, to: number): Record<string, unknown> {
  const db = store.db;
  const all = <T>(sql: string, ...params: unknown[]): T[] => db.prepare(sql).all(...params) as T[];
  const routed = "CASE WHEN d.rerouted_from IS NOT NULL THEN d.gate_expert ELSE COALESCE(d.chosen_expert, d.gate_expert) END";
  return {
    byExpert: Object.fromEntries(all<{ expert: string; n: number }>("SELECT expert, COUNT(*) AS n FROM decisions WHERE status <> 'pending' GROUP BY expert").map((r) => [r.expert, r.n])),
    byStatus: { answered: 0, failed: 0, cancelled: 0, ...Object.fromEntries(all<{ status: string; n: number }>("SELECT status, COUNT(*) AS n FROM decisions WHERE status <> 'pending' GROUP BY status").map((r) => [r.status, r.n])) },
    // A forced choice (the caller named the expert) is not a fallback.
    fallbacks: all<{ n: number }>("SELECT COUNT(*) AS n FROM decisions WHERE fallback_reason IS NOT NULL AND fallback_reason <> 'forced' AND status <> 'pending'")[0]!.n,
    reroutes: all<{ n: number }>("SELECT COUNT(*) AS n FROM decisions WHERE rerouted_from IS NOT NULL AND status <> 'pending'")[0]!.n,
    followUps: all<{ n: number }>("SELECT COUNT(*) AS n FROM decisions WHERE follow_up = 1 AND status <> 'pending'")[0]!.n,
    votes: all<{ n: number; up: number | null }>('SELECT COUNT(*) AS n, SUM(vote = 1) AS up FROM feedback')[0],
    perHour: all("SELECT created_at / 3600000 AS hour, expert, COUNT(*) AS n, SUM(fallback_reason IS NOT NULL AND fallback_reason <> 'forced') AS fb FROM decisions WHERE created_at >= ? AND created_at < ? AND status <> 'pending' GROUP BY 1, 2 ORDER BY 1, 2", from, to),
    votesPerHour: all('SELECT f.created_at / 3600000 AS hour, d.expert, COUNT(*) AS n, SUM(f.vote = 1) AS up FROM feedback f JOIN decisions d ON d.id = f.decision_id WHERE f.created_at >= ? AND f.created_at < ? GROUP BY 1, 2 ORDER BY 1, 2', from, to),
    confusion: all(`SELECT ${routed} AS chosen, f.corrected_expert AS right, COUNT(*) AS n FROM feedback f JOIN decisions d ON d.id = f.decision_id
      WHERE f.corrected_expert IS NOT NULL GROUP BY 1, 2
      UNION ALL SELECT ${routed}, d.expert, COUNT(*) FROM feedback f JOIN decisions d ON d.id = f.decision_id
      WHERE f.vote = 1 AND f.corrected_expert IS NULL AND d.rerouted_from IS NOT NULL GROUP BY 1, 2`),
    busy: all(`SELECT ${routed} AS expert, COUNT(*) AS n FROM decisions d WHERE fallback_reason = 'expert_busy' AND status <> 'pending' GROUP BY 1 ORDER BY 1`),
  };
}

/** The same figures as the dashboard reads them. */
function fromDashboard(q: AdminQueries, from: number, to: number): Record<string, unknown> {
  const s = q.summary();
  const ts = q.timeSeries({ from, to, bucket: 'hour' });
  const perHour: { hour: number; expert: string; n: number; fb: number }[] = [];
  const votesPerHour: { hour: number; expert: string; n: number; up: number }[] = [];
  ts.buckets.forEach((start, b) => {
    for (const expert of Object.keys(ts.questions).sort()) {
      const n = ts.questions[expert]![b]!;
      if (n > 0) perHour.push({ hour: start / HOUR, expert, n, fb: 0 });
    }
    for (const expert of Object.keys(ts.votes).sort()) {
      const n = ts.votes[expert]![b]!;
      if (n > 0) votesPerHour.push({ hour: start / HOUR, expert, n, up: ts.upvotes[expert]![b]! });
    }
  });
  // Fallbacks are per bucket, not per expert: spread them back for the comparison below.
  return { s, ts, perHour, votesPerHour, confusion: q.confusion(), busy: q.expertFigures(0) };
}

function compare(store: Store, q: AdminQueries, from: number, to: number): void {
  const want = bruteForce(store, from, to);
  const got = fromDashboard(q, from, to);
  const s = got.s as ReturnType<AdminQueries['summary']>;
  assert.deepEqual(s.byExpert, want.byExpert);
  assert.deepEqual(s.byStatus, want.byStatus);
  assert.equal(s.fallbacks, want.fallbacks);
  assert.equal(s.reroutes, want.reroutes);
  assert.equal(s.conversations.followUps, want.followUps);
  const votes = want.votes as { n: number; up: number | null };
  assert.equal(s.votes, votes.n);
  assert.equal(s.upvotes, votes.up ?? 0);
  assert.deepEqual((got.perHour as { hour: number; expert: string; n: number }[]).map(({ hour, expert, n }) => ({ hour, expert, n })),
    (want.perHour as { hour: number; expert: string; n: number }[]).map(({ hour, expert, n }) => ({ hour, expert, n })));
  const ts = got.ts as ReturnType<AdminQueries['timeSeries']>;
  const fbWanted = new Map<number, number>();
  for (const r of want.perHour as { hour: number; fb: number }[]) fbWanted.set(r.hour, (fbWanted.get(r.hour) ?? 0) + r.fb);
  ts.buckets.forEach((start, b) => assert.equal(ts.fallbacks[b], fbWanted.get(start / HOUR) ?? 0, `fallbacks in hour ${start / HOUR}`));
  assert.deepEqual(got.votesPerHour, want.votesPerHour);
  const cells: Record<string, Record<string, number>> = {};
  for (const r of want.confusion as { chosen: string; right: string; n: number }[]) (cells[r.chosen] ??= {})[r.right] = ((cells[r.chosen] ??= {})[r.right] ?? 0) + r.n;
  assert.deepEqual((got.confusion as ReturnType<AdminQueries['confusion']>).cells, cells);
  const busy = got.busy as ReturnType<AdminQueries['expertFigures']>;
  for (const r of want.busy as { expert: string; n: number }[]) assert.equal(busy[r.expert]?.busyRejections, r.n, r.expert);
}

test('hourly counts match the raw rows after inserts, completions, failures, re-routes, follow-ups, replaced votes and forget', async (t) => {
  const tmp = makeTempDir('moe-hourly-');
  const store = Store.open(path.join(tmp.dir, 'moe.sqlite'), { keepText: true });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  const q = new AdminQueries(store.db, { keepText: true, flush: () => store.flush() });
  const rnd = seededRandom(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const start = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;
  const ids: string[] = [];
  for (let i = 0; i < 400; i++) {
    const createdAt = start + Math.floor(rnd() * 48 * HOUR);
    const gateExpert = pick(EXPERTS);
    const rerouted = ids.length > 0 && rnd() < 0.1 ? pick(ids) : null;
    const id = uuidv7({ msecs: createdAt });
    // A /v1 caller that names the expert: logged with fallback_reason `forced`, which is not a fallback.
    const forced = !rerouted && rnd() < 0.1;
    const routedReason = forced ? 'forced' : gateExpert === 'general' ? 'off_topic' : null;
    store.insertDecision({
      id, createdAt, platform: 'http', channelId: null, userId: `u${i % 7}`, query: `q${i}`, gateVersion: 'g', label: 'finance',
      gateExpert, expert: rerouted ? pick(EXPERTS) : gateExpert, confidence: 0.8, probabilities: PROBS,
      fallbackReason: routedReason, reroutedFrom: rerouted,
    });
    ids.push(id);
    if (rnd() < 0.15) store.db.prepare("UPDATE decisions SET follow_up = 1, route_reason = ?, chosen_expert = ? WHERE id = ?").run(pick(['sticky', 'switched']), pick(EXPERTS), id);
    const r = rnd();
    // A busy expert: the fallback answers, and the row's expert changes at completion.
    if (r < 0.1) store.completeDecision(id, { expert: 'general', fallbackReason: 'expert_busy', latencyMs: 300, completedAt: createdAt + 300, answer: 'a', promptTokens: 5, completionTokens: 30 });
    else if (r < 0.8) store.completeDecision(id, { expert: gateExpert, fallbackReason: routedReason, latencyMs: 200, completedAt: createdAt + 200, answer: 'a', promptTokens: 5, completionTokens: 20 });
    else if (r < 0.9) store.failDecision(id, { expert: gateExpert, fallbackReason: forced ? 'forced' : null, latencyMs: 50, completedAt: createdAt + 50, error: 'boom' });
  }
  store.flush();
  const pending = (store.db.prepare("SELECT COUNT(*) AS n FROM decisions WHERE status = 'pending'").get() as { n: number }).n;
  assert.ok(pending > 0, 'some questions are still in flight (not counted until they finish)');
  for (let v = 0; v < 300; v++) {
    const id = pick(ids);
    const row = store.getDecision(id)!;
    const vote = rnd() < 0.6 ? 1 : -1;
    store.recordFeedback({
      decisionId: id, userId: `voter${v % 40}`, vote, correctedExpert: vote === -1 && rnd() < 0.5 ? pick(EXPERTS) : null, isAdmin: false,
      createdAt: row.createdAt + Math.floor(rnd() * 5 * HOUR), // a later vote may replace an earlier one from another hour
    });
  }
  const from = start - HOUR;
  const to = start + 60 * HOUR;
  compare(store, q, from, to);

  // Interrupted answers fail at start-up (and count from then on); retention drops text; `moe forget` removes votes.
  store.failPendingDecisions(start + 49 * HOUR);
  store.purgeTextBefore(start + 24 * HOUR);
  const forgotten = store.forgetUser('voter3');
  assert.ok(forgotten.votes > 0);
  compare(store, q, from, to);
});

test('migrating a database that already has decisions and votes fills the hourly counts from them', async (t) => {
  const tmp = makeTempDir('moe-hourly-migrate-');
  t.after(tmp.remove);
  const file = path.join(tmp.dir, 'moe.sqlite');
  const db = new BetterSqlite3(file);
  const migrations = readMigrations(defaultMigrationsDir());
  const mine = migrations.find((m) => m.sql.includes('CREATE TABLE decision_hours'))!;
  // Every migration before ours, then rows written without triggers, then ours (at open).
  migrate(db, migrations, mine.version - 1);
  const insert = db.prepare(`INSERT INTO decisions (id, created_at, platform, query_chars, gate_version, label, gate_expert, expert, confidence,
    probabilities_json, fallback_reason, status, completion_tokens, latency_ms) VALUES (?, ?, 'http', 1, 'g', 'finance', ?, ?, 0.9, '{}', ?, 'answered', 10, 100)`);
  const base = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
  for (let i = 0; i < 30; i++) insert.run(`d${i}`, base + i * 1_000_000, EXPERTS[i % 4], EXPERTS[i % 4], i % 4 === 3 ? 'off_topic' : i % 5 === 0 ? 'forced' : null);
  db.prepare("INSERT INTO feedback (decision_id, user_id, vote, corrected_expert, created_at) VALUES ('d1', 'v', -1, 'healthcare', ?)").run(base + 2_000_000);
  db.close();
  const store = Store.open(file, { keepText: true });
  t.after(() => store.close());
  compare(store, new AdminQueries(store.db, { keepText: true }), base - HOUR, base + 20 * HOUR);
  assert.equal(new AdminQueries(store.db, { keepText: true }).summary().decisions, 30);
  assert.equal(new AdminQueries(store.db, { keepText: true }).summary().fallbacks, 7, 'the off-topic rows; the forced ones are not fallbacks');
});
