/**
 * Platform-neutral text for chat adapters: the answer header, the demo label, retrain/stats summaries and
 * the short messages users see for errors. Plain text plus `_italics_`, which Discord and Slack both render.
 */
import type { AskResult, RetrainReport, RouterStats } from '../../src/core/types.js';
import type { ExpertInfo } from '../../src/experts/types.js';
import { chatErrorMessage, isErrorCode, RouterError, type ErrorParams } from '../../src/core/errors.js';

export const DEMO_LABEL = '_demo model output_';

export function percent(p: number, decimals = 0): string {
  return `${(Math.max(0, Math.min(1, p)) * 100).toFixed(decimals)}%`;
}

export function expertLabel(expert: Pick<ExpertInfo, 'emoji' | 'displayName'>): string {
  return `${expert.emoji} ${expert.displayName}`;
}

const LABEL_NAMES: Record<string, string> = { healthcare: 'healthcare', finance: 'finance', cybersecurity: 'cybersecurity', none: 'off-topic' };

/** Why a fallback happened, in a few words. */
export function fallbackExplanation(result: Pick<AskResult, 'fallbackReason' | 'probabilities'>): string | null {
  switch (result.fallbackReason) {
    case 'off_topic':
      return 'fallback: the question looks off-topic';
    case 'unsure': {
      const top = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1])[0];
      return `fallback: the gate was unsure${top ? ` (best guess ${LABEL_NAMES[top[0]] ?? top[0]} at ${percent(top[1])})` : ''}`;
    }
    case 'expert_unavailable':
      return 'fallback: the chosen expert is unavailable';
    case 'expert_busy':
      return 'fallback: the chosen expert is busy';
    default:
      return null;
  }
}

export type HeaderInfo = Pick<AskResult, 'expert' | 'confidence' | 'probabilities' | 'fallbackReason' | 'reroutedFrom' | 'demo'>;

/** First line of an answer, e.g. "🔐 Cybersecurity Expert · 92%" or "💬 General · fallback: …". */
export function answerHeader(result: HeaderInfo): string {
  const parts = [expertLabel(result.expert)];
  const why = fallbackExplanation(result);
  parts.push(why ?? percent(result.confidence));
  if (result.reroutedFrom) parts.push('re-asked on request');
  if (result.demo) parts.push(DEMO_LABEL);
  return parts.join(' · ');
}

/** Shown under answers the gate was unsure about: votes there teach it most (see README, "How votes become training examples"). */
export const FEEDBACK_INVITE = '_Not sure I picked the right expert: a 👍 or 👎 below teaches me to route better._';

/** The invite line for this answer, or null when it needs none. */
export function feedbackInvite(result: Pick<AskResult, 'feedbackWanted'>): string | null {
  return result.feedbackWanted ? FEEDBACK_INVITE : null;
}

/** One short line when this message started a new conversation where one was running (idle too long, or too long). */
export function conversationNotice(result: Pick<AskResult, 'conversation'>): string | null {
  switch (result.conversation?.restarted) {
    case 'idle':
      return '_New conversation: the earlier one had been idle too long, so I started fresh._';
    case 'max_turns':
      return '_New conversation: the earlier one reached its maximum length, so I started fresh._';
    default:
      return null;
  }
}

/** Header, blank line, answer (and the feedback invite when wanted): the full text that is split into messages. */
export function answerText(result: AskResult): string {
  const body = result.response.trim() || '_(the expert returned an empty answer)_';
  const invite = feedbackInvite(result);
  const notice = conversationNotice(result);
  return `${answerHeader(result)}\n${notice ? `${notice}\n` : ''}\n${body}${invite ? `\n\n${invite}` : ''}`;
}

export function retrainSummary(report: RetrainReport): string {
  const old = report.oldAccuracy === null ? 'none' : percent(report.oldAccuracy, 1);
  const verdict = report.promoted ? `✅ promoted gate ${report.version}` : `⏸️ kept gate ${report.oldVersion ?? '(none)'}`;
  return [
    verdict,
    `examples used: ${report.examplesUsed} (${report.feedbackExamples} from feedback)`,
    `held-out accuracy: old ${old} → new ${percent(report.newAccuracy, 1)}`,
    report.reason,
  ].join('\n');
}

export function statsSummary(stats: RouterStats, experts: ExpertInfo[]): string {
  const byId = new Map(experts.map((e) => [e.id as string, e]));
  const lines = [`Decisions: ${stats.total} · fallback rate ${percent(stats.fallbackRate)} · gate ${stats.gateVersion}`];
  lines.push(stats.upvoteRate === null ? `👍 rate: no votes yet` : `👍 rate: ${percent(stats.upvoteRate)} of ${stats.votes} votes`);
  for (const [id, n] of Object.entries(stats.decisionsByExpert).sort((a, b) => b[1] - a[1])) {
    const e = byId.get(id);
    lines.push(`${e ? expertLabel(e) : id}: ${n}`);
  }
  return lines.join('\n');
}

interface CodedError {
  code: string;
  retryAfterSec?: number | null;
}

function isCoded(err: unknown): err is CodedError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

/** The asker's own request was refused (too fast, empty, too long): theirs to hear, not a channel's. */
const REFUSALS: ReadonlySet<string> = new Set(['rate_limited', 'empty_query', 'query_too_long', 'prompt_too_long']);
export function isRefusal(err: unknown): boolean {
  return isCoded(err) && REFUSALS.has(err.code);
}

/** True for failures a user caused or should expect (log as warnings); false for bugs and outages of ours. */
export function isExpectedError(err: unknown): boolean {
  return isCoded(err) && isErrorCode(err.code) && err.code !== 'internal';
}

/** The short message a user sees for a failure (src/core/errors.ts); errors without a known code get the generic line (the caller logs them). */
export function userErrorMessage(err: unknown, maxQueryChars?: number): string {
  if (!isCoded(err) || !isErrorCode(err.code)) return chatErrorMessage('internal');
  const params: ErrorParams = err instanceof RouterError ? err.params : {};
  return chatErrorMessage(err.code, { maxQueryChars, ...params, retryAfterSec: err.retryAfterSec ?? params.retryAfterSec ?? null });
}
