/**
 * The Slack adapter in Socket Mode end to end: Bolt's SocketModeClient gets its ws://127.0.0.1 URL from the fake's
 * apps.connections.open, receives `hello`, then envelopes (events, interactivity, slash commands) and acks each by
 * envelope_id; the answers go through the fake Web API like in HTTP mode.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSlack } from '../../adapters/slack/index.js';
import { ConfigError } from '../../src/config.js';
import { BOT_TOKEN, BOT_USER_ID, FakeSlack } from '../support/fakeSlack.js';
import { testConfig } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';
import {
  ADMIN, captureLogger, contextText, decisionIdOf, mentionEvent, query, startHarness, voteBlock, waitForAnswer, waitForEphemeral, waitForLogs, type Harness, type LogLine,
} from './slackHarness.js';

describe('Slack adapter in Socket Mode', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ socket: true });
  });
  after(async () => {
    await h?.close();
  });

  test('connects over the WebSocket the Web API hands out, with no HTTP listener', () => {
    assert.equal(h.bot.mode, 'socket');
    assert.equal(h.bot.port, null);
    assert.equal(h.fake.socketCount, 1);
    const open = h.fake.callsOf('apps.connections.open');
    assert.equal(open.length, 1);
    assert.match(open[0]!.token ?? '', /^xapp-/, 'apps.connections.open uses the app-level token');
    assert.equal(h.fake.callsOf('auth.test')[0]?.token, BOT_TOKEN);
  });

  test('a mention envelope is acked, answered in its thread, and a redelivered envelope is acked but not answered again', async () => {
    const q = h.fake.userMessage('C0SOCKET', 'U0SOCK01', `<@${BOT_USER_ID}> How do I recognise a phishing link in an email?`);
    const callback = h.fake.eventCallback(mentionEvent(q));
    const ack = await h.fake.sendEnvelope('events_api', callback);
    assert.ok(typeof ack.envelope_id === 'string');
    const [answer] = await waitForAnswer(h, q.channel, q.ts);
    assert.match(contextText(answer!), /^🔐 Cybersecurity Expert · \d{1,3}%/);

    await h.fake.sendEnvelope('events_api', callback, { retryAttempt: 1 });
    await h.fake.sendEnvelope('events_api', h.fake.eventCallback(mentionEvent(q)));
    await waitForLogs(h, 2, (l) => l.message === 'slack: duplicate delivery ignored' && l.fields.ts === q.ts, 'both redeliveries to be refused');
    assert.equal(h.fake.thread(q.channel, q.ts).length, 1, 'answered once');

    const { actionId, up } = voteBlock(answer!)!;
    const click = await h.fake.sendEnvelope('interactive', h.fake.blockAction(answer!, 'U0SOCK02', actionId, up, 'feedback_buttons'));
    assert.ok(click.envelope_id);
    await waitForEphemeral(h, 'U0SOCK02', /Recorded your 👍/);
    const votes = query(h, 'SELECT user_id, vote FROM feedback WHERE decision_id = ?', decisionIdOf(answer!));
    assert.deepEqual(votes, [{ user_id: 'U0SOCK02', vote: 1 }]);
  });

  test('slash commands are acked over the socket: a refusal for non-admins, the result for admins', async () => {
    const refused = await h.fake.sendEnvelope('slash_commands', h.fake.command('/retrain', 'U0SOCK03', 'C0SOCKET'));
    assert.match(String((refused.payload as { text?: string }).text), /Only admins/);
    const cmd = h.fake.command('/retrain', ADMIN, 'C0SOCKET');
    const accepted = await h.fake.sendEnvelope('slash_commands', cmd);
    assert.match(String((accepted.payload as { text?: string }).text), /Retraining/);
    const id = String(cmd.response_url).split('/respond/')[1];
    const result = await h.fake.waitFor(() => h.fake.responses.find((r) => r.id === id), 60_000, 'the retrain result');
    assert.match(String(result.body.text), /examples used/);
  });

  test('stop() disconnects the socket', async () => {
    await h.bot.stop();
    await h.fake.waitFor(() => h.fake.socketCount === 0, 10_000, 'the socket to close');
  });
});

describe('Slack settings and start-up errors', () => {
  const logs: LogLine[] = [];
  const tmp = makeTempDir('moe-slack-');
  after(() => tmp.remove());
  const router = {} as Parameters<typeof startSlack>[0]['router'];
  const start = (env: Record<string, string>) => startSlack({ router, config: testConfig(tmp.dir, env), logger: captureLogger(logs), port: 0, host: '127.0.0.1' });

  test('a missing or misplaced token or secret is a clear error naming the setting', async () => {
    await assert.rejects(start({}), (err: unknown) => err instanceof ConfigError && err.setting === 'SLACK_BOT_TOKEN');
    await assert.rejects(start({ SLACK_BOT_TOKEN: 'xoxb-1' }), (err: unknown) =>
      err instanceof ConfigError && err.setting === 'SLACK_SIGNING_SECRET' && /SLACK_APP_TOKEN/.test(err.message));
    await assert.rejects(start({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-2' }), (err: unknown) =>
      err instanceof ConfigError && err.setting === 'SLACK_APP_TOKEN');
    await assert.rejects(start({ SLACK_BOT_TOKEN: 'xapp-1', SLACK_SIGNING_SECRET: 's' }), (err: unknown) =>
      err instanceof ConfigError && err.setting === 'SLACK_BOT_TOKEN');
  });

  test('a token Slack rejects fails start-up with the setting named, and nothing is left listening', async () => {
    const fake = new FakeSlack();
    await fake.start();
    try {
      await assert.rejects(start({ SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: fake.apiUrl }), (err: unknown) =>
        err instanceof ConfigError && err.setting === 'SLACK_BOT_TOKEN' && /invalid_auth/.test(err.message));
      await assert.rejects(start({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: 'xapp-wrong', SLACK_API_URL: fake.apiUrl }), (err: unknown) =>
        err instanceof ConfigError && err.setting === 'SLACK_APP_TOKEN');
      assert.equal(fake.socketCount, 0);
    } finally {
      await fake.close();
    }
  });
});
