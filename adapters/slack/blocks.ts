/**
 * Block Kit for answers. Limits with a margin: Slack rejects a section over 3,000 characters (invalid_blocks) and,
 * in practice, a message whose blocks hold more than ~12-13k characters in total (msg_blocks_too_long,
 * bolt-js#2509), so sections stay under 2,900 and a message under 10,000; the rest continues in the thread.
 */
import type { AskResult } from '../../src/core/types.js';
import type { ExpertInfo } from '../../src/experts/types.js';
import type { ExpertId } from '../../src/gate/types.js';
import { answerHeader, conversationNotice, expertLabel, feedbackInvite } from '../shared/format.js';
import { splitMessage } from '../shared/splitMessage.js';
import { ACTION, encodeFeedbackValues, encodeValue } from './actionIds.js';
import { escapeMrkdwn, toMrkdwn } from './mrkdwn.js';

export const SECTION_LIMIT = 2900;
export const MESSAGE_LIMIT = 10_000;
/** Characters of a message's text shown in notifications (the blocks carry the answer). */
const FALLBACK_TEXT_CHARS = 300;

export interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface Option {
  text: TextObject;
  value: string;
}

export type Block =
  | { type: 'section'; text: TextObject; accessory?: Element }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'actions'; block_id?: string; elements: Element[] }
  | { type: 'context_actions'; block_id?: string; elements: FeedbackButtons[] };

export interface FeedbackButtons {
  type: 'feedback_buttons';
  action_id: string;
  positive_button: { text: TextObject; value: string; accessibility_label?: string };
  negative_button: { text: TextObject; value: string; accessibility_label?: string };
}

export type Element =
  | { type: 'button'; action_id: string; text: TextObject; value: string; style?: 'primary' | 'danger' }
  | { type: 'static_select'; action_id: string; placeholder: TextObject; options: Option[] };

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/**
 * Splits raw answer text into pieces whose mrkdwn form is at most `limit` characters, at paragraph/sentence/word
 * boundaries (escaping happens after splitting, so an `&amp;` is never cut in half).
 */
export function splitForSlack(raw: string, limit: number, rawLimit = limit): string[] {
  const out: string[] = [];
  for (const piece of splitMessage(raw, rawLimit)) {
    const escaped = toMrkdwn(piece).length;
    if (escaped <= limit || piece.length <= 20) out.push(piece);
    // Escaping grew it past the limit: split the raw piece smaller, in proportion (always below its own length).
    else out.push(...splitForSlack(piece, limit, Math.max(20, Math.min(piece.length - 1, Math.floor((piece.length * limit * 0.95) / escaped)))));
  }
  return out;
}

const plain = (text: string): TextObject => ({ type: 'plain_text', text, emoji: true });
const section = (rawText: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: toMrkdwn(rawText) } });
const contextLine = (mrkdwn: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn }] });

function fallbackText(header: string, body: string): string {
  const snippet = body.length > FALLBACK_TEXT_CHARS ? `${body.slice(0, FALLBACK_TEXT_CHARS)}…` : body;
  return escapeMrkdwn(`${header}: ${snippet}`);
}

/** The 👍/👎 feedback_buttons under an answer; a click arrives as a block action with the pressed button's value. */
export function feedbackActions(result: Pick<AskResult, 'decisionId' | 'runnerUp'>): Block {
  const values = encodeFeedbackValues(result.decisionId, result.runnerUp.id);
  return {
    type: 'context_actions',
    elements: [{
      type: 'feedback_buttons',
      action_id: ACTION.feedback,
      positive_button: { text: plain('👍'), value: values.positive, accessibility_label: 'Good answer' },
      negative_button: { text: plain('👎'), value: values.negative, accessibility_label: 'Wrong expert or bad answer' },
    }],
  };
}

/** What follows the answer text on its last message: the expert line, the vote invite when wanted, and 👍/👎. */
export function answerFooter(result: AskResult): Block[] {
  const invite = feedbackInvite(result);
  const notice = conversationNotice(result); // past CONVERSATION_IDLE / CONVERSATION_MAX_TURNS: one short line says so
  return [contextLine(escapeMrkdwn(answerHeader(result))), ...(notice ? [contextLine(notice)] : []), ...(invite ? [contextLine(invite)] : []), feedbackActions(result)];
}

