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
  let out = '';
  for (const ch of text) {
    if (random() >= p) {
      out += ch;
      continue;
    }
    const op = random();
    const letter = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    if (op < 1 / 3) out += letter;
    else if (op < 2 / 3) continue;
    else out += ch + letter;
  }
  return out;
}
