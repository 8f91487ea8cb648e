import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { FIXTURES, REPO, tempDir } from './helpers.js';

/**
 * Runs the CLI in a fresh directory with its own database path, so nothing of the checkout (data/moe.sqlite, .env,
 * models/gate.json after `npm start` + `moe retrain`) can decide a result.
 */
function moe(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const cwd = tempDir();
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(REPO, 'src', 'cli.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DOTENV_CONFIG_QUIET: 'true', DB_PATH: path.join(cwd, 'moe.sqlite'), GATE_PATH: path.join(cwd, 'gate.json'), DATASET_PATH: path.join(cwd, 'missing.csv'), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Resolved here: the child runs outside the checkout, where a bare `tsx` would not resolve.
const TSX = import.meta.resolve('tsx');

const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? '';

describe('moe train / eval / route', () => {
  const dir = tempDir();
  const model = path.join(dir, 'gate.json');

  before(() => {
    const r = moe(['train', '--data', path.join(FIXTURES, 'small.csv'), '--out', model]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*gate\.json \(gate g-/);
    assert.match(r.stdout, /held-out metrics/);
  });

  it('eval --json prints the metrics object as the last line', () => {
    const r = moe(['eval', '--data', path.join(FIXTURES, 'eval.csv'), '--model', model, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(lastLine(r.stdout)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(m).sort(), ['accuracy', 'byKind', 'byLabel', 'confusion', 'ece', 'fallbackRate', 'macroF1', 'n'].sort());
    assert.equal(m.n, 8);
    assert.ok((m.accuracy as number) >= 0.75, `accuracy ${String(m.accuracy)}`);
    assert.deepEqual(Object.keys(m.byKind as object).sort(), ['offtopic', 'plain']);
    assert.equal((m.byLabel as Record<string, { n: number }>).none!.n, 2);
  });

  it('eval --noise is reproducible with a seed and reads the old query,expert format', () => {
    const args = ['eval', '--data', path.join(FIXTURES, 'small.csv'), '--model', model, '--noise', '0.1', '--seed', '3', '--json'];
    const a = moe(args);
    const b = moe(args);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(lastLine(a.stdout), lastLine(b.stdout));
    const m = JSON.parse(lastLine(a.stdout)) as { accuracy: number; noise: { p: number; seed: number; cleanAccuracy: number; accuracyLost: number } };
    const clean = JSON.parse(lastLine(moe(['eval', '--data', path.join(FIXTURES, 'small.csv'), '--model', model, '--json']).stdout)) as { accuracy: number };
    assert.deepEqual(m.noise, { p: 0.1, seed: 3, cleanAccuracy: clean.accuracy, accuracyLost: clean.accuracy - m.accuracy });
    const text = moe(args.filter((x) => x !== '--json'));
    assert.match(text.stdout, new RegExp(`clean ${(clean.accuracy * 100).toFixed(1)}% → noisy ${(m.accuracy * 100).toFixed(1)}%: ${((clean.accuracy - m.accuracy) * 100).toFixed(1)} points lost to the noise`));
    const old = moe(['eval', '--data', path.join(FIXTURES, 'old_service.csv'), '--model', model]);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /accuracy/);
  });

  it('route prints a RouteDecision', () => {
    const r = moe(['route', '--model', model, 'someone hacked my email account']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(d.expert, 'cybersecurity');
    for (const key of ['confidence', 'probabilities', 'fallback', 'fallbackReason', 'runnerUp', 'label', 'gateVersion']) assert.ok(key in d, key);
  });

  it('route and eval without --model use the active gate, training it on first use', () => {
    const active = path.join(dir, 'active', 'gate.json');
    const r = moe(['route', 'my credit card was charged twice'], { GATE_PATH: active, DATASET_PATH: path.join(FIXTURES, 'small.csv') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { expert: string }).expert, 'finance');
    assert.ok(fs.existsSync(active));
  });

  it('a bad CSV fails with its line number and writes nothing', () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'text,label\nfever,healthcare\nloan,finance\nhack,piracy\n');
    const out = path.join(dir, 'never.json');
    const r = moe(['train', '--data', bad, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv:4: unknown label "piracy"/);
    assert.equal(fs.existsSync(out), false);
  });

  it('train --classifier nb-lr writes an NB-LR gate; eval on one of our held-out sets prints its targets', () => {
    const nbLr = path.join(dir, 'nb-lr.json');
    const r = moe(['train', '--data', path.join(FIXTURES, 'small.csv'), '--out', nbLr, '--classifier', 'nb-lr']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(fs.readFileSync(nbLr, 'utf8')) as { model: string }).model, 'nb-lr');
    assert.equal(r.stderr, '', 'no progress lines when stderr is not a terminal');
    assert.equal(moe(['train', '--data', path.join(FIXTURES, 'small.csv'), '--out', nbLr, '--classifier', 'svm']).code, 2);
    const urgent = path.join(dir, 'urgent_health.csv');
    fs.writeFileSync(urgent, 'text,label\nmy toddler swallowed a battery,healthcare\nchest pain and sweating,healthcare\n');
    const e = moe(['eval', '--data', urgent, '--model', nbLr]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /targets \(issue 14\)/);
    assert.match(e.stdout, /routed to healthcare +84\.2% +\d+\.\d% +≥ 99\.0% [✓✗]/);
    const json = moe(['eval', '--data', urgent, '--model', nbLr, '--json']);
    assert.doesNotMatch(json.stdout, /targets/);
  });

  it('usage errors and a corrupt model are clear', () => {
    assert.equal(moe(['eval', 'unexpected']).code, 2); // without --data it reads the public set, when present
    assert.equal(moe(['eval', '--data', path.join(FIXTURES, 'eval.csv'), '--noise', '7']).code, 2);
    assert.equal(moe(['route']).code, 2);
    const corrupt = path.join(dir, 'corrupt.json');
    fs.writeFileSync(corrupt, '{"format":"moe-gate"');
    const r = moe(['route', '--model', corrupt, 'hello']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /corrupt\.json/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });
});
