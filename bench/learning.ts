/**
 * `npm run bench:learning`: proves the gate learns from votes. Simulated users ask public questions the gate never
 * trained on, vote, and the gate is retrained every few votes with the production rules (src/learning/feedbackExamples.ts,
 * src/learning/buildTrainingSet.ts, src/learning/decidePromotion.ts). Prints the learning curve, the share of the gap to a gate
 * trained on all our data that was recovered, a poisoning run, and the time to retrain on 100,000 logged decisions.
 * Public data is read in place from ../shared/data and never used to train a shipped gate.
 *
 * For tuning (the shipped run prints everything): LEARNING_SCENARIOS=3,8 runs those scenarios (1-based),
 * LEARNING_SEEDS=10 runs seeds 1..10, LEARNING_VOTES=200 stops the curves there, LEARNING_CURVES_ONLY=1 skips the
 * poisoning and timing runs, LEARNING_TIMING_ONLY=1 runs only the timing. simulate() and loadBenchData() are exported for tuning scripts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../src/gate/addNoise.js';
import { readLabelledCsv } from '../src/gate/readLabelledCsv.js';
import { trainGate } from '../src/gate/trainGate.js';
import { isCorrect } from '../src/gate/evaluate.js';
import { LABELS, type ExpertId, type TrainingExample } from '../src/gate/types.js';
import { labelToExpert } from '../src/core/labels.js';
import type { Gate } from '../src/gate/Gate.js';
import { DEFAULT_FEEDBACK_RULES, FEEDBACK_ASK_BELOW, isHeldOutDataRow, shouldAskForFeedback, type FeedbackRules, type LoggedQuestion, type VoteRecord } from '../src/learning/feedbackExamples.js';
import { buildTrainingSet, DATA_HOLDOUT_FRACTION } from '../src/learning/buildTrainingSet.js';
import { accuracyOf, decidePromotion } from '../src/learning/decidePromotion.js';
import { createRetrainer } from '../src/learning/Retrainer.js';
import { loadConfig } from '../src/config.js';
import { Store } from '../src/store/Store.js';
import { ActiveGate } from '../src/learning/ActiveGate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '../shared/data');
const BALANCED = path.join(SHARED, 'public_balanced.csv');
const OFFTOPIC = path.join(SHARED, 'public_offtopic_none.csv');

export const BASE_ROWS = 300;
const RETRAIN_EVERY = 25;
const VOTE_BUDGET = 400;
const MARGIN = 0.005;

/** Users also vote on this share of the answers they were not invited to rate. */
const UNPROMPTED_VOTES = 0.02;

export interface Scenario {
  name: string;
  rules: FeedbackRules;
  /**
   * 'invited': users vote where the product invites them (shouldAskForFeedback, as the router sets feedbackWanted) and
   * on UNPROMPTED_VOTES of the other answers; 'every': on every answer.
   */
  votesOn: 'invited' | 'every';
  /** Re-score logged questions with the active gate before self-training, as the retrainer does. */
  rescore: boolean;
  /** Share of misroutes a careful user corrects (names the right expert); the others get a bare 👎. */
  correctRate: number;
}

