/**
 * The JSON shapes of /admin/api/*, shared by the server routes and the browser code. Built from the store's, the
 * core's and the experts' types with type-only imports, which the dashboard bundle drops.
 */
import type { RetrainReport } from '../../../src/core/types.js';
import type { EndpointStatus, ExpertStatus } from '../../../src/experts/types.js';
import type { ConfusionMatrix, GateVersionSummary, RecentDecision, SummaryCounts, TimeSeries } from '../../../src/store/adminTypes.js';

export interface SummaryResponse extends SummaryCounts {
  /** The gate routing in this process now. */
  gateVersion: string;
  /** The version recorded as active in the database (a rollback shows here first, then in gateVersion). */
  activeGateVersion: string | null;
  /** LOG_QUERY_TEXT: false means the dashboard shows no question text at all. */
  textLogged: boolean;
  generatedAt: number;
}

export interface TimeSeriesResponse extends TimeSeries {
  from: number;
  to: number;
}

export interface ConfusionResponse extends ConfusionMatrix {
  /** The experts in display order (rows: the gate's choice; columns: the expert users said was right). */
  experts: string[];
}

export type GateVersionItem = GateVersionSummary;

export interface GatesResponse {
  versions: GateVersionItem[];
  routingVersion: string;
}

export type EndpointItem = EndpointStatus;

/** An expert's status with its figures from the log; optional fields of the status are null here. */
export interface ExpertItem extends Pick<ExpertStatus, 'id' | 'displayName' | 'emoji' | 'state' | 'unavailableReason' | 'isFallback' | 'demo' | 'active' | 'queued'> {
  /** Estimated RAM+VRAM while loaded, when the expert reports it. */
  memoryBytes: number | null;
  busyRejections: number;
  /** Over the last 24 hours of answers. */
  tokensPerSecond: number | null;
  /** Experts served by a remote engine (OpenAI-compatible endpoint): its health; null for local models. */
  endpoint: EndpointItem | null;
}

export interface ExpertsResponse {
  experts: ExpertItem[];
}

export interface DecisionItem extends Omit<RecentDecision, 'userId'> {
  /** A short keyed hash of the user id, never the id itself. */
  user: string | null;
}

export interface DecisionsResponse {
  decisions: DecisionItem[];
  textLogged: boolean;
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
  result: RetrainReport | null;
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
