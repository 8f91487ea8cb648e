/**
 * Checks a GGUF file before llama.cpp sees it: some missing metadata keys make llama.cpp abort the whole process
 * (GGML_ASSERT, exit 134) instead of throwing, so they must be caught here.
 */
import { access, constants, stat } from 'node:fs/promises';
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
  // The reader fills a short file's missing bytes in, so a file cut inside its header shows as odd metadata, not as cut.
  const size = (await stat(filePath)).size;
  if (info.infoEndOffset !== undefined && info.infoEndOffset > size) {
    throw new ModelFileError(filePath, `truncated GGUF: its header needs ${info.infoEndOffset} bytes but the file has ${size} (an interrupted download or copy?)`);
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
  checkTensorData(filePath, info, size);
  return info;
}

/** [elements per block, bytes per block] of the ggml types (ggml.c's type traits); others are only bounds-checked by offset. */
const TYPE_SIZES: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36], 10: [256, 84],
  11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292], 16: [256, 66], 17: [256, 74],
  18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82], 23: [256, 136], 24: [1, 1], 25: [1, 2],
  26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2], 34: [256, 54], 35: [256, 66],
};

/**
 * A truncated or corrupt file passes the metadata checks but fails (or crashes) at load: the tensor table says where
 * each tensor's data is and how big it is, so the file must be at least that long, and the data aligned.
 */
export function checkTensorData(filePath: string, info: GgufFileInfo, fileSize: number): void {
  if (info.splicedParts > 1 || info.tensorInfo === undefined) return; // split models: each part is checked by llama.cpp
  const alignmentRaw = get(info.metadata, 'general.alignment');
  const alignment = typeof alignmentRaw === 'number' && alignmentRaw > 0 ? alignmentRaw : 32;
  if (info.infoEndOffset !== undefined && info.infoEndOffset % alignment !== 0) {
    throw new ModelFileError(filePath, `corrupt GGUF: tensor data starts at byte ${info.infoEndOffset}, not a multiple of the alignment (${alignment})`);
  }
  let end = info.infoEndOffset ?? 0;
  for (const t of info.tensorInfo) {
    if (Number(t.offset) % alignment !== 0) throw new ModelFileError(filePath, `corrupt GGUF: tensor ${t.name} is not aligned to ${alignment} bytes`);
    const type = TYPE_SIZES[t.ggmlType];
    const elements = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    const bytes = type ? Math.ceil(elements / type[0]) * type[1] : 0;
    end = Math.max(end, Number(t.fileOffset) + bytes);
  }
  if (end > fileSize) {
    throw new ModelFileError(filePath, `truncated GGUF: its tensor table needs ${end} bytes but the file has ${fileSize} (an interrupted download or copy?)`);
  }
}

/** True when the file was written by writeDemoModel (its answers are labelled as demo output). */
export function isDemoModelInfo(info: GgufFileInfo): boolean {
  return get(info.metadata, 'moe.demo') === true;
}

export function metadataValue(info: GgufFileInfo, keyPath: string): unknown {
  return get(info.metadata, keyPath);
}
