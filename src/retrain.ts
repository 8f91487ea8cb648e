/**
 * Retraining the gate from votes. PLACEHOLDER: the retraining issue replaces createRetrainer with the real one
 * (train on data + feedback, compare, promote, hot-swap via ActiveGate); Router.retrain() delegates here.
 */
import type { Config } from './config.js';
import type { Store } from './store/Store.js';
import type { ActiveGate } from './ActiveGate.js';
import type { RetrainReport } from './routerTypes.js';
import { RouterError } from './errors.js';

export interface RetrainOptions {
  /** Who asked (user id or "cli"/"schedule"), recorded as the reason. */
  requestedBy?: string;
}

export interface Retrainer {
  retrain(options?: RetrainOptions): Promise<RetrainReport>;
}

export interface RetrainerDeps {
  config: Config;
  store: Store;
  activeGate: ActiveGate;
}

export function createRetrainer(_deps: RetrainerDeps): Retrainer {
  return {
    async retrain(): Promise<RetrainReport> {
      throw new RouterError('retrain_unavailable', 'Retraining is not available in this build yet.');
    },
  };
}
