/**
 * The expert registry (models/experts.json): which experts exist, what model each runs, how it is prompted.
 * Validated once at start; every problem is reported as `<file>: <field>: <problem>`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DOMAIN_LABELS, EXPERT_IDS, type ExpertId } from '../gate/types.js';

export class RegistryError extends Error {
  readonly code = 'registry_invalid';
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field}: ${detail}`);
    this.name = 'RegistryError';
  }
}

/**
 * `"demo"` = the generated demo model; `hf:owner/repo:quant` (or any node-llama-cpp URI); a local .gguf path; or
 * `endpoint`: a model served by an OpenAI-compatible engine (llama-server, vLLM, Ollama, another moe-router's /v1).
 */
export type ModelSource =
  | { kind: 'demo' }
  | { kind: 'uri'; uri: string }
  | { kind: 'file'; path: string }
  | EndpointSource;

export interface EndpointSource {
  kind: 'endpoint';
  /** The engine's OpenAI base URL, e.g. http://127.0.0.1:8001/v1 (no trailing slash). */
  baseUrl: string;
  /** The engine's name for the model. */
  model: string;
  /** The key from the environment variable named by apiKeyEnv, or null (no Authorization header). */
  apiKey: string | null;
  apiKeyEnv: string | null;
  /** Requests in flight at most; more wait in the expert's bounded queue (EXPERT_QUEUE_LIMIT). */
  maxConcurrent: number;
}

const endpointSchema = z
  .object({
    baseUrl: z.string().trim().refine((v) => {
      try {
        const u = new URL(v);
        // No query, fragment or credentials: the client appends paths (so they would break every request), and a
        // password would show in /healthz and /metrics; the key goes in apiKeyEnv.
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.search && !u.hash && !u.username && !u.password
          && !v.includes('?') && !v.includes('#');
      } catch {
        return false;
      }
    }, (v) => ({ message: `expected an http(s) URL like http://127.0.0.1:8001/v1 (no query, #fragment or user:password@; a key goes in apiKeyEnv), got "${v}"` })),
    model: z.string().trim().min(1),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, like VLLM_API_KEY').optional(),
    maxConcurrent: z.number().int().min(1).max(4096).default(8),
  })
  .strict();

const generationSchema = z
  .object({
    temperature: z.number().min(0).max(2).default(0.7),
    maxTokens: z.number().int().min(1).max(1_000_000).default(512),
    contextSize: z.number().int().min(256).max(131_072).default(4096),
    topP: z.number().gt(0).max(1).optional(),
    /** Tokens of earlier conversation turns the expert sees; defaults to a quarter of contextSize. */
    historyTokens: z.number().int().min(0).max(131_072).optional(),
    /** Per-expert generation timeout; defaults to EXPERT_TIMEOUT. */
    timeoutSeconds: z.number().positive().max(86_400).optional(),
  })
  .strict();

const expertSchema = z
  .object({
    id: z.enum(EXPERT_IDS),
    displayName: z.string().trim().min(1).max(80),
    legacyName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be one word like CybersecurityExpert')
      .optional(),
    description: z.string().trim().min(1).max(300),
    emoji: z.string().trim().min(1).max(16),
    model: z.string().trim().min(1).optional(),
    endpoint: endpointSchema.optional(),
    systemPrompt: z.string().trim().min(1).max(8000),
    generation: generationSchema.default({}),
  })
  .strict();

const registrySchema = z
  .object({
    $schema: z.string().optional(),
    fallback: z.enum(EXPERT_IDS),
    experts: z.array(expertSchema).min(1),
  })
  .strict();

export type ExpertGeneration = z.infer<typeof generationSchema>;

export interface ExpertEntry {
  id: ExpertId;
  displayName: string;
  legacyName: string;
  description: string;
  emoji: string;
  model: ModelSource;
  /** The model field as written, for messages. */
  modelSpec: string;
  systemPrompt: string;
  generation: ExpertGeneration;
}

export interface ExpertRegistry {
  file: string;
  fallback: ExpertId;
  experts: ExpertEntry[];
}

/** Interprets a `model` field; relative paths are relative to the registry file's folder. */
export function parseModelSource(spec: string, registryDir: string): ModelSource {
  if (spec === 'demo') return { kind: 'demo' };
  if (/^(hf|huggingface|https?):/i.test(spec)) return { kind: 'uri', uri: spec };
  return { kind: 'file', path: path.resolve(registryDir, spec) };
}

