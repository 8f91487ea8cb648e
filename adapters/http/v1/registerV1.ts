/**
 * The OpenAI-compatible front door under /v1: GET /v1/models, POST /v1/chat/completions. Its own scope, so its errors
 * have OpenAI's shape and, when API_KEYS is set, every request needs `Authorization: Bearer <key>`.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { RouterApi } from '../../../src/core/types.js';
import { chatCompletions, ROUTER_MODEL_ID } from './chatCompletions.js';
import { isRouterError, openAiError, sendOpenAiError, sendRouterErrorAsOpenAi } from './openaiErrors.js';
import { codeForStatus } from '../errors.js';

export interface V1Options {
  router: Pick<RouterApi, 'ask' | 'experts'>;
  /** Accepted bearer keys; empty = no auth. */
  apiKeys: string[];
  /** Largest request body in bytes (a conversation's history included). */
  bodyLimit: number;
  /** HOST the server listens on: open to the network without API_KEYS means one warning. */
  host: string;
  warn: (message: string) => void;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** True when `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h)) return true;
  return /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

export async function registerV1(app: FastifyInstance, opts: V1Options): Promise<void> {
  const keys = opts.apiKeys.map(digest);
  if (keys.length === 0 && !isLoopbackHost(opts.host)) {
    opts.warn(`HOST is ${opts.host} and API_KEYS is empty: anyone who can reach this port can use /v1 (set API_KEYS=key1,key2 to require Authorization: Bearer <key>)`);
  }
  const created = Math.floor(Date.now() / 1000);
  await app.register(async (v1) => {
    // Methods per route, so a known path asked with another method gets 405 and Allow, as OpenAI's API does.
    const routes: { pattern: RegExp; methods: Set<string> }[] = [];
    v1.addHook('onRoute', (route) => {
      const pattern = new RegExp(`^${route.url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
      const known = routes.find((r) => r.pattern.source === pattern.source);
      if (known) for (const m of [route.method].flat()) known.methods.add(m);
      else routes.push({ pattern, methods: new Set([route.method].flat()) });
    });
    v1.setErrorHandler((err: FastifyError, request, reply) => {
      if (isRouterError(err)) return sendRouterErrorAsOpenAi(reply, err);
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return sendOpenAiError(reply, status, openAiError(status, requestErrorCode(status), requestErrorMessage(err, status)));
      request.log.error({ err }, 'v1 request failed');
      return sendOpenAiError(reply, 500, openAiError(500, 'internal', 'Something went wrong on our side; it has been logged.'));
    });
    v1.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!;
      const allowed = routes.find((r) => r.pattern.test(path))?.methods;
      if (allowed) {
        const allow = [...allowed].sort().join(', ');
        return sendOpenAiError(reply.header('allow', allow), 405, openAiError(405, 'method_not_allowed', `${request.method} ${path} is not allowed; use ${allow}.`));
      }
      return sendOpenAiError(reply, 404, openAiError(404, 'not_found', `No ${request.method} ${path} here; /v1 has GET /v1/models and POST /v1/chat/completions.`));
    });
    if (keys.length > 0) {
      v1.addHook('onRequest', async (request, reply) => {
        const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
        // Compare digests in constant time: the key's length and content leak nothing.
        const given = match ? digest(match[1]!.trim()) : null;
        if (given && keys.some((k) => timingSafeEqual(k, given))) return;
        sendOpenAiError(reply, 401, openAiError(401, 'invalid_api_key', match ? 'Incorrect API key provided.' : 'Missing API key: send Authorization: Bearer <key>.'));
        return reply;
      });
    }

    const model = (id: string): Record<string, unknown> => ({ id, object: 'model', created, owned_by: 'moe-router' });
    v1.get('/models', { schema: { hide: true } }, async () => ({
      object: 'list',
      data: [model(ROUTER_MODEL_ID), ...opts.router.experts().map((e) => model(e.id))],
    }));
    v1.get<{ Params: { id: string } }>('/models/:id', { schema: { hide: true } }, async (request, reply) => {
      const id = request.params.id;
      if (id === ROUTER_MODEL_ID || opts.router.experts().some((e) => e.id === id)) return model(id);
      return sendOpenAiError(reply, 404, openAiError(404, 'model_not_found', `The model "${id}" does not exist.`, 'model'));
    });
    v1.post('/chat/completions', {
      bodyLimit: opts.bodyLimit,
      schema: { hide: true }, // OpenAI's own API reference documents /v1; /docs keeps to our own endpoints
    }, (request, reply) => chatCompletions(opts.router, request, reply));
  }, { prefix: '/v1' });
}

/** OpenAI-style codes for failures fastify finds before a route runs; its own FST_* codes mean nothing to a client. */
function requestErrorCode(status: number): string {
  const code = codeForStatus(status);
  return code === 'bad_request' ? 'invalid_request' : code;
}

function requestErrorMessage(err: FastifyError, status: number): string {
  if (status === 415) return 'Unsupported Content-Type: send the request as application/json.';
  if (status === 413) return 'The request body is too large (the messages of a conversation included).';
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return `We could not parse the JSON body of your request: ${err.message}`;
  }
  return err.message;
}
