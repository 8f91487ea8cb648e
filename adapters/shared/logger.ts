/**
 * The logger shape adapters accept: pino-style `(fields, message)`, so the app's pino logger (src/logger.ts)
 * fits as is. The default writes one JSON line per event to stderr.
 */
export interface AdapterLogger {
  /** Events that explain why nothing happened (ignored messages and reactions); off in production logs. */
  debug?(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

function line(level: string, component: string, fields: Record<string, unknown>, message: string): string {
  return JSON.stringify({ time: new Date().toISOString(), level, component, msg: message, ...fields });
}

export function consoleLogger(component: string): AdapterLogger {
  return {
    info: (fields, message) => console.error(line('info', component, fields, message)),
    warn: (fields, message) => console.error(line('warn', component, fields, message)),
    error: (fields, message) => console.error(line('error', component, fields, message)),
  };
}

/** Error fields for a log line: message, code and stack, without throwing on odd values. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: err.message, errName: err.name, ...(code !== undefined ? { code } : {}), stack: err.stack };
  }
  return { err: String(err) };
}
