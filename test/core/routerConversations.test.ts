/** Conversations through Router.ask: the follow-up rule, the decision row, history reaching the prompt, restarts. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RouterObserver } from '../../src/core/Router.js';
import { createTestApp, type TestApp } from '../support/testApp.js';

let app: TestApp;
const promptTokens = new Map<string, number>();

before(async () => {
  app = await createTestApp({ CONVERSATION_MAX_TURNS: '4' }, { maxTokens: 24 });
  const observer: RouterObserver = { onAnswered: (r, meta) => void promptTokens.set(r.decisionId, meta.promptTokens) };
  app.router.observe(observer);
});
after(() => app.dispose());

const ask = (query: string, conversationKey: string | null, followUpOf: string | null = null) =>
  app.router.ask(query, { platform: 'slack', userId: 'u1', channelId: 'C1', conversationKey, followUpOf });

test('a terse follow-up stays with the conversation\'s expert; the row records follow-up, conversation, gate alone and reason', async () => {
  const first = await ask('is it ok to take ibuprofen every day for my back pain', 'slack:C1:100.1');
  assert.equal(first.expert.id, 'healthcare');
  assert.deepEqual(first.conversation && [first.conversation.turn, first.conversation.followUp, first.conversation.reason], [1, false, 'fresh']);
  const followUp = await ask('how much is too much', 'slack:C1:100.1');
  assert.equal(followUp.expert.id, 'healthcare');
  assert.equal(followUp.conversation?.turn, 2);
  assert.equal(followUp.conversation?.followUp, true);
  assert.equal(followUp.conversation?.reason, 'sticky');
  const row = app.store.getDecision(followUp.decisionId)!;
  assert.equal(row.conversation?.followUp, true);
  assert.equal(row.conversation?.reason, 'sticky');
  assert.equal(row.conversation?.chosenExpert, 'healthcare');
  assert.equal(row.conversation?.id, app.store.getDecision(first.decisionId)!.conversation?.id, 'both turns are one conversation');
  assert.equal(row.gateExpert, followUp.conversation?.gateAlone, 'gate_expert is what the gate said about the message alone');
  assert.ok(promptTokens.get(followUp.decisionId)! > promptTokens.get(first.decisionId)! + 10,
    `the first turn reaches the expert's prompt: ${promptTokens.get(first.decisionId)} → ${promptTokens.get(followUp.decisionId)} tokens`);
});

test('a clearly off-topic follow-up switches to general, a new domain question to its expert, and the history goes along', async () => {
  const key = 'slack:C1:200.1';
  await ask('my credit card got charged twice for the same order', key);
  const offTopic = await ask('ok unrelated, whats a good banana bread recipe?', key);
  assert.deepEqual([offTopic.expert.id, offTopic.conversation?.reason], ['general', 'switched']);
  const back = await ask('back to my card, should i call the bank or dispute it in the app', key);
  assert.deepEqual([back.expert.id, back.conversation?.reason], ['finance', 'switched']);
  assert.ok(promptTokens.get(back.decisionId)! > promptTokens.get(offTopic.decisionId)!, 'the switched expert sees the earlier turns too');
});

test('followUpOf continues the conversation of an earlier answer; a new conversation past CONVERSATION_MAX_TURNS says so', async () => {
  const first = await ask('how do i set up 2fa on my gmail', null);
  assert.ok(first.conversation?.key.startsWith('slack:'), 'a question without a key starts its own conversation');
  const second = await ask('what if i lose my phone', null, first.decisionId);
  assert.deepEqual([second.expert.id, second.conversation?.turn, second.conversation?.key], ['cybersecurity', 2, first.conversation?.key]);
  await ask('and on my work account?', null, second.decisionId);
  await ask('is sms ok then', null, first.decisionId);
  const fifth = await ask('what about passkeys', null, first.decisionId);
  assert.deepEqual([fifth.conversation?.turn, fifth.conversation?.restarted, fifth.conversation?.reason], [1, 'max_turns', 'fresh']);
});

test('a re-routed follow-up stays in its conversation, and the conversation follows the picked expert', async () => {
  const key = 'http:reroute-1';
  await ask('what foods are high in iron, i think im anemic', key);
  const followUp = await ask('what about for vegetarians', key);
  const rerouted = await app.router.reroute(followUp.decisionId, 'general', { platform: 'slack', userId: 'u1' });
  assert.equal(rerouted.conversation?.turn, followUp.conversation?.turn);
  assert.equal(app.store.getDecision(rerouted.decisionId)!.conversation?.chosenExpert, 'general');
  const next = await ask('and is tofu enough', key);
  assert.equal(next.conversation?.turn, 3);
  assert.equal(next.expert.id, 'general', 'the next follow-up stays with the expert the user picked');
});

test('turns of a caller that sends the whole conversation (/v1) are read back from the log by a caller under the same key that does not', async () => {
  const key = 'http:v1-then-predict';
  const http = (query: string, history?: { question: string; answer: string }[]) =>
    app.router.ask(query, { platform: 'http', userId: null, conversationKey: key, ...(history ? { history } : {}) });
  const first = await http('is it ok to take ibuprofen every day for my back pain');
  const second = await http('how much is too much', [{ question: 'is it ok to take ibuprofen every day for my back pain', answer: first.response }]);
  assert.equal(second.conversation?.turn, 2);
  const third = await http('and with coffee?', [
    { question: 'how much is too much', answer: second.response }, { question: 'is it ok to take ibuprofen every day for my back pain', answer: first.response },
  ]);
  // No history sent: the expert gets the three earlier turns (the third one's text was never kept in memory).
  const fourth = await http('thanks, anything else?');
  assert.equal(fourth.conversation?.turn, 4);
  assert.ok(promptTokens.get(fourth.decisionId)! > promptTokens.get(third.decisionId)!, `${promptTokens.get(third.decisionId)} → ${promptTokens.get(fourth.decisionId)} prompt tokens`);
});
