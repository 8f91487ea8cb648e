/**
 * The Slack adapter end to end over HTTP (Events API): the real Bolt App receives signed deliveries from a fake
 * Slack on loopback (test/support/fakeSlack.ts) and drives the real Router (createApp: temp SQLite file, real gate,
 * real node-llama-cpp demo experts). Assertions are on what a Slack user would see: the Web API calls the bot makes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toMarkdownText, toMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { BOT_USER_ID, MARKDOWN_TEXT_LIMIT, TEAM_ID } from '../support/fakeSlack.js';
import {
  ADMIN, blocksOf, bodyText, contextText, eventually, decisionIdOf, dmEvent, mention, mentionEvent, NO_STREAM_TEAM, query, sectionsText, startHarness,
  UPDATE_INTERVAL_MS, vote, voteBlock, waitForAnswer, waitForEphemeral, waitForLogs, type Harness,
} from './slackHarness.js';

describe('Slack adapter over HTTP with demo experts', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test('a mention is acked at once and streamed natively into its thread, for the asker, with status, expert line and feedback buttons', async () => {
    const { q, status, answeredAtAck } = await mention(h, 'How do I spot a phishing email that asks me to reset my password?');
    assert.equal(status, 200);
    assert.equal(answeredAtAck, false, 'Slack got its ack before the answer was generated');
    const [answer, ...rest] = await waitForAnswer(h, q.channel, q.ts);
    assert.equal(rest.length, 0);
    assert.equal(answer!.threadTs, q.ts, 'answered in the thread of the question');
    assert.equal(answer!.stream, 'stopped', 'a natively streamed message, finished');
    const [start] = h.fake.callsOf('chat.startStream').filter((c) => c.params.thread_ts === q.ts);
    assert.deepEqual(
      { channel: start!.params.channel, recipient_team_id: start!.params.recipient_team_id, recipient_user_id: start!.params.recipient_user_id },
      { channel: 'C0GENERAL', recipient_team_id: TEAM_ID, recipient_user_id: 'U0USER01' },
      'outside a DM the stream names its recipient');
    assert.deepEqual(h.fake.callsOf('chat.update').filter((c) => c.params.channel === q.channel && c.params.ts === answer!.ts), [], 'no chat.update');
    assert.match(contextText(answer!), /^🔐 Cybersecurity Expert · \d{1,3}% · _demo model output_$/);
    const blocks = blocksOf(answer!);
    assert.equal(blocks.at(-1)!.type, 'context_actions', 'the answer ends with the feedback buttons');
    assert.ok(answer!.chunks.every((c) => c.text.length <= MARKDOWN_TEXT_LIMIT));
    for (let i = 1; i < answer!.chunks.length - 1; i++) {
      assert.ok(answer!.chunks[i]!.at - answer!.chunks[i - 1]!.at >= UPDATE_INTERVAL_MS - 20, 'appends are throttled');
    }

    const decisionId = decisionIdOf(answer!);
    const [row] = query<Record<string, unknown>>(h, 'SELECT expert, status, platform, user_id, channel_id FROM decisions WHERE id = ?', decisionId);
    assert.deepEqual(row, { expert: 'cybersecurity', status: 'answered', platform: 'slack', user_id: 'U0USER01', channel_id: 'C0GENERAL' });
    const [{ answer: text }] = query<{ answer: string }>(h, 'SELECT answer FROM decisions WHERE id = ?', decisionId) as [{ answer: string }];
    assert.equal(bodyText(answer!).trimEnd(), toMarkdownText(text), 'the whole answer, streamed once');
    // Linked right after Slack accepted the footer, so the link may land a moment after the fake showed it.
    assert.equal(await eventually(() => h.app.core.findDecisionByMessage('slack', `${answer!.channel}:${answer!.ts}`)), decisionId);

    const statuses = h.fake.statuses(q.channel, q.ts).map((s) => s.status);
    assert.ok(statuses.includes('is asking 🔐 Cybersecurity Expert…'), `status names the expert: ${JSON.stringify(statuses)}`);
    assert.equal(await eventually(() => (h.fake.statuses(q.channel, q.ts).at(-1)?.status === '' ? true : null)), true, 'the status is cleared at the end');
    const reactions = h.fake.callsOf('reactions.add').filter((c) => c.params.timestamp === q.ts);
    assert.deepEqual(reactions.map((c) => c.params.name), ['hourglass_flowing_sand'], 'shows it is working');
    assert.equal(await eventually(() => (q.reactions.size === 0 ? true : null)), true, 'the hourglass is removed after the answer');
  });

  test('a workspace that cannot stream (chat.startStream: unknown_method) is answered once and completely with chat.update, and not asked again', async () => {
    const first = await mention(h, 'How can I protect my online banking login from attackers?', 'U0NOSTR1', 'C0OTHERWS', NO_STREAM_TEAM);
    const [answer, ...extra] = await waitForAnswer(h, first.q.channel, first.q.ts);
    assert.equal(extra.length, 0, 'one answer message');
    // Posted: into a placeholder when Slack refused the stream mid-answer, directly when the answer was done first.
    assert.equal(answer!.stream, null, 'posted, not streamed');
    const [row] = query<{ answer: string }>(h, 'SELECT answer FROM decisions WHERE id = ?', decisionIdOf(answer!));
    assert.deepEqual(sectionsText(answer!).join(' ').split(/\s+/), toMrkdwn(row!.answer.trim()).split(/\s+/), 'the whole answer, once');
    assert.equal(blocksOf(answer!).at(-1)!.type, 'context_actions');
    const refusals = h.fake.callsOf('chat.startStream').filter((c) => c.params.recipient_team_id === NO_STREAM_TEAM);
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!.response.error, 'unknown_method');
    assert.equal(h.logs.filter((l) => l.message.startsWith('slack: native streaming unavailable') && l.fields.teamId === NO_STREAM_TEAM).length, 1);

    const second = await mention(h, 'Is a VPN enough to keep my laptop safe on public wifi?', 'U0NOSTR2', 'C0OTHERWS', NO_STREAM_TEAM);
    const [again] = await waitForAnswer(h, second.q.channel, second.q.ts);
    assert.equal(again!.stream, null);
    assert.equal(h.fake.callsOf('chat.startStream').filter((c) => c.params.recipient_team_id === NO_STREAM_TEAM).length, 1, 'remembered: not tried again');
    assert.ok(again!.updates.length >= 1, 'a placeholder, edited into the answer');
    for (let i = 1; i < again!.updates.length; i++) {
      assert.ok(again!.updates[i]!.at - again!.updates[i - 1]!.at >= UPDATE_INTERVAL_MS - 20, 'updates are throttled');
    }
  });

  test('when Slack refuses a stream\'s footer or start, the answer still arrives whole, once, with working feedback buttons', async () => {
    h.fake.failNext('chat.stopStream', 'invalid_blocks', { when: (p) => JSON.stringify(p.blocks ?? null).includes('feedback_buttons') });
    const footer = await mention(h, 'How do I keep my router firmware up to date?', 'U0FOOT01');
    const [streamed, controls, ...more] = await waitForAnswer(h, footer.q.channel, footer.q.ts);
    assert.equal(more.length, 0);
    assert.equal(streamed!.stream, 'stopped', 'the streamed text was finished without the refused footer');
    assert.equal(voteBlock(streamed), null);
    const decisionId = decisionIdOf(controls!);
    const [row] = query<{ answer: string }>(h, 'SELECT answer FROM decisions WHERE id = ?', decisionId);
    assert.equal(streamed!.text.trimEnd(), toMarkdownText(row!.answer), 'the whole answer in the stream');
    await vote(h, controls!, 'U0FOOT02', 'up');
    await waitForEphemeral(h, 'U0FOOT02', /Recorded your 👍/);

    h.fake.failNext('chat.startStream', 'internal_error');
    const start = await mention(h, 'Should I use the same PIN for my phone and my bank card?', 'U0FOOT03');
    const posted = await waitForAnswer(h, start.q.channel, start.q.ts);
    assert.ok(posted.every((m) => m.stream === null), 'posted as messages');
    const [postedRow] = query<{ answer: string }>(h, 'SELECT answer FROM decisions WHERE id = ?', decisionIdOf(posted.at(-1)!));
    assert.deepEqual(posted.flatMap(sectionsText).join(' ').split(/\s+/), toMrkdwn(postedRow!.answer.trim()).split(/\s+/), 'the whole answer, once');
    const next = await mention(h, 'Is it safe to use public USB charging stations?', 'U0FOOT04');
    const [again] = await waitForAnswer(h, next.q.channel, next.q.ts);
    assert.equal(again!.stream, 'stopped', 'a passing failure is not remembered as "cannot stream"');
  });

  test('a workspace that refuses thread status still gets its answer; the refusal is logged once and not retried', async () => {
    const team = 'T0NOSTATUS';
    h.fake.failNext('assistant.threads.setStatus', 'not_allowed', { times: 1000, when: (p) => p.channel_id === 'C0NOSTATUS' });
    const first = await mention(h, 'How do I turn on automatic updates on my phone?', 'U0NOSTA1', 'C0NOSTATUS', team);
    const [answer] = await waitForAnswer(h, first.q.channel, first.q.ts);
    assert.equal(answer!.stream, 'stopped');
    assert.equal(h.fake.callsOf('assistant.threads.setStatus').filter((c) => c.params.thread_ts === first.q.ts).length, 1, 'tried once');
    assert.equal(h.logs.filter((l) => l.message === 'slack: thread status unavailable in this workspace' && l.fields.teamId === team).length, 1);
    const second = await mention(h, 'Should I cover my laptop camera?', 'U0NOSTA2', 'C0NOSTATUS', team);
    await waitForAnswer(h, second.q.channel, second.q.ts);
    await h.fake.waitFor(() => second.q.reactions.size === 0, 20_000, 'the second answer to be done');
    assert.equal(h.fake.callsOf('assistant.threads.setStatus').filter((c) => c.params.thread_ts === second.q.ts).length, 0, 'not asked again');
    h.fake.clearFailures();
  });

  test('a direct message is answered in its thread; edits, bot posts and other channels\' plain messages are ignored', async () => {
    const q = h.fake.userMessage('D0DM0001', 'U0USER02', 'What is a good way to budget my monthly salary?');
    const res = await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(dmEvent(q)));
    assert.equal(res.status, 200);
    const [answer] = await waitForAnswer(h, q.channel, q.ts);
    assert.match(contextText(answer!), /^💰 Finance Expert · \d{1,3}%/);
    assert.equal(answer!.stream, 'stopped', 'streamed in the DM too');
    // The answer is done once its hourglass is gone (the status was cleared before): nothing of it is still on the way.
    await h.fake.waitFor(() => q.reactions.size === 0, 20_000, 'the hourglass to be removed');

    const before = h.fake.calls.length;
    // The bot's own message is dropped by Bolt (ignoreSelf) before any listener, so it goes first and leaves no log.
    const own = dmEvent(h.fake.userMessage('D0DM0001', BOT_USER_ID, 'my own answer about savings'));
    const ignored = [
      dmEvent(h.fake.userMessage('D0DM0001', 'U0USER02', 'edited question about my savings'), { subtype: 'message_changed' }),
      dmEvent(h.fake.userMessage('D0DM0001', 'U0USER02', 'a post by another bot about savings'), { bot_id: 'B0OTHER' }),
      { ...dmEvent(h.fake.userMessage('C0GENERAL', 'U0USER02', 'plain channel chatter about savings')), channel_type: 'channel' },
    ];
    for (const event of [own, ...ignored]) assert.equal((await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(event))).status, 200);
    const tss = new Set(ignored.map((e) => e.ts));
    const reasons = await waitForLogs(h, 3, (l) => l.message === 'slack: message ignored' && tss.has(l.fields.ts as string), 'the messages to be ignored');
    assert.deepEqual(reasons.map((l) => l.fields.reason).sort(), ['from a bot', 'not a direct message', 'subtype message_changed']);
    assert.deepEqual(h.fake.calls.slice(before).map((c) => c.method), [], 'no reply to any of them');
  });

  test('an assistant thread is greeted with one suggested prompt per expert, its questions are answered in the thread, and the Messages tab gets the prompts', async () => {
    const channel = 'D0ASSIST';
    const threadTs = h.fake.nextTs();
    const started = {
      type: 'assistant_thread_started', event_ts: h.fake.nextTs(),
      assistant_thread: { user_id: 'U0ASSIST', context: { channel_id: 'C0GENERAL', team_id: TEAM_ID, enterprise_id: null }, channel_id: channel, thread_ts: threadTs },
    };
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(started))).status, 200);
    const prompts = await h.fake.waitFor(() => h.fake.callsOf('assistant.threads.setSuggestedPrompts').find((c) => c.params.thread_ts === threadTs), 20_000, 'suggested prompts');
    assert.equal(prompts.response.ok, true);
    assert.equal(prompts.params.channel_id, channel);
    const list = prompts.params.prompts as { title: string; message: string }[];
    assert.deepEqual(list.map((p) => p.title), ['🩺 Healthcare Expert', '💰 Finance Expert', '🔐 Cybersecurity Expert', '💬 General Assistant'], 'one prompt per expert');
    assert.ok(list.every((p) => p.message.endsWith('?')), 'each prompt is a question');
    const [greeting] = await h.fake.waitFor(() => { const t = h.fake.thread(channel, threadTs); return t.length > 0 ? t : null; }, 20_000, 'the greeting');
    assert.match(greeting!.text, /Ask me anything/);

    // Clicking the finance prompt sends its message into the thread, as the user.
    const q = h.fake.userMessage(channel, 'U0ASSIST', list[1]!.message, threadTs);
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(dmEvent(q, { thread_ts: threadTs })))).status, 200);
    const thread = await waitForAnswer(h, channel, threadTs);
    const answer = thread.at(-1)!;
    assert.equal(answer.stream, 'stopped');
    assert.match(contextText(answer), /^💰 Finance Expert · \d{1,3}%/);
    const [row] = query<{ user_id: string; channel_id: string }>(h, 'SELECT user_id, channel_id FROM decisions WHERE id = ?', decisionIdOf(answer));
    assert.deepEqual(row, { user_id: 'U0ASSIST', channel_id: channel });

    const opened = { type: 'app_home_opened', user: 'U0ASSIST', channel, tab: 'messages', event_ts: h.fake.nextTs() };
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(opened))).status, 200);
    const tab = await h.fake.waitFor(() => h.fake.callsOf('assistant.threads.setSuggestedPrompts').find((c) => c.params.channel_id === channel && c.params.thread_ts === undefined), 20_000, 'prompts on the Messages tab');
    assert.equal(tab.response.ok, true);
    assert.deepEqual((tab.params.prompts as { title: string }[]).map((p) => p.title), list.map((p) => p.title));
  });

  test('a retried delivery and a duplicate with a new event id are answered once, also after a restart', async () => {
    const { q, callback } = await mention(h, 'Is it safe to reuse the same password on several websites?', 'U0USER03');
    await waitForAnswer(h, q.channel, q.ts);
    const answers = (): number => h.fake.thread(q.channel, q.ts).length;
    assert.equal(answers(), 1);

    assert.equal((await h.fake.deliverEvent(h.eventsUrl, callback, { retryNum: 1 })).status, 200, 'the retry is acked');
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(mentionEvent(q)))).status, 200, 'the duplicate is acked');
    await h.restart();
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, callback, { retryNum: 2 })).status, 200);
    assert.equal((await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(mentionEvent(q)))).status, 200);
    await waitForLogs(h, 4, (l) => l.message === 'slack: duplicate delivery ignored' && l.fields.ts === q.ts, 'the four redeliveries to be refused');
    assert.equal(answers(), 1, 'still one answer');
    const rows = query<{ n: number }>(h, "SELECT COUNT(*) AS n FROM decisions WHERE user_id = 'U0USER03'");
    assert.equal(rows[0]!.n, 1, 'one decision stored');
    assert.ok(h.logs.some((l) => l.message === 'slack: duplicate delivery ignored' && l.fields.retryNum === 2));

    // The restarted adapter still answers new questions.
    const fresh = await mention(h, 'How do I turn on two-factor authentication?', 'U0USER03');
    await waitForAnswer(h, fresh.q.channel, fresh.q.ts);
  });

  test('a forged or stale signature is refused with 401 and nothing is stored or posted', async () => {
    const count = (): number => query<{ n: number }>(h, 'SELECT COUNT(*) AS n FROM decisions')[0]!.n;
    const decisions = count();
    const q = h.fake.userMessage('C0GENERAL', 'U0EVIL01', `<@${BOT_USER_ID}> what is phishing?`);
    const forged = await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(mentionEvent(q)), { secret: 'not-the-secret' });
    assert.equal(forged.status, 401);
    const body = JSON.stringify(h.fake.eventCallback(mentionEvent(q)));
    const stale = await h.fake.post(h.eventsUrl, body, 'application/json', h.fake.sign(body, undefined, Math.floor(Date.now() / 1000) - 3600));
    assert.equal(stale.status, 401);
    const unsigned = await h.fake.post(h.eventsUrl, body, 'application/json');
    assert.equal(unsigned.status, 401);
    // The receiver refuses before any listener runs: the 401 itself is the signal that nothing was dispatched.
    assert.equal(count(), decisions);
    assert.deepEqual(h.fake.calls.filter((c) => JSON.stringify(c.params).includes(q.ts) || c.params.user === 'U0EVIL01'), [], 'nothing posted');
    assert.equal(query<{ n: number }>(h, "SELECT COUNT(*) AS n FROM deliveries WHERE key LIKE ?", `msg:C0GENERAL:${q.ts}`)[0]!.n, 0);
  });

  test('👍 feedback button, then 👎 → "which expert?" → correction stored in SQLite → "Ask <expert> instead" answers in the thread', async () => {
    const { q } = await mention(h, 'Should I use a password manager for all my accounts?', 'U0USER04');
    const [answer] = await waitForAnswer(h, q.channel, q.ts);
    const decisionId = decisionIdOf(answer!);
    const votes = (): unknown[] => query(h, 'SELECT user_id, vote, corrected_expert FROM feedback WHERE decision_id = ?', decisionId);

    const up = await vote(h, answer!, 'U0VOTER1', 'up');
    assert.equal(up.status, 200);
    const thanks = await waitForEphemeral(h, 'U0VOTER1', /Recorded your 👍/);
    assert.equal(thanks.threadTs, q.ts, 'confirmed privately, in the thread');
    assert.deepEqual(votes(), [{ user_id: 'U0VOTER1', vote: 1, corrected_expert: null }]);

    await vote(h, answer!, 'U0VOTER1', 'down');
    const menu = await waitForEphemeral(h, 'U0VOTER1', /Which expert should have answered/);
    assert.match(menu.text, /Changed your vote to 👎/);
    assert.deepEqual(votes(), [{ user_id: 'U0VOTER1', vote: -1, corrected_expert: null }], 'a later vote replaces the first');
    const blocks = blocksOf(menu);
    const select = blocks.find((b) => b.accessory?.type === 'static_select')!.accessory!;
    assert.deepEqual(select.options!.map((o) => o.text.text).sort(), ['🔐 Cybersecurity Expert', '💬 General Assistant', '💰 Finance Expert', '🩺 Healthcare Expert'].sort());
    const askInstead = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'moe_reroute');
    assert.match(askInstead?.text?.text ?? '', /^Ask .+ instead$/);

    const healthcare = select.options!.find((o) => o.text.text.includes('Healthcare'))!.value;
    await h.fake.deliverInteraction(h.eventsUrl, h.fake.blockAction(menu, 'U0VOTER1', 'moe_correct', healthcare, 'static_select'));
    await h.fake.waitFor(() => menu.updates.length > 0, 10_000, 'the private menu to be replaced');
    assert.match(menu.text, /Healthcare Expert should have answered/);
    assert.deepEqual(votes(), [{ user_id: 'U0VOTER1', vote: -1, corrected_expert: 'healthcare' }]);

    const reroute = blocksOf(menu).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'moe_reroute')!;
    assert.match(reroute.text!.text!, /Healthcare Expert/);
    await h.fake.deliverInteraction(h.eventsUrl, h.fake.blockAction(menu, 'U0VOTER1', 'moe_reroute', reroute.value!));
    const thread = await waitForAnswer(h, q.channel, q.ts, 2);
    const second = thread.at(-1)!;
    assert.match(contextText(second), /^🩺 Healthcare Expert · .*re-asked on request/);
    assert.notEqual(decisionIdOf(second), decisionId, 'the new answer has its own controls');
    const [row] = query<{ rerouted_from: string; user_id: string }>(h, 'SELECT rerouted_from, user_id FROM decisions WHERE id = ?', decisionIdOf(second));
    assert.deepEqual(row, { rerouted_from: decisionId, user_id: 'U0VOTER1' });
  });

  test(':+1: and :-1: reactions on an answer count as votes; other reactions and other messages do not', async () => {
    const { q } = await mention(h, 'How can I tell if my laptop has malware?', 'U0USER05');
    const [answer] = await waitForAnswer(h, q.channel, q.ts);
    const decisionId = decisionIdOf(answer!);
    const react = (user: string, reaction: string, ts = answer!.ts) => h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback({
      type: 'reaction_added', user, reaction, item_user: BOT_USER_ID, item: { type: 'message', channel: q.channel, ts }, event_ts: h.fake.nextTs(),
    }));
    await react('U0REACT1', '+1');
    const ok = await waitForEphemeral(h, 'U0REACT1', /Recorded your 👍/);
    assert.equal(ok.threadTs, q.ts);
    await react('U0REACT2', '-1::skin-tone-3');
    await waitForEphemeral(h, 'U0REACT2', /Which expert should have answered/);
    const ignoredBefore = h.logs.filter((l) => l.message === 'slack: reaction ignored').length;
    // The bot's own reaction is dropped by Bolt (ignoreSelf) before any listener, so it goes first and leaves no log.
    await react(BOT_USER_ID, '+1');
    await react('U0REACT3', 'tada');
    await react('U0REACT3', '+1', q.ts);
    const ignored = await waitForLogs(h, ignoredBefore + 2, (l) => l.message === 'slack: reaction ignored', 'the reactions to be ignored');
    assert.deepEqual(ignored.slice(ignoredBefore).map((l) => l.fields.reason).sort(), ['not a vote', 'not an answer']);
    const rows = query(h, 'SELECT user_id, vote FROM feedback WHERE decision_id = ? ORDER BY user_id', decisionId);
    assert.deepEqual(rows, [{ user_id: 'U0REACT1', vote: 1 }, { user_id: 'U0REACT2', vote: -1 }]);
    assert.deepEqual(h.fake.ephemerals('U0REACT3'), []);
  });

  test('/retrain: admins get the result, everyone else an ephemeral refusal', async () => {
    const versions = (): number => query<{ n: number }>(h, 'SELECT COUNT(*) AS n FROM gate_versions')[0]!.n;
    const before = versions();
    const refused = await h.fake.deliverCommand(h.eventsUrl, h.fake.command('/retrain', 'U0USER06', 'C0GENERAL'));
    assert.equal(refused.status, 200);
    const refusal = JSON.parse(refused.body) as { response_type: string; text: string };
    assert.equal(refusal.response_type, 'ephemeral');
    assert.match(refusal.text, /Only admins/);

    const cmd = h.fake.command('/retrain', ADMIN, 'C0GENERAL');
    const accepted = await h.fake.deliverCommand(h.eventsUrl, cmd);
    assert.equal(accepted.status, 200);
    assert.match((JSON.parse(accepted.body) as { text: string }).text, /Retraining/);
    const id = String(cmd.response_url).split('/respond/')[1];
    const result = await h.fake.waitFor(() => h.fake.responses.find((r) => r.id === id), 60_000, 'the retrain result');
    assert.match(String(result.body.text), /(promoted|kept) gate[\s\S]*examples used: \d+[\s\S]*held-out accuracy: old .+ → new [\d.]+%/);
    assert.ok(versions() > before, 'a candidate gate was recorded');

    const stats = await h.fake.deliverCommand(h.eventsUrl, h.fake.command('/moe-stats', 'U0USER06', 'C0GENERAL'));
    assert.match((JSON.parse(stats.body) as { text: string }).text, /^Decisions: \d+ · fallback rate \d+%/);
  });

  test('bad input gets a clear private message, never a crash: empty mention, huge text, malformed payloads', async () => {
    const empty = h.fake.userMessage('C0GENERAL', 'U0USER07', `<@${BOT_USER_ID}>   `);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(mentionEvent(empty)));
    await waitForEphemeral(h, 'U0USER07', /Please type a question/);

    const huge = h.fake.userMessage('C0GENERAL', 'U0USER08', `<@${BOT_USER_ID}> ${'why is my bank charging fees? '.repeat(700)}`);
    await h.fake.deliverEvent(h.eventsUrl, h.fake.eventCallback(mentionEvent(huge)));
    await waitForEphemeral(h, 'U0USER08', /too long \(at most 4000 characters\)/);
    assert.equal(query<{ n: number }>(h, "SELECT COUNT(*) AS n FROM decisions WHERE user_id IN ('U0USER07', 'U0USER08')")[0]!.n, 0);

    const garbage = '{"type":"event_callback","event":';
    const bad = await h.fake.post(h.eventsUrl, garbage, 'application/json', h.fake.sign(garbage));
    assert.ok(bad.status >= 400 && bad.status < 600, `malformed JSON → ${bad.status}`);
    const badForm = await h.fake.deliverInteraction(h.eventsUrl, 'not json at all');
    assert.ok(badForm.status >= 400, `malformed payload= → ${badForm.status}`);
    const noEvent = await h.fake.deliverEvent(h.eventsUrl, { type: 'event_callback', event_id: 'Ev0BROKEN', team_id: 'T0FAKE', event: { type: 'app_mention' } });
    assert.ok(noEvent.status < 500, 'an event without fields is acked');

    const { q } = await mention(h, 'What is the difference between a virus and a worm?', 'U0USER09');
    const [answer] = await waitForAnswer(h, q.channel, q.ts);
    const tampered = await h.fake.deliverInteraction(h.eventsUrl, h.fake.blockAction(answer!, 'U0USER09', voteBlock(answer!)!.actionId, 'x|y|z|w', 'feedback_buttons'));
    assert.equal(tampered.status, 200);
    await waitForEphemeral(h, 'U0USER09', /no longer supported/);
    const unknown = await h.fake.deliverInteraction(h.eventsUrl, h.fake.blockAction(answer!, 'U0USER09', voteBlock(answer!)!.actionId, 'no-such-decision|+1', 'feedback_buttons'));
    assert.equal(unknown.status, 200);
    await waitForEphemeral(h, 'U0USER09', /no longer know that answer/);
  });

  test('mentions in a question never notify anyone and are stored readable', async () => {
    const { q } = await mention(h, '<!channel> <!here> @everyone is <@U0SOMEONE|bob> right that phishing emails fake the sender? &lt;script&gt;', 'U0USER10');
    const thread = await waitForAnswer(h, q.channel, q.ts);
    const [row] = query<{ query: string }>(h, "SELECT query FROM decisions WHERE user_id = 'U0USER10'");
    assert.equal(row!.query, '@channel @here @everyone is @bob right that phishing emails fake the sender? <script>');
    for (const c of h.fake.calls.filter((x) => x.method.startsWith('chat.'))) {
      const sent = JSON.stringify(c.params);
      assert.doesNotMatch(sent, /<!(channel|here|everyone)|<@U|(^|[^\u200b])@(here|channel|everyone)\b/, `${c.method} posts a mention`);
    }
    assert.ok(thread.length >= 1);
  });

  test('rate limited and rejected Slack calls: Retry-After is honoured, a failing update is reported, the bot lives on', async () => {
    // chat.update carries answers only where Slack cannot stream, and (after the restart above) only once the adapter
    // knows that workspace cannot: the first answer there finds out.
    const learn = await mention(h, 'What makes a password strong?', 'U0USER14', 'C0OTHERWS', NO_STREAM_TEAM);
    await waitForAnswer(h, learn.q.channel, learn.q.ts);
    h.fake.failNext('chat.update', 'ratelimited', { retryAfterSec: 1 });
    const { q } = await mention(h, 'How often should I back up my files to protect against ransomware?', 'U0USER11', 'C0OTHERWS', NO_STREAM_TEAM);
    const [answer] = await waitForAnswer(h, q.channel, q.ts);
    assert.ok(decisionIdOf(answer!));
    assert.ok(h.fake.calls.some((c) => c.method === 'chat.update' && c.status === 429), 'one update was rate limited and retried');

    h.fake.failNext('chat.update', 'invalid_blocks', { when: (p) => JSON.stringify(p.blocks ?? null).includes('feedback_buttons') });
    const plain = await mention(h, 'Should I click links in unexpected text messages from my bank?', 'U0USER13', 'C0OTHERWS', NO_STREAM_TEAM);
    const shown = await h.fake.waitFor(() => h.fake.thread(plain.q.channel, plain.q.ts).find((m) => m.updates.length > 0 && m.blocks.length === 0), 60_000, 'plain-text answer');
    assert.match(shown.text, /^🔐 Cybersecurity Expert · \d{1,3}%/, 'refused blocks → the answer as plain text');
    // The adapter links the message after Slack accepted the update, so the link may land a moment after the fake saw it.
    assert.ok(await eventually(() => h.app.core.findDecisionByMessage('slack', `${shown.channel}:${shown.ts}`)), 'reactions on it still count');

    h.fake.failNext('chat.update', 'invalid_blocks', { times: 50 });
    const second = await mention(h, 'What is two-factor authentication?', 'U0USER12', 'C0OTHERWS', NO_STREAM_TEAM);
    await waitForEphemeral(h, 'U0USER12', /Something went wrong/);
    h.fake.clearFailures();
    assert.ok(h.logs.some((l) => l.level === 'error' && l.message === 'slack: question failed'));
    assert.equal(await eventually(() => (second.q.reactions.size === 0 ? true : null)), true, 'the hourglass is removed even after a failure');
  });

  test('20 concurrent mentions are each answered exactly once', async () => {
    const asks = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      mention(h, `How do I protect my home wifi network from intruders? (${i})`, `U0CONC${String(i).padStart(2, '0')}`)));
    for (const { q } of asks) await waitForAnswer(h, q.channel, q.ts, 1, 120_000);
    for (const { q } of asks) assert.equal(h.fake.thread(q.channel, q.ts).length, 1);
    const rows = query<{ n: number }>(h, "SELECT COUNT(*) AS n FROM decisions WHERE user_id LIKE 'U0CONC%' AND status = 'answered'");
    assert.equal(rows[0]!.n, 20);
  });

  test('nothing crashed: the only errors logged are the injected Slack failures and the malformed deliveries', () => {
    const errors = h.logs.filter((l) => l.level === 'error').map((l) => `${l.message} ${String(l.fields.err ?? '')}`);
    const unexpected = errors.filter((e) => !/invalid_blocks|slack: question failed|parse|JSON|payload/i.test(e));
    assert.deepEqual(unexpected, []);
    assert.ok(h.fake.callsOf('chat.postMessage').every((c) => c.response.ok === true), 'every post was accepted');
  });
});
