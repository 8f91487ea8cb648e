/**
 * The admin dashboard under /admin: login with ADMIN_TOKEN (session cookie), the page and its bundle, JSON under
 * /admin/api/* (session cookie or `Authorization: Bearer`), and the actions (retrain, rollback) as POSTs that need the
 * session and its CSRF token. Without ADMIN_TOKEN everything under /admin is 404.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Logger } from '../../../src/logger.js';
import type { RetrainReport } from '../../../src/core/types.js';
import type { ExpertStatus } from '../../../src/experts/types.js';
import { RouterError } from '../../../src/core/errors.js';
import { GateFileError } from '../../../src/gate/errors.js';
import { sendError } from '../errors.js';
import type { AdminQueries } from '../../../src/store/AdminQueries.js';
import { EXPERT_IDS } from '../../../src/gate/types.js';
import type {
  ConfusionResponse, DecisionsResponse, ExpertItem, ExpertsResponse, GatesResponse, RetrainStatusResponse, RollbackResponse,
  SummaryResponse, TimeSeriesResponse,
} from './apiTypes.js';
import { AdminSessions, clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie, userHash, type AdminSession } from './AdminSessions.js';
import { loadDashboardAssets, type DashboardAssets } from './bundleDashboard.js';
import { CONTENT_SECURITY_POLICY, dashboardPage, loginPage } from './pages.js';

export interface RetrainProgress {
  step: number;
  steps: number;
  message?: string;
}

export interface AdminDeps {
  /** ADMIN_TOKEN (the dashboard is off without it: registerAdminDisabled). */
  token: string;
  /** LOG_QUERY_TEXT. */
  logQueryText: boolean;
  queries: AdminQueries;
  gateVersion(): string;
  expertStatus(): ExpertStatus[];
  /** Retrains now; `onStage` reports progress when the retrainer gives it. */
  retrain(options: { requestedBy: string; onStage?: (stage: string, progress?: RetrainProgress) => void }): Promise<RetrainReport>;
  /** Makes `version` the active gate; throws RouterError('not_found') for an unknown version. */
  rollback(version: string): { from: string | null; to: string };
  logger: Logger;
  now?: () => number;
  /** Delay before answering a wrong token (default 500 ms). */
  wrongTokenDelayMs?: number;
}

const RANGES: Record<string, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '90d': 90 * 86_400_000 };
const DASHBOARD_OFF = 'The admin dashboard is off: set ADMIN_TOKEN to enable it.';

type Auth = { kind: 'session'; session: AdminSession } | { kind: 'bearer' };

declare module 'fastify' {
  interface FastifyRequest {
    adminAuth?: Auth;
  }
}

/** ADMIN_TOKEN is empty: everything under /admin is 404, with a message saying how to turn it on. */
export function registerAdminDisabled(app: FastifyInstance): void {
  app.all('/admin', { schema: { hide: true } }, async (_request, reply) => sendError(reply, 'not_found', DASHBOARD_OFF));
  app.all('/admin/*', { schema: { hide: true } }, async (_request, reply) => sendError(reply, 'not_found', DASHBOARD_OFF));
}

