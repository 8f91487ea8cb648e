/** Reads a multi-turn evaluation set (JSONL: one conversation a line); every problem names the file and line. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { DatasetError } from '../gate/errors.js';
import type { ExpertId } from '../gate/types.js';
import { parseExpertName } from './labels.js';

export interface ConversationTurn {
  text: string;
  /** The expert that should answer this turn. */
  expert: ExpertId;
}

export interface LabelledConversation {
  id: string;
  tags: string[];
  turns: ConversationTurn[];
  /** 1-based line of the file. */
  line: number;
}

// Other fields (notes, roles) are ignored; the names people use for the same thing are read as it.
const turnSchema = z.object({
  role: z.string().optional(),
  text: z.string().optional(),
  question: z.string().optional(),
  content: z.string().optional(),
  expert: z.string().optional(),
  label: z.string().optional(),
  expected: z.string().optional(),
  expected_expert: z.string().optional(),
});

const lineSchema = z.object({
  id: z.union([z.string().min(1).max(200), z.number().int()]).optional(),
  tags: z.array(z.string()).optional(),
  turns: z.array(turnSchema).min(1).max(50).optional(),
  messages: z.array(turnSchema).min(1).max(50).optional(),
});

export function readConversations(file: string): LabelledConversation[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(code === 'ENOENT' ? 'dataset_missing' : 'dataset_invalid', file, null, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  const out: LabelledConversation[] = [];
  const ids = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      throw new DatasetError('dataset_invalid', file, line, 'not a JSON object');
    }
    const parsed = lineSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DatasetError('dataset_invalid', file, line, `${issue.path.join('.') || '(line)'}: ${issue.message}`);
    }
    const c = parsed.data;
    const list = c.turns ?? c.messages;
    const field = c.turns ? 'turns' : 'messages';
    if (!list) throw new DatasetError('dataset_invalid', file, line, 'turns: required (an array of {"text", "expert"})');
    const id = c.id === undefined ? `line-${line}` : String(c.id);
    if (ids.has(id)) throw new DatasetError('dataset_invalid', file, line, `duplicate conversation id "${id}"`);
    ids.add(id);
    // In a chat transcript only the user's messages are turns to route; the assistant's replies are not.
    const userTurns = list.map((t, k) => [t, k] as const).filter(([t]) => t.role === undefined || t.role === 'user');
    if (userTurns.length === 0) throw new DatasetError('dataset_invalid', file, line, `${field}: no user turns`);
    const turns = userTurns.map(([t, k]) => {
      const text = (t.text ?? t.question ?? t.content ?? '').trim();
      if (text === '') throw new DatasetError('dataset_invalid', file, line, `${field}.${k}.text: required, a non-empty string`);
      const name = t.expert ?? t.label ?? t.expected ?? t.expected_expert;
      if (name === undefined) throw new DatasetError('dataset_invalid', file, line, `${field}.${k}.expert: required (healthcare, finance, cybersecurity or general)`);
      const expert = parseExpertName(name);
      if (expert === null) throw new DatasetError('dataset_invalid', file, line, `${field}.${k}.expert: unknown expert "${name}"`);
      return { text, expert };
    });
    out.push({ id, tags: c.tags ?? [], turns, line });
  }
  if (out.length === 0) throw new DatasetError('dataset_invalid', file, null, 'no conversations');
  return out;
}

/** The fixed train / held-out split of a conversation set: a third held out, by a hash of the id. */
export function isHeldOut(id: string): boolean {
  return crypto.createHash('sha256').update(id).digest()[0]! % 3 === 0;
}
