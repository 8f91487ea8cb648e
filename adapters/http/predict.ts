/** POST /predict: the old service's endpoint, answered by the router; optionally streamed as server-sent events. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Router } from '../../src/core/Router.js';
import type { AskResult, DecisionInfo } from '../../src/core/types.js';
import { RouterError } from '../../src/core/errors.js';
import { legacyExpertName } from '../../src/core/labels.js';
import { errorSchema, routerErrorBody, sendError, sendRouterError } from './errors.js';
import { conversationNotice } from '../shared/format.js';
import { v7 as uuidv7 } from 'uuid';
import { abortOnDisconnect } from './abortOnDisconnect.js';
import { userIdSchema } from './userId.js';

interface PredictBody {
  query?: string;
  userId?: string;
  stream?: boolean;
  /** null is the same as leaving it out: a new conversation. */
  conversationId?: string | null;
}

interface PredictQuerystring {
  query?: string;
  userId?: string;
  stream?: 'true' | 'false' | '1' | '0';
  conversationId?: string;
}

/** Longest conversationId a caller may give. */
export const MAX_CONVERSATION_ID_CHARS = 200;

const predictResponse = {
  type: 'object',
  properties: {
    expert: { type: 'string', description: 'HealthcareExpert, FinanceExpert, CybersecurityExpert or GeneralExpert (fallback)' },
    response: { type: 'string' },
    confidence: { type: 'number' },
    decisionId: { type: 'string' },
    fallback: { type: 'boolean' },
    fallbackReason: { type: ['string', 'null'], enum: ['off_topic', 'unsure', 'expert_busy', 'expert_unavailable', null] },
    demo: { type: 'boolean', description: 'Present (true) when a generated demo model wrote the answer' },
    expertId: { type: 'string' },
    expertName: { type: 'string' },
    latencyMs: { type: 'integer' },
    conversationId: { type: 'string', description: 'The conversation this answer belongs to: the one given, or a new one. Send it back to follow up.' },
    notice: { type: 'string', description: 'One line when this question started a new conversation under a known conversationId (idle too long, or too many turns)' },
    feedbackWanted: { type: 'boolean', description: 'The gate was unsure: a vote (POST /feedback) on this answer teaches it most' },
  },
  required: ['expert', 'response', 'confidence', 'decisionId', 'fallback', 'fallbackReason', 'conversationId'],
} as const;

function decisionBody(d: DecisionInfo): Record<string, unknown> {
  const body: Record<string, unknown> = {
    expert: d.expert.legacyName || legacyExpertName(d.expert.id),
    confidence: d.confidence,
    decisionId: d.decisionId,
    fallback: d.fallbackReason !== null,
    fallbackReason: d.fallbackReason,
    expertId: d.expert.id,
    expertName: d.expert.displayName,
  };
  if (d.demo) body.demo = true;
  if (d.conversation) body.conversationId = d.conversation.key.slice(HTTP_KEY.length);
  const notice = conversationNotice(d);
  if (notice) body.notice = notice.replace(/^_|_$/g, '');
  return body;
}

function resultBody(r: AskResult): Record<string, unknown> {
  return { ...decisionBody(r), response: r.response, latencyMs: r.latencyMs, feedbackWanted: r.feedbackWanted };
}

/** HTTP conversations are keyed `http:<conversationId>`. */
const HTTP_KEY = 'http:';
const V1_PREFIX = 'v1:';

