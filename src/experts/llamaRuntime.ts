/** One node-llama-cpp `Llama` per process (it owns the native backend); threads and GPU are set deliberately. */
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { Config } from '../config.js';

let shared: Promise<Llama> | null = null;

/** Recent llama.cpp error lines: its exceptions say only "Failed to load model", the log says why. */
const nativeErrors: { seq: number; message: string }[] = [];
let nativeSeq = 0;

function recordNativeLog(level: LlamaLogLevel, message: string): void {
  if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal) return;
  nativeErrors.push({ seq: ++nativeSeq, message: message.trim() });
  if (nativeErrors.length > 50) nativeErrors.shift();
}

/** A marker to pass to nativeErrorSince() later. */
export function nativeLogMark(): number {
  return nativeSeq;
}

/** The most telling llama.cpp error logged after `mark` (e.g. "tensor 'output.weight' has wrong shape ..."), or null. */
export function nativeErrorSince(mark: number): string | null {
  const lines = nativeErrors.filter((e) => e.seq > mark).map((e) => e.message);
  const loadError = lines.find((l) => l.includes('error loading model:'));
  if (loadError) return loadError.slice(loadError.indexOf('error loading model:') + 'error loading model:'.length).trim().replace(/\s+/g, ' ');
  return lines[0]?.replace(/\s+/g, ' ') ?? null;
}

/**
 * The first caller's settings win: llama.cpp has one backend per process.
 * maxThreads = config.llamaThreads because the library default (4) is ~400x slower on a 2-core machine.
 */
export function getSharedLlama(config: Pick<Config, 'llamaGpu' | 'llamaThreads'>): Promise<Llama> {
  if (!shared) {
    shared = getLlama({
      gpu: config.llamaGpu,
      maxThreads: config.llamaThreads,
      logLevel: LlamaLogLevel.error,
      logger: recordNativeLog,
      progressLogs: false,
    });
    // A failed start (e.g. no binary for a forced GPU type) must not poison every later attempt.
    shared.catch(() => {
      shared = null;
    });
  }
  return shared;
}