function fieldPath(issuePath: (string | number)[], raw: unknown): string {
  // Name experts by id rather than index when possible, e.g. experts[finance].generation.temperature.
  const parts: string[] = [];
  let node: unknown = raw;
  for (const key of issuePath) {
    if (typeof key === 'number') {
      const id = node && typeof node === 'object' && Array.isArray(node) ? (node[key] as { id?: unknown } | undefined)?.id : undefined;
      parts.push(typeof id === 'string' ? `[${id}]` : `[${key}]`);
    } else parts.push(parts.length ? `.${key}` : key);
    node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return parts.join('') || '(root)';
}

/** Validates parsed JSON; `file` is used in messages and to resolve relative model paths. */
/**
 * Validates parsed JSON; `file` is used in messages and to resolve relative model paths; `env` holds the variables
 * that endpoint `apiKeyEnv` fields name.
 */
export function parseRegistry(raw: unknown, file: string, env: Record<string, string | undefined> = process.env): ExpertRegistry {
  const parsed = registrySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RegistryError(file, fieldPath(issue.path, raw), issue.message);
  }
  const data = parsed.data;
  const seen = new Set<string>();
  data.experts.forEach((e, i) => {
    if (seen.has(e.id)) throw new RegistryError(file, `experts[${i}].id`, `"${e.id}" is listed twice`);
    seen.add(e.id);
  });
  if (!seen.has(data.fallback)) {
    throw new RegistryError(file, 'fallback', `"${data.fallback}" is not one of the listed experts (${[...seen].join(', ')})`);
  }
  // The gate routes to every domain: an expert missing here would fail its questions after they were logged.
  const missing = DOMAIN_LABELS.filter((d) => !seen.has(d));
  if (missing.length > 0) {
    throw new RegistryError(file, 'experts', `the gate routes to ${DOMAIN_LABELS.join(', ')}; add ${missing.map((m) => `"${m}"`).join(' and ')} (a model or an endpoint)`);
  }
  const dir = path.dirname(path.resolve(file));
  return {
    file,
    fallback: data.fallback,
    experts: data.experts.map((e) => {
      const where = `experts[${e.id}]`;
      if (e.model !== undefined && e.endpoint !== undefined) throw new RegistryError(file, where, 'has both "model" and "endpoint"; give one');
      let model: ModelSource;
      let modelSpec: string;
      if (e.endpoint !== undefined) {
        const ep = e.endpoint;
        const apiKey = ep.apiKeyEnv === undefined ? null : env[ep.apiKeyEnv]?.trim() || null;
        if (ep.apiKeyEnv !== undefined && apiKey === null) {
          throw new RegistryError(file, `${where}.endpoint.apiKeyEnv`, `the environment variable ${ep.apiKeyEnv} is not set (it should hold the engine's API key)`);
        }
        const baseUrl = ep.baseUrl.replace(/\/+$/, '');
        model = { kind: 'endpoint', baseUrl, model: ep.model, apiKey, apiKeyEnv: ep.apiKeyEnv ?? null, maxConcurrent: ep.maxConcurrent };
        modelSpec = `${ep.model} @ ${baseUrl}`;
      } else if (e.model !== undefined) {
        model = parseModelSource(e.model, dir);
        modelSpec = e.model;
      } else {
        throw new RegistryError(file, where, 'needs "model" (demo, hf:..., or a .gguf path) or "endpoint" ({ "baseUrl", "model" })');
      }
      return {
        id: e.id,
        displayName: e.displayName,
        legacyName: e.legacyName ?? e.displayName.replace(/[^A-Za-z0-9]/g, ''),
        description: e.description,
        emoji: e.emoji,
        model,
        modelSpec,
        systemPrompt: e.systemPrompt,
        generation: e.generation,
      };
    }),
  };
}

/** Reads and validates the registry file; a missing file or bad JSON is a RegistryError too. */
export async function loadRegistry(file: string): Promise<ExpertRegistry> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RegistryError(file, '(file)', code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, '')); // editors on Windows save a BOM, which JSON.parse refuses
  } catch (err) {
    throw new RegistryError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
  }
  return parseRegistry(raw, file);
}
