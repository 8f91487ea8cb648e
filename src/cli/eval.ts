/** `moe eval --data FILE.csv [--model FILE] [--noise 0.1 --seed 1] [--json]`: routing quality on a labelled file (`--conversations`: see evalConversations.ts). */
import { loadConfig } from '../config.js';
import { addNoise, seededRandom } from '../gate/addNoise.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { formatMetrics } from '../gate/formatMetrics.js';
import { Gate } from '../gate/Gate.js';
import { loadActiveGate } from '../learning/loadActiveGate.js';
import { readLabelledCsv } from '../gate/readLabelledCsv.js';
import { TrainingDataError } from '../gate/trainGate.js';
import { CliUsageError, numberFlag, parseArgs, stringFlag } from './args.js';

export async function run(args: string[]): Promise<number> {
  if (args.some((a) => a === '--conversations' || a.startsWith('--conversations='))) return (await import('./evalConversations.js')).run(args);
  const parsed = parseArgs(args, { data: 'string', model: 'string', noise: 'string', seed: 'string', json: 'boolean' });
  const dataPath = stringFlag(parsed, 'data');
  if (!dataPath) throw new CliUsageError('eval needs --data FILE.csv (columns text,label and optionally kind)');
  if (parsed.positionals.length) throw new CliUsageError(`eval: unexpected argument "${parsed.positionals[0]}"`);
  const noise = numberFlag(parsed, 'noise', 0, 1) ?? 0;
  const seed = numberFlag(parsed, 'seed', 0, 2 ** 32 - 1) ?? 1;
  const modelPath = stringFlag(parsed, 'model');
  try {
    const rows = readLabelledCsv(dataPath);
    const gate = modelPath ? Gate.load(modelPath) : await loadActiveGate(loadConfig());
    const random = seededRandom(seed);
    const examples = noise > 0 ? rows.map((r) => ({ ...r, text: addNoise(r.text, noise, random) })) : rows;
    const m = gate.evaluate(examples);
    if (parsed.flags.has('json')) {
      const { n, accuracy, macroF1, ece, fallbackRate, byLabel, byKind, confusion } = m;
      console.log(JSON.stringify({ n, accuracy, macroF1, ece, fallbackRate, byLabel, byKind, confusion }));
    } else {
      console.log(`gate ${gate.version} on ${dataPath}${noise > 0 ? ` with noise ${noise} (seed ${seed})` : ''}`);
      console.log(formatMetrics(m));
    }
    return 0;
  } catch (err) {
    if (err instanceof DatasetError || err instanceof GateFileError || err instanceof TrainingDataError) {
      console.error(`moe eval: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
