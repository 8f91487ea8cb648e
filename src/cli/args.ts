/** Small, strict flag parser shared by the `moe` subcommands: unknown flags are errors, not silently ignored. */
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
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new CliUsageError(`unknown option --${name}`);
    if (kind === 'boolean') {
      if (eq !== -1) throw new CliUsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') throw new CliUsageError(`--${name} needs a value`);
    flags.set(name, value);
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
