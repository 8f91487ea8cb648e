/**
 * The core flow: a question comes in, the gate picks an expert, the decision is logged, the expert answers.
 * Read `ask()` top to bottom to know the product; the helpers below it are the details.
 */
import { setMaxListeners } from 'node:events';
import type { Config } from '../config.js';
import type { ActiveGate } from '../learning/ActiveGate.js';
import type { NewDecision, Store } from '../store/Store.js';
import { newDecisionId } from '../store/newDecisionId.js';
import type { Retrainer } from '../learning/Retrainer.js';
import { RouterError } from './errors.js';
import { shouldAskForFeedback } from '../learning/feedbackExamples.js';
import { ExpertError, type ExpertInfo, type ExpertProvider, type ExpertStatus, type GenerateResult } from '../experts/types.js';
import { DOMAIN_LABELS, isExpertId, type ExpertId, type Label } from '../gate/types.js';
import { expertToLabel } from './labels.js';
import type {
  AnswerFallbackReason,
  AskOptions,
  AskResult,
  DecisionInfo,
  FeedbackResult,
  Platform,
  RetrainReport,
  RouterApi,
  RouterStats,
  Vote,
} from './types.js';

/** What the router tells observers (metrics, logs) after each question or vote. */
export interface RouterObserver {
  onAnswered?(result: AskResult, meta: { platform: Platform; promptTokens: number; completionTokens: number }): void;
  onFailed?(failure: { decisionId: string; platform: Platform; expert: ExpertId; code: string; latencyMs: number }): void;
  /** A question refused before any decision (bad input, rate limit, shutting down). */
  onRejected?(rejection: { platform: Platform; code: string }): void;
  onFeedback?(result: FeedbackResult): void;
}

export interface RouterDeps {
  config: Config;
  store: Store;
  experts: ExpertProvider;
  gate: ActiveGate;
  retrainer: Retrainer;
  /** Clock for rate limits and timestamps (tests). */
  now?: () => number;
}

/** The answer plan: which expert answers which text, and why. */
interface Plan {
  decisionId: string;
  text: string;
  expert: ExpertId;
  confidence: number;
  probabilities: Record<Label, number>;
  fallbackReason: AnswerFallbackReason;
  reroutedFrom: string | null;
  startedAt: number;
}

export class Router implements RouterApi {
  private readonly config: Config;
  private readonly store: Store;
  private readonly expertPool: ExpertProvider;
  private readonly gate: ActiveGate;
  private readonly retrainer: Retrainer;
  private readonly now: () => number;
  private readonly rateLimiter: UserRateLimiter | null;
  private readonly recentQueries: RecentQueries;
  private readonly inFlight = new Set<{ abort: AbortController | null; done: Promise<unknown> }>();
  /**
   * Aborts every answer still running at shutdown. One for all questions without a caller's signal: a controller per
   * question cost ~3% of the router's time, and its signal lived long enough to reach the old generation.
   */
  private readonly shutdown = new AbortController();
  private readonly observers: RouterObserver[] = [];
  private closing = false;

  constructor(deps: RouterDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.expertPool = deps.experts;
    this.gate = deps.gate;
    this.retrainer = deps.retrainer;
    this.now = deps.now ?? Date.now;
    this.rateLimiter = deps.config.rateLimitPerUser ? new UserRateLimiter(deps.config.rateLimitPerUser, this.now) : null;
    // Re-routing needs the question text even when it is not logged; keep it in memory for an hour at most.
    const keepMs = Math.min(3_600_000, deps.config.queryRetentionMs ?? Infinity);
    this.recentQueries = new RecentQueries(10_000, keepMs, this.now);
    setMaxListeners(0, this.shutdown.signal); // every answer in flight listens to it (and removes its listener after)
  }

  async ask(query: string, options: AskOptions): Promise<AskResult> {
    const startedAt = performance.now();
    const text = this.admit(query, options); // validated, control characters stripped, rate limit taken
    const route = this.gate.current().route(text); // the gate picks an expert, or the fallback when off-topic/unsure
    const decisionId = newDecisionId(this.now());
    await this.logPending({ // committed as pending before generation starts, so a crash mid-answer leaves a trace
      id: decisionId,
      createdAt: this.now(),
      platform: options.platform,
      channelId: options.channelId ?? null,
      userId: options.userId,
      query: text,
      gateVersion: route.gateVersion,
      label: route.label,
      gateExpert: route.expert,
      expert: route.expert,
      confidence: route.confidence,
      probabilities: route.probabilities,
      fallbackReason: route.fallbackReason,
      reroutedFrom: null,
    });
    this.recentQueries.set(decisionId, text);
    return this.answer( // the expert answers (or the fallback, when busy/unavailable); the row is completed or failed
      { decisionId, text, expert: route.expert, confidence: route.confidence, probabilities: route.probabilities,
        fallbackReason: route.fallbackReason, reroutedFrom: null, startedAt },
      options,
    );
  }

