/**
 * Checks a GGUF file before llama.cpp sees it: some missing metadata keys make llama.cpp abort the whole process
 * (GGML_ASSERT, exit 134) instead of throwing, so they must be caught here.
 */
import { access, constants } from 'node:fs/promises';
import { readGgufFileInfo, type GgufFileInfo } from 'node-llama-cpp';

export class ModelFileError extends Error {
  readonly code = 'model_file_invalid';
  constructor(readonly filePath: string, detail: string) {
    super(`${filePath}: ${detail}`);
    this.name = 'ModelFileError';
  }
}

/** Architectures without attention heads or FFN (state-space / RNN models) do not need those keys. */
const NO_ATTENTION_ARCHS = /^(mamba|mamba2|rwkv\d*|rwkv6qwen2)$/;

function get(obj: unknown, keyPath: string): unknown {
  let node: unknown = obj;
  for (const key of keyPath.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Reads and validates the file's metadata; throws ModelFileError with a one-line reason. */
export async function inspectModelFile(filePath: string): Promise<GgufFileInfo> {
  try {
    await access(filePath, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFileError(filePath, code === 'ENOENT' ? 'model file not found' : `model file not readable (${code ?? 'error'})`);
  }
  let info: GgufFileInfo;
  try {
    info = await readGgufFileInfo(filePath, { sourceType: 'filesystem', logWarnings: false });
  } catch (err) {
    throw new ModelFileError(filePath, `not a valid GGUF file (${(err as Error).message.split('\n')[0]})`);
  }
  const md = info.metadata as unknown;
  const arch = get(md, 'general.architecture');
  if (typeof arch !== 'string' || arch === '') throw new ModelFileError(filePath, 'GGUF metadata lacks general.architecture');
  const required = ['context_length', 'embedding_length', 'block_count'];
  if (!NO_ATTENTION_ARCHS.test(arch)) required.push('feed_forward_length', 'attention.head_count');
  for (const key of required) {
    const v = get(md, `${arch}.${key}`);
    const ok = typeof v === 'number' ? v > 0 : Array.isArray(v) ? v.length > 0 && v.some((x) => typeof x === 'number' && x > 0) : false;
    if (!ok) throw new ModelFileError(filePath, `GGUF metadata lacks a valid ${arch}.${key}`);
  }
  const tokenizer = get(md, 'tokenizer.ggml.model');
  const tokens = get(md, 'tokenizer.ggml.tokens');
  if (typeof tokenizer !== 'string') throw new ModelFileError(filePath, 'GGUF metadata lacks tokenizer.ggml.model');
  if (!Array.isArray(tokens) || tokens.length === 0) throw new ModelFileError(filePath, 'GGUF metadata lacks tokenizer.ggml.tokens');
  if (info.tensorInfo !== undefined && info.tensorInfo.length === 0) throw new ModelFileError(filePath, 'GGUF file has no tensors');
  return info;
}

/** True when the file was written by writeDemoModel (its answers are labelled as demo output). */
export function isDemoModelInfo(info: GgufFileInfo): boolean {
  return get(info.metadata, 'moe.demo') === true;
}

export function metadataValue(info: GgufFileInfo, keyPath: string): unknown {
  return get(info.metadata, keyPath);
}
