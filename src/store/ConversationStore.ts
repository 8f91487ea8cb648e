/**
 * Conversations in SQLite (migrations/006_conversations.sql): one row per platform key with the conversation running
 * there now and its routing state, and the earlier turns' text read back from the decision log for the expert.
 * Turn text lives only in `decisions`, so retention and `moe forget` remove it from every conversation at once.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Platform } from './types.js';
import type { ExpertId } from '../gate/types.js';

export interface ConversationRow {
  /** Platform-qualified key: `discord:<channel or thread>:<root message>`, `slack:<channel>:<thread_ts>`, `http:<id>`. */
  key: string;
  /** This conversation; a key gets a new one when the old one was idle or too long. */
  id: string;
  platform: Platform;
  startedAt: number;
  updatedAt: number;
  /** Turns so far. */
  turns: number;
  /** Expert of the last turn. */
  expert: ExpertId;
  /** The follow-up rule's state: decayed gate probabilities of the earlier user turns, in LABELS order. */
  evidence: number[];
}

/** An earlier turn of a conversation, as the expert sees it. */
export interface HistoryTurn {
  turn: number;
  question: string;
  answer: string;
  expert: ExpertId;
  /** When it was asked (ms since epoch): QUERY_RETENTION removes its text after that. */
  createdAt: number;
}

interface RawConversation {
  key: string;
  id: string;
  platform: Platform;
  started_at: number;
  updated_at: number;
  turns: number;
  expert: ExpertId;
  evidence_json: string;
}

export class ConversationStore {
  private readonly getStatement: Statement;
  private readonly saveStatement: Statement;
  private readonly historyStatement: Statement;
  private readonly pruneStatement: Statement;
  private readonly keyStatement: Statement;
  private readonly setExpertStatement: Statement;
  private readonly removalsStatement: Statement;
  private readonly db: Database;

  /** `beforeRead` runs before reads that need the caller's queued writes (Store.flush): history and keyOf. */
  constructor(db: Database, private readonly beforeRead: () => void = () => undefined) {
    this.db = db;
    this.getStatement = db.prepare('SELECT * FROM conversations WHERE key = ?');
    this.saveStatement = db.prepare(`INSERT INTO conversations (key, id, platform, started_at, updated_at, turns, expert, evidence_json)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET id = excluded.id, platform = excluded.platform, started_at = excluded.started_at,
        updated_at = excluded.updated_at, turns = excluded.turns, expert = excluded.expert, evidence_json = excluded.evidence_json`);
    // Answered turns with text only: a failed turn, one logged without text, expired or forgotten, is not history.
    // A re-routed turn has two answers; the later one (what the user saw last) is the turn's.
    this.historyStatement = db.prepare(`SELECT turn, query, answer, expert, created_at FROM decisions
      WHERE conversation_id = ? AND turn < ? AND status = 'answered' AND query IS NOT NULL AND answer IS NOT NULL
      ORDER BY turn DESC, created_at DESC LIMIT ?`);
    this.keyStatement = db.prepare('SELECT key FROM conversations WHERE id = ?');
    this.setExpertStatement = db.prepare('UPDATE conversations SET expert = ? WHERE id = ?');
    this.pruneStatement = db.prepare('DELETE FROM conversations WHERE updated_at < ?');
    this.removalsStatement = db.prepare('SELECT removals FROM text_removals WHERE id = 1').pluck();
  }

  /**
   * Decisions whose question or answer text, or asker, was removed (retention, `moe forget`, by any process), counted
   * by triggers (migrations 010, 012); one indexed read of one row.
   */
  textRemovals(): number {
    return this.removalsStatement.get() as number;
  }

  /** Of `ids`, the decisions whose asker is still on record: `moe forget` clears user_id, so a forgotten one is missing. */
  decisionsWithUser(ids: readonly string[]): Set<string> {
    const kept = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.db.prepare(`SELECT id FROM decisions WHERE user_id IS NOT NULL AND id IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as { id: string }[];
      for (const r of rows) kept.add(r.id);
    }
    return kept;
  }

  get(key: string): ConversationRow | null {
    const r = this.getStatement.get(key) as RawConversation | undefined;
    if (!r) return null;
    return {
      key: r.key, id: r.id, platform: r.platform, startedAt: r.started_at, updatedAt: r.updated_at, turns: r.turns,
      expert: r.expert, evidence: JSON.parse(r.evidence_json) as number[],
    };
  }

  /** The statement and parameters that save `row` (for a caller that commits it with other writes). */
  saveWrite(row: ConversationRow): { statement: Statement; params: unknown[] } {
    return {
      statement: this.saveStatement,
      params: [row.key, row.id, row.platform, row.startedAt, row.updatedAt, row.turns, row.expert, JSON.stringify(row.evidence)],
    };
  }

  save(row: ConversationRow): void {
    const { statement, params } = this.saveWrite(row);
    statement.run(...params);
  }

  /** Up to `limit` answered turns before `beforeTurn`, newest first. */
  history(conversationId: string, beforeTurn: number, limit: number): HistoryTurn[] {
    this.beforeRead();
    const rows = this.historyStatement.all(conversationId, beforeTurn, limit * 2) as { turn: number; query: string; answer: string; expert: ExpertId; created_at: number }[];
    const out: HistoryTurn[] = [];
    for (const r of rows) {
      if (out.length > 0 && out[out.length - 1]!.turn === r.turn) continue;
      out.push({ turn: r.turn, question: r.query, answer: r.answer, expert: r.expert, createdAt: r.created_at });
      if (out.length === limit) break;
    }
    return out;
  }

  /** The platform key of a conversation, when it is still the one running there. */
  keyOf(conversationId: string): string | null {
    this.beforeRead();
    return (this.keyStatement.get(conversationId) as { key: string } | undefined)?.key ?? null;
  }

  /** A re-routed answer moves its conversation to the expert the user picked. */
  setExpert(conversationId: string, expert: ExpertId): void {
    this.setExpertStatement.run(expert, conversationId);
  }

  /** Forgets conversations idle since before `cutoff` (their decisions stay in the log). */
  pruneIdleBefore(cutoff: number): number {
    return this.pruneStatement.run(cutoff).changes;
  }
}
