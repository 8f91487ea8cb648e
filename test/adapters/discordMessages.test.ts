/** Pure parts of the Discord adapter: message splitting, custom_id encoding, the header line and error texts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMessage } from '../../adapters/shared/splitMessage.js';
import { answerHeader, answerText, userErrorMessage } from '../../adapters/shared/format.js';
import { encodeCustomId, parseCustomId } from '../../adapters/discord/customIds.js';
import { cutShort, streamingPreview } from '../../adapters/discord/StreamingReply.js';
import { buildCommands } from '../../adapters/discord/commands.js';
import { RouterError } from '../../src/core/errors.js';

const sentence = (i: number): string => `Sentence number ${i} explains one more detail about password managers.`;

test('short text stays one message', () => {
  assert.deepEqual(splitMessage('Hello there.'), ['Hello there.']);
});

test('long prose splits at paragraph or sentence ends, never mid-word, and loses no words', () => {
  const paragraphs = Array.from({ length: 12 }, (_, p) => Array.from({ length: 6 }, (_, s) => sentence(p * 6 + s)).join(' '));
  const text = paragraphs.join('\n\n');
  const parts = splitMessage(text, 2000);
  assert.ok(parts.length >= 3);
  for (const part of parts) {
    assert.ok(part.length <= 2000, `part of ${part.length} chars`);
    assert.match(part, /[.!?]$/, 'each part ends at a sentence end');
  }
  assert.deepEqual(parts.join(' ').split(/\s+/), text.split(/\s+/));
});

test('a sentence-free run splits at spaces, not inside words', () => {
  const words = Array.from({ length: 900 }, (_, i) => `word${i}`);
  const parts = splitMessage(words.join(' '), 2000);
  assert.ok(parts.length >= 3);
  assert.deepEqual(parts.join(' ').split(' '), words);
});

test('a code block is never split open: a long block is closed and reopened with its language', () => {
  const code = Array.from({ length: 150 }, (_, i) => `const value${i} = compute(${i}); // line ${i}`).join('\n');
  const text = `Here is the script:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nRun it with node.`;
  const parts = splitMessage(text, 2000);
  assert.ok(parts.length >= 3);
  for (const part of parts) {
    assert.ok(part.length <= 2000);
    const fences = part.match(/^```/gm) ?? [];
    assert.equal(fences.length % 2, 0, `balanced fences in:\n${part.slice(0, 200)}`);
  }
  assert.ok(parts.slice(1).some((p) => p.startsWith('```ts\n')), 'continuation reopens the ts block');
  const lines = parts.join('\n').split('\n').filter((l) => l.startsWith('const value'));
  assert.equal(lines.length, 150, 'no code line lost or cut');
});

test('a short code block moves whole to the next message instead of being cut', () => {
  const prose = Array.from({ length: 28 }, (_, i) => sentence(i)).join(' ');
  const block = '```py\n' + Array.from({ length: 20 }, (_, i) => `print(${i})`).join('\n') + '\n```';
  const parts = splitMessage(`${prose}\n\n${block}`, 2000);
  assert.equal(parts.length, 2);
  assert.ok(parts[1]!.startsWith('```py'), 'the block starts the second message');
});

test('custom ids round-trip and reject foreign or tampered ids', () => {
  const id = '3f2c1a9e-1b2c-4d5e-8f90-123456789abc';
  for (const action of [
    { kind: 'upvote', decisionId: id },
    { kind: 'downvote', decisionId: id, runnerUp: 'finance' },
    { kind: 'correct', decisionId: id },
    { kind: 'reroute', decisionId: id, expertId: 'healthcare' },
  ] as const) {
    const encoded = encodeCustomId(action);
    assert.ok(encoded.length <= 100, 'Discord custom_id limit');
    assert.deepEqual(parseCustomId(encoded), action);
  }
  for (const bad of ['', 'hello', 'moe:up:', 'moe:ask:abc:wizard', 'moe:up:a b', 'other:up:abc', 'moe:down:abc', 'moe:up:abc:extra:x']) {
    assert.equal(parseCustomId(bad), null, bad);
  }
});

const expert = { id: 'cybersecurity', displayName: 'Cybersecurity Expert', legacyName: 'CybersecurityExpert', description: 'd', emoji: '🔐', isFallback: false, demo: false } as const;
const general = { ...expert, id: 'general', displayName: 'General Assistant', emoji: '💬', isFallback: true } as const;
const probabilities = { healthcare: 0.02, finance: 0.03, cybersecurity: 0.92, none: 0.03 };

test('the header names the expert and confidence, explains a fallback and labels demo output', () => {
  assert.equal(answerHeader({ expert, confidence: 0.92, probabilities, fallbackReason: null, reroutedFrom: null, demo: false }), '🔐 Cybersecurity Expert · 92%');
  const off = answerHeader({ expert: general, confidence: 0.7, probabilities: { healthcare: 0.1, finance: 0.1, cybersecurity: 0.1, none: 0.7 }, fallbackReason: 'off_topic', reroutedFrom: null, demo: true });
  assert.match(off, /^💬 General Assistant · fallback: the question looks off-topic/);
  assert.match(off, /_demo model output_$/);
  assert.match(answerHeader({ expert: general, confidence: 0.4, probabilities, fallbackReason: 'expert_unavailable', reroutedFrom: null, demo: false }), /unavailable/);
});

test('the final text invites a vote only when the gate was unsure', () => {
  const expert = { id: 'finance', displayName: 'Finance Expert', legacyName: 'FinanceExpert', description: 'd', emoji: '💰', isFallback: false, demo: false } as const;
  const base = {
    decisionId: 'd1', expert, runnerUp: expert, confidence: 0.45, probabilities: { healthcare: 0.2, finance: 0.45, cybersecurity: 0.2, none: 0.15 },
    fallbackReason: null, response: 'Index funds spread risk.', demo: false, reroutedFrom: null, latencyMs: 3,
  };
  const unsure = answerText({ ...base, feedbackWanted: true });
  assert.match(unsure, /Index funds spread risk\.\n\n_Not sure I picked the right expert: a 👍 or 👎 below teaches me to route better\._$/);
  assert.doesNotMatch(answerText({ ...base, confidence: 0.93, feedbackWanted: false }), /Not sure/);
});

test('the streaming preview never exceeds a Discord message', () => {
  const preview = streamingPreview('🔐 Cybersecurity Expert · 92%', 'word '.repeat(1000));
  assert.ok(preview.length <= 2000);
  assert.match(preview, /continues/);
});

test('errors become short user messages; unknown errors reveal nothing', () => {
  assert.match(userErrorMessage(new RouterError('rate_limited', 'x', 42)), /too fast.*42 s/);
  assert.match(userErrorMessage(new RouterError('query_too_long', 'x'), 4000), /4000/);
  assert.match(userErrorMessage(new RouterError('expert_unavailable', 'x')), /unavailable/);
  const internal = userErrorMessage(new Error('SQLITE_BUSY at /work/secret/path.ts:12'));
  assert.doesNotMatch(internal, /SQLITE|secret/);
});

test('commands: /ask for everyone, in servers, DMs and group DMs, as a server or user install; /retrain and /stats guild-only with Manage Server', () => {
  const commands = buildCommands(4000);
  assert.deepEqual(commands.map((c) => c.name), ['ask', 'retrain', 'stats']);
  assert.deepEqual(commands[0]!.integration_types, [0, 1]);
  assert.deepEqual(commands[0]!.contexts, [0, 1, 2]);
  for (const c of commands.slice(1)) {
    assert.deepEqual(c.contexts, [0]);
    assert.deepEqual(c.integration_types, [0]);
  }
  assert.ok(commands[0]!.default_member_permissions == null, 'everyone may ask');
  assert.equal(commands[1]!.default_member_permissions, '32');
  assert.equal(commands[2]!.default_member_permissions, '32');
});

test('an answer cut short keeps what was shown and ends with the error line, within one message', () => {
  const notice = userErrorMessage(new RouterError('expert_unavailable'));
  assert.equal(cutShort('💰 Finance Expert · 91%\n\nSave early', notice), `💰 Finance Expert · 91%\n\nSave early\n\n${notice}`);
  const shown = `🔐 Cybersecurity Expert · 88%\n\n${Array.from({ length: 600 }, (_, i) => `word${i}`).join(' ')}`;
  const cut = cutShort(shown, notice);
  assert.ok(cut.length <= 2000, `${cut.length} chars`);
  assert.ok(cut.endsWith(`\n\n${notice}`));
  assert.ok(cut.startsWith('🔐 Cybersecurity Expert · 88%\n\nword0 word1'));
  assert.match(cut, /word\d+ _…_\n\n/, 'cut after a whole word, and says so');
});
