/** Shared setup for the learning tests: a small real dataset in a temp dir, a real SQLite store, the real gate. */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.js';
import { ActiveGate } from '../../src/learning/ActiveGate.js';
import { Gate } from '../../src/gate/Gate.js';
import { trainGate } from '../../src/gate/trainGate.js';
import { LABELS, type ExpertId, type TrainingExample } from '../../src/gate/types.js';
import { createRetrainer, type Retrainer } from '../../src/learning/Retrainer.js';
import { GateVersions } from '../../src/store/GateVersions.js';
import { Store } from '../../src/store/Store.js';
import { datasetExamples, testConfig, REPO_ROOT } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';

export { REPO_ROOT };

/** 70 rows per label of our dataset: trains in well under a second. */
export function smallDataset(perLabel = 70): TrainingExample[] {
  const all = datasetExamples();
  return LABELS.flatMap((l) => all.filter((r) => r.label === l).slice(0, perLabel)).map(({ text, label }) => ({ text, label }));
}

export function writeCsv(file: string, rows: readonly TrainingExample[]): void {
  fs.writeFileSync(file, 'text,label\n' + rows.map((r) => `"${r.text.replace(/"/g, '""')}",${r.label}`).join('\n') + '\n');
}

export interface LearningEnv {
  dir: string;
  config: Config;
  store: Store;
  /** The gate_versions table of `store`. */
  versions: GateVersions;
  activeGate: ActiveGate;
  retrainer: Retrainer;
  initial: Gate;
  /** Logs a routed question like the router does; returns its decision id. */
  logQuestion(text: string, options?: { userId?: string; expert?: ExpertId; reroutedFrom?: string | null; fallbackReason?: string | null }): string;
  vote(decisionId: string, userId: string, vote: 1 | -1, corrected?: ExpertId | null, admin?: boolean): void;
  close(): void;
}

/** A temp dir with a small dataset CSV (`perLabel` rows per label), a gate trained on it (also saved at GATE_PATH), a store and a retrainer. */
export function learningEnv(env: Record<string, string> = {}, perLabel = 70): LearningEnv {
  const tmp = makeTempDir('moe-learning-');
  const datasetPath = path.join(tmp.dir, 'dataset.csv');
  writeCsv(datasetPath, smallDataset(perLabel));
  const config = testConfig(tmp.dir, { DATASET_PATH: datasetPath, RETRAIN_MARGIN: '0.02', ...env });
  const initial = trainGate(smallDataset(perLabel)).gate;
  initial.save(config.gatePath);
  const store = Store.open(config.dbPath, { keepText: config.logQueryText });
  const activeGate = new ActiveGate(initial);
  const retrainer = createRetrainer({ config, store, activeGate });
  let clock = Date.now();
  // Deterministic ids: which votes the retrainer holds out depends on them, and tests must not depend on the draw.
  let nextId = 0;
  return {
    dir: tmp.dir,
    config,
    store,
    versions: new GateVersions(store),
    activeGate,
    retrainer,
    initial,
    logQuestion(text, options = {}) {
      const route = activeGate.current().route(text);
      const id = `00000000-0000-4000-8000-${(++nextId).toString(16).padStart(12, '0')}`;
      store.insertDecision({
        id, createdAt: clock++, platform: 'http', channelId: null, userId: options.userId ?? 'asker', query: text,
        gateVersion: route.gateVersion, label: route.label, gateExpert: route.expert, expert: options.expert ?? route.expert,
        confidence: route.confidence, probabilities: route.probabilities, fallbackReason: options.fallbackReason ?? route.fallbackReason,
        reroutedFrom: options.reroutedFrom ?? null,
      });
      return id;
    },
    vote(decisionId, userId, vote, corrected = null, admin = false) {
      store.recordFeedback({ decisionId, userId, vote, correctedExpert: corrected, isAdmin: admin, createdAt: clock++ });
    },
    close() {
      store.close();
      tmp.remove();
    },
  };
}
