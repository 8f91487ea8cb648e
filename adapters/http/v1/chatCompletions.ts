/**
 * POST /v1/chat/completions: OpenAI's chat completion, answered by the router. `model` in the reply is the expert that
 * answered; `moe` (body, or the last chunk when streaming) and the x-moe-* headers say how it was routed.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AskOptions, AskResult, DecisionInfo, RouterApi } from '../../../src/core/types.js';
import { isExpertId, type ExpertId } from '../../../src/gate/types.js';
import { BadRequest, isRouterError, openAiError, routerErrorAsOpenAi, sendOpenAiError, sendRouterErrorAsOpenAi } from './openaiErrors.js';
import { parseChatRequest, type ChatRequest } from './parseChatRequest.js';
import { abortOnDisconnect } from '../abortOnDisconnect.js';

/** The model id that lets the gate pick the expert. */
export const ROUTER_MODEL_ID = 'moe-router';

interface MoeInfo {
  decisionId: string;
  expert: string;
  confidence: number;
  fallbackReason: string | null;
  conversationId: string;
}

/**
 * The conversation a request belongs to, as OpenAI clients send every turn again: the same user and first question
 * give the same id on every turn of one chat.
 */
export function conversationIdOf(request: ChatRequest): string {
  const first = request.history.at(-1)?.question ?? request.query;
  return `v1:${createHash('sha256').update(`${request.userId ?? ''}\u0000${first}`).digest('hex').slice(0, 24)}`;
}

function moeInfo(d: DecisionInfo, conversationId: string): MoeInfo {
  return { decisionId: d.decisionId, expert: d.expert.id, confidence: d.confidence, fallbackReason: d.fallbackReason, conversationId };
}

function moeHeaders(d: DecisionInfo): Record<string, string> {
  return { 'x-moe-expert': d.expert.id, 'x-moe-decision-id': d.decisionId, 'x-moe-confidence': String(d.confidence) }; // the body's value, unrounded
}

function usageOf(r: AskResult): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = r.promptTokens ?? 0;
  const completion = r.completionTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function finishReason(request: ChatRequest, r: AskResult): 'stop' | 'length' {
  if (r.finishReason === 'length') return 'length'; // the expert's own maxTokens cut it, or the client's
  return request.maxTokens !== undefined && (r.completionTokens ?? 0) >= request.maxTokens ? 'length' : 'stop';
}

