import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../src/gate/Gate.js';
import { LABELS, type ExpertId, type Label } from '../../src/gate/types.js';
import { routeFollowUp, type ConversationRouting, type RouteReason } from '../../src/core/routeFollowUp.js';
import { topicCue, type TopicCue } from '../../src/core/topicCue.js';

/** A gate decision with these probabilities (the rest spread evenly), as the gate would return it. */
function gateSays(p: Partial<Record<Label, number>>): ReturnType<typeof decide> {
  const given = Object.values(p).reduce((a, b) => a + b, 0);
  const rest = LABELS.filter((l) => p[l] === undefined);
  const probs = LABELS.map((l) => p[l] ?? (1 - given) / rest.length);
  return decide(probs, 0.5, 'test-gate', true, 0.9);
}

/** A conversation whose earlier turns the gate put on `label` with this probability. */
function conversationOn(expert: ExpertId, evidence: Partial<Record<Label, number>>): ConversationRouting {
  const given = Object.values(evidence).reduce((a, b) => a + b, 0);
  const rest = LABELS.filter((l) => evidence[l] === undefined);
  return { expert, evidence: LABELS.map((l) => evidence[l] ?? (1 - given) / rest.length) };
}

const cases: Array<{ name: string; text: string; gate: Partial<Record<Label, number>>; conversation: ConversationRouting | null; expert: ExpertId; reason: RouteReason }> = [
  { name: 'a first message goes where the gate sends it', text: 'how do i set up 2fa on my gmail', gate: { cybersecurity: 0.97 }, conversation: null, expert: 'cybersecurity', reason: 'fresh' },
  { name: 'a terse follow-up the gate calls off-topic stays', text: 'what about for kids', gate: { none: 0.6, healthcare: 0.3 }, conversation: conversationOn('healthcare', { healthcare: 0.95 }), expert: 'healthcare', reason: 'sticky' },
  { name: 'a terse follow-up the gate sends to another domain stays', text: 'how much is too much', gate: { finance: 0.9, healthcare: 0.05 }, conversation: conversationOn('healthcare', { healthcare: 0.97 }), expert: 'healthcare', reason: 'sticky' },
  { name: 'a continuation the gate is sure is off-topic stays', text: 'what about for vegetarians', gate: { none: 0.97 }, conversation: conversationOn('healthcare', { healthcare: 0.9 }), expert: 'healthcare', reason: 'sticky' },
  { name: 'a follow-up the gate agrees with stays', text: 'can i drink on it', gate: { healthcare: 0.8 }, conversation: conversationOn('healthcare', { healthcare: 0.9 }), expert: 'healthcare', reason: 'sticky' },
  { name: 'a full question in another domain switches', text: 'mostly about money honestly, i have 8k in credit card debt and it keeps growing', gate: { finance: 0.999 }, conversation: conversationOn('healthcare', { healthcare: 0.99 }), expert: 'finance', reason: 'switched' },
  { name: 'a marked change of domain switches', text: 'also how do i know if my bank is fdic insured', gate: { finance: 0.99 }, conversation: conversationOn('cybersecurity', { cybersecurity: 0.99 }), expert: 'finance', reason: 'switched' },
  { name: 'a marked off-topic message goes to general', text: 'ok unrelated, banana bread recipe?', gate: { none: 0.999 }, conversation: conversationOn('healthcare', { healthcare: 0.99 }), expert: 'general', reason: 'switched' },
  { name: 'an off-topic question goes to general', text: 'totally unrelated but what is the longest river in the world', gate: { none: 0.999 }, conversation: conversationOn('finance', { finance: 0.99 }), expert: 'general', reason: 'switched' },
  { name: 'a domain question after small talk leaves general', text: 'quick q, is it better to pay rent with a credit card for the points', gate: { finance: 0.999 }, conversation: conversationOn('general', { none: 0.99 }), expert: 'finance', reason: 'switched' },
  { name: 'more small talk stays on general', text: 'something less common', gate: { healthcare: 0.5, none: 0.35 }, conversation: conversationOn('general', { none: 0.99 }), expert: 'general', reason: 'sticky' },
  { name: 'a return to the earlier topic switches back', text: 'back to the sugar thing, is 130 prediabetic', gate: { healthcare: 0.999 }, conversation: conversationOn('finance', { healthcare: 0.6, finance: 0.38 }), expert: 'healthcare', reason: 'switched' },
];

