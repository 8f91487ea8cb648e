/**
 * One expert served by an OpenAI-compatible engine (llama-server, vLLM, Ollama, another moe-router's /v1), streamed
 * with the official `openai` client. `maxConcurrent` requests in flight, more wait in a bounded queue (p-queue); a
 * failing engine is marked down and probed in the background (GET /models) with backoff, so questions for it go
 * straight to the fallback until it is back.
 */
import OpenAI from 'openai';
import PQueue from 'p-queue';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { StringDecoder } from 'node:string_decoder';
import { generationSettings } from './generationSettings.js';
import { bodyOf, createEngineFetch, destroyBody, engineErrorMessage, type EngineFetch } from './engineFetch.js';
import { SseData } from './SseData.js';
import type { EndpointSource, ExpertEntry } from './registry.js';
import { CUT_MARK, ExpertError, type ChatTurn, type EndpointStatus, type ExpertInfo, type ExpertStatus, type GenerateOptions, type GenerateResult } from './types.js';

export interface RemoteExpertOptions {
  entry: ExpertEntry;
  endpoint: EndpointSource;
  isFallback: boolean;
  /** Questions that may wait for a free request slot; beyond it, expert_busy at once. */
  queueLimit: number;
  timeoutMs: number;
  log: (msg: string) => void;
  warn: (msg: string) => void;
  /** Background probe delays: first retry after `minMs`, doubling up to `maxMs`. */
  probeBackoff?: { minMs: number; maxMs: number };
  /** Clock (tests). */
  now?: () => number;
}

/** Rough tokens of a text for the history budget: engines tokenize, we only need not to overflow (~4 characters per token). */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 4;
}

/**
 * The engine answered 200 but not with a whole OpenAI stream or model list: an HTML page (a baseUrl that is not the
 * engine's /v1), a body that is not an event stream, or a stream that ended without finish_reason or [DONE].
 */
class NotAnEngineAnswer extends Error {}

/** A turn cut to about `chars` characters: the question up to half (and what the answer leaves), the answer the rest. */
function cutTurn(turn: ChatTurn, chars: number): ChatTurn {
  const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - CUT_MARK.length)).toWellFormed()}${CUT_MARK}`);
  const question = cut(turn.question, Math.max(Math.floor(chars / 2), chars - turn.answer.length));
  return { question, answer: cut(turn.answer, chars - question.length) };
}

/** Why a request failed, in a few words for the log, /healthz and the decision row. */
export function describeFailure(err: unknown, baseUrl: string): string {
  if (err instanceof NotAnEngineAnswer) return `${baseUrl} ${err.message}`;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return `${baseUrl} did not answer in time`;
  if (err instanceof OpenAI.APIConnectionError) {
    const code = causeCode(err);
    if (code === 'ECONNREFUSED') return `${baseUrl} refused the connection`;
    return `cannot reach ${baseUrl}${code ? ` (${code})` : ''}`;
  }
  if (err instanceof OpenAI.AuthenticationError) return `${baseUrl} rejected the API key (401)`;
  if (err instanceof OpenAI.APIError && err.status !== undefined) return `${baseUrl} answered ${err.status}: ${firstLine(err.message)}`;
  if (err instanceof SyntaxError) return `${baseUrl} sent a malformed stream chunk`;
  const code = causeCode(err);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || /terminated|other side closed|socket/i.test(String((err as Error)?.message))) {
    return `the connection to ${baseUrl} broke mid-answer`;
  }
  return `${baseUrl} failed: ${firstLine((err as Error)?.message ?? String(err))}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

