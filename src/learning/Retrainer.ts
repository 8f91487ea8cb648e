/**
 * Retraining the gate from votes: build the training set (our data + feedback examples), train a candidate, compare it
 * with the active gate on the same held-out rows, record it in gate_versions, and promote + hot-swap it only when it is
 * not worse by RETRAIN_MARGIN. One run at a time, in this process and across processes (a lock row in SQLite).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Store } from '../store/Store.js';
import type { ActiveGate } from './ActiveGate.js';
import type { RetrainReport } from '../core/types.js';
import type { Logger } from '../logger.js';
import { RouterError } from '../core/errors.js';
import { Gate } from '../gate/Gate.js';
import { isCorrect } from '../gate/evaluate.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { trainGate } from '../gate/trainGate.js';
import type { ExpertId, GateModel, Label, TrainingExample } from '../gate/types.js';
import {
  DEFAULT_FEEDBACK_RULES,
  isHeldOutDataRow,
  isHeldOutDecision,
  selfTrainingExamples,
  votesToExamples,
  type LoggedQuestion,
  type FeedbackRules,
  type FeedbackTrainingExample,
  type VoteRecord,
} from './feedbackExamples.js';

/** Share of our own rows never trained on by a retrained gate: the fixed part of the comparison. */
export const DATA_HOLDOUT_FRACTION = 0.1;
/** Share of voted decisions kept for the comparison instead of training. */
export const FEEDBACK_HOLDOUT_FRACTION = 0.1;
/** At most this many held-out feedback rows per user, so one account cannot steer the comparison. */
export const FEEDBACK_HOLDOUT_PER_USER = 5;
/** Names the split; a gate trained with another split (or none, like `moe train`) is not compared as-is. */
export const HOLDOUT_KEY = `data${DATA_HOLDOUT_FRACTION}-votes${FEEDBACK_HOLDOUT_FRACTION}-v1`;

export type RetrainStage = 'locked' | 'training' | 'evaluating' | 'saving' | 'recorded' | 'done';

export interface RetrainOptions {
  /** Who asked (user id or "cli"/"schedule"), recorded as the reason. */
  requestedBy?: string;
  /** Progress callback (logs; tests use it to stop a run at a given point). */
  onStage?: (stage: RetrainStage) => void | Promise<void>;
}

export interface Retrainer {
  retrain(options?: RetrainOptions): Promise<RetrainReport>;
}

export interface RetrainerDeps {
  config: Config;
  store: Store;
  activeGate: ActiveGate;
  logger?: Logger;
  /** Vote-to-example rules (default DEFAULT_FEEDBACK_RULES). */
  rules?: FeedbackRules;
}

// --- pure parts, shared with bench/learning.ts ---

export interface TrainingSet {
  train: TrainingExample[];
  /** Our own held-out rows plus held-out feedback rows: both gates are measured on exactly these. */
  heldOut: TrainingExample[];
  dataTrain: TrainingExample[];
  dataHeldOut: TrainingExample[];
  feedbackHeldOut: TrainingExample[];
  feedbackTrain: FeedbackTrainingExample[];
  /** Self-training rows from logged questions nobody voted on. */
  selfTrain: FeedbackTrainingExample[];
  /** Votes that became examples / were skipped, by reason. */
  votesUsed: number;
  votesSkipped: Record<string, number>;
}