  async reroute(decisionId: string, expertId: ExpertId, options: AskOptions): Promise<AskResult> {
    const startedAt = performance.now();
    if (!isExpertId(expertId)) throw new RouterError('invalid_expert', `There is no expert called "${String(expertId)}".`);
    const previous = this.store.getDecision(decisionId);
    if (!previous) throw new RouterError('not_found', 'That answer is not in the log any more; please ask again.');
    const original = this.recentQueries.get(decisionId) ?? previous.query;
    if (original === null) throw new RouterError('not_found', 'That question is no longer kept, so it cannot be re-routed; please ask again.');
    const text = this.admit(original, options);
    const newId = newDecisionId(this.now());
    await this.logPending({
      id: newId,
      createdAt: this.now(),
      platform: options.platform,
      channelId: options.channelId ?? null,
      userId: options.userId,
      query: text,
      gateVersion: previous.gateVersion,
      label: previous.label,
      gateExpert: previous.gateExpert,
      expert: expertId,
      confidence: previous.probabilities[expertToLabel(expertId)] ?? 0,
      probabilities: previous.probabilities,
      fallbackReason: null,
      reroutedFrom: decisionId,
    });
    this.recentQueries.set(newId, text);
    return this.answer(
      { decisionId: newId, text, expert: expertId, confidence: previous.probabilities[expertToLabel(expertId)] ?? 0,
        probabilities: previous.probabilities, fallbackReason: null, reroutedFrom: decisionId, startedAt },
      options,
    );
  }

  feedback(decisionId: string, userId: string, vote: Vote, correctedExpert: ExpertId | null = null, options: { admin?: boolean } = {}): FeedbackResult {
    if (vote !== 1 && vote !== -1) throw new RouterError('invalid_vote', 'A vote is 👍 (+1) or 👎 (-1).');
    if (correctedExpert !== null && !isExpertId(correctedExpert)) {
      throw new RouterError('invalid_expert', `There is no expert called "${String(correctedExpert)}".`);
    }
    if (typeof userId !== 'string' || userId.trim() === '') throw new RouterError('invalid_vote', 'A vote needs a user id.');
    // Committed before it returns: callers confirm the vote as recorded, and other processes read it.
    const recorded = this.store.recordFeedback({
      decisionId, userId, vote, correctedExpert, isAdmin: options.admin === true, createdAt: this.now(),
    });
    if (!recorded) throw new RouterError('not_found', 'That answer is not in the log any more, so it cannot be rated.');
    const result: FeedbackResult = { decisionId, vote, correctedExpert, replaced: recorded.replaced };
    for (const o of this.observers) o.onFeedback?.(result);
    return result;
  }

  experts(): ExpertInfo[] {
    return this.expertPool.list();
  }

  expertStatus(): ExpertStatus[] {
    return this.expertPool.status();
  }

  stats(): RouterStats {
    const s = this.store.stats();
    const votes = s.upvotes + s.downvotes;
    return {
      decisionsByExpert: s.byExpert,
      total: s.total,
      fallbackRate: s.total ? s.fallbacks / s.total : 0,
      upvoteRate: votes ? s.upvotes / votes : null,
      votes,
      gateVersion: this.gateVersion(),
    };
  }

  retrain(options: { requestedBy?: string } = {}): Promise<RetrainReport> {
    return this.retrainer.retrain(options);
  }

  gateVersion(): string {
    return this.gate.current().version;
  }

  attachMessage(decisionId: string, platform: Platform, messageRef: string): void {
    this.store.attachMessage(decisionId, platform, messageRef, this.now());
  }

  findDecisionByMessage(platform: Platform, messageRef: string): string | null {
    return this.store.findDecisionByMessage(platform, messageRef);
  }

  claimDelivery(platform: Platform, keys: string[]): boolean {
    if (keys.length === 0) return true;
    return this.store.claimDelivery(platform, keys, this.now());
  }

  observe(observer: RouterObserver): void {
    this.observers.push(observer);
  }

  /** Questions being answered now. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stops taking questions, lets answers in flight finish for up to `graceMs`, then aborts the rest
   * (their rows are marked failed) and waits for them to settle.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.closing = true;
    const settled = (): Promise<unknown> => Promise.allSettled([...this.inFlight].map((j) => j.done));
    await Promise.race([settled(), sleep(graceMs)]);
    const reason = new RouterError('shutting_down', 'The bot is shutting down; please ask again in a minute.');
    this.shutdown.abort(reason);
    for (const job of this.inFlight) job.abort?.abort(reason);
    await Promise.race([settled(), sleep(2_000)]);
    this.store.flush(); // the aborted answers' rows are committed by the time close() resolves
  }

  // --- the details ---

  /** Validates the question and takes one from the user's rate budget; throws RouterError, generates nothing. */
  private admit(query: string, options: AskOptions): string {
    try {
      if (this.closing) throw new RouterError('shutting_down', 'The bot is shutting down; please ask again in a minute.');
      const text = cleanQuery(query, this.config.maxQueryChars);
      if (this.rateLimiter && options.userId) this.rateLimiter.take(`${options.platform}:${options.userId}`);
      return text;
    } catch (err) {
      if (err instanceof RouterError) for (const o of this.observers) o.onRejected?.({ platform: options.platform, code: err.code });
      throw err;
    }
  }

