/** `moe train`, `moe gate list` and `moe retrain` against a database, through the real CLI in another process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Gate } from '../../src/gate/Gate.js';
import { gatesDir } from '../../src/learning/GateFiles.js';
import { learningEnv, REPO_ROOT, type LearningEnv } from './helpers.js';

const execFileAsync = promisify(execFile);

const PHRASES = ['my zorblat keeps asking for a kreplon code', 'the zorblat rejected my kreplon again', 'zorblat kreplon reset does not work', 'zorblat says the kreplon expired'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cliEnv(env: LearningEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const c = env.config;
  return { ...process.env, DOTENV_CONFIG_QUIET: 'true', DB_PATH: c.dbPath, GATE_PATH: c.gatePath, DATASET_PATH: c.datasetPath, RETRAIN_MARGIN: String(c.retrainMargin), LOG_LEVEL: 'silent', ...extra };
}

async function moe(env: LearningEnv, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli.ts'), ...args], { cwd: REPO_ROOT, env: cliEnv(env, extra) });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A database whose active gate is a retrained version (so GATE_PATH is no longer what routes). */
async function retrainedEnv(t: { after(fn: () => unknown): void }, extra: Record<string, string> = {}): Promise<LearningEnv> {
  const env = learningEnv(extra);
  t.after(env.close);
  PHRASES.forEach((text, i) => env.vote(env.logQuestion(text), `user${i}`, -1, 'cybersecurity'));
  const report = await env.retrainer.retrain({ requestedBy: 'test' });
  assert.equal(report.promoted, true, report.reason);
  return env;
}

function activeLine(list: string): string | undefined {
  return list.split('\n').find((l) => l.startsWith('*'));
}

test('`moe train` on a database with an active version records its gate as a new version and makes it active', async (t) => {
  const env = await retrainedEnv(t);
  const before = env.versions.active()!.version;
  const train = await moe(env, ['train']);
  assert.equal(train.code, 0, train.stderr);
  const recorded = /Recorded as gate version (\S+) and made it active in .* \(was (\S+)\)\./.exec(train.stdout);
  assert.ok(recorded, train.stdout);
  assert.equal(recorded[2], before);
  assert.equal(env.versions.active()?.version, recorded[1]);
  assert.equal(Gate.load(env.versions.active()!.path).version, recorded[1], 'its file is kept beside the other versions');

  const route = await moe(env, ['route', 'someone hacked my email account']);
  assert.equal(route.code, 0, route.stderr);
  assert.equal((JSON.parse(route.stdout) as { gateVersion: string }).gateVersion, recorded[1], '`moe route` uses the trained gate');
  const list = await moe(env, ['gate', 'list']);
  assert.ok(activeLine(list.stdout)?.includes(recorded[1]!), list.stdout);
  assert.match(list.stdout, /trained by `moe train` from /);

  const rollback = await moe(env, ['gate', 'rollback']);
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.equal(env.versions.active()?.version, before, '`moe gate rollback` undoes it');
});

test('`moe train --no-promote` only writes the file and says which gate keeps routing', async (t) => {
  const env = await retrainedEnv(t);
  const before = env.versions.active()!.version;
  const rows = env.versions.list().length;
  const out = path.join(env.dir, 'other.json');
  const train = await moe(env, ['train', '--no-promote', '--out', out]);
  assert.equal(train.code, 0, train.stderr);
  assert.ok(fs.existsSync(out));
  assert.match(train.stdout, new RegExp(`Not recorded \\(--no-promote\\): the bot, \`moe route\` and \`moe eval\` keep routing with gate ${before}`));
  assert.equal(env.versions.active()?.version, before);
  assert.equal(env.versions.list().length, rows);
});

