/**
 * The Slack answer flow, used for questions, for "Ask <expert> instead" and for follow-ups: one call answers a
 * question into a thread given a router call (ask or reroute). The thread status names the expert while it writes;
 * the answer streams natively (chat.startStream…) where the workspace allows it, else into a placeholder edited
 * with throttled chat.update (remembered per workspace); it ends with the expert line and 👍/👎 feedback_buttons.
 * An expert that breaks before any of its text was sent to Slack is replaced by the fallback expert (the router asks
 * AnswerWriter.startOver); after text was sent, the answer keeps it and ends with the error line.
 */
import type { webApi } from '@slack/bolt';
import type { AskResult } from '../../src/core/types.js';
import { askInto, type AnswerCall } from '../shared/askInto.js';
import { answerHeader, isRefusal, userErrorMessage } from '../shared/format.js';
import { errorFields } from '../../src/logger.js';
import { answerFooter, answerMessages, cutShortMessage, noticeMessage, plainTextMessages, streamingMessage, type SlackMessage } from './blocks.js';
import type { SlackContext } from './context.js';
import { NativeStream } from './NativeStream.js';
import { StreamingMessage } from './StreamingMessage.js';
import { expertStatus, THINKING_STATUS, ThreadStatus } from './ThreadStatus.js';

export interface AnswerTarget {
  channel: string;
  /** Thread to answer in (the question's ts for a new thread). */
  threadTs: string;
  /** Who asked: the recipient of the stream. */
  userId: string;
  /** The asker's workspace: the recipient team of the stream, and the key of what the workspace supports. */
  teamId: string | null;
}

const EMPTY_ANSWER = '_(the expert returned an empty answer)_';

/** Posts the answer; returns it, or null when the router refused or failed (the user was told why). */
export async function deliverAnswer(ctx: SlackContext, client: webApi.WebClient, target: AnswerTarget, call: AnswerCall): Promise<AskResult | null> {
  const status = new ThreadStatus(ctx, client, target);
  void status.set(THINKING_STATUS);
  const writer = new AnswerWriter(ctx, client, target);
  try {
    await writer.open();
    let result: AskResult;
    try {
      result = await askInto(call, writer, {
        platform: 'slack', userId: target.userId, channelId: target.channel, onDecision: (decision) => void status.set(expertStatus(decision.expert)),
      });
    } catch (err) {
      ctx.logger.warn({ channel: target.channel, userId: target.userId, ...errorFields(err) }, 'slack: no answer');
      const notice = userErrorMessage(err, ctx.config.maxQueryChars);
      await (isRefusal(err) ? writer.refuse(notice) : writer.fail(notice));
      return null;
    }
    const refs = await writer.complete(result);
    try {
      // Every part is linked, so a 👍/👎 reaction on any of them counts for this answer.
      for (const ref of refs) {
        ctx.router.attachMessage(result.decisionId, 'slack', `${target.channel}:${ref}`);
        ctx.threads.remember(target.channel, ref, target.threadTs);
      }
    } catch (err) {
      ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(err) }, 'slack: could not remember the answer message');
    }
    ctx.logger.info({
      decisionId: result.decisionId, expert: result.expert.id, parts: refs.length, streamed: writer.streamed, latencyMs: result.latencyMs,
    }, 'slack: answered');
    return result;
  } finally {
    await status.clear();
  }
}

/** What a placeholder Slack would not delete says after a refusal (the reason goes to the asker alone). */
const NO_ANSWER = '⚠️ No answer.';

/**
 * Shows one answer as it is written: natively streamed, or (when the workspace cannot stream) in a placeholder
 * edited with chat.update. A workspace found unable to stream mid-answer switches over with everything written so
 * far, so no text is lost or shown twice.
 */
class AnswerWriter {
  private native: NativeStream | null = null;
  private edited: { stream: StreamingMessage; ts: string } | null = null;
  private switching: Promise<void> | null = null;
  private header: string | null = null;
  private text = '';

  constructor(
    private readonly ctx: SlackContext,
    private readonly client: webApi.WebClient,
    private readonly target: AnswerTarget,
  ) {}

  get streamed(): boolean {
    return this.native !== null && !this.native.unsupported;
  }

  async open(): Promise<void> {
    if (this.ctx.workspaces.allows(this.target.teamId, 'streaming')) {
      this.native = new NativeStream(this.client, this.target, this.ctx.updateIntervalMs, (err) =>
        this.ctx.logger.warn({ channel: this.target.channel, ...errorFields(err) }, 'slack: streaming append failed'));
    } else {
      await this.openEdited();
    }
  }

  setHeader(header: string): void {
    this.header = header;
    this.native?.setHeader(header);
    this.edited?.stream.setHeader(header);
  }

  /**
   * The expert broke (asked by the router): unless a call carrying some of its text was sent, drop that text and
   * return true, so the fallback expert answers in its place; false once some may be on screen.
   */
  startOver(): boolean {
    if (this.native?.sentAny || (this.edited !== null && this.edited.stream.shownText !== '')) return false;
    this.text = '';
    this.native?.startOver();
    this.edited?.stream.startOver();
    return true;
  }

  push(chunk: string): void {
    this.text += chunk;
    if (this.edited) return this.edited.stream.push(chunk);
    if (this.switching) return; // the text is replayed once the placeholder exists
    if (this.native?.unsupported) {
      this.switching = this.switchToEdited();
      return;
    }
    this.native?.push(chunk);
  }

  /** Shows the finished answer with its footer; returns the ts of every message showing part of it. */
  async complete(result: AskResult): Promise<string[]> {
    const native = this.native;
    if (native && !native.unsupported) {
      await native.finish();
      const refs = await this.completeNative(native, result);
      if (refs) return refs;
    }
    if (native?.unsupported) this.noteUnsupported(native.unsupported);
    await this.switching;
    return await this.completeEdited(result, answerMessages(result));
  }

