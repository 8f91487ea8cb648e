/** How errors look over HTTP: `{ "error": code, "message": text }` with the status src/core/errors.ts gives the code. */
import type { FastifyReply, FastifySchemaValidationError } from 'fastify';
import type { SchemaErrorDataVar } from 'fastify/types/schema.js';
import { ERRORS, errorMessage, errorStatus, RouterError, type ErrorCode } from '../../src/core/errors.js';
import { USER_ID_RULE } from './userId.js';

export interface HttpErrorBody {
  error: ErrorCode;
  message: string;
  retryAfterSec?: number;
}

export function routerErrorStatus(err: RouterError): number {
  return errorStatus(err.code);
}

export function routerErrorBody(err: RouterError): HttpErrorBody {
  return err.retryAfterSec !== null ? { error: err.code, message: err.message, retryAfterSec: err.retryAfterSec } : { error: err.code, message: err.message };
}

export function sendRouterError(reply: FastifyReply, err: RouterError): FastifyReply {
  if (err.retryAfterSec !== null) reply.header('Retry-After', String(err.retryAfterSec));
  return reply.code(routerErrorStatus(err)).send(routerErrorBody(err));
}

/** Sends `code` with its table status; `message` replaces the table's text where HTTP can say more. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string = errorMessage(code)): FastifyReply {
  return reply.code(errorStatus(code)).send({ error: code, message } satisfies HttpErrorBody);
}

/** Codes for failures fastify reports by status alone, before a route runs. */
const REQUEST_CODES = ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'method_not_allowed', 'request_timeout', 'payload_too_large', 'unsupported_media_type', 'headers_too_large'] as const satisfies readonly ErrorCode[];

export function codeForStatus(status: number): ErrorCode {
  return REQUEST_CODES.find((c) => ERRORS[c].status === status) ?? (status >= 500 ? 'internal' : 'bad_request');
}

/**
 * One line for a schema violation: an unknown field is named (`unknown field "usrId" in body`), anything else reads
 * as fastify's default (`body/query must be string`).
 */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: SchemaErrorDataVar): Error {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const where = unknown.instancePath ? `${dataVar}${unknown.instancePath}` : dataVar;
    return new Error(`unknown field "${String(unknown.params.additionalProperty)}" in ${where}`);
  }
  if (errors.some((e) => e.instancePath === '/userId')) return new Error(`userId must be ${USER_ID_RULE}`);
  return new Error(errors.map((e) => `${dataVar}${e.instancePath} ${e.message ?? 'is invalid'}`).join(', '));
}

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, retryAfterSec: { type: 'integer' } },
  required: ['error', 'message'],
} as const;
