import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_FEEDBACK_RULES,
  isHeldOutDataRow,
  selfTrainingExamples,
  shouldAskForFeedback,
  votesToExamples,
  type LoggedQuestion,
  type VoteRecord,
} from '../../src/learning/feedbackExamples.js';
import { LABELS, type GateModel, type Label } from '../../src/gate/types.js';
import { buildTrainingSet } from '../../src/learning/buildTrainingSet.js';

let n = 0;
function vote(overrides: Partial<VoteRecord> = {}): VoteRecord {
  n++;
  return {
    decisionId: `d${n}`, userId: `u${n}`, vote: 1, correctedExpert: null, isAdmin: false, createdAt: n,
    query: `how do I file my taxes ${n}`, expert: 'finance', fallbackReason: null, reroutedFrom: null,
    probabilities: { healthcare: 0.1, finance: 0.6, cybersecurity: 0.2, none: 0.1 },
    ...overrides,
  };
}

test('a correction is an example for the expert it names, whatever the thumb', () => {
  const { examples } = votesToExamples([vote({ vote: -1, correctedExpert: 'cybersecurity' }), vote({ vote: 1, correctedExpert: 'general' })]);
  const w = DEFAULT_FEEDBACK_RULES.correctionWeight;
  assert.deepEqual(examples.map((e) => [e.label, e.source, e.weight]), [['cybersecurity', 'correction', w], ['none', 'correction', w]]);
  assert.ok(w > DEFAULT_FEEDBACK_RULES.confirmWeight, 'a correction names the right expert: it counts more than a 👍');
});

test('👍 confirms the expert that answered; the general expert stands for off-topic', () => {
  const { examples } = votesToExamples([vote(), vote({ expert: 'general', fallbackReason: 'off_topic' })]);
  assert.deepEqual(examples.map((e) => [e.label, e.source]), [['finance', 'confirm'], ['none', 'confirm']]);
});

test('👍 on the answer of "ask another expert" is a correction of the first route', () => {
  const { examples } = votesToExamples([vote({ expert: 'healthcare', reroutedFrom: 'd-original' })]);
  assert.deepEqual(examples.map((e) => [e.label, e.source]), [['healthcare', 'reroute']]);
});

test('a bare 👎 counts for the other labels, split by the gate\'s probabilities; "ignore" drops it', () => {
  const { examples } = votesToExamples([vote({ vote: -1 })]);
  assert.deepEqual(examples.map((e) => e.label), ['healthcare', 'cybersecurity', 'none']);
  assert.ok(examples.every((e) => e.label !== 'finance'));
  assert.ok(Math.abs(examples.reduce((s, e) => s + e.weight, 0) - DEFAULT_FEEDBACK_RULES.downvoteWeight) < 1e-9);
  assert.ok(examples[1]!.weight > examples[0]!.weight, 'cybersecurity (0.2) gets more than healthcare (0.1)');
  const ignored = votesToExamples([vote({ vote: -1 })], { ...DEFAULT_FEEDBACK_RULES, downvote: 'ignore' });
  assert.equal(ignored.examples.length, 0);
  assert.equal(ignored.skipped.downvote_ignored, 1);
});

test('votes on questions whose text is gone, or on busy/unavailable fallbacks, teach nothing', () => {
  const r = votesToExamples([vote({ query: null }), vote({ query: '   ' }), vote({ expert: 'general', fallbackReason: 'expert_busy' })]);
  assert.equal(r.examples.length, 0);
  assert.deepEqual(r.skipped, { no_text: 2, expert_fallback: 1, downvote_ignored: 0 });
});

test('one user\'s votes are capped in total weight; admins count double and are not capped', () => {
  const flood = Array.from({ length: 500 }, () => vote({ userId: 'mallory', vote: -1, correctedExpert: 'healthcare' }));
  const admin = Array.from({ length: 30 }, () => vote({ userId: 'root', isAdmin: true, vote: -1, correctedExpert: 'cybersecurity' }));
  const r = votesToExamples([...flood, vote(), ...admin]);
  const total = (user: string): number => r.examples.filter((e) => e.userId === user).reduce((s, e) => s + e.weight, 0);
  assert.ok(Math.abs(total('mallory') - DEFAULT_FEEDBACK_RULES.userWeightCap) < 1e-6, `mallory weighs ${total('mallory')}`);
  assert.equal(total('root'), 30 * DEFAULT_FEEDBACK_RULES.adminMultiplier * DEFAULT_FEEDBACK_RULES.correctionWeight);
  assert.equal(r.cappedUsers, 1);
});

