/** How errors look over HTTP: `{ "error": code, "message": text }` with a status that says whose fault it was. */
import type { FastifyReply } from 'fastify';
import { RouterError, type RouterErrorCode } from '../../src/core/errors.js';

const STATUS: Record<RouterErrorCode, number> = {
  empty_query: 400,
  query_too_long: 400,
  invalid_vote: 400,
  invalid_expert: 400,
  not_found: 404,
  rate_limited: 429,
  expert_busy: 503,
  expert_unavailable: 503,
  shutting_down: 503,
  expert_timeout: 504,
  cancelled: 499,
  retrain_unavailable: 409,
};

export interface HttpErrorBody {
  error: string;
  message: string;
  retryAfterSec?: number;
}

export function routerErrorStatus(err: RouterError): number {
  return STATUS[err.code] ?? 500;
}

export function routerErrorBody(err: RouterError): HttpErrorBody {
  return err.retryAfterSec !== null ? { error: err.code, message: err.message, retryAfterSec: err.retryAfterSec } : { error: err.code, message: err.message };
}

export function sendRouterError(reply: FastifyReply, err: RouterError): FastifyReply {
  if (err.retryAfterSec !== null) reply.header('Retry-After', String(err.retryAfterSec));
  return reply.code(routerErrorStatus(err)).send(routerErrorBody(err));
}

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, retryAfterSec: { type: 'integer' } },
  required: ['error', 'message'],
} as const;
