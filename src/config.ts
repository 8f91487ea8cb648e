/**
 * Every setting of moe-router, read from the environment (and `.env` via dotenv), validated once at start by one zod
 * schema. A wrong value throws ConfigError naming the setting; entry points print its one line and exit 1.
 *
 * To add a setting, add one line to SETTINGS: `fieldName: setting('ENV_NAME', schema)`. Config's type follows.
 */
import os from 'node:os';
import { z } from 'zod';

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly setting: string, detail: string) {
    super(`${setting}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export interface RateLimit {
  count: number;
  windowMs: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
// Not '0': QUERY_RETENTION=0 read as "keep forever" where 0s deletes at once (durationOrOff refuses a bare 0).
const OFF = ['off', 'never', 'none', 'false'];

/** Thrown by the unit parsers below; the schema turns it into a zod issue on the setting being read. */
class Invalid extends Error {}

function durationMs(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(raw);
  if (!m) throw new Invalid(`expected a duration like 30s, 5m, 6h or 30d, got "${raw}"`);
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!);
}

function bytes(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(raw);
  if (!m) throw new Invalid(`expected a size like 512MB or 8GiB, got "${raw}"`);
  return Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

function rate(raw: string): RateLimit | null {
  if (['off', 'none', '0'].includes(raw.trim().toLowerCase())) return null;
  const m = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|sec|m|min|h|hour|d|day)\s*$/i.exec(raw);
  if (!m || Number(m[1]) < 1) throw new Invalid(`expected a rate like 5/min or 100/h, got "${raw}"`);
  const unit = m[3]!.toLowerCase();
  const unitKey = unit === 'sec' ? 's' : unit === 'hour' ? 'h' : unit === 'day' ? 'd' : unit;
  const windowMs = (m[2] ? Number(m[2]) : 1) * UNITS[unitKey]!;
  // "5/0min" would divide by nothing and silently turn the limit off.
  if (windowMs <= 0) throw new Invalid(`the window must be longer than 0 (e.g. 5/min), got "${raw}"; use "off" to disable the limit`);
  return { count: Number(m[1]), windowMs };
}

/** Threads for llama.cpp: one per core, because the library default (4) is ~400x slower on 2 cores. */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}

// ---- value schemas: each reads one environment string (blank = unset) ----

type Schema<T> = z.ZodType<T, z.ZodTypeDef, string | undefined>;

/** The environment's text, trimmed; blank counts as unset. */
const text = z.string().optional().transform((v) => (v?.trim() ? v.trim() : undefined));

/** A value parsed from text by `parse` (which throws Invalid), or `def` when unset. */
function parsed<T>(def: T | (() => T), parse: (raw: string) => T): Schema<T> {
  return text.transform((raw, ctx): T => {
    if (raw === undefined) return typeof def === 'function' ? (def as () => T)() : def;
    try {
      return parse(raw);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: err.message });
      return z.NEVER;
    }
  });
}

const string = (def: string): Schema<string> => text.transform((v) => v ?? def);
const optionalString: Schema<string | null> = text.transform((v) => v ?? null);

function wholeNumber(def: number | (() => number), min: number, max: number): Schema<number> {
  return parsed(def, (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Invalid(`expected a whole number, got "${raw}"`);
    return inRange(Number(raw), min, max);
  });
}

function number(def: number, min: number, max: number): Schema<number> {
  return parsed(def, (raw) => {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Invalid(`expected a number, got "${raw}"`);
    return inRange(n, min, max);
  });
}

function inRange(n: number, min: number, max: number): number {
  if (n < min || n > max) throw new Invalid(`must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf<const T extends readonly string[]>(values: T, def: T[number]): Schema<T[number]> {
  return parsed(def, (raw) => {
    const v = raw.toLowerCase();
    if (!(values as readonly string[]).includes(v)) throw new Invalid(`expected one of ${values.join(', ')}, got "${raw}"`);
    return v as T[number];
  });
}

const boolean = (def: boolean): Schema<boolean> => parsed(def, (raw) => {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Invalid(`expected true or false, got "${raw}"`);
});

/** A duration of at least `minMs` (e.g. a zero timeout would fail every answer). */
function duration(def: string, minMs = 0): Schema<number> {
  return parsed(durationMs(def), (raw) => {
    const ms = durationMs(raw);
    if (ms < minMs) throw new Invalid(`must be at least ${describeMs(minMs)}, got "${raw}"`);
    return ms;
  });
}

const durationOrOff = (def: number | null, minMs = 0): Schema<number | null> =>
  parsed(def, (raw) => {
    if (OFF.includes(raw.trim().toLowerCase())) return null;
    // A bare 0 meant "off" until December 2026: refused rather than silently read the other way.
    if (raw.trim() === '0') throw new Invalid('"0" is ambiguous: write off to turn it off, or a duration with its unit (e.g. 0s, 30d)');
    const ms = durationMs(raw);
    if (ms < minMs) throw new Invalid(`must be at least ${describeMs(minMs)} (or off), got "${raw}"`);
    return ms;
  });

const host = parsed('127.0.0.1', (raw) => {
  if (!/^[A-Za-z0-9.:_-]+$/.test(raw)) throw new Invalid(`"${raw}" is not a host name or address`);
  return raw;
});

const llamaGpu = parsed<'auto' | false | 'cuda' | 'vulkan' | 'metal'>('auto', (raw) => {
  const v = raw.toLowerCase();
  if (v === 'auto' || v === 'cuda' || v === 'vulkan' || v === 'metal') return v;
  if (['false', 'off', 'none', 'cpu'].includes(v)) return false;
  throw new Invalid(`expected auto, cpu, cuda, vulkan or metal, got "${raw}"`);
});

/** `auto` (null: 80% of free memory, resolved by the expert pool) or a size. */
const memoryBudget = parsed<number | null>(null, (raw) => (raw.toLowerCase() === 'auto' ? null : bytes(raw)));

const idList = parsed<string[]>([], (raw) => {
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Invalid(`"${id}" is not a user id (comma-separated ids expected)`);
  }
  return ids;
});

const httpUrl = parsed<string | null>(null, (raw) => {
  let protocol = '';
  try {
    protocol = new URL(raw).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new Invalid(`expected an http(s) URL, got "${raw}"`);
  return raw;
});

function describeMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

// ---- the settings: one line each ----

interface Setting<T> {
  env: string;
  schema: Schema<T>;
}

function setting<T>(env: string, schema: Schema<T>): Setting<T> {
  return { env, schema };
}

const SETTINGS = {
  host: setting('HOST', host),
  port: setting('PORT', wholeNumber(8000, 0, 65535)),
  dbPath: setting('DB_PATH', string('data/moe.sqlite')),
  gatePath: setting('GATE_PATH', string('models/gate.json')),
  datasetPath: setting('DATASET_PATH', string('data/dataset.csv')),
  expertsPath: setting('EXPERTS_PATH', string('models/experts.json')),
  demoModelsDir: setting('DEMO_MODELS_DIR', string('models/demo')),
  logLevel: setting('LOG_LEVEL', oneOf(LOG_LEVELS, 'info')),
  maxQueryChars: setting('MAX_QUERY_CHARS', wholeNumber(4000, 1, 1_000_000)),
  rateLimitPerUser: setting('RATE_LIMIT_PER_USER', parsed<RateLimit | null>({ count: 5, windowMs: 60_000 }, rate)),
  logQueryText: setting('LOG_QUERY_TEXT', boolean(true)),
  queryRetentionMs: setting('QUERY_RETENTION', durationOrOff(30 * 86_400_000)),
  conversationIdleMs: setting('CONVERSATION_IDLE', duration('24h', 1_000)),
  conversationMaxTurns: setting('CONVERSATION_MAX_TURNS', wholeNumber(50, 1, 100_000)),
  llamaThreads: setting('LLAMA_THREADS', wholeNumber(defaultThreads, 1, 1024)),
  llamaGpu: setting('LLAMA_GPU', llamaGpu),
  expertBatchSize: setting('EXPERT_BATCH_SIZE', wholeNumber(8, 1, 64)),
  expertQueueLimit: setting('EXPERT_QUEUE_LIMIT', wholeNumber(32, 0, 100_000)),
  expertTimeoutMs: setting('EXPERT_TIMEOUT', duration('120s', 1_000)),
  expertMemoryBudgetBytes: setting('EXPERT_MEMORY_BUDGET', memoryBudget),
  retrainIntervalMs: setting('RETRAIN_INTERVAL', durationOrOff(6 * 3_600_000, 100)), // 0 would be a busy loop of database reads
  retrainMinFeedback: setting('RETRAIN_MIN_FEEDBACK', wholeNumber(20, 0, 10_000_000)),
  retrainMargin: setting('RETRAIN_MARGIN', number(0.005, 0, 1)),
  gateReloadIntervalMs: setting('GATE_RELOAD_INTERVAL', duration('2s', 50)),
  gateKeepVersions: setting('GATE_KEEP_VERSIONS', wholeNumber(10, 0, 100_000)), // promoted gate versions kept besides the active one and its rollback target
  adminToken: setting('ADMIN_TOKEN', optionalString), // the dashboard at /admin; empty = off (404)
  /** Bearer keys /v1 accepts, comma-separated; empty = /v1 is open (with a warning at start when HOST is not loopback). */
  apiKeys: setting('API_KEYS', parsed<string[]>([], (raw) => {
    const keys = raw.split(',').map((k) => k.trim()).filter(Boolean);
    // Set but holding no key (" , "): /v1 would be silently open, the opposite of what setting it asks for.
    if (keys.length === 0 && raw.trim() !== '') throw new Invalid(`holds no key ("${raw}"); give comma-separated keys, or leave it unset for an open /v1`);
    return keys;
  })),
  discord: {
    token: setting('DISCORD_TOKEN', optionalString),
    appId: setting('DISCORD_APP_ID', optionalString),
    guildId: setting('DISCORD_GUILD_ID', optionalString),
    apiUrl: setting('DISCORD_API_URL', httpUrl),
    adminUserIds: setting('ADMIN_USER_IDS', idList),
  },
  slack: {
    botToken: setting('SLACK_BOT_TOKEN', optionalString),
    signingSecret: setting('SLACK_SIGNING_SECRET', optionalString),
    appToken: setting('SLACK_APP_TOKEN', optionalString),
    apiUrl: setting('SLACK_API_URL', httpUrl),
    port: setting('SLACK_PORT', wholeNumber(3000, 0, 65535)),
    adminUserIds: setting('SLACK_ADMIN_USER_IDS', idList),
  },
};

interface SettingsTree {
  [field: string]: Setting<unknown> | SettingsTree;
}

type ConfigOf<T> = { [K in keyof T]: T[K] extends Setting<infer V> ? V : ConfigOf<T[K]> };

/** The validated settings; the field names and groups are SETTINGS' own. */
export type Config = ConfigOf<typeof SETTINGS>;

type Env = Record<string, string | undefined>;

function isSetting(node: Setting<unknown> | SettingsTree): node is Setting<unknown> {
  return typeof node.env === 'string';
}

function leaves(tree: SettingsTree): Setting<unknown>[] {
  return Object.values(tree).flatMap((node) => (isSetting(node) ? [node] : leaves(node)));
}

function shape(tree: SettingsTree, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(tree).map(([field, node]) => [field, isSetting(node) ? values[node.env] : shape(node, values)]));
}

/** The one schema: environment variable name → its value schema. */
const envSchema = z.object(Object.fromEntries(leaves(SETTINGS).map((s) => [s.env, s.schema])));

/** Every setting's environment variable name, e.g. for checking that .env.example and README list them all. */
export function settingNames(): string[] {
  return leaves(SETTINGS).map((s) => s.env);
}

export function loadConfig(env: Env = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(String(issue.path[0]), issue.message);
  }
  return shape(SETTINGS, result.data) as Config;
}

/** Below this no expert can load (the smallest demo model needs about 25 MiB), so every answer would fail. */
export const MIN_EXPERT_MEMORY_BUDGET_BYTES = 16 * 1024 ** 2;

/**
 * Settings that parse but cannot work when the bot runs (checked by `moe start`, not by loadConfig, so tests may
 * still build a pool with a deliberately tiny budget).
 */
export function checkRunnable(config: Config): void {
  const budget = config.expertMemoryBudgetBytes;
  if (budget !== null && budget < MIN_EXPERT_MEMORY_BUDGET_BYTES) {
    throw new ConfigError('EXPERT_MEMORY_BUDGET', `${budget} bytes is too small to load any expert (at least ${MIN_EXPERT_MEMORY_BUDGET_BYTES / 1024 ** 2}MiB; set "auto" to use 80% of free memory)`);
  }
}
