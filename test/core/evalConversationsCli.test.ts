/**
 * `moe eval` as a user runs it: without --data (the public set beside the project), and
 * `moe eval --conversations FILE.jsonl`: a child process on a file of labelled conversations,
 * with the gate saved to a file; bad files name the file, the line and the field.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testGate } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = import.meta.resolve('tsx');

let tmp: { dir: string; remove(): void };
let model: string;

before(() => {
  tmp = makeTempDir('moe-eval-conv-');
  model = path.join(tmp.dir, 'gate.json');
  testGate().save(model);
});
after(() => tmp.remove());

/** Runs the CLI asynchronously (never execFileSync: see DEVELOPERS.md). */
function moe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, path.join(REPO, 'src', 'cli.ts'), ...args], {
      cwd: tmp.dir,
      env: { ...process.env, DOTENV_CONFIG_QUIET: 'true', DB_PATH: path.join(tmp.dir, 'moe.sqlite'), GATE_PATH: path.join(tmp.dir, 'missing-gate.json') },
    }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

function write(name: string, lines: string[]): string {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('a set in our format, or with the names people use for the same fields, is scored by the three rules', async () => {
  const ours = write('ours.jsonl', [
    JSON.stringify({ id: 'a', turns: [{ text: 'is it safe to take ibuprofen with a cold', expert: 'healthcare' }, { text: 'how much is too much', expert: 'healthcare' }] }),
    JSON.stringify({ id: 'b', turns: [{ text: 'should i pay off my credit card or save first', expert: 'finance' }, { text: 'ok unrelated, banana bread recipe?', expert: 'general' }] }),
  ]);
  const r = await moe(['eval', '--conversations', ours, '--model', model, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { conversations: number; turns: number; rules: Record<string, { followUps: number; switches: number; firstTurns: number }> };
  assert.equal(out.conversations, 2);
  assert.equal(out.turns, 4);
  assert.deepEqual(Object.keys(out.rules).sort(), ['alwaysSticky', 'gateAlone', 'ours']);
  assert.equal(out.rules.ours!.firstTurns, 2);
  assert.equal(out.rules.ours!.followUps, 2);
  assert.equal(out.rules.ours!.switches, 1);

  // No ids, `messages` with `question`/`content`, `label`/`expected`, the assistant's replies and extra fields: the same
  // conversations, the same figures.
  const other = write('other.jsonl', [
    JSON.stringify({ messages: [{ role: 'user', question: 'is it safe to take ibuprofen with a cold', label: 'healthcare' }, { role: 'user', question: 'how much is too much', label: 'healthcare' }], note: 'stay' }),
    JSON.stringify({ messages: [{ role: 'user', content: 'should i pay off my credit card or save first', expected: 'finance' }, { role: 'assistant', content: 'Pay the card first.' }, { role: 'user', content: 'ok unrelated, banana bread recipe?', expected_expert: 'none' }] }),
  ]);
  const again = await moe(['eval', '--conversations', other, '--model', model, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout.trim().split('\n').at(-1)!).rules, out.rules);

  const table = await moe(['eval', '--conversations', ours, '--model', model]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /gate alone +always sticky +ours/);
  assert.match(table.stdout, /follow-up accuracy/);
});

test('bad conversation files: one line naming the file, the line and what is wrong; exit code 1', async () => {
  const good = JSON.stringify({ id: 'ok', turns: [{ text: 'my password leaked', expert: 'cybersecurity' }] });
  const cases: Array<[string, string[], RegExp]> = [
    ['not-json.jsonl', [good, '{"id": "x", "turns": ['], /not-json\.jsonl:2: not a JSON object/],
    ['unknown-expert.jsonl', [JSON.stringify({ id: 'x', turns: [{ text: 'hi', expert: 'astrology' }] })], /unknown-expert\.jsonl:1: turns\.0\.expert: unknown expert "astrology"/],
    ['empty-text.jsonl', [JSON.stringify({ id: 'x', turns: [{ text: '   ', expert: 'finance' }] })], /empty-text\.jsonl:1: turns\.0\.text: required/],
    ['no-expert.jsonl', [JSON.stringify({ id: 'x', turns: [{ text: 'hello' }] })], /no-expert\.jsonl:1: turns\.0\.expert: required/],
    ['no-turns.jsonl', [JSON.stringify({ id: 'x' })], /no-turns\.jsonl:1: turns: required/],
    ['duplicate.jsonl', [good, good], /duplicate\.jsonl:2: duplicate conversation id "ok"/],
    ['empty.jsonl', [''], /empty\.jsonl: no conversations/],
  ];
  for (const [name, lines, message] of cases) {
    const r = await moe(['eval', '--conversations', write(name, lines), '--model', model]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, message, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line, not a stack trace:\n${r.stderr}`);
  }
  const missing = await moe(['eval', '--conversations', path.join(tmp.dir, 'nope.jsonl'), '--model', model]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.jsonl: file not found/);
});

test('moe eval without --data reads the public set beside the project, or says it is not there', async () => {
  const publicSet = path.resolve(REPO, '../shared/data/public_balanced.csv');
  const r = await moe(['eval', '--noise', '0.1', '--model', model, '--json']);
  if (fs.existsSync(publicSet)) {
    assert.equal(r.code, 0, r.stderr);
    const rows = fs.readFileSync(publicSet, 'utf8').trim().split('\n').length - 1; // a header, then one question a line
    const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { n: number; accuracy: number };
    assert.equal(m.n, rows);
    assert.ok(m.accuracy > 0.5, `accuracy ${m.accuracy}`);
  } else {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /eval needs --data FILE\.csv .*shared\/data\/public_balanced\.csv, which is not here/);
  }
});
