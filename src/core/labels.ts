/**
 * The one converter between the three names of an expert: the gate's label (`none`), the expert id (`general`) and
 * the old Python service's name (`GeneralExpert`, still returned by the HTTP API for its clients). Pure, so the gate
 * uses it too.
 */
import type { ExpertId, Label } from '../gate/types.js';

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

/** Every spelling a dataset, a vote or the old service uses for a label, once `Expert` and non-letters are dropped. */
const LABEL_ALIASES: Record<string, Label> = {
  healthcare: 'healthcare',
  health: 'healthcare',
  medical: 'healthcare',
  finance: 'finance',
  financial: 'finance',
  cybersecurity: 'cybersecurity',
  cyber: 'cybersecurity',
  security: 'cybersecurity',
  none: 'none',
  general: 'none',
  offtopic: 'none',
  fallback: 'none',
};

/** `HealthcareExpert`, `healthcare`, `general`, `none`, `Cyber-Security` → a Label, or null when it names none. */
export function parseLabel(raw: string): Label | null {
  let key = raw.toLowerCase().replace(/[^a-z]/g, '');
  if (key.endsWith('expert') && key !== 'expert') key = key.slice(0, -'expert'.length);
  return LABEL_ALIASES[key] ?? null;
}

/** Accepts `finance`, `FinanceExpert`, `financeexpert`, `Finance Expert`, and the label `none`; null when it names no expert. */
export function parseExpertName(raw: string): ExpertId | null {
  const label = parseLabel(raw);
  return label === null ? null : labelToExpert(label);
}
