/** `moe retrain [--json]`: retrains the gate from votes now; a running bot on the same DB_PATH picks up a promotion. */
import fs from 'node:fs';
import { loadConfig } from '../config.js';
import { RouterError } from '../core/errors.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { TrainingDataError } from '../gate/trainGate.js';
import { ActiveGate, loadActiveGate } from '../learning/ActiveGate.js';
import { createRetrainer, formatRetrainReport, type RetrainOptions } from '../learning/Retrainer.js';
import { Store } from '../store/Store.js';
import { CliUsageError, parseArgs } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { json: 'boolean' });
  if (parsed.positionals.length) throw new CliUsageError(`retrain: unexpected argument "${parsed.positionals[0]}" (usage: moe retrain [--json])`);
  const json = parsed.flags.has('json');
  const config = loadConfig();
  if (!fs.existsSync(config.dbPath)) {
    console.error(`moe retrain: no database at ${config.dbPath} (DB_PATH): there are no votes to learn from yet.`);
    return 1;
  }
  const store = Store.open(config.dbPath, { keepText: config.logQueryText });
  try {
    const activeGate = new ActiveGate(await loadActiveGate(config));
    const report = await createRetrainer({ config, store, activeGate }).retrain({ requestedBy: 'cli', onStage: json ? undefined : terminalProgress(process.stderr) });
    console.log(json ? JSON.stringify(report) : formatRetrainReport(report));
    if (report.promoted && !json) console.log(`A running bot on ${config.dbPath} switches to it within ${Math.ceil(config.gateReloadIntervalMs / 1000)} s.`);
    return 0;
  } catch (err) {
    if (err instanceof RouterError || err instanceof DatasetError || err instanceof GateFileError || err instanceof TrainingDataError) {
      console.error(`moe retrain: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    void store.close();
  }
}

/** Phase lines on a terminal ("[2/6] training on … (1.2 s)"); nothing when the stream is not a TTY (logs, pipes, CI). */
export function terminalProgress(stream: NodeJS.WriteStream): RetrainOptions['onStage'] {
  if (!stream.isTTY) return undefined;
  const started = performance.now();
  return (stage, p) => {
    if (stage === 'done') return;
    stream.write(`[${p.step}/${p.steps}] ${p.message} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  };
}
