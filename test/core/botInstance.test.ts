/** Who owns a database: a running bot keeps it; a dead or silent one is replaced. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Store } from '../../src/store/Store.js';
import { claimBotInstance, InstanceRunningError } from '../../src/core/BotInstance.js';
import { makeTempDir } from '../support/tempDir.js';

function open(t: import('node:test').TestContext): { store: Store; file: string } {
  const tmp = makeTempDir();
  const file = path.join(tmp.dir, 'moe.sqlite');
  const store = Store.open(file, { keepText: true });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  return { store, file };
}

const holder = (pid: number, heartbeatAt: number) => ({ instanceId: `other-${pid}`, pid, host: os.hostname(), startedAt: heartbeatAt, heartbeatAt });

test('a running holder (this process, fresh heartbeat) keeps the database; release() hands it over', (t) => {
  const { store, file } = open(t);
  const mine = claimBotInstance(store, file);
  assert.throws(() => claimBotInstance(store, file), (err: unknown) => err instanceof InstanceRunningError && err.holder.pid === process.pid);
  mine.release();
  claimBotInstance(store, file).release();
});

test('a holder whose process is gone, or whose heartbeat stopped, is replaced', (t) => {
  const { store, file } = open(t);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited by now
  assert.equal(store.claimInstance(holder(dead, Date.now()), () => false), null);
  claimBotInstance(store, file).release();
  assert.equal(store.claimInstance(holder(process.pid, Date.now() - 120_000), () => false), null);
  claimBotInstance(store, file, { staleMs: 60_000 }).release();
});