/** Splits our data and the feedback examples into training and held-out rows (stable from run to run). */
export function buildTrainingSet(
  data: readonly TrainingExample[],
  votes: readonly VoteRecord[],
  rules: FeedbackRules = DEFAULT_FEEDBACK_RULES,
  options: {
    dataHoldout?: number;
    feedbackHoldout?: number;
    /** Logged questions for self-training (newest first). */
    logged?: readonly LoggedQuestion[];
    /** Re-scores the logged questions (the gate routing now knows more than the one that routed them); default none. */
    activeGate?: GateModel;
  } = {},
): TrainingSet {
  const dataFraction = options.dataHoldout ?? DATA_HOLDOUT_FRACTION;
  const fbFraction = options.feedbackHoldout ?? FEEDBACK_HOLDOUT_FRACTION;
  const dataTrain: TrainingExample[] = [];
  const dataHeldOut: TrainingExample[] = [];
  for (const row of data) (isHeldOutDataRow(row.text, dataFraction) ? dataHeldOut : dataTrain).push(row);

  const { examples, used, skipped } = votesToExamples(votes, rules);
  const feedbackTrain: FeedbackTrainingExample[] = [];
  const feedbackHeldOut: TrainingExample[] = [];
  const heldPerUser = new Map<string, number>();
  for (const e of examples) {
    if (!isHeldOutDecision(e.decisionId, fbFraction)) {
      feedbackTrain.push(e);
      continue;
    }
    // Only positive evidence is a reliable answer key; spread 👎 rows are training-only.
    if (e.source === 'downvote') continue;
    const n = heldPerUser.get(e.userId) ?? 0;
    if (n >= FEEDBACK_HOLDOUT_PER_USER) continue;
    heldPerUser.set(e.userId, n + 1);
    feedbackHeldOut.push({ text: e.text, label: e.label, kind: `feedback:${e.source}` });
  }
  const voted = new Set(votes.map((v) => v.decisionId));
  let logged = (options.logged ?? []).filter((q) => !voted.has(q.decisionId));
  const gate = options.activeGate;
  if (gate && rules.selfTrainingMinConfidence !== null) logged = logged.slice(0, rules.selfTrainingLimit).map((q) => rescore(gate, q));
  const selfTrain = selfTrainingExamples(logged, rules);
  return {
    train: [...dataTrain, ...feedbackTrain, ...selfTrain],
    heldOut: [...dataHeldOut, ...feedbackHeldOut],
    dataTrain,
    dataHeldOut,
    feedbackHeldOut,
    feedbackTrain,
    selfTrain,
    votesUsed: used,
    votesSkipped: skipped,
  };
}

function rescore(gate: GateModel, q: LoggedQuestion): LoggedQuestion {
  if (q.query === null) return q;
  const d = gate.route(q.query);
  return { ...q, topLabel: d.label, confidence: d.confidence, probabilities: d.probabilities };
}

/** Share of rows routed right (a `none` row is right when the gate falls back). Works on any GateModel. */
export function accuracyOf(gate: GateModel, rows: readonly TrainingExample[]): number {
  if (rows.length === 0) return 0;
  let ok = 0;
  for (const r of rows) if (isCorrect(r.label, gate.route(r.text))) ok++;
  return ok / rows.length;
}

export interface PromotionDecision {
  promote: boolean;
  reason: string;
}

/** The promotion guard: the candidate may be at most `margin` below the baseline on the same held-out rows. */
export function decidePromotion(newAccuracy: number, oldAccuracy: number | null, margin: number, heldOutRows: number): PromotionDecision {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  if (oldAccuracy === null) return { promote: true, reason: `no active gate to compare with; held-out accuracy ${pct(newAccuracy)} on ${heldOutRows} rows` };
  const delta = newAccuracy - oldAccuracy;
  const change = `${pct(oldAccuracy)} → ${pct(newAccuracy)} on ${heldOutRows} held-out rows`;
  if (delta >= -margin) return { promote: true, reason: `promoted: ${change} (${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(1)} points)` };
  return { promote: false, reason: `kept the active gate: ${change} is worse by more than the ${(margin * 100).toFixed(1)}-point margin` };
}

// --- SQL the retrainer needs beyond Store's methods (votes with rerouting links, the lock) ---

interface RawVote {
  decision_id: string;
  user_id: string;
  vote: 1 | -1;
  corrected_expert: ExpertId | null;
  is_admin: number;
  created_at: number;
  query: string | null;
  expert: ExpertId;
  fallback_reason: string | null;
  rerouted_from: string | null;
  probabilities_json: string | null;
}

/** Every vote with the decision it rates (oldest first). Probabilities only for bare 👎 (the only rule that reads them). */
export function readVotes(store: Store): VoteRecord[] {
  const rows = store.db
    .prepare(`SELECT f.decision_id, f.user_id, f.vote, f.corrected_expert, f.is_admin, f.created_at,
        d.query, d.expert, d.fallback_reason, d.rerouted_from,
        CASE WHEN f.vote = -1 AND f.corrected_expert IS NULL THEN d.probabilities_json END AS probabilities_json
      FROM feedback f JOIN decisions d ON d.id = f.decision_id ORDER BY f.created_at, f.rowid`)
    .all() as RawVote[];
  return rows.map((r) => ({
    decisionId: r.decision_id,
    userId: r.user_id,
    vote: r.vote,
    correctedExpert: r.corrected_expert,
    isAdmin: r.is_admin === 1,
    createdAt: r.created_at,
    query: r.query,
    expert: r.expert,
    fallbackReason: r.fallback_reason,
    reroutedFrom: r.rerouted_from,
    probabilities: parseProbabilities(r.probabilities_json),
  }));
}

