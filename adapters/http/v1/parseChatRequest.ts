/**
 * Reads an OpenAI chat completion request into what the router needs: the question (the last user message), the
 * earlier turns, the client's system text and generation settings. Fields we do not use are ignored, as OpenAI's
 * clients expect; fields we use but cannot read are a 400 naming the field.
 */
import type { ChatTurn } from '../../../src/experts/types.js';
import { BadRequest } from './openaiErrors.js';
import { isUserId, USER_ID_RULE } from '../userId.js';

export interface ChatRequest {
  /** `moe-router` (the gate decides) or an expert id (validated against the experts by the caller). */
  model: string;
  query: string;
  /** The turns before the last user message, newest first. */
  history: ChatTurn[];
  systemPrompt: string | null;
  stream: boolean;
  includeUsageChunk: boolean;
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  userId: string | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Message content: a string, or an array of parts of which only `text` parts are understood. */
function contentText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw new BadRequest(param, `${param} must be a string or an array of text parts`);
  const texts: string[] = [];
  content.forEach((part, i) => {
    if (!isObject(part)) throw new BadRequest(`${param}[${i}]`, `${param}[${i}] must be an object`);
    if (part.type !== 'text') throw new BadRequest(`${param}[${i}]`, `${param}[${i}] is of type "${String(part.type)}"; only text content is supported`);
    if (typeof part.text !== 'string') throw new BadRequest(`${param}[${i}].text`, `${param}[${i}].text must be a string`);
    texts.push(part.text);
  });
  return texts.join('\n');
}

function optionalNumber(body: Json, key: string, min: number, max: number, integer = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new BadRequest(key, `${key} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw new BadRequest(null, 'The request body must be a JSON object');
  const model = body.model;
  if (typeof model !== 'string' || model.trim() === '') throw new BadRequest('model', 'model is required: "moe-router" or an expert id (see GET /v1/models)');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest('messages', 'messages must be a non-empty array');

  const system: string[] = [];
  const turns: { role: 'user' | 'assistant'; text: string }[] = [];
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    if (!isObject(m)) throw new BadRequest(param, `${param} must be an object`);
    const text = contentText(m.content, `${param}.content`);
    switch (m.role) {
      case 'system':
      case 'developer':
        if (text.trim()) system.push(text.trim());
        break;
      case 'user':
        turns.push({ role: 'user', text });
        break;
      case 'assistant':
        if (text.trim()) turns.push({ role: 'assistant', text });
        break;
      case 'tool':
      case 'function':
        break; // tool results belong to function calling, which the experts do not do
      default:
        throw new BadRequest(`${param}.role`, `${param}.role must be system, developer, user, assistant, tool or function`);
    }
  });
  let last = turns.length - 1;
  while (last >= 0 && turns[last]!.role !== 'user') last--;
  if (last < 0) throw new BadRequest('messages', 'messages must contain a user message');

  // A blank `user` is an anonymous caller, as OpenAI takes it; anything else must be an id /feedback also takes.
  const user = typeof body.user === 'string' ? body.user.trim() || null : body.user;
  if (user !== undefined && user !== null && (typeof user !== 'string' || !isUserId(user))) {
    throw new BadRequest('user', `user must be ${USER_ID_RULE} (it is also the userId of POST /feedback)`);
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new BadRequest('stream', 'stream must be true or false');
  const stream = body.stream === true;
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) throw new BadRequest('stream_options', 'stream_options must be an object');
  if (isObject(streamOptions) && streamOptions.include_usage !== undefined && typeof streamOptions.include_usage !== 'boolean') {
    throw new BadRequest('stream_options.include_usage', 'stream_options.include_usage must be true or false');
  }
  const maxCompletion = optionalNumber(body, 'max_completion_tokens', 1, 1_000_000, true);
  // Earlier turns as question/answer pairs, newest first (an unanswered question keeps an empty answer).
  const history: ChatTurn[] = [];
  for (const t of turns.slice(0, last)) {
    if (t.role === 'user') history.unshift({ question: t.text, answer: '' });
    else if (history[0]) history[0].answer = history[0].answer ? `${history[0].answer}\n\n${t.text}` : t.text;
  }
  return {
    model: model.trim(),
    query: turns[last]!.text,
    history,
    systemPrompt: system.length ? system.join('\n\n') : null,
    stream,
    includeUsageChunk: stream && isObject(streamOptions) && streamOptions.include_usage === true,
    maxTokens: maxCompletion ?? optionalNumber(body, 'max_tokens', 1, 1_000_000, true),
    temperature: optionalNumber(body, 'temperature', 0, 2),
    topP: optionalNumber(body, 'top_p', 0, 1),
    userId: typeof user === 'string' ? user : null,
  };
}
