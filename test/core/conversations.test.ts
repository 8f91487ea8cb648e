import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Conversations, type ConversationSettings } from '../../src/core/Conversations.js';
import { routeFollowUp } from '../../src/core/routeFollowUp.js';
import { decide } from '../../src/gate/Gate.js';
import { Store } from '../../src/store/Store.js';
import { ConversationStore } from '../../src/store/ConversationStore.js';
import { makeTempDir } from '../support/tempDir.js';

const HOUR = 3_600_000;
const settings: ConversationSettings = { idleMs: 24 * HOUR, maxTurns: 3, keepText: false, retentionMs: null };
const healthcare = decide([0.97, 0.01, 0.01, 0.01], 0.5, 'g', true, 0.9);

/** Opens, routes and records one turn, as the router does. */
function turn(conversations: Conversations, key: string, question: string, answer = `answer to ${question}`) {
  const handle = conversations.open(key, 'slack');
  const history = conversations.history(handle, 50);
  const routed = routeFollowUp(question, healthcare, handle.routing);
  conversations.record(handle, routed);
  conversations.remember(handle, question, answer, { decisionId: `d-${key}-${handle.turn}`, userId: 'u' });
  return { handle, history, routed };
}

test('a key keeps its conversation: turns count up, the routing state carries over, history is newest first', () => {
  const conversations = new Conversations(null, settings, () => 1_000);
  const first = turn(conversations, 'slack:C1:1.0', 'my knee hurts after running');
  assert.deepEqual([first.handle.turn, first.routed.reason, first.handle.restarted, first.history], [1, 'fresh', null, []]);
  const second = turn(conversations, 'slack:C1:1.0', 'should i ice it');
  assert.equal(second.handle.turn, 2);
  assert.equal(second.handle.id, first.handle.id);
  assert.deepEqual(second.handle.routing?.expert, 'healthcare');
  assert.deepEqual(second.history, [{ question: 'my knee hurts after running', answer: 'answer to my knee hurts after running' }]);
  const third = turn(conversations, 'slack:C1:1.0', 'how long should i rest');
  assert.deepEqual(third.history.map((h) => h.question), ['should i ice it', 'my knee hurts after running']);
  assert.equal(turn(conversations, 'slack:C2:1.0', 'other thread').handle.turn, 1, 'another key is another conversation');
});

test('past CONVERSATION_MAX_TURNS or CONVERSATION_IDLE the next message starts a fresh conversation and says why', () => {
  let now = 0;
  const conversations = new Conversations(null, settings, () => now);
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) ids.add(turn(conversations, 'http:abc', `question ${i}`).handle.id);
  assert.equal(ids.size, 1);
  const fourth = turn(conversations, 'http:abc', 'question 3');
  assert.deepEqual([fourth.handle.turn, fourth.handle.restarted, fourth.routed.reason, fourth.history], [1, 'max_turns', 'fresh', []]);
  assert.ok(!ids.has(fourth.handle.id), 'a fresh conversation has a new id');
  now += 24 * HOUR + 1;
  const late = turn(conversations, 'http:abc', 'back again');
  assert.deepEqual([late.handle.turn, late.handle.restarted], [1, 'idle']);
  assert.equal(turn(conversations, 'http:abc', 'and then').handle.restarted, null);
});

test('without text logging, history lives in memory only and expires with QUERY_RETENTION while the conversation goes on', () => {
  let now = 0;
  const conversations = new Conversations(null, { ...settings, maxTurns: 50, idleMs: HOUR, retentionMs: HOUR / 4 }, () => now);
  turn(conversations, 'http:x', 'first question');
  now += HOUR / 8;
  assert.equal(turn(conversations, 'http:x', 'second').history.length, 1);
  now += HOUR / 4 + 1;
  const third = turn(conversations, 'http:x', 'third');
  assert.deepEqual([third.handle.turn, third.history], [3, []], 'expired text is gone; the conversation is not');
});

test('with a store, the routing state survives a restart and history is read from the decision log', async (t) => {
  const tmp = makeTempDir();
  const store = Store.open(path.join(tmp.dir, 'moe.sqlite'), { keepText: true });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  const conversationStore = new ConversationStore(store.db, () => store.flush());
  const before = new Conversations(conversationStore, { ...settings, keepText: true }, () => 5_000);
  const handle = before.open('slack:C9:7.0', 'slack');
  const write = before.record(handle, routeFollowUp('my knee hurts', healthcare, null));
  assert.ok(write);
  write.statement.run(...write.params);
  store.db.prepare(`INSERT INTO decisions (id, created_at, platform, query, query_chars, gate_version, label, gate_expert, expert, confidence,
      probabilities_json, status, answer, conversation_id, turn) VALUES ('d1', 5000, 'slack', 'my knee hurts', 13, 'g', 'healthcare', 'healthcare',
      'healthcare', 0.97, '{}', 'answered', 'rest it', ?, 1)`).run(handle.id);

  const after = new Conversations(conversationStore, { ...settings, keepText: true }, () => 6_000); // a restarted bot: empty cache
  const next = after.open('slack:C9:7.0', 'slack');
  assert.deepEqual([next.id, next.turn, next.routing?.expert], [handle.id, 2, 'healthcare']);
  assert.deepEqual(after.history(next, 10), [{ question: 'my knee hurts', answer: 'rest it' }]);
});

