/**
 * Measures routing rules on labelled conversations: first-turn accuracy, follow-up accuracy, switch recall (turns whose
 * expected expert differs from the previous turn's, routed right) and false-switch rate (turns that stay on topic but
 * whose routed expert differs from the one the rule chose for the previous turn).
 */
import { routeFollowUp, type ConversationRouting, type FollowUpParams } from './routeFollowUp.js';
import type { LabelledConversation } from './readConversations.js';
import type { ExpertId, GateModel, RouteDecision } from '../gate/types.js';

export type RuleName = 'gateAlone' | 'alwaysSticky' | 'ours';

export interface RuleMetrics {
  firstTurns: number;
  firstTurnAccuracy: number;
  followUps: number;
  followUpAccuracy: number;
  switches: number;
  switchesCaught: number;
  switchRecall: number;
  /** Follow-ups whose expected expert is the previous turn's. */
  stays: number;
  falseSwitches: number;
  falseSwitchRate: number;
  /** False switches onto the expected expert: the previous turn had been routed wrong, and this one corrects it. */
  correctingSwitches: number;
}

/** Every turn's gate decision on the message alone, computed once and shared by the rules. */
export type RoutedConversation = { texts: string[]; expected: ExpertId[]; alone: RouteDecision[] };

export function routeTurns(gate: GateModel, conversations: readonly LabelledConversation[]): RoutedConversation[] {
  return conversations.map((c) => ({ texts: c.turns.map((t) => t.text), expected: c.turns.map((t) => t.expert), alone: c.turns.map((t) => gate.route(t.text)) }));
}

/** The experts a rule picks for each turn of one conversation. */
export function runRule(rule: RuleName, conversation: RoutedConversation, params?: FollowUpParams): ExpertId[] {
  const chosen: ExpertId[] = [];
  let state: ConversationRouting | null = null;
  for (let k = 0; k < conversation.alone.length; k++) {
    const decision = conversation.alone[k]!;
    if (rule === 'gateAlone') chosen.push(decision.expert);
    else if (rule === 'alwaysSticky') chosen.push(chosen[0] ?? decision.expert);
    else {
      const r = routeFollowUp(conversation.texts[k]!, decision, state, params);
      state = r.next;
      chosen.push(r.expert);
    }
  }
  return chosen;
}

export function scoreRule(routed: readonly RoutedConversation[], rule: RuleName, params?: FollowUpParams): RuleMetrics {
  let firstTurns = 0, firstRight = 0, followUps = 0, followRight = 0, switches = 0, caught = 0, stays = 0, falseSwitches = 0, correcting = 0;
  for (const conversation of routed) {
    const expected = conversation.expected;
    const chosen = runRule(rule, conversation, params);
    for (let k = 0; k < expected.length; k++) {
      const right = chosen[k] === expected[k];
      if (k === 0) {
        firstTurns++;
        if (right) firstRight++;
        continue;
      }
      followUps++;
      if (right) followRight++;
      if (expected[k] !== expected[k - 1]) {
        switches++;
        if (right) caught++;
      } else {
        stays++;
        if (chosen[k] !== chosen[k - 1]) {
          falseSwitches++;
          if (right) correcting++;
        }
      }
    }
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    firstTurns, firstTurnAccuracy: ratio(firstRight, firstTurns),
    followUps, followUpAccuracy: ratio(followRight, followUps),
    switches, switchesCaught: caught, switchRecall: ratio(caught, switches),
    stays, falseSwitches, falseSwitchRate: ratio(falseSwitches, stays), correctingSwitches: correcting,
  };
}

export interface ConversationEval {
  conversations: number;
  turns: number;
  rules: Record<RuleName, RuleMetrics>;
}

export function evaluateFollowUps(routed: readonly RoutedConversation[], params?: FollowUpParams): ConversationEval {
  return {
    conversations: routed.length,
    turns: routed.reduce((n, r) => n + r.expected.length, 0),
    rules: { gateAlone: scoreRule(routed, 'gateAlone'), alwaysSticky: scoreRule(routed, 'alwaysSticky'), ours: scoreRule(routed, 'ours', params) },
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The three rules side by side, for the CLI and the fit script. */
export function formatConversationEval(e: ConversationEval): string {
  const rows: Array<[string, (m: RuleMetrics) => string]> = [
    ['first-turn accuracy', (m) => `${pct(m.firstTurnAccuracy)} of ${m.firstTurns}`],
    ['follow-up accuracy', (m) => `${pct(m.followUpAccuracy)} of ${m.followUps}`],
    ['switch recall', (m) => `${m.switchesCaught}/${m.switches} ${pct(m.switchRecall)}`],
    ['false-switch rate', (m) => `${m.falseSwitches}/${m.stays} ${pct(m.falseSwitchRate)}`],
    ['  onto the right one', (m) => `${m.correctingSwitches}`],
  ];
  const names: RuleName[] = ['gateAlone', 'alwaysSticky', 'ours'];
  const header = `${''.padEnd(20)}${['gate alone', 'always sticky', 'ours (follow-up rule)'].map((h) => h.padStart(22)).join('')}`;
  return [
    `${e.conversations} conversations, ${e.turns} turns`,
    header,
    ...rows.map(([label, f]) => `${label.padEnd(20)}${names.map((n) => f(e.rules[n]).padStart(22)).join('')}`),
  ].join('\n');
}
