/**
 * Registries of generated demo models for tests and benchmarks of any area: one call gives a folder with four
 * expert GGUF files and an experts.json that createExpertPool can load.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPERT_IDS, type ExpertId } from '../../src/gate/types.js';
import { DEMO_CORPUS } from '../../src/experts/demo/demoCorpus.js';
import { writeDemoModel } from '../../src/experts/demo/demoModel.js';

/** A corpus for long-answer fixtures: every domain mixed, meant for `endless: true`. */
export const LONG_ANSWER_CORPUS: readonly string[] = Object.values(DEMO_CORPUS).flat();

export interface DemoRegistryOptions {
  /**
   * Experts whose chain never ends an answer, so every answer is exactly `maxTokens` tokens long
   * (about 5 characters per token).
   */
  endless?: ExpertId[];
  /**
   * Experts that write long answers cheaply: endless, one whole sentence per token (about 70 characters per token,
   * so maxTokens 80 gives roughly 5,500 characters and 300 roughly 21,000; use the maxTokens option of generate).
   */
  longAnswers?: ExpertId[];
  /** generation.maxTokens for every expert (default 256). */
  maxTokens?: number;
  /** generation.contextSize per sequence (default max(1024, maxTokens + 512)). */
  contextSize?: number;
  /** generation.historyTokens for every expert (default: a quarter of contextSize). */
  historyTokens?: number;
  /** generation.timeoutSeconds for every expert (default: EXPERT_TIMEOUT). */
  timeoutSeconds?: number;
  /** Experts to leave out of the registry. */
  omit?: ExpertId[];
  /** Replace an expert's model field (e.g. a path to a malformed file). */
  models?: Partial<Record<ExpertId, string>>;
  /** Wider embedding = more arithmetic per token (benchmarks). */
  minEmbeddingLength?: number;
}

const EMOJI: Record<ExpertId, string> = { healthcare: '🩺', finance: '💰', cybersecurity: '🔐', general: '💬' };
const NAMES: Record<ExpertId, string> = {
  healthcare: 'Healthcare Expert',
  finance: 'Finance Expert',
  cybersecurity: 'Cybersecurity Expert',
  general: 'General Assistant',
};

/** Writes `<dir>/<id>.gguf` for each expert and `<dir>/experts.json`; returns the registry path. */
export async function writeDemoRegistry(dir: string, options: DemoRegistryOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const maxTokens = options.maxTokens ?? 256;
  const contextSize = options.contextSize ?? Math.max(1024, maxTokens + 512);
  const experts = [];
  for (const id of EXPERT_IDS) {
    if (options.omit?.includes(id)) continue;
    let model = options.models?.[id];
    if (model === undefined) {
      const long = options.longAnswers?.includes(id) ?? false;
      const endless = long || (options.endless?.includes(id) ?? false);
      model = `${id}.gguf`;
      await writeDemoModel(path.join(dir, model), {
        corpus: endless ? LONG_ANSWER_CORPUS : DEMO_CORPUS[id],
        endless,
        tokenUnit: long ? 'sentence' : 'word',
        name: `test ${id}`,
        contextLength: Math.max(8192, contextSize),
        ...(options.minEmbeddingLength !== undefined ? { minEmbeddingLength: options.minEmbeddingLength } : {}),
      });
    }
    experts.push({
      id,
      displayName: NAMES[id],
      legacyName: NAMES[id].replace(/ /g, '').replace('Assistant', 'Expert'),
      description: `Test ${id} expert.`,
      emoji: EMOJI[id],
      model,
      systemPrompt: `You are the ${id} expert.`,
      generation: {
        temperature: 0.7,
        maxTokens,
        contextSize,
        ...(options.timeoutSeconds !== undefined ? { timeoutSeconds: options.timeoutSeconds } : {}),
        ...(options.historyTokens !== undefined ? { historyTokens: options.historyTokens } : {}),
      },
    });
  }
  const file = path.join(dir, 'experts.json');
  await writeFile(file, JSON.stringify({ fallback: 'general', experts }, null, 2));
  return file;
}

export interface ShippedExpertEntry {
  id: string;
  model: string;
  generation?: Record<string, number>;
}

/** The shipped models/experts.json with `edit` applied to each expert, written as `<dir>/experts.json`; returns its path. */
export async function writeEditedRegistry(dir: string, edit: (expert: ShippedExpertEntry) => void): Promise<string> {
  const shipped = path.join(fileURLToPath(new URL('../..', import.meta.url)), 'models', 'experts.json');
  const registry = JSON.parse(await readFile(shipped, 'utf8')) as { experts: ShippedExpertEntry[] };
  registry.experts.forEach(edit);
  const file = path.join(dir, 'experts.json');
  await writeFile(file, JSON.stringify(registry));
  return file;
}

/** The shipped registry with the experts named in `engines` served by those (fake) engines under their model names. */
export async function writeEndpointRegistry(dir: string, engines: Partial<Record<string, { baseUrl: string; model: string }>>): Promise<string> {
  return writeEditedRegistry(dir, (e) => {
    const engine = engines[e.id];
    if (!engine) return;
    delete (e as { model?: string }).model;
    Object.assign(e, { endpoint: { baseUrl: engine.baseUrl, model: engine.model } });
  });
}

/** `<dir>/long.gguf`: an endless demo model over every domain's corpus, for long-answer fixtures; returns its path. */
export async function writeLongAnswerModel(dir: string): Promise<string> {
  const file = path.join(dir, 'long.gguf');
  await writeDemoModel(file, { corpus: LONG_ANSWER_CORPUS, endless: true, name: 'long answers' });
  return file;
}
