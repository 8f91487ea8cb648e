/** `moe gate list [--json]` and `moe gate rollback [version]`: gate versions recorded by retraining. */
import fs from 'node:fs';
import { loadConfig } from '../config.js';
import { RouterError } from '../core/errors.js';
import { GateFileError } from '../gate/errors.js';
import { listGateVersions } from '../learning/listGateVersions.js';
import { rollbackGate } from '../learning/rollbackGate.js';
import type { GateVersionRow } from '../store/GateVersions.js';
import { Store } from '../store/Store.js';
import { CliUsageError, parseArgs } from './args.js';

const USAGE = 'usage: moe gate list [--json] | moe gate rollback [version]';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { json: 'boolean' });
  const [sub, ...rest] = parsed.positionals;
  if (sub !== 'list' && sub !== 'rollback') throw new CliUsageError(sub ? `gate: unknown subcommand "${sub}" (${USAGE})` : USAGE);
  if (rest.length > (sub === 'rollback' ? 1 : 0)) throw new CliUsageError(`gate ${sub}: unexpected argument "${rest[sub === 'rollback' ? 1 : 0]}" (${USAGE})`);
  const config = loadConfig();
  const store = fs.existsSync(config.dbPath) ? Store.open(config.dbPath, { keepText: config.logQueryText }) : null;
  try {
    if (sub === 'list') {
      const rows = listGateVersions(store, config);
      if (parsed.flags.has('json')) console.log(JSON.stringify(rows));
      else console.log(formatGateList(rows, config.gatePath));
      return 0;
    }
    if (!store) {
      console.error(`moe gate rollback: no database at ${config.dbPath} (DB_PATH): no gate versions recorded yet; the bot routes with ${config.gatePath}.`);
      return 1;
    }
    const { from, to } = rollbackGate(store, rest[0]);
    console.log(`Rolled back: the active gate is now ${to} (was ${from ?? 'none'}).`);
    console.log(`A running bot on ${config.dbPath} switches to it within ${Math.ceil(config.gateReloadIntervalMs / 1000)} s.`);
    return 0;
  } catch (err) {
    if (err instanceof RouterError || err instanceof GateFileError) {
      console.error(`moe gate ${sub}: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    void store?.close();
  }
}

function pct(x: unknown): string {
  return typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '-';
}

/** Newest first; `*` marks the active version. */
export function formatGateList(rows: readonly GateVersionRow[], gatePath: string): string {
  if (rows.length === 0) return `No gate yet: the bot trains one from DATASET_PATH into ${gatePath} when it first starts.`;
  const table = [['', 'version', 'created (UTC)', 'promoted', 'examples', 'from votes', 'held-out acc', 'baseline acc']];
  for (const r of rows) {
    table.push([
      r.active ? '*' : '', r.version, new Date(r.createdAt).toISOString().slice(0, 16).replace('T', ' '), r.promoted ? 'yes' : 'no',
      String(r.examples), String(r.feedbackExamples), pct(r.metrics.heldOutAccuracy), pct(r.metrics.baselineAccuracy),
    ]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  const reasons = rows.filter((r) => r.reason).map((r) => `  ${r.version}: ${r.reason}`);
  return [...lines, '', 'why:', ...reasons].join('\n');
}
