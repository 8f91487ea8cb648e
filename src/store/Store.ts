/**
 * Everything moe-router keeps in SQLite, behind named methods with prepared statements: the decision log,
 * votes, platform message links and claimed deliveries (gate versions, the training log and the retrain lock are in
 * GateVersions.ts, TrainingLog.ts and RetrainLock.ts beside it).
 *
 * Group commit: a commit costs 10–25 µs of system calls here (WAL frame writes, shm locks), several times the
 * statements themselves. So pending rows and completions are queued and committed together, in one transaction per
 * event-loop turn (or sooner, with the next write that must commit at once); the router awaits the commit of a pending
 * row before it generates. Every other write — votes included — commits the queue and itself before it returns, and
 * every read (and `db`) commits the queue first, so no caller ever misses a write. No transaction stays open between
 * calls, so other processes and connections never wait on one.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { ExpertId, Label } from '../gate/types.js';
import type { DecisionRow, DecisionStatus, FeedbackOutcome, FeedbackRow, InstanceRow, NewDecision, Platform, StoreStats, DecisionOutcome, DecisionConversation } from './types.js';
import { openDatabase, type OpenDatabaseOptions } from './openDatabase.js';
import { Checkpointer } from './Checkpointer.js';
import { wellFormed } from './wellFormed.js';

export type * from './types.js';

export interface StoreOptions {
  /** Keep question and answer text (LOG_QUERY_TEXT); false stores neither, since answers echo questions. */
  keepText: boolean;
  /**
   * Checkpoint the WAL on a worker thread instead of inline (default false; the long-running bot turns it on), so
   * no question waits for the fsync a checkpoint does.
   */
  backgroundCheckpoints?: boolean;
  onCheckpointError?: (message: string) => void;
  /** A queued write that could not be committed (default: a process warning). Pending-row failures reach the asker too. */
  onWriteError?: (message: string) => void;
}

/** A write another store module (e.g. ConversationStore) asks to commit with a decision row. */
export interface QueuedStatement {
  statement: Statement;
  params: unknown[];
}

/** A write waiting for the next group commit; `done` when someone awaits its commit. */
interface QueuedWrite {
  statement: Statement;
  params: unknown[];
  done?: { resolve: () => void; reject: (err: unknown) => void };
}

interface RawDecision {
  id: string;
  created_at: number;
  platform: Platform;
  channel_id: string | null;
  user_id: string | null;
  query: string | null;
  query_chars: number;
  gate_version: string;
  label: Label;
  gate_expert: ExpertId;
  expert: ExpertId;
  confidence: number;
  probabilities_json: string;
  fallback_reason: string | null;
  status: DecisionStatus;
  answer: string | null;
  error: string | null;
  latency_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  rerouted_from: string | null;
  completed_at: number | null;
  conversation_id: string | null;
  turn: number | null;
  follow_up: number;
  chosen_expert: ExpertId | null;
  route_reason: DecisionConversation['reason'] | null;
}

/** `error`: what went wrong with the chosen expert when the fallback answered instead (null otherwise). */
type Completion = DecisionOutcome & { answer: string; promptTokens: number; completionTokens: number; error?: string | null };

interface RawInstance {
  instance_id: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
}

function toDecision(r: RawDecision): DecisionRow {
  return {
    id: r.id,
    createdAt: r.created_at,
    platform: r.platform,
    channelId: r.channel_id,
    userId: r.user_id,
    query: r.query,
    queryChars: r.query_chars,
    gateVersion: r.gate_version,
    label: r.label,
    gateExpert: r.gate_expert,
    expert: r.expert,
    confidence: r.confidence,
    probabilities: JSON.parse(r.probabilities_json) as Record<Label, number>,
    fallbackReason: r.fallback_reason,
    status: r.status,
    answer: r.answer,
    error: r.error,
    latencyMs: r.latency_ms,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    reroutedFrom: r.rerouted_from,
    completedAt: r.completed_at,
    conversation: r.conversation_id === null || r.turn === null ? null : {
      id: r.conversation_id, turn: r.turn, followUp: r.follow_up === 1, chosenExpert: r.chosen_expert ?? r.expert, reason: r.route_reason ?? 'fresh',
    },
  };
}

