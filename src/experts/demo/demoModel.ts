/**
 * Demo experts: a llama-architecture GGUF whose output weights are log bigram probabilities over a small corpus,
 * so llama.cpp runs an exact word-level Markov chain. Loads in milliseconds, needs no download.
 *
 * How: each token's embedding is a one-hot "state" vector (the word it ends with), attention and FFN weights are zero
 * so the residual stream passes the embedding through, and the output matrix holds log P(next | state) divided by
 * the RMS-norm gain. The tokenizer is SentencePiece-style ("llama") with byte fallback, so any input tokenizes.
 */
import type { GgufMetadataValue, GgufTensor } from './writeGguf.js';
import { writeGguf } from './writeGguf.js';

/** Bumped when the generated file changes shape, so stale demo files are regenerated. */
export const DEMO_MODEL_VERSION = 1;

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface DemoModelOptions {
  /** Answers the chain learns from; each one is a sequence of words and punctuation. */
  corpus: readonly string[];
  /** Stored as general.name. */
  name?: string;
  /**
   * When true the chain never emits end-of-answer: after an answer's last word it starts another answer.
   * Use with GenerateOptions.maxTokens to get answers of a chosen length (e.g. for message-splitting tests).
   */
  endless?: boolean;
  /** llama.context_length (default 8192). */
  contextLength?: number;
  /** Minimum embedding width; a wider model does more arithmetic per token (used by the batching benchmark). */
  minEmbeddingLength?: number;
  /**
   * `word` (default): one token per word or punctuation mark. `sentence`: one token per whole sentence, so long
   * answers need few tokens (about 70 characters each) — cheap fixtures for message-splitting tests.
   */
  tokenUnit?: 'word' | 'sentence';
  /** Stored as moe.demo_fingerprint so callers can tell whether a file on disk matches the corpus they want. */
  fingerprint?: string;
}

export interface DemoModelSummary {
  vocabSize: number;
  embeddingLength: number;
  words: number;
}

const WORD = '\u2581';
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;
const SPECIAL = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'] as const;
const EOS_ID = 4;
const RMS_EPS = 1e-6;
/** Log-probability given to tokens the chain never emits from a state (exp(-40) is effectively zero). */
const NEVER = -40;

/** Words become `▁word` pieces; sentence punctuation attaches to the previous word without a space. */
export function splitCorpusText(text: string, unit: 'word' | 'sentence' = 'word'): string[] {
  if (unit === 'sentence') {
    return text
      .split(/(?<=[.!?])\s+/)
      .map((sentence) => sentence.trim())
      .filter(Boolean)
      .map((sentence) => WORD + sentence.replace(/\s+/g, WORD));
  }
  const pieces: string[] = [];
  for (const m of text.matchAll(/[^\s.,!?;:]+|[.,!?;:]/g)) {
    const p = m[0];
    pieces.push(/^[.,!?;:]$/.test(p) ? p : WORD + p);
  }
  return pieces;
}

interface Vocab {
  tokens: string[];
  scores: number[];
  types: number[];
  ids: Map<string, number>;
}

function buildVocab(pieces: Iterable<string>): Vocab {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const ids = new Map<string, number>();
  const add = (t: string, type: number, score: number): void => {
    if (ids.has(t)) return;
    ids.set(t, tokens.length);
    tokens.push(t);
    types.push(type);
    scores.push(score);
  };
  SPECIAL.forEach((t, i) => add(t, i === 0 ? TOKEN_TYPE.unknown : TOKEN_TYPE.control, 0));
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, TOKEN_TYPE.byte, 0);
  add(WORD, TOKEN_TYPE.normal, -1);
  // Every prefix of a word is a token so the SPM merge loop can grow `▁w` → `▁wo` → `▁word` one symbol at a time.
  for (const piece of pieces) {
    const chars = Array.from(piece);
    for (let n = 1; n <= chars.length; n++) add(chars.slice(0, n).join(''), TOKEN_TYPE.normal, n);
  }
  return { tokens, scores, types, ids };
}

