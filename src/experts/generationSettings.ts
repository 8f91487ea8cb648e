/** A question's generation settings: the caller's, kept within the expert's own limits (local and remote experts alike). */
import type { ExpertEntry } from './registry.js';
import type { GenerateOptions } from './types.js';

export interface GenerationSettings {
  systemPrompt: string;
  maxTokens: number;
  temperature: number;
  topP: number | undefined;
}

export function generationSettings(entry: ExpertEntry, options: GenerateOptions): GenerationSettings {
  const gen = entry.generation;
  const suffix = options.systemSuffix?.trim();
  const topP = options.topP ?? gen.topP;
  return {
    // Appended, never replacing: the expert's disclaimers always stay in front.
    systemPrompt: suffix ? `${entry.systemPrompt}\n\n${suffix}` : entry.systemPrompt,
    maxTokens: Math.max(1, Math.min(Math.floor(options.maxTokens ?? gen.maxTokens), gen.maxTokens)),
    temperature: Math.min(2, Math.max(0, options.temperature ?? gen.temperature)),
    topP: topP === undefined ? undefined : Math.min(1, Math.max(0.01, topP)),
  };
}
