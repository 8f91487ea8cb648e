/**
 * Wires the core together: database, gate, experts, router, metrics and the HTTP API (not listening, no adapters).
 * `npm start` calls this and then listens; tests call it with a temp DB and ready-made parts.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { GateModel } from './gate/types.js';
import type { ExpertProvider } from './experts/types.js';
import { createExpertPool } from './experts/createExpertPool.js';
import { ActiveGate, createRetrainer, loadActiveGate, scheduleRetraining, watchActiveGate, type Retrainer } from './learning/index.js';
import { Router, type RouterObserver } from './core/Router.js';
import { MessageLinks } from './core/MessageLinks.js';
import { openConversations } from './core/conversationTurns.js';
import { claimBotInstance } from './core/BotInstance.js';
import { routerStats } from './core/routerStats.js';
import type { CoreApi } from './core/types.js';
import { Store } from './store/Store.js';
import { createLogger, type Logger } from './logger.js';
import { createRouterMetrics } from '../adapters/http/metrics.js';
import { createHttpServer } from '../adapters/http/createHttpServer.js';

export interface CreateAppOptions {
  /** An already-trained gate. Default: loadActiveGate(config), which trains from DATASET_PATH when GATE_PATH is missing. */
  gate?: GateModel;
  /** Experts to use. Default: createExpertPool(config) (writes the demo models if missing; loads lazily). */
  experts?: ExpertProvider;
  /** Dispose `experts` in close(). Default: true when the app created them, false when they were passed in. */
  disposeExperts?: boolean;
  /** SQLite file. Default: config.dbPath (its folder is created). */
  dbPath?: string;
  /** Default: pino JSON on stdout at config.logLevel. */
  logger?: Logger;
  /** Default: createRetrainer (src/learning/Retrainer.ts). */
  retrainer?: Retrainer;
  /** Clock for timestamps, rate limits and retention (tests). */
  now?: () => number;
  /** Process metrics (CPU, memory, event loop) in /metrics too. Default false (tests make many apps). */
  processMetrics?: boolean;
  /** Seconds close() lets answers in flight finish before aborting them. Default 5. */
  shutdownGraceSec?: number;
}

export interface App {
  config: Config;
  router: Router;
  /** What chat adapters are given: the router's questions and votes, message links and deliveries, stats and retrain. */
  core: CoreApi;
  store: Store;
  experts: ExpertProvider;
  activeGate: ActiveGate;
  /** The fastify instance; call `http.listen({ host, port })` or use `http.inject()`. */
  http: FastifyInstance;
  metrics: Registry;
  logger: Logger;
  /** Stops taking questions, finishes or fails answers in flight, closes HTTP, disposes experts, closes the DB. */
  close(): Promise<void>;
}

