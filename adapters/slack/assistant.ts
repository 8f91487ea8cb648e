/**
 * Slack's AI-app surface: a new assistant thread (Bolt's Assistant, `assistant_thread_started`) is greeted with one
 * suggested prompt per expert, and so is the Messages tab of the agent view (`app_home_opened`, tab `messages`);
 * messages in an assistant thread are questions like any DM, answered in that thread.
 */
import { Assistant, type webApi } from '@slack/bolt';
import type { ExpertInfo } from '../../src/experts/types.js';
import type { ExpertId } from '../../src/gate/types.js';
import { expertLabel } from '../shared/format.js';
import type { SlackContext } from './context.js';
import { escapeMrkdwn } from './mrkdwn.js';

export const GREETING = 'Hi! Ask me anything: I send each question to the expert who answers it best. '
  + 'A 👍 or 👎 on an answer teaches me to route better.';
export const PROMPTS_TITLE = 'Try one of the experts:';

/** Slack shows at most four suggested prompts. */
const MAX_PROMPTS = 4;

const SAMPLE_QUESTIONS: Record<ExpertId, string> = {
  healthcare: 'What are the early signs of dehydration, and when should I see a doctor?',
  finance: 'How much of my salary should I put aside for an emergency fund?',
  cybersecurity: 'How do I recognise a phishing email?',
  general: 'What can you help me with?',
};

export interface SuggestedPrompt {
  title: string;
  message: string;
}

/** One prompt per expert (domain experts first, the fallback last), each asking what that expert answers. */
export function suggestedPrompts(experts: ExpertInfo[]): SuggestedPrompt[] {
  const ordered = [...experts.filter((e) => !e.isFallback), ...experts.filter((e) => e.isFallback)];
  return ordered.slice(0, MAX_PROMPTS).map((e) => ({ title: expertLabel(e), message: SAMPLE_QUESTIONS[e.id] ?? `What can the ${e.displayName} help me with?` }));
}

/** Handlers the adapter wraps in its error handling. */
export interface AssistantHandlers {
  /** A message in an assistant thread: a question. */
  onMessage(args: { event: unknown; body: unknown; context: { botUserId?: string; retryNum?: number; teamId?: string }; client: webApi.WebClient }): Promise<void>;
  /** Runs work with the adapter's error handling and shutdown tracking. */
  run(what: string, fields: Record<string, unknown>, work: () => Promise<void>): Promise<void>;
}

export function createAssistant(ctx: SlackContext, handlers: AssistantHandlers): Assistant {
  return new Assistant({
    // Thread context (the channel a thread was opened from) is not used: no calls to store or read it.
    threadContextStore: { get: async () => ({}), save: async () => undefined },
    threadContextChanged: async () => undefined,
    threadStarted: async ({ event, say, setSuggestedPrompts }) => {
      const thread = event.assistant_thread;
      await handlers.run('assistant greeting', { channel: thread.channel_id, threadTs: thread.thread_ts }, async () => {
        await say({ text: escapeMrkdwn(GREETING) });
        await setSuggestedPrompts({ title: PROMPTS_TITLE, prompts: suggestedPrompts(ctx.router.experts()) });
      });
    },
    userMessage: async (args) => {
      await handlers.onMessage(args);
    },
  });
}

/** The agent view's Messages tab: the same prompts, for the DM itself (no thread). */
export async function greetMessagesTab(ctx: SlackContext, client: webApi.WebClient, channel: string): Promise<void> {
  await client.assistant.threads.setSuggestedPrompts({ channel_id: channel, title: PROMPTS_TITLE, prompts: suggestedPrompts(ctx.router.experts()) });
}
