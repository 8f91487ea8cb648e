import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decide } from '../../src/gate/Gate.js';
import { readLabelledCsv } from '../../src/gate/readLabelledCsv.js';
import { trainGate } from '../../src/gate/trainGate.js';
import { LABELS, type ExpertId, type Label } from '../../src/gate/types.js';
import { routeTurns, scoreRule, type RoutedConversation, type RuleName } from '../../src/core/evaluateFollowUps.js';
import { readConversations } from '../../src/core/readConversations.js';
import { fitFollowUp } from '../../scripts/fitFollowUp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A conversation whose gate decisions on each message alone are given (the top label with 0.97, the rest spread). */
function conversation(turns: Array<[text: string, gateTop: Label, expected: ExpertId]>): RoutedConversation {
  return {
    texts: turns.map((t) => t[0]),
    expected: turns.map((t) => t[2]),
    alone: turns.map(([, top]) => decide(LABELS.map((l) => (l === top ? 0.97 : 0.01)), 0.5, 'test-gate', true, 0.9)),
  };
}

// Counted by hand from the definitions: a switch is a turn whose expected expert differs from the previous turn's; a
// false switch is a stay whose chosen expert differs from the one chosen for the previous turn.
const set = [
  // A terse follow-up the gate alone sends elsewhere, then a real switch.
  conversation([['is ibuprofen ok every day', 'healthcare', 'healthcare'], ['how much is too much', 'finance', 'healthcare'], ['ok unrelated, how do i budget for a wedding', 'finance', 'finance']]),
  // A first message the gate misroutes; the follow-up's own view is right.
  conversation([['how many hours of sleep does a teenager need', 'none', 'healthcare'], ['is melatonin safe for a 14 year old', 'healthcare', 'healthcare']]),
];
const cases: Array<{ rule: RuleName; firstRight: number; followRight: number; caught: number; falseSwitches: number; correcting: number }> = [
  { rule: 'gateAlone', firstRight: 1, followRight: 2, caught: 1, falseSwitches: 2, correcting: 1 },
  { rule: 'alwaysSticky', firstRight: 1, followRight: 1, caught: 0, falseSwitches: 0, correcting: 0 },
];
for (const c of cases) {
  test(`conversation metrics: ${c.rule}`, () => {
    const m = scoreRule(set, c.rule);
    assert.deepEqual(
      [m.firstTurns, m.firstTurnAccuracy, m.followUps, m.followUpAccuracy, m.switches, m.switchesCaught, m.stays, m.falseSwitches, m.correctingSwitches],
      [2, c.firstRight / 2, 3, c.followRight / 3, 1, c.caught, 2, c.falseSwitches, c.correcting],
    );
  });
}

test('the follow-up rule fitted on our conversations beats both baselines on the held-out part', () => {
  const gate = trainGate(readLabelledCsv(path.join(ROOT, 'data/dataset.csv'))).gate;
  const conversations = readConversations(path.join(ROOT, 'data/conversations.jsonl'));
  const routed = routeTurns(gate, conversations).map((r, i) => ({ id: conversations[i]!.id, routed: r }));
  const fit = fitFollowUp(routed);
  const { gateAlone, alwaysSticky, ours } = fit.heldOut.rules;
  assert.ok(ours.followUpAccuracy > Math.max(gateAlone.followUpAccuracy, alwaysSticky.followUpAccuracy) + 0.1, `follow-ups: ours ${ours.followUpAccuracy}, gate alone ${gateAlone.followUpAccuracy}, sticky ${alwaysSticky.followUpAccuracy}`);
  assert.ok(ours.switchRecall >= 0.75, `switch recall ${ours.switchRecall}`);
  assert.ok(ours.falseSwitchRate < gateAlone.falseSwitchRate / 4, `false switches ${ours.falseSwitchRate} vs gate alone ${gateAlone.falseSwitchRate}`);
  assert.equal(ours.firstTurnAccuracy, gateAlone.firstTurnAccuracy, 'first turns go where the gate sends them');
  assert.ok(fit.crossValidated > 0.8, `cross-validated objective ${fit.crossValidated}`);
});
