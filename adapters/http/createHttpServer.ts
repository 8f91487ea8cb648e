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
import { RouterError } from '../../src/core/errors.js';
import { sendRouterError } from './errors.js';
import { registerPredict } from './predict.js';
import { registerFeedback } from './feedback.js';
import { registerHealth } from './health.js';

export interface HttpServerDeps {
  config: Pick<Config, 'maxQueryChars'>;
  router: Router;
  registry: Registry;
  logger: Logger;
}

const ERROR_NAMES: Record<number, string> = { 400: 'bad_request', 404: 'not_found', 405: 'method_not_allowed', 413: 'payload_too_large', 415: 'unsupported_media_type' };

export async function createHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One log line per decision comes from the router; per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    // Room for a maximal question even if every character arrives \u-escaped; bigger bodies get 413.
    bodyLimit: Math.max(16_384, deps.config.maxQueryChars * 8 + 4_096),
    // Wrong JSON types are errors, not silently coerced ("query": 5 must not become "5").
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // close() runs after the router has settled every answer, so remaining connections are idle keep-alives.
    forceCloseConnections: true,
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'moe-router', description: 'Routes each question to a local expert LLM', version: '0.1.0' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof RouterError) return sendRouterError(reply, err);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = err.validation ? `Invalid request: ${err.message}` : err.message;
      return reply.code(status).send({ error: ERROR_NAMES[status] ?? 'bad_request', message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'Something went wrong on our side; it has been logged.' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `No ${request.method} ${request.url.split('?')[0]} here; see /docs.` });
  });

  registerPredict(app, deps.router);
  registerFeedback(app, deps.router);
  registerHealth(app, deps.router, deps.registry);
  return app;
}
