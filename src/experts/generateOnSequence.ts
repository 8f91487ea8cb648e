/**
 * One chat answer on a context sequence, using the model's own chat wrapper for the prompt and its stop triggers.
 * Lower-level than LlamaChatSession on purpose: that class costs several ms of JavaScript per token, which was 90%+
 * of the time on the demo models (130 vs 1,600+ tokens/s on the same sequence).
 */
import { resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp';
import { CUT_MARK, type ChatTurn } from './types.js';

export interface SequenceGenerateOptions {
  systemPrompt: string;
  query: string;
  /** Earlier turns, newest first: as many as fit `historyTokens` (newest kept first), and the context, go in the prompt. */
  history?: readonly ChatTurn[];
  historyTokens?: number;
  maxTokens: number;
  temperature: number;
  topP?: number;
  signal: AbortSignal;
  onText: (text: string) => void;
}

export interface SequenceGenerateResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** True when the answer stopped at maxTokens rather than at its end. */
  cut: boolean;
}

const wrappers = new WeakMap<LlamaModel, ChatWrapper>();

function chatWrapperFor(model: LlamaModel): ChatWrapper {
  let w = wrappers.get(model);
  if (!w) {
    w = resolveChatWrapper(model);
    wrappers.set(model, w);
  }
  return w;
}

export class PromptTooLongError extends Error {
  constructor(readonly promptTokens: number, readonly contextSize: number) {
    super(`the question is too long for this expert (${promptTokens} tokens, context ${contextSize})`);
    this.name = 'PromptTooLongError';
  }
}

