/** Labels the gate learns. `none` means off-topic: such questions go to the general fallback expert. */
export const LABELS = ['healthcare', 'finance', 'cybersecurity', 'none'] as const;
export type Label = (typeof LABELS)[number];
export const DOMAIN_LABELS = ['healthcare', 'finance', 'cybersecurity'] as const;
export type DomainLabel = (typeof DOMAIN_LABELS)[number];

/** Expert ids: one per domain label plus the general fallback. */
export const EXPERT_IDS = ['healthcare', 'finance', 'cybersecurity', 'general'] as const;
export type ExpertId = (typeof EXPERT_IDS)[number];

export type FallbackReason = 'off_topic' | 'unsure';

export interface RouteDecision {
  /** Expert that should answer: the top domain label, or `general` when the gate falls back. */
  expert: ExpertId;
  /** Calibrated probability of the top label (0..1). */
  confidence: number;
  /** Calibrated probability of every label; sums to 1. */
  probabilities: Record<Label, number>;
  /** True when the question goes to the fallback expert (off-topic or unsure). */
  fallback: boolean;
  fallbackReason: FallbackReason | null;
  /** Best domain expert other than `expert` (for "ask <runner-up> instead"). */
  runnerUp: Exclude<ExpertId, 'general'>;
  /** Top label before the fallback rule. */
  label: Label;
  /** Version id of the gate that decided. */
  gateVersion: string;
}

export function isLabel(value: unknown): value is Label {
  return typeof value === 'string' && (LABELS as readonly string[]).includes(value);
}

export function isExpertId(value: unknown): value is ExpertId {
  return typeof value === 'string' && (EXPERT_IDS as readonly string[]).includes(value);
}

/** One labelled training row; `weight` (default 1) lets feedback examples count more or less. */
export interface TrainingExample {
  text: string;
  label: Label;
  weight?: number;
  /** Optional free-form category (e.g. typo, slang, mixed) reported by `moe eval` as byKind. */
  kind?: string;
}

/** What the router needs from a trained gate (src/gate/Gate.ts implements it). */
export interface GateModel {
  readonly version: string;
  route(text: string): RouteDecision;
}
