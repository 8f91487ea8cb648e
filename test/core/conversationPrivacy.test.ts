/** Conversations and privacy: no text anywhere in the database with LOG_QUERY_TEXT=false; forget and retention remove turns. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { RouterObserver } from '../../src/core/Router.js';
import { createTestApp, type TestApp } from '../support/testApp.js';
import { Store } from '../../src/store/Store.js';

/** Every text cell of every table, joined (the whole database as a string). */
function dumpDatabase(db: import('better-sqlite3').Database): string {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
  return tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all())).join('\n');
}

test('LOG_QUERY_TEXT=false: a conversation keeps its history in memory only, and the database holds no text of it', async (t) => {
  const app = await createTestApp({ LOG_QUERY_TEXT: 'false' }, { maxTokens: 12 });
  t.after(() => app.dispose());
  const prompt = new Map<string, number>();
  const observer: RouterObserver = { onAnswered: (r, meta) => void prompt.set(r.decisionId, meta.promptTokens) };
  app.router.observe(observer);
  const first = await app.router.ask('my knee keeps swelling after running', { platform: 'slack', userId: 'u1', conversationKey: 'slack:C1:1.0' });
  const second = await app.router.ask('should i ice it or use heat', { platform: 'slack', userId: 'u1', conversationKey: 'slack:C1:1.0' });
  assert.equal(second.conversation?.followUp, true);
  assert.ok(prompt.get(second.decisionId)! > prompt.get(first.decisionId)! + 10, 'the history still reaches the expert, from memory');
  const dump = dumpDatabase(app.store.db);
  for (const word of ['swelling', 'heat', first.response.slice(0, 20), second.response.slice(0, 20)]) {
    assert.ok(!dump.includes(word), `"${word}" is nowhere in the database`);
  }
});

/**
 * alice and bob ask in one conversation, `forget` removes both, then carol asks on: the conversation goes on, and the
 * expert's prompt no longer holds their turns. Returns the app for more checks.
 */
async function askForgetAskOn(t: TestContext, env: Record<string, string>, key: string, forget: (app: TestApp) => Promise<void> | void): Promise<{ app: TestApp; forgotten: string[] }> {
  const app = await createTestApp(env, { maxTokens: 12 });
  t.after(() => app.dispose());
  const prompt = new Map<string, number>();
  app.router.observe({ onAnswered: (r, meta) => void prompt.set(r.decisionId, meta.promptTokens) });
  const first = await app.router.ask('my knee keeps swelling after running', { platform: 'slack', userId: 'alice', conversationKey: key });
  const withHistory = await app.router.ask('should i ice it or use heat', { platform: 'slack', userId: 'bob', conversationKey: key });
  await forget(app);
  const afterForget = await app.router.ask('should i ice it or use heat', { platform: 'slack', userId: 'carol', conversationKey: key });
  assert.equal(afterForget.conversation?.turn, 3, 'the conversation goes on');
  assert.ok(prompt.get(afterForget.decisionId)! < prompt.get(withHistory.decisionId)!, `forgotten turns are not history any more: ${prompt.get(withHistory.decisionId)} → ${prompt.get(afterForget.decisionId)} prompt tokens`);
  return { app, forgotten: [first.decisionId, withHistory.decisionId] };
}

test('moe forget removes a user\'s turns from the history every conversation gives its expert', async (t) => {
  const { app, forgotten } = await askForgetAskOn(t, {}, 'slack:C2:2.0', (a) => {
    a.store.forgetUser('alice');
    a.store.forgetUser('bob');
  });
  // Not a single word: carol's sampled answer from the health expert may say "swelling" itself.
  assert.ok(!dumpDatabase(app.store.db).includes('my knee keeps swelling after running'), "alice's question is nowhere in the database");
  const rows = app.store.db.prepare('SELECT query, answer, user_id FROM decisions WHERE id IN (?, ?)').all(...forgotten);
  assert.deepEqual(rows, [{ query: null, answer: null, user_id: null }, { query: null, answer: null, user_id: null }]);
});

test('LOG_QUERY_TEXT=false: `moe forget` from another process removes the user\'s turns from a running bot\'s in-memory history', async (t) => {
  await askForgetAskOn(t, { LOG_QUERY_TEXT: 'false' }, 'slack:C3:3.0', async (a) => {
    const cli = Store.open(a.config.dbPath, { keepText: false }); // what `moe forget --user` opens
    assert.deepEqual([cli.forgetUser('alice').decisions, cli.forgetUser('bob').decisions], [1, 1]);
    await cli.close();
  });
});

test('`moe forget` from another process removes the user\'s turns from the history a running bot keeps in memory', async (t) => {
  await askForgetAskOn(t, {}, 'slack:C4:4.0', async (a) => {
    const cli = Store.open(a.config.dbPath, { keepText: true }); // what `moe forget --user` opens
    assert.deepEqual([cli.forgetUser('alice').decisions, cli.forgetUser('bob').decisions], [1, 1]);
    await cli.close();
  });
});
