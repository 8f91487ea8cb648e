/** What retraining reads from the log: votes with the decision they rate, unvoted questions, and new-vote counts. */
import type { Statement } from 'better-sqlite3';
import type { ExpertId, Label } from '../gate/types.js';
import type { Store } from './Store.js';

/** One vote joined with the decision it rates: everything the rules look at. */
export interface VoteRecord {
  decisionId: string;
  userId: string;
  vote: 1 | -1;
  correctedExpert: ExpertId | null;
  isAdmin: boolean;
  createdAt: number;
  /** Question text; null when it was never logged, purged by retention or forgotten (such votes teach nothing). */
  query: string | null;
  /** Expert that answered. */
  expert: ExpertId;
  /** Why the answering expert is not the gate's domain choice (off_topic, unsure, expert_busy, expert_unavailable) or null. */
  fallbackReason: string | null;
  /** Set when this answer came from "ask another expert" on that decision. */
  reroutedFrom: string | null;
  /** The gate's probabilities when it routed, for spreading a bare 👎 over the other labels (readVotes reads them for those only). */
  probabilities: Record<Label, number> | null;
}

/** A logged question (decision) that nobody voted on. */
export interface LoggedQuestion {
  decisionId: string;
  userId: string | null;
  query: string | null;
  /** The gate's top label (before the fallback rule), and its probability. */
  topLabel: Label;
  confidence: number;
  /** Every label's probability (soft labels); null = top label only. */
  probabilities: Record<Label, number> | null;
}

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

const statements = new WeakMap<Store, Record<'votes' | 'logged' | 'newVotes', Statement>>();

/** Prepared once per store (the retrainer and the schedule read these on every run and tick). */
function prepared(store: Store): Record<'votes' | 'logged' | 'newVotes', Statement> {
  const db = store.db;
  let s = statements.get(store);
  if (!s) {
    s = {
      // Probabilities only for bare 👎 (the only rule that reads them).
      votes: db.prepare(`SELECT f.decision_id, f.user_id, f.vote, f.corrected_expert, f.is_admin, f.created_at,
          d.query, d.expert, d.fallback_reason, d.rerouted_from,
          CASE WHEN f.vote = -1 AND f.corrected_expert IS NULL THEN d.probabilities_json END AS probabilities_json
        FROM feedback f JOIN decisions d ON d.id = f.decision_id ORDER BY f.created_at, f.rowid`),
      logged: db.prepare(`SELECT d.id, d.user_id, d.query, d.label, d.confidence FROM decisions d
        WHERE d.query IS NOT NULL AND d.rerouted_from IS NULL AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.decision_id = d.id)
        ORDER BY d.created_at DESC LIMIT ?`),
      newVotes: db.prepare('SELECT COUNT(*) AS n FROM feedback f JOIN decisions d ON d.id = f.decision_id WHERE f.created_at > ? AND d.query IS NOT NULL'),
    };
    statements.set(store, s);
  }
  return s;
}

/** Every vote with the decision it rates (oldest first). */
export function readVotes(store: Store): VoteRecord[] {
  const rows = prepared(store).votes.all() as RawVote[];
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
  const rows = prepared(store).logged.all(limit) as { id: string; user_id: string | null; query: string; label: Label; confidence: number }[];
  return rows.map((r) => ({ decisionId: r.id, userId: r.user_id, query: r.query, topLabel: r.label, confidence: r.confidence, probabilities: null }));
}

/** Votes on decisions whose text is still kept, cast after `sinceMs`: what RETRAIN_MIN_FEEDBACK counts. */
export function countNewVotes(store: Store, sinceMs: number): number {
  return (prepared(store).newVotes.get(sinceMs) as { n: number }).n;
}