const HOUR = 3_600_000;
/** Slack/Discord stop redelivering within minutes; a week of claims is plenty. */
const DELIVERY_CLAIM_KEEP_MS = 7 * 24 * HOUR;
/** Idle conversations' rows (routing state, no text) are forgotten after this. */
const CONVERSATION_KEEP_MS = 30 * 24 * HOUR;

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const now = options.now ?? Date.now;
  const store = Store.open(options.dbPath ?? config.dbPath, {
    keepText: config.logQueryText,
    backgroundCheckpoints: true,
    onCheckpointError: (message) => logger.warn({ error: message }, 'database checkpoint failed'),
    onWriteError: (message) => logger.error({ error: message }, 'database write failed'),
  });
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    // One bot per database: refuse at once while another runs; its pending rows are its own, not interrupted ones.
    const instance = claimBotInstance(store, options.dbPath ?? config.dbPath, {
      onProblem: (message) => logger.error({ error: message }, 'database ownership problem'),
    });
    cleanup.unshift(() => instance.release());
    const interrupted = store.failPendingDecisions(now());
    if (interrupted > 0) logger.warn({ interrupted }, 'marked answers interrupted by the last stop as failed');

    const activeGate = new ActiveGate(options.gate ?? (await loadActiveGate(config)));
    const experts = options.experts ?? (await createExpertPool(config, { log: (msg) => logger.info(msg), warn: (msg) => logger.warn(msg) }));
    if (options.disposeExperts ?? !options.experts) cleanup.unshift(() => experts.dispose());

    const retrainer = options.retrainer ?? createRetrainer({ config, store, activeGate, logger });
    // A retrain or rollback by the CLI (same DB_PATH) reaches this process within GATE_RELOAD_INTERVAL; votes retrain every RETRAIN_INTERVAL.
    cleanup.unshift(watchActiveGate(store, activeGate, config.gateReloadIntervalMs, logger), scheduleRetraining(retrainer, store, config, logger));
    const conversations = openConversations(store, config, now);
    const router = new Router({ config, store, experts, gate: activeGate, conversations, now });
    const links = new MessageLinks(store, now);
    const core: CoreApi = {
      ask: (query, o) => router.ask(query, o),
      reroute: (decisionId, expertId, o) => router.reroute(decisionId, expertId, o),
      feedback: (decisionId, userId, vote, correctedExpert, o) => router.feedback(decisionId, userId, vote, correctedExpert, o),
      experts: () => router.experts(),
      expertStatus: () => router.expertStatus(),
      gateVersion: () => router.gateVersion(),
      hasConversation: (key) => router.hasConversation(key),
      attachMessage: (decisionId, platform, messageRef) => links.attachMessage(decisionId, platform, messageRef),
      findDecisionByMessage: (platform, messageRef) => links.findDecisionByMessage(platform, messageRef),
      claimDelivery: (platform, keys) => links.claimDelivery(platform, keys),
      stats: () => routerStats(store, router.gateVersion()),
      retrain: (o) => retrainer.retrain(o),
    };
    const metrics = createRouterMetrics(() => experts.status(), { processMetrics: options.processMetrics === true });
    router.observe(metrics.observer);
    router.observe(decisionLog(logger));

    const http = await createHttpServer({ config, router, admin: { store, retrain: core.retrain }, registry: metrics.registry, logger });

    // Privacy and housekeeping: at start and hourly, or twice per QUERY_RETENTION when that is shorter than two hours.
    const maintain = (): void => {
      const purged = config.queryRetentionMs === null ? 0 : store.purgeTextBefore(now() - config.queryRetentionMs);
      const pruned = store.pruneDeliveries(now() - DELIVERY_CLAIM_KEEP_MS);
      // An idle conversation restarts anyway; its row is kept a while so a Slack thread reply still counts as a follow-up.
      const idle = conversations.pruneIdleBefore(now() - Math.max(config.conversationIdleMs, CONVERSATION_KEEP_MS));
      if (purged || pruned || idle) logger.info({ purged, pruned, conversations: idle }, 'retention: deleted old question text, delivery claims and idle conversations');
    };
    maintain();
    const timer = setInterval(maintain, Math.min(HOUR, Math.max(1000, (config.queryRetentionMs ?? Infinity) / 2)));
    timer.unref();

    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        clearInterval(timer);
        // Router first: during the grace period new questions get 503 shutting_down while answers in flight finish.
        await router.close((options.shutdownGraceSec ?? 5) * 1000);
        await new Promise((resolve) => setImmediate(resolve)); // let finished handlers write their replies
        await http.close(); // drops keep-alive connections too (forceCloseConnections)
        for (const step of cleanup) await step();
      })();
      return closing;
    };
    return { config, router, core, store, experts, activeGate, http, metrics: metrics.registry, logger, close };
  } catch (err) {
    for (const step of cleanup) await step();
    throw err;
  }
}

/** One structured log line per decision; never the question or answer text. */
function decisionLog(logger: Logger): RouterObserver {
  return {
    onAnswered(r, meta) {
      logger.info({
        decisionId: r.decisionId, platform: meta.platform, status: 'answered', expert: r.expert.id,
        confidence: Number(r.confidence.toFixed(3)), fallbackReason: r.fallbackReason, reroutedFrom: r.reroutedFrom,
        latencyMs: r.latencyMs, promptTokens: meta.promptTokens, completionTokens: meta.completionTokens, demo: r.demo,
      }, 'decision');
    },
    onFailed(f) {
      // A cancelled question (the asker went away) is no failure: info, not warn.
      logger[f.status === 'cancelled' ? 'info' : 'warn']({ decisionId: f.decisionId, platform: f.platform, status: f.status, expert: f.expert, error: f.code, latencyMs: f.latencyMs }, 'decision');
    },
  };
}