test('`moe train` that cannot write its --out records nothing: a directory is refused before training, an unwritable place before recording', async (t) => {
  const env = await retrainedEnv(t);
  const before = env.versions.active()!.version;
  const rows = env.versions.list().length;
  const dir = path.join(env.dir, 'gates-out');
  fs.mkdirSync(dir);
  const intoDir = await moe(env, ['train', '--out', dir]);
  assert.equal(intoDir.code, 2);
  assert.match(intoDir.stderr, /--out .*gates-out is a directory; give the gate file's path/);
  const blocked = path.join(env.dir, 'a-file');
  fs.writeFileSync(blocked, 'not a directory');
  const under = await moe(env, ['train', '--out', path.join(blocked, 'gate.json')]); // its parent is a file: found when writing
  assert.equal(under.code, 1);
  assert.match(under.stderr, /ENOTDIR|not a directory/);
  assert.doesNotMatch(under.stdout, /Recorded as gate version/);
  assert.equal(env.versions.active()?.version, before, 'the active gate is unchanged');
  assert.equal(env.versions.list().length, rows, 'no version recorded');
  assert.deepEqual(fs.readdirSync(env.dir).filter((f) => f.includes('.staged')), [], 'nothing left behind');
});

test('`moe train` on a database that recorded nothing yet records the gate it replaces first, so rollback can return to it', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  const train = await moe(env, ['train']);
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, new RegExp(`\\(was ${env.initial.version}\\)`));
  const rollback = await moe(env, ['gate', 'rollback']);
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.equal(env.versions.active()?.version, env.initial.version);
});

test('`moe gate list` on a fresh database (and with none yet) shows the shipped gate at GATE_PATH as the active one', async (t) => {
  const env = learningEnv();
  t.after(env.close);
  assert.equal(env.versions.list().length, 0, 'nothing recorded yet');
  const list = await moe(env, ['gate', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(activeLine(list.stdout)?.includes(env.initial.version), list.stdout);
  assert.match(list.stdout, /the shipped gate \(.*gate\.json\), not recorded yet/);
  const json = await moe(env, ['gate', 'list', '--json']);
  const rows = JSON.parse(json.stdout) as { version: string; active: boolean }[];
  assert.deepEqual(rows.map((r) => [r.version, r.active]), [[env.initial.version, true]]);

  const noDb = await moe(env, ['gate', 'list'], { DB_PATH: path.join(env.dir, 'absent', 'moe.sqlite') });
  assert.equal(noDb.code, 0, noDb.stderr);
  assert.ok(activeLine(noDb.stdout)?.includes(env.initial.version), noDb.stdout);
  assert.equal(fs.existsSync(path.join(env.dir, 'absent')), false, 'listing creates no database');
});

test('repeated `moe train` keeps only the active version and GATE_KEEP_VERSIONS promoted ones, rows and files together', async (t) => {
  const env = await retrainedEnv(t);
  for (let i = 0; i < 3; i++) {
    const train = await moe(env, ['train'], { GATE_KEEP_VERSIONS: '1' });
    assert.equal(train.code, 0, train.stderr);
  }
  const rows = env.versions.list();
  assert.equal(rows.length, 2, rows.map((r) => r.version).join(', '));
  assert.equal(rows[0]!.active, true);
  const files = fs.readdirSync(gatesDir(env.config)).sort();
  assert.deepEqual(files, rows.map((r) => path.basename(r.path)).sort(), 'no file without its row, no row without its file');
  const rollback = await moe(env, ['gate', 'rollback'], { GATE_KEEP_VERSIONS: '1' });
  assert.equal(rollback.code, 0, rollback.stderr);
});

test('`moe retrain` shows phase lines on a terminal, and nothing extra through a pipe or with --json', async (t) => {
  const env = await retrainedEnv(t);
  env.vote(env.logQuestion('zorblat kreplon again'), 'late', -1, 'cybersecurity');
  const piped = await moe(env, ['retrain']);
  assert.equal(piped.code, 0, piped.stderr);
  assert.match(piped.stdout, /Held-out accuracy/);
  assert.equal(piped.stderr, '');

  // `script` gives the child a pseudo-terminal (stdout and stderr both land in its output).
  const cli = [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli.ts'), 'retrain'].map((a) => `'${a}'`).join(' ');
  const tty = await execFileAsync('script', ['-qec', cli, '/dev/null'], { cwd: REPO_ROOT, env: cliEnv(env) });
  assert.match(tty.stdout, /\[1\/6\] reading the dataset, the votes and the logged questions/);
  assert.match(tty.stdout, /\[2\/6\] training on \d+ examples \(\d+ from votes/);
  assert.match(tty.stdout, /\[4\/6\] saving candidate g-/);
  assert.match(tty.stdout, /Held-out accuracy/);
  const json = await execFileAsync('script', ['-qec', `${cli} --json`, '/dev/null'], { cwd: REPO_ROOT, env: cliEnv(env) });
  assert.doesNotMatch(json.stdout, /\[\d\/6\]/);
  assert.ok(JSON.parse(json.stdout.trim()), json.stdout);
});
