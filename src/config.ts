/**
 * Every setting of moe-router, read from the environment (and `.env` via dotenv), validated once at start.
 * A wrong value throws ConfigError naming the setting; entry points print its one line and exit 1.
 */
import os from 'node:os';

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

export interface Config {
  host: string;
  port: number;
  dbPath: string;
  gatePath: string;
  datasetPath: string;
  expertsPath: string;
  demoModelsDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxQueryChars: number;
  rateLimitPerUser: RateLimit | null;
  logQueryText: boolean;
  queryRetentionMs: number | null;
  llamaThreads: number;
  llamaGpu: 'auto' | false | 'cuda' | 'vulkan' | 'metal';
  expertBatchSize: number;
  expertQueueLimit: number;
  expertTimeoutMs: number;
  expertMemoryBudgetBytes: number | null;
  retrainIntervalMs: number | null;
  retrainMinFeedback: number;
  retrainMargin: number;
  gateReloadIntervalMs: number;
  discord: {
    token: string | null;
    appId: string | null;
    guildId: string | null;
    apiUrl: string | null;
    adminUserIds: string[];
  };
  slack: {
    botToken: string | null;
    signingSecret: string | null;
    appToken: string | null;
    apiUrl: string | null;
    port: number;
    adminUserIds: string[];
  };
}

type Env = Record<string, string | undefined>;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `5m`, `6h`, `30d` (a bare number means seconds). */
export function parseDuration(setting: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(setting, `expected a duration like 30s, 5m, 6h or 30d, got "${raw}"`);
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!);
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

export function parseBytes(setting: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(setting, `expected a size like 512MB or 8GiB, got "${raw}"`);
  return Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

function str(env: Env, key: string, def: string): string {
  const v = env[key]?.trim();
  return v ? v : def;
}

function optional(env: Env, key: string): string | null {
  const v = env[key]?.trim();
  return v ? v : null;
}

function int(env: Env, key: string, def: number, min: number, max: number): number {
  const raw = env[key]?.trim();
  if (!raw) return def;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(key, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function num(env: Env, key: string, def: number, min: number, max: number): number {
  const raw = env[key]?.trim();
  if (!raw) return def;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ConfigError(key, `expected a number, got "${raw}"`);
  if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, key: string, def: boolean): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (!raw) return def;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(key, `expected true or false, got "${env[key]}"`);
}

function durationOrOff(env: Env, key: string, def: number | null): number | null {
  const raw = env[key]?.trim();
  if (!raw) return def;
  if (['off', 'never', 'none', '0', 'false'].includes(raw.toLowerCase())) return null;
  return parseDuration(key, raw);
}

function idList(env: Env, key: string): string[] {
  const raw = env[key]?.trim();
  if (!raw) return [];
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new ConfigError(key, `"${id}" is not a user id (comma-separated ids expected)`);
  }
  return ids;
}

function url(env: Env, key: string): string | null {
  const raw = optional(env, key);
  if (raw === null) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new ConfigError(key, `expected an http(s) URL, got "${raw}"`);
  }
  return raw;
}

/** `5/min`, `10/1m`, `100/h`; `off` disables the limit. */
export function parseRateLimit(setting: string, raw: string): RateLimit | null {
  if (['off', 'none', '0'].includes(raw.trim().toLowerCase())) return null;
  const m = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|sec|m|min|h|hour|d|day)\s*$/i.exec(raw);
  if (!m || Number(m[1]) < 1) throw new ConfigError(setting, `expected a rate like 5/min or 100/h, got "${raw}"`);
  const unit = m[3]!.toLowerCase();
  const unitKey = unit === 'sec' ? 's' : unit === 'hour' ? 'h' : unit === 'day' ? 'd' : unit;
  const windowMs = (m[2] ? Number(m[2]) : 1) * UNITS[unitKey]!;
  return { count: Number(m[1]), windowMs };
}

