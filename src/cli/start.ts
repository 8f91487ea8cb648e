/**
 * `moe start` / `npm start`: opens the database, loads (or trains) the gate, prepares the experts, serves the HTTP API
 * on HOST:PORT, starts Discord/Slack when their tokens are set, and shuts down cleanly on Ctrl-C (SIGINT/SIGTERM).
 */
import fs from 'node:fs';
import { checkRunnable, loadConfig, ConfigError, type Config } from '../config.js';
import { createApp, type App } from '../app.js';
import { createLogger, type Logger } from '../logger.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { trainGate, TrainingDataError } from '../gate/trainGate.js';
import { parseArgs } from './args.js';
import { RegistryError } from '../experts/registry.js';
import { ModelFileError } from '../experts/inspectModelFile.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { DatabaseError } from '../store/migrate.js';
import { InstanceRunningError } from '../core/BotInstance.js';
import { startDiscord } from '../../adapters/discord/index.js';
import { startSlack } from '../../adapters/slack/index.js';

const SETUP_ERRORS = [RegistryError, ModelFileError, GateFileError, DatasetError, TrainingDataError, DatabaseError, InstanceRunningError, ConfigError];

function isSetupError(err: unknown): boolean {
  return SETUP_ERRORS.some((kind) => err instanceof kind);
}

/** Something started alongside the HTTP API (a chat adapter) that must stop before the app closes. */
interface Surface {
  name: string;
  stop(): Promise<void>;
}

export async function run(args: string[]): Promise<number> {
  parseArgs(args, {});
  let config: Config;
  try {
    config = loadConfig();
    checkRunnable(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`moe: configuration error: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const logger = createLogger(config);

  let app: App;
  try {
    trainGateIfMissing(config, logger);
    app = await createApp(config, { logger, processMetrics: true });
  } catch (err) {
    // A setup problem (registry, gate or dataset file, database, another instance) is one line in the log too; anything else logs its stack.
    if (isSetupError(err)) logger.fatal({ reason: (err as Error).message }, 'could not start');
    else logger.fatal({ err }, 'could not start');
    console.error(`moe: could not start: ${(err as Error).message}`);
    return 1;
  }

  const surfaces: Surface[] = [];
  try {
    const address = await app.http.listen({ host: config.host, port: config.port });
    logger.info({ address, docs: `${address}/docs`, gateVersion: app.router.gateVersion() }, 'HTTP API listening');
    if (config.adminToken) logger.info({ dashboard: `${address}/admin` }, 'admin dashboard at /admin (sign in with ADMIN_TOKEN)');
    else logger.info('admin dashboard off: set ADMIN_TOKEN (in .env or the environment) to serve it at /admin');

    // --- Chat adapters: the lead wires them here (each returns { stop() }). ---
    if (config.discord.token) {
      const discord = await startDiscord({ router: app.core, config, logger: logger.child({ component: 'discord' }) });
      surfaces.push({ name: 'discord', stop: () => discord.stop() });
    }
    if (config.slack.botToken) {
      const slack = await startSlack({ router: app.core, config, logger: logger.child({ component: 'slack' }) });
      surfaces.push({ name: 'slack', stop: () => slack.stop() });
    }
    // --- end of chat adapters ---
  } catch (err) {
    const message = (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? `${config.host}:${config.port} is already in use (set PORT to another port)`
      : (err as Error).message;
    console.error(`moe: could not start: ${message}`);
    await stopAll(surfaces, app, logger);
    return 1;
  }

  const signal = await waitForStopSignal();
  logger.info({ signal }, 'shutting down: finishing answers in flight');
  await stopAll(surfaces, app, logger);
  logger.info('stopped');
  return 0;
}

/**
 * Fresh clone: trains the gate file here, saying so, rather than silently inside createApp (which then loads it, or
 * the database's active version when a retrain recorded one).
 */
function trainGateIfMissing(config: Config, logger: Logger): void {
  if (fs.existsSync(config.gatePath)) return;
  const rows = readLabelledCsv(config.datasetPath);
  logger.info({ dataset: config.datasetPath, rows: rows.length }, `training the gate from ${config.datasetPath} (${rows.length.toLocaleString('en-US')} rows)…`);
  const { gate, metrics } = trainGate(rows);
  gate.save(config.gatePath);
  const accuracy = metrics.heldOut ? `held-out accuracy ${(metrics.heldOut.accuracy * 100).toFixed(1)}% on ${metrics.testRows} rows` : 'no held-out rows';
  logger.info({ gateVersion: gate.version, accuracy: metrics.heldOut?.accuracy ?? null, seconds: Number(metrics.trainSeconds.toFixed(2)), path: config.gatePath },
    `gate trained: ${accuracy} (${metrics.trainSeconds.toFixed(1)} s), saved to ${config.gatePath}`);
}

async function stopAll(surfaces: Surface[], app: App, logger: Logger): Promise<void> {
  for (const surface of surfaces.reverse()) {
    try {
      await surface.stop();
    } catch (err) {
      logger.error({ err, surface: surface.name }, 'adapter did not stop cleanly');
    }
  }
  await app.close();
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once, for a shutdown that hangs. */
function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        console.error('moe: second signal, exiting now');
        process.exit(130);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
