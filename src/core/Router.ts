/**
 * The core flow: a question comes in, the gate picks an expert, the decision is logged, the expert answers.
 * Read `ask()` and `answer()` top to bottom to know the product; votes go through `feedback()`.
 */
import { LRUCache } from 'lru-cache';
import { newId } from './newId.js';
import type { Config } from '../config.js';
import type { ActiveGate } from '../learning/ActiveGate.js';
import type { QueuedStatement, Store } from '../store/Store.js';
import type { NewDecision } from '../store/types.js';
import type { Conversations } from './Conversations.js';
import { bestOtherDomain, historyOf, openConversations, openTurn, rerouteTurn, type DecisionTurn } from './conversationTurns.js';
import { shouldAskForFeedback } from '../learning/feedbackExamples.js';
import { type ExpertInfo, type ExpertProvider, type ExpertStatus, type GenerateResult } from '../experts/types.js';
import { isExpertId, type ExpertId } from '../gate/types.js';
import { expertToLabel } from './labels.js';
import { RouterError } from './errors.js';
import { cleanQuery } from './cleanQuery.js';
import { InFlight } from './InFlight.js';
import { UserRateLimiter } from './UserRateLimiter.js';
import { canFallBack, toRouterError } from './toRouterError.js';
import type { AnswerFallbackReason, AskOptions, AskResult, FeedbackResult, Platform, RouterApi, Vote } from './types.js';

/** What the router tells observers (metrics, logs) after each question or vote. */
export interface RouterObserver {
  onAnswered?(result: AskResult, meta: { platform: Platform; promptTokens: number; completionTokens: number }): void;
  onFailed?(failure: { decisionId: string; platform: Platform; expert: ExpertId; code: string; status: 'failed' | 'cancelled'; latencyMs: number }): void;
  /** A question refused before any decision (bad input, rate limit, shutting down). */
  onRejected?(rejection: { platform: Platform; code: string }): void;
  onFeedback?(result: FeedbackResult): void;
}

export interface RouterDeps {
  config: Config;
  store: Store;
  experts: ExpertProvider;
  gate: ActiveGate;
  /** Shared with the app's hourly housekeeping, which prunes idle ones; opened on the store when absent. */
  conversations?: Conversations;
  /** Clock for timestamps and the re-routing cache (tests). */
  now?: () => number;
}

/** Who answers which text, and why: the pending row as logged, plus what the answer needs besides. */
interface Decision extends NewDecision {
  fallbackReason: AnswerFallbackReason;
  runnerUp: ExpertId;
  startedAt: number;
  turn: DecisionTurn | null;
}

type Choice = Pick<Decision, 'gateVersion' | 'label' | 'gateExpert' | 'expert' | 'confidence' | 'probabilities' | 'fallbackReason' | 'runnerUp' | 'reroutedFrom' | 'turn'>;

export class Router implements RouterApi {
  private readonly config: Config;
  private readonly store: Store;
  private readonly expertPool: ExpertProvider;
  private readonly gate: ActiveGate;
  private readonly now: () => number;
  private readonly rateLimiter: UserRateLimiter | null;
  /** Re-routing needs the question text even when the log keeps none: in memory for an hour at most. */
  private readonly recentQueries: LRUCache<string, string> | null;
  private readonly inFlight = new InFlight();
  private readonly conversations: Conversations;
  private readonly observers: RouterObserver[] = [];

  constructor(deps: RouterDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.expertPool = deps.experts;
    this.gate = deps.gate;
    this.now = deps.now ?? Date.now;
    this.rateLimiter = deps.config.rateLimitPerUser ? new UserRateLimiter(deps.config.rateLimitPerUser) : null;
    const keepMs = Math.min(3_600_000, deps.config.queryRetentionMs ?? Infinity);
    this.recentQueries = keepMs > 0 ? new LRUCache({ max: 10_000, ttl: keepMs, perf: { now: this.now } }) : null;
    this.conversations = deps.conversations ?? openConversations(deps.store, deps.config, this.now);
  }

  async ask(query: string, options: AskOptions): Promise<AskResult> {
    const startedAt = performance.now();
    const text = await this.admit(query, options); // validated, normalised, rate limit taken
    const route = this.gate.current().route(text); // the gate picks an expert, or the fallback when off-topic/unsure
    const turn = openTurn(this.conversations, this.store, text, route, options, this.gate.current()); // a follow-up stays with its conversation's expert unless it switches topic
    const decision = await this.startDecision(text, options, startedAt, { // committed as pending before generating
      gateVersion: route.gateVersion, label: route.label, gateExpert: route.expert, probabilities: route.probabilities, reroutedFrom: null,
      expert: turn.expert, confidence: turn.confidence, fallbackReason: turn.fallbackReason, runnerUp: turn.runnerUp, turn: turn.turn,
    }, turn.write);
    return this.answer(decision, options); // the expert answers, with the conversation so far; the row is completed or failed
  }

