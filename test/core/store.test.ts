import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Store, type NewDecision } from '../../src/store/Store.js';
import { openDatabase } from '../../src/store/openDatabase.js';
import { migrate, readMigrations, schemaVersion, DatabaseError } from '../../src/store/migrate.js';
import { makeTempDir } from '../support/tempDir.js';
import { readVotes } from '../../src/store/TrainingLog.js';

const migrations = readMigrations();
const LATEST = migrations.length;

function tables(db: BetterSqlite3.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

function columns(db: BetterSqlite3.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name);
}

test('a fresh database gets every migration, WAL, foreign keys and a busy timeout', (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const db = openDatabase(path.join(tmp.dir, 'sub/dir/moe.sqlite'));
  t.after(() => db.close());
  assert.equal(schemaVersion(db), LATEST);
  const names = tables(db);
  for (const t of ['decisions', 'deliveries', 'feedback', 'gate_versions', 'message_links', 'schema_migrations']) assert.ok(names.includes(t), t);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 1000);
  assert.ok(columns(db, 'feedback').includes('is_admin'));
});

for (let from = 1; from < LATEST; from++) {
  test(`a database at schema version ${from} is migrated to ${LATEST}, keeping its rows`, (t) => {
    const tmp = makeTempDir();
    t.after(tmp.remove);
    const file = path.join(tmp.dir, 'old.sqlite');
    const old = new BetterSqlite3(file);
    migrate(old, migrations, from);
    assert.equal(schemaVersion(old), from);
    old.prepare(`INSERT INTO decisions (id, created_at, platform, query, query_chars, gate_version, label, gate_expert, expert, confidence, probabilities_json)
      VALUES ('d1', 1, 'http', 'how do I budget', 15, 'g1', 'finance', 'finance', 'finance', 0.9, '{}')`).run();
    old.prepare("INSERT INTO feedback (decision_id, user_id, vote, created_at) VALUES ('d1', 'u1', 1, 2)").run();
    old.close();

    const store = Store.open(file, { keepText: true });
    t.after(() => store.close());
    assert.equal(schemaVersion(store.db), LATEST);
    assert.equal(store.getDecision('d1')?.query, 'how do I budget');
    const votes = readVotes(store);
    assert.equal(votes.length, 1);
    assert.equal(votes[0]!.isAdmin, false, 'votes from before the is_admin column are not admin votes');
    const applied = (store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
    assert.deepEqual(applied, migrations.map((m) => m.version));
  });
}

test('decisions rebuilt for the cancelled status (011) keep their indexes, hourly-count triggers and foreign keys', (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const file = path.join(tmp.dir, 'old.sqlite');
  const old = new BetterSqlite3(file);
  migrate(old, migrations, 10);
  old.close();
  const db = openDatabase(file);
  t.after(() => db.close());
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are back on after the migrations');
  const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  assert.deepEqual(indexes, ['decisions_conversation', 'decisions_created_at']);
  assert.match((db.prepare("SELECT sql FROM sqlite_master WHERE name = 'decisions_conversation'").get() as { sql: string }).sql, /conversation_id, turn, created_at/);
  const insert = (id: string, status: string): void => {
    db.prepare(`INSERT INTO decisions (id, created_at, platform, query_chars, gate_version, label, gate_expert, expert, confidence, probabilities_json, status)
      VALUES (?, 3600000, 'http', 3, 'g1', 'finance', 'finance', 'finance', 0.9, '{}', ?)`).run(id, status);
  };
  insert('c1', 'cancelled');
  assert.throws(() => insert('x1', 'lost'), /CHECK constraint failed/);
  const hours = (): unknown[] => db.prepare('SELECT status, n FROM decision_hours ORDER BY status').all();
  assert.deepEqual(hours(), [{ status: 'cancelled', n: 1 }], 'the hourly counts follow new rows');
  db.prepare("INSERT INTO feedback (decision_id, user_id, vote, created_at) VALUES ('c1', 'u1', 1, 3600001)").run();
  assert.equal((db.prepare('SELECT SUM(n) AS n FROM vote_hours').get() as { n: number }).n, 1, 'and new votes');
  assert.throws(() => db.prepare("INSERT INTO feedback (decision_id, user_id, vote, created_at) VALUES ('nope', 'u1', 1, 1)").run(), /FOREIGN KEY constraint failed/);
  const removals = (): number => (db.prepare('SELECT removals FROM text_removals').get() as { removals: number }).removals;
  db.prepare("UPDATE decisions SET query = 'q' WHERE id = 'c1'").run();
  const before = removals();
  db.prepare("UPDATE decisions SET query = NULL WHERE id = 'c1'").run();
  assert.equal(removals(), before + 1, 'removed text is still counted for the bots that cache it');
  db.prepare("DELETE FROM decisions WHERE id = 'c1'").run();
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number }).n, 0, 'deleting a decision still deletes its votes');
  assert.deepEqual(hours(), [{ status: 'cancelled', n: 0 }]);
});

