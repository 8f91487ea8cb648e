/**
 * The HTTP API (fastify): POST /predict, POST /feedback, GET /healthz, GET /metrics, OpenAPI docs at /docs.
 * Every user mistake becomes a 4xx with `{ error, message }`; a 500 means a bug on our side.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Router } from '../../src/core/Router.js';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorMessage, errorStatus, RouterError } from '../../src/core/errors.js';
import { codeForStatus, formatValidationErrors, sendError, sendRouterError } from './errors.js';
import { registerPredict } from './predict.js';
import { registerFeedback } from './feedback.js';
import { registerHealth } from './health.js';
import { registerV1 } from './v1/registerV1.js';
import { openAiError } from './v1/openaiErrors.js';
import { registerAdmin, registerAdminDisabled } from './admin/registerAdmin.js';
import { AdminQueries } from '../../src/store/AdminQueries.js';
import { rollbackGate } from '../../src/learning/index.js';
import type { Store } from '../../src/store/Store.js';
import type { OperationsApi } from '../../src/core/types.js';

export interface HttpServerDeps {
  config: Pick<Config, 'maxQueryChars'> & Partial<Pick<Config, 'adminToken' | 'logQueryText' | 'host' | 'apiKeys'>>;
  router: Router;
  /** What the admin dashboard reads and does (/admin, on when config.adminToken is set too). */
  admin?: { store: Store; retrain: OperationsApi['retrain'] };
  registry: Registry;
  logger: Logger;
}

/** Whether the request node could not parse was for /v1 (its request line is at the start of the raw bytes). */
function isV1Request(err: NodeJS.ErrnoException & { rawPacket?: unknown }): boolean {
  if (!Buffer.isBuffer(err.rawPacket)) return false;
  return /^[A-Z]+ \/v1(?:[/?#\s])/.test(err.rawPacket.subarray(0, 64).toString('latin1'));
}

/** Answers a request node could not parse (e.g. 431 headers too large) in our error shape, then closes it. */
function sendClientError(err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'bad_request';
  const status = errorStatus(code);
  const body = JSON.stringify(isV1Request(err) ? openAiError(status, code, errorMessage(code)) : { error: code, message: errorMessage(code) });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

export async function createHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One log line per decision comes from the router; per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    // Room for a maximal question even if every character arrives \u-escaped; bigger bodies get 413.
    bodyLimit: Math.max(16_384, deps.config.maxQueryChars * 8 + 4_096),
    // Wrong JSON types are errors, not silently coerced ("query": 5 must not become "5"), and a misspelt field is an
    // error, not silently dropped (a schema that should ignore unknown fields, like /v1's, omits additionalProperties).
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    schemaErrorFormatter: formatValidationErrors,
    // Malformed requests and oversized headers (431) get the same JSON shape as every other error.
    clientErrorHandler: sendClientError,
    return503OnClosing: true,
    // close() runs after the router has settled every answer, so remaining connections are idle keep-alives.
    forceCloseConnections: true,
  });

  // Every body here is JSON (admin forms add their own parser): text/plain gets 415 like any other type, not a 400
  // saying the body must be an object.
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      info: { title: 'moe-router', description: 'Routes each question to a local expert LLM', version: '0.1.0' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Methods per path, so a known path asked with another method gets 405 and Allow instead of 404.
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const known = methods.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) known.add(m);
    methods.set(route.url, known);
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof RouterError) return sendRouterError(reply, err);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // fastify's 415 text ("Unsupported Media Type") does not say what to send; the catalogue's does.
      const message = err.validation ? `Invalid request: ${err.message}` : status === 415 ? errorMessage('unsupported_media_type') : err.message;
      return sendError(reply, codeForStatus(status), message);
    }
    request.log.error({ err }, 'request failed');
    return sendError(reply, 'internal');
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = methods.get(path);
    if (allowed) {
      const allow = [...allowed].sort().join(', ');
      return sendError(reply.header('Allow', allow), 'method_not_allowed', `${request.method} ${path} is not allowed; use ${allow} (see /docs).`);
    }
    return sendError(reply, 'not_found', `No ${request.method} ${path} here; see /docs.`);
  });

  registerPredict(app, deps.router);
  registerFeedback(app, deps.router);
  registerHealth(app, deps.router, deps.registry);
  if (deps.admin && deps.config.adminToken) {
    const { store, retrain } = deps.admin;
    const logQueryText = deps.config.logQueryText ?? true;
    registerAdmin(app, {
      token: deps.config.adminToken,
      logQueryText,
      queries: new AdminQueries(store.db, { keepText: logQueryText, flush: () => store.flush() }),
      gateVersion: () => deps.router.gateVersion(),
      expertStatus: () => deps.router.expertStatus(),
      retrain: (options) => retrain(options),
      rollback: (version) => rollbackGate(store, version),
      logger: deps.logger,
    });
  } else {
    registerAdminDisabled(app);
  }
  await registerV1(app, {
    router: deps.router, apiKeys: deps.config.apiKeys ?? [], host: deps.config.host ?? '127.0.0.1', warn: (message) => deps.logger.warn(message),
    // A chat's whole history comes with each request.
    bodyLimit: Math.max(4 * 1024 ** 2, deps.config.maxQueryChars * 64),
  });
  return app;
}
