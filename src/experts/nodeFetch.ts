/**
 * The `fetch` the `openai` client of an endpoint expert uses: node:http(s) over a keep-alive agent, with the response's
 * Node stream as its body (the client iterates it as it would a web stream). Node's built-in fetch (undici) cost
 * ~0.2 ms more CPU per streamed answer here (Request/Response objects, web streams, abort signals), on every request
 * moe-router proxies. Anything but a string or bytes body goes to the built-in fetch.
 */
import http from 'node:http';
import https from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface NodeFetch {
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Closes the idle connections (the pool is disposed). */
  close(): void;
}

/** Idle connections close after this, below the 5 s keep-alive of uvicorn (vLLM) and llama-server, so we never reuse one they just closed. */
const IDLE_MS = 4_000;

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of stream) parts.push(piece as Buffer);
  return Buffer.concat(parts);
}

/** A Response whose body is the Node stream of the answer (read with for await); text(), json() and arrayBuffer() read that stream. */
function streamedResponse(stream: Readable, init: ResponseInit): Response {
  const response = new Response(null, init);
  const text = async (): Promise<string> => (await readAll(stream)).toString('utf8');
  Object.defineProperties(response, {
    body: { value: stream },
    text: { value: text },
    json: { value: async (): Promise<unknown> => JSON.parse(await text()) as unknown },
    arrayBuffer: { value: async (): Promise<ArrayBuffer> => new Uint8Array(await readAll(stream)).buffer },
  });
  return response;
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) (headers instanceof Headers ? headers : new Headers(headers)).forEach((value, name) => (out[name] = value));
  return out;
}

function decoded(res: http.IncomingMessage): Readable {
  const encoding = res.headers['content-encoding'];
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
  if (!decoder) return res;
  res.on('error', (err) => decoder.destroy(err));
  decoder.on('error', () => undefined); // a reader sees the error through its iterator; unread, it must not crash the process
  return res.pipe(decoder);
}

export function createNodeFetch(): NodeFetch {
  // Nagle off: a small request goes out at once instead of waiting for the ACK of the previous segment.
  const agents = { 'http:': new http.Agent({ keepAlive: true, timeout: IDLE_MS, noDelay: true }), 'https:': new https.Agent({ keepAlive: true, timeout: IDLE_MS, noDelay: true }) };
  const nodeFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const url = typeof input === 'string' || input instanceof URL ? new URL(input) : null;
    const protocol = url?.protocol;
    if (!url || (protocol !== 'http:' && protocol !== 'https:') || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) {
      return fetch(input, init);
    }
    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      const aborted = (): Error => (signal?.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError'));
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      let res: http.IncomingMessage | null = null;
      // An abort fails the request, or the body being read, with the AbortError fetch would give (and closes the connection).
      const onAbort = (): void => void (res ? res.destroy(aborted()) : req.destroy(aborted()));
      const req = (protocol === 'https:' ? https : http).request(url, { agent: agents[protocol], method: init.method ?? 'GET', headers: headerRecord(init.headers) }, (response) => {
        res = response;
        response.once('close', () => signal?.removeEventListener('abort', onAbort));
        const headers = new Headers();
        for (let i = 0; i < response.rawHeaders.length; i += 2) headers.append(response.rawHeaders[i]!, response.rawHeaders[i + 1]!);
        try {
          resolve(streamedResponse(decoded(response), { status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', headers }));
        } catch (err) {
          response.destroy(); // a status Response refuses (not 200-599)
          reject(err as Error);
        }
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      req.end(body ?? undefined);
    });
  };
  return {
    fetch: nodeFetch,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
