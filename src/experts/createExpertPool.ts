/**
 * Builds the ExpertPool from config and the registry: validates the registry, writes any missing demo models,
 * resolves model files. Nothing is loaded here (experts load on first use), so this is fast on a fresh machine.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { ExpertId } from '../gate/types.js';
import { DEMO_CORPUS } from './demo/demoCorpus.js';
import { DEMO_MODEL_VERSION, writeDemoModel } from './demo/demoModel.js';
import { ExpertPool } from './ExpertPool.js';
import { inspectModelFile, isDemoModelInfo, metadataValue } from './inspectModelFile.js';
import { LlamaExpert } from './LlamaExpert.js';
import { RemoteExpert } from './RemoteExpert.js';
import { getSharedLlama } from './llamaRuntime.js';
import { loadRegistry, type ExpertEntry, type ExpertRegistry } from './registry.js';

export interface CreateExpertPoolOptions {
  /** Defaults to config.expertsPath. */
  registryPath?: string;
  log?: (msg: string) => void;
  /** Problems an operator must see (an expert unavailable, a setting that cannot work); defaults to `log`. */
  warn?: (msg: string) => void;
  /** Delays of the background probe of a down endpoint (default 0.5 s doubling to 30 s). */
  probeBackoff?: { minMs: number; maxMs: number };
  /** Run every expert on exactly this many threads, bypassing the one-thread rule for tiny models (benchmarks). */
  exactThreads?: number;
}

/** Where `moe models pull` stores hf: models for a registry, and its record of which file each URI became. */
export function downloadsDir(registryFile: string): string {
  return path.join(path.dirname(path.resolve(registryFile)), 'hf');
}

export function downloadsManifestPath(registryFile: string): string {
  return path.join(downloadsDir(registryFile), 'downloads.json');
}

export async function readDownloadsManifest(registryFile: string): Promise<Record<string, string>> {
  try {
    const raw: unknown = JSON.parse(await readFile(downloadsManifestPath(registryFile), 'utf8'));
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      return Object.fromEntries(Object.entries(raw).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
    }
  } catch {
    // No manifest yet: nothing was pulled.
  }
  return {};
}

export function demoModelPath(config: Pick<Config, 'demoModelsDir'>, id: ExpertId): string {
  return path.resolve(config.demoModelsDir, `${id}.gguf`);
}

function demoFingerprint(id: ExpertId): string {
  return createHash('sha256').update(JSON.stringify({ v: DEMO_MODEL_VERSION, id, corpus: DEMO_CORPUS[id] })).digest('hex').slice(0, 16);
}

/** Writes the demo model for `id` unless an up-to-date one is already there. */
export async function ensureDemoModel(config: Pick<Config, 'demoModelsDir'>, id: ExpertId, log: (msg: string) => void = () => undefined): Promise<string> {
  const file = demoModelPath(config, id);
  const fingerprint = demoFingerprint(id);
  try {
    const info = await inspectModelFile(file);
    if (metadataValue(info, 'moe.demo_fingerprint') === fingerprint) return file;
  } catch {
    // Missing or damaged: write it again.
  }
  await writeDemoModel(file, { corpus: DEMO_CORPUS[id], name: `moe-router demo ${id} expert`, fingerprint });
  log(`wrote demo model ${file}`);
  return file;
}

interface Resolved {
  modelPath: string | null;
  missingReason?: string;
  demo: boolean;
}

/** Finds the local file for an entry; problems become an unavailable reason, never an exception. */
export async function resolveExpertModel(config: Config, registry: ExpertRegistry, entry: ExpertEntry, log: (msg: string) => void): Promise<Resolved> {
  const source = entry.model;
  if (source.kind === 'endpoint') return { modelPath: null, missingReason: 'served by an endpoint', demo: false };
  if (source.kind === 'demo') return { modelPath: await ensureDemoModel(config, entry.id, log), demo: true };
  let file: string;
  if (source.kind === 'uri') {
    const manifest = await readDownloadsManifest(registry.file);
    const name = manifest[source.uri];
    if (!name) return { modelPath: null, missingReason: `${source.uri} is not downloaded yet (run: npx moe models pull)`, demo: false };
    file = path.join(downloadsDir(registry.file), name);
  } else file = source.path;
  try {
    const info = await inspectModelFile(file);
    return { modelPath: file, demo: isDemoModelInfo(info) };
  } catch (err) {
    return { modelPath: null, missingReason: (err as Error).message, demo: false };
  }
}

export async function createExpertPool(config: Config, options: CreateExpertPoolOptions = {}): Promise<ExpertPool> {
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? log;
  const registry = await loadRegistry(options.registryPath ?? config.expertsPath);
  const experts: LlamaExpert[] = [];
  const remote: RemoteExpert[] = [];
  for (const entry of registry.experts) {
    const timeoutMs = entry.generation.timeoutSeconds !== undefined ? Math.round(entry.generation.timeoutSeconds * 1000) : config.expertTimeoutMs;
    const tooLong = queryLimitProblem(config.maxQueryChars, entry);
    if (tooLong) warn(tooLong);
    if (entry.model.kind === 'endpoint') {
      const expert = new RemoteExpert({
        entry, endpoint: entry.model, isFallback: entry.id === registry.fallback, queueLimit: config.expertQueueLimit, timeoutMs, log, warn,
        ...(options.probeBackoff ? { probeBackoff: options.probeBackoff } : {}),
      });
      expert.checkNow();
      remote.push(expert);
      continue;
    }
    const resolved = await resolveExpertModel(config, registry, entry, log);
    experts.push(
      new LlamaExpert({
        entry,
        ...resolved,
        isFallback: entry.id === registry.fallback,
        threads: options.exactThreads ?? config.llamaThreads,
        exactThreads: options.exactThreads !== undefined,
        batchSize: config.expertBatchSize,
        queueLimit: config.expertQueueLimit,
        timeoutMs,
        log,
        warn,
      }),
    );
  }
  const pool = new ExpertPool({
    experts,
    remote,
    fallback: registry.fallback,
    getLlama: () => getSharedLlama(config),
    memoryBudgetBytes: config.expertMemoryBudgetBytes,
    log,
    warn,
  });
  pool.loadFallbackForFailover();
  return pool;
}

/** About four characters per token in the languages our experts speak; used only to warn, never to refuse. */
const CHARS_PER_TOKEN = 4;

/**
 * MAX_QUERY_CHARS against an expert's context: a question the router admits but the expert cannot take would only
 * fail at answer time, so say it at start. Null when it fits.
 */
export function queryLimitProblem(maxQueryChars: number, entry: ExpertEntry): string | null {
  const queryTokens = Math.ceil(maxQueryChars / CHARS_PER_TOKEN);
  const systemTokens = Math.ceil(entry.systemPrompt.length / CHARS_PER_TOKEN);
  const context = entry.generation.contextSize;
  if (queryTokens + systemTokens + 64 <= context) return null;
  const fits = Math.max(0, (context - systemTokens - 64) * CHARS_PER_TOKEN);
  return `MAX_QUERY_CHARS=${maxQueryChars} admits questions of about ${queryTokens} tokens, but expert ${entry.id} has a context of ${context} tokens `
    + `(its instructions take about ${systemTokens}); longer questions will be refused as too long for this expert. `
    + `Set MAX_QUERY_CHARS to at most about ${fits} or raise its generation.contextSize.`;
}
