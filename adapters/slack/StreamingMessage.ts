/**
 * Streams generated text into one Slack message with chat.update, at most once per `intervalMs` (chat.update is
 * rate limited per channel; about once a second is what Slack's own streaming guidance uses). Updates never overlap.
 */
import type { webApi } from '@slack/bolt';
import { streamingMessage } from './blocks.js';

export class StreamingMessage {
  private text = '';
  private header: string | null = null;
  private shown = '';
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private lastUpdateAt = 0;
  private closed = false;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly channel: string,
    private readonly ts: string,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Names the answering expert as soon as it is known, before the first word. */
  setHeader(header: string): void {
    if (this.closed) return;
    this.header = header;
    this.schedule();
  }

  push(chunk: string): void {
    if (this.closed) return;
    this.text += chunk;
    this.schedule();
  }

  /** Stops streaming, waits for the update in flight, and then until the next update is allowed. */
  async finish(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inflight;
    const wait = this.lastUpdateAt + this.intervalMs - Date.now();
    if (this.lastUpdateAt > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private schedule(): void {
    if (this.closed || this.timer || this.inflight) return;
    const wait = Math.max(0, this.lastUpdateAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    if (this.closed) return;
    const message = streamingMessage(this.header, this.text);
    const key = JSON.stringify(message.blocks);
    if (key === this.shown) return;
    this.shown = key;
    this.lastUpdateAt = Date.now();
    this.inflight = this.client.chat
      .update({ channel: this.channel, ts: this.ts, text: message.text, blocks: message.blocks })
      .then(() => undefined, (err: unknown) => this.onError(err))
      .finally(() => {
        this.inflight = null;
        this.lastUpdateAt = Date.now();
        this.schedule();
      });
  }
}
