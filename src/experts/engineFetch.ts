/**
 * The `fetch` the `openai` client of an endpoint expert uses: undici's `request()` over a keep-alive pool, with the
 * response's Node stream as the body (the client iterates it as it would a web stream). Node's built-in fetch (undici's
 * fetch layer: Request/Response objects, web streams, abort signals) cost ~0.25 ms more CPU per streamed answer here,
 * on every request moe-router proxies. A body that is not a string or bytes goes to the built-in fetch.
 */
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { Agent } from 'undici';

export interface EngineFetch {
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Closes the pooled connections, failing a request still in flight (the expert is disposed). */
  close(): Promise<void>;
}

/** Idle connections close after this, below the 5 s keep-alive of uvicorn (vLLM) and llama-server, so we never reuse one they just closed. */
const IDLE_MS = 4_000;

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of stream) parts.push(piece as Buffer);
  return Buffer.concat(parts);
}

const STREAM = Symbol('stream');

/** A Response whose body is the Node stream of the answer (read with for await); text(), json() and arrayBuffer() read that stream. */
class StreamedResponse extends Response {
  readonly [STREAM]: Readable;

  constructor(stream: Readable, init: ResponseInit) {
    super(null, init);
    this[STREAM] = stream;
  }
}
// On the prototype, once: TypeScript types these members of Response as properties, and per-object definitions cost ~10 µs.
Object.defineProperties(StreamedResponse.prototype, {
  body: { get(this: StreamedResponse) { return this[STREAM]; } },
  text: {
    async value(this: StreamedResponse) {
      const text = (await readAll(this[STREAM])).toString('utf8');
      return this.status >= 400 ? asOpenAiError(text) : text; // the client reads an error's body with text()
    },
  },
  json: { async value(this: StreamedResponse) { return JSON.parse((await readAll(this[STREAM])).toString('utf8')) as unknown; } },
  arrayBuffer: { async value(this: StreamedResponse) { return new Uint8Array(await readAll(this[STREAM])).buffer; } },
});

/**
 * An engine's error body in OpenAI's shape, `{ "error": { "message" } }`, which is all the client reads: vLLM answers
 * `{ "object": "error", "message" }` and FastAPI `{ "detail" }`, whose text the row and the log would otherwise lose
 * ("400 status code (no body)").
 */
function asOpenAiError(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || 'error' in body) return text;
    const message = engineErrorMessage(body);
    return message === null ? text : JSON.stringify({ error: { message, type: body.type ?? null, code: body.code ?? null } });
  } catch {
    return text;
  }
}

/** The message of an engine's error body in OpenAI's (`error.message`), vLLM's (`message`) or FastAPI's (`detail`) shape. */
export function engineErrorMessage(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { error?: unknown; message?: unknown; detail?: unknown };
  if (typeof b.error === 'string') return b.error;
  const nested = (b.error as { message?: unknown } | null | undefined)?.message;
  if (typeof nested === 'string') return nested;
  if (typeof b.message === 'string') return b.message;
  if (b.detail === undefined || b.detail === null) return null;
  return typeof b.detail === 'string' ? b.detail : JSON.stringify(b.detail); // FastAPI's 422 lists its problems
}

/** The bytes of a response's body as they arrive: the Node stream itself for ours, the web stream otherwise. */
export function bodyOf(res: Response): AsyncIterable<Uint8Array> {
  if (res instanceof StreamedResponse) return res[STREAM];
  if (!res.body) throw new TypeError('the response has no body');
  return res.body;
}

/** Stops reading a response's body: a reader waiting on it fails with `err`, and the connection closes. */
export function destroyBody(res: Response, err: Error): void {
  if (res instanceof StreamedResponse) res[STREAM].destroy(err);
  else void res.body?.cancel(err).catch(() => undefined);
}

/** The request's headers as undici's request() takes them: the client's Headers object as it is (an iterable of pairs). */
function requestHeaders(headers: RequestInit['headers']): Iterable<[string, string]> | null {
  if (!headers) return null;
  return headers instanceof Headers ? headers : new Headers(headers);
}

/** fetch decodes compressed bodies; undici's request() does not. */
function decoded(body: Readable, encoding: string | string[] | undefined): Readable {
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
  if (!decoder) return body;
  body.on('error', (err) => decoder.destroy(err));
  decoder.on('error', () => undefined); // a reader sees the error through its iterator; unread, it must not crash the process
  return body.pipe(decoder);
}

export function createEngineFetch(): EngineFetch {
  const dispatcher = new Agent({ keepAliveTimeout: IDLE_MS, keepAliveMaxTimeout: IDLE_MS });
  const engineFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return fetch(input, init);
    // An abort rejects the request, or fails the body being read, with an AbortError as fetch would, and closes the connection.
    // Origin and path given to the pool as undici's request(url, options) would: it copies the options with them added
    // (`{ ...opts }`), which gave every request two new hidden classes in V8's old space.
    const url = typeof input === 'string' ? new URL(input) : input;
    const res = await dispatcher.request({
      origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname,
      method: (init.method ?? 'GET') as 'GET', headers: requestHeaders(init.headers), body: body ?? null, signal: init.signal ?? null,
    });
    // Pairs, not a Headers object: the Response builds its own from them, and copying a Headers object cost ~5 µs more.
    const headers: [string, string][] = [];
    for (const name in res.headers) {
      const value = res.headers[name];
      if (typeof value === 'string') headers.push([name, value]);
      else if (value) for (const v of value) headers.push([name, v]);
    }
    try {
      return new StreamedResponse(decoded(res.body, res.headers['content-encoding']), { status: res.statusCode, headers });
    } catch (err) {
      res.body.destroy(); // a status Response refuses (not 200-599)
      throw err;
    }
  };
  return { fetch: engineFetch, close: () => dispatcher.destroy() };
}