/** Generates until an end-of-generation token, a stop trigger, maxTokens, or the signal aborts (then it throws). */
export async function generateOnSequence(sequence: LlamaContextSequence, o: SequenceGenerateOptions): Promise<SequenceGenerateResult> {
  const model = sequence.model;
  const wrapper = chatWrapperFor(model);
  const build = (turns: readonly ChatTurn[]): ReturnType<ChatWrapper['generateContextState']> => wrapper.generateContextState({
    chatHistory: [
      { type: 'system', text: o.systemPrompt },
      ...turns.flatMap((t): ChatHistoryItem[] => [{ type: 'user', text: t.question }, { type: 'model', response: [t.answer] }]),
      { type: 'user', text: o.query },
      { type: 'model', response: [] },
    ],
  });
  const budget = o.historyTokens ?? 0;
  const turns = historyWithinBudget(model, o.history ?? [], budget);
  let state = build(turns);
  let prompt = state.contextText.tokenize(model.tokenizer);
  const questionOnly = turns.length > 0 ? build([]).contextText.tokenize(model.tokenizer).length : prompt.length;
  // The estimate above leaves out the chat template's own tokens; the exact check drops the oldest turns until the
  // history fits its budget and the prompt leaves the answer room (its maxTokens, up to a quarter of the context, as
  // for engines). A long thread never fails the question.
  const answerRoom = Math.max(8, Math.min(o.maxTokens, Math.floor(sequence.contextSize / 4)));
  while (turns.length > 0 && (prompt.length - questionOnly > budget || prompt.length + answerRoom > sequence.contextSize)) {
    turns.shift();
    state = build(turns);
    prompt = state.contextText.tokenize(model.tokenizer);
  }
  if (prompt.length + 8 > sequence.contextSize) throw new PromptTooLongError(prompt.length, sequence.contextSize);
  const stops = state.stopGenerationTriggers.map((t) => t.tokenize(model.tokenizer, 'trimLeadingSpace')).filter((t) => t.length > 0);

  // Keep the cached prefix (system prompt) from this sequence's previous answer; evaluate only what differs.
  await sequence.adaptStateToTokens(prompt);
  if (sequence.nextTokenIndex >= prompt.length) {
    await sequence.eraseContextTokenRanges([{ start: prompt.length - 1, end: sequence.nextTokenIndex }]);
  }
  const input = prompt.slice(sequence.nextTokenIndex);

  const out: Token[] = [];
  let emittedUpTo = 0;
  let text = '';
  let pending = '';
  const emit = (upTo: number): void => {
    if (upTo <= emittedUpTo) return;
    const context = emittedUpTo >= 8 ? out.slice(emittedUpTo - 8, emittedUpTo) : [...prompt.slice(-8), ...out.slice(0, emittedUpTo)].slice(-8);
    const piece = model.detokenize(out.slice(emittedUpTo, upTo), false, context);
    // An unfinished UTF-8 sequence (byte tokens) shows as U+FFFD; wait for the rest of it.
    if (piece.endsWith('\uFFFD') && upTo - emittedUpTo < 8) return;
    emittedUpTo = upTo;
    pending += piece;
    if (text === '') pending = pending.trimStart();
    if (pending !== '') {
      text += pending;
      o.onText(pending);
      pending = '';
    }
  };
  const generator = sequence.evaluate(input, {
    temperature: o.temperature,
    ...(o.topP !== undefined ? { topP: o.topP } : {}),
    // A fresh seed per question; a fixed one would give every user the same answer.
    seed: Math.floor(Math.random() * 2 ** 31),
  });
  try {
    for await (const token of generator) {
      if (o.signal.aborted) break;
      if (model.isEogToken(token)) break;
      out.push(token);
      const stop = stops.find((s) => s.length <= out.length && s.every((t, i) => out[out.length - s.length + i] === t));
      if (stop) {
        out.length -= stop.length;
        break;
      }
      // Hold back tokens that could be the start of a multi-token stop trigger.
      let hold = 0;
      for (const s of stops) {
        for (let k = Math.min(s.length - 1, out.length); k > hold; k--) {
          if (s.slice(0, k).every((t, i) => out[out.length - k + i] === t)) hold = k;
        }
      }
      emit(out.length - hold);
      if (out.length >= o.maxTokens) break;
    }
  } finally {
    await generator.return(undefined);
  }
  if (o.signal.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted');
  emit(out.length);
  return { text: text.trimEnd(), promptTokens: prompt.length, completionTokens: out.length, cut: out.length >= o.maxTokens }; // only the limit leaves out that long (a stop trigger is trimmed off)
}

/** Per turn, the tokens a chat template adds around a question and its answer (role markers, separators). */
const TURN_OVERHEAD_TOKENS = 8;

/** More characters than any one token spells; a text longer than `room` times this cannot fit in `room` tokens. */
const MAX_CHARS_PER_TOKEN = 64;

/** Tokens of `text`, or some number above `room` once it is clear the text does not fit in `room`. */
function tokensUpTo(model: LlamaModel, text: string, room: number): number {
  const limit = Math.max(0, room) * MAX_CHARS_PER_TOKEN;
  if (text.length <= limit) return model.tokenize(text).length;
  // A huge pasted turn (a client may send megabytes of history): tokenizing all of it took ~0.7 s per request.
  const head = model.tokenize(text.slice(0, limit)).length;
  return head > room ? head : model.tokenize(text).length;
}

/**
 * The newest turns whose tokens fit `budget`, oldest first (as the prompt lists them); stops at the first that does not
 * fit. When even the newest does not fit (a pasted log), its beginning is kept, cut to the budget, so a follow-up about
 * it still has it.
 */
export function historyWithinBudget(model: LlamaModel, newestFirst: readonly ChatTurn[], budget: number): ChatTurn[] {
  const kept: ChatTurn[] = [];
  let used = 0;
  for (const turn of newestFirst) {
    used += TURN_OVERHEAD_TOKENS;
    used += tokensUpTo(model, turn.question, budget - used);
    if (used <= budget) used += tokensUpTo(model, turn.answer, budget - used);
    if (used > budget) {
      // 10% to spare: the chat template's own tokens, and text that tokenizes otherwise once cut.
      if (kept.length === 0) return cutToBudget(model, turn, Math.floor((budget - TURN_OVERHEAD_TOKENS - model.tokenize(CUT_MARK).length) * 0.9));
      break;
    }
    kept.push(turn);
  }
  return kept.reverse();
}

/** One turn cut to `room` tokens: the question gets up to half (and what the answer leaves), the answer the rest. */
function cutToBudget(model: LlamaModel, turn: ChatTurn, room: number): ChatTurn[] {
  if (room < 16) return [];
  const head = (text: string, tokens: number): string => {
    const all = model.tokenize(text.slice(0, Math.max(0, tokens) * MAX_CHARS_PER_TOKEN));
    return all.length <= tokens && text.length <= tokens * MAX_CHARS_PER_TOKEN ? text : `${model.detokenize(all.slice(0, Math.max(0, tokens)))}${CUT_MARK}`;
  };
  const answerTokens = tokensUpTo(model, turn.answer, room);
  const question = head(turn.question, Math.max(Math.floor(room / 2), room - answerTokens));
  const answer = head(turn.answer, room - tokensUpTo(model, question, room));
  return [{ question, answer }];
}
