/** `moe route "question" [--model FILE]`: prints the gate's RouteDecision as JSON. */
import { loadConfig } from '../config.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { Gate } from '../gate/Gate.js';
import { loadActiveGate } from '../learning/ActiveGate.js';
import { TrainingDataError } from '../gate/trainGate.js';
import { CliUsageError, parseArgs, stringFlag } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { model: 'string' });
  const question = parsed.positionals.join(' ').trim();
  if (!question) throw new CliUsageError('route needs a question, e.g. moe route "is my password safe?"');
  const modelPath = stringFlag(parsed, 'model');
  try {
    const gate = modelPath ? Gate.load(modelPath) : await loadActiveGate(loadConfig());
    console.log(JSON.stringify(gate.route(question), null, 2));
    return 0;
  } catch (err) {
    if (err instanceof DatasetError || err instanceof GateFileError || err instanceof TrainingDataError) {
      console.error(`moe route: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
