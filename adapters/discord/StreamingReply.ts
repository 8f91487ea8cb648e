/** Streams generated text into the first message of an answer by editing it (see ThrottledStream). */
import { splitMessage } from '../shared/splitMessage.js';
import { ThrottledStream, type StreamEdit } from '../shared/ThrottledStream.js';
import type { AnswerChain } from './AnswerChain.js';

const DISCORD_LIMIT = 2000;
const CURSOR = ' ▌';

/** What the reply shows while the answer is still being written: the header, the first screenful and a cursor. */
export function streamingPreview(header: string, text: string): string {
  const trimmed = `${header}\n\n${text.trim()}`.trim();
  if (trimmed.length + CURSOR.length <= DISCORD_LIMIT) return `${trimmed}${CURSOR}`;
  return `${splitMessage(trimmed, DISCORD_LIMIT - 40)[0]}\n_… (continues)_`;
}

/** An answer cut short after some of it was shown: what was shown, then the error line, within one message. */
export function cutShort(shown: string, notice: string): string {
  const whole = `${shown}\n\n${notice}`;
  if (whole.length <= DISCORD_LIMIT) return whole;
  return `${splitMessage(shown, DISCORD_LIMIT - notice.length - 10)[0]} _…_\n\n${notice}`;
}

export class StreamingReply extends ThrottledStream {
  /** Characters received so far, and where the answering expert's text starts (a fallback expert starts over). */
  private received = 0;
  private from = 0;
  /** Header and text of the last edit that carried answer text (no cursor), or null while none did. */
  private lastShown: string | null = null;

  constructor(
    private readonly chain: AnswerChain,
    intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    super(intervalMs, onError);
  }

  override push(chunk: string): void {
    this.received += chunk.length;
    super.push(chunk);
  }

  /** The expert broke: unless some of its text was sent (it may be on screen), drop what it wrote and return true. */
  startOver(): boolean {
    if (this.lastShown !== null) return false;
    this.from = this.received;
    return true;
  }

  /** Header and text of the last edit that carried answer text, or null while none did. */
  get shownText(): string | null {
    return this.lastShown;
  }

  protected render(header: string | null, text: string): StreamEdit | null {
    const own = text.slice(this.from);
    if (own.trim() === '' && !header) return null;
    const content = streamingPreview(header ?? '', own);
    if (own.trim() !== '') this.lastShown = `${header ?? ''}\n\n${own.trim()}`.trim();
    return { key: content, send: () => this.chain.edit(content, []) };
  }
}
