/**
 * Streams an answer into its thread with Slack's native streaming (client.chatStream: chat.startStream,
 * chat.appendStream, chat.stopStream), appending new text at most once per interval (see ThrottledStream). While the
 * answer is being written, text is sent up to its last whitespace, so mention-breaking never differs between pieces.
 * A streamed message holds at most STREAM_MESSAGE_CHARS (Slack takes 12,000 per markdown_text); the rest continues in
 * a new streamed message in the thread. Failures are recorded, not thrown: the caller shows what was not sent.
 */
import type { webApi } from '@slack/bolt';
import { ThrottledStream, type StreamEdit } from '../shared/ThrottledStream.js';
import type { AnswerTarget } from './answer.js';
import type { Block } from './blocks.js';
import { toMarkdownText } from './mrkdwn.js';
import { isUnsupported, slackErrorCode } from './slackErrors.js';

/** Raw characters per streamed message; breaking mentions adds a few, still under Slack's 12,000. */
export const STREAM_MESSAGE_CHARS = 11_000;

type ChatStreamer = ReturnType<webApi.WebClient['chatStream']>;

/** Where to cut `text` to at most `max` characters: the last whitespace in the second half, else a hard cut. */
export function cutAt(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const ws = Math.max(text.lastIndexOf(' ', max - 1), text.lastIndexOf('\n', max - 1));
  if (ws >= max / 2) return ws + 1;
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

export class NativeStream extends ThrottledStream {
  private streamer: ChatStreamer | null = null;
  private started = false;
  private messageChars = 0;
  /** The answer text shown so far (raw), across messages. */
  private sentText = '';
  /** A call carrying answer text was sent (its text may be on screen even if Slack has not answered yet). */
  private textSent = false;
  private readonly refs: string[] = [];
  /** Slack answered that this workspace cannot stream (the first start failed; nothing was shown). */
  unsupported: string | null = null;
  /** A later call failed: text after `shownText` was not shown. */
  failure: unknown = null;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly target: AnswerTarget,
    intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    super(intervalMs, onError);
  }

  get shownText(): string {
    return this.sentText;
  }

  /** The ts of every streamed message, finished or not. */
  get messageRefs(): string[] {
    return this.streamer?.ts && !this.refs.includes(this.streamer.ts) ? [...this.refs, this.streamer.ts] : [...this.refs];
  }

  /** True once a call carrying text was sent (unless Slack answered that it cannot stream: then nothing was shown). */
  get sentAny(): boolean {
    return this.textSent && this.unsupported === null;
  }

  /** The expert broke: unless some of its text was sent, drop what it wrote and return true (the fallback's text replaces it). */
  startOver(): boolean {
    if (this.sentAny) return false;
    this.dropText();
    return true;
  }

  get broken(): boolean {
    return this.unsupported !== null || this.failure !== null;
  }

  protected render(_header: string | null, text: string): StreamEdit | null {
    if (this.broken) return null;
    const end = Math.max(text.lastIndexOf(' '), text.lastIndexOf('\n')) + 1;
    if (end <= this.sentText.length) return null;
    const piece = text.slice(this.sentText.length, end);
    return { key: String(end), send: () => this.append(piece) };
  }

  /** Appends `text`, continuing in a new streamed message when the current one is full. */
  async append(text: string): Promise<void> {
    let rest = text;
    while (rest !== '' && !this.broken) {
      if (this.messageChars >= STREAM_MESSAGE_CHARS) await this.stopMessage();
      if (this.broken) return;
      const part = rest.slice(0, cutAt(rest, STREAM_MESSAGE_CHARS - this.messageChars));
      try {
        this.streamer ??= this.client.chatStream({
          channel: this.target.channel,
          thread_ts: this.target.threadTs,
          // Required outside DMs: who the stream is for (Bolt's sayStream passes them too).
          ...(this.target.teamId ? { recipient_team_id: this.target.teamId } : {}),
          recipient_user_id: this.target.userId,
          buffer_size: 1,
        });
        this.textSent = true;
        await this.streamer.append({ markdown_text: toMarkdownText(part) });
        this.started = true;
      } catch (err) {
        this.fail(err);
        return;
      }
      this.sentText += part;
      this.messageChars += part.length;
      rest = rest.slice(part.length);
    }
  }

  /** Stops the last message with `blocks` under it; false when Slack refused (the text stays, without them). */
  async close(blocks: Block[]): Promise<boolean> {
    if (this.broken || !this.streamer) return false;
    try {
      await this.streamer.stop({ blocks });
      this.refs.push(this.streamer.ts!);
      this.streamer = null;
      return true;
    } catch (err) {
      // Finish the message without the blocks, so it does not stay "writing"; the caller posts them separately.
      await this.stopMessage();
      this.failure ??= err;
      return false;
    }
  }

  private async stopMessage(): Promise<void> {
    const streamer = this.streamer;
    if (!streamer) return;
    this.streamer = null;
    this.messageChars = 0;
    try {
      await streamer.stop();
    } catch (err) {
      this.fail(err);
    }
    if (streamer.ts) this.refs.push(streamer.ts);
  }

  private fail(err: unknown): void {
    if (!this.started && this.refs.length === 0 && isUnsupported(err)) this.unsupported = slackErrorCode(err);
    else this.failure ??= err;
  }
}
