/**
 * One expert on node-llama-cpp: a model, one context with `batchSize` sequences (concurrent questions are evaluated
 * in the same batches), and a bounded queue for the questions that wait for a free sequence.
 */
import { GgufInsights, type GgufFileInfo, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import { generateOnSequence, PromptTooLongError } from './generateOnSequence.js';
import { inspectModelFile } from './inspectModelFile.js';
import { nativeErrorSince, nativeLogMark } from './llamaRuntime.js';
import { generationSettings } from './generationSettings.js';
import type { ExpertEntry } from './registry.js';
import { ExpertError, type ExpertInfo, type ExpertStatus, type GenerateOptions, type GenerateResult } from './types.js';

export interface LlamaExpertOptions {
  entry: ExpertEntry;
  /** Resolved local GGUF path, or null with a reason when the model cannot be used (e.g. not downloaded). */
  modelPath: string | null;
  missingReason?: string;
  demo: boolean;
  isFallback: boolean;
  /** Configured threads (LLAMA_THREADS); tiny models use 1 unless `exactThreads` is set. */
  threads: number;
  /** Use `threads` as given even for tiny models (benchmarks that sweep thread counts). */
  exactThreads?: boolean;
  batchSize: number;
  queueLimit: number;
  timeoutMs: number;
  log: (msg: string) => void;
  /** Where "expert unavailable" goes: an operator must see it (defaults to log). */
  warn?: (msg: string) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** After a timeout the generation gets this long to stop before the expert is declared hung. */
const HUNG_GRACE_MS = 5_000;

/**
 * Below this many weights a model runs on one thread: its matrices are so small that llama.cpp's per-operation
 * thread barriers cost more than the split saves (measured 80x slower with 2 threads on 2 busy cores).
 */
export const SMALL_MODEL_PARAMETERS = 50_000_000;

export function parameterCount(info: GgufFileInfo): number {
  let total = 0;
  for (const t of info.tensorInfo ?? []) total += t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
  return total;
}

export class LlamaExpert {
  readonly id;
  private state: ExpertStatus['state'] = 'unloaded';
  private reason: string | null = null;
  private model: LlamaModel | null = null;
  private context: LlamaContext | null = null;
  private readonly freeSequences: LlamaContextSequence[] = [];
  private readonly waiters: Waiter[] = [];
  private activeCount = 0;
  private fileInfo: GgufFileInfo | null = null;
  /** Estimated bytes (RAM + VRAM) while loaded; used by the pool's memory budget. */
  estimatedBytes = 0;
  lastUsed = 0;

  constructor(private readonly opts: LlamaExpertOptions) {
    this.id = opts.entry.id;
    if (opts.modelPath === null) this.markUnavailable(opts.missingReason ?? 'model file not available');
  }

  get entry(): ExpertEntry {
    return this.opts.entry;
  }

  get modelPath(): string | null {
    return this.opts.modelPath;
  }

  get loaded(): boolean {
    return this.state === 'loaded';
  }

  get available(): boolean {
    return this.state !== 'unavailable';
  }

  get unavailableReason(): string | null {
    return this.reason;
  }

  /** Busy = generating or waiting; the pool never unloads a busy expert. */
  get busy(): boolean {
    return this.activeCount > 0 || this.waiters.length > 0;
  }

  info(): ExpertInfo {
    const e = this.opts.entry;
    return {
      id: e.id,
      displayName: e.displayName,
      legacyName: e.legacyName,
      description: e.description,
      emoji: e.emoji,
      isFallback: this.opts.isFallback,
      demo: this.opts.demo,
    };
  }

  status(): ExpertStatus {
    return {
      ...this.info(), state: this.state, unavailableReason: this.reason, active: this.activeCount, queued: this.waiters.length,
      memoryBytes: this.loaded ? this.estimatedBytes : 0,
    };
  }

  markUnavailable(reason: string): void {
    if (this.state !== 'unavailable') (this.opts.warn ?? this.opts.log)(`expert ${this.id} unavailable: ${reason}`);
    this.state = 'unavailable';
    this.reason = reason;
    for (const w of this.waiters.splice(0)) w.reject(this.unavailableError());
  }

  private unavailableError(): ExpertError {
    return new ExpertError('expert_unavailable', this.id, `${this.opts.entry.displayName} is unavailable: ${this.reason ?? 'unknown reason'}`);
  }

  /** Validates the file (throws ExpertError) and estimates what loading it will take, before anything is loaded. */
  async estimate(llama: Llama): Promise<number> {
    const path = this.opts.modelPath;
    if (path === null || this.state === 'unavailable') throw this.unavailableError();
    try {
      this.fileInfo ??= await inspectModelFile(path);
      const insights = await GgufInsights.from(this.fileInfo, llama);
      const gpuLayers = llama.gpu === false ? 0 : insights.totalLayers;
      const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
      const ctx = await insights.estimateContextResourceRequirementsV2({
        contextSize: this.opts.entry.generation.contextSize,
        modelGpuLayers: gpuLayers,
        sequences: this.opts.batchSize,
      });
      return model.cpuRam + model.gpuVram + ctx.cpuRam + ctx.gpuVram;
    } catch (err) {
      this.markUnavailable((err as Error).message);
      throw this.unavailableError();
    }
  }

  /** Loads model and context; any failure marks the expert unavailable instead of propagating a crash. */
  async load(llama: Llama, estimatedBytes: number): Promise<void> {
    if (this.state === 'loaded') return;
    if (this.state === 'unavailable' || this.opts.modelPath === null) throw this.unavailableError();
    this.state = 'loading';
    const started = Date.now();
    const mark = nativeLogMark();
    try {
      this.fileInfo ??= await inspectModelFile(this.opts.modelPath);
      const threads = this.opts.exactThreads || parameterCount(this.fileInfo) >= SMALL_MODEL_PARAMETERS ? this.opts.threads : 1;
      this.model = await llama.loadModel({ modelPath: this.opts.modelPath });
      this.context = await this.model.createContext({
        sequences: this.opts.batchSize,
        contextSize: this.opts.entry.generation.contextSize,
        threads,
      });
      for (let i = 0; i < this.opts.batchSize; i++) this.freeSequences.push(this.context.getSequence());
      this.estimatedBytes = estimatedBytes;
      this.state = 'loaded';
      this.opts.log(`expert ${this.id} loaded in ${Date.now() - started} ms (${this.opts.modelPath}, ${threads} thread${threads === 1 ? '' : 's'})`);
    } catch (err) {
      await this.releaseNative();
      // llama.cpp's log lines reach JavaScript asynchronously, sometimes after the rejection; give them a moment.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const why = nativeErrorSince(mark) ?? (err as Error).message.split('\n')[0];
      this.markUnavailable(`failed to load ${this.opts.modelPath}: ${why}`);
      throw this.unavailableError();
    }
  }

  /** Frees the model; only called by the pool when idle, or at shutdown. */
  async unload(): Promise<void> {
    // State changes before the first await so no new question picks a sequence that is being disposed.
    if (this.state === 'loaded' || this.state === 'loading') this.state = 'unloaded';
    this.estimatedBytes = 0;
    await this.releaseNative();
  }

  private async releaseNative(): Promise<void> {
    this.freeSequences.length = 0;
    const context = this.context;
    const model = this.model;
    this.context = null;
    this.model = null;
    await context?.dispose().catch(() => undefined);
    await model?.dispose().catch(() => undefined);
  }

  /** Fails at once when the queue is full; otherwise resolves when a sequence slot is free. */
  acquireSlot(signal: AbortSignal | undefined): Promise<void> {
    if (this.state === 'unavailable') return Promise.reject(this.unavailableError());
    if (signal?.aborted) return Promise.reject(new ExpertError('cancelled', this.id, 'the question was cancelled'));
    if (this.activeCount < this.opts.batchSize && this.waiters.length === 0) {
      this.activeCount++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.opts.queueLimit) {
      return Promise.reject(
        new ExpertError('expert_busy', this.id, `${this.opts.entry.displayName} is busy (${this.activeCount} answering, ${this.waiters.length} waiting); try again shortly`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(new ExpertError('cancelled', this.id, 'the question was cancelled'));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Hands the slot to the next waiter (activeCount stays the same) or frees it. */
  releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.activeCount--;
  }

  /** Runs one question on a free sequence; the caller holds a slot and the expert is loaded. */
  async run(query: string, options: GenerateOptions, startedAt: number): Promise<GenerateResult> {
    const sequence = this.freeSequences.pop();
    if (!sequence || this.state !== 'loaded') throw this.unavailableError();
    this.lastUsed = Date.now();
    const controller = new AbortController();
    let timedOut = false;
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) controller.abort();
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.opts.timeoutMs);

    let firstChunkAt: number | null = null;
    let sequenceReusable = true;
    const settings = generationSettings(this.opts.entry, options);
    const generation = generateOnSequence(sequence, {
      systemPrompt: settings.systemPrompt,
      query,
      history: options.history ?? [],
      historyTokens: this.opts.entry.generation.historyTokens ?? Math.floor(this.opts.entry.generation.contextSize / 4),
      signal: controller.signal,
      maxTokens: settings.maxTokens,
      temperature: settings.temperature,
      ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
      onText: (text) => {
        firstChunkAt ??= Date.now();
        options.onTextChunk?.(text);
      },
    });

    try {
      const result = await this.raceHang(generation, controller.signal, () => {
        sequenceReusable = false;
      });
      const finished = Date.now();
      return {
        text: result.text,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        finishReason: result.cut ? 'length' : 'stop',
        timeToFirstTokenMs: (firstChunkAt ?? finished) - startedAt,
        totalMs: finished - startedAt,
        demo: this.opts.demo,
      };
    } catch (err) {
      if (timedOut) {
        throw new ExpertError('expert_timeout', this.id, `${this.opts.entry.displayName} took longer than ${Math.round(this.opts.timeoutMs / 1000)} s and was stopped`);
      }
      if (options.signal?.aborted) throw new ExpertError('cancelled', this.id, 'the question was cancelled');
      if (err instanceof ExpertError) throw err;
      if (err instanceof PromptTooLongError) throw new ExpertError('prompt_too_long', this.id, `${this.opts.entry.displayName}: ${err.message}`);
      this.markUnavailable(`generation failed: ${(err as Error).message.split('\n')[0]}`);
      throw this.unavailableError();
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (sequenceReusable && this.state === 'loaded') this.freeSequences.push(sequence);
    }
  }

  /** Rejects right after an abort; if the native generation then does not stop within the grace period, the expert is hung. */
  private raceHang<T>(prompt: Promise<T>, signal: AbortSignal, onHung: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      prompt.then(
        (v) => {
          settled = true;
          resolve(v);
        },
        (e: unknown) => {
          settled = true;
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
      signal.addEventListener(
        'abort',
        () => {
          setTimeout(() => {
            if (settled) return;
            onHung();
            this.markUnavailable(`generation did not stop ${HUNG_GRACE_MS / 1000} s after it was cancelled (hung)`);
            reject(new Error('hung'));
          }, HUNG_GRACE_MS).unref();
        },
        { once: true },
      );
    });
  }
}
