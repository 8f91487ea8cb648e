/** A real pino logger whose lines land in an array, so tests wait for and inspect what the adapters log. */
import { pino } from 'pino';
import type { Logger } from '../../src/logger.js';

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

export function captureLogger(lines: LogLine[]): Logger {
  const destination = {
    write(line: string): void {
      const { level, msg, ...fields } = JSON.parse(line) as { level: string; msg: string } & Record<string, unknown>;
      lines.push({ level, message: msg, fields });
    },
  };
  return pino({ level: 'debug', base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } }, destination);
}
