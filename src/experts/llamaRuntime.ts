/** One node-llama-cpp `Llama` per process (it owns the native backend); threads and GPU are set deliberately. */
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { Config } from '../config.js';

let shared: Promise<Llama> | null = null;

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
      progressLogs: false,
    });
    // A failed start (e.g. no binary for a forced GPU type) must not poison every later attempt.
    shared.catch(() => {
      shared = null;
    });
  }
  return shared;
}
