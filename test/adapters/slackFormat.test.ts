/** Pure parts of the Slack adapter: escaping, question parsing, Block Kit limits, action values and reaction votes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMrkdwn, questionFromSlack, toMarkdownText, toMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { answerMessages, MESSAGE_LIMIT, SECTION_LIMIT, splitForSlack, streamingMessage } from '../../adapters/slack/blocks.js';
import { ACTION, encodeFeedbackValues, encodeValue, parseAction, type SlackAction } from '../../adapters/slack/actionIds.js';
import { voteFromReaction } from '../../adapters/slack/feedback.js';
import { slackSettings } from '../../adapters/slack/connection.js';
import { loadConfig } from '../../src/config.js';
import fs from 'node:fs';
import path from 'node:path';
import { suggestedPrompts } from '../../adapters/slack/assistant.js';
import { REPO_ROOT } from '../support/testApp.js';
import type { AskResult } from '../../src/core/types.js';
import { blockTexts, validateBlocks } from '../support/fakeSlack.js';

const cyber = { id: 'cybersecurity', displayName: 'Cybersecurity Expert', legacyName: 'CybersecurityExpert', description: 'd', emoji: '🔐', isFallback: false, demo: true } as const;
const finance = { ...cyber, id: 'finance', displayName: 'Finance Expert', emoji: '💰' } as const;

function result(response: string, extra: Partial<AskResult> = {}): AskResult {
  return {
    decisionId: '3f2c1a9e-1b2c-4d5e-8f90-123456789abc', expert: cyber, confidence: 0.92,
    probabilities: { healthcare: 0.02, finance: 0.03, cybersecurity: 0.92, none: 0.03 }, fallbackReason: null, runnerUp: finance,
    response, demo: true, reroutedFrom: null, latencyMs: 5, feedbackWanted: false, ...extra,
  };
}

test('escaping: &, <, > per Slack rules, and @here/@channel/@everyone defused', () => {
  assert.equal(escapeMrkdwn('a < b && c > d'), 'a &lt; b &amp;&amp; c &gt; d');
  assert.equal(escapeMrkdwn('<!channel> <@U123> <!here|here>'), '&lt;!channel&gt; &lt;@U123&gt; &lt;!here|here&gt;');
  for (const word of ['@here', '@channel', '@everyone', '@HERE']) assert.doesNotMatch(escapeMrkdwn(`hi ${word}!`), /@(here|channel|everyone)\b/i);
  assert.equal(escapeMrkdwn('mail me at bob@example.com'), 'mail me at bob@example.com');
  assert.equal(toMrkdwn('use **strong** passwords & 2FA'), 'use *strong* passwords &amp; 2FA');
});

test('a received message becomes the plain question: bot mention removed, entities readable, escapes undone', () => {
  assert.equal(questionFromSlack('<@UBOT> what is <!channel> phishing?', 'UBOT'), 'what is @channel phishing?');
  assert.equal(questionFromSlack('<@UBOT|moe>   is <@U1|ann> right about <https://x.test|this link> &amp; <#C1|general>?', 'UBOT'),
    'is @ann right about this link (https://x.test) & #general?');
  assert.equal(questionFromSlack('<!here> &lt;b&gt; <!subteam^S1|@admins> <mailto:a@b.c>'), '@here <b> @admins mailto:a@b.c');
  assert.equal(questionFromSlack('<@UBOT>', 'UBOT'), '');
});

test('a 20,000-character answer: sections ≤ 2,900, messages ≤ 10,000, valid blocks, nothing lost, controls on the last', () => {
  const sentence = (i: number): string => `Point ${i}: keep <b>software</b> updated & use a password manager for every account.`;
  const text = Array.from({ length: 12 }, (_, p) => Array.from({ length: 20 }, (_, s) => sentence(p * 20 + s)).join(' ')).join('\n\n');
  assert.ok(text.length > 20_000);
  const messages = answerMessages(result(text));
  assert.ok(messages.length >= 3, `${messages.length} messages`);
  for (const [i, m] of messages.entries()) {
    assert.equal(validateBlocks(m.blocks), null, `message ${i} is valid`);
    const sections = m.blocks.filter((b) => b.type === 'section');
    for (const s of sections) assert.ok(s.type === 'section' && s.text.text.length <= SECTION_LIMIT);
    assert.ok(blockTexts(sections).join('').length <= MESSAGE_LIMIT);
    assert.equal(m.blocks.some((b) => b.type === 'context_actions'), i === messages.length - 1, 'feedback buttons only on the last message');
    assert.ok(m.text.length <= 2000, 'a short notification text');
  }
  const joined = messages.flatMap((m) => m.blocks.filter((b) => b.type === 'section').map((b) => (b.type === 'section' ? b.text.text : '')));
  assert.deepEqual(joined.join(' ').split(/\s+/), toMrkdwn(text).split(/\s+/), 'every word, in order, escaped once');
});

test('splitting never cuts an escape: text full of & and < stays within limits after escaping', () => {
  const raw = Array.from({ length: 3000 }, (_, i) => (i % 2 ? '&&' : '<<')).join(' ');
  for (const piece of splitForSlack(raw, SECTION_LIMIT)) {
    const escaped = toMrkdwn(piece);
    assert.ok(escaped.length <= SECTION_LIMIT);
    assert.doesNotMatch(escaped, /&(?!amp;|lt;|gt;)/, 'no broken entity');
  }
});

test('mentions in an answer are escaped in every block and in the notification text', () => {
  const [m] = answerMessages(result('Tell <!channel> and <@U123> and @here: <script>alert(1)</script>'));
  const all = JSON.stringify(m);
  assert.doesNotMatch(all, /<!channel>|<@U123>|<script>|(^|[^\u200b])@here/);
  assert.match(all, /&lt;!channel&gt;/);
});

test('the expert line: confidence, fallback reason, demo label; an empty answer still shows something', () => {
  const [m] = answerMessages(result('ok'));
  const context = m!.blocks.find((b) => b.type === 'context');
  assert.deepEqual(context, { type: 'context', elements: [{ type: 'mrkdwn', text: '🔐 Cybersecurity Expert · 92% · _demo model output_' }] });
  const [fb] = answerMessages(result('', { fallbackReason: 'unsure', demo: false }));
  assert.match(JSON.stringify(fb), /fallback: the gate was unsure/);
  assert.match(JSON.stringify(fb), /empty answer/);
  const preview = streamingMessage('🔐 Cybersecurity Expert · 92%', 'x '.repeat(9000));
  assert.equal(validateBlocks(preview.blocks), null, 'a long streaming preview is valid too');
});

test('an answer the gate was unsure about invites a vote above the buttons; a confident one does not', () => {
  const contexts = (r: AskResult): string[] => answerMessages(r).flatMap((m) => m.blocks.filter((b) => b.type === 'context').map((b) => JSON.stringify(b)));
  const unsure = answerMessages(result('maybe', { confidence: 0.41, feedbackWanted: true }));
  const blocks = unsure[unsure.length - 1]!.blocks;
  assert.equal(validateBlocks(blocks), null);
  const inviteAt = blocks.findIndex((b) => b.type === 'context' && JSON.stringify(b).includes('Not sure I picked the right expert'));
  assert.ok(inviteAt > 0 && blocks[inviteAt + 1]?.type === 'context_actions', 'the invite sits right above the 👍/👎 buttons');
  assert.ok(contexts(result('sure')).every((c) => !c.includes('Not sure')));
});

test('action values round-trip and malformed or foreign ones are refused', () => {
  const id = '3f2c1a9e-1b2c-4d5e-8f90-123456789abc';
  const cases: [string, SlackAction][] = [
    [ACTION.upvote, { kind: 'upvote', decisionId: id }],
    [ACTION.downvote, { kind: 'downvote', decisionId: id, runnerUp: 'finance' }],
    [ACTION.correct, { kind: 'correct', decisionId: id, expertId: 'healthcare', threadTs: '1700000000.000100' }],
    [ACTION.reroute, { kind: 'reroute', decisionId: id, expertId: 'general', threadTs: null }],
  ];
  for (const [actionId, action] of cases) assert.deepEqual(parseAction(actionId, encodeValue(action)), action);
  for (const [actionId, value] of [
    [ACTION.upvote, undefined], [ACTION.upvote, ''], [ACTION.upvote, 'a b'], [ACTION.upvote, `${id}|finance`],
    [ACTION.downvote, `${id}|wizard`], [ACTION.correct, `${id}|finance|not-a-ts`], [ACTION.reroute, `${id}|finance|1.2|x`], ['other', id],
  ] as [string, string | undefined][]) {
    assert.equal(parseAction(actionId, value), null, `${actionId} ${value}`);
  }
});

test('feedback_buttons: 👍 and 👎 values parse to the same votes as the old buttons; tampered ones are refused', () => {
  const id = '3f2c1a9e-1b2c-4d5e-8f90-123456789abc';
  const { positive, negative } = encodeFeedbackValues(id, 'finance');
  assert.deepEqual(parseAction(ACTION.feedback, positive), { kind: 'upvote', decisionId: id });
  assert.deepEqual(parseAction(ACTION.feedback, negative), { kind: 'downvote', decisionId: id, runnerUp: 'finance' });
  for (const value of [id, `${id}|+1|finance`, `${id}|-1`, `${id}|-1|wizard`, `${id}|0`, `x y|+1`]) {
    assert.equal(parseAction(ACTION.feedback, value), null, value);
  }
  const [m] = answerMessages(result('ok'));
  const block = m!.blocks.at(-1)!;
  assert.equal(block.type, 'context_actions');
  assert.equal(validateBlocks([block]), null);
  assert.match(JSON.stringify(block), /"type":"feedback_buttons".*"text":"👍".*"text":"👎"/);
});

test('streamed markdown breaks mentions without changing anything else, and pieces cut at spaces escape like the whole', () => {
  const text = 'Tell <!channel> and <@U123> in <#C1> and @here: use **strong** passwords & <b>2FA</b>; mail bob@example.com';
  const out = toMarkdownText(text);
  assert.doesNotMatch(out, /<[!@#]|(^|[^\u200b])@(here|channel|everyone)\b/);
  assert.equal(out.replace(/\u200b/g, ''), text, 'only zero-width spaces added');
  const words = text.split(' ');
  const pieces = [words.slice(0, 5).join(' ') + ' ', words.slice(5).join(' ')];
  assert.equal(pieces.map(toMarkdownText).join(''), out);
});

test('reactions: :+1:/:thumbsup: (any skin tone) up, :-1:/:thumbsdown: down, others none', () => {
  assert.equal(voteFromReaction('+1'), 1);
  assert.equal(voteFromReaction('thumbsup::skin-tone-4'), 1);
  assert.equal(voteFromReaction('-1::skin-tone-2'), -1);
  assert.equal(voteFromReaction('thumbsdown'), -1);
  assert.equal(voteFromReaction('tada'), null);
});

test('connection mode follows the settings: Socket Mode with an app token, else HTTP', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1' };
  assert.equal(slackSettings(loadConfig({ ...base, SLACK_APP_TOKEN: 'xapp-1' })).mode, 'socket');
  assert.equal(slackSettings(loadConfig({ ...base, SLACK_SIGNING_SECRET: 's' })).mode, 'http');
  assert.equal(slackSettings(loadConfig({ ...base, SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api' })).apiUrl, 'http://127.0.0.1:9/api/');
});

test('the manifest asks for what the adapter uses: the AI-app feature, its scope, and every event the adapter listens to', () => {
  const manifest = fs.readFileSync(path.join(REPO_ROOT, 'adapters/slack/manifest.yml'), 'utf8');
  const listOf = (key: string): string[] => {
    const block = new RegExp(`^( *)${key}:\\n((?:\\1  +- .*\\n)+)`, 'm').exec(manifest);
    assert.ok(block, `${key} in the manifest`);
    return block[2]!.split('\n').map((l) => l.replace(/^\s*- /, '').trim()).filter(Boolean);
  };
  assert.match(manifest, /^ {2}assistant_view:\n {4}assistant_description: \S/m);
  for (const scope of ['app_mentions:read', 'assistant:write', 'chat:write', 'im:history', 'reactions:read', 'reactions:write', 'commands']) {
    assert.ok(listOf('bot').includes(scope), scope);
  }
  for (const event of ['app_home_opened', 'app_mention', 'assistant_thread_started', 'assistant_thread_context_changed', 'message.im', 'reaction_added']) {
    assert.ok(listOf('bot_events').includes(event), event);
  }
});

test('suggested prompts: one per expert, at most four (Slack\'s limit), domain experts before the fallback', () => {
  const general = { ...cyber, id: 'general', displayName: 'General Assistant', emoji: '💬', isFallback: true } as const;
  const prompts = suggestedPrompts([general, cyber, finance]);
  assert.deepEqual(prompts.map((p) => p.title), ['🔐 Cybersecurity Expert', '💰 Finance Expert', '💬 General Assistant']);
  assert.ok(prompts.every((p) => p.message.length > 10));
  assert.equal(suggestedPrompts([cyber, finance, cyber, finance, general]).length, 4);
});
