/**
 * Streams generated text into one Slack message with chat.update (see ThrottledStream; chat.update is rate limited per
 * channel, and about once a second is what Slack's own streaming guidance uses).
 */
import type { webApi } from '@slack/bolt';
import { ThrottledStream, type StreamEdit } from '../shared/ThrottledStream.js';
import { streamingMessage } from './blocks.js';

export class StreamingMessage extends ThrottledStream {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly channel: string,
    private readonly ts: string,
    intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    super(intervalMs, onError);
  }

  protected render(header: string | null, text: string): StreamEdit {
    const message = streamingMessage(header, text);
    return {
      key: JSON.stringify(message.blocks),
      send: () => this.client.chat.update({ channel: this.channel, ts: this.ts, text: message.text, blocks: message.blocks }),
    };
  }
}
