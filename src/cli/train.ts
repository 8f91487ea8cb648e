/**
 * `moe train [--data data/dataset.csv] [--out models/gate.json] [--classifier complement-nb|nb-lr] [--no-promote]`: trains the
 * gate, prints held-out metrics, saves it, and records it as the active version in DB_PATH when there is one (publishTrainedGate).
 */
import fs from 'node:fs';
import { loadConfig } from '../config.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { formatMetrics } from '../gate/formatMetrics.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { trainGate, TrainingDataError } from '../gate/trainGate.js';
import { isGateModelKind } from '../gate/Gate.js';
import { RouterError } from '../core/errors.js';
import { publishTrainedGate } from '../learning/publishTrainedGate.js';
import { CliUsageError, parseArgs, stringFlag } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { data: 'string', out: 'string', classifier: 'string', 'no-promote': 'boolean' });
  if (parsed.positionals.length) {
    console.error(`moe train: unexpected argument "${parsed.positionals[0]}" (usage: moe train [--data FILE.csv] [--out FILE.json] [--classifier complement-nb|nb-lr] [--no-promote])`);
    return 2;
  }
  const config = loadConfig();
  const dataPath = stringFlag(parsed, 'data') ?? config.datasetPath;
  const outPath = stringFlag(parsed, 'out') ?? config.gatePath;
  const classifier = stringFlag(parsed, 'classifier');
  if (classifier !== undefined && !isGateModelKind(classifier)) throw new CliUsageError(`--classifier must be complement-nb or nb-lr, got "${classifier}"`);
  if (isDirectory(outPath)) throw new CliUsageError(`--out ${outPath} is a directory; give the gate file's path, e.g. ${outPath.replace(/\/+$/, '')}/gate.json`);
  const staged = `${outPath}.${process.pid}.staged`;
  try {
    // Phase lines on a terminal only: a pipe or a log gets the same output as before.
    const progress = process.stderr.isTTY ? (line: string): void => void process.stderr.write(`${line}\n`) : null;
    progress?.(`reading ${dataPath}…`);
    const rows = readLabelledCsv(dataPath);
    progress?.(`training the gate on ${rows.length.toLocaleString('en')} rows…`);
    const { gate, metrics } = trainGate(rows, { model: classifier, onPhase: progress ? (phase, s) => progress(`  ${phase.padEnd(10)} ${s.toFixed(2)} s`) : undefined });
    if (metrics.heldOut) {
      console.log(`held-out metrics (${metrics.testRows} rows never used for fitting or calibration):`);
      console.log(formatMetrics(metrics.heldOut));
      console.log('');
    }
    console.log(`temperature ${metrics.temperature.toFixed(3)}   fallback below ${metrics.fallbackThreshold.toFixed(2)} or none ≥ ${metrics.noneThreshold.toFixed(2)}   features ${metrics.featureCount}   trained in ${metrics.trainSeconds.toFixed(2)} s`);
    // Written before it is recorded, so a gate that cannot be saved is not made active either; moved to --out after,
    // since recording may first read the gate at GATE_PATH, which --out may name.
    gate.save(staged);
    const published = publishTrainedGate(config, gate, { promote: !parsed.flags.has('no-promote'), dataPath });
    fs.renameSync(staged, outPath);
    console.log(`wrote ${outPath} (gate ${gate.version}, ${rows.length} rows from ${dataPath})`);
    console.log(published.message);
    return 0;
  } catch (err) {
    if (err instanceof DatasetError || err instanceof GateFileError || err instanceof TrainingDataError || err instanceof RouterError) {
      console.error(`moe train: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    fs.rmSync(staged, { force: true }); // left only when something failed before the move
  }
}

/** True only for an existing directory; any other problem with the path shows when the gate is written. */
function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}
