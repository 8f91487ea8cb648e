/**
 * Streams generated text into a deferred interaction reply by editing it, at most once per `intervalMs`
 * (Discord rate-limits webhook edits; one edit a second never trips them). Edits never overlap.
 */
import type { RepliableInteraction } from 'discord.js';
import { splitMessage } from '../shared/splitMessage.js';
import { NO_MENTIONS } from './replies.js';

const DISCORD_LIMIT = 2000;
const CURSOR = ' ▌';

/** What the reply shows while the answer is still being written: the header, the first screenful and a cursor. */
export function streamingPreview(header: string, text: string): string {
  const trimmed = `${header}\n\n${text.trim()}`.trim();
  if (trimmed.length + CURSOR.length <= DISCORD_LIMIT) return `${trimmed}${CURSOR}`;
  return `${splitMessage(trimmed, DISCORD_LIMIT - 40)[0]}\n_… (continues)_`;
}

export class StreamingReply {
  private text = '';
  private header = '';
  private shown = '';
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private lastEditAt = 0;
  private closed = false;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Shows who is answering as soon as it is known (before the first word). */
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

  /** Stops streaming and waits for the edit in flight; resolves when the next edit may be sent. */
  async finish(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inflight;
    const wait = this.lastEditAt + this.intervalMs - Date.now();
    if (this.lastEditAt > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private schedule(): void {
    if (this.closed || this.timer || this.inflight || (this.text.trim() === '' && this.header === '')) return;
    const wait = Math.max(0, this.lastEditAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    if (this.closed) return;
    const content = streamingPreview(this.header, this.text);
    if (content === this.shown) return;
    this.shown = content;
    this.lastEditAt = Date.now();
    this.inflight = this.interaction
      .editReply({ content, allowedMentions: NO_MENTIONS })
      .then(() => undefined, (err: unknown) => this.onError(err))
      .finally(() => {
        this.inflight = null;
        this.schedule();
      });
  }
}