function causeCode(err: unknown): string | null {
  let node: unknown = err;
  for (let depth = 0; node && depth < 6; depth++) {
    const code = (node as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    node = (node as { cause?: unknown }).cause;
  }
  return null;
}

/** `: "<message>"` when `body` is JSON with an engine's error message, else nothing. */
function engineMessage(body: string): string {
  try {
    const message = engineErrorMessage(JSON.parse(body));
    return message === null ? '' : `: "${firstLine(message)}"`;
  } catch {
    return '';
  }
}

/** What a 200 that is not what was asked for was instead, for the message: its content type. */
function contentTypeOf(res: Response): string {
  return res.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type';
}

/** GET /models; an answer that is not a model list (an HTML page, say) throws NotAnEngineAnswer. */
async function listModels(client: OpenAI, timeoutMs?: number): Promise<OpenAI.Models.Model[]> {
  const { data: page, response } = await client.models.list(timeoutMs === undefined ? {} : { timeout: timeoutMs }).withResponse();
  if (!/json/i.test(contentTypeOf(response)) || (page.object !== 'list' && page.data.length === 0)) {
    throw new NotAnEngineAnswer(`answered GET /models with ${contentTypeOf(response)}, not a model list (is baseUrl the engine's /v1?)`);
  }
  return page.data;
}

/** The engine said the prompt is too long for its context (vLLM, llama-server and Ollama word it differently). */
function isContextOverflow(err: unknown): boolean {
  return err instanceof OpenAI.BadRequestError && /context|too long|maximum.*tokens|n_ctx/i.test(err.message);
}

export class RemoteExpert {
  readonly id;
  private readonly client: OpenAI;
  private readonly http: EngineFetch;
  private readonly queue: PQueue;
  /** Questions waiting for a slot (p-queue keeps a cancelled waiter until its turn, so this counts the live ones). */
  private waiting = 0;
  private health: EndpointStatus['health'] = 'unknown';
  private lastError: string | null = null;
  private since: number;
  private nextProbeAt: number | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeDelayMs: number;
  private probing = false;
  /** The engine's own context limit (vLLM's max_model_len), when its model list says; smaller than ours wins. */
  private engineContext: number | null = null;
  private disposed = false;
  private readonly now: () => number;
  private readonly backoff: { minMs: number; maxMs: number };

  constructor(private readonly opts: RemoteExpertOptions) {
    this.id = opts.entry.id;
    this.now = opts.now ?? Date.now;
    this.since = this.now();
    this.backoff = opts.probeBackoff ?? { minMs: 500, maxMs: 30_000 };
    this.probeDelayMs = this.backoff.minMs;
    this.http = createEngineFetch();
    this.client = new OpenAI({
      baseURL: opts.endpoint.baseUrl,
      fetch: this.http.fetch, // undici's request() with keep-alive: ~0.3 ms less CPU per streamed answer than the built-in fetch
      // The client insists on a key; engines without auth ignore the header.
      apiKey: opts.endpoint.apiKey ?? 'none',
      maxRetries: 0, // failover to the fallback expert is faster than a retry against a failing engine
      timeout: opts.timeoutMs,
      logLevel: 'off',
    });
    this.queue = new PQueue({ concurrency: opts.endpoint.maxConcurrent });
  }

  get entry(): ExpertEntry {
    return this.opts.entry;
  }

  info(): ExpertInfo {
    const e = this.opts.entry;
    return { id: e.id, displayName: e.displayName, legacyName: e.legacyName, description: e.description, emoji: e.emoji, isFallback: this.opts.isFallback, demo: false };
  }

  status(): ExpertStatus {
    const ep = this.opts.endpoint;
    return {
      ...this.info(),
      state: this.health === 'down' ? 'unavailable' : 'loaded',
      unavailableReason: this.health === 'down' ? this.lastError : null,
      active: this.queue.pending,
      queued: this.waiting,
      endpoint: {
        baseUrl: ep.baseUrl, model: ep.model, health: this.health, lastError: this.lastError, since: this.since,
        nextProbeAt: this.nextProbeAt, maxConcurrent: ep.maxConcurrent,
      },
    };
  }

  /** Checks the engine now (at start), without waiting for a question. */
  checkNow(): void {
    void this.probe();
  }

  async generate(query: string, options: GenerateOptions = {}): Promise<GenerateResult> {
    const startedAt = this.now();
    const name = this.opts.entry.displayName;
    if (this.disposed) throw new ExpertError('expert_unavailable', this.id, 'the expert pool is shutting down');
    // While the engine is down, the question goes to the fallback at once; the probe brings it back.
    if (this.health === 'down') throw new ExpertError('expert_unavailable', this.id, `${name} is unavailable: ${this.lastError ?? 'engine down'}`);
    if (options.signal?.aborted) throw new ExpertError('cancelled', this.id, 'the question was cancelled');
    const full = this.queue.pending >= this.opts.endpoint.maxConcurrent;
    if (full && this.waiting >= this.opts.queueLimit) {
      throw new ExpertError('expert_busy', this.id, `${name} is busy (${this.queue.pending} answering, ${this.waiting} waiting); try again shortly`);
    }
    if (!full) return this.queue.add(() => this.request(query, options, startedAt), { throwOnTimeout: true });
    this.waiting++;
    let waited = true;
    const done = (): void => {
      if (waited) this.waiting--;
      waited = false;
    };
    return new Promise<GenerateResult>((resolve, reject) => {
      const onAbort = (): void => {
        done();
        reject(new ExpertError('cancelled', this.id, 'the question was cancelled'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue
        .add(async () => {
          options.signal?.removeEventListener('abort', onAbort);
          if (!waited) return null; // cancelled while waiting: give the slot straight to the next one
          done();
          return this.request(query, options, startedAt);
        }, { throwOnTimeout: true })
        .then((r) => r && resolve(r), reject);
    });
  }

  private async request(query: string, options: GenerateOptions, startedAt: number): Promise<GenerateResult> {
    const name = this.opts.entry.displayName;
    if (this.health === 'down') throw new ExpertError('expert_unavailable', this.id, `${name} is unavailable: ${this.lastError ?? 'engine down'}`);
    const settings = generationSettings(this.opts.entry, options);
    const messages = this.messages(settings.systemPrompt, query, options.history ?? [], settings.maxTokens);

    // The caller's signal goes to the client as is (it aborts the request and the body); until the headers come the
    // client's own `timeout` acts, after them this timer ends the body: no controller of ours per request.
    let timedOut = false;
    let response: Response | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      if (response) destroyBody(response, new Error('timed out'));
    }, this.opts.timeoutMs);

    let text = '';
    let firstChunkAt: number | null = null;
    let chunks = 0;
    // Set in onEvent (declared so, or TypeScript narrows them to null).
    let usage = null as { prompt_tokens: number; completion_tokens: number } | null;
    let finish = null as string | null;
    try {
      // The client builds and sends the request and raises its errors (status, connection, timeout); the stream of
      // chunks is read here (SseData), ~0.1 ms of CPU per answer less than the client's own reader.
      const res = await this.client.chat.completions.create({
        model: this.opts.endpoint.model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: settings.maxTokens,
        temperature: settings.temperature,
        ...(settings.topP !== undefined ? { top_p: settings.topP } : {}),
      }, options.signal ? { signal: options.signal } : {}).asResponse();
      response = res;
      if (timedOut) destroyBody(res, new Error('timed out')); // the timer fired as the headers came
      const events = new SseData();
      const decoder = new StringDecoder('utf8');
      let done = false;
      const onEvent = (data: string): void => {
        if (done) return;
        if (data.startsWith('[DONE]')) { // the rest of the body is read (and ignored) so the connection can be reused
          done = true;
          return;
        }
        const chunk = JSON.parse(data) as ChatCompletionChunk & { error?: unknown }; // a malformed chunk throws SyntaxError
        if (chunk.error) throw new OpenAI.APIError(undefined, chunk.error as object, undefined, res.headers); // as the client raises an error event
        if (chunk.usage) usage = chunk.usage;
        finish = chunk.choices?.[0]?.finish_reason ?? finish;
        let piece = chunk.choices?.[0]?.delta?.content ?? '';
        if (text === '') piece = piece.trimStart();
        if (piece === '') return;
        firstChunkAt ??= this.now();
        chunks++;
        text += piece;
        options.onTextChunk?.(piece);
      };
      const streamed = /event-stream/i.test(contentTypeOf(res));
      let notStream = ''; // the start of a body that is no stream, for the engine's own words (a 200 JSON error)
      for await (const bytes of bodyOf(res)) {
        const chunk = decoder.write(bytes as Buffer);
        if (!streamed && notStream.length < 4096) notStream += chunk;
        for (const data of events.push(chunk)) onEvent(data);
      }
      for (const data of events.end(decoder.end())) onEvent(data);
      // A timeout or a caller's abort is a failure even if the body ended quietly.
      if (timedOut || options.signal?.aborted) throw new Error('aborted');
      // Finished means a finish_reason, or [DONE] after some text; anything else was cut off or never was a stream
      // (an HTML page, a JSON body), and an engine that answers so is treated as down.
      if (finish === null && !(done && text !== '')) {
        const type = contentTypeOf(res);
        throw new NotAnEngineAnswer(!streamed ? `answered ${type}${engineMessage(notStream)}, not an event stream (is baseUrl the engine's /v1?)`
          : text === '' ? 'ended the stream without an answer' : 'ended the stream before the answer was complete (no finish_reason or [DONE])');
      }
      this.markUp();
      const finished = this.now();
      return {
        text: text.trimEnd(),
        promptTokens: usage?.prompt_tokens ?? messages.reduce((n, m) => n + estimateTokens(String(m.content)), 0),
        completionTokens: usage?.completion_tokens ?? chunks,
        finishReason: finish === 'length' ? 'length' : 'stop',
        timeToFirstTokenMs: (firstChunkAt ?? finished) - startedAt,
        totalMs: finished - startedAt,
        demo: false,
      };
    } catch (err) {
      if (options.signal?.aborted && !timedOut) throw new ExpertError('cancelled', this.id, 'the question was cancelled');
      const shown = text !== '';
      if (timedOut || err instanceof OpenAI.APIConnectionTimeoutError) {
        const why = `${this.opts.endpoint.baseUrl} took longer than ${Math.round(this.opts.timeoutMs / 100) / 10} s`;
        this.markDown(why);
        // Text that came but was not shown (a caller that waits for the whole answer) can still give way to the fallback.
        throw new ExpertError(shown ? 'expert_timeout' : 'expert_unavailable', this.id, `${name}: ${why}`, { engineFailed: true });
      }
      if (isContextOverflow(err)) throw new ExpertError('prompt_too_long', this.id, `${name}: ${firstLine((err as Error).message)}`);
      const why = describeFailure(err, this.opts.endpoint.baseUrl);
      // A 4xx other than auth is about this request, not the engine's health.
      const engineFault = !(err instanceof OpenAI.APIError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403 && err.status !== 404);
      if (engineFault) this.markDown(why);
      else this.opts.warn(`expert ${this.id}: ${why}`);
      throw new ExpertError('expert_unavailable', this.id, `${name}: ${why}${shown ? ' (the answer was cut off)' : ''}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * System prompt, the newest turns that fit the history budget (generation.historyTokens, default a quarter of the
   * context; the engine's own context when smaller) and leave room for the answer, then the question.
   */
  private messages(systemPrompt: string, query: string, newestFirst: readonly ChatTurn[], maxTokens: number): ChatCompletionMessageParam[] {
    const gen = this.opts.entry.generation;
    const context = Math.min(gen.contextSize, this.engineContext ?? Infinity);
    const room = context - Math.min(maxTokens, Math.floor(context / 4)) - estimateTokens(systemPrompt) - estimateTokens(query);
    let budget = Math.min(gen.historyTokens ?? Math.floor(gen.contextSize / 4), room);
    const kept: ChatCompletionMessageParam[] = [];
    for (let turn of newestFirst) {
      const cost = estimateTokens(turn.question) + estimateTokens(turn.answer);
      const fits = cost <= budget;
      if (!fits) {
        // Even the newest does not fit (a pasted log): its beginning goes in, so a follow-up about it still has it.
        if (kept.length > 0 || budget < 24) break;
        turn = cutTurn(turn, (budget - 8) * 4);
      }
      if (turn.answer) kept.unshift({ role: 'user', content: turn.question }, { role: 'assistant', content: turn.answer });
      else kept.unshift({ role: 'user', content: turn.question });
      if (!fits) break;
      budget -= cost;
    }
    return [{ role: 'system', content: systemPrompt }, ...kept, { role: 'user', content: query }];
  }

  private markUp(): void {
    if (this.health !== 'up') {
      if (this.health === 'down') this.opts.warn(`expert ${this.id}: ${this.opts.endpoint.baseUrl} is back up`);
      this.health = 'up';
      this.since = this.now();
    }
    this.lastError = null;
    this.nextProbeAt = null;
    this.probeDelayMs = this.backoff.minMs;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private markDown(why: string): void {
    if (this.health !== 'down') {
      this.opts.warn(`expert ${this.id} unavailable: ${why}; its questions go to the fallback expert until ${this.opts.endpoint.baseUrl} answers again`);
      this.health = 'down';
      this.since = this.now();
    }
    this.lastError = why;
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.disposed || this.probeTimer || this.probing) return;
    const delay = this.probeDelayMs;
    this.probeDelayMs = Math.min(this.backoff.maxMs, this.probeDelayMs * 2);
    this.nextProbeAt = this.now() + delay;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.probe();
    }, delay);
    this.probeTimer.unref();
  }

  /** GET /models: up when it answers (and learns the engine's context limit), down with backoff otherwise. */
  private async probe(): Promise<void> {
    if (this.disposed || this.probing) return;
    this.probing = true;
    try {
      const models = await listModels(this.client, Math.min(5_000, this.opts.timeoutMs));
      const mine = models.find((m) => m.id === this.opts.endpoint.model) as (OpenAI.Models.Model & { max_model_len?: unknown }) | undefined;
      if (mine && typeof mine.max_model_len === 'number' && mine.max_model_len > 0) this.engineContext = mine.max_model_len;
      this.probing = false;
      this.markUp();
    } catch (err) {
      this.probing = false;
      if (this.disposed) return;
      const why = describeFailure(err, this.opts.endpoint.baseUrl);
      if (this.health !== 'down') this.markDown(why);
      else {
        this.lastError = why;
        this.scheduleProbe();
      }
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.nextProbeAt = null;
    await this.queue.onIdle();
    await this.http.close();
  }
}

export type EndpointCheck = { up: true; modelListed: boolean } | { up: false; reason: string };

/** One GET /models now (`moe models list`): is the engine up, and does it serve the model the registry names? */
export async function checkEndpoint(endpoint: EndpointSource, timeoutMs = 3_000): Promise<EndpointCheck> {
  const client = new OpenAI({ baseURL: endpoint.baseUrl, apiKey: endpoint.apiKey ?? 'none', maxRetries: 0, timeout: timeoutMs, logLevel: 'off' });
  try {
    const models = await listModels(client);
    return { up: true, modelListed: models.some((m) => m.id === endpoint.model) };
  } catch (err) {
    return { up: false, reason: describeFailure(err, endpoint.baseUrl) };
  }
}