test('opening twice applies nothing the second time', (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const file = path.join(tmp.dir, 'moe.sqlite');
  openDatabase(file).close();
  const db = new BetterSqlite3(file);
  t.after(() => db.close());
  assert.deepEqual(migrate(db, migrations), []);
});

test('a database from newer code is refused with a message saying so', (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const file = path.join(tmp.dir, 'future.sqlite');
  openDatabase(file).close();
  const db = new BetterSqlite3(file);
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST + 1, 'from_the_future', 0);
  db.close();
  assert.throws(() => openDatabase(file), (err: unknown) => {
    assert.ok(err instanceof DatabaseError);
    assert.match(err.message, new RegExp(`schema version ${LATEST + 1}, newer than this code knows \\(${LATEST}\\)`));
    return true;
  });
});

test('a failing migration is rolled back whole and named in the error', (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const db = new BetterSqlite3(path.join(tmp.dir, 'x.sqlite'));
  t.after(() => db.close());
  const broken = [...migrations, { version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;' }];
  assert.throws(() => migrate(db, broken), /migration \d{3}_broken failed: no such table: no_such_table/);
  assert.equal(schemaVersion(db), LATEST, 'earlier migrations stay applied');
  assert.ok(!tables(db).includes('half_done'), 'the broken migration left nothing behind');
});

test('a file that is not a database gives a clear error naming it', (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const file = path.join(tmp.dir, 'junk.sqlite');
  fs.writeFileSync(file, 'this is not a database, just some text that is long enough to have a header\n'.repeat(20));
  assert.throws(() => openDatabase(file), (err: unknown) => err instanceof DatabaseError && /junk\.sqlite/.test(err.message));
});

// --- group commit ---

function decision(id: string, query = 'how do I budget'): NewDecision {
  return {
    id, createdAt: Date.now(), platform: 'http', channelId: null, userId: 'u1', query, gateVersion: 'g1', label: 'finance',
    gateExpert: 'finance', expert: 'finance', confidence: 0.9, probabilities: { finance: 0.9, healthcare: 0.05, cybersecurity: 0.03, none: 0.02 },
    fallbackReason: null, reroutedFrom: null,
  };
}

function openPair(t: import('node:test').TestContext, keepText = true): { store: Store; other: BetterSqlite3.Database } {
  const tmp = makeTempDir();
  const file = path.join(tmp.dir, 'moe.sqlite');
  const store = Store.open(file, { keepText, onWriteError: () => undefined });
  const other = new BetterSqlite3(file, { readonly: true });
  t.after(() => {
    store.close();
    other.close();
    tmp.remove();
  });
  return { store, other };
}

const count = (db: BetterSqlite3.Database, sql: string): number => (db.prepare(sql).get() as { n: number }).n;

test('batched pending rows are committed together at the end of the turn; a failing one is refused alone', async (t) => {
  const { store, other } = openPair(t);
  const first = store.insertDecisionBatched(decision('d1'));
  const duplicate = store.insertDecisionBatched(decision('d1'));
  const second = store.insertDecisionBatched(decision('d2'));
  assert.equal(count(other, 'SELECT COUNT(*) AS n FROM decisions'), 0, 'nothing is committed before the turn ends');
  await first;
  await second;
  await assert.rejects(duplicate, /UNIQUE constraint failed/);
  assert.equal(count(other, 'SELECT COUNT(*) AS n FROM decisions'), 2);
});

test('queued completions are read back at once by the store, committed with the next vote, and honour LOG_QUERY_TEXT', async (t) => {
  const { store, other } = openPair(t, false);
  await store.insertDecisionBatched(decision('d1', 'my secret question'));
  store.completeDecision('d1', { expert: 'finance', fallbackReason: null, latencyMs: 5, completedAt: 2, answer: 'my secret answer', promptTokens: 3, completionTokens: 4 });
  assert.equal(store.getDecision('d1')?.status, 'answered', 'reads commit the queue first');
  await store.insertDecisionBatched(decision('d2'));
  store.failDecision('d2', { expert: 'general', fallbackReason: 'expert_busy', latencyMs: 1, completedAt: 3, error: 'expert_busy: busy' });
  assert.equal((other.prepare("SELECT status FROM decisions WHERE id = 'd2'").get() as { status: string }).status, 'pending');
  assert.deepEqual(store.recordFeedback({ decisionId: 'd1', userId: 'v', vote: -1, correctedExpert: 'general', isAdmin: false, createdAt: 4 }), { replaced: false });
  assert.deepEqual(other.prepare('SELECT id, status, query, answer, query_chars FROM decisions ORDER BY id').all(), [
    { id: 'd1', status: 'answered', query: null, answer: null, query_chars: 18 },
    { id: 'd2', status: 'failed', query: null, answer: null, query_chars: 15 },
  ]);
  assert.equal(count(other, 'SELECT COUNT(*) AS n FROM feedback'), 1);
  assert.equal(store.recordFeedback({ decisionId: 'nope', userId: 'v', vote: 1, correctedExpert: null, isAdmin: false, createdAt: 5 }), 'not_found');
  assert.equal(store.recordFeedback({ decisionId: 'd2', userId: 'v', vote: 1, correctedExpert: null, isAdmin: false, createdAt: 6 }), 'failed', 'a failed question has no answer to rate');
  assert.deepEqual(store.recordFeedback({ decisionId: 'd1', userId: 'v', vote: 1, correctedExpert: null, isAdmin: false, createdAt: 7 }), { replaced: true });
  assert.equal(count(other, 'SELECT COUNT(*) AS n FROM feedback'), 1);
});

test('inside a caller\'s transaction the store\'s writes join it, and `db` commits the queue before handing it out', async (t) => {
  const { store, other } = openPair(t);
  store.db.transaction(() => {
    store.insertDecision(decision('d1'));
    store.recordFeedback({ decisionId: 'd1', userId: 'v', vote: 1, correctedExpert: null, isAdmin: false, createdAt: 1 });
  })();
  assert.equal(count(other, 'SELECT COUNT(*) AS n FROM feedback'), 1);
  await store.insertDecisionBatched(decision('d2'));
  store.completeDecision('d2', { expert: 'finance', fallbackReason: null, latencyMs: 5, completedAt: 2, answer: 'a', promptTokens: 1, completionTokens: 1 });
  store.db.prepare('SELECT 1').get();
  assert.equal(count(other, "SELECT COUNT(*) AS n FROM decisions WHERE status = 'answered'"), 1);
});

test('a group commit that fails refuses the rows awaited (nothing is generated for them) and keeps completions for the next one', async (t) => {
  const tmp = makeTempDir();
  t.after(tmp.remove);
  const file = path.join(tmp.dir, 'moe.sqlite');
  const errors: string[] = [];
  const store = Store.open(file, { keepText: true, busyTimeoutMs: 10, onWriteError: (m) => errors.push(m) });
  const other = new BetterSqlite3(file);
  t.after(() => {
    store.close();
    other.close();
  });
  await store.insertDecisionBatched(decision('d1'));
  other.exec('BEGIN IMMEDIATE'); // another process holds the write lock for longer than busy_timeout
  store.completeDecision('d1', { expert: 'finance', fallbackReason: null, latencyMs: 5, completedAt: 2, answer: 'a', promptTokens: 1, completionTokens: 1 });
  await assert.rejects(store.insertDecisionBatched(decision('d2')), /database is locked/);
  assert.match(errors.join('\n'), /group commit failed: database is locked/);
  other.exec('COMMIT');
  store.flush();
  assert.deepEqual(other.prepare('SELECT id, status FROM decisions ORDER BY id').all(), [{ id: 'd1', status: 'answered' }]);
});