export class Store {
  readonly keepText: boolean;
  private readonly database: Database;
  private readonly s: Record<string, Statement>;
  private readonly checkpointer: Checkpointer | null = null;
  private readonly onWriteError: (message: string) => void;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;

  constructor(db: Database, options: StoreOptions) {
    this.database = db;
    this.keepText = options.keepText;
    this.onWriteError = options.onWriteError ?? ((message) => process.emitWarning(message, 'DatabaseWriteWarning'));
    if (options.backgroundCheckpoints && !db.memory) {
      // Inline checkpoints stay only as a safety net (~80 MB of WAL) in case the worker falls behind or dies.
      db.pragma('wal_autocheckpoint = 20000');
      this.checkpointer = new Checkpointer(db.name, { onError: options.onCheckpointError });
    }
    // IMMEDIATE: take the write lock at BEGIN, so a busy database fails before any queued write ran.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    const p = (sql: string): Statement => db.prepare(sql);
    this.s = {
      // Hot statements bind positionally: binding 15 named parameters from an object cost as much again as the insert.
      insertDecision: p(`INSERT INTO decisions (id, created_at, platform, channel_id, user_id, query, query_chars, gate_version, label,
        gate_expert, expert, confidence, probabilities_json, fallback_reason, status, rerouted_from,
        conversation_id, turn, follow_up, chosen_expert, route_reason)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`),
      completeDecision: p(`UPDATE decisions SET status = 'answered', expert = ?, fallback_reason = ?, answer = ?,
        latency_ms = ?, prompt_tokens = ?, completion_tokens = ?, completed_at = ?, error = ?
        WHERE id = ? AND status = 'pending'`),
      failDecision: p(`UPDATE decisions SET status = ?, expert = ?, fallback_reason = ?, error = ?,
        latency_ms = ?, completed_at = ? WHERE id = ? AND status = 'pending'`),
      getDecision: p('SELECT * FROM decisions WHERE id = ?'),
      decisionStatus: p('SELECT status FROM decisions WHERE id = ?'),
      insertVote: p(`INSERT OR IGNORE INTO feedback (decision_id, user_id, vote, corrected_expert, is_admin, created_at)
        SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM decisions WHERE id = ? AND status NOT IN ('failed', 'cancelled'))`),
      replaceVote: p(`UPDATE feedback SET vote = ?, corrected_expert = ?, is_admin = ?, created_at = ?
        WHERE decision_id = ? AND user_id = ?`),
      attachMessage: p(`INSERT INTO message_links (platform, message_ref, decision_id, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (platform, message_ref) DO UPDATE SET decision_id = excluded.decision_id, created_at = excluded.created_at`),
      findMessage: p('SELECT decision_id FROM message_links WHERE platform = ? AND message_ref = ?'),
      deliveryClaimed: p('SELECT 1 FROM deliveries WHERE platform = ? AND key = ?'),
      claimDelivery: p('INSERT OR IGNORE INTO deliveries (platform, key, claimed_at) VALUES (?, ?, ?)'),
      failPending: p(`UPDATE decisions SET status = 'failed', error = ?, completed_at = ? WHERE status = 'pending'`),
      purgeText: p('UPDATE decisions SET query = NULL, answer = NULL WHERE created_at < ? AND (query IS NOT NULL OR answer IS NOT NULL)'),
      pruneDeliveries: p('DELETE FROM deliveries WHERE claimed_at < ?'),
      forgetDecisions: p('UPDATE decisions SET query = NULL, answer = NULL, user_id = NULL WHERE user_id = ?'),
      forgetVotes: p('DELETE FROM feedback WHERE user_id = ?'),
      countByExpert: p('SELECT expert, COUNT(*) AS n FROM decisions GROUP BY expert'),
      countByStatus: p('SELECT status, COUNT(*) AS n FROM decisions GROUP BY status'),
      countFallbacks: p("SELECT COUNT(*) AS n FROM decisions WHERE fallback_reason IS NOT NULL AND fallback_reason <> 'forced'"),
      countVotes: p('SELECT SUM(vote = 1) AS up, SUM(vote = -1) AS down FROM feedback'),
      getInstance: p("SELECT instance_id, pid, host, started_at, heartbeat_at FROM instance_lock WHERE name = 'bot'"),
      putInstance: p(`INSERT OR REPLACE INTO instance_lock (name, instance_id, pid, host, started_at, heartbeat_at)
        VALUES ('bot', ?, ?, ?, ?, ?)`),
      beatInstance: p("UPDATE instance_lock SET heartbeat_at = ? WHERE name = 'bot' AND instance_id = ?"),
      releaseInstance: p("DELETE FROM instance_lock WHERE name = 'bot' AND instance_id = ?"),
    };
  }

