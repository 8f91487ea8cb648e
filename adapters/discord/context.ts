import type { Config } from '../../src/config.js';
import type { CoreApi } from '../../src/core/types.js';
import type { Logger } from '../../src/logger.js';
import type { DeferralQueue } from './DeferralQueue.js';
import type { InteractionThreads } from './InteractionThreads.js';

/** What every interaction handler needs; built once by startDiscord. */
export interface DiscordContext {
  router: CoreApi;
  config: Config;
  logger: Logger;
  /** Minimum milliseconds between two edits of one streamed reply. */
  editIntervalMs: number;
  /** Deferrals go out before answer work starts. */
  deferrals: DeferralQueue;
  /** Threads of slash commands, from their payloads, for threads discord.js has not cached. */
  threads: InteractionThreads;
}
