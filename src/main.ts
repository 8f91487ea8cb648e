/** `npm start`: runs the bot (same as `npx moe start`). */
import { loadEnvFile } from './env.js';
import { run } from './cli/start.js';

loadEnvFile();
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`moe: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
