/**
 * Runs one retraining in a child process and stops at the 'saving' stage, leaving half a gate file behind as a killed
 * writer would; the parent test then kills this process (SIGKILL) to check a crash mid-retrain changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { ActiveGate, loadActiveGate } from '../../src/learning/ActiveGate.js';
import { gatesDir } from '../../src/learning/GateFiles.js';
import { createRetrainer } from '../../src/learning/Retrainer.js';
import { Store } from '../../src/store/Store.js';

const config = loadConfig();
const store = Store.open(config.dbPath, { keepText: true });
const activeGate = new ActiveGate(await loadActiveGate(config));
setInterval(() => undefined, 60_000); // stay alive until killed
await createRetrainer({ config, store, activeGate }).retrain({
  requestedBy: 'child',
  onStage: async (stage) => {
    if (stage !== 'saving') return;
    const dir = gatesDir(config);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `g-partial.json.${process.pid}.x1.tmp`), '{"format":"moe-gate","formatVersion":1,"vocab');
    process.stdout.write('saving\n');
    await new Promise(() => undefined);
  },
});
