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

export class StreamingReply extends ThrottledStream {
  constructor(
    private readonly chain: AnswerChain,
    intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    super(intervalMs, onError);
  }

  protected render(header: string | null, text: string): StreamEdit | null {
    if (text.trim() === '' && !header) return null;
    const content = streamingPreview(header ?? '', text);
    return { key: content, send: () => this.chain.edit(content, []) };
  }
}
