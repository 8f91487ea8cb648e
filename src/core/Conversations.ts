/**
 * The conversations the router is in: which one a platform key is running now (a fresh one after CONVERSATION_IDLE
 * or CONVERSATION_MAX_TURNS), its routing state for the follow-up rule, and its earlier turns for the expert.
 * Routing state (no text) is kept in SQLite and cached in memory. Turn text lives in the decision log when it keeps
 * text (so retention and `moe forget` apply at once); recent conversations' turns are cached in memory as the bot
 * answers them, dropped when the log counts removed text (retention, `moe forget`, from any process; a trigger counts
 * them) and read back from the log on a miss. With LOG_QUERY_TEXT=false turn text is kept in memory only, bounded in
 * size and age, and lost on restart.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ConversationRouting, FollowUpDecision } from './routeFollowUp.js';
import type { Platform } from './types.js';
import type { ChatTurn } from '../experts/types.js';
import type { ExpertId } from '../gate/types.js';
import type { ConversationRow, ConversationStore } from '../store/ConversationStore.js';
import { wellFormed } from '../store/wellFormed.js';
import type { Statement } from 'better-sqlite3';

export type ConversationRestart = 'idle' | 'max_turns';

export interface ConversationSettings {
  /** A conversation with no turn for this long is over; the next message starts a fresh one (CONVERSATION_IDLE). */
  idleMs: number;
  /** A conversation this long is over; the next message starts a fresh one (CONVERSATION_MAX_TURNS). */
  maxTurns: number;
  /** Whether the decision log keeps question and answer text (LOG_QUERY_TEXT). */
  keepText: boolean;
  /** Text older than this is gone from the log (QUERY_RETENTION); in-memory history expires no later. */
  retentionMs: number | null;
}

/** A conversation turn about to be answered. */
export interface ConversationTurnHandle {
  key: string;
  id: string;
  platform: Platform;
  /** 1-based number of this turn. */
  turn: number;
  startedAt: number;
  /** The routing state before this turn; null for a first turn. */
  routing: ConversationRouting | null;
  /** Why this turn starts a fresh conversation under a key that had one, or null. */
  restarted: ConversationRestart | null;
  /** When this turn was opened (ms since epoch; no later than its decision's created_at), for QUERY_RETENTION. */
  openedAt?: number;
}

/** A turn's text kept in memory; `decisionId` when a user asked it, so `moe forget --user` can remove it. */
type MemoryTurn = ChatTurn & { turn: number; at: number; decisionId: string | null };

/** A conversation's turns in memory, oldest first; `complete` when no older answered turn is missing from them. */
interface MemoryTurns {
  turns: MemoryTurn[];
  complete: boolean;
}

/** Conversations kept in memory for routing (LRU; the store has them all). */
const MAX_CACHED = 10_000;
/** Characters of turn text kept in memory when the log keeps none (about 100 MB of strings at most). */
const MAX_MEMORY_CHARS = 50_000_000;

export class Conversations {
  private readonly rows: LRUCache<string, ConversationRow>;
  /**
   * conversation id → its turns' text. Without text in the log this is the only copy; with it, a cache of the log
   * (a follow-up then reads nothing from SQLite while its conversation is recent).
   */
  private readonly texts: LRUCache<string, MemoryTurns>;
  /** The log's count of removed text and askers when in-memory turns were last checked against it. */
  private checkedRemovals: number;

  constructor(private readonly store: ConversationStore | null, private readonly settings: ConversationSettings, private readonly now: () => number = Date.now) {
    this.rows = new LRUCache({ max: MAX_CACHED });
    this.checkedRemovals = store?.textRemovals() ?? 0; // text in memory from now on was current when it was put there
    const ttl = Math.max(1, Math.min(settings.idleMs, settings.retentionMs ?? Infinity));
    this.texts = new LRUCache({
      maxSize: MAX_MEMORY_CHARS,
      ttl,
      ttlResolution: 0,
      perf: { now: () => this.now() }, // the conversations' clock, also for text expiry
      sizeCalculation: (m) => Math.max(1, m.turns.reduce((n, t) => n + t.question.length + t.answer.length, 0)),
    });
  }

  /** Whether turn text comes from the decision log (cached here) rather than from memory only. */
  private get fromLog(): boolean {
    return this.settings.keepText && this.store !== null;
  }

  /** Whether a conversation runs (or ran) under `key`. */
  has(key: string): boolean {
    return this.rows.has(key) || (this.store?.get(key) ?? null) !== null;
  }

  /** The conversation running under `key` now, with the number of the turn about to be answered. */
  open(key: string, platform: Platform, options: { isNew?: boolean } = {}): ConversationTurnHandle {
    const now = this.now();
    // A key the router just made up has no conversation yet: no need to look.
    const row = options.isNew ? null : this.rows.get(key) ?? this.store?.get(key) ?? null;
    let restarted: ConversationRestart | null = null;
    if (row) {
      if (now - row.updatedAt > this.settings.idleMs) restarted = 'idle';
      else if (row.turns >= this.settings.maxTurns) restarted = 'max_turns';
      else return { key, id: row.id, platform, turn: row.turns + 1, startedAt: row.startedAt, routing: { expert: row.expert, evidence: row.evidence }, restarted: null, openedAt: now };
    }
    return { key, id: randomUUID(), platform, turn: 1, startedAt: now, routing: null, restarted, openedAt: now };
  }