/** The answer as thread messages (when Slack cannot stream): text sections, and the footer on the last one. */
export function answerMessages(result: AskResult): SlackMessage[] {
  const header = answerHeader(result);
  const body = result.response.trim() || '_(the expert returned an empty answer)_';
  const chunks = splitForSlack(body, MESSAGE_LIMIT);
  return chunks.map((chunk, i) => {
    const blocks = splitForSlack(chunk, SECTION_LIMIT).map(section);
    const last = i === chunks.length - 1;
    if (last) blocks.push(...answerFooter(result));
    const part = chunks.length > 1 ? ` (${i + 1}/${chunks.length})` : '';
    return { text: fallbackText(`${header}${part}`, chunk), blocks };
  });
}

/** The answer without blocks (when Slack refuses ours): the expert line and text, 3,000 characters per message. */
export function plainTextMessages(result: AskResult): SlackMessage[] {
  const body = result.response.trim() || '(the expert returned an empty answer)';
  const notice = conversationNotice(result);
  return splitForSlack(`${answerHeader(result)}\n${notice ? `${notice}\n` : ''}\n${body}`, 3000).map((part) => ({ text: toMrkdwn(part), blocks: [] }));
}

/** What the answer message shows while it is being written: up to three sections of text and who is writing. */
export function streamingMessage(header: string | null, text: string): SlackMessage {
  const who = header ?? '⏳ Choosing an expert…';
  const body = text.trim();
  if (body === '') return { text: escapeMrkdwn(`${who} · thinking…`), blocks: [contextLine(`${escapeMrkdwn(who)} · _thinking…_`)] };
  const pieces = splitForSlack(body, SECTION_LIMIT);
  const shown = pieces.slice(0, 3).map(section);
  const more = pieces.length > 3 ? ' · _continues below when done_' : '';
  return {
    text: fallbackText(who, body),
    blocks: [...shown, contextLine(`${escapeMrkdwn(who)} · _writing…_${more}`)],
  };
}

/** An answer cut short after some of it was shown: that text (as the placeholder showed it), who wrote it, then the error line. */
export function cutShortMessage(header: string | null, text: string, notice: string): SlackMessage {
  const pieces = splitForSlack(text.trim(), SECTION_LIMIT);
  const more = pieces.length > 3 ? ' · _…_' : '';
  const who = header ? [contextLine(`${escapeMrkdwn(header)}${more}`)] : [];
  return { text: escapeMrkdwn(`${header ?? ''}\n${notice}`.trim()), blocks: [...pieces.slice(0, 3).map(section), ...who, section(notice)] };
}

/** A short notice in place of an answer (errors). */
export function noticeMessage(text: string): SlackMessage {
  return { text: escapeMrkdwn(text), blocks: [section(text)] };
}

/** The private follow-up to a 👎: pick the expert that should have answered, or ask the runner-up right away. */
export function correctionMessage(
  decisionId: string,
  experts: ExpertInfo[],
  runnerUp: ExpertId,
  threadTs: string | null,
  intro: string,
): SlackMessage {
  const runner = experts.find((e) => e.id === runnerUp);
  const blocks: Block[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `${escapeMrkdwn(intro)} *Which expert should have answered?*` },
      accessory: {
        type: 'static_select',
        action_id: ACTION.correct,
        placeholder: plain('Choose an expert'),
        options: experts.map((e) => ({
          text: plain(expertLabel(e).slice(0, 75)),
          value: encodeValue({ kind: 'correct', decisionId, expertId: e.id, threadTs }),
        })),
      },
    },
  ];
  if (runner) blocks.push(rerouteActions(decisionId, runner, threadTs));
  return { text: escapeMrkdwn(`${intro} Which expert should have answered?`), blocks };
}

export function rerouteActions(decisionId: string, expert: ExpertInfo, threadTs: string | null): Block {
  return {
    type: 'actions',
    block_id: 'moe_reroute',
    elements: [{
      type: 'button', action_id: ACTION.reroute, style: 'primary',
      text: plain(`Ask ${expertLabel(expert)} instead`.slice(0, 75)),
      value: encodeValue({ kind: 'reroute', decisionId, expertId: expert.id, threadTs }),
    }],
  };
}

