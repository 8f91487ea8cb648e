/** `moe train [--data data/dataset.csv] [--out models/gate.json]`: trains the gate, prints held-out metrics, saves it. */
import { loadConfig } from '../config.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { formatMetrics } from '../gate/formatMetrics.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { trainGate, TrainingDataError } from '../gate/trainGate.js';
import { parseArgs, stringFlag } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { data: 'string', out: 'string' });
  if (parsed.positionals.length) {
    console.error(`moe train: unexpected argument "${parsed.positionals[0]}" (usage: moe train [--data FILE.csv] [--out FILE.json])`);
    return 2;
  }
  const config = loadConfig();
  const dataPath = stringFlag(parsed, 'data') ?? config.datasetPath;
  const outPath = stringFlag(parsed, 'out') ?? config.gatePath;
  try {
    const rows = readLabelledCsv(dataPath);
    const { gate, metrics } = trainGate(rows);
    if (metrics.heldOut) {
      console.log(`held-out metrics (${metrics.testRows} rows never used for fitting or calibration):`);
      console.log(formatMetrics(metrics.heldOut));
      console.log('');
    }
    console.log(`temperature ${metrics.temperature.toFixed(3)}   fallback below ${metrics.fallbackThreshold.toFixed(2)} or none ≥ ${metrics.noneThreshold.toFixed(2)}   features ${metrics.featureCount}   trained in ${metrics.trainSeconds.toFixed(2)} s`);
    gate.save(outPath);
    console.log(`wrote ${outPath} (gate ${gate.version}, ${rows.length} rows from ${dataPath})`);
    return 0;
  } catch (err) {
    if (err instanceof DatasetError || err instanceof GateFileError || err instanceof TrainingDataError) {
      console.error(`moe train: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
