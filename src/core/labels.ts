/**
 * The one converter between the three names of an expert: the gate's label (`none`), the expert id (`general`) and
 * the old Python service's name (`GeneralExpert`, still returned by the HTTP API for its clients).
 */
import { isExpertId, type ExpertId, type Label } from '../gate/types.js';

const LEGACY_NAMES: Record<ExpertId, string> = {
  healthcare: 'HealthcareExpert',
  finance: 'FinanceExpert',
  cybersecurity: 'CybersecurityExpert',
  general: 'GeneralExpert',
};

/** The expert that answers questions with this label: off-topic (`none`) goes to the general fallback. */
export function labelToExpert(label: Label): ExpertId {
  return label === 'none' ? 'general' : label;
}

/** The label a vote for this expert teaches the gate. */
export function expertToLabel(expert: ExpertId): Label {
  return expert === 'general' ? 'none' : expert;
}

export function legacyExpertName(id: ExpertId): string {
  return LEGACY_NAMES[id];
}

/** Accepts `finance`, `FinanceExpert`, `financeexpert`, `Finance Expert`, and the label `none`; null when it names no expert. */
export function parseExpertName(raw: string): ExpertId | null {
  const key = raw.trim().toLowerCase().replace(/[\s_-]+/g, '').replace(/expert$/, '');
  if (key === 'none') return 'general';
  return isExpertId(key) ? key : null;
}
