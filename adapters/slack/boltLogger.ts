/** Bolt's Logger interface on top of the adapter logger, so Bolt's own messages land in the same log lines. */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';

function text(parts: unknown[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p))).join(' ');
}

export function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  let name = 'bolt';
  return {
    // Bolt's debug output includes whole payloads (question text): never logged.
    debug: () => undefined,
    info: (...msg: unknown[]) => logger.info({ source: name }, `slack: ${text(msg)}`),
    warn: (...msg: unknown[]) => logger.warn({ source: name }, `slack: ${text(msg)}`),
    error: (...msg: unknown[]) => logger.error({ source: name }, `slack: ${text(msg)}`),
    setLevel: (l: LogLevel) => { level = l; },
    getLevel: () => level,
    setName: (n: string) => { name = n; },
  };
}
