/**
 * Downloads every `hf:` (or http) model of the registry with node-llama-cpp's downloader, and records which file
 * each URI became so the pool can find it offline later.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { combineModelDownloaders, createModelDownloader } from 'node-llama-cpp';
import { downloadsDir, downloadsManifestPath, readDownloadsManifest } from './createExpertPool.js';
import type { ExpertRegistry } from './registry.js';

export class OfflineError extends Error {
  readonly code = 'offline';
  constructor(readonly endpoint: string, detail: string) {
    super(`offline: cannot reach ${endpoint} (${detail}); connect to the network (or set HF_ENDPOINT to a reachable mirror) and run \`npx moe models pull\` again`);
    this.name = 'OfflineError';
  }
}

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'ERR_NETWORK']);

/** Finds a connection-level failure anywhere in an error's cause chain (fetch wraps them as "fetch failed"). */
export function networkErrorCode(err: unknown): string | null {
  let node: unknown = err;
  for (let depth = 0; node && depth < 8; depth++) {
    const e = node as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    if (Array.isArray(e.errors)) for (const inner of e.errors) {
      const code = networkErrorCode(inner);
      if (code) return code;
    }
    if (typeof e.message === 'string' && /getaddrinfo|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|network is unreachable/i.test(e.message)) {
      return /ECONNREFUSED/.test(e.message) ? 'ECONNREFUSED' : 'ENOTFOUND';
    }
    // undici reports every connection-level failure as "fetch failed"; node-llama-cpp keeps only that text.
    if (typeof e.message === 'string' && /fetch failed/i.test(e.message)) return 'network error';
    node = e.cause;
  }
  return null;
}

export interface PullOptions {
  /** Hugging Face endpoint; defaults to HF_ENDPOINT or https://huggingface.co/. */
  endpoint?: string;
  showCliProgress?: boolean;
  signal?: AbortSignal;
}

export interface PulledModel {
  uri: string;
  file: string;
}

export function remoteModelUris(registry: ExpertRegistry): string[] {
  return [...new Set(registry.experts.flatMap((e) => (e.model.kind === 'uri' ? [e.model.uri] : [])))];
}

/** Downloads what is missing (existing complete files are skipped); throws OfflineError when the network is unreachable. */
export async function pullModels(registry: ExpertRegistry, options: PullOptions = {}): Promise<PulledModel[]> {
  const uris = remoteModelUris(registry);
  if (uris.length === 0) return [];
  const dirPath = downloadsDir(registry.file);
  await mkdir(dirPath, { recursive: true });
  const endpoint = options.endpoint ?? process.env.HF_ENDPOINT ?? process.env.MODEL_ENDPOINT ?? 'https://huggingface.co/';
  const downloaders = uris.map((modelUri) =>
    createModelDownloader({
      modelUri,
      dirPath,
      showCliProgress: false,
      endpoints: { huggingFace: endpoint },
    }),
  );
  try {
    const combined = await combineModelDownloaders(downloaders, { showCliProgress: options.showCliProgress ?? false });
    await combined.download(options.signal ? { signal: options.signal } : {});
    const manifest = await readDownloadsManifest(registry.file);
    const pulled = combined.modelDownloaders.map((d, i) => ({ uri: uris[i]!, file: d.entrypointFilePath }));
    for (const p of pulled) manifest[p.uri] = path.relative(dirPath, p.file);
    await writeFile(downloadsManifestPath(registry.file), JSON.stringify(manifest, null, 2));
    return pulled;
  } catch (err) {
    // Settle the other downloaders so no rejection is left unhandled.
    await Promise.allSettled(downloaders);
    const code = networkErrorCode(err);
    if (code) throw new OfflineError(endpoint, code);
    throw err;
  }
}