/** Builds the GGUF contents for a demo model (exported for tests that want to corrupt a valid file). */
export function buildDemoModel(options: DemoModelOptions): {
  metadata: Record<string, GgufMetadataValue>;
  tensors: GgufTensor[];
  summary: DemoModelSummary;
} {
  const answers = options.corpus.map((text) => splitCorpusText(text, options.tokenUnit)).filter((a) => a.length > 0);
  if (answers.length === 0) throw new Error('demo model corpus is empty: give at least one answer with words');
  const words = [...new Set(answers.flat())].sort();
  const vocab = buildVocab(words);
  const nVocab = vocab.tokens.length;

  // State 0 = "start of answer" (any token that is not a corpus word, e.g. the newline after `assistant`).
  const stateOf = new Map<string, number>(words.map((w, i) => [w, i + 1]));
  const nStates = words.length + 1;
  const nEmbd = Math.max(options.minEmbeddingLength ?? 0, Math.ceil(nStates / 8) * 8);

  const counts: Map<number, number>[] = Array.from({ length: nStates }, () => new Map());
  const bump = (state: number, token: number): void => {
    const row = counts[state]!;
    row.set(token, (row.get(token) ?? 0) + 1);
  };
  for (const answer of answers) {
    let state = 0;
    for (const piece of answer) {
      bump(state, vocab.ids.get(piece)!);
      state = stateOf.get(piece)!;
    }
    // Endless chains go back to an answer start instead of ending, so generation runs until maxTokens.
    if (options.endless) for (const next of answers) bump(state, vocab.ids.get(next[0]!)!);
    else bump(state, EOS_ID);
  }

  const embd = new Float32Array(nEmbd * nVocab);
  for (let t = 0; t < nVocab; t++) embd[t * nEmbd + (stateOf.get(vocab.tokens[t]!) ?? 0)] = 1;

  // RMS norm turns a one-hot vector into gain * one-hot; divide it out so logits are exact log-probabilities.
  const gain = 1 / Math.sqrt(1 / nEmbd + RMS_EPS);
  const output = new Float32Array(nEmbd * nVocab).fill(NEVER / gain);
  counts.forEach((row, state) => {
    let total = 0;
    for (const c of row.values()) total += c;
    for (const [token, c] of row) output[token * nEmbd + state] = Math.log(c / total) / gain;
  });

  const nFf = 16;
  const ones = new Float32Array(nEmbd).fill(1);
  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', dims: [nEmbd, nVocab], data: embd },
    { name: 'output_norm.weight', dims: [nEmbd], data: ones },
    { name: 'output.weight', dims: [nEmbd, nVocab], data: output },
    { name: 'blk.0.attn_norm.weight', dims: [nEmbd], data: ones },
    { name: 'blk.0.attn_q.weight', dims: [nEmbd, nEmbd], data: null, type: 'f16' },
    { name: 'blk.0.attn_k.weight', dims: [nEmbd, nEmbd], data: null, type: 'f16' },
    { name: 'blk.0.attn_v.weight', dims: [nEmbd, nEmbd], data: null, type: 'f16' },
    { name: 'blk.0.attn_output.weight', dims: [nEmbd, nEmbd], data: null, type: 'f16' },
    { name: 'blk.0.ffn_norm.weight', dims: [nEmbd], data: ones },
    { name: 'blk.0.ffn_gate.weight', dims: [nEmbd, nFf], data: null, type: 'f16' },
    { name: 'blk.0.ffn_down.weight', dims: [nFf, nEmbd], data: null, type: 'f16' },
    { name: 'blk.0.ffn_up.weight', dims: [nEmbd, nFf], data: null, type: 'f16' },
  ];

  const metadata: Record<string, GgufMetadataValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: options.name ?? 'moe-router demo expert' },
    'general.file_type': { type: 'uint32', value: 0 },
    'llama.context_length': { type: 'uint32', value: options.contextLength ?? 8192 },
    'llama.embedding_length': { type: 'uint32', value: nEmbd },
    'llama.block_count': { type: 'uint32', value: 1 },
    'llama.feed_forward_length': { type: 'uint32', value: nFf },
    'llama.attention.head_count': { type: 'uint32', value: 1 },
    'llama.attention.head_count_kv': { type: 'uint32', value: 1 },
    'llama.attention.layer_norm_rms_epsilon': { type: 'float32', value: RMS_EPS },
    'llama.rope.dimension_count': { type: 'uint32', value: nEmbd },
    'llama.vocab_size': { type: 'uint32', value: nVocab },
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: vocab.tokens },
    'tokenizer.ggml.scores': { type: 'float32[]', value: vocab.scores },
    'tokenizer.ggml.token_type': { type: 'int32[]', value: vocab.types },
    'tokenizer.ggml.unknown_token_id': { type: 'uint32', value: 0 },
    'tokenizer.ggml.bos_token_id': { type: 'uint32', value: 1 },
    'tokenizer.ggml.eos_token_id': { type: 'uint32', value: EOS_ID },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'string', value: CHATML_TEMPLATE },
    'moe.demo': { type: 'bool', value: true },
    'moe.demo_version': { type: 'uint32', value: DEMO_MODEL_VERSION },
    'moe.demo_fingerprint': { type: 'string', value: options.fingerprint ?? '' },
  };
  return { metadata, tensors, summary: { vocabSize: nVocab, embeddingLength: nEmbd, words: words.length } };
}

/** Writes a demo model to `filePath` (atomically) and returns its shape. */
export async function writeDemoModel(filePath: string, options: DemoModelOptions): Promise<DemoModelSummary> {
  const { metadata, tensors, summary } = buildDemoModel(options);
  await writeGguf(filePath, { metadata, tensors });
  return summary;
}
