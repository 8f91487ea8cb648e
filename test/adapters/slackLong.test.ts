/**
 * A 20,000-character answer from a real (endless demo) node-llama-cpp expert through the Slack adapter: natively
 * streamed, it continues in a second streamed message within Slack's markdown_text limit; where Slack cannot stream,
 * the streamed previews and the final thread messages stay inside Slack's block limits. No text is lost either way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toMarkdownText, toMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { STREAM_MESSAGE_CHARS } from '../../adapters/slack/NativeStream.js';
import { blockTexts, MARKDOWN_TEXT_LIMIT, validateBlocks } from '../support/fakeSlack.js';
import { makeTempDir } from '../support/tempDir.js';
import { writeEditedRegistry, writeLongAnswerModel } from '../support/writeDemoRegistry.js';
import {
  blocksOf, decisionIdOf, mention, NO_STREAM_TEAM, query, sectionsText, startHarness, UPDATE_INTERVAL_MS, voteBlock, waitForAnswer, type Harness,
} from './slackHarness.js';

describe('Slack adapter with a long-answer expert', () => {
  let h: Harness;
  let tmp: { dir: string; remove(): void };
  before(async () => {
    tmp = makeTempDir('moe-slack-long-');
    const longModel = await writeLongAnswerModel(tmp.dir);
    // ~4.5 characters per token: 4,600 tokens ≈ 20,000 characters.
    const registryFile = await writeEditedRegistry(tmp.dir, (e) => {
      if (e.id === 'finance') Object.assign(e, { model: longModel, generation: { ...e.generation, maxTokens: 4600, contextSize: 6144 } });
    });
    h = await startHarness({ env: { EXPERTS_PATH: registryFile } });
  });
  after(async () => {
    await h?.close();
    tmp?.remove();
  });

  /** Asks for a long finance answer; checks it is the long expert's, over two or more messages. */
  async function longFinanceAnswer(user: string, channel?: string, team?: string): Promise<{ messages: Awaited<ReturnType<typeof waitForAnswer>>; row: { answer: string } }> {
    const { q } = await mention(h, 'How should I split my income between rent, savings and investing?', user, channel, team);
    const messages = await waitForAnswer(h, q.channel, q.ts, 1, 180_000);
    const [row] = query<{ answer: string; expert: string }>(h, 'SELECT answer, expert FROM decisions WHERE id = ?', decisionIdOf(messages.at(-1)!));
    assert.equal(row!.expert, 'finance');
    assert.ok(row!.answer.length >= 18_000, `a long answer (${row!.answer.length} chars)`);
    assert.ok(messages.length >= 2, `continued over ${messages.length} messages`);
    return { messages, row: row! };
  }

  test('a 20,000-character streamed answer continues in a second streamed message; every markdown_text is within limits, the text intact', async () => {
    const { messages, row } = await longFinanceAnswer('U0LONG00');
    for (const [i, m] of messages.entries()) {
      assert.equal(m.stream, 'stopped', `message ${i} was streamed and finished`);
      assert.ok(m.text.length <= STREAM_MESSAGE_CHARS + 100, `message ${i} holds ${m.text.length} chars`);
      for (const c of m.chunks) assert.ok(c.text.length <= MARKDOWN_TEXT_LIMIT, `a markdown_text of ${c.text.length} chars`);
      assert.equal(voteBlock(m) !== null, i === messages.length - 1, 'controls only on the last message');
    }
    assert.equal(messages.map((m) => m.text).join('').trimEnd(), toMarkdownText(row!.answer), 'the whole answer, in order, once');
    assert.ok(messages[0]!.chunks.length >= 3, `streamed in ${messages[0]!.chunks.length} appends`);
    const rejected = h.fake.calls.filter((c) => c.response.ok === false);
    assert.deepEqual(rejected.map((c) => `${c.method}: ${String(c.response.error)}`), [], 'Slack rejected nothing');
  });

  test('where Slack cannot stream, a 20,000-character answer continues in the thread; every message is within block limits and the text is intact', async () => {
    const { messages, row } = await longFinanceAnswer('U0LONG01', 'C0OTHERWS', NO_STREAM_TEAM);
    for (const [i, m] of messages.entries()) {
      assert.equal(validateBlocks(m.blocks), null, `message ${i} blocks are valid`);
      const sections = sectionsText(m);
      for (const s of sections) assert.ok(s.length <= 2900, `section of ${s.length} chars`);
      assert.ok(blockTexts(m.blocks).join('').length <= 10_000 + 500, `message ${i} holds ${blockTexts(m.blocks).join('').length} chars`);
      assert.equal(voteBlock(m) !== null, i === messages.length - 1, 'controls only on the last message');
      for (const u of m.updates) assert.equal(validateBlocks(u.blocks), null, 'every streamed preview is valid');
    }
    const shown = messages.flatMap(sectionsText).join(' ').split(/\s+/);
    assert.deepEqual(shown, toMrkdwn(row!.answer.trim()).split(/\s+/), 'the whole answer, in order, when the messages are joined');
    const writing = messages[0]!.updates.filter((u) => JSON.stringify(u.blocks).includes('writing…'));
    assert.ok(writing.length >= 2, `streamed: ${writing.length} updates while writing`);
    for (let i = 1; i < messages[0]!.updates.length; i++) {
      const gap = messages[0]!.updates[i]!.at - messages[0]!.updates[i - 1]!.at;
      assert.ok(gap >= UPDATE_INTERVAL_MS - 20, `updates are throttled (${gap} ms apart)`);
    }
    assert.ok(blocksOf(messages[0]).length > 0);
    const rejected = h.fake.calls.filter((c) => c.response.ok === false && c.method !== 'chat.startStream');
    assert.deepEqual(rejected.map((c) => `${c.method}: ${String(c.response.error)}`), [], 'Slack rejected nothing but the stream');
  });
});
