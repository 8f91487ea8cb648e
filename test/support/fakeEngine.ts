/**
 * A loopback serving engine that speaks OpenAI's /v1 the way llama-server, vLLM and Ollama do (GET /v1/models,
 * POST /v1/chat/completions streamed as SSE chunks ending in `data: [DONE]`), plus the ways they fail: an HTTP error
 * status, a hang, a malformed chunk, a connection reset mid-stream, a wrong key, and a refused connection (stop()).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeEngineMode =
  | { kind: 'ok' }
  /** Answers every request with this status and an OpenAI error body (or `body`, as vLLM's own shape). */
  | { kind: 'status'; status: number; message?: string; body?: unknown }
  /** Accepts every request and never answers (the client's timeout must act). The modes below apply to GET /v1/models too. */
  | { kind: 'hang' }
  /** Sends `goodChunks` content chunks, then a chunk that is not JSON. */
  | { kind: 'malformed'; goodChunks?: number }
  /** Sends `goodChunks` content chunks, then destroys the connection. */
  | { kind: 'reset'; goodChunks?: number }
  /** Sends `goodChunks` content chunks, then ends the body cleanly, without a finish_reason or [DONE]. */
  | { kind: 'truncated'; goodChunks?: number }
  /** Answers every path 200 with an HTML page, as a web UI at a wrong baseUrl does. */
  | { kind: 'html' }
  /** A whole answer that some engines send: its finish_reason but no `data: [DONE]` after it (`empty`: no text either). */
  | { kind: 'noDone'; empty?: boolean };

export interface FakeEngineCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown> | null;
  /** True when the client went away before the answer was complete (an upstream cancel). */
  clientClosed: boolean;
}

export interface FakeEngineOptions {
  /** The model name the engine serves. */
  model?: string;
  /** The answer, streamed one word per chunk. */
  answer?: string;
  /** When set, requests need `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** `max_model_len` in its model list (as vLLM reports it). */
  maxModelLen?: number;
  /** Milliseconds between chunks (0 = all at once). */
  chunkDelayMs?: number;
  /** Record every call (off in benchmarks). */
  record?: boolean;
}

export interface FakeEngine {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  calls: FakeEngineCall[];
  setMode(mode: FakeEngineMode): void;
  /** Resolves at the next call to POST /v1/chat/completions (or at once if `count` calls were already made). */
  waitForCompletionCalls(count: number): Promise<FakeEngineCall>;
  /** Closes the listener and every connection: new connections are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port (recovery). */
  restart(): Promise<void>;
}

export async function startFakeEngine(options: FakeEngineOptions = {}): Promise<FakeEngine> {
  const model = options.model ?? 'fake-model';
  const words = (options.answer ?? 'Here is a short answer from the engine.').split(/(?<= )/);
  const record = options.record ?? true;
  let mode: FakeEngineMode = { kind: 'ok' };
  const calls: FakeEngineCall[] = [];
  const waiters: { count: number; resolve: (c: FakeEngineCall) => void }[] = [];
  const sockets = new Set<Socket>();
  let nextId = 0;

  const completionCalls = (): FakeEngineCall[] => calls.filter((c) => c.path === '/v1/chat/completions');
  const notify = (): void => {
    const n = completionCalls().length;
    for (const w of waiters.splice(0)) {
      if (n >= w.count) w.resolve(completionCalls()[w.count - 1]!);
      else waiters.push(w);
    }
  };

  const sendJson = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse, raw: string): void => {
    const path = (req.url ?? '').split('?')[0]!;
    let body: Record<string, unknown> | null;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    const call: FakeEngineCall = { method: req.method ?? '', path, authorization: req.headers.authorization, body, clientClosed: false };
    if (record) {
      calls.push(call);
      res.on('close', () => {
        if (!res.writableFinished) call.clientClosed = true;
      });
      notify();
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    if (mode.kind === 'status') {
      sendJson(res, mode.status, mode.body ?? { error: { message: mode.message ?? `engine error ${mode.status}`, type: 'server_error', code: null } });
      return;
    }
    // A broken engine fails its model list (the health probe) the same way it fails answers.
    if (mode.kind === 'hang') return;
    if (mode.kind === 'html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><body>Welcome to the web UI</body></html>');
      return;
    }
    if (req.method === 'GET' && path === '/v1/models' && (mode.kind === 'malformed' || mode.kind === 'truncated')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object": "list", "data": [');
      return;
    }
    if (req.method === 'GET' && path === '/v1/models' && mode.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'fake', ...(options.maxModelLen ? { max_model_len: options.maxModelLen } : {}) }] });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, { error: { message: `no ${req.method} ${path}`, type: 'invalid_request_error', code: null } });
      return;
    }
    const id = `chatcmpl-fake-${nextId++}`;
    const maxTokens = typeof body?.max_tokens === 'number' ? body.max_tokens : Infinity;
    const answer = words.slice(0, Math.min(words.length, maxTokens));
    if (body?.stream !== true) {
      sendJson(res, 200, {
        id, object: 'chat.completion', created: 0, model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.join('') }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: answer.length, total_tokens: 10 + answer.length },
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra = ''): string =>
      `data: {"id":"${id}","object":"chat.completion.chunk","created":0,"model":"${model}","choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${extra}}\n\n`;
    const parts: string[] = [chunk({ role: 'assistant', content: '' })];
    const broken = mode.kind === 'malformed' || mode.kind === 'reset' || mode.kind === 'truncated' ? mode.goodChunks ?? 0 : null;
    const sent = mode.kind === 'noDone' && mode.empty ? [] : broken === null ? answer : answer.slice(0, broken);
    for (const w of sent) parts.push(chunk({ content: w }));
    if (broken === null) {
      const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      parts.push(chunk({}, answer.length < words.length ? 'length' : 'stop')); // cut at max_tokens, as engines report it
      if (includeUsage) parts.push(`data: {"id":"${id}","object":"chat.completion.chunk","created":0,"model":"${model}","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":${answer.length},"total_tokens":${10 + answer.length}}}\n\n`);
      if (mode.kind !== 'noDone') parts.push('data: [DONE]\n\n');
    } else if (mode.kind === 'malformed') parts.push('data: {"id": "broken", "choices": [\n\n');
    const finish = (): void => {
      if (mode.kind === 'reset') req.socket.destroy();
      else if (mode.kind === 'malformed') req.socket.end();
      else res.end();
    };
    const delay = options.chunkDelayMs ?? 0;
    if (delay === 0) {
      res.write(parts.join(''));
      if (mode.kind === 'reset') setTimeout(finish, 20);
      else finish();
      return;
    }
    let i = 0;
    const tick = (): void => {
      if (res.destroyed) return;
      if (i < parts.length) {
        res.write(parts[i++]!);
        setTimeout(tick, delay);
      } else finish();
    };
    tick();
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      raw += d;
    });
    req.on('end', () => handler(req, res, raw));
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    calls,
    setMode(m) {
      mode = m;
    },
    waitForCompletionCalls(count) {
      return new Promise((resolve) => {
        waiters.push({ count, resolve });
        notify();
      });
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restart() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
  };
}
