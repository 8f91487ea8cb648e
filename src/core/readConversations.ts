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

const lineSchema = z.object({
  id: z.string().min(1).max(200),
  tags: z.array(z.string()).optional(),
  turns: z.array(z.object({ text: z.string().trim().min(1), expert: z.string().min(1) }).strict()).min(1).max(50),
}).strict();

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
    if (ids.has(c.id)) throw new DatasetError('dataset_invalid', file, line, `duplicate conversation id "${c.id}"`);
    ids.add(c.id);
    const turns = c.turns.map((t, k) => {
      const expert = parseExpertName(t.expert);
      if (expert === null) throw new DatasetError('dataset_invalid', file, line, `turns.${k}.expert: unknown expert "${t.expert}"`);
      return { text: t.text, expert };
    });
    out.push({ id: c.id, tags: c.tags ?? [], turns, line });
  }
  if (out.length === 0) throw new DatasetError('dataset_invalid', file, null, 'no conversations');
  return out;
}

/** The fixed train / held-out split of a conversation set: a third held out, by a hash of the id. */
export function isHeldOut(id: string): boolean {
  return crypto.createHash('sha256').update(id).digest()[0]! % 3 === 0;
}
