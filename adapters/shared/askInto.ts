/**
 * The router call both chat adapters answer with: the asker's options, the answer's header once the expert is known,
 * then its text as it is written, into whatever shows it (a Discord reply, a Slack message or stream).
 */
import type { AskOptions, AskResult, DecisionInfo } from '../../src/core/types.js';
import { answerHeader } from './format.js';

/** Router call to make for the answer (ask or reroute), given the streaming options. */
export type AnswerCall = (options: AskOptions) => Promise<AskResult>;

/** Where an answer streams to. */
export interface AnswerSink {
  setHeader(header: string): void;
  push(text: string): void;
  /**
   * The expert broke: a sink that has shown none of its text drops it and returns true (the fallback expert's text
   * replaces it); false once some was shown (see AskOptions.startOver).
   */
  startOver?(): boolean;
}

export interface ChatAsker {
  platform: 'discord' | 'slack';
  userId: string;
  channelId: string | null;
  signal?: AbortSignal;
  /** Called with the decision before the header is set (e.g. Slack's thread status names the expert). */
  onDecision?: (decision: DecisionInfo) => void;
}

export function askInto(call: AnswerCall, sink: AnswerSink, asker: ChatAsker): Promise<AskResult> {
  const { onDecision, ...options } = asker;
  return call({
    ...options,
    ...(sink.startOver ? { startOver: () => sink.startOver?.() ?? false } : {}),
    onDecision: (decision) => {
      onDecision?.(decision);
      sink.setHeader(answerHeader(decision));
    },
    onTextChunk: (text) => sink.push(text),
  });
}