for (const c of cases) {
  test(`follow-up rule: ${c.name}`, () => {
    const alone = gateSays(c.gate);
    const r = routeFollowUp(c.text, alone, c.conversation);
    assert.equal(r.expert, c.expert, `score ${r.score}`);
    assert.equal(r.reason, c.reason);
    assert.equal(r.gateAlone, alone.expert, 'the decision reports what the gate said about the message alone');
    assert.equal(r.next.expert, c.expert, 'the conversation moves on with the chosen expert');
    assert.equal(r.next.evidence.length, LABELS.length);
  });
}

test('follow-up rule: the evidence of earlier turns decays towards the new message', () => {
  let state: ConversationRouting | null = null;
  for (let i = 0; i < 6; i++) state = routeFollowUp('and what else', gateSays({ finance: 0.97 }), state).next;
  assert.ok(state!.evidence[LABELS.indexOf('finance')]! > 0.9);
  const first = routeFollowUp('my knee hurts after running', gateSays({ healthcare: 0.97 }), null).next;
  assert.ok(first.evidence[LABELS.indexOf('healthcare')]! > 0.9);
});

const cueCases: Array<[string, TopicCue]> = [
  ['ok unrelated, banana bread recipe?', 'marked'],
  ['btw is my router safe', 'marked'],
  ['anyway, recommend me a podcast for my commute', 'marked'],
  ['back to the migraines, can they cause a stroke', 'marked'],
  ['can i go back to work monday if i feel ok', 'plain'],
  ['random bruises on my legs i dont remember getting', 'plain'],
  ['what about for kids', 'continuation'],
  ['and if i cant get to a doctor today?', 'continuation'],
  ['how much is too much', 'continuation'],
  ['is it hereditary?', 'continuation'],
  ['i already changed it, what else?', 'continuation'],
  ['whats the difference between a roth ira and a traditional ira', 'plain'],
];

for (const [text, cue] of cueCases) {
  test(`topic cue of "${text}" is ${cue}`, () => assert.equal(topicCue(text), cue));
}

test('routeConversation replays the earlier user turns: a terse follow-up stays where the conversation is', async () => {
  const { routeConversation } = await import('../../src/core/routeConversation.js');
  // A stand-in gate with fixed answers per message, so the test is about the replay, not about a trained model.
  const answers: Record<string, Partial<Record<Label, number>>> = {
    'is it ok to take ibuprofen every day for back pain': { healthcare: 0.98 },
    'how much is too much': { finance: 0.9, healthcare: 0.05 },
    'ok unrelated, banana bread recipe?': { none: 0.999 },
  };
  const gate = { version: 'stand-in', route: (text: string) => gateSays(answers[text]!) };
  const first = routeConversation(gate, ['is it ok to take ibuprofen every day for back pain']);
  assert.equal(first.reason, 'fresh');
  const followUp = routeConversation(gate, ['is it ok to take ibuprofen every day for back pain', 'how much is too much']);
  assert.deepEqual([followUp.expert, followUp.reason, followUp.gateAlone], ['healthcare', 'sticky', 'finance']);
  const offTopic = routeConversation(gate, ['is it ok to take ibuprofen every day for back pain', 'how much is too much', 'ok unrelated, banana bread recipe?']);
  assert.deepEqual([offTopic.expert, offTopic.reason], ['general', 'switched']);
  assert.throws(() => routeConversation(gate, []), /at least one user message/);
});
