import type { Config } from '../../src/config.js';
import type { CoreApi } from '../../src/core/types.js';
import type { Logger } from '../../src/logger.js';
import type { AnswerThreads } from './AnswerThreads.js';
import type { WorkspaceFeatures } from './WorkspaceFeatures.js';

/** What every Slack handler needs: the router, settings, a logger, the streaming throttle and per-workspace memory. */
export interface SlackContext {
  router: CoreApi;
  config: Config;
  logger: Logger;
  /** Minimum milliseconds between two chat.update calls of a streamed answer. */
  updateIntervalMs: number;
  /** Recent answer messages' threads, for confirming reaction votes in the right thread. */
  threads: AnswerThreads;
  /** What each workspace refused (native streaming, thread status), so it is not retried on every answer. */
  workspaces: WorkspaceFeatures;
}

export function isAdmin(ctx: SlackContext, userId: string): boolean {
  return ctx.config.slack.adminUserIds.includes(userId);
}
