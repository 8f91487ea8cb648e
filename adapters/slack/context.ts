import type { Config } from '../../src/config.js';
import type { CoreApi } from '../../src/core/types.js';
import type { AdapterLogger } from '../shared/logger.js';
import type { AnswerThreads } from './AnswerThreads.js';

/** What every Slack handler needs: the router, settings, a logger and the streaming throttle. */
export interface SlackContext {
  router: CoreApi;
  config: Config;
  logger: AdapterLogger;
  /** Minimum milliseconds between two chat.update calls of a streamed answer. */
  updateIntervalMs: number;
  /** Recent answer messages' threads, for confirming reaction votes in the right thread. */
  threads: AnswerThreads;
}

export function isAdmin(ctx: SlackContext, userId: string): boolean {
  return ctx.config.slack.adminUserIds.includes(userId);
}
