#!/usr/bin/env node
/**
 * The `moe` command. Each subcommand lives in src/cli/<name>.ts and exports `run(args): Promise<number>`.
 */
import { loadEnvFile } from './env.js';
import { ConfigError } from './config.js';
import { CliUsageError } from './cli/args.js';

interface CommandModule {
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  train: { summary: 'train the gate: [--data data/dataset.csv] [--out models/gate.json] [--classifier complement-nb|nb-lr] [--no-promote]', load: () => import('./cli/train.js') },
  eval: { summary: 'evaluate the gate: --data FILE.csv [--model FILE] [--noise 0.1 --seed 1] [--json] | --conversations FILE.jsonl [--held-out] [--json]', load: () => import('./cli/eval.js') },
  route: { summary: 'route one question and print the decision as JSON: "question" [--model FILE]', load: () => import('./cli/route.js') },
  retrain: { summary: 'retrain the gate from feedback now and promote it if it is not worse', load: () => import('./cli/retrain.js') },
  gate: { summary: 'gate versions: list | rollback [version]', load: () => import('./cli/gate.js') },
  forget: { summary: 'delete a user\'s questions and votes: --user ID', load: () => import('./cli/forget.js') },
  models: { summary: 'expert models: pull (download every hf: model of the registry) | list', load: () => import('./cli/models.js') },
  start: { summary: 'run the bot (HTTP API, and Discord/Slack when configured); same as npm start', load: () => import('./cli/start.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return ['usage: moe <command> [options]', '', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`moe: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  loadEnvFile();
  const mod = await command.load();
  return mod.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliUsageError) {
      console.error(`moe: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof ConfigError) {
      console.error(`moe: configuration error: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(`moe: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  },
);
