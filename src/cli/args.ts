/** Strict flag parsing for the `moe` subcommands (node:util parseArgs): unknown flags are errors, not silently ignored. */
import { parseArgs as parseNodeArgs } from 'node:util';

export class CliUsageError extends Error {
  readonly code = 'cli_usage';
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

/**
 * @param spec flag name → 'string' (takes a value) or 'boolean'.
 */
export function parseArgs(args: string[], spec: Record<string, 'string' | 'boolean'>): ParsedArgs {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  // Non-strict with tokens, so each mistake gets our one-line message rather than node's paragraph.
  const { tokens } = parseNodeArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const kind = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined;
    if (!kind) throw new CliUsageError(`unknown option ${token.rawName}`);
    if (kind === 'boolean') {
      if (token.value !== undefined) throw new CliUsageError(`--${token.name} takes no value`);
      flags.set(token.name, true);
    } else {
      if (token.value === undefined || token.value === '') throw new CliUsageError(`--${token.name} needs a value`);
      flags.set(token.name, token.value);
    }
  }
  return { flags, positionals };
}

export function stringFlag(parsed: ParsedArgs, name: string): string | undefined {
  const v = parsed.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function numberFlag(parsed: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = stringFlag(parsed, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new CliUsageError(`--${name} must be a number between ${min} and ${max}, got "${v}"`);
  return n;
}