/** Threads for llama.cpp: one per core, because the library default (4) is ~400x slower on 2 cores. */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }
  const gpuRaw = str(env, 'LLAMA_GPU', 'auto').toLowerCase();
  let llamaGpu: Config['llamaGpu'];
  if (gpuRaw === 'auto' || gpuRaw === 'cuda' || gpuRaw === 'vulkan' || gpuRaw === 'metal') llamaGpu = gpuRaw;
  else if (['false', 'off', 'none', 'cpu'].includes(gpuRaw)) llamaGpu = false;
  else throw new ConfigError('LLAMA_GPU', `expected auto, cpu, cuda, vulkan or metal, got "${env.LLAMA_GPU}"`);

  const budgetRaw = optional(env, 'EXPERT_MEMORY_BUDGET');
  const host = str(env, 'HOST', '127.0.0.1');
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw new ConfigError('HOST', `"${host}" is not a host name or address`);
  const rate = optional(env, 'RATE_LIMIT_PER_USER');

  return {
    host,
    port: int(env, 'PORT', 8000, 0, 65535),
    dbPath: str(env, 'DB_PATH', 'data/moe.sqlite'),
    gatePath: str(env, 'GATE_PATH', 'models/gate.json'),
    datasetPath: str(env, 'DATASET_PATH', 'data/dataset.csv'),
    expertsPath: str(env, 'EXPERTS_PATH', 'models/experts.json'),
    demoModelsDir: str(env, 'DEMO_MODELS_DIR', 'models/demo'),
    logLevel: logLevel as Config['logLevel'],
    maxQueryChars: int(env, 'MAX_QUERY_CHARS', 4000, 1, 1_000_000),
    rateLimitPerUser: rate === null ? { count: 5, windowMs: 60_000 } : parseRateLimit('RATE_LIMIT_PER_USER', rate),
    logQueryText: bool(env, 'LOG_QUERY_TEXT', true),
    queryRetentionMs: durationOrOff(env, 'QUERY_RETENTION', 30 * 86_400_000),
    llamaThreads: int(env, 'LLAMA_THREADS', defaultThreads(), 1, 1024),
    llamaGpu,
    expertBatchSize: int(env, 'EXPERT_BATCH_SIZE', 8, 1, 64),
    expertQueueLimit: int(env, 'EXPERT_QUEUE_LIMIT', 32, 0, 100_000),
    expertTimeoutMs: parseDuration('EXPERT_TIMEOUT', str(env, 'EXPERT_TIMEOUT', '120s')),
    expertMemoryBudgetBytes: budgetRaw === null || budgetRaw.toLowerCase() === 'auto' ? null : parseBytes('EXPERT_MEMORY_BUDGET', budgetRaw),
    retrainIntervalMs: durationOrOff(env, 'RETRAIN_INTERVAL', 6 * 3_600_000),
    retrainMinFeedback: int(env, 'RETRAIN_MIN_FEEDBACK', 20, 0, 10_000_000),
    retrainMargin: num(env, 'RETRAIN_MARGIN', 0.005, 0, 1),
    gateReloadIntervalMs: parseDuration('GATE_RELOAD_INTERVAL', str(env, 'GATE_RELOAD_INTERVAL', '2s')),
    discord: {
      token: optional(env, 'DISCORD_TOKEN'),
      appId: optional(env, 'DISCORD_APP_ID'),
      guildId: optional(env, 'DISCORD_GUILD_ID'),
      apiUrl: url(env, 'DISCORD_API_URL'),
      adminUserIds: idList(env, 'ADMIN_USER_IDS'),
    },
    slack: {
      botToken: optional(env, 'SLACK_BOT_TOKEN'),
      signingSecret: optional(env, 'SLACK_SIGNING_SECRET'),
      appToken: optional(env, 'SLACK_APP_TOKEN'),
      apiUrl: url(env, 'SLACK_API_URL'),
      port: int(env, 'SLACK_PORT', 3000, 0, 65535),
      adminUserIds: idList(env, 'SLACK_ADMIN_USER_IDS'),
    },
  };
}