function parseProbabilities(json: string | null): Record<Label, number> | null {
  if (json === null) return null;
  try {
    const p = JSON.parse(json) as Record<Label, number>;
    return typeof p === 'object' && p !== null ? p : null;
  } catch {
    return null;
  }
}

/** Most recent logged questions (text kept, not a re-route, nobody voted), newest first, for self-training. */
export function readLoggedQuestions(store: Store, limit: number): LoggedQuestion[] {
  const rows = store.db
    .prepare(`SELECT d.id, d.user_id, d.query, d.label, d.confidence FROM decisions d
      WHERE d.query IS NOT NULL AND d.rerouted_from IS NULL AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.decision_id = d.id)
      ORDER BY d.created_at DESC LIMIT ?`)
    .all(limit) as { id: string; user_id: string | null; query: string; label: Label; confidence: number }[];
  return rows.map((r) => ({ decisionId: r.id, userId: r.user_id, query: r.query, topLabel: r.label, confidence: r.confidence, probabilities: null }));
}

/** Votes on decisions whose text is still kept, cast after `sinceMs`: what RETRAIN_MIN_FEEDBACK counts. */
export function countNewVotes(store: Store, sinceMs: number): number {
  const row = store.db
    .prepare('SELECT COUNT(*) AS n FROM feedback f JOIN decisions d ON d.id = f.decision_id WHERE f.created_at > ? AND d.query IS NOT NULL')
    .get(sinceMs) as { n: number };
  return row.n;
}

const LOCK_NAME = 'retrain';

