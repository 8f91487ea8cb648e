/** Errors in OpenAI's shape, `{ "error": { "message", "type", "code" } }`, which OpenAI clients parse and show. */
import type { FastifyReply } from 'fastify';
import { RouterError } from '../../../src/core/errors.js';
import { routerErrorStatus } from '../errors.js';

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/** OpenAI's `type` for each status our /v1 answers with. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openAiError(status: number, code: string, message: string, param: string | null = null): OpenAiErrorBody {
  return { error: { message, type: errorType(status), code, param } };
}

/** A client mistake in the request body, named by its field. */
export class BadRequest extends Error {
  constructor(readonly param: string | null, message: string, readonly status = 400, readonly code = 'invalid_request') {
    super(message);
    this.name = 'BadRequest';
  }
}

export function sendOpenAiError(reply: FastifyReply, status: number, body: OpenAiErrorBody, retryAfterSec: number | null = null): FastifyReply {
  if (retryAfterSec !== null) reply.header('retry-after', String(retryAfterSec));
  return reply.code(status).send(body);
}

export function routerErrorAsOpenAi(err: RouterError): { status: number; body: OpenAiErrorBody } {
  const status = routerErrorStatus(err);
  return { status, body: openAiError(status, err.code, err.message) };
}

export function sendRouterErrorAsOpenAi(reply: FastifyReply, err: RouterError): FastifyReply {
  const { status, body } = routerErrorAsOpenAi(err);
  return sendOpenAiError(reply, status, body, err.retryAfterSec);
}

export function isRouterError(err: unknown): err is RouterError {
  return err instanceof RouterError;
}