test('idle conversations are pruned from the cache and the store: their key no longer counts as a conversation', async (t) => {
  const tmp = makeTempDir();
  const store = Store.open(path.join(tmp.dir, 'moe.sqlite'), { keepText: true });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  let now = 1_000;
  const conversations = new Conversations(new ConversationStore(store.db, () => store.flush()), { ...settings, keepText: true }, () => now);
  const write = (key: string): void => {
    const w = conversations.record(conversations.open(key, 'slack'), routeFollowUp('my knee hurts', healthcare, null));
    w!.statement.run(...w!.params);
  };
  write('slack:C1:old');
  now = 50_000;
  write('slack:C1:new');
  assert.equal(conversations.pruneIdleBefore(10_000), 1);
  assert.equal(conversations.has('slack:C1:old'), false);
  assert.equal(conversations.has('slack:C1:new'), true);
});

/** A real store that counts its history reads from the log. */
class CountingStore extends ConversationStore {
  reads = 0;
  override history(conversationId: string, beforeTurn: number, limit: number) {
    this.reads++;
    return super.history(conversationId, beforeTurn, limit);
  }
}

test('with text in the log, a recent conversation\'s history comes from memory; removed text (forget, retention) is read back from the log', async (t) => {
  const tmp = makeTempDir();
  const file = path.join(tmp.dir, 'moe.sqlite');
  const store = Store.open(file, { keepText: true });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  let now = 10_000;
  const log = new CountingStore(store.db, () => store.flush());
  const conversations = new Conversations(log, { ...settings, maxTurns: 50, keepText: true, retentionMs: 100_000 }, () => now);
  /** One turn as the router does it, its decision logged by `user`. */
  const ask = (question: string, user: string) => {
    const handle = conversations.open('slack:C5:5.0', 'slack');
    const history = conversations.history(handle, 50);
    const w = conversations.record(handle, routeFollowUp(question, healthcare, handle.routing))!;
    w.statement.run(...w.params);
    const id = `d${handle.turn}`;
    store.db.prepare(`INSERT INTO decisions (id, created_at, platform, user_id, query, query_chars, gate_version, label, gate_expert, expert, confidence,
        probabilities_json, status, answer, conversation_id, turn) VALUES (?, ?, 'slack', ?, ?, 1, 'g', 'healthcare', 'healthcare', 'healthcare', 0.9, '{}',
        'answered', ?, ?, ?)`).run(id, now, user, question, `answer to ${question}`, handle.id, handle.turn);
    conversations.remember(handle, question, `answer to ${question}`, { decisionId: id, userId: user });
    now += 1_000;
    return history.map((h) => h.question);
  };
  ask('my knee hurts', 'alice');
  ask('should i ice it', 'bob');
  assert.deepEqual(ask('how long should i rest', 'carol'), ['should i ice it', 'my knee hurts']);
  assert.equal(log.reads, 0, 'the turns the bot answered were remembered: no read from the log');
  store.forgetUser('bob'); // in this process: a trigger counts the removed text
  assert.deepEqual(ask('and heat?', 'carol'), ['how long should i rest', 'my knee hurts']);
  assert.equal(log.reads, 1, 'read back once after the forget');
  ask('thanks', 'carol');
  assert.equal(log.reads, 1);
  const cli = Store.open(file, { keepText: true }); // `moe forget --user` from another process
  cli.forgetUser('alice');
  await cli.close();
  assert.deepEqual(ask('one more', 'carol'), ['thanks', 'and heat?', 'how long should i rest']);
  assert.equal(log.reads, 2);
  now = 10_000 + 100_000 + 3_500; // turns asked before 13,500 (the first four) are past QUERY_RETENTION
  assert.deepEqual(ask('last one', 'carol'), ['one more', 'thanks'], 'retention applies to remembered turns at once, before the sweep');
  assert.equal(log.reads, 2);
});

test('without text in the log, another process\'s commits cost nothing until one forgets a user', async (t) => {
  const tmp = makeTempDir();
  const file = path.join(tmp.dir, 'moe.sqlite');
  const store = Store.open(file, { keepText: false });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  class CheckingStore extends ConversationStore {
    checks = 0;
    override decisionsWithUser(ids: readonly string[]) {
      this.checks++;
      return super.decisionsWithUser(ids);
    }
  }
  const log = new CheckingStore(store.db, () => store.flush());
  const conversations = new Conversations(log, { ...settings, maxTurns: 50 }, () => 1_000);
  const ask = (question: string, user: string) => {
    const handle = conversations.open('slack:C6:6.0', 'slack');
    const history = conversations.history(handle, 50);
    store.db.prepare(`INSERT INTO decisions (id, created_at, platform, user_id, query_chars, gate_version, label, gate_expert, expert, confidence,
        probabilities_json, status, conversation_id, turn) VALUES (?, 1000, 'slack', ?, 1, 'g', 'healthcare', 'healthcare', 'healthcare', 0.9, '{}', 'answered', ?, ?)`)
      .run(`e${handle.turn}`, user, handle.id, handle.turn);
    conversations.record(handle, routeFollowUp(question, healthcare, handle.routing));
    conversations.remember(handle, question, 'ok', { decisionId: `e${handle.turn}`, userId: user });
    return history.map((h) => h.question);
  };
  ask('my knee hurts', 'alice');
  const other = Store.open(file, { keepText: false }); // another process commits, forgetting no one
  other.db.prepare("INSERT INTO gate_versions (version, created_at, path, active, promoted, reason) VALUES ('g2', 1, 'x', 0, 0, 'test')").run();
  assert.deepEqual(ask('should i ice it', 'bob'), ['my knee hurts']);
  assert.equal(log.checks, 0, 'no turn was checked');
  other.forgetUser('alice');
  await other.close();
  assert.deepEqual(ask('and heat?', 'bob'), ['should i ice it']);
  assert.equal(log.checks, 1);
});
