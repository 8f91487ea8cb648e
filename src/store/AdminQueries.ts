/**
 * The admin dashboard's numbers: SQL aggregates over the decision log, votes and gate versions, one prepared
 * statement each. Read-only; every figure the dashboard shows comes from here (or from the live router).
 */
import type { Database, Statement } from 'better-sqlite3';
import type {
  Bucket, ConfusionMatrix, ExpertLogFigures, GateVersionSummary, RecentDecision, RecentFilter, SummaryCounts, TimeSeries,
} from './adminTypes.js';

export interface AdminQueriesOptions {
  /** LOG_QUERY_TEXT: when false, question text is never read, even from rows logged before it was turned off. */
  keepText: boolean;
  /** Commits writes queued by the Store before a read (Store.flush), so the dashboard sees every logged row. */
  flush?: () => void;
}

const HOUR_MS = 3_600_000;
const BUCKET_MS: Record<Bucket, number> = { hour: HOUR_MS, day: 24 * HOUR_MS };
/** The most buckets one time series may have (100 days of hours); longer ranges must use day buckets. */
export const MAX_BUCKETS = 2_400;

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function record(x: unknown): Record<string, unknown> {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
}

export class AdminQueries {
  private readonly keepText: boolean;
  private readonly flush: () => void;
  private readonly s: Record<string, Statement>;
  private readonly db: Database;
  private readonly recentCache = new Map<string, Statement>();

  constructor(db: Database, options: AdminQueriesOptions) {
    this.keepText = options.keepText;
    this.flush = options.flush ?? (() => undefined);
    const p = (sql: string): Statement => db.prepare(sql);
    // Every count comes from the hourly tables the triggers of migration 008 keep: reads cost the hours, not the rows.
    this.s = {
      byExpert: p(`SELECT expert, status, SUM(n) AS n, SUM(fallbacks) AS fallbacks, SUM(reroutes) AS reroutes,
        SUM(follow_ups) AS followUps, SUM(sticky) AS sticky, SUM(switched) AS switched
        FROM decision_hours GROUP BY expert, status`),
      votes: p('SELECT SUM(n) AS n, SUM(CASE WHEN vote = 1 THEN n END) AS up, SUM(CASE WHEN corrected_expert <> \'\' THEN n END) AS corrections FROM vote_hours'),
      // Rows in hour order, summed into buckets in JS: a GROUP BY on a computed bucket cost several times the read.
      questionsSeries: p('SELECT hour, expert, n, fallbacks FROM decision_hours WHERE hour >= ? AND hour < ?').raw(),
      votesSeries: p('SELECT hour, expert, n, CASE WHEN vote = 1 THEN n ELSE 0 END FROM vote_hours WHERE hour >= ? AND hour < ?').raw(),
      // A correction names the right expert; a 👍 on a re-routed answer says the expert asked the second time was right.
      confusion: p(`SELECT routed_expert AS chosen, corrected_expert AS right, 'correction' AS source, SUM(n) AS n
          FROM vote_hours WHERE corrected_expert <> '' GROUP BY chosen, right
        UNION ALL
        SELECT routed_expert AS chosen, expert AS right, 'reroute' AS source, SUM(n) AS n
          FROM vote_hours WHERE vote = 1 AND corrected_expert = '' AND rerouted = 1 GROUP BY chosen, right`),
      gateVersions: p(`SELECT version, created_at, active, promoted, examples, feedback_examples, reason, metrics_json
        FROM gate_versions WHERE pruned_at IS NULL ORDER BY created_at DESC, rowid DESC`),
      busy: p('SELECT routed_expert AS expert, SUM(busy) AS n FROM decision_hours GROUP BY routed_expert'),
      tokens: p(`SELECT expert, SUM(timed) AS n, SUM(tokens) AS tokens, SUM(latency_ms) AS ms FROM decision_hours
        WHERE hour >= ? AND status = 'answered' GROUP BY expert`),
    };
    this.db = db;
  }

