/**
 * The HTTP client under endpoint experts: the official `openai` client over src/experts/engineFetch.ts (undici with
 * keep-alive), against a loopback server that counts connections: connection reuse, streamed chunks, compressed and
 * error bodies, and an abort that closes the upstream connection.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { createEngineFetch } from '../../src/experts/engineFetch.js';

interface Upstream {
  baseUrl: string;
  connections: number;
  /** Resolves when a request's connection closes before its answer ended (the client went away). */
  clientGone: Promise<void>;
}

const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

async function upstream(t: { after: (fn: () => unknown) => void }): Promise<Upstream> {
  let gone: () => void = () => undefined;
  const state: Upstream = { baseUrl: '', connections: 0, clientGone: new Promise<void>((resolve) => (gone = resolve)) };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/models') {
        const body = gzipSync(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model', created: 0, owned_by: 'x' }] }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
        res.end(body);
      } else if (req.headers.authorization !== 'Bearer right') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }));
      } else if (req.headers['x-hold'] === 'yes') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('first'));
        res.on('close', () => {
          if (!res.writableFinished) gone();
        });
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`${chunk('Hello ')}${chunk('there.')}data: [DONE]\n\n`);
      }
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}

function client(baseUrl: string, apiKey = 'right'): { openai: OpenAI; close: () => void } {
  const http = createEngineFetch();
  return { openai: new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0, logLevel: 'off', fetch: http.fetch }), close: http.close };
}

const ask = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };

test('streamed answers come chunk by chunk, and consecutive requests reuse kept-alive connections', async (t) => {
  const engine = await upstream(t);
  const { openai, close } = client(engine.baseUrl);
  t.after(close);
  for (let i = 0; i < 10; i++) {
    const pieces: string[] = [];
    for await (const c of await openai.chat.completions.create(ask)) pieces.push(c.choices[0]?.delta?.content ?? '');
    assert.deepEqual(pieces, ['Hello ', 'there.']);
  }
  // The pool may open a second connection while the first is being released; without keep-alive it would be 10.
  assert.ok(engine.connections <= 2, `${engine.connections} connections for 10 answers`);
});

test('a compressed JSON answer is decoded, and an error status keeps its OpenAI error class and message', async (t) => {
  const engine = await upstream(t);
  const good = client(engine.baseUrl);
  const wrong = client(engine.baseUrl, 'wrong');
  t.after(() => {
    good.close();
    wrong.close();
  });
  const models = await good.openai.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['m']);
  await assert.rejects(wrong.openai.chat.completions.create(ask), (err: unknown) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.match(err.message, /Incorrect API key provided/);
    return true;
  });
});

test('aborting a streamed answer closes the connection to the engine', async (t) => {
  const engine = await upstream(t);
  const { openai, close } = client(engine.baseUrl);
  t.after(close);
  const controller = new AbortController();
  const stream = await openai.chat.completions.create(ask, { signal: controller.signal, headers: { 'x-hold': 'yes' } });
  const pieces: string[] = [];
  for await (const c of stream) {
    pieces.push(c.choices[0]?.delta?.content ?? '');
    controller.abort();
  }
  assert.deepEqual(pieces, ['first']);
  await engine.clientGone;
});

test('a refused connection is an APIConnectionError whose cause says ECONNREFUSED', async (t) => {
  // A port that was just listened on and closed: nothing listens there now.
  const port = await new Promise<number>((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const { openai, close } = client(`http://127.0.0.1:${port}/v1`);
  t.after(close);
  await assert.rejects(openai.chat.completions.create(ask), (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIConnectionError);
    assert.equal((err.cause as { code?: string } | undefined)?.code, 'ECONNREFUSED');
    return true;
  });
});