interface LockRow {
  owner: string;
  pid: number;
  host: string;
  started_at: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock row, or returns who holds it. A holder whose process is gone (crashed) is replaced. */
export function acquireRetrainLock(store: Store, owner: string, staleMs = 3_600_000): { ok: true } | { ok: false; holder: LockRow } {
  const host = os.hostname();
  return store.db.transaction((): { ok: true } | { ok: false; holder: LockRow } => {
    const holder = store.db.prepare('SELECT owner, pid, host, started_at FROM retrain_lock WHERE name = ?').get(LOCK_NAME) as LockRow | undefined;
    if (holder) {
      const dead = holder.host === host && !processAlive(holder.pid);
      if (!dead && Date.now() - holder.started_at < staleMs) return { ok: false, holder };
    }
    store.db.prepare('INSERT OR REPLACE INTO retrain_lock (name, owner, pid, host, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(LOCK_NAME, owner, process.pid, host, Date.now());
    return { ok: true };
  }).immediate();
}

export function releaseRetrainLock(store: Store): void {
  store.db.prepare('DELETE FROM retrain_lock WHERE name = ? AND pid = ? AND host = ?').run(LOCK_NAME, process.pid, os.hostname());
}

// --- files ---

let datasetCache: { file: string; mtimeMs: number; size: number; rows: TrainingExample[] } | null = null;

/** Our training set, parsed again only when the file changed (parsing is a tenth of a retraining). */
function readDataset(file: string): TrainingExample[] {
  const { mtimeMs, size } = fs.statSync(file);
  if (datasetCache?.file !== file || datasetCache.mtimeMs !== mtimeMs || datasetCache.size !== size) {
    datasetCache = { file, mtimeMs, size, rows: readLabelledCsv(file) };
  }
  return datasetCache.rows;
}

/** Gate files of every version live beside GATE_PATH, in gates/<version>.json. */
export function gatesDir(config: Pick<Config, 'gatePath'>): string {
  return path.join(path.dirname(path.resolve(config.gatePath)), 'gates');
}

/** Removes temp files a killed writer left behind (Gate.save writes <file>.<pid>.<time>.tmp, then renames). */
function removeStaleTempFiles(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.tmp')) continue;
    const pid = Number(/\.(\d+)\.[a-z0-9]+\.tmp$/.exec(f)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || !processAlive(pid)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** A copy of `gate` with another version id (two candidates trained in the same second could collide). */
function withVersion(gate: Gate, version: string): Gate {
  return Gate.fromJSON({ ...gate.toJSON(), version }, '(in memory)');
}

function uniqueVersion(store: Store, gate: Gate): Gate {
  if (!store.getGateVersion(gate.version)) return gate;
  for (let i = 2; ; i++) if (!store.getGateVersion(`${gate.version}-${i}`)) return withVersion(gate, `${gate.version}-${i}`);
}

/** Records the gate routing now (e.g. models/gate.json) as a version, so it can be listed and rolled back to. */
function recordInitialGate(store: Store, config: Config, gate: GateModel): void {
  if (store.activeGateVersion() || !(gate instanceof Gate)) return;
  if (store.getGateVersion(gate.version)) {
    store.setActiveGateVersion(gate.version);
    return;
  }
  const file = path.join(gatesDir(config), `${gate.version}.json`);
  gate.save(file);
  store.insertGateVersion({
    version: gate.version, createdAt: Date.parse(gate.createdAt) || Date.now(), path: file,
    metrics: { holdoutKey: null }, examples: gate.metrics?.trainRows ?? 0, feedbackExamples: 0, promoted: true,
    reason: `initial gate (${config.gatePath})`,
  });
  store.setActiveGateVersion(gate.version);
}

// --- the retrainer ---

export function createRetrainer(deps: RetrainerDeps): Retrainer {
  const { config, store, activeGate } = deps;
  const rules = deps.rules ?? DEFAULT_FEEDBACK_RULES;
  let running: Promise<RetrainReport> | null = null;

  async function run(options: RetrainOptions): Promise<RetrainReport> {
    const started = performance.now();
    const requestedBy = options.requestedBy ?? 'unknown';
    const lock = acquireRetrainLock(store, requestedBy);
    if (!lock.ok) {
      const since = new Date(lock.holder.started_at).toISOString();
      throw new RouterError('retrain_unavailable', `A retraining is already running (asked by ${lock.holder.owner} at ${since}); try again in a minute.`);
    }
    try {
      await options.onStage?.('locked');
      const dir = gatesDir(config);
      removeStaleTempFiles(dir);
      recordInitialGate(store, config, activeGate.current());

      const data = readDataset(config.datasetPath);
      const logged = rules.selfTrainingMinConfidence === null ? [] : readLoggedQuestions(store, rules.selfTrainingLimit);
      const set = buildTrainingSet(data, readVotes(store), rules, { logged, activeGate: activeGate.current() });
      await options.onStage?.('training');
      const { gate: trained } = trainGate(set.train);
      const candidate = uniqueVersion(store, trained);

      await options.onStage?.('evaluating');
      const active = activeGate.current();
      const activeRow = store.getGateVersion(active.version);
      // A gate trained on our held-out rows (e.g. by `moe train`) would win unfairly; compare with the same recipe instead.
      const comparable = activeRow?.metrics.holdoutKey === HOLDOUT_KEY;
      const baseline = comparable ? active : trainGate(set.dataTrain).gate;
      // Each part once: the combined accuracy is their row-weighted mean.
      const parts = {
        data: { n: set.dataHeldOut.length, candidate: accuracyOf(candidate, set.dataHeldOut), baseline: accuracyOf(baseline, set.dataHeldOut) },
        votes: { n: set.feedbackHeldOut.length, candidate: accuracyOf(candidate, set.feedbackHeldOut), baseline: accuracyOf(baseline, set.feedbackHeldOut) },
      };
      const combined = (k: 'candidate' | 'baseline'): number =>
        set.heldOut.length ? (parts.data[k] * parts.data.n + parts.votes[k] * parts.votes.n) / set.heldOut.length : 0;
      const newAccuracy = combined('candidate');
      const oldAccuracy = combined('baseline');
      const decision = decidePromotion(newAccuracy, oldAccuracy, config.retrainMargin, set.heldOut.length);
      const reason = comparable ? decision.reason : `${decision.reason} (baseline: our data alone, since the active gate ${active.version} was trained on the held-out rows)`;

      await options.onStage?.('saving');
      const file = path.join(dir, `${candidate.version}.json`);
      candidate.save(file);
      const metrics = {
        holdoutKey: HOLDOUT_KEY,
        heldOutAccuracy: newAccuracy,
        baselineAccuracy: oldAccuracy,
        baselineVersion: comparable ? active.version : null,
        dataHeldOut: parts.data,
        feedbackHeldOut: parts.votes,
        selfTrainingExamples: set.selfTrain.length,
        votesUsed: set.votesUsed,
        votesSkipped: set.votesSkipped,
        requestedBy,
        training: candidate.metrics,
      };
      store.db.transaction(() => {
        store.insertGateVersion({
          version: candidate.version, createdAt: Date.now(), path: file, metrics,
          examples: set.train.length, feedbackExamples: set.feedbackTrain.length, promoted: decision.promote, reason,
        });
        if (decision.promote) store.setActiveGateVersion(candidate.version);
      })();
      await options.onStage?.('recorded');
      if (decision.promote) activeGate.swap(candidate);

      const report: RetrainReport = {
        version: candidate.version,
        promoted: decision.promote,
        reason,
        examplesUsed: set.train.length,
        feedbackExamples: set.feedbackTrain.length,
        oldAccuracy,
        newAccuracy,
        oldVersion: active.version,
        durationMs: Math.round(performance.now() - started),
      };
      deps.logger?.info({ ...report, reason: undefined, requestedBy }, decision.promote ? 'retrain: promoted a new gate' : 'retrain: kept the active gate');
      await options.onStage?.('done');
      return report;
    } finally {
      releaseRetrainLock(store);
    }
  }

  return {
    retrain(options: RetrainOptions = {}): Promise<RetrainReport> {
      // Concurrent callers in this process share the run in progress (and its report).
      running ??= run(options).finally(() => {
        running = null;
      });
      return running;
    },
  };
}

// --- rollback, listing, background jobs ---

/** Makes `version` (default: the promoted version before the active one) active again; returns both versions. */
export function rollbackGate(store: Store, version?: string): { from: string | null; to: string } {
  const active = store.activeGateVersion();
  let target = version ? store.getGateVersion(version) : null;
  if (version && !target) throw new RouterError('not_found', `There is no gate version "${version}" (see \`moe gate list\`).`);
  if (!target) {
    if (!active) throw new RouterError('not_found', 'No gate is recorded as active yet, so there is nothing to roll back from.');
    target = store.listGateVersions().find((g) => g.promoted && !g.active && g.createdAt <= active.createdAt && g.version !== active.version) ?? null;
    if (!target) throw new RouterError('not_found', `No earlier promoted gate than ${active.version} to roll back to.`);
  }
  Gate.load(target.path); // fails with a clear GateFileError before anything changes when the file is missing or damaged
  store.setActiveGateVersion(target.version);
  return { from: active?.version ?? null, to: target.version };
}

/**
 * Polls gate_versions every `intervalMs` and swaps in the active version when another process (the CLI) changed it.
 * Returns a function that stops polling.
 */
export function watchActiveGate(store: Store, activeGate: ActiveGate, intervalMs: number, logger?: Logger): () => void {
  let lastError = '';
  const check = (): void => {
    try {
      const row = store.activeGateVersion();
      if (!row || row.version === activeGate.current().version) return;
      const gate = Gate.load(row.path);
      const previous = activeGate.swap(gate);
      lastError = '';
      logger?.info({ from: previous.version, to: gate.version }, 'gate: switched to the version made active in the database');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError) logger?.error({ err: message }, 'gate: could not load the active version; still routing with the current gate');
      lastError = message;
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Every RETRAIN_INTERVAL, retrains when at least RETRAIN_MIN_FEEDBACK new votes (with text) arrived since the last
 * candidate. Returns a function that stops the schedule.
 */
export function scheduleRetraining(retrainer: Retrainer, store: Store, config: Config, logger?: Logger): () => void {
  if (config.retrainIntervalMs === null) return () => undefined;
  const tick = (): void => {
    const last = store.listGateVersions()[0]?.createdAt ?? 0;
    const fresh = countNewVotes(store, last);
    if (fresh < Math.max(1, config.retrainMinFeedback)) {
      logger?.debug({ fresh, needed: config.retrainMinFeedback }, 'retrain: not enough new votes yet');
      return;
    }
    retrainer.retrain({ requestedBy: 'schedule' }).catch((err: unknown) => {
      logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'retrain: scheduled run did not happen');
    });
  };
  const timer = setInterval(tick, config.retrainIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** One paragraph for admins (CLI, /retrain replies): what happened, in numbers. */
export function formatRetrainReport(r: RetrainReport): string {
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const head = r.promoted ? `Promoted gate ${r.version} (was ${r.oldVersion ?? 'none'}).` : `Kept gate ${r.oldVersion ?? 'none'}; candidate ${r.version} was not promoted.`;
  return [
    head,
    `Held-out accuracy: ${pct(r.oldAccuracy)} → ${pct(r.newAccuracy)}. Trained on ${r.examplesUsed} examples, ${r.feedbackExamples} of them from votes, in ${(r.durationMs / 1000).toFixed(1)} s.`,
    r.reason.charAt(0).toUpperCase() + r.reason.slice(1) + '.',
  ].join('\n');
}