  /**
   * The routing outcome of a turn: updates the cache and returns the write that saves it, for the caller to commit
   * with the turn's decision row (null without a store).
   */
  record(handle: ConversationTurnHandle, decision: FollowUpDecision): { statement: Statement; params: unknown[] } | null {
    const row: ConversationRow = {
      key: handle.key, id: handle.id, platform: handle.platform, startedAt: handle.startedAt, updatedAt: this.now(),
      turns: handle.turn, expert: decision.next.expert, evidence: [...decision.next.evidence],
    };
    this.rows.set(handle.key, row);
    return this.store ? this.store.saveWrite(row) : null;
  }

  /** Earlier turns for the expert, newest first, at most `limit`. */
  history(handle: ConversationTurnHandle, limit: number): ChatTurn[] {
    if (handle.turn === 1 || limit <= 0) return [];
    this.dropRemovedText();
    let memory = this.texts.get(handle.id);
    if (this.fromLog && (!memory || (!memory.complete && memory.turns.length < limit))) memory = this.load(handle.id, limit);
    if (!memory) return [];
    const cutoff = this.settings.retentionMs === null ? -Infinity : this.now() - this.settings.retentionMs; // retention removes older text
    const out: ChatTurn[] = [];
    const turns = memory.turns;
    for (let i = turns.length - 1; i >= 0 && out.length < limit; i--) {
      const t = turns[i]!;
      if (t.turn < handle.turn && t.at >= cutoff) out.push({ question: t.question, answer: t.answer });
    }
    return out;
  }

  /** A conversation's answered turns read back from the log into memory (all of them, or the newest `limit`). */
  private load(conversationId: string, limit: number): MemoryTurns {
    const rows = this.store!.history(conversationId, Number.MAX_SAFE_INTEGER, limit); // every turn: a later one may be answered already
    const memory: MemoryTurns = {
      turns: rows.reverse().map((r) => ({ turn: r.turn, question: r.question, answer: r.answer, at: r.createdAt, decisionId: null })),
      complete: rows.length < limit,
    };
    this.texts.set(conversationId, memory);
    return memory;
  }

  /**
   * An answered turn's text, kept in memory: the only copy when the log keeps none; otherwise a cache of what the log
   * now holds (stored as the log stores it), added to a conversation already in memory or starting one.
   */
  remember(
    handle: ConversationTurnHandle, question: string, answer: string, askedBy: { decisionId: string; userId: string | null },
    options: { callerSendsHistory?: boolean } = {},
  ): void {
    if (options.callerSendsHistory && this.fromLog) {
      // A caller that sends the whole conversation (/v1) never reads it from here, and the log has the turn: keeping
      // every such answer in memory for CONVERSATION_IDLE cost the old generation ~0.7 KB per question. A cached
      // copy would now lack this turn, so it goes; any other caller under this key reads the log on its next miss.
      this.texts.delete(handle.id);
      return;
    }
    const cached = this.texts.get(handle.id);
    if (this.fromLog && !cached && handle.turn > 1) return; // its earlier turns are in the log only: read them all back on the next miss
    const turns = (cached?.turns ?? []).filter((t) => t.turn !== handle.turn); // a re-routed turn replaces its answer
    const at = handle.openedAt ?? handle.startedAt;
    const [q, a] = this.fromLog ? [wellFormed(question), wellFormed(answer)] : [question, answer];
    turns.push({ turn: handle.turn, question: q, answer: a, at, decisionId: askedBy.userId ? askedBy.decisionId : null });
    turns.sort((x, y) => x.turn - y.turn);
    let complete = cached?.complete ?? true;
    if (turns.length > this.settings.maxTurns) {
      turns.splice(0, turns.length - this.settings.maxTurns);
      complete = false;
    }
    this.texts.set(handle.id, { turns, complete }); // re-set so the size is recomputed
  }

  /** The key a conversation runs under (null when unknown, or replaced by a fresh one there). */
  keyOf(conversationId: string): string | null {
    if (this.store) return this.store.keyOf(conversationId);
    for (const row of this.rows.values()) if (row.id === conversationId) return row.key;
    return null;
  }

  /** A re-routed answer moves its conversation to the expert the user picked: follow-ups stay with it. */
  setExpert(conversationId: string, expert: ExpertId): void {
    const key = this.keyOf(conversationId);
    const row = key === null ? undefined : this.rows.get(key);
    if (row && row.id === conversationId) this.rows.set(row.key, { ...row, expert });
    this.store?.setExpert(conversationId, expert);
  }

  /** Forgets conversations idle since before `cutoff`: a message under their key starts a fresh one. */
  pruneIdleBefore(cutoff: number): number {
    for (const [key, row] of this.rows.entries()) if (row.updatedAt < cutoff) this.rows.delete(key);
    return this.store?.pruneIdleBefore(cutoff) ?? 0;
  }

  /**
   * Text or askers removed since the last look, by retention or `moe forget` from any process (the log counts them).
   * With text in the log, memory is dropped whole, to be read back on the next miss. Without, `moe forget --user`
   * clears the user's id, and turns whose decision lost its user go.
   */
  private dropRemovedText(): void {
    if (!this.store) return;
    const removals = this.store.textRemovals();
    if (removals === this.checkedRemovals) return;
    this.checkedRemovals = removals;
    if (this.fromLog) {
      this.texts.clear();
      return;
    }
    const ids: string[] = [];
    for (const m of this.texts.values()) for (const t of m.turns) if (t.decisionId) ids.push(t.decisionId);
    if (ids.length === 0) return;
    const kept = this.store.decisionsWithUser(ids);
    for (const [id, m] of [...this.texts.entries()]) {
      const left = m.turns.filter((t) => t.decisionId === null || kept.has(t.decisionId));
      if (left.length !== m.turns.length) this.texts.set(id, { turns: left, complete: m.complete });
    }
  }
}