  summary(): SummaryCounts {
    this.flush();
    const byExpert: Record<string, number> = {};
    const byStatus: Record<string, number> = { answered: 0, failed: 0, cancelled: 0 };
    let decisions = 0;
    let fallbacks = 0;
    let reroutes = 0;
    let followUps = 0;
    let sticky = 0;
    let switched = 0;
    type Row = { expert: string; status: string; n: number; fallbacks: number; reroutes: number; followUps: number; sticky: number; switched: number };
    for (const r of this.s.byExpert!.all() as Row[]) {
      if (r.n === 0) continue; // a row every decision moved out of
      byExpert[r.expert] = (byExpert[r.expert] ?? 0) + r.n;
      byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
      decisions += r.n;
      fallbacks += r.fallbacks;
      reroutes += r.reroutes;
      followUps += r.followUps;
      sticky += r.sticky;
      switched += r.switched;
    }
    const v = this.s.votes!.get() as { n: number | null; up: number | null; corrections: number | null };
    const votes = v.n ?? 0;
    const upvotes = v.up ?? 0;
    return {
      decisions,
      byExpert,
      fallbacks,
      fallbackRate: decisions ? fallbacks / decisions : 0,
      votes,
      upvotes,
      downvotes: votes - upvotes,
      upvoteRate: votes ? upvotes / votes : null,
      corrections: v.corrections ?? 0,
      reroutes,
      byStatus,
      conversations: { followUps, followUpShare: decisions ? followUps / decisions : 0, sticky, switched },
    };
  }

  /** Questions, fallbacks and votes per bucket in [from, to); `from` is rounded down to a whole bucket (UTC). */
  timeSeries(range: { from: number; to: number; bucket: Bucket }): TimeSeries {
    this.flush();
    const size = BUCKET_MS[range.bucket];
    const from = Math.floor(range.from / size) * size;
    const count = Math.max(1, Math.ceil((range.to - from) / size));
    if (count > MAX_BUCKETS) throw new RangeError(`${count} ${range.bucket} buckets is too many (at most ${MAX_BUCKETS}); use day buckets`);
    const to = from + count * size;
    const buckets = Array.from({ length: count }, (_, i) => from + i * size);
    const zeros = (): number[] => new Array<number>(count).fill(0);
    const questions: Record<string, number[]> = {};
    const fallbacks = zeros();
    const totals = zeros();
    const fromHour = from / HOUR_MS;
    const hoursPerBucket = size / HOUR_MS;
    for (const [hour, expert, n, fb] of this.s.questionsSeries!.all(fromHour, to / HOUR_MS) as [number, string, number, number][]) {
      if (n === 0) continue; // a row every decision moved out of
      const b = Math.floor((hour - fromHour) / hoursPerBucket);
      (questions[expert] ??= zeros())[b]! += n;
      fallbacks[b]! += fb;
      totals[b]! += n;
    }
    const votes: Record<string, number[]> = {};
    const upvotes: Record<string, number[]> = {};
    for (const [hour, expert, n, up] of this.s.votesSeries!.all(fromHour, to / HOUR_MS) as [number, string, number, number][]) {
      if (n === 0) continue;
      const b = Math.floor((hour - fromHour) / hoursPerBucket);
      (votes[expert] ??= zeros())[b]! += n;
      (upvotes[expert] ??= zeros())[b]! += up;
    }
    return { bucket: range.bucket, bucketMs: size, buckets, questions, fallbacks, totals, votes, upvotes };
  }

  confusion(): ConfusionMatrix {
    this.flush();
    const cells: Record<string, Record<string, number>> = {};
    let fromCorrections = 0;
    let fromReroutes = 0;
    for (const r of this.s.confusion!.all() as { chosen: string; right: string; source: string; n: number }[]) {
      if (r.n === 0) continue;
      const row = (cells[r.chosen] ??= {});
      row[r.right] = (row[r.right] ?? 0) + r.n;
      if (r.source === 'correction') fromCorrections += r.n;
      else fromReroutes += r.n;
    }
    return { cells, fromCorrections, fromReroutes };
  }

  /** Newest first. Accuracy, macro-F1 and calibration come from the retrainer's metrics, whichever it recorded. */
  gateVersions(): GateVersionSummary[] {
    this.flush();
    const rows = this.s.gateVersions!.all() as {
      version: string; created_at: number; active: number; promoted: number; examples: number; feedback_examples: number;
      reason: string | null; metrics_json: string;
    }[];
    return rows.map((r) => {
      let metrics: Record<string, unknown> = {};
      try {
        metrics = record(JSON.parse(r.metrics_json));
      } catch {
        // A damaged metrics column shows as missing numbers, not a broken dashboard.
      }
      const heldOut = record(record(metrics.training).heldOut);
      return {
        version: r.version,
        createdAt: r.created_at,
        active: r.active === 1,
        promoted: r.promoted === 1,
        examples: r.examples,
        feedbackExamples: r.feedback_examples,
        heldOutAccuracy: num(metrics.heldOutAccuracy) ?? num(heldOut.accuracy),
        baselineAccuracy: num(metrics.baselineAccuracy),
        macroF1: num(metrics.macroF1) ?? num(heldOut.macroF1),
        ece: num(metrics.ece) ?? num(heldOut.ece),
        requestedBy: typeof metrics.requestedBy === 'string' ? metrics.requestedBy : null,
        reason: r.reason,
      };
    });
  }