  /** Opens the database file (creating and migrating it) and wraps it. */
  static open(file: string, options: StoreOptions & OpenDatabaseOptions): Store {
    return new Store(openDatabase(file, options), options);
  }

  // --- decisions ---

  /** The database connection; queued writes are committed first, so raw SQL sees everything written so far. */
  get db(): Database {
    this.flush();
    return this.database;
  }

  /** Logs a pending decision and commits it (with the queued writes) before returning. */
  insertDecision(d: NewDecision, alsoWrite: readonly QueuedStatement[] = []): void {
    this.commitWith(() => {
      this.s.insertDecision!.run(...this.decisionParams(d));
      for (const w of alsoWrite) w.statement.run(...w.params);
    });
  }

  /**
   * Queues a pending decision for the next group commit (one transaction per event-loop turn); resolves once the row
   * is committed, rejects when it could not be. The router starts generating only after that.
   */
  insertDecisionBatched(d: NewDecision, alsoWrite: readonly QueuedStatement[] = []): Promise<void> {
    for (const w of alsoWrite) this.enqueue(w.statement, w.params);
    return new Promise((resolve, reject) => this.enqueue(this.s.insertDecision!, this.decisionParams(d), { resolve, reject }));
  }

  /**
   * Marks a pending decision answered: `wait` 'now' commits it (with the queued writes) before returning, 'batched'
   * resolves once this turn's group commit has it, 'queued' just queues it.
   */
  completeDecision(id: string, outcome: Completion, wait: 'now' | 'batched'): Promise<void>;
  completeDecision(id: string, outcome: Completion, wait?: 'queued'): void;
  completeDecision(id: string, outcome: Completion, wait: 'now' | 'batched' | 'queued' = 'queued'): Promise<void> | void {
    const params = [outcome.expert, outcome.fallbackReason, this.keepText ? wellFormed(outcome.answer) : null,
      outcome.latencyMs, outcome.promptTokens, outcome.completionTokens, outcome.completedAt, outcome.error ?? null, id];
    if (wait === 'queued') return this.enqueue(this.s.completeDecision!, params);
    if (wait === 'batched') return new Promise((resolve, reject) => this.enqueue(this.s.completeDecision!, params, { resolve, reject }));
    this.commitWith(() => this.s.completeDecision!.run(...params));
    return Promise.resolve();
  }

  /** Marks a pending decision failed (or cancelled: its asker went away), in the next group commit. */
  failDecision(id: string, outcome: DecisionOutcome & { error: string; status?: 'failed' | 'cancelled' }): void {
    this.enqueue(this.s.failDecision!, [outcome.status ?? 'failed', outcome.expert, outcome.fallbackReason, wellFormed(outcome.error), outcome.latencyMs, outcome.completedAt, id]);
  }

  /** Commits every queued write now (otherwise done once per event-loop turn, by every other call, and by close()). */
  flush(): void {
    if (this.queue.length > 0 && this.database.open) this.commitWith(() => undefined);
  }

  getDecision(id: string): DecisionRow | null {
    this.flush();
    const row = this.s.getDecision!.get(id) as RawDecision | undefined;
    return row ? toDecision(row) : null;
  }

  /** Start-up: answers that were in flight when the process died will never complete. */
  failPendingDecisions(now = Date.now()): number {
    return this.commitWith(() => this.s.failPending!.run('interrupted: the bot stopped before the answer was complete', now).changes);
  }

  /** Retention: deletes question and answer text of decisions older than `cutoff` (ms epoch). */
  purgeTextBefore(cutoff: number): number {
    return this.commitWith(() => this.s.purgeText!.run(cutoff).changes);
  }