export async function chatCompletions(router: Pick<RouterApi, 'ask' | 'experts'>, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  let chat: ChatRequest;
  try {
    chat = parseChatRequest(request.body);
  } catch (err) {
    if (err instanceof BadRequest) {
      sendOpenAiError(reply, err.status, openAiError(err.status, err.code, err.message, err.param));
      return;
    }
    throw err;
  }
  let forced: ExpertId | undefined;
  if (chat.model !== ROUTER_MODEL_ID) {
    if (!isExpertId(chat.model) || !router.experts().some((e) => e.id === chat.model)) {
      sendOpenAiError(reply, 404, openAiError(404, 'model_not_found', `The model "${chat.model}" does not exist; use "${ROUTER_MODEL_ID}" or an expert id from GET /v1/models.`, 'model'));
      return;
    }
    forced = chat.model;
  }
  const conversationId = conversationIdOf(chat);
  const abort = abortOnDisconnect(request, reply);
  const options: AskOptions = {
    platform: 'http',
    userId: chat.userId,
    controller: abort,
    ...(forced ? { expert: forced } : {}),
    // The client sends the whole conversation: route and answer from it, logged under one key per conversation.
    history: chat.history,
    conversationKey: `http:${conversationId}`,
    ...(chat.systemPrompt ? { systemPrompt: chat.systemPrompt } : {}),
    generation: {
      ...(chat.maxTokens !== undefined ? { maxTokens: chat.maxTokens } : {}),
      ...(chat.temperature !== undefined ? { temperature: chat.temperature } : {}),
      ...(chat.topP !== undefined ? { topP: chat.topP } : {}),
    },
  };
  if (chat.stream) return streamCompletion(router, chat, options, conversationId, reply);
  try {
    const r = await router.ask(chat.query, options);
    reply.headers(moeHeaders(r));
    reply.send({
      id: `chatcmpl-${r.decisionId}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: r.expert.id,
      choices: [{ index: 0, message: { role: 'assistant', content: r.response, refusal: null }, logprobs: null, finish_reason: finishReason(chat, r) }],
      usage: usageOf(r),
      moe: moeInfo(r, conversationId),
    });
  } catch (err) {
    if (isRouterError(err)) {
      sendRouterErrorAsOpenAi(reply, err);
      return;
    }
    throw err;
  }
}

/** SSE in OpenAI's format: `chat.completion.chunk`s, then `data: [DONE]`. Refusals before the first token keep their status. */
async function streamCompletion(
  router: Pick<RouterApi, 'ask'>, chat: ChatRequest, options: AskOptions, conversationId: string, reply: FastifyReply,
): Promise<void> {
  const res = reply.raw;
  const created = Math.floor(Date.now() / 1000);
  let head = ''; // the JSON of a chunk up to its delta, the same for every chunk of this answer
  let decision: DecisionInfo | null = null;
  let corked = false;
  const write = (data: string): void => {
    if (res.writableEnded) return;
    // The events of one event-loop turn leave in one write, not one each: a write to another process on loopback cost
    // ~0.2 ms of CPU here. Flushed after this turn's I/O, so an answer that ends in the same turn leaves in one write.
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(`data: ${data}\n\n`);
  };
  const start = (d: DecisionInfo): void => {
    if (decision) return;
    decision = d;
    head = `{"id":"chatcmpl-${d.decisionId}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(d.expert.id)},"choices":[{"index":0,"delta":`;
    reply.hijack();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...moeHeaders(d) });
    write(`${head}{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`);
  };
  try {
    // Added to the caller's options, not a copy of them: `{ ...options }` gave every answer new hidden classes (old space).
    options.onDecision = start;
    options.onTextChunk = (text) => write(`${head}{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}`);
    const r = await router.ask(chat.query, options);
    start(r);
    const usage = usageOf(r);
    // Usage once: in the usage chunk when the client asked for one (clients add usage up over chunks), else here.
    const usageHere = chat.includeUsageChunk ? '' : `"usage":${JSON.stringify(usage)},`;
    write(`${head}{},"logprobs":null,"finish_reason":"${finishReason(chat, r)}"}],${usageHere}"moe":${JSON.stringify(moeInfo(r, conversationId))}}`);
    if (chat.includeUsageChunk) {
      // The last chunk before [DONE] carries `moe` too: clients that read only the usage chunk still see the decision.
      write(JSON.stringify({ id: `chatcmpl-${r.decisionId}`, object: 'chat.completion.chunk', created, model: r.expert.id, choices: [], usage, moe: moeInfo(r, conversationId) }));
    }
    write('[DONE]');
    res.end();
  } catch (err) {
    const d: DecisionInfo | null = decision;
    if (d === null) {
      if (isRouterError(err)) {
        sendRouterErrorAsOpenAi(reply, err);
        return;
      }
      throw err;
    }
    // Text was already shown: end it with a visible line, then the error event OpenAI clients raise.
    const failure = isRouterError(err)
      ? routerErrorAsOpenAi(err).body
      : openAiError(500, 'internal', 'Something went wrong on our side; it has been logged.');
    write(`${head}{"content":${JSON.stringify(`\n\n[moe-router: ${failure.error.message}]`)}},"logprobs":null,"finish_reason":"stop"}],"moe":${JSON.stringify(moeInfo(d, conversationId))}}`);
    write(JSON.stringify({ ...failure, moe: moeInfo(d, conversationId) }));
    write('[DONE]');
    res.end();
    if (!isRouterError(err)) reply.log.error({ err }, 'v1 stream failed');
  }
}