/** The caller's conversationId, checked (an unknown one starts a conversation under it), or a new one; a string is a 400 message. */
function conversationIdOf(given: string | undefined): { id: string } | { error: string } {
  if (given === undefined) return { id: uuidv7() };
  if (given.trim() === '') return { error: 'conversationId is empty: send the id a previous answer returned, or leave it out to start a new conversation' };
  const chars = given.length > MAX_CONVERSATION_ID_CHARS ? [...given].length : given.length; // characters, not UTF-16 units (an emoji is one)
  if (chars > MAX_CONVERSATION_ID_CHARS) return { error: `conversationId is ${chars} characters long; at most ${MAX_CONVERSATION_ID_CHARS} are allowed` };
  // A lone surrogate would be stored as invalid UTF-8 in the conversation's key; replacing it could merge two ids.
  if (!given.isWellFormed()) return { error: 'conversationId is not well-formed Unicode (it has a lone UTF-16 surrogate)' };
  // /v1 derives its ids from the caller and the chat's first message: /predict must not reach into those chats with one.
  if (given.startsWith(V1_PREFIX)) return { error: `conversationId starting with "${V1_PREFIX}" belongs to /v1/chat/completions conversations; use an id /predict returned` };
  if (/\p{Cc}/u.test(given)) return { error: 'conversationId has a control character' };
  return { id: given };
}

export function registerPredict(app: FastifyInstance, router: Router): void {
  app.post<{ Body: PredictBody | undefined; Querystring: PredictQuerystring }>('/predict', {
    schema: {
      summary: 'Route a question to an expert and answer it',
      description: 'The question comes in the JSON body or as ?query=. With `Accept: text/event-stream` or `?stream=true` '
        + 'the answer streams as server-sent events: `decision`, then `chunk`s, then `done` (or `error`).',
      body: {
        type: 'object',
        properties: { query: { type: 'string' }, userId: userIdSchema, stream: { type: 'boolean' }, conversationId: { type: ['string', 'null'] } },
        additionalProperties: false,
      },
      querystring: {
        type: 'object',
        // Other query parameters are ignored (cache busters, tracking): only the JSON body is strict.
        properties: { query: { type: 'string' }, userId: userIdSchema, stream: { type: 'string', enum: ['true', 'false', '1', '0'] }, conversationId: { type: 'string' } },
      },
      response: { 200: predictResponse, '4xx': errorSchema, '5xx': errorSchema },
    },
    // The old service took POST /predict?query=... with no body at all.
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    },
  }, async (request, reply) => {
    const query = request.body?.query ?? request.query.query;
    if (query === undefined) {
      return sendError(reply, 'empty_query', 'Send the question as {"query": "..."} or ?query=...');
    }
    const userId = request.body?.userId ?? request.query.userId ?? null;
    const conversation = conversationIdOf(request.body?.conversationId ?? request.query.conversationId);
    if ('error' in conversation) return sendError(reply, 'bad_request', conversation.error);
    const conversationKey = HTTP_KEY + conversation.id;
    const wantsStream = request.body?.stream ?? (request.query.stream === 'true' || request.query.stream === '1'
      || (request.headers.accept ?? '').includes('text/event-stream'));
    const abort = abortOnDisconnect(request, reply);
    if (wantsStream) return streamAnswer(router, query, userId, conversationKey, abort, reply);
    try {
      const result = await router.ask(query, { platform: 'http', userId, conversationKey, controller: abort });
      return reply.send(resultBody(result));
    } catch (err) {
      if (err instanceof RouterError) return sendRouterError(reply, err);
      throw err;
    }
  });
}

/** SSE: refusals before the decision are plain JSON errors with their status; later failures are `error` events. */
async function streamAnswer(router: Router, query: string, userId: string | null, conversationKey: string, abort: AbortController, reply: FastifyReply): Promise<void> {
  const res = reply.raw;
  let started = false;
  const event = (name: string, data: unknown): void => {
    if (!res.writableEnded) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const start = (): void => {
    if (started) return;
    started = true;
    reply.hijack();
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  };
  try {
    const result = await router.ask(query, {
      platform: 'http',
      userId,
      conversationKey,
      controller: abort,
      onDecision: (d) => {
        start();
        event('decision', decisionBody(d));
      },
      onTextChunk: (text) => event('chunk', { text }),
    });
    start();
    event('done', resultBody(result));
    res.end();
  } catch (err) {
    if (!started) {
      if (err instanceof RouterError) {
        sendRouterError(reply, err);
        return;
      }
      throw err;
    }
    event('error', err instanceof RouterError ? routerErrorBody(err) : { error: 'internal', message: 'Something went wrong on our side.' });
    res.end();
  }
}
