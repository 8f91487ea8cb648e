/**
 * The experts the router talks to: lazy loading, a memory budget with least-recently-used unloading,
 * per-expert queues, and failures contained to the expert that failed.
 */
import os from 'node:os';
import type { Llama } from 'node-llama-cpp';
import type { ExpertId } from '../gate/types.js';
import type { LlamaExpert } from './LlamaExpert.js';
import type { RemoteExpert } from './RemoteExpert.js';
import { ExpertError, type ExpertInfo, type ExpertProvider, type ExpertStatus, type GenerateOptions, type GenerateResult } from './types.js';

export interface ExpertPoolOptions {
  experts: LlamaExpert[];
  /** Experts served by OpenAI-compatible engines (`endpoint` in the registry); no memory budget applies to them. */
  remote?: RemoteExpert[];
  fallback: ExpertId;
  getLlama: () => Promise<Llama>;
  /** Bytes of RAM+VRAM the loaded experts may use; null = from free memory when the first expert loads. */
  memoryBudgetBytes: number | null;
  log: (msg: string) => void;
  /** Problems an operator should see (default: log). */
  warn?: (msg: string) => void;
}

const MiB = 1024 ** 2;

export class ExpertPool implements ExpertProvider {
  private readonly experts = new Map<ExpertId, LlamaExpert>();
  private readonly remote = new Map<ExpertId, RemoteExpert>();
  /** Every expert id in registry order, local and remote. */
  private readonly order: ExpertId[];
  private budget: number | null;
  /** Loads run one at a time so two experts never both count the same free memory. */
  private loadChain: Promise<unknown> = Promise.resolve();
  private readonly loading = new Map<ExpertId, Promise<void>>();
  private disposed = false;

  constructor(private readonly opts: ExpertPoolOptions) {
    for (const e of opts.experts) this.experts.set(e.id, e);
    for (const e of opts.remote ?? []) this.remote.set(e.id, e);
    this.order = [...this.experts.keys(), ...this.remote.keys()];
    if (!this.experts.has(opts.fallback) && !this.remote.has(opts.fallback)) throw new Error(`fallback expert "${opts.fallback}" is not in the pool`);
    this.budget = opts.memoryBudgetBytes;
  }

  list(): ExpertInfo[] {
    return this.order.map((id) => this.any(id).info());
  }

  info(id: ExpertId): ExpertInfo {
    return this.any(id).info();
  }

  fallbackId(): ExpertId {
    return this.opts.fallback;
  }

  status(): ExpertStatus[] {
    return this.order.map((id) => this.any(id).status());
  }

  /** The memory budget in bytes (resolved from free memory once the first expert loads, when set to auto). */
  memoryBudgetBytes(): number | null {
    return this.budget;
  }

  /** Estimated bytes in use by loaded experts. */
  memoryUsedBytes(): number {
    let used = 0;
    for (const e of this.experts.values()) if (e.loaded) used += e.estimatedBytes;
    return used;
  }

  /**
   * With experts on engines, a failing engine's questions go to the fallback within a second: a local fallback is
   * loaded now, in the background, not by the first failover (loading a model takes seconds).
   */
  loadFallbackForFailover(): void {
    const fallback = this.experts.get(this.opts.fallback);
    if (!fallback || this.remote.size === 0) return;
    this.ensureLoaded(fallback).then(
      () => { fallback.lastUsed = Date.now(); }, // not the first one the memory budget unloads
      (err: unknown) => this.disposed || (this.opts.warn ?? this.opts.log)(`fallback expert ${fallback.id} could not load at start (its first failover will try again): ${(err as Error).message}`),
    );
  }

  async generate(id: ExpertId, query: string, options: GenerateOptions = {}): Promise<GenerateResult> {
    const startedAt = Date.now();
    if (this.disposed) throw new ExpertError('expert_unavailable', id, 'the expert pool is shutting down');
    const remote = this.remote.get(id);
    if (remote) return remote.generate(query, options);
    const expert = this.get(id);
    await expert.acquireSlot(options.signal);
    try {
      if (options.signal?.aborted) throw new ExpertError('cancelled', id, 'the question was cancelled');
      // Loop because an idle expert can be unloaded for room between its load finishing and this question starting.
      for (let attempt = 0; ; attempt++) {
        await this.ensureLoaded(expert);
        if (expert.loaded) return await expert.run(query, options, startedAt);
        if (!expert.available || attempt >= 3) {
          throw new ExpertError('expert_busy', id, `${expert.entry.displayName} could not stay loaded within the memory budget; try again shortly`);
        }
      }
    } finally {
      expert.lastUsed = Date.now();
      expert.releaseSlot();
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.loadChain.catch(() => undefined);
    await Promise.all([...this.experts.values()].map((e) => e.unload()));
    await Promise.all([...this.remote.values()].map((e) => e.dispose()));
  }

  private any(id: ExpertId): LlamaExpert | RemoteExpert {
    const e = this.experts.get(id) ?? this.remote.get(id);
    if (!e) throw this.unknown(id);
    return e;
  }

  private get(id: ExpertId): LlamaExpert {
    const e = this.experts.get(id);
    if (!e) throw this.unknown(id);
    return e;
  }

  private unknown(id: ExpertId): ExpertError {
    return new ExpertError('invalid_expert', String(id), `unknown expert "${String(id)}" (known: ${this.order.join(', ')})`);
  }

  private ensureLoaded(expert: LlamaExpert): Promise<void> {
    if (expert.loaded) return Promise.resolve();
    const pending = this.loading.get(expert.id);
    if (pending) return pending;
    const p = this.loadChain.then(() => this.loadWithinBudget(expert));
    this.loadChain = p.catch(() => undefined);
    this.loading.set(expert.id, p);
    void p.finally(() => this.loading.delete(expert.id)).catch(() => undefined);
    return p;
  }

  private async loadWithinBudget(expert: LlamaExpert): Promise<void> {
    if (expert.loaded) return;
    if (this.disposed) throw new ExpertError('expert_unavailable', expert.id, 'the expert pool is shutting down');
    const llama = await this.opts.getLlama();
    const budget = await this.resolveBudget(llama);
    const need = await expert.estimate(llama);
    if (need > budget) {
      expert.markUnavailable(`needs about ${Math.ceil(need / MiB)} MiB but the expert memory budget is ${Math.floor(budget / MiB)} MiB (EXPERT_MEMORY_BUDGET)`);
      await expert.load(llama, need);
      return;
    }
    while (this.memoryUsedBytes() + need > budget) {
      const victim = [...this.experts.values()]
        .filter((e) => e !== expert && e.loaded && !e.busy)
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!victim) {
        throw new ExpertError(
          'expert_busy',
          expert.id,
          `${expert.entry.displayName} cannot load yet: the memory budget is taken by experts that are answering; try again shortly`,
        );
      }
      this.opts.log(`unloading expert ${victim.id} (least recently used) to make room for ${expert.id}`);
      await victim.unload();
    }
    await expert.load(llama, need);
  }

  private async resolveBudget(llama: Llama): Promise<number> {
    if (this.budget !== null) return this.budget;
    // Auto: most of the RAM free now, plus free VRAM when a GPU is in use.
    let bytes = Math.floor(os.freemem() * 0.8);
    if (llama.gpu !== false) bytes += (await llama.getVramState()).free;
    this.budget = Math.max(bytes, 256 * MiB);
    this.opts.log(`expert memory budget: ${Math.floor(this.budget / MiB)} MiB (auto)`);
    return this.budget;
  }
}