  async reroute(decisionId: string, expertId: ExpertId, options: AskOptions): Promise<AskResult> {
    const startedAt = performance.now();
    if (!isExpertId(expertId)) throw new RouterError('invalid_expert', { expert: String(expertId) });
    const previous = this.store.getDecision(decisionId);
    if (!previous) throw new RouterError('not_found');
    // `moe forget` clears a row's user and text (from another process): its cached copy must not bring the text back.
    const forgotten = previous.userId === null && previous.query === null;
    const original = forgotten ? null : previous.query ?? this.recentQueries?.get(decisionId) ?? null;
    if (original === null) throw new RouterError('not_found');
    const text = await this.admit(original, options);
    const decision = await this.startDecision(text, options, startedAt, {
      gateVersion: previous.gateVersion, label: previous.label, gateExpert: previous.gateExpert, expert: expertId,
      confidence: previous.probabilities[expertToLabel(expertId)] ?? 0, probabilities: previous.probabilities, fallbackReason: null,
      runnerUp: bestOtherDomain(previous.probabilities, expertId), reroutedFrom: decisionId, turn: rerouteTurn(this.conversations, previous, expertId),
    });
    return this.answer(decision, options);
  }

  feedback(decisionId: string, userId: string, vote: Vote, correctedExpert: ExpertId | null = null, options: { admin?: boolean } = {}): FeedbackResult {
    if (vote !== 1 && vote !== -1) throw new RouterError('invalid_vote');
    if (correctedExpert !== null && !isExpertId(correctedExpert)) {
      throw new RouterError('invalid_expert', { expert: String(correctedExpert) });
    }
    if (typeof userId !== 'string' || userId.trim() === '') throw new RouterError('invalid_vote', { detail: 'A vote needs a user id.' });
    // Committed before it returns: callers confirm the vote as recorded, and other processes read it.
    const recorded = this.store.recordFeedback({
      decisionId, userId, vote, correctedExpert, isAdmin: options.admin === true, createdAt: this.now(),
    });
    if (recorded === 'not_found') throw new RouterError('not_found');
    if (recorded === 'failed') throw new RouterError('invalid_vote', { detail: 'That question got no answer (it failed), so there is nothing to rate.' });
    if (recorded === 'cancelled') throw new RouterError('invalid_vote', { detail: 'That question was cancelled before its answer was complete, so there is nothing to rate.' });
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

  gateVersion(): string {
    return this.gate.current().version;
  }

  hasConversation(key: string): boolean {
    return this.conversations.has(key);
  }

  observe(observer: RouterObserver): void {
    this.observers.push(observer);
  }

  /** Questions being answered now. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Stops taking questions, lets answers in flight finish for up to `graceMs`, then aborts the rest (marked failed). */
  async close(graceMs = 5_000): Promise<void> {
    await this.inFlight.close(graceMs);
    this.store.flush(); // the aborted answers' rows are committed by the time close() resolves
  }

  // --- the details ---

  /** Validates and normalises the question and takes one from the user's rate budget; throws RouterError. */
  private async admit(query: string, options: AskOptions): Promise<string> {
    try {
      if (this.inFlight.closing) throw new RouterError('shutting_down');
      const text = cleanQuery(query, this.config.maxQueryChars);
      if (this.rateLimiter && options.userId) await this.rateLimiter.take(`${options.platform}:${options.userId}`);
      return text;
    } catch (err) {
      if (err instanceof RouterError) for (const o of this.observers) o.onRejected?.({ platform: options.platform, code: err.code });
      throw err;
    }
  }

  /** Logs the pending decision, committed at once when nothing is in flight, else in this turn's group commit. */
  private async startDecision(text: string, options: AskOptions, startedAt: number, choice: Choice, alsoWrite: QueuedStatement | null = null): Promise<Decision> {
    const t = choice.turn;
    const decision: Decision = {
      id: newId(), createdAt: this.now(), platform: options.platform, channelId: options.channelId ?? null, userId: options.userId,
      query: text, gateVersion: choice.gateVersion, label: choice.label, gateExpert: choice.gateExpert, expert: choice.expert,
      confidence: choice.confidence, probabilities: choice.probabilities, fallbackReason: choice.fallbackReason,
      reroutedFrom: choice.reroutedFrom, runnerUp: choice.runnerUp, startedAt, turn: t,
      conversation: t && { id: t.handle.id, turn: t.handle.turn, followUp: t.info.followUp, chosenExpert: choice.expert, reason: t.info.reason },
    };
    const writes = alsoWrite ? [alsoWrite] : [];
    if (this.inFlight.size === 0) this.store.insertDecision(decision, writes);
    else await this.store.insertDecisionBatched(decision, writes);
    // HTTP answers have no re-route buttons: their text would sit here for an hour for nothing (and reach the old generation).
    if (options.platform !== 'http') this.recentQueries?.set(decision.id, text);
    return decision;
  }

  /** The expert answers (the fallback when it is busy or unavailable); the row is completed, or failed with the reason. */
  private answer(d: Decision, options: AskOptions): Promise<AskResult> {
    return this.inFlight.run(options.controller ?? options.signal, async (signal) => {
      let expert = d.expert;
      let fallbackReason = d.fallbackReason;
      let result: AskResult | null = null;
      const announce = (demo: boolean): AskResult => { // once, before the first chunk: streams show the expert early
        if (result) return result;
        result = this.describe(d, expert, fallbackReason, demo);
        options.onDecision?.(result);
        return result;
      };
      const history = options.history ?? historyOf(this.conversations, d.turn); // the conversation so far (or as the caller sent it); a switched expert gets it too
      const generate = (id: ExpertId): Promise<GenerateResult> => this.expertPool.generate(id, d.query, {
        signal,
        ...options.generation, history, systemSuffix: options.systemPrompt, // the caller's settings and system text, if any
        onTextChunk: (chunk) => {
          announce(this.expertPool.info(id).demo);
          options.onTextChunk?.(chunk);
        },
      });
      let fallbackCause: string | null = null;
      try {
        let generated: GenerateResult;
        try {
          generated = await generate(expert);
        } catch (err) {
          // Shown text cannot be taken back: a streaming caller starts over unless it showed some; one that waits for the whole answer saw none.
          const shown = options.startOver ? !options.startOver() : result !== null && options.onTextChunk !== undefined;
          if (shown || signal.aborted || expert === this.expertPool.fallbackId() || !canFallBack(err)) throw err;
          [fallbackReason, expert, result] = [err.code === 'expert_busy' ? 'expert_busy' : 'expert_unavailable', this.expertPool.fallbackId(), null];
          fallbackCause = `${err.code}: ${err.message}`; // the row says what happened to the chosen expert
          generated = await generate(expert);
        }
        const answered = announce(generated.demo); // built before the row says answered: a failure here fails the row
        answered.demo = generated.demo;
        answered.response = generated.text;
        answered.latencyMs = Math.round(performance.now() - d.startedAt);
        [answered.promptTokens, answered.completionTokens] = [generated.promptTokens, generated.completionTokens];
        answered.finishReason = generated.finishReason;
        await this.store.completeDecision(d.id, { // committed before the caller sees the answer: a crash cannot lose it
          expert, fallbackReason, latencyMs: answered.latencyMs, completedAt: this.now(), answer: generated.text,
          promptTokens: generated.promptTokens, completionTokens: generated.completionTokens, error: fallbackCause,
        }, this.inFlight.size <= 1 ? 'now' : 'batched');
        if (d.turn) this.conversations.remember(d.turn.handle, d.query, generated.text, { decisionId: d.id, userId: d.userId }, { callerSendsHistory: options.history !== undefined });
        const meta = { platform: options.platform, promptTokens: generated.promptTokens, completionTokens: generated.completionTokens };
        for (const o of this.observers) o.onAnswered?.(answered, meta);
        return answered;
      } catch (err) {
        const routerError = toRouterError(err, signal, this.inFlight.closing, () => this.expertPool.info(expert).displayName);
        const code = routerError instanceof RouterError ? routerError.code : 'internal';
        const latencyMs = Math.round(performance.now() - d.startedAt);
        const detail = err instanceof Error ? err.message : String(err);
        const status = code === 'cancelled' ? 'cancelled' : 'failed';
        this.store.failDecision(d.id, { expert, fallbackReason, latencyMs, completedAt: this.now(), error: `${code}: ${detail}`, status });
        for (const o of this.observers) o.onFailed?.({ decisionId: d.id, platform: options.platform, expert, code, status, latencyMs });
        throw routerError;
      }
    });
  }

  /** The one description of a decision: announced to streams, then filled in with the answer (one object per question). */
  private describe(d: Decision, expert: ExpertId, fallbackReason: AnswerFallbackReason, demo: boolean): AskResult {
    return {
      decisionId: d.id, expert: this.expertPool.info(expert), confidence: d.confidence, probabilities: d.probabilities,
      fallbackReason, runnerUp: this.expertPool.info(d.runnerUp), demo, reroutedFrom: d.reroutedFrom, conversation: d.turn?.info ?? null,
      response: '', latencyMs: 0, promptTokens: 0, completionTokens: 0, feedbackWanted: shouldAskForFeedback(d.confidence, d.reroutedFrom !== null),
    };
  }
}
