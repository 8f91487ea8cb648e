/** Structured JSON logs (pino, the logger fastify uses), one line per event; question text is never logged. */
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: NodeJS.WritableStream): Logger {
  const options = { level: config.logLevel, base: { name: 'moe-router' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Error fields for a log line: message, code and stack, without throwing on odd values. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: err.message, errName: err.name, ...(code !== undefined ? { code } : {}), stack: err.stack };
  }
  return { err: String(err) };
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
