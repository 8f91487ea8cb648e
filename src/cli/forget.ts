/** `moe forget --user ID`: deletes a user's question and answer text, their id in the log, and their votes. */
import fs from 'node:fs';
import { loadConfig } from '../config.js';
import { Store } from '../store/Store.js';
import { CliUsageError, parseArgs, stringFlag } from './args.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { user: 'string' });
  const userId = stringFlag(parsed, 'user');
  if (!userId || parsed.positionals.length > 0) throw new CliUsageError('usage: moe forget --user ID');
  const config = loadConfig();
  if (!fs.existsSync(config.dbPath)) {
    console.log(`No database at ${config.dbPath}: nothing stored, nothing to forget.`);
    return 0;
  }
  const store = Store.open(config.dbPath, { keepText: config.logQueryText });
  try {
    const removed = store.forgetUser(userId);
    console.log(`Forgot user ${userId}: removed text and user id from ${removed.decisions} decision(s) and deleted ${removed.votes} vote(s).`);
    if (removed.decisions === 0 && removed.votes === 0) console.log('(Nothing was stored for this user id; ids are platform user ids, e.g. a Discord or Slack user id.)');
    return 0;
  } finally {
    store.close();
  }
}
