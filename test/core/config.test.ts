import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError, parseRateLimit } from '../../src/config.js';

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
  assert.deepEqual(parseRateLimit('R', '10/h'), { count: 10, windowMs: 3_600_000 });
  assert.equal(parseRateLimit('R', 'off'), null);
  const c = loadConfig({ RETRAIN_INTERVAL: '6h', QUERY_RETENTION: 'off', ADMIN_USER_IDS: '1, 2', EXPERT_MEMORY_BUDGET: '2GiB' });
  assert.equal(c.retrainIntervalMs, 6 * 3_600_000);
  assert.equal(c.queryRetentionMs, null);
  assert.deepEqual(c.discord.adminUserIds, ['1', '2']);
  assert.equal(c.expertMemoryBudgetBytes, 2 * 1024 ** 3);
});
