/**
 * Retraining the gate from votes: build the training set, train a candidate, compare it with the active gate on the
 * same held-out rows, record it, and promote + hot-swap it only when it is not worse by RETRAIN_MARGIN. One run at a
 * time, in this process (callers share the run) and across processes (the retrain lock).
 */
import type { Config } from '../config.js';
import type { RetrainReport } from '../core/types.js';
import type { Logger } from '../logger.js';
import { RouterError } from '../core/errors.js';
import { GateVersions } from '../store/GateVersions.js';
import { acquireRetrainLock, releaseRetrainLock } from '../store/RetrainLock.js';
import type { Store } from '../store/Store.js';
import { readLoggedQuestions, readVotes } from '../store/TrainingLog.js';
import { recordInitialGate, type ActiveGate } from './ActiveGate.js';
import { buildTrainingSet, HOLDOUT_KEY } from './buildTrainingSet.js';
import { compareGates } from './decidePromotion.js';
import { DEFAULT_FEEDBACK_RULES, type FeedbackRules } from './feedbackExamples.js';
import { gateFile, gatesDir, removeStaleTempFiles, withUniqueVersion } from './GateFiles.js';
import { pruneGateVersions } from './pruneGateVersions.js';
import { readDataset } from './readDataset.js';
import { trainOffThread } from './trainOffThread.js';

/** The stages of a run, in order; `onStage` is called at the start of each. */
export const RETRAIN_STAGES = ['locked', 'training', 'evaluating', 'saving', 'recorded', 'done'] as const;
export type RetrainStage = (typeof RETRAIN_STAGES)[number];

export interface RetrainProgress {
  /** 1-based position of the stage in RETRAIN_STAGES, for a progress bar. */
  step: number;
  steps: number;
  /** One line for a person: what the run is doing now. */
  message: string;
}

export interface RetrainOptions {
  /** Who asked (user id or "cli"/"schedule"), recorded as the reason. */
  requestedBy?: string;
  /** Progress (the CLI prints it, the admin UI can show it; tests use it to stop a run at a given point). */
  onStage?: (stage: RetrainStage, progress: RetrainProgress) => void | Promise<void>;
}

export interface Retrainer {
  /** Retrains now; concurrent callers in this process share the run in progress and its report. */
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

export function createRetrainer(deps: RetrainerDeps): Retrainer {
  const { config, store, activeGate } = deps;
  const rules = deps.rules ?? DEFAULT_FEEDBACK_RULES;
  const versions = new GateVersions(store);
  let running: Promise<RetrainReport> | null = null;

  async function run(options: RetrainOptions): Promise<RetrainReport> {
    const started = performance.now();
    const requestedBy = options.requestedBy ?? 'unknown';
    const stage = async (s: RetrainStage, message: string): Promise<void> =>
      options.onStage?.(s, { step: RETRAIN_STAGES.indexOf(s) + 1, steps: RETRAIN_STAGES.length, message });
    const lock = acquireRetrainLock(store, requestedBy);
    if (!lock.ok) {
      const since = new Date(lock.holder.started_at).toISOString();
      throw new RouterError('retrain_unavailable', { detail: `a retraining is already running (asked by ${lock.holder.owner} at ${since}); try again in a minute` });
    }
    try {
      await stage('locked', 'reading the dataset, the votes and the logged questions');
      removeStaleTempFiles(gatesDir(config));
      recordInitialGate(versions, config, activeGate.current());

      const logged = rules.selfTrainingMinConfidence === null ? [] : readLoggedQuestions(store, rules.selfTrainingLimit);
      const set = buildTrainingSet(readDataset(config.datasetPath), readVotes(store), rules, { logged, activeGate: activeGate.current() });
      await stage('training', `training on ${set.train.length} examples (${set.feedbackTrain.length} from votes, ${set.selfTrain.length} self-training)`);
      const candidate = withUniqueVersion(versions, await trainOffThread(set.train, deps.logger));

      await stage('evaluating', `comparing with the active gate on ${set.heldOut.length} held-out rows`);
      const active = activeGate.current();
      // A gate trained on our held-out rows (e.g. by `moe train`) would win unfairly; compare with the same recipe instead.
      const comparable = versions.get(active.version)?.metrics.holdoutKey === HOLDOUT_KEY;
      const baseline = comparable ? active : await trainOffThread(set.dataTrain, deps.logger);
      const cmp = compareGates(candidate, baseline, set, config.retrainMargin);
      const reason = comparable ? cmp.reason : `${cmp.reason} (baseline: our data alone, since the active gate ${active.version} was trained on the held-out rows)`;

      await stage('saving', `saving candidate ${candidate.version}`);
      const file = gateFile(config, candidate.version);
      candidate.save(file);
      const metrics = {
        holdoutKey: HOLDOUT_KEY,
        heldOutAccuracy: cmp.newAccuracy,
        baselineAccuracy: cmp.oldAccuracy,
        baselineVersion: comparable ? active.version : null,
        dataHeldOut: cmp.dataHeldOut,
        feedbackHeldOut: cmp.feedbackHeldOut,
        selfTrainingExamples: set.selfTrain.length,
        votesUsed: set.votesUsed,
        votesSkipped: set.votesSkipped,
        requestedBy,
        training: candidate.metrics,
      };
      versions.insert({
        version: candidate.version, createdAt: Date.now(), path: file, metrics,
        examples: set.train.length, feedbackExamples: set.feedbackTrain.length, promoted: cmp.promote, reason,
      }, { activate: cmp.promote });
      await stage('recorded', cmp.promote ? `promoted ${candidate.version}` : `recorded ${candidate.version}; kept ${active.version}`);
      if (cmp.promote) activeGate.swap(candidate);
      prune();

      const report: RetrainReport = {
        version: candidate.version,
        promoted: cmp.promote,
        reason,
        examplesUsed: set.train.length,
        feedbackExamples: set.feedbackTrain.length,
        oldAccuracy: cmp.oldAccuracy,
        newAccuracy: cmp.newAccuracy,
        oldVersion: active.version,
        durationMs: Math.round(performance.now() - started),
      };
      deps.logger?.info({ ...report, reason: undefined, requestedBy }, cmp.promote ? 'retrain: promoted a new gate' : 'retrain: kept the active gate');
      await stage('done', 'done');
      return report;
    } finally {
      releaseRetrainLock(store);
    }
  }

  /** Old versions go after a run; a failure here costs disk space, not the run. */
  function prune(): void {
    try {
      const { removed } = pruneGateVersions(versions, config);
      if (removed.length) deps.logger?.info({ removed }, 'retrain: pruned old gate versions');
    } catch (err) {
      deps.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'retrain: could not prune old gate versions');
    }
  }

  return {
    retrain(options: RetrainOptions = {}): Promise<RetrainReport> {
      running ??= run(options).finally(() => {
        running = null;
      });
      return running;
    },
  };
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
