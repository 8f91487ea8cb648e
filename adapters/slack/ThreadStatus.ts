/**
 * The thread's status line under the question ("moe is asking 🔐 Cybersecurity Expert…") with
 * assistant.threads.setStatus, cleared with an empty status when the answer is done. Best effort: a failure is
 * logged and never stops the answer; a workspace that does not support it is not asked again.
 */
import type { webApi } from '@slack/bolt';
import { expertLabel } from '../shared/format.js';
import { errorFields } from '../../src/logger.js';
import type { SlackContext } from './context.js';
import { isUnsupported, slackErrorCode } from './slackErrors.js';
import type { AnswerTarget } from './answer.js';

export const THINKING_STATUS = 'is thinking…';

/** The status naming the expert that answers, e.g. "is asking 🔐 Cybersecurity Expert…". */
export function expertStatus(expert: { emoji: string; displayName: string }): string {
  return `is asking ${expertLabel(expert)}…`;
}

export class ThreadStatus {
  private shown = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: SlackContext,
    private readonly client: webApi.WebClient,
    private readonly target: AnswerTarget,
  ) {}

  /** Sets the status (calls are sent in order; the promise settles when this one is done). */
  set(status: string): Promise<void> {
    this.chain = this.chain.then(() => this.send(status));
    return this.chain;
  }

  /** Clears the status if one was set. */
  clear(): Promise<void> {
    this.chain = this.chain.then(() => (this.shown ? this.send('') : undefined));
    return this.chain;
  }

  private async send(status: string): Promise<void> {
    const { channel, threadTs, teamId } = this.target;
    if (!this.ctx.workspaces.allows(teamId, 'status')) return;
    try {
      await this.client.assistant.threads.setStatus({ channel_id: channel, thread_ts: threadTs, status });
      this.shown = status !== '';
    } catch (err) {
      if (isUnsupported(err) && this.ctx.workspaces.refuse(teamId, 'status', slackErrorCode(err))) {
        this.ctx.logger.warn({ teamId, code: slackErrorCode(err) }, 'slack: thread status unavailable in this workspace');
        return;
      }
      this.ctx.logger.warn({ channel, threadTs, ...errorFields(err) }, 'slack: could not set the thread status');
    }
  }
}