  /** Shows `notice` instead of the answer (after the part already shown, if any). */
  async fail(notice: string): Promise<void> {
    const native = this.native;
    if (native && !native.unsupported) {
      await native.finish();
      if (native.shownText !== '' && !native.broken) {
        await native.append(`\n\n${notice}`);
        if (await native.close([])) return;
      }
      if (!native.unsupported) return void (await this.post(noticeMessage(notice)));
    }
    if (native?.unsupported) this.noteUnsupported(native.unsupported);
    await this.switching;
    if (!this.edited) return void (await this.post(noticeMessage(notice)));
    await this.edited.stream.finish();
    // Text already shown stays, ending with the error line.
    const shown = this.edited.stream.shownText;
    await this.update(this.edited.ts, shown.trim() !== '' ? cutShortMessage(this.header, shown, notice) : noticeMessage(notice));
  }

  /**
   * A refusal, said to the asker alone (ephemeral) as long as none of the answer is in the thread: a placeholder
   * (workspaces that cannot stream) is deleted, or, when Slack will not delete it, left saying "No answer."
   */
  async refuse(notice: string): Promise<void> {
    if (this.native?.sentAny || (this.edited !== null && this.edited.stream.shownText !== '')) return this.fail(notice);
    await this.native?.finish();
    await this.switching;
    const placeholder = this.edited;
    if (placeholder) {
      await placeholder.stream.finish();
      const deleted = await this.client.chat.delete({ channel: this.target.channel, ts: placeholder.ts }).then(() => true, (err: unknown) => {
        this.ctx.logger.warn({ channel: this.target.channel, ts: placeholder.ts, ...errorFields(err) }, 'slack: could not delete the placeholder');
        return false;
      });
      if (!deleted) await this.update(placeholder.ts, noticeMessage(NO_ANSWER));
    }
    await this.client.chat.postEphemeral({ channel: this.target.channel, user: this.target.userId, thread_ts: this.target.threadTs, text: notice });
  }

  /** Finishes the native stream; null when the workspace turned out unable to stream (nothing was shown). */
  private async completeNative(native: NativeStream, result: AskResult): Promise<string[] | null> {
    const shown = native.shownText;
    const final = result.response;
    // The router's answer is the stream's chunks (trimmed at the end); send whatever the stream has not shown yet.
    const rest = final.startsWith(shown.trimEnd()) ? final.slice(Math.min(shown.length, final.length)) : '';
    if (rest === '' && shown.trim() === '') await native.append(EMPTY_ANSWER);
    else if (rest !== '') await native.append(rest);
    if (native.unsupported) return null;
    const footer = answerFooter(result);
    if (await native.close(footer)) return native.messageRefs;
    // Part of the answer could not be streamed, or Slack refused the footer: post the rest and the footer as messages.
    this.ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(native.failure) }, 'slack: streaming failed, posting the rest');
    const unshown = final.startsWith(native.shownText) ? final.slice(native.shownText.length).trim() : '';
    const refs = native.messageRefs;
    const messages = unshown !== '' ? answerMessages({ ...result, response: unshown }) : [{ text: answerHeader(result), blocks: footer }];
    for (const message of messages) refs.push(await this.post(message));
    return refs;
  }

  private async completeEdited(result: AskResult, messages: SlackMessage[]): Promise<string[]> {
    const refs: string[] = [];
    let rest = messages;
    if (this.edited) {
      const { stream, ts } = this.edited;
      await stream.finish();
      refs.push(ts);
      try {
        await this.update(ts, messages[0]!);
        rest = messages.slice(1);
      } catch (err) {
        // Slack refused the blocks (a limit we did not foresee): show the answer as plain text rather than nothing.
        this.ctx.logger.warn({ decisionId: result.decisionId, ...errorFields(err) }, 'slack: answer blocks refused, posting plain text');
        const plain = plainTextMessages(result);
        await this.client.chat.update({ channel: this.target.channel, ts, text: plain[0]!.text, blocks: [] });
        rest = plain.slice(1);
      }
    }
    for (const message of rest) refs.push(await this.post(message));
    return refs;
  }

  private noteUnsupported(code: string): void {
    if (this.ctx.workspaces.refuse(this.target.teamId, 'streaming', code)) {
      this.ctx.logger.warn({ teamId: this.target.teamId, code }, 'slack: native streaming unavailable in this workspace, using chat.update');
    }
  }

  private async switchToEdited(): Promise<void> {
    this.noteUnsupported(this.native!.unsupported!);
    await this.openEdited();
    if (this.header !== null) this.edited!.stream.setHeader(this.header);
    this.edited!.stream.push(this.text);
  }

  private async openEdited(): Promise<void> {
    const ts = await this.post(streamingMessage(this.header, ''));
    const stream = new StreamingMessage(this.client, this.target.channel, ts, this.ctx.updateIntervalMs, (err) =>
      this.ctx.logger.warn({ channel: this.target.channel, ts, ...errorFields(err) }, 'slack: streaming update failed'));
    this.edited = { stream, ts };
  }

  private async post(message: SlackMessage): Promise<string> {
    const posted = await this.client.chat.postMessage({
      channel: this.target.channel, thread_ts: this.target.threadTs, text: message.text,
      ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}),
    });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    return posted.ts;
  }

  private async update(ts: string, message: SlackMessage): Promise<void> {
    await this.client.chat.update({ channel: this.target.channel, ts, text: message.text, blocks: message.blocks });
  }
}
