import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../src/gate/Gate.js';
import { LABELS, type ExpertId, type Label } from '../../src/gate/types.js';
import { routeFollowUp, switchCandidate, type ConversationRouting, type RouteReason } from '../../src/core/routeFollowUp.js';
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
  { name: 'a continuation the gate puts in another domain stays', text: 'what about the fees', gate: { finance: 0.95 }, conversation: conversationOn('cybersecurity', { cybersecurity: 0.97 }), expert: 'cybersecurity', reason: 'sticky' },
  { name: 'a full domain question after a first message that fell back corrects the expert', text: 'i think my kid has lice, how do we get rid of them', gate: { healthcare: 0.99 }, conversation: conversationOn('general', { none: 0.6, healthcare: 0.3 }), expert: 'healthcare', reason: 'switched' },
  { name: 'a clarification ("i mean …") the gate puts in a domain stays on general', text: 'i mean for a tip, is 15 still normal or is 20 the standard now', gate: { finance: 0.65, none: 0.18 }, conversation: conversationOn('general', { none: 0.97 }), expert: 'general', reason: 'sticky' },
  { name: 'a "totally random" question goes to general', text: 'ok totally random, what flowers are in season in june', gate: { none: 0.999 }, conversation: conversationOn('finance', { finance: 0.99 }), expert: 'general', reason: 'switched' },
  { name: 'a longer message the gate is sure of switches, even worded as a continuation', text: 'they also got into my email i think', gate: { cybersecurity: 0.99 }, conversation: conversationOn('finance', { finance: 0.99 }), expert: 'cybersecurity', reason: 'switched' },
  { name: 'a short message the gate is just as sure of stays (it is over-confident on a few words)', text: 'do i pay it', gate: { finance: 0.999 }, conversation: conversationOn('cybersecurity', { cybersecurity: 0.99 }), expert: 'cybersecurity', reason: 'sticky' },
  { name: 'a return to the earlier topic switches back', text: 'back to the sugar thing, is 130 prediabetic', gate: { healthcare: 0.999 }, conversation: conversationOn('finance', { healthcare: 0.6, finance: 0.38 }), expert: 'healthcare', reason: 'switched' },
  { name: 'a marked change the gate still ranks on the conversation\'s label switches to the runner-up', text: 'sorry also, is a glucose monitor covered by insurance usually', gate: { healthcare: 0.6, finance: 0.38 }, conversation: conversationOn('healthcare', { healthcare: 0.97 }), expert: 'finance', reason: 'switched' },
  { name: 'a domain question after small talk the gate calls barely off-topic leaves general for the runner-up', text: 'cool. how do i know if my wifi has intruders on it', gate: { none: 0.56, cybersecurity: 0.42 }, conversation: conversationOn('general', { none: 0.97 }), expert: 'cybersecurity', reason: 'switched' },
  { name: 'a plain follow-up the gate ranks on the conversation\'s label stays, whatever its runner-up', text: 'how long should i rest it before running again', gate: { healthcare: 0.7, none: 0.28 }, conversation: conversationOn('healthcare', { healthcare: 0.97 }), expert: 'healthcare', reason: 'sticky' },
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

test('follow-up rule: the candidate is the gate\'s first label, or its runner-up when the first is the conversation\'s', () => {
  const p = { healthcare: 0.5, finance: 0.3, cybersecurity: 0.05, none: 0.15 };
  assert.deepEqual(switchCandidate(p, 'cybersecurity'), { target: 'healthcare', runnerUp: false });
  assert.deepEqual(switchCandidate(p, 'healthcare'), { target: 'finance', runnerUp: true });
  assert.deepEqual(switchCandidate({ healthcare: 0.2, finance: 0.05, cybersecurity: 0.1, none: 0.65 }, 'general'), { target: 'healthcare', runnerUp: true });
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
  ['ok totally random, what flowers are in season', 'marked'],
  ['completely random question: best pizza in town?', 'marked'],
  ['side note, my rent went up 200 a month', 'marked'],
  ['i got random charges on my card', 'plain'],
  ['i mean for a tip, is 15 still normal', 'continuation'],
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

/** A stand-in gate that counts its calls; its version keeps its cached states apart from other tests'. */
function countingGate(version: string, answers: Record<string, Partial<Record<Label, number>>>): { version: string; calls: string[]; route: (text: string) => ReturnType<typeof decide> } {
  const calls: string[] = [];
  return { version, calls, route: (text: string) => (calls.push(text), gateSays(answers[text]!)) };
}

test('routeConversation: a conversation sent again with one more turn routes only the new turn, with the same outcome as a replay', async () => {
  const { routeConversation } = await import('../../src/core/routeConversation.js');
  const answers: Record<string, Partial<Record<Label, number>>> = {
    'my bank app wont let me log in after the update': { finance: 0.6, cybersecurity: 0.35 },
    'it says my password was changed but i didnt': { cybersecurity: 0.97 },
    'how much is too much': { finance: 0.9 },
    'also is it worth paying for a credit monitoring service': { finance: 0.99 },
  };
  const turns = Object.keys(answers);
  const gate = countingGate('counting-1', answers);
  let previous = null;
  for (let n = 1; n <= turns.length; n++) { // as an OpenAI-style client sends it: the whole conversation each time
    gate.calls.length = 0;
    const r = routeConversation(gate, turns.slice(0, n));
    assert.deepEqual(gate.calls, [turns[n - 1]], `request ${n}: only the new message goes through the gate`);
    const cold = countingGate(`counting-cold-${n}`, answers); // nothing cached for this gate version: a full replay
    const replayed = routeConversation(cold, turns.slice(0, n));
    assert.equal(cold.calls.length, n);
    assert.deepEqual([r.expert, r.reason, r.next.evidence], [replayed.expert, replayed.reason, replayed.next.evidence]);
    previous = r;
  }
  assert.deepEqual([previous!.expert, previous!.reason], ['finance', 'switched']);
  // The router passes the gate's decision on the newest message, so a cached conversation costs no gate call at all.
  gate.calls.length = 0;
  const more = [...turns, 'how much is too much'];
  routeConversation(gate, more, undefined, gate.route('how much is too much'));
  assert.equal(gate.calls.length, 1, 'only the caller\'s own gate call');
});

test('routeConversation: cached states belong to one gate version', async () => {
  const { routeConversation } = await import('../../src/core/routeConversation.js');
  const answers: Record<string, Partial<Record<Label, number>>> = { 'is my router safe': { cybersecurity: 0.95 }, 'and the fridge': { none: 0.7 } };
  const a = countingGate('version-a', answers);
  routeConversation(a, ['is my router safe', 'and the fridge']);
  const b = countingGate('version-b', answers);
  routeConversation(b, ['is my router safe', 'and the fridge']);
  assert.deepEqual(b.calls, ['is my router safe', 'and the fridge'], 'a new gate replays the earlier turns instead of reading the old gate\'s state');
});
