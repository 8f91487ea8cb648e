/** The shapes of the admin dashboard's figures (type-only: the dashboard's browser code reads them too). */

export type Bucket = 'hour' | 'day';

/** Questions count once answered or failed (the few in flight are left out: see migration 008). */
export interface SummaryCounts {
  decisions: number;
  byExpert: Record<string, number>;
  fallbacks: number;
  fallbackRate: number;
  votes: number;
  upvotes: number;
  downvotes: number;
  /** Share of 👍 among votes; null before the first vote. */
  upvoteRate: number | null;
  corrections: number;
  reroutes: number;
  byStatus: Record<string, number>;
  /** Conversations (follow-ups in threads): their share of questions and how the follow-up rule routed them. */
  conversations: { followUps: number; followUpShare: number; sticky: number; switched: number };
}

export interface TimeSeries {
  bucket: Bucket;
  bucketMs: number;
  /** Start of each bucket, ms epoch, oldest first, no gaps. */
  buckets: number[];
  /** expert id → questions per bucket (answering expert). */
  questions: Record<string, number[]>;
  /** Questions answered by the fallback per bucket, and all questions per bucket. */
  fallbacks: number[];
  totals: number[];
  /** expert id → votes per bucket (by when the vote was cast), and 👍 among them. */
  votes: Record<string, number[]>;
  upvotes: Record<string, number[]>;
}

export interface ConfusionMatrix {
  /** gate's choice → expert users said was right → count. */
  cells: Record<string, Record<string, number>>;
  fromCorrections: number;
  fromReroutes: number;
}

export interface GateVersionSummary {
  version: string;
  createdAt: number;
  active: boolean;
  promoted: boolean;
  examples: number;
  feedbackExamples: number;
  heldOutAccuracy: number | null;
  baselineAccuracy: number | null;
  macroF1: number | null;
  ece: number | null;
  requestedBy: string | null;
  reason: string | null;
}

export interface ExpertLogFigures {
  /** Questions the gate sent to this expert that went to the fallback because it was busy. */
  busyRejections: number;
  /** Generated tokens per second of answer time over the last `windowMs`, or null without answers. */
  tokensPerSecond: number | null;
  answered: number;
}

export interface RecentFilter {
  expert?: string;
  vote?: 'up' | 'down' | 'none' | 'any';
  fallback?: boolean;
  limit: number;
}

export interface RecentDecision {
  id: string;
  createdAt: number;
  platform: string;
  userId: string | null;
  gateExpert: string;
  expert: string;
  confidence: number;
  fallbackReason: string | null;
  status: string;
  reroutedFrom: string | null;
  upvotes: number;
  downvotes: number;
  correctedExpert: string | null;
  /** Null when text is not logged (LOG_QUERY_TEXT=false, retention, `moe forget`). */
  query: string | null;
}
