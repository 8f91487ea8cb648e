import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store } from '../../src/store/Store.js';
import { ConversationStore, type ConversationRow } from '../../src/store/ConversationStore.js';
import { makeTempDir } from '../support/tempDir.js';

function openStore(t: { after(fn: () => unknown): void }): { store: Store; conversations: ConversationStore } {
  const tmp = makeTempDir();
  const store = Store.open(path.join(tmp.dir, 'moe.sqlite'), { keepText: true });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  return { store, conversations: new ConversationStore(store.db) };
}

/** A decision of turn `turn` in conversation `conversationId`, written as the router writes it. */
function addTurn(store: Store, conversationId: string, turn: number, opts: { user?: string; at?: number; status?: string; expert?: string } = {}): void {
  store.db.prepare(`INSERT INTO decisions (id, created_at, platform, user_id, query, query_chars, gate_version, label, gate_expert, expert,
      confidence, probabilities_json, status, answer, conversation_id, turn, follow_up, chosen_expert, route_reason)
    VALUES (?, ?, 'slack', ?, ?, 10, 'g1', 'healthcare', 'healthcare', ?, 0.9, '{}', ?, ?, ?, ?, ?, ?, ?)`).run(
    `${conversationId}-${turn}`, opts.at ?? turn * 1000, opts.user ?? 'u1', `question ${turn}`, opts.expert ?? 'healthcare', opts.status ?? 'answered',
    `answer ${turn}`, conversationId, turn, turn > 1 ? 1 : 0, opts.expert ?? 'healthcare', turn > 1 ? 'sticky' : 'fresh');
}

const row: ConversationRow = {
  key: 'slack:C1:1700000000.000100', id: 'conv-a', platform: 'slack', startedAt: 1000, updatedAt: 2000, turns: 2,
  expert: 'healthcare', evidence: [0.9, 0.05, 0.03, 0.02],
};

test('a conversation row round-trips by its platform key, and a fresh one under the same key replaces it', (t) => {
  const { conversations } = openStore(t);
  assert.equal(conversations.get(row.key), null);
  conversations.save(row);
  assert.deepEqual(conversations.get(row.key), row);
  const fresh = { ...row, id: 'conv-b', startedAt: 90_000_000, updatedAt: 90_000_000, turns: 1, expert: 'finance' as const };
  conversations.save(fresh);
  assert.deepEqual(conversations.get(row.key), fresh);
});

test('history is the answered turns before this one, newest first, limited', (t) => {
  const { store, conversations } = openStore(t);
  for (let turn = 1; turn <= 5; turn++) addTurn(store, 'conv-a', turn, { status: turn === 3 ? 'failed' : 'answered' });
  addTurn(store, 'conv-other', 1);
  const history = conversations.history('conv-a', 5, 10);
  assert.deepEqual(history.map((h) => h.turn), [4, 2, 1], 'the failed turn 3 and the current turn 5 are not history');
  assert.deepEqual(history[0], { turn: 4, question: 'question 4', answer: 'answer 4', expert: 'healthcare', createdAt: 4000 });
  assert.deepEqual(conversations.history('conv-a', 5, 2).map((h) => h.turn), [4, 2]);
});

test('moe forget and retention remove turns from the history of every conversation', (t) => {
  const { store, conversations } = openStore(t);
  addTurn(store, 'conv-a', 1, { user: 'alice', at: 1_000 });
  addTurn(store, 'conv-a', 2, { user: 'bob', at: 50_000 });
  addTurn(store, 'conv-a', 3, { user: 'alice', at: 60_000 });
  addTurn(store, 'conv-b', 1, { user: 'alice', at: 60_000 });
  store.forgetUser('alice');
  assert.deepEqual(conversations.history('conv-a', 10, 10).map((h) => h.turn), [2]);
  assert.deepEqual(conversations.history('conv-b', 10, 10), []);
  store.purgeTextBefore(55_000);
  assert.deepEqual(conversations.history('conv-a', 10, 10), []);
});

test('idle conversations are pruned; their decisions stay in the log', (t) => {
  const { store, conversations } = openStore(t);
  conversations.save(row);
  conversations.save({ ...row, key: 'http:recent', id: 'conv-r', updatedAt: 10_000 });
  addTurn(store, 'conv-a', 1);
  assert.equal(conversations.pruneIdleBefore(5_000), 1);
  assert.equal(conversations.get(row.key), null);
  assert.notEqual(conversations.get('http:recent'), null);
  assert.equal(conversations.history('conv-a', 2, 10).length, 1);
});