  /**
   * Logs a pending decision and returns once it is committed. With no answer in flight it commits at once; otherwise it
   * joins this event-loop turn's group commit, one commit for every question that arrived meanwhile.
   */
  private async logPending(row: NewDecision): Promise<void> {
    if (this.inFlight.size === 0) this.store.insertDecision(row);
    else await this.store.insertDecisionBatched(row);
  }

  private async answer(plan: Plan, options: AskOptions): Promise<AskResult> {
    // A caller's signal is combined with a controller of this question's own: AbortSignal.any() on the long-lived
    // shutdown signal would leak.
    const abort = options.signal ? new AbortController() : null;
    const signal = abort ? AbortSignal.any([options.signal!, abort.signal]) : this.shutdown.signal;
    let expert = plan.expert;
    let fallbackReason = plan.fallbackReason;
    let announced = false;
    const announce = (demo: boolean): void => {
      if (announced) return;
      announced = true;
      options.onDecision?.(this.decisionInfo(plan, expert, fallbackReason, demo));
    };
    const generate = (id: ExpertId): Promise<GenerateResult> =>
      this.expertPool.generate(id, plan.text, {
        signal,
        onTextChunk: (chunk) => {
          announce(this.expertPool.info(id).demo);
          options.onTextChunk?.(chunk);
        },
      });

    const work = (async (): Promise<AskResult> => {
      try {
        let generated: GenerateResult;
        try {
          generated = await generate(expert);
        } catch (err) {
          const fallbackId = this.expertPool.fallbackId();
          const canFallBack = err instanceof ExpertError && (err.code === 'expert_busy' || err.code === 'expert_unavailable');
          if (!canFallBack || expert === fallbackId || announced || signal.aborted) throw err;
          fallbackReason = err.code as 'expert_busy' | 'expert_unavailable';
          expert = fallbackId;
          generated = await generate(expert);
        }
        announce(generated.demo);
        const latencyMs = Math.round(performance.now() - plan.startedAt);
        this.store.completeDecision(plan.decisionId, {
          expert, fallbackReason, latencyMs, completedAt: this.now(), answer: generated.text,
          promptTokens: generated.promptTokens, completionTokens: generated.completionTokens,
        });
        const result = this.askResult(plan, expert, fallbackReason, generated, latencyMs);
        for (const o of this.observers) {
          o.onAnswered?.(result, { platform: options.platform, promptTokens: generated.promptTokens, completionTokens: generated.completionTokens });
        }
        return result;
      } catch (err) {
        const routerError = this.toRouterError(err, signal);
        const code = routerError instanceof RouterError ? routerError.code : 'internal';
        const latencyMs = Math.round(performance.now() - plan.startedAt);
        const detail = err instanceof Error ? err.message : String(err);
        this.store.failDecision(plan.decisionId, { expert, fallbackReason, latencyMs, completedAt: this.now(), error: `${code}: ${detail}` });
        for (const o of this.observers) o.onFailed?.({ decisionId: plan.decisionId, platform: options.platform, expert, code, latencyMs });
        throw routerError;
      }
    })();
    const job = { abort, done: work };
    this.inFlight.add(job);
    try {
      return await work;
    } finally {
      this.inFlight.delete(job);
    }
  }

  private decisionInfo(plan: Plan, expert: ExpertId, fallbackReason: AnswerFallbackReason, demo: boolean): DecisionInfo {
    return {
      decisionId: plan.decisionId,
      expert: this.expertPool.info(expert),
      confidence: plan.confidence,
      probabilities: plan.probabilities,
      fallbackReason,
      runnerUp: this.expertPool.info(runnerUpOf(plan.probabilities, expert)),
      demo,
      reroutedFrom: plan.reroutedFrom,
    };
  }

