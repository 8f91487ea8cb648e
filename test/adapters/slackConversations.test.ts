/**
 * Follow-ups in Slack threads, end to end: the real Bolt App over HTTP against the fake Slack, the real Router (real
 * gate, demo experts, SQLite file). Assertions are on what users see (the Web API calls) and on the decision log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BOT_USER_ID, blockTexts } from '../support/fakeSlack.js';
import { dmEvent, mention, NO_STREAM_TEAM, query, startHarness, waitForAnswer, waitForEphemeral, waitForLogs, type Harness } from './slackHarness.js';

/** A plain channel message event (no mention), as Slack sends it for message.channels. */
function channelMessage(m: { channel: string; user: string; text: string; ts: string; threadTs: string | null }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'message', channel_type: 'channel', user: m.user, text: m.text, ts: m.ts, channel: m.channel, event_ts: m.ts, ...(m.threadTs ? { thread_ts: m.threadTs } : {}), ...extra };
}

function turnsOf(h: Harness, user: string): { turn: number; follow_up: number; route_reason: string; expert: string; conversation_id: string }[] {
  return query(h, 'SELECT turn, follow_up, route_reason, expert, conversation_id FROM decisions WHERE user_id = ? ORDER BY created_at', user);
}

describe('Slack conversations in threads', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test('a plain message in a thread the bot answered is a follow-up, answered once in that thread with the same expert', async () => {
    const { q } = await mention(h, 'Is it ok to take ibuprofen every day for my back pain?', 'U0CONV01');
    await waitForAnswer(h, q.channel, q.ts);
    const followUp = h.fake.userMessage(q.channel, 'U0CONV01', 'how much is too much', q.ts);
    const callback = h.fake.eventCallback(channelMessage(followUp));
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, callback)).status, 200);
    const answers = await waitForAnswer(h, q.channel, q.ts, 2);
    assert.equal(answers.length, 2, 'the follow-up is answered in the same thread');
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, callback, { retryNum: 1 })).status, 200);
    await waitForLogs(h, 1, (l) => l.message === 'slack: duplicate delivery ignored' && l.fields.ts === followUp.ts, 'the retry to be refused');
    assert.equal(h.fake.thread(q.channel, q.ts).length, 2, 'a retried follow-up is answered once');
    const turns = turnsOf(h, 'U0CONV01');
    assert.deepEqual(turns.map((t) => [t.turn, t.follow_up, t.route_reason]), [[1, 0, 'fresh'], [2, 1, 'sticky']]);
    assert.equal(turns[1]!.expert, 'healthcare');
    assert.equal(turns[0]!.conversation_id, turns[1]!.conversation_id);
  });

  test('a message in a thread the bot never answered, and the bot\'s own or another bot\'s thread messages, are ignored', async () => {
    const root = h.fake.userMessage('C0GENERAL', 'U0CONV02', 'anyone know a good budget app?');
    const stranger = h.fake.userMessage('C0GENERAL', 'U0CONV03', 'i use a spreadsheet for my budget', root.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(stranger)));
    await waitForLogs(h, 1, (l) => l.message === 'slack: message ignored' && l.fields.ts === stranger.ts && l.fields.reason === 'a thread the bot has not answered in', 'the unknown thread to be ignored');

    const { q } = await mention(h, 'How do I set up two-factor authentication on my email?', 'U0CONV04');
    await waitForAnswer(h, q.channel, q.ts);
    // The answer is done once its hourglass is gone: nothing of it is still on the way.
    await h.fake.waitFor(() => q.reactions.size === 0, 20_000, 'the hourglass to be removed');
    const before = h.fake.calls.length;
    const otherBot = h.fake.userMessage(q.channel, 'U0OTHERBOT', 'i am a bot posting about passwords', q.ts);
    const own = h.fake.userMessage(q.channel, BOT_USER_ID, 'my own answer about passwords', q.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(otherBot, { bot_id: 'B0OTHER' })));
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(own)));
    const edited = h.fake.userMessage(q.channel, 'U0CONV04', 'edited: what about sms codes', q.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(edited, { subtype: 'message_changed' })));
    await waitForLogs(h, 2, (l) => l.message === 'slack: message ignored' && (l.fields.ts === otherBot.ts || l.fields.ts === edited.ts), 'the bot and edited messages to be ignored');
    assert.deepEqual(h.fake.calls.slice(before).map((c) => c.method), [], 'no reply to any of them');
    assert.equal(h.fake.thread(q.channel, q.ts).filter((m) => m.ts !== own.ts).length, 1, 'still the one answer');
    assert.deepEqual(query<{ n: number }>(h, "SELECT COUNT(*) AS n FROM decisions WHERE user_id IN ('U0CONV02', 'U0CONV03')")[0], { n: 0 });
  });

  test('in a DM, a top-level message starts a conversation and a reply in its thread continues it', async () => {
    const first = h.fake.userMessage('D0CONV001', 'U0CONV05', 'my credit card got charged twice for the same order');
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(dmEvent(first)));
    await waitForAnswer(h, first.channel, first.ts);
    const reply = h.fake.userMessage('D0CONV001', 'U0CONV05', 'should i call the bank or dispute it in the app', first.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(dmEvent(reply, { thread_ts: first.ts })));
    await waitForAnswer(h, first.channel, first.ts, 2);
    const second = h.fake.userMessage('D0CONV001', 'U0CONV05', 'how do i spot a phishing email');
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(dmEvent(second)));
    await waitForAnswer(h, second.channel, second.ts);
    const turns = turnsOf(h, 'U0CONV05');
    assert.deepEqual(turns.map((t) => [t.turn, t.follow_up]), [[1, 0], [2, 1], [1, 0]]);
    assert.equal(turns[0]!.conversation_id, turns[1]!.conversation_id);
    assert.notEqual(turns[2]!.conversation_id, turns[0]!.conversation_id, 'a new top-level DM is a new conversation');
  });
});

