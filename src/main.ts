/** `npm start`: runs the bot's main job. */
import { run } from './cli/start.js';

run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