  /**
   * The decision info plus the answer, every field listed: as an object spread ({ ...info, response }) it was promoted
   * out of the young generation (~1 MB per scavenge in bench:router, pauses of 2–3 ms instead of ~1 ms).
   */
  private askResult(plan: Plan, expert: ExpertId, fallbackReason: AnswerFallbackReason, generated: GenerateResult, latencyMs: number): AskResult {
    return {
      decisionId: plan.decisionId,
      expert: this.expertPool.info(expert),
      confidence: plan.confidence,
      probabilities: plan.probabilities,
      fallbackReason,
      runnerUp: this.expertPool.info(runnerUpOf(plan.probabilities, expert)),
      demo: generated.demo,
      reroutedFrom: plan.reroutedFrom,
      response: generated.text,
      latencyMs,
      feedbackWanted: shouldAskForFeedback(plan.confidence, plan.reroutedFrom !== null),
    };
  }

  /** Expert failures become short user-facing RouterErrors; anything else is a bug and stays as it is. */
  private toRouterError(err: unknown, signal: AbortSignal): RouterError | Error {
    if (err instanceof RouterError) return err;
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof RouterError) return reason;
      return new RouterError('cancelled', 'The question was cancelled before the answer was done.');
    }
    if (err instanceof ExpertError) {
      switch (err.code) {
        case 'expert_busy':
          return new RouterError('expert_busy', 'All experts are busy right now; please try again in a few seconds.', 5);
        case 'expert_unavailable':
          return new RouterError('expert_unavailable', 'No expert can answer right now; please try again later.');
        case 'expert_timeout':
          return new RouterError('expert_timeout', 'The expert took too long to answer; please try again.');
        case 'aborted':
          return new RouterError(this.closing ? 'shutting_down' : 'cancelled', this.closing
            ? 'The bot is shutting down; please ask again in a minute.'
            : 'The question was cancelled before the answer was done.');
        case 'unknown_expert':
          return new RouterError('invalid_expert', `There is no expert called "${err.expertId}".`);
      }
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Strips control characters (keeping newlines and tabs) and enforces the length limit. */
export function cleanQuery(query: unknown, maxChars: number): string {
  if (typeof query !== 'string') throw new RouterError('empty_query', 'Please send a question as text.');
  const text = query.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029]/g, '').trim();
  if (text === '') throw new RouterError('empty_query', 'Please type a question; this one is empty.');
  if (text.length > maxChars) {
    throw new RouterError('query_too_long', `That question is ${text.length} characters long; the limit is ${maxChars}. Please shorten it.`);
  }
  return text;
}

/** Best domain expert other than `expert`, by the gate's probabilities. */
function runnerUpOf(probabilities: Record<Label, number>, expert: ExpertId): ExpertId {
  let best: ExpertId = DOMAIN_LABELS.find((l) => l !== expert)!;
  for (const label of DOMAIN_LABELS) {
    if (label !== expert && (probabilities[label] ?? 0) > (probabilities[best as Label] ?? 0)) best = label;
  }
  return best;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Sliding-window limit per user: at most `count` questions in any `windowMs`. */
class UserRateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly limit: { count: number; windowMs: number }, private readonly now: () => number) {}

  take(key: string): void {
    const now = this.now();
    const since = now - this.limit.windowMs;
    const times = (this.recent.get(key) ?? []).filter((t) => t > since);
    if (times.length >= this.limit.count) {
      const retryAfterSec = Math.max(1, Math.ceil((times[0]! + this.limit.windowMs - now) / 1000));
      this.recent.set(key, times);
      throw new RouterError('rate_limited', `Slow down: at most ${this.limit.count} questions per ${describeWindow(this.limit.windowMs)}. Try again in ${retryAfterSec} s.`, retryAfterSec);
    }
    times.push(now);
    this.recent.set(key, times);
    if (this.recent.size > 10_000) this.sweep(since);
  }

  /** Drops users with no question inside the window, so the map stays small. */
  private sweep(since: number): void {
    for (const [key, times] of this.recent) if (times[times.length - 1]! <= since) this.recent.delete(key);
  }
}

function describeWindow(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${Math.round(ms / 1000)} s`;
}

/** Question text by decision id, bounded in size and age, for re-routing when the log keeps no text. */
class RecentQueries {
  private readonly map = new Map<string, { text: string; at: number }>();
  /** Ids in insertion order, as a ring: evicting the oldest is O(1) (a Map's first key is not, after many deletes). */
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(private readonly max: number, private readonly keepMs: number, private readonly now: () => number) {
    this.order = new Array<string | undefined>(max);
  }

  set(id: string, text: string): void {
    if (this.keepMs <= 0) return;
    if (!this.map.has(id)) {
      const oldest = this.order[this.next];
      if (oldest !== undefined) this.map.delete(oldest);
      this.order[this.next] = id;
      this.next = (this.next + 1) % this.max;
    }
    this.map.set(id, { text, at: this.now() });
  }

  get(id: string): string | null {
    const hit = this.map.get(id);
    if (!hit) return null;
    if (this.now() - hit.at > this.keepMs) {
      this.map.delete(id);
      return null;
    }
    return hit.text;
  }
}