test('self-training keeps confident routes only, at most N per user, and never a voted decision', () => {
  const logged = [
    { decisionId: 'a', userId: 'u1', query: 'is my firewall enough', topLabel: 'cybersecurity' as const, confidence: 0.9, probabilities: null },
    { decisionId: 'b', userId: 'u1', query: 'what is this rash', topLabel: 'healthcare' as const, confidence: 0.1, probabilities: null },
    ...Array.from({ length: 150 }, (_, i) => ({ decisionId: `s${i}`, userId: 'spammer', query: `best pizza ${i}`, topLabel: 'none' as const, confidence: 0.95, probabilities: null })),
  ];
  const examples = selfTrainingExamples(logged);
  assert.equal(examples.filter((e) => e.userId === 'u1').length, 1);
  assert.equal(examples.filter((e) => e.userId === 'spammer').length, DEFAULT_FEEDBACK_RULES.selfTrainingPerUser);
  const set = buildTrainingSet([{ text: 'how do I budget', label: 'finance' }], [vote({ decisionId: 'a' })], DEFAULT_FEEDBACK_RULES, { logged, dataHoldout: 0, feedbackHoldout: 0 });
  assert.ok(!set.selfTrain.some((e) => e.decisionId === 'a'), 'the vote, not the route, teaches decision a');
  assert.equal(selfTrainingExamples(logged, { ...DEFAULT_FEEDBACK_RULES, selfTrainingMinConfidence: null }).length, 0);
});

test('the held-out split of our data is fixed, so every retraining compares on the same rows', () => {
  const texts = Array.from({ length: 2000 }, (_, i) => `question number ${i}`);
  const first = texts.filter((t) => isHeldOutDataRow(t, 0.1));
  assert.deepEqual(texts.filter((t) => isHeldOutDataRow(t, 0.1)), first);
  assert.ok(first.length > 150 && first.length < 250, `${first.length} of 2000 held out`);
});

test('a vote is invited on every low-confidence answer and on every answer of "ask another expert"', () => {
  assert.equal(shouldAskForFeedback(0.3), true);
  assert.equal(shouldAskForFeedback(0.95), false);
  assert.equal(shouldAskForFeedback(0.95, true), true);
});

function logged(i: number, probabilities: Record<Label, number>, userId = `u${i}`): LoggedQuestion {
  const top = LABELS.reduce((a, b) => (probabilities[b] > probabilities[a] ? b : a));
  return { decisionId: `q${i}`, userId, query: `question ${i}`, topLabel: top, confidence: probabilities[top], probabilities };
}

test('soft self-training: every label the gate gives at least the minimum counts, weighted by its probability', () => {
  const rules = { ...DEFAULT_FEEDBACK_RULES, selfTrainingBalanced: false };
  const examples = selfTrainingExamples([logged(1, { healthcare: 0.55, finance: 0.4, cybersecurity: 0.04, none: 0.01 })], rules);
  assert.deepEqual(examples.map((e) => [e.label, e.weight]), [['healthcare', 0.55 * rules.selfTrainingWeight], ['finance', 0.4 * rules.selfTrainingWeight]]);
  const hard = selfTrainingExamples([logged(1, { healthcare: 0.55, finance: 0.4, cybersecurity: 0.04, none: 0.01 })], { ...rules, selfTrainingSoft: false });
  assert.deepEqual(hard.map((e) => [e.label, e.weight]), [['healthcare', rules.selfTrainingWeight]]);
});

test('balanced self-training: every label weighs the same in total, and no guess more than a vote', () => {
  const sure = (label: Label): Record<Label, number> => ({ healthcare: 0, finance: 0, cybersecurity: 0, none: 0, [label]: 1 });
  const questions = [
    ...Array.from({ length: 60 }, (_, i) => logged(i, sure('healthcare'))),
    ...Array.from({ length: 20 }, (_, i) => logged(100 + i, sure('finance'))),
    ...Array.from({ length: 15 }, (_, i) => logged(200 + i, sure('cybersecurity'))),
    ...Array.from({ length: 5 }, (_, i) => logged(300 + i, sure('none'))),
  ];
  const examples = selfTrainingExamples(questions);
  const total = (l: Label): number => examples.filter((e) => e.label === l).reduce((s, e) => s + e.weight, 0);
  const mean = (100 * DEFAULT_FEEDBACK_RULES.selfTrainingWeight) / LABELS.length;
  for (const l of ['healthcare', 'finance', 'cybersecurity'] as const) assert.ok(Math.abs(total(l) - mean) < 1e-9, `${l}: ${total(l)}`);
  assert.ok(examples.every((e) => e.weight <= 1 + 1e-9), 'a guess never weighs more than a vote');
  assert.ok(Math.abs(total('none') - 5) < 1e-9, 'five guesses cannot stand for 25 questions: scaled up to weight 1 each, no more');
});

test('self-training re-scores logged questions with the active gate, not the guess logged when they were routed', () => {
  const q = logged(1, { healthcare: 0.9, finance: 0.05, cybersecurity: 0.03, none: 0.02 });
  const gate: GateModel = {
    version: 'g-test',
    route: () => ({
      expert: 'finance', confidence: 0.8, probabilities: { healthcare: 0.1, finance: 0.8, cybersecurity: 0.05, none: 0.05 },
      fallback: false, fallbackReason: null, runnerUp: 'healthcare', label: 'finance', gateVersion: 'g-test',
    }),
  };
  const opts = { logged: [q], dataHoldout: 0, feedbackHoldout: 0 };
  const data = [{ text: 'how do I budget', label: 'finance' as const }];
  assert.deepEqual(buildTrainingSet(data, [], DEFAULT_FEEDBACK_RULES, opts).selfTrain.map((e) => e.label), ['healthcare']);
  assert.deepEqual(buildTrainingSet(data, [], DEFAULT_FEEDBACK_RULES, { ...opts, activeGate: gate }).selfTrain.map((e) => e.label), ['finance']);
});