describe('Slack conversations past CONVERSATION_MAX_TURNS', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { CONVERSATION_MAX_TURNS: '2' } });
  });
  after(async () => {
    await h?.close();
  });

  test('the next message in the thread starts a fresh conversation, and its answer says so in one short line', async () => {
    const { q } = await mention(h, 'Is it ok to take ibuprofen every day for my back pain?', 'U0CONV06');
    await waitForAnswer(h, q.channel, q.ts);
    const second = h.fake.userMessage(q.channel, 'U0CONV06', 'how much is too much', q.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(second)));
    await waitForAnswer(h, q.channel, q.ts, 2);
    const third = h.fake.userMessage(q.channel, 'U0CONV06', 'what about for kids', q.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(third)));
    const answers = (await waitForAnswer(h, q.channel, q.ts, 3)).filter((m) => m.user === BOT_USER_ID);
    const notice = /New conversation: the earlier one reached its maximum length/;
    const texts = answers.map((m) => [m.text, ...blockTexts(m.blocks)].join('\n'));
    assert.equal(texts.filter((t) => notice.test(t)).length, 1, `only the third answer carries the notice:\n${texts.join('\n---\n')}`);
    assert.match(texts.at(-1)!, notice);
    const turns = turnsOf(h, 'U0CONV06');
    assert.deepEqual(turns.map((t) => [t.turn, t.follow_up]), [[1, 0], [2, 1], [1, 0]]);
    assert.notEqual(turns[2]!.conversation_id, turns[0]!.conversation_id);
  });
});

describe('Slack refusals are told to the asker alone', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { RATE_LIMIT_PER_USER: '1/min' } });
  });
  after(async () => {
    await h?.close();
  });

  test('asking too fast gets a private notice, never a message in the thread, where Slack streams and where it cannot', async () => {
    for (const [user, team] of [['U0FAST01', undefined], ['U0FAST02', NO_STREAM_TEAM]] as const) {
      const { q } = await mention(h, 'How do I set a strong password for my bank?', user, 'C0FAST', team);
      await waitForAnswer(h, q.channel, q.ts);
      const { q: again } = await mention(h, 'And how often should I change it?', user, 'C0FAST', team);
      const notice = await waitForEphemeral(h, user, /Slow down, you are asking too fast/);
      assert.equal(notice.threadTs, again.ts, 'the notice is in the refused question\'s thread');
      assert.deepEqual(h.fake.thread(again.channel, again.ts).filter((m) => m.user === BOT_USER_ID && m.ephemeralFor === null), [], `nothing public in the thread (${team ?? 'streaming'})`);
    }
    // Where Slack cannot stream, the answer's placeholder was posted before the refusal, then deleted.
    assert.ok(h.fake.callsOf('chat.delete').some((c) => c.response.ok === true), 'the placeholder was deleted');
  });

  test('a file or emoji posted in an answered thread without words is not a question: no reply at all', async () => {
    const { q } = await mention(h, 'Is it ok to take ibuprofen every day for my back pain?', 'U0FILE01');
    await waitForAnswer(h, q.channel, q.ts);
    // An ignored message is ignored before any call: once its log line is there, nothing more comes of it.
    const nothingCameOf = (m: { ts: string }[]): void => {
      for (const message of m) {
        assert.deepEqual(h.fake.callsOf('reactions.add').filter((c) => c.params.timestamp === message.ts), [], `no ⏳ on ${message.ts}`);
      }
      assert.equal(h.fake.thread(q.channel, q.ts).filter((x) => x.user === BOT_USER_ID && x.ephemeralFor === null).length, 1, 'one answer in the thread, the first');
    };
    const file = h.fake.userMessage(q.channel, 'U0FILE02', '', q.ts);
    const emoji = h.fake.userMessage(q.channel, 'U0FILE02', ':joy: 👍', q.ts);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(file, { subtype: 'file_share', files: [{ id: 'F01', name: 'xray.png' }] })));
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(channelMessage(emoji)));
    for (const m of [file, emoji]) {
      await waitForLogs(h, 1, (l) => l.message === 'slack: message ignored' && l.fields.ts === m.ts && l.fields.reason === 'no text', `${m.ts} to be ignored`);
    }
    nothingCameOf([file, emoji]);
    assert.deepEqual(h.fake.ephemerals('U0FILE02'), []);
    // Said to the bot, an empty message still gets the hint.
    const { q: bare } = await mention(h, '', 'U0FILE03');
    await waitForEphemeral(h, 'U0FILE03', /Please type a question/);
    assert.deepEqual(h.fake.thread(bare.channel, bare.ts).filter((m) => m.user === BOT_USER_ID && m.ephemeralFor === null), []);
  });
});
