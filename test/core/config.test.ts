import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, ConfigError, settingNames } from '../../src/config.js';
import { REPO_ROOT } from '../support/testApp.js';

test('defaults: HTTP on 127.0.0.1:8000, SQLite under data/, 5 questions a minute per user', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8000);
  assert.equal(c.dbPath, 'data/moe.sqlite');
  assert.deepEqual(c.rateLimitPerUser, { count: 5, windowMs: 60_000 });
  assert.ok(c.llamaThreads >= 1);
});

for (const [setting, value] of [
  ['PORT', 'eighty'],
  ['PORT', '70000'],
  ['LOG_QUERY_TEXT', 'maybe'],
  ['RATE_LIMIT_PER_USER', '5 per minute'],
  ['RETRAIN_INTERVAL', 'often'],
  ['RETRAIN_INTERVAL', '0'],
  ['API_KEYS', ' , '],
  ['LLAMA_THREADS', '0'],
  ['LLAMA_GPU', 'tpu'],
  ['EXPERT_MEMORY_BUDGET', 'lots'],
  ['DISCORD_API_URL', 'not a url'],
  ['ADMIN_USER_IDS', '123, <@456>'],
  ['LOG_LEVEL', 'loud'],
] as const) {
  test(`a bad ${setting} ("${value}") is refused with an error naming the setting`, () => {
    assert.throws(() => loadConfig({ [setting]: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.setting, setting);
      assert.match(err.message, new RegExp(`^${setting}: `));
      return true;
    });
  });
}

test('rates, durations and lists parse as documented', () => {
  assert.deepEqual(loadConfig({ RATE_LIMIT_PER_USER: '10/h' }).rateLimitPerUser, { count: 10, windowMs: 3_600_000 });
  assert.equal(loadConfig({ RATE_LIMIT_PER_USER: 'off' }).rateLimitPerUser, null);
  const c = loadConfig({ RETRAIN_INTERVAL: '6h', QUERY_RETENTION: 'off', ADMIN_USER_IDS: '1, 2', EXPERT_MEMORY_BUDGET: '2GiB' });
  assert.equal(c.retrainIntervalMs, 6 * 3_600_000);
  assert.equal(c.queryRetentionMs, null);
  assert.equal(loadConfig({ QUERY_RETENTION: '0s' }).queryRetentionMs, 0);
  assert.deepEqual(loadConfig({ API_KEYS: ' k1 , ,k2' }).apiKeys, ['k1', 'k2']);
  assert.deepEqual(c.discord.adminUserIds, ['1', '2']);
  assert.equal(c.expertMemoryBudgetBytes, 2 * 1024 ** 3);
});

test('settings that would break every answer are refused by the schema', () => {
  for (const [setting, value, message] of [
    ['EXPERT_TIMEOUT', '0', /must be at least 1s/],
    ['EXPERT_TIMEOUT', '10ms', /must be at least 1s/],
    ['RATE_LIMIT_PER_USER', '5/0min', /window must be longer than 0/],
    ['RATE_LIMIT_PER_USER', '0/min', /expected a rate/],
    ['RETRAIN_INTERVAL', '0s', /must be at least 100ms \(or off\)/],
    ['API_KEYS', ',', /holds no key/],
    // A bare 0 meant "off" once: ambiguous, so refused with the two ways to say it.
    ['QUERY_RETENTION', '0', /"0" is ambiguous: write off to turn it off, or a duration with its unit/],
  ] as const) {
    assert.throws(() => loadConfig({ [setting]: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${setting}=${value}`);
      assert.equal(err.setting, setting);
      assert.match(err.message, message);
      return true;
    });
  }
  assert.equal(loadConfig({ EXPERT_TIMEOUT: '1s' }).expertTimeoutMs, 1_000);
  assert.equal(loadConfig({ RATE_LIMIT_PER_USER: '0' }).rateLimitPerUser, null, '"0" still means off, as documented');
});

test('every setting is read from its environment name, blank meaning unset', () => {
  const c = loadConfig({
    HOST: ' 0.0.0.0 ', PORT: '', LOG_LEVEL: 'debug', LLAMA_GPU: 'cpu', EXPERT_MEMORY_BUDGET: 'auto', SLACK_PORT: '3100',
    SLACK_ADMIN_USER_IDS: 'U1,U2', DISCORD_API_URL: 'http://127.0.0.1:9/api', RETRAIN_MARGIN: '0.01', GATE_RELOAD_INTERVAL: '500ms',
  });
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 8000);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.llamaGpu, false);
  assert.equal(c.expertMemoryBudgetBytes, null);
  assert.equal(c.slack.port, 3100);
  assert.deepEqual(c.slack.adminUserIds, ['U1', 'U2']);
  assert.equal(c.discord.apiUrl, 'http://127.0.0.1:9/api');
  assert.equal(c.retrainMargin, 0.01);
  assert.equal(c.gateReloadIntervalMs, 500);
});

test('every setting is in .env.example (as NAME= or a commented # NAME= line) and in README\'s Configuration table', () => {
  const example = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## The `moe` CLI'));
  const names = settingNames();
  assert.ok(names.length > 30, `found ${names.length} settings`);
  for (const name of names) {
    assert.match(example, new RegExp(`^(?:# ?)?${name}=`, 'm'), `.env.example lacks ${name}`);
    assert.ok(table.includes(`\`${name}\``), `README's Configuration table lacks ${name}`);
  }
});
