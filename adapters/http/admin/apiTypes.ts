/** The JSON shapes of /admin/api/*, shared by the server routes and the browser code (no imports: both sides use it). */

export type BucketName = 'hour' | 'day';

export interface SummaryResponse {
  decisions: number;
  byExpert: Record<string, number>;
  votes: number;
  upvotes: number;
  downvotes: number;
  /** Share of 👍 among votes (0..1); null before the first vote. */
  upvoteRate: number | null;
  fallbacks: number;
  /** Share of questions answered by the fallback expert (0..1). */
  fallbackRate: number;
  corrections: number;
  reroutes: number;
  byStatus: Record<string, number>;
  /** Follow-ups in conversations: count, share of all questions, and how the follow-up rule routed them. */
  conversations: { followUps: number; followUpShare: number; sticky: number; switched: number };
  /** The gate routing in this process now. */
  gateVersion: string;
  /** The version recorded as active in the database (a rollback shows here first, then in gateVersion). */
  activeGateVersion: string | null;
  /** LOG_QUERY_TEXT: false means the dashboard shows no question text at all. */
  textLogged: boolean;
  generatedAt: number;
}

export interface TimeSeriesResponse {
  bucket: BucketName;
  bucketMs: number;
  from: number;
  to: number;
  buckets: number[];
  questions: Record<string, number[]>;
  fallbacks: number[];
  totals: number[];
  votes: Record<string, number[]>;
  upvotes: Record<string, number[]>;
}

export interface ConfusionResponse {
  /** The experts in display order (rows: the gate's choice; columns: the expert users said was right). */
  experts: string[];
  cells: Record<string, Record<string, number>>;
  fromCorrections: number;
  fromReroutes: number;
}

export interface GateVersionItem {
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

export interface GatesResponse {
  versions: GateVersionItem[];
  routingVersion: string;
}

export interface ExpertItem {
  id: string;
  displayName: string;
  emoji: string;
  state: string;
  unavailableReason: string | null;
  isFallback: boolean;
  demo: boolean;
  active: number;
  queued: number;
  /** Estimated RAM+VRAM while loaded, when the expert reports it. */
  memoryBytes: number | null;
  busyRejections: number;
  /** Over the last 24 hours of answers. */
  tokensPerSecond: number | null;
  /** Experts served by a remote engine (OpenAI-compatible endpoint): its health; null for local models. */
  endpoint: EndpointItem | null;
}

export interface EndpointItem {
  baseUrl: string;
  model: string;
  health: 'unknown' | 'up' | 'down';
  lastError: string | null;
  /** Epoch ms of the last change of health. */
  since: number;
  /** While down: epoch ms of the next background probe. */
  nextProbeAt: number | null;
  maxConcurrent: number;
}

export interface ExpertsResponse {
  experts: ExpertItem[];
}

export interface DecisionItem {
  id: string;
  createdAt: number;
  platform: string;
  /** A short keyed hash of the user id, never the id itself. */
  user: string | null;
  gateExpert: string;
  expert: string;
  confidence: number;
  fallbackReason: string | null;
  status: string;
  reroutedFrom: string | null;
  upvotes: number;
  downvotes: number;
  correctedExpert: string | null;
  query: string | null;
}

export interface DecisionsResponse {
  decisions: DecisionItem[];
  textLogged: boolean;
}

export interface RetrainResult {
  version: string;
  promoted: boolean;
  reason: string;
  examplesUsed: number;
  feedbackExamples: number;
  oldAccuracy: number | null;
  newAccuracy: number;
  oldVersion: string | null;
  durationMs: number;
}

export interface RetrainStatusResponse {
  state: 'idle' | 'running' | 'done' | 'failed';
  /** While running: the retrainer's current stage, its 1-based step of `steps`, and what it is doing. */
  stage: string | null;
  step: number | null;
  steps: number | null;
  message: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  requestedBy: string | null;
  result: RetrainResult | null;
  error: string | null;
}

export interface RollbackResponse {
  from: string | null;
  to: string;
}

export interface ApiError {
  error: string;
  message: string;
}
