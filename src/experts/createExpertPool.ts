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
import { getSharedLlama } from './llamaRuntime.js';
import { loadRegistry, type ExpertEntry, type ExpertRegistry } from './registry.js';

export interface CreateExpertPoolOptions {
  /** Defaults to config.expertsPath. */
  registryPath?: string;
  log?: (msg: string) => void;
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
  const registry = await loadRegistry(options.registryPath ?? config.expertsPath);
  const experts: LlamaExpert[] = [];
  for (const entry of registry.experts) {
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
        timeoutMs: entry.generation.timeoutSeconds !== undefined ? Math.round(entry.generation.timeoutSeconds * 1000) : config.expertTimeoutMs,
        log,
      }),
    );
  }
  return new ExpertPool({
    experts,
    fallback: registry.fallback,
    getLlama: () => getSharedLlama(config),
    memoryBudgetBytes: config.expertMemoryBudgetBytes,
    log,
  });
}