export function registerAdmin(app: FastifyInstance, deps: AdminDeps): void {
  const token = deps.token;
  const now = deps.now ?? Date.now;
  const sessions = new AdminSessions(token, now);
  const wrongTokenDelayMs = deps.wrongTokenDelayMs ?? 500;
  // Guessing the token: 10 tries a minute per address, on top of the delay.
  const loginLimiter = new RateLimiterMemory({ points: 10, duration: 60 });
  let assets: Promise<DashboardAssets> | null = null;
  const job: RetrainStatusResponse = {
    state: 'idle', stage: null, step: null, steps: null, message: null, startedAt: null, finishedAt: null, requestedBy: null, result: null, error: null,
  };

  const sessionOf = (request: FastifyRequest): AdminSession | null => sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
  const html = (reply: FastifyReply, code: number, body: string): FastifyReply =>
    reply.code(code).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store')
      .header('content-security-policy', CONTENT_SECURITY_POLICY).header('x-frame-options', 'DENY').send(body);

  app.register(async (admin) => {
    // Not part of the public API: keep these routes out of /docs.
    admin.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    // Form posts (the login form) arrive urlencoded; fastify parses only JSON by default.
    admin.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4_096 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    const page = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const session = sessionOf(request);
      return session ? html(reply, 200, dashboardPage(session.csrfToken)) : html(reply, 200, loginPage(null));
    };
    admin.get('/admin', page);
    admin.get('/admin/', page);

    admin.post<{ Body: { token?: unknown } | undefined }>('/admin/login', async (request, reply) => {
      try {
        await loginLimiter.consume(request.ip);
      } catch {
        return html(reply, 429, loginPage('Too many sign-in attempts; wait a minute and try again.'));
      }
      const candidate = typeof request.body?.token === 'string' ? request.body.token.trim() : '';
      if (!candidate || !sessions.checkToken(candidate)) {
        await new Promise((resolve) => setTimeout(resolve, wrongTokenDelayMs));
        deps.logger.warn({ ip: request.ip }, 'admin: sign-in with a wrong token');
        return html(reply, 401, loginPage(candidate ? 'That token is not right. Check ADMIN_TOKEN and try again.' : 'Enter the admin token.'));
      }
      const session = sessions.create(request.ip);
      deps.logger.info({ admin: session.who, ip: request.ip }, 'admin: signed in');
      return reply.code(303).header('set-cookie', sessionCookie(session.id, request.protocol === 'https')).header('location', '/admin').send();
    });

    admin.post<{ Body: { csrf?: unknown } | undefined }>('/admin/logout', async (request, reply) => {
      const session = sessionOf(request);
      const csrf = typeof request.body?.csrf === 'string' ? request.body.csrf : request.headers['x-csrf-token'];
      if (session && typeof csrf === 'string' && csrf === session.csrfToken) {
        sessions.delete(session.id);
        deps.logger.info({ admin: session.who }, 'admin: signed out');
      }
      return reply.code(303).header('set-cookie', clearedSessionCookie()).header('location', '/admin').send();
    });

    admin.get<{ Params: { file: string } }>('/admin/assets/:file', async (request, reply) => {
      const { file } = request.params;
      if (file !== 'dashboard.js' && file !== 'dashboard.css') return sendError(reply, 'not_found', `No asset ${file}.`);
      assets ??= loadDashboardAssets();
      let loaded: DashboardAssets;
      try {
        loaded = await assets;
      } catch (err) {
        assets = null;
        throw err;
      }
      return reply
        .header('content-type', file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(file.endsWith('.js') ? loaded.js : loaded.css);
    });

    // --- /admin/api/*: authenticated JSON ---
    admin.register(async (api) => {
      api.addHook('onRequest', async (request, reply) => {
        const session = sessionOf(request);
        if (session) request.adminAuth = { kind: 'session', session };
        else if (sessions.checkBearer(request.headers.authorization)) request.adminAuth = { kind: 'bearer' };
        else return sendError(reply.header('www-authenticate', 'Bearer'), 'unauthorized', 'Sign in at /admin or send Authorization: Bearer <ADMIN_TOKEN>.');
        if (request.method !== 'GET' && request.method !== 'HEAD') {
          const csrf = request.headers['x-csrf-token'];
          if (request.adminAuth.kind !== 'session' || typeof csrf !== 'string' || csrf !== request.adminAuth.session.csrfToken) {
            return sendError(reply, 'csrf');
          }
        }
        reply.header('cache-control', 'no-store');
      });

      api.get('/admin/api/summary', async (): Promise<SummaryResponse> => {
        const s = deps.queries.summary();
        return {
          decisions: s.decisions, byExpert: s.byExpert, votes: s.votes, upvotes: s.upvotes, downvotes: s.downvotes,
          upvoteRate: s.upvoteRate, fallbacks: s.fallbacks, fallbackRate: s.fallbackRate, corrections: s.corrections,
          reroutes: s.reroutes, byStatus: s.byStatus, conversations: s.conversations, gateVersion: deps.gateVersion(),
          activeGateVersion: deps.queries.gateVersions().find((g) => g.active)?.version ?? null,
          textLogged: deps.logQueryText, generatedAt: now(),
        };
      });

      api.get<{ Querystring: { range?: string; bucket?: string; from?: string; to?: string } }>('/admin/api/timeseries', async (request, reply) => {
        const q = request.query;
        const bucket = q.bucket ?? 'day';
        if (bucket !== 'hour' && bucket !== 'day') return sendError(reply, 'bad_request', 'bucket is hour or day.');
        let to = now();
        let from: number;
        if (q.from !== undefined || q.to !== undefined) {
          from = Number(q.from);
          to = q.to === undefined ? to : Number(q.to);
          if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
            return sendError(reply, 'bad_request', 'from and to are ms timestamps with from < to.');
          }
        } else {
          const span = RANGES[q.range ?? '7d'];
          if (span === undefined) return sendError(reply, 'bad_request', `range is one of ${Object.keys(RANGES).join(', ')}.`);
          from = to - span;
        }
        try {
          const ts = deps.queries.timeSeries({ from, to, bucket });
          const body: TimeSeriesResponse = { ...ts, from: ts.buckets[0]!, to: ts.buckets.at(-1)! + ts.bucketMs };
          return body;
        } catch (err) {
          if (err instanceof RangeError) return sendError(reply, 'bad_request', err.message);
          throw err;
        }
      });

      api.get('/admin/api/confusion', async (): Promise<ConfusionResponse> => {
        const c = deps.queries.confusion();
        const seen = new Set<string>(EXPERT_IDS);
        for (const [chosen, row] of Object.entries(c.cells)) {
          seen.add(chosen);
          for (const right of Object.keys(row)) seen.add(right);
        }
        return { experts: [...seen], ...c };
      });

      api.get('/admin/api/gates', async (): Promise<GatesResponse> => ({ versions: deps.queries.gateVersions(), routingVersion: deps.gateVersion() }));

      api.get('/admin/api/experts', async (): Promise<ExpertsResponse> => {
        const figures = deps.queries.expertFigures(now() - 86_400_000);
        return { experts: deps.expertStatus().map((s) => expertItem(s, figures[s.id])) };
      });

      api.get<{ Querystring: { expert?: string; vote?: string; fallback?: string; limit?: string } }>('/admin/api/decisions', async (request, reply) => {
        const q = request.query;
        const limit = q.limit === undefined ? 50 : Number(q.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) return sendError(reply, 'bad_request', 'limit is 1 to 500.');
        const vote = q.vote ?? 'any';
        if (vote !== 'any' && vote !== 'up' && vote !== 'down' && vote !== 'none') {
          return sendError(reply, 'bad_request', 'vote is up, down, none or any.');
        }
        if (q.fallback !== undefined && q.fallback !== 'true' && q.fallback !== 'false') {
          return sendError(reply, 'bad_request', 'fallback is true or false.');
        }
        const rows = deps.queries.recentDecisions({
          expert: q.expert || undefined, vote, fallback: q.fallback === undefined ? undefined : q.fallback === 'true', limit,
        });
        const body: DecisionsResponse = {
          textLogged: deps.logQueryText,
          decisions: rows.map(({ userId, query, ...d }) => ({
            ...d, user: userId === null ? null : userHash(token, userId), query: deps.logQueryText ? query : null,
          })),
        };
        return body;
      });

      api.get('/admin/api/retrain', async (): Promise<RetrainStatusResponse> => job);

      api.post('/admin/api/retrain', async (request, reply) => {
        const who = whoOf(request);
        if (job.state === 'running') return reply.code(409).send({ ...job, message: `A retraining is already running (asked by ${job.requestedBy}).` });
        Object.assign(job, {
          state: 'running', stage: null, step: null, steps: null, message: null, startedAt: now(), finishedAt: null, requestedBy: who, result: null, error: null,
        });
        deps.logger.info({ admin: who, ip: request.ip }, 'admin: retrain requested');
        const onStage = (stage: string, progress?: RetrainProgress): void => {
          if (job.state === 'running') Object.assign(job, { stage, step: progress?.step ?? null, steps: progress?.steps ?? null, message: progress?.message ?? null });
        };
        deps.retrain({ requestedBy: who, onStage }).then(
          (report) => {
            Object.assign(job, { state: 'done', finishedAt: now(), result: report });
            deps.logger.info({ admin: who, version: report.version, promoted: report.promoted }, 'admin: retrain finished');
          },
          (err: unknown) => {
            Object.assign(job, { state: 'failed', finishedAt: now(), error: err instanceof Error ? err.message : String(err) });
            deps.logger.warn({ admin: who, err: job.error }, 'admin: retrain failed');
          },
        );
        return reply.code(202).send(job);
      });

      api.post<{ Body: { version?: unknown } | undefined }>('/admin/api/rollback', async (request, reply) => {
        const version = request.body?.version;
        if (typeof version !== 'string' || version.trim() === '') {
          return sendError(reply, 'bad_request', 'Send {"version": "..."}: the gate version to make active.');
        }
        const who = whoOf(request);
        try {
          const result: RollbackResponse = deps.rollback(version);
          deps.logger.info({ admin: who, ip: request.ip, from: result.from, to: result.to }, 'admin: gate rolled back');
          return result;
        } catch (err) {
          if (err instanceof RouterError && err.code === 'not_found') return sendError(reply, 'not_found', err.message);
          if (err instanceof GateFileError) return sendError(reply, 'gate_file', err.message);
          throw err;
        }
      });

      // Any other /admin/api path: authenticated callers learn it does not exist, others got their 401 above.
      api.all('/admin/api/*', async (request, reply) => sendError(reply, 'not_found', `No ${request.method} ${request.url.split('?')[0]}.`));
    });
  });
}

function whoOf(request: FastifyRequest): string {
  return request.adminAuth?.kind === 'session' ? request.adminAuth.session.who : 'admin-bearer';
}

function expertItem(s: ExpertStatus, figures: { busyRejections: number; tokensPerSecond: number | null } | undefined): ExpertItem {
  const e = s.endpoint;
  return {
    id: s.id, displayName: s.displayName, emoji: s.emoji, state: s.state, unavailableReason: s.unavailableReason,
    isFallback: s.isFallback, demo: s.demo, active: s.active, queued: s.queued,
    memoryBytes: typeof s.memoryBytes === 'number' ? s.memoryBytes : null,
    busyRejections: figures?.busyRejections ?? 0,
    tokensPerSecond: figures?.tokensPerSecond ?? null,
    endpoint: e ? {
      baseUrl: e.baseUrl, model: e.model, health: e.health, lastError: e.lastError, since: e.since, nextProbeAt: e.nextProbeAt, maxConcurrent: e.maxConcurrent,
    } : null,
  };
}
