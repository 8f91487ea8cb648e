/** `moe` flags (src/cli/args.ts on node:util parseArgs): values, booleans, `--`, and one-line usage errors with exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CliUsageError, numberFlag, parseArgs, stringFlag } from '../../src/cli/args.js';
import { REPO_ROOT } from '../support/testApp.js';

const SPEC = { data: 'string', noise: 'string', json: 'boolean' } as const;

test('flags take values as --name value or --name=value; booleans stand alone; after -- everything is positional', () => {
  const a = parseArgs(['--data', 'x.csv', 'question', '--json', '--noise=0.1'], SPEC);
  assert.equal(stringFlag(a, 'data'), 'x.csv');
  assert.equal(numberFlag(a, 'noise', 0, 1), 0.1);
  assert.equal(a.flags.get('json'), true);
  assert.deepEqual(a.positionals, ['question']);
  const b = parseArgs(['--data=y.csv', '--', '--json', '-x'], SPEC);
  assert.equal(stringFlag(b, 'data'), 'y.csv');
  assert.equal(b.flags.has('json'), false);
  assert.deepEqual(b.positionals, ['--json', '-x']);
});

test('mistakes are one-line usage errors', () => {
  for (const [args, message] of [
    [['--nope'], 'unknown option --nope'],
    [['-n'], 'unknown option -n'],
    [['--json=yes'], '--json takes no value'],
    [['--data'], '--data needs a value'],
    [['--data='], '--data needs a value'],
    [['--noise', 'lots'], '--noise must be a number between 0 and 1, got "lots"'],
  ] as const) {
    assert.throws(() => numberFlag(parseArgs([...args], SPEC), 'noise', 0, 1), (err: unknown) => {
      assert.ok(err instanceof CliUsageError, args.join(' '));
      assert.equal(err.message, message);
      return true;
    });
  }
});

test('moe with an unknown flag prints one line and exits 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli.ts'), 'eval', '--data', 'x.csv', '--nosie', '0.1'], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), 'moe: unknown option --nosie');
});
