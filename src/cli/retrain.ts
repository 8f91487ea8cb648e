/** `moe retrain [--json]`: retrains the gate from votes now; a running bot on the same DB_PATH picks up a promotion. */
import fs from 'node:fs';
import { loadConfig } from '../config.js';
import { ActiveGate } from '../learning/ActiveGate.js';
import { RouterError } from '../core/errors.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { loadActiveGate } from '../learning/loadActiveGate.js';
import { TrainingDataError } from '../gate/trainGate.js';
import { createRetrainer, formatRetrainReport } from '../learning/Retrainer.js';
import { Store } from '../store/Store.js';
import { CliUsageError, parseArgs } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { json: 'boolean' });
  if (parsed.positionals.length) throw new CliUsageError(`retrain: unexpected argument "${parsed.positionals[0]}" (usage: moe retrain [--json])`);
  const config = loadConfig();
  if (!fs.existsSync(config.dbPath)) {
    console.error(`moe retrain: no database at ${config.dbPath} (DB_PATH): there are no votes to learn from yet.`);
    return 1;
  }
  const store = Store.open(config.dbPath, { keepText: config.logQueryText });
  try {
    const activeGate = new ActiveGate(await loadActiveGate(config));
    const report = await createRetrainer({ config, store, activeGate }).retrain({ requestedBy: 'cli' });
    console.log(parsed.flags.has('json') ? JSON.stringify(report) : formatRetrainReport(report));
    if (report.promoted && !parsed.flags.has('json')) console.log(`A running bot on ${config.dbPath} switches to it within ${Math.ceil(config.gateReloadIntervalMs / 1000)} s.`);
    return 0;
  } catch (err) {
    if (err instanceof RouterError || err instanceof DatasetError || err instanceof GateFileError || err instanceof TrainingDataError) {
      console.error(`moe retrain: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    store.close();
  }
}
