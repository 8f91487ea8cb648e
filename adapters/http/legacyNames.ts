import { isExpertId, type ExpertId } from '../../src/gate/types.js';

/** Expert names as the old Python service returned them; HTTP clients written for it keep working. */
const LEGACY: Record<ExpertId, string> = {
  healthcare: 'HealthcareExpert',
  finance: 'FinanceExpert',
  cybersecurity: 'CybersecurityExpert',
  general: 'GeneralExpert',
};

export function legacyExpertName(id: ExpertId): string {
  return LEGACY[id];
}

/** Accepts `finance`, `FinanceExpert`, `financeexpert`, `Finance Expert`; null when it names no expert. */
export function parseExpertName(raw: string): ExpertId | null {
  const key = raw.trim().toLowerCase().replace(/[\s_-]+/g, '').replace(/expert$/, '');
  if (key === 'none') return 'general';
  return isExpertId(key) ? key : null;
}