  /** Busy rejections (all time) and generation speed (answers since the start of the hour of `since`) per expert. */
  expertFigures(since: number): Record<string, ExpertLogFigures> {
    this.flush();
    const out: Record<string, ExpertLogFigures> = {};
    const get = (id: string): ExpertLogFigures => (out[id] ??= { busyRejections: 0, tokensPerSecond: null, answered: 0 });
    for (const r of this.s.busy!.all() as { expert: string; n: number }[]) if (r.n > 0) get(r.expert).busyRejections = r.n;
    for (const r of this.s.tokens!.all(Math.floor(since / HOUR_MS)) as { expert: string; n: number; tokens: number; ms: number }[]) {
      if (r.n === 0) continue;
      const e = get(r.expert);
      e.answered = r.n;
      e.tokensPerSecond = r.ms > 0 ? (r.tokens * 1000) / r.ms : null;
    }
    return out;
  }

  /** The latest decisions matching `filter`, newest first, with their votes. */
  recentDecisions(filter: RecentFilter): RecentDecision[] {
    this.flush();
    const { statement, params } = this.recentStatement(filter);
    const rows = statement.all(params) as {
      id: string; created_at: number; platform: string; user_id: string | null; gate_expert: string; expert: string;
      confidence: number; fallback_reason: string | null; status: string; rerouted_from: string | null;
      up: number | null; down: number | null; corrected: string | null; query: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      platform: r.platform,
      userId: r.user_id,
      gateExpert: r.gate_expert,
      expert: r.expert,
      confidence: r.confidence,
      fallbackReason: r.fallback_reason,
      status: r.status,
      reroutedFrom: r.rerouted_from,
      upvotes: r.up ?? 0,
      downvotes: r.down ?? 0,
      correctedExpert: r.corrected,
      query: this.keepText ? r.query : null,
    }));
  }

  /** One statement per filter shape (at most 24), prepared on first use. */
  private recentStatement(filter: RecentFilter): { statement: Statement; params: Record<string, unknown> } {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.expert) {
      where.push('d.expert = @expert');
      params.expert = filter.expert;
    }
    // A forced choice (fallback_reason `forced`) is not a fallback, as in the hourly counts (migration 013).
    if (filter.fallback !== undefined) {
      where.push(filter.fallback ? "d.fallback_reason IS NOT NULL AND d.fallback_reason <> 'forced'" : "(d.fallback_reason IS NULL OR d.fallback_reason = 'forced')");
    }
    const vote = filter.vote ?? 'any';
    if (vote === 'up') where.push('EXISTS (SELECT 1 FROM feedback f WHERE f.decision_id = d.id AND f.vote = 1)');
    if (vote === 'down') where.push('EXISTS (SELECT 1 FROM feedback f WHERE f.decision_id = d.id AND f.vote = -1)');
    if (vote === 'none') where.push('NOT EXISTS (SELECT 1 FROM feedback f WHERE f.decision_id = d.id)');
    const key = where.join(' AND ');
    let statement = this.recentCache.get(key);
    if (!statement) {
      // Walks decisions newest first on the created_at index and stops at LIMIT, so it costs the page, not the log.
      statement = this.db.prepare(`SELECT d.id, d.created_at, d.platform, d.user_id, d.gate_expert, d.expert, d.confidence,
          d.fallback_reason, d.status, d.rerouted_from, ${this.keepText ? 'd.query' : 'NULL AS query'},
          (SELECT SUM(f.vote = 1) FROM feedback f WHERE f.decision_id = d.id) AS up,
          (SELECT SUM(f.vote = -1) FROM feedback f WHERE f.decision_id = d.id) AS down,
          (SELECT f.corrected_expert FROM feedback f WHERE f.decision_id = d.id AND f.corrected_expert IS NOT NULL
            ORDER BY f.created_at DESC LIMIT 1) AS corrected
        FROM decisions d ${key ? `WHERE ${key}` : ''} ORDER BY d.created_at DESC LIMIT @limit`);
      this.recentCache.set(key, statement);
    }
    return { statement, params };
  }
}
