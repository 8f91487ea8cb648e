/**
 * A minimal GGUF (v3) writer: header, metadata key/values, tensor infos, aligned tensor data.
 * Used to generate the demo experts and the test fixtures (including deliberately malformed files).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type GgufMetadataValue =
  | { type: 'string'; value: string }
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'uint64'; value: bigint }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'float32[]'; value: ArrayLike<number> }
  | { type: 'int32[]'; value: ArrayLike<number> };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the fastest-moving (row length). */
  dims: readonly number[];
  /** f32 values, row-major in ggml order; `null` writes zeros. */
  data: Float32Array | null;
  /** Storage type; f16 halves the size of large all-zero matrices. Default f32. */
  type?: 'f32' | 'f16';
}

export interface GgufFile {
  metadata: Record<string, GgufMetadataValue>;
  tensors: readonly GgufTensor[];
  /** Data alignment in bytes (GGUF default 32). */
  alignment?: number;
}

const VALUE_TYPE = { uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10 } as const;
const GGML_TYPE = { f32: 0, f16: 1 } as const;

/** Collects little-endian pieces into one buffer. */
class ByteSink {
  private readonly parts: Buffer[] = [];
  length = 0;

  push(buf: Buffer): void {
    this.parts.push(buf);
    this.length += buf.length;
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    this.push(b);
  }
  i32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n | 0);
    this.push(b);
  }
  u64(n: bigint | number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.push(b);
  }
  f32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(n);
    this.push(b);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  pad(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.push(Buffer.alloc(alignment - rem));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

/** The GGUF type of each metadata kind; for arrays, the type of their elements. */
const ELEMENT_TYPE: Record<GgufMetadataValue['type'], number> = {
  string: VALUE_TYPE.string, uint32: VALUE_TYPE.uint32, int32: VALUE_TYPE.int32, float32: VALUE_TYPE.float32,
  bool: VALUE_TYPE.bool, uint64: VALUE_TYPE.uint64, 'string[]': VALUE_TYPE.string, 'float32[]': VALUE_TYPE.float32, 'int32[]': VALUE_TYPE.int32,
};

/** 4-byte numbers packed into one buffer (arrays can hold a whole vocabulary). */
function packed(values: ArrayLike<number>, write: (b: Buffer, value: number, offset: number) => void): Buffer {
  const b = Buffer.alloc(4 * values.length);
  for (let i = 0; i < values.length; i++) write(b, values[i]!, 4 * i);
  return b;
}

/** A value's type (an array: `array`, its element type and its length), then its bytes. */
function writeValue(sink: ByteSink, v: GgufMetadataValue): void {
  if (v.type === 'string[]' || v.type === 'float32[]' || v.type === 'int32[]') {
    sink.u32(VALUE_TYPE.array);
    sink.u32(ELEMENT_TYPE[v.type]);
    sink.u64(v.value.length);
  } else {
    sink.u32(ELEMENT_TYPE[v.type]);
  }
  switch (v.type) {
    case 'string': return sink.str(v.value);
    case 'uint32': return sink.u32(v.value);
    case 'int32': return sink.i32(v.value);
    case 'float32': return sink.f32(v.value);
    case 'bool': return sink.push(Buffer.from([v.value ? 1 : 0]));
    case 'uint64': return sink.u64(v.value);
    case 'string[]': return v.value.forEach((s) => sink.str(s));
    case 'float32[]': return sink.push(packed(v.value, (b, x, at) => b.writeFloatLE(x, at)));
    case 'int32[]': return sink.push(packed(v.value, (b, x, at) => b.writeInt32LE(x | 0, at)));
  }
}

/** IEEE half from a float (round to nearest; enough for weights and zeros). */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    return sign | ((m + 0x1000) >>> 13);
  }
  return sign | (exp << 10) | ((mant + 0x1000) >>> 13);
}

function tensorBytes(t: GgufTensor): Buffer {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const type = t.type ?? 'f32';
  if (t.data !== null && t.data.length !== count) {
    throw new Error(`tensor ${t.name}: data has ${t.data.length} values, dims ${t.dims.join('x')} need ${count}`);
  }
  if (type === 'f32') {
    if (t.data === null) return Buffer.alloc(4 * count);
    return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  const b = Buffer.alloc(2 * count);
  if (t.data !== null) for (let i = 0; i < count; i++) b.writeUInt16LE(toHalf(t.data[i]!), 2 * i);
  return b;
}

/** Serializes a GGUF file in memory. */
export function encodeGguf(file: GgufFile): Buffer {
  const alignment = file.alignment ?? 32;
  const head = new ByteSink();
  head.push(Buffer.from('GGUF', 'ascii'));
  head.u32(3);
  head.u64(file.tensors.length);
  const entries = Object.entries(file.metadata);
  head.u64(entries.length);
  for (const [key, value] of entries) {
    head.str(key);
    writeValue(head, value);
  }
  const datas = file.tensors.map(tensorBytes);
  let offset = 0;
  file.tensors.forEach((t, i) => {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(GGML_TYPE[t.type ?? 'f32']);
    head.u64(offset);
    offset += datas[i]!.length;
    offset += (alignment - (offset % alignment)) % alignment;
  });
  head.pad(alignment);
  for (const d of datas) {
    head.push(d);
    head.pad(alignment);
  }
  return head.toBuffer();
}

/** Writes atomically (temp file + rename) so a crash never leaves a half-written model that looks valid. */
export async function writeGguf(filePath: string, file: GgufFile): Promise<void> {
  await mkdir(path.dirname(filePath), { recursive: true });
  const tmp = `${filePath}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, encodeGguf(file));
  await rename(tmp, filePath);
}