function shuffle<T>(rows: T[], random: () => number): T[] {
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function stratified(rows: TrainingExample[], perLabel: number, random: () => number): TrainingExample[] {
  return LABELS.flatMap((l) => shuffle(rows.filter((r) => r.label === l), random).slice(0, perLabel));
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

interface Curve {
  points: { votes: number; questions: number; accuracy: number; dataAccuracy: number; corrections: number; promoted: boolean }[];
}

/** One simulated run: users ask from `pool`, vote, and the gate is retrained every RETRAIN_EVERY votes. */
export function simulate(s: Scenario, base: TrainingExample[], dataHeld: TrainingExample[], pool: TrainingExample[], evalRows: TrainingExample[], seed: number, budget = VOTE_BUDGET): Curve {
  const random = seededRandom(seed);
  let gate: Gate = trainGate(base).gate;
  const votes: VoteRecord[] = [];
  const points: Curve['points'] = [{ votes: 0, questions: 0, accuracy: accuracyOf(gate, evalRows), dataAccuracy: accuracyOf(gate, dataHeld), corrections: 0, promoted: true }];
  const users = Array.from({ length: 20 }, (_, i) => ({ id: `u${i}`, careless: i < 3 }));
  let corrections = 0;
  let q = 0;
  const logged: LoggedQuestion[] = [];
  const questions = shuffle(pool, random);
  while (votes.length < budget && q < questions.length) {
    const question = questions[q++]!;
    const d = gate.route(question.text);
    const user = users[Math.floor(random() * users.length)]!;
    const decisionId = `d${seed}-${q}`;
    logged.unshift({ decisionId, userId: user.id, query: question.text, topLabel: d.label, confidence: d.confidence, probabilities: d.probabilities });
    // No "ask another expert" in this simulation, so an invitation means the gate was unsure.
    const voted = s.votesOn === 'every' || shouldAskForFeedback(d.confidence) || random() < UNPROMPTED_VOTES;
    if (!voted) continue;
    const right = isCorrect(question.label, d);
    let vote: 1 | -1;
    let corrected: ExpertId | null = null;
    if (user.careless) {
      // Careless users click without reading: a random thumb, sometimes a random "correction".
      vote = random() < 0.5 ? 1 : -1;
      if (vote === -1 && random() < 0.5) corrected = labelToExpert(LABELS[Math.floor(random() * LABELS.length)]!);
    } else if (right) {
      vote = 1;
    } else {
      vote = -1;
      if (random() < s.correctRate) corrected = labelToExpert(question.label);
    }
    if (corrected) corrections++;
    votes.push({
      decisionId, userId: user.id, vote, correctedExpert: corrected, isAdmin: false, createdAt: q,
      query: question.text, expert: d.expert, fallbackReason: d.fallbackReason, reroutedFrom: null, probabilities: d.probabilities,
    });
    if (votes.length % RETRAIN_EVERY === 0) {
      const set = buildTrainingSet([...base, ...dataHeld], votes, s.rules, { logged, activeGate: s.rescore ? gate : undefined });
      const candidate = trainGate(set.train).gate;
      const decision = decidePromotion(accuracyOf(candidate, set.heldOut), accuracyOf(gate, set.heldOut), MARGIN, set.heldOut.length);
      if (decision.promote) gate = candidate;
      points.push({ votes: votes.length, questions: q, accuracy: accuracyOf(gate, evalRows), dataAccuracy: accuracyOf(gate, dataHeld), corrections, promoted: decision.promote });
    }
  }
  return { points };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

async function timeRetrainOn100k(data: TrainingExample[], publicRows: TrainingExample[], voteShare: number): Promise<{ ms: number; feedback: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-bench-learning-'));
  try {
    const datasetPath = path.join(dir, 'dataset.csv');
    fs.writeFileSync(datasetPath, 'text,label,weight\n' + data.map((r) => `"${r.text.replace(/"/g, '""')}",${r.label},${r.weight ?? ''}`).join('\n'));
    const config = loadConfig({ DB_PATH: path.join(dir, 'moe.sqlite'), GATE_PATH: path.join(dir, 'gate.json'), DATASET_PATH: datasetPath, LOG_LEVEL: 'silent' });
    const store = Store.open(config.dbPath, { keepText: true });
    const active = trainGate(data).gate;
    const random = seededRandom(7);
    store.db.transaction(() => {
      for (let i = 0; i < 100_000; i++) {
        const row = publicRows[i % publicRows.length]!;
        const d = active.route(row.text);
        const id = `d${i}`;
        store.insertDecision({
          id, createdAt: i, platform: 'http', channelId: null, userId: `u${i % 500}`, query: row.text, gateVersion: active.version,
          label: d.label, gateExpert: d.expert, expert: d.expert, confidence: d.confidence, probabilities: d.probabilities,
          fallbackReason: d.fallbackReason, reroutedFrom: null,
        });
        if (random() < voteShare) {
          const right = isCorrect(row.label, d);
          store.recordFeedback({ decisionId: id, userId: `u${i % 500}`, vote: right ? 1 : -1, correctedExpert: right ? null : labelToExpert(row.label), isAdmin: false, createdAt: i });
        }
      }
    })();
    const activeGate = new ActiveGate(active);
    const retrainer = createRetrainer({ config, store, activeGate });
    await retrainer.retrain({ requestedBy: 'bench' }); // warm-up: records the initial gate, JIT
    const started = performance.now();
    const report = await retrainer.retrain({ requestedBy: 'bench' });
    const ms = performance.now() - started;
    store.close();
    return { ms, feedback: report.feedbackExamples };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface BenchData {
  data: TrainingExample[];
  publicRows: TrainingExample[];
  evalRows: TrainingExample[];
  pool: TrainingExample[];
  dataHeld: TrainingExample[];
  dataTrain: TrainingExample[];
}

/** Our data and its held-out split; the public rows split 40/60 into evaluation rows and questions users ask (disjoint). */
export function loadBenchData(): BenchData {
  // Weights kept: the dataset weighs its crisis rows, and the shipped gate trains with them.
  const data = readLabelledCsv(path.join(ROOT, 'data/dataset.csv')).map(({ text, label, weight }) => (weight === undefined ? { text, label } : { text, label, weight }));
  const publicRows: TrainingExample[] = [
    ...readLabelledCsv(BALANCED).map(({ text, label }) => ({ text, label })),
    ...(fs.existsSync(OFFTOPIC) ? readLabelledCsv(OFFTOPIC).map(({ text, label }) => ({ text, label })) : []),
  ];
  const split = seededRandom(42);
  const evalRows: TrainingExample[] = [];
  const pool: TrainingExample[] = [];
  for (const l of LABELS) {
    const rows = shuffle(publicRows.filter((r) => r.label === l), split);
    const cut = Math.round(rows.length * 0.4);
    evalRows.push(...rows.slice(0, cut));
    pool.push(...rows.slice(cut));
  }
  const dataHeld = data.filter((r) => isHeldOutDataRow(r.text, DATA_HOLDOUT_FRACTION));
  const dataTrain = data.filter((r) => !isHeldOutDataRow(r.text, DATA_HOLDOUT_FRACTION));
  return { data, publicRows, evalRows, pool, dataHeld, dataTrain };
}

async function main(): Promise<void> {
  if (!fs.existsSync(BALANCED)) {
    console.log(`bench:learning skipped: ${BALANCED} is not here (public evaluation data is read from ../shared/data).`);
    return;
  }
  const { data, evalRows, pool, dataHeld, dataTrain } = loadBenchData();
  if (process.env.LEARNING_TIMING_ONLY) return printRetrainTiming(data);
  const full = trainGate(dataTrain).gate;
  const fullAcc = accuracyOf(full, evalRows);
  console.log(`learning from votes: ${evalRows.length} public evaluation rows, ${pool.length} public questions to ask, our held-out split ${dataHeld.length} rows`);
  console.log(`reference gate trained on all our data (${dataTrain.length} rows): ${pct(fullAcc)} on the public evaluation slice\n`);

  const noSelf = { selfTrainingMinConfidence: null };
  const plain: FeedbackRules = { ...DEFAULT_FEEDBACK_RULES, ...noSelf, correctionWeight: 1, rerouteWeight: 1, downvote: 'ignore' };
  const invited = { votesOn: 'invited', rescore: true, correctRate: 0.6 } as const;
  const corrections = `corrections ×${DEFAULT_FEEDBACK_RULES.correctionWeight}`;
  const scenarios: Scenario[] = [
    { name: 'plain retraining (every answer gets a vote, all votes weigh 1, 👎 ignored, no self-training)', rules: plain, votesOn: 'every', rescore: false, correctRate: 0.6 },
    { name: `votes only: ask where unsure (confidence < ${FEEDBACK_ASK_BELOW}; ${UNPROMPTED_VOTES * 100}% of other answers get a vote), ${corrections}, 👎 spread`, rules: { ...DEFAULT_FEEDBACK_RULES, ...noSelf }, ...invited },
    { name: `shipped: ask where unsure, ${corrections}, 👎 spread, self-training (re-scored, soft, class-balanced)`, rules: DEFAULT_FEEDBACK_RULES, ...invited },
    { name: 'shipped, but self-training on the labels logged when routed, hard, not balanced (the previous rules)', rules: { ...DEFAULT_FEEDBACK_RULES, selfTrainingSoft: false, selfTrainingBalanced: false }, ...invited, rescore: false },
    { name: 'shipped, but self-training not class-balanced', rules: { ...DEFAULT_FEEDBACK_RULES, selfTrainingBalanced: false }, ...invited },
    { name: 'shipped, but corrections weigh 1', rules: { ...DEFAULT_FEEDBACK_RULES, correctionWeight: 1, rerouteWeight: 1 }, ...invited },
    { name: 'shipped, but bare 👎 ignored', rules: { ...DEFAULT_FEEDBACK_RULES, downvote: 'ignore' }, ...invited },
    { name: 'shipped, users correct only 30% of misroutes', rules: DEFAULT_FEEDBACK_RULES, ...invited, correctRate: 0.3 },
  ];
  const shipped = scenarios[2]!.name;
  const fewCorrections = scenarios[7]!.name;
  const only = process.env.LEARNING_SCENARIOS?.split(',').map((x) => scenarios[Number(x) - 1]).filter((x): x is Scenario => x !== undefined);
  const seeds = Array.from({ length: Number(process.env.LEARNING_SEEDS ?? 5) }, (_, i) => i + 1);
  const budget = Number(process.env.LEARNING_VOTES ?? VOTE_BUDGET);
  const at200: Record<string, number> = {};
  const worstDataChange: Record<string, number> = {};
  for (const s of only?.length ? only : scenarios) {
    const runs = seeds.map((seed) => {
      const base = stratified(dataTrain, BASE_ROWS / LABELS.length, seededRandom(seed * 101));
      return { base: accuracyOf(trainGate(base).gate, evalRows), curve: simulate(s, base, dataHeld, pool, evalRows, seed, budget) };
    });
    console.log(`— ${s.name} (${seeds.length} seeds, base ${BASE_ROWS} rows of our data)`);
    console.log('  votes  questions  public acc  gap recovered  our held-out Δ  corrections');
    const n = Math.min(...runs.map((r) => r.curve.points.length));
    for (let i = 0; i < n; i++) {
      const votes = runs[0]!.curve.points[i]!.votes;
      const acc = mean(runs.map((r) => r.curve.points[i]!.accuracy));
      const gap = mean(runs.map((r) => (r.curve.points[i]!.accuracy - r.base) / (fullAcc - r.base)));
      const dataDelta = mean(runs.map((r) => r.curve.points[i]!.dataAccuracy - r.curve.points[0]!.dataAccuracy));
      const corr = mean(runs.map((r) => r.curve.points[i]!.corrections));
      const asked = mean(runs.map((r) => r.curve.points[i]!.questions));
      if (votes % 50 === 0 || i === 0) {
        console.log(`  ${String(votes).padStart(5)}  ${asked.toFixed(0).padStart(9)}  ${pct(acc).padStart(10)}  ${pct(gap).padStart(13)}  ${((dataDelta * 100).toFixed(1) + ' pts').padStart(14)}  ${corr.toFixed(0).padStart(11)}`);
      }
      if (votes === 200) at200[s.name] = gap;
    }
    const ranOut = runs.filter((r) => r.curve.points.at(-1)!.votes < budget).map((r) => r.curve.points.at(-1)!.votes);
    if (ranOut.length) console.log(`  (the ${pool.length} questions ran out after ${ranOut.join(', ')} votes in ${ranOut.length} of ${runs.length} seeds; the rows stop at the shortest run)`);
    const worstDataLoss = Math.min(...runs.flatMap((r) => r.curve.points.map((p) => p.dataAccuracy - r.curve.points[0]!.dataAccuracy)));
    worstDataChange[s.name] = worstDataLoss;
    console.log(`  worst change on our held-out split over the run, any seed: ${(worstDataLoss * 100).toFixed(1)} points\n`);
  }
  // Issue 14's targets: ≥ 90% of the gap after 200 votes, ≥ 85% when users correct only 30% of misroutes.
  if (at200[shipped] !== undefined) console.log(`gap recovered after 200 votes (shipped rules): ${pct(at200[shipped])}   target ≥ 90%   ${at200[shipped] >= 0.9 ? 'OK' : 'MISSED'}`);
  if (at200[fewCorrections] !== undefined) console.log(`the same when users correct only 30% of misroutes: ${pct(at200[fewCorrections])}   target ≥ 85%   ${at200[fewCorrections] >= 0.85 ? 'OK' : 'MISSED'}`);
  const worst = worstDataChange[shipped];
  if (worst !== undefined) console.log(`our held-out split (shipped rules): worst change ${(worst * 100).toFixed(1)} points   target ≥ -1 point   ${worst >= -0.01 ? 'OK' : 'MISSED'}`);
  if (process.env.LEARNING_CURVES_ONLY) return;

  // Poisoning: one account casts 1,000 wrong corrections on top of honest votes.
  const honest: VoteRecord[] = [];
  const attacker: VoteRecord[] = [];
  const random = seededRandom(9);
  const fullGate = trainGate(data).gate;
  shuffle(pool, random).slice(0, 1200).forEach((row, i) => {
    const d = fullGate.route(row.text);
    const record = (userId: string, vote: 1 | -1, corrected: ExpertId | null): VoteRecord => ({
      decisionId: `p${i}-${userId}`, userId, vote, correctedExpert: corrected, isAdmin: false, createdAt: i,
      query: row.text, expert: d.expert, fallbackReason: d.fallbackReason, reroutedFrom: null, probabilities: d.probabilities,
    });
    if (i < 200) {
      const right = isCorrect(row.label, d);
      honest.push(record(`h${i % 20}`, right ? 1 : -1, right ? null : labelToExpert(row.label)));
    } else {
      const wrong = LABELS.filter((l) => l !== row.label)[i % 3]!;
      attacker.push(record('attacker', -1, labelToExpert(wrong)));
    }
  });
  const accWith = (votes: VoteRecord[], rules: FeedbackRules): number => accuracyOf(trainGate(buildTrainingSet(data, votes, rules).train).gate, evalRows);
  const clean = accWith(honest, DEFAULT_FEEDBACK_RULES);
  const poisoned = accWith([...honest, ...attacker], DEFAULT_FEEDBACK_RULES);
  const uncapped = accWith([...honest, ...attacker], { ...DEFAULT_FEEDBACK_RULES, userWeightCap: Infinity });
  const moved = Math.abs(poisoned - clean) * 100;
  console.log(`poisoning: one user, ${attacker.length} wrong corrections: ${pct(clean)} → ${pct(poisoned)} (moved ${moved.toFixed(2)} points; without the per-user cap: ${pct(uncapped)})   target ≤ 1 point   ${moved <= 1 ? 'OK' : 'MISSED'}`);

  await printRetrainTiming(data);
}

async function printRetrainTiming(data: TrainingExample[]): Promise<void> {
  const timing = await timeRetrainOn100k(data, readLabelledCsv(path.join(SHARED, fs.existsSync(path.join(SHARED, 'public_routing.csv')) ? 'public_routing.csv' : 'public_balanced.csv')), 0.1);
  console.log(`retrain on 100,000 logged decisions (${timing.feedback} feedback examples + our data; train + evaluate + record + swap): ${(timing.ms / 1000).toFixed(2)} s   target ≤ 2 s   ${timing.ms <= 2000 ? 'OK' : 'MISSED'}`);
}

// Runs when executed (npm run bench:learning), not when a tuning script imports simulate().
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
