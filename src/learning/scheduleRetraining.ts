import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { GateVersions } from '../store/GateVersions.js';
import type { Store } from '../store/Store.js';
import { countNewVotes } from '../store/TrainingLog.js';
import type { Retrainer } from './Retrainer.js';

/**
 * Every RETRAIN_INTERVAL, retrains when at least RETRAIN_MIN_FEEDBACK new votes (with text) arrived since the last
 * candidate. Returns a function that stops the schedule.
 */
export function scheduleRetraining(retrainer: Retrainer, store: Store, config: Config, logger?: Logger): () => void {
  if (config.retrainIntervalMs === null) return () => undefined;
  const versions = new GateVersions(store);
  const tick = (): void => {
    const last = versions.list()[0]?.createdAt ?? 0;
    const fresh = countNewVotes(store, last);
    if (fresh < Math.max(1, config.retrainMinFeedback)) {
      logger?.debug({ fresh, needed: config.retrainMinFeedback }, 'retrain: not enough new votes yet');
      return;
    }
    retrainer.retrain({ requestedBy: 'schedule' }).catch((err: unknown) => {
      logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'retrain: scheduled run did not happen');
    });
  };
  const timer = setInterval(tick, config.retrainIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
