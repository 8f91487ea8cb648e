/**
 * `moe eval --conversations FILE.jsonl [--model FILE] [--held-out] [--json]`: the follow-up rule against the gate alone
 * and against always keeping the first expert, on labelled conversations.
 */
import { loadConfig } from '../config.js';
import { evaluateFollowUps, formatConversationEval, routeTurns } from '../core/evaluateFollowUps.js';
import { isHeldOut, readConversations } from '../core/readConversations.js';
import { DEFAULT_FOLLOW_UP_PARAMS } from '../core/routeFollowUp.js';
import { DatasetError, GateFileError } from '../gate/errors.js';
import { Gate } from '../gate/Gate.js';
import { loadActiveGate } from '../learning/ActiveGate.js';
import { CliUsageError, parseArgs, stringFlag } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { conversations: 'string', model: 'string', 'held-out': 'boolean', json: 'boolean' });
  const file = stringFlag(parsed, 'conversations');
  if (!file) throw new CliUsageError('eval needs --conversations FILE.jsonl (one {"id","turns":[{"text","expert"}]} a line)');
  if (parsed.positionals.length) throw new CliUsageError(`eval: unexpected argument "${parsed.positionals[0]}"`);
  const modelPath = stringFlag(parsed, 'model');
  const heldOutOnly = parsed.flags.has('held-out');
  try {
    const all = readConversations(file);
    const conversations = heldOutOnly ? all.filter((c) => isHeldOut(c.id)) : all;
    const gate = modelPath ? Gate.load(modelPath) : await loadActiveGate(loadConfig());
    const result = evaluateFollowUps(routeTurns(gate, conversations), DEFAULT_FOLLOW_UP_PARAMS);
    if (parsed.flags.has('json')) {
      console.log(JSON.stringify({ gateVersion: gate.version, split: heldOutOnly ? 'held-out' : 'all', ...result }));
    } else {
      console.log(`gate ${gate.version} on ${file}${heldOutOnly ? ' (held-out part)' : ''}`);
      console.log(formatConversationEval(result));
    }
    return 0;
  } catch (err) {
    if (err instanceof DatasetError || err instanceof GateFileError) {
      console.error(`moe eval: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
