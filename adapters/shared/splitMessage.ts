/**
 * Splits a long answer into chat messages of at most `limit` characters, at paragraph, line or sentence
 * boundaries, never inside a word, and never leaving a ``` code block open across messages (a block longer
 * than one message is closed and reopened with its language).
 */

const FENCE = /^ {0,3}(```+|~~~+)([^\n`]*)$/gm;

interface Fence {
  index: number;
  opener: string;
}

/** Positions of fence lines, and the opening line of the block each position is inside (if any). */
function fences(text: string): Fence[] {
  const out: Fence[] = [];
  for (const m of text.matchAll(FENCE)) out.push({ index: m.index, opener: m[0].trim() });
  return out;
}

/** The opener of the code block that `pos` is inside, or null when outside any block. */
function openBlockAt(list: Fence[], pos: number): string | null {
  let open: string | null = null;
  for (const f of list) {
    if (f.index >= pos) break;
    open = open === null ? f.opener : null;
  }
  return open;
}

function lastMatch(text: string, re: RegExp, from: number, to: number, ok: (cut: number) => boolean): number {
  let best = -1;
  for (const m of text.slice(0, to).matchAll(re)) {
    const cut = m.index + m[0].length;
    if (cut > from && cut <= to && ok(cut)) best = cut;
  }
  return best;
}

/** Cuts before a lone surrogate half so an emoji is never split. */
function safeHardCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

export function splitMessage(text: string, limit = 2000): string[] {
  if (limit < 20) throw new RangeError('splitMessage: limit must be at least 20 characters');
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const list = fences(rest);
    const outside = (cut: number): boolean => openBlockAt(list, cut) === null;
    // Prefer cuts that keep messages reasonably full: the first pass ignores boundaries in the first 30%.
    let cut = -1;
    let reopen: string | null = null;
    for (const min of [Math.floor(limit * 0.3), 0]) {
      for (const re of [/\n\s*\n/g, /\n/g, /[.!?…]["')\]]*\s+/g, /\s+/g]) {
        cut = lastMatch(rest, re, min, limit, outside);
        if (cut > 0) break;
      }
      if (cut > 0) break;
    }
    let head: string;
    if (cut > 0) {
      head = rest.slice(0, cut);
    } else {
      // Inside a code block longer than a message: cut at a line end inside it, close it and reopen it after.
      const lineCut = lastMatch(rest, /\n/g, 0, limit - 4, () => true);
      const at = lineCut > limit * 0.3 ? lineCut : safeHardCut(rest, limit - 4);
      reopen = openBlockAt(list, at);
      head = rest.slice(0, at);
      if (reopen !== null) head = `${head.replace(/\n$/, '')}\n\`\`\``;
      cut = at;
    }
    parts.push(head.trimEnd());
    rest = rest.slice(cut);
    rest = reopen !== null ? `${reopen}\n${rest.replace(/^\n/, '')}` : rest.replace(/^\s+/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}
