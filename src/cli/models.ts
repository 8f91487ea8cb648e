/**
 * `moe models list [--registry FILE] [--json]`: the expert registry and each model's status.
 * `moe models pull [--registry FILE] [--endpoint URL]`: downloads every hf: model of the registry, with a progress bar.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { demoModelPath, downloadsDir, readDownloadsManifest } from '../experts/createExpertPool.js';
import { inspectModelFile } from '../experts/inspectModelFile.js';
import { OfflineError, pullModels, remoteModelUris } from '../experts/pullModels.js';
import { loadRegistry, RegistryError, type EndpointSource, type ExpertEntry, type ExpertRegistry } from '../experts/registry.js';
import { checkEndpoint } from '../experts/RemoteExpert.js';
import { parseArgs, stringFlag } from './args.js';

const USAGE = 'usage: moe models list [--registry FILE] [--json] | moe models pull [--registry FILE] [--endpoint URL]';

interface ModelRow {
  id: string;
  emoji: string;
  displayName: string;
  model: string;
  file: string | null;
  status: 'ready' | 'demo, generated on first use' | 'not downloaded' | 'missing' | 'invalid' | 'endpoint up' | 'endpoint down';
  sizeBytes: number | null;
  detail: string | null;
}

async function describe(config: Config, registry: ExpertRegistry, entry: ExpertEntry): Promise<ModelRow> {
  const base = { id: entry.id, emoji: entry.emoji, displayName: entry.displayName, model: entry.modelSpec };
  let file: string;
  if (entry.model.kind === 'endpoint') return describeEndpoint(base, entry.model);
  if (entry.model.kind === 'demo') file = demoModelPath(config, entry.id);
  else if (entry.model.kind === 'file') file = entry.model.path;
  else {
    const name = (await readDownloadsManifest(registry.file))[entry.model.uri];
    if (!name) return { ...base, file: null, status: 'not downloaded', sizeBytes: null, detail: 'run: npx moe models pull' };
    file = path.join(downloadsDir(registry.file), name);
  }
  const size = await stat(file).then((s) => s.size, () => null);
  if (size === null) {
    const status = entry.model.kind === 'demo' ? 'demo, generated on first use' : 'missing';
    return { ...base, file, status, sizeBytes: null, detail: null };
  }
  try {
    await inspectModelFile(file);
    return { ...base, file, status: 'ready', sizeBytes: size, detail: entry.model.kind === 'demo' ? 'demo model' : null };
  } catch (err) {
    return { ...base, file, status: 'invalid', sizeBytes: size, detail: (err as Error).message };
  }
}

async function describeEndpoint(base: Pick<ModelRow, 'id' | 'emoji' | 'displayName' | 'model'>, endpoint: EndpointSource): Promise<ModelRow> {
  const check = await checkEndpoint(endpoint);
  if (!check.up) return { ...base, file: null, status: 'endpoint down', sizeBytes: null, detail: check.reason };
  const detail = check.modelListed ? null : `its /models list does not name "${endpoint.model}"`;
  return { ...base, file: null, status: 'endpoint up', sizeBytes: null, detail };
}

function formatSize(bytes: number | null): string {
  if (bytes === null) return '';
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

async function list(config: Config, registry: ExpertRegistry, json: boolean): Promise<number> {
  const rows = await Promise.all(registry.experts.map((e) => describe(config, registry, e)));
  if (json) {
    console.log(JSON.stringify({ registry: registry.file, fallback: registry.fallback, experts: rows }, null, 2));
    return 0;
  }
  console.log(`experts in ${registry.file} (fallback: ${registry.fallback})`);
  for (const r of rows) {
    const extra = [formatSize(r.sizeBytes), r.detail].filter(Boolean).join(', ');
    console.log(`  ${r.emoji} ${r.id.padEnd(13)} ${r.displayName.padEnd(22)} ${r.model.padEnd(28)} ${r.status}${extra ? ` (${extra})` : ''}`);
  }
  return 0;
}

async function pull(registry: ExpertRegistry, endpoint: string | undefined): Promise<number> {
  const uris = remoteModelUris(registry);
  if (uris.length === 0) {
    console.log(`nothing to download: ${registry.file} lists no hf: models (demo models are generated locally)`);
    return 0;
  }
  console.log(`downloading ${uris.length} model(s) into ${downloadsDir(registry.file)}:`);
  for (const uri of uris) console.log(`  ${uri}`);
  try {
    const pulled = await pullModels(registry, { showCliProgress: process.stdout.isTTY, ...(endpoint ? { endpoint } : {}) });
    for (const p of pulled) console.log(`ready: ${p.uri} -> ${p.file}`);
    return 0;
  } catch (err) {
    if (err instanceof OfflineError) {
      console.error(`moe models pull: ${err.message}`);
      return 1;
    }
    console.error(`moe models pull: download failed: ${(err as Error).message.split('\n')[0]}`);
    return 1;
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { registry: 'string', json: 'boolean', endpoint: 'string' });
  const [sub, extra] = parsed.positionals;
  if ((sub !== 'list' && sub !== 'pull') || extra !== undefined) {
    console.error(`moe models: ${sub === undefined ? 'missing subcommand' : `unknown subcommand "${[sub, extra].filter(Boolean).join(' ')}"`}\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  let registry: ExpertRegistry;
  try {
    registry = await loadRegistry(stringFlag(parsed, 'registry') ?? config.expertsPath);
  } catch (err) {
    if (err instanceof RegistryError) {
      console.error(`moe models: invalid registry: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (sub === 'list') return list(config, registry, parsed.flags.has('json'));
  return pull(registry, stringFlag(parsed, 'endpoint'));
}