  /** `moe forget`: removes a user's question/answer text (and their id from the log) and their votes. */
  forgetUser(userId: string): { decisions: number; votes: number } {
    this.flush();
    return this.database.transaction(() => ({
      votes: this.s.forgetVotes!.run(userId).changes,
      decisions: this.s.forgetDecisions!.run(userId).changes,
    }))();
  }

  stats(): StoreStats {
    this.flush();
    const byExpert: Record<string, number> = {};
    let total = 0;
    for (const r of this.s.countByExpert!.all() as { expert: string; n: number }[]) {
      byExpert[r.expert] = r.n;
      total += r.n;
    }
    const byStatus: Record<DecisionStatus, number> = { pending: 0, answered: 0, failed: 0, cancelled: 0 };
    for (const r of this.s.countByStatus!.all() as { status: DecisionStatus; n: number }[]) byStatus[r.status] = r.n;
    const fallbacks = (this.s.countFallbacks!.get() as { n: number }).n;
    const votes = this.s.countVotes!.get() as { up: number | null; down: number | null };
    return { total, byExpert, fallbacks, byStatus, upvotes: votes.up ?? 0, downvotes: votes.down ?? 0 };
  }

  // --- feedback ---

  /**
   * Records a vote and commits it (with the queued writes) before returning: callers confirm the vote as recorded, and
   * other processes (`moe forget`, `moe retrain`) read it. A second vote by the same user on the same decision replaces
   * the first. Refused when there is no such decision, or it failed (there is no answer to rate).
   */
  recordFeedback(f: FeedbackRow): FeedbackOutcome {
    const isAdmin = f.isAdmin ? 1 : 0;
    return this.commitWith((): FeedbackOutcome => {
      // A first vote is one statement; only a second vote by the same user (or a refusal) needs more.
      if (this.s.insertVote!.run(f.decisionId, f.userId, f.vote, f.correctedExpert, isAdmin, f.createdAt, f.decisionId).changes === 1) {
        return { replaced: false };
      }
      const status = (this.s.decisionStatus!.get(f.decisionId) as { status: DecisionStatus } | undefined)?.status;
      if (status === undefined) return 'not_found';
      if (status === 'failed' || status === 'cancelled') return status;
      this.s.replaceVote!.run(f.vote, f.correctedExpert, isAdmin, f.createdAt, f.decisionId, f.userId);
      return { replaced: true };
    });
  }

  // --- platform messages and deliveries ---

  attachMessage(decisionId: string, platform: Platform, messageRef: string, now = Date.now()): void {
    this.commitWith(() => this.s.attachMessage!.run(platform, messageRef, decisionId, now));
  }

  findDecisionByMessage(platform: Platform, messageRef: string): string | null {
    this.flush();
    const row = this.s.findMessage!.get(platform, messageRef) as { decision_id: string } | undefined;
    return row?.decision_id ?? null;
  }

  /** True (and records every key) when none of `keys` was claimed before. */
  claimDelivery(platform: Platform, keys: string[], now = Date.now()): boolean {
    this.flush();
    return this.database.transaction(() => {
      if (keys.some((k) => this.s.deliveryClaimed!.get(platform, k) !== undefined)) return false;
      for (const k of keys) this.s.claimDelivery!.run(platform, k, now);
      return true;
    }).immediate();
  }

  /** Forgets claims older than `cutoff`; platforms stop retrying long before. */
  pruneDeliveries(cutoff: number): number {
    return this.commitWith(() => this.s.pruneDeliveries!.run(cutoff).changes);
  }

  // --- the bot instance that owns this database ---

  /**
   * Makes `me` the database's bot instance, unless the current one is still running by `isRunning`: then nothing is
   * written and that holder is returned. Atomic across processes (an immediate transaction).
   */
  claimInstance(me: InstanceRow, isRunning: (holder: InstanceRow) => boolean): InstanceRow | null {
    this.flush();
    return this.database.transaction((): InstanceRow | null => {
      const raw = this.s.getInstance!.get() as RawInstance | undefined;
      const holder = raw ? { instanceId: raw.instance_id, pid: raw.pid, host: raw.host, startedAt: raw.started_at, heartbeatAt: raw.heartbeat_at } : null;
      if (holder && holder.instanceId !== me.instanceId && isRunning(holder)) return holder;
      this.s.putInstance!.run(me.instanceId, me.pid, me.host, me.startedAt, me.heartbeatAt);
      return null;
    }).immediate();
  }

