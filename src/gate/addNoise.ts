/** Seeded character noise (replace / drop / insert) to measure how the gate copes with typos. */

/** mulberry32: tiny, fast, good enough for reproducible noise. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

/** With probability `p` per character, replaces, drops or inserts a letter (each equally likely). */
export function addNoise(text: string, p: number, random: () => number): string {
  if (p <= 0) return text;
  // Per code point (a surrogate pair is one character), copying unchanged runs as slices.
  let out = '';
  let run = 0;
  const n = text.length;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    const width = c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
    if (random() >= p) {
      i += width;
      continue;
    }
    const op = random();
    const letter = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    out += text.slice(run, i);
    if (op < 1 / 3) out += letter;
    else if (op >= 2 / 3) out += text.slice(i, i + width) + letter;
    i += width;
    run = i;
  }
  return run === 0 ? text : out + text.slice(run);
}
