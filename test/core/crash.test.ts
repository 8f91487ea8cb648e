/** A crash between "pending" and "answered" leaves a row that the next start-up marks failed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Store } from '../../src/store/Store.js';
import { createTestAppAt, REPO_ROOT } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

test('killing the process mid-answer leaves a pending decision; start-up marks it failed', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/core/fixtures/askThenHang.ts'), tmp.dir], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const decisionId = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PENDING (\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before answering: ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;

  const inspect = Store.open(path.join(tmp.dir, 'moe.sqlite'), { keepText: true });
  const orphan = inspect.getDecision(decisionId)!;
  inspect.close();
  assert.equal(orphan.status, 'pending', 'the crash left a record, not a silent loss');
  assert.equal(orphan.query, 'how do I spot a phishing email');

  const app = await createTestAppAt(tmp.dir);
  t.after(() => app.close());
  const row = app.store.getDecision(decisionId)!;
  assert.equal(row.status, 'failed');
  assert.match(row.error ?? '', /interrupted/);
  assert.equal(app.store.stats().byStatus.pending, 0);
});