  /** Refreshes the instance's heartbeat; false when the row is no longer its own. */
  beatInstance(instanceId: string, now: number): boolean {
    return this.commitWith(() => this.s.beatInstance!.run(now, instanceId).changes === 1);
  }

  releaseInstance(instanceId: string): void {
    this.commitWith(() => this.s.releaseInstance!.run(instanceId));
  }

  /**
   * Commits what is queued and closes the connection. The returned promise settles when the background checkpoint
   * worker (if any) has closed its own connection too; await it before deleting or moving the database files.
   */
  close(): Promise<void> {
    if (this.database.open) {
      try {
        this.flush();
      } catch (err) {
        this.onWriteError(`queued writes lost at close: ${(err as Error).message}`);
      }
    }
    const stopped = this.checkpointer?.stop() ?? Promise.resolve();
    if (this.database.open) this.database.close();
    return stopped;
  }

  // --- group commit ---

  private decisionParams(d: NewDecision): unknown[] {
    const c = d.conversation;
    // Text is made well-formed here too: SQLite stores a lone surrogate as invalid UTF-8, which strict readers refuse.
    return [d.id, d.createdAt, d.platform, d.channelId, d.userId, this.keepText ? wellFormed(d.query) : null, d.query.length, d.gateVersion,
      d.label, d.gateExpert, d.expert, d.confidence, JSON.stringify(d.probabilities), d.fallbackReason, d.reroutedFrom,
      c?.id ?? null, c?.turn ?? null, c?.followUp ? 1 : 0, c?.chosenExpert ?? null, c?.reason ?? null];
  }

  private enqueue(statement: Statement, params: unknown[], done?: QueuedWrite['done']): void {
    if (!this.database.open) throw new TypeError('The database connection is not open'); // as better-sqlite3 says
    this.queue.push({ statement, params, done });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.database.open) return;
      try {
        this.flush();
      } catch (err) {
        this.onWriteError(`group commit failed: ${(err as Error).message}`);
      }
    });
  }

  /**
   * Runs the queued writes, then `write`, in one transaction, and commits. A failing queued statement is reported (its
   * awaiter rejected) without stopping the others; when `write` throws, the queued writes are still committed, then
   * the error is rethrown. Inside a caller's own transaction (`db.transaction(...)`), `write` just joins it: the queue
   * waits for a commit of ours, so a rollback of theirs cannot undo a row someone was told is committed.
   */
  private commitWith<T>(write: () => T): T {
    if (this.database.inTransaction) return write();
    const queue = this.queue;
    this.queue = [];
    let failed: Set<QueuedWrite> | null = null;
    let result: T | undefined;
    let failure: unknown = null;
    try {
      this.begin.run();
      for (const item of queue) {
        try {
          item.statement.run(...item.params);
        } catch (err) {
          if (!this.database.inTransaction) throw err; // SQLite rolled the whole transaction back
          (failed ??= new Set()).add(item);
          if (item.done) item.done.reject(err);
          else this.onWriteError(`a queued write failed: ${(err as Error).message}`);
        }
      }
      try {
        result = write();
      } catch (err) {
        if (!this.database.inTransaction) throw err;
        failure = err;
      }
      this.commit.run();
    } catch (err) {
      if (this.database.inTransaction) this.rollback.run();
      const refused = failed;
      this.abandon(refused ? queue.filter((item) => !refused.has(item)) : queue, err);
      throw err;
    }
    for (const item of queue) if (item.done && !failed?.has(item)) item.done.resolve();
    if (failure !== null) throw failure;
    return result as T;
  }

  /**
   * A transaction failed (database locked for longer than busy_timeout, disk full): rows someone awaits are refused to
   * them, so nothing is generated for them; completions are kept for the next commit (the next write, read or close).
   */
  private abandon(queue: QueuedWrite[], err: unknown): void {
    const retry: QueuedWrite[] = [];
    for (const item of queue) {
      if (item.done) item.done.reject(err);
      else retry.push(item);
    }
    if (retry.length > 0) this.queue = [...retry, ...this.queue];
  }
}
