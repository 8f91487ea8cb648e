/**
 * Streams generated text into one Slack message with chat.update (see ThrottledStream; chat.update is rate limited per
 * channel, and about once a second is what Slack's own streaming guidance uses).
 */
import type { webApi } from '@slack/bolt';
import { ThrottledStream, type StreamEdit } from '../shared/ThrottledStream.js';
import { streamingMessage } from './blocks.js';

export class StreamingMessage extends ThrottledStream {
  /** The answer text of the last update sent with text ('' while none was): it may be on screen. */
  private sentText = '';

  constructor(
    private readonly client: webApi.WebClient,
    private readonly channel: string,
    private readonly ts: string,
    intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    super(intervalMs, onError);
  }

  /** The answer text of the last update sent with text, '' while none was. */
  get shownText(): string {
    return this.sentText;
  }

  /** The expert broke: unless an update with some of its text was sent, drop what it wrote and return true. */
  startOver(): boolean {
    if (this.sentText !== '') return false;
    this.dropText();
    return true;
  }

  protected render(header: string | null, text: string): StreamEdit {
    const message = streamingMessage(header, text);
    return {
      key: JSON.stringify(message.blocks),
      send: () => {
        if (text.trim() !== '') this.sentText = text;
        return this.client.chat.update({ channel: this.channel, ts: this.ts, text: message.text, blocks: message.blocks });
      },
    };
  }
}
