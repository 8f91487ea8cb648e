/** GET /healthz and GET /metrics. */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Router } from '../../src/core/Router.js';

export function registerHealth(app: FastifyInstance, router: Router, registry: Registry): void {
  const startedAt = Date.now();
  app.get('/healthz', {
    schema: {
      summary: 'Liveness and what is loaded',
      response: {
        200: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['ok', 'degraded'], description: 'degraded when an expert is unavailable (its questions fall back, or fail when it is the fallback)' },
            reasons: { type: 'array', items: { type: 'string' }, description: 'why it is degraded, one line per problem; empty when ok' },
            gateVersion: { type: 'string' },
            uptimeSec: { type: 'integer' },
            inFlight: { type: 'integer' },
            experts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' }, name: { type: 'string' }, state: { type: 'string' }, available: { type: 'boolean' },
                  loaded: { type: 'boolean' }, demo: { type: 'boolean' }, isFallback: { type: 'boolean' },
                  active: { type: 'integer' }, queued: { type: 'integer' }, unavailableReason: { type: ['string', 'null'] },
                  endpoint: {
                    type: ['object', 'null'], description: 'For an expert on a serving engine: its URL and health',
                    properties: {
                      baseUrl: { type: 'string' }, model: { type: 'string' }, health: { type: 'string', enum: ['unknown', 'up', 'down'] },
                      lastError: { type: ['string', 'null'] }, since: { type: 'integer' }, nextProbeAt: { type: ['integer', 'null'] },
                      maxConcurrent: { type: 'integer' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  }, async () => {
    const experts = router.expertStatus().map((s) => ({
      id: s.id, name: s.displayName, state: s.state, available: s.state !== 'unavailable', loaded: s.state === 'loaded',
      demo: s.demo, isFallback: s.isFallback, active: s.active, queued: s.queued, unavailableReason: s.unavailableReason,
      endpoint: s.endpoint ?? null,
    }));
    // Known before anyone asks (a missing model file, a budget too small for it): say so now, not after a failed answer.
    const reasons = experts.filter((e) => !e.available).map((e) =>
      `${e.id}${e.isFallback ? ' (the fallback)' : ''} is unavailable: ${e.unavailableReason ?? 'unknown reason'}`);
    return {
      status: reasons.length === 0 ? 'ok' : 'degraded',
      reasons,
      gateVersion: router.gateVersion(),
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      inFlight: router.inFlightCount(),
      experts,
    };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    reply.header('Content-Type', registry.contentType);
    return registry.metrics();
  });
}
