/**
 * Slack answers whose expert breaks mid-answer: the real Bolt App against the fake Slack, the real Router, and two
 * experts served by loopback engines (test/support/fakeEngine.ts) that fail the way serving engines do, in a workspace
 * that streams natively and in one that cannot (a placeholder edited with chat.update). Before any of the expert's
 * text was sent to Slack the fallback expert answers; after, the message keeps that text and ends with an error line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine.js';
import { makeTempDir } from '../support/tempDir.js';
import { writeEndpointRegistry } from '../support/writeDemoRegistry.js';
import type { FakeMessage } from '../support/fakeSlack.js';
import type { ExpertId } from '../../src/gate/types.js';
import {
  blocksOf, contextText, decisionIdOf, mention, NO_STREAM_TEAM, query, sectionsText, startHarness, voteBlock, waitForAnswer, type Harness,
} from './slackHarness.js';

const FINANCE_ANSWER = 'Dispute the duplicate charge with your card issuer and keep the receipt.';
/** Long enough (one word per 150 ms) that the engine is still writing when the test stops it. */
const SECURITY_ANSWER = Array.from({ length: 80 }, (_, i) => `step${i}`).join(' ');
const ERROR_LINE = '⚠️ That expert is unavailable right now. Please try again later.';
const FALLBACK_HEADER = /^💬 General Assistant · fallback: the chosen expert is unavailable/;

/** A message that shows the "unavailable" error line (streamed, or in its blocks). */
const endedWithError = (m: FakeMessage): boolean => JSON.stringify([m.text, m.blocks]).includes('unavailable right now');

type Row = { status: string; gate_expert: string; expert: string; fallback_reason: string | null; error: string | null };

describe('Slack answers whose expert breaks', () => {
  let h: Harness;
  let finance: FakeEngine;
  let security: FakeEngine;
  let tmp: { dir: string; remove(): void };

  before(async () => {
    finance = await startFakeEngine({ model: 'fin', answer: FINANCE_ANSWER });
    security = await startFakeEngine({ model: 'sec', answer: SECURITY_ANSWER, chunkDelayMs: 150 });
    tmp = makeTempDir('moe-slack-breaks-');
    const registry = await writeEndpointRegistry(tmp.dir, { finance: { baseUrl: finance.baseUrl, model: 'fin' }, cybersecurity: { baseUrl: security.baseUrl, model: 'sec' } });
    h = await startHarness({ env: { EXPERTS_PATH: registry } });
    // The no-stream workspace learns once that it cannot stream, so its answers below start in a placeholder.
    const warmUp = await mention(h, 'what is a good name for a cat', 'U0BRKWARM', 'C0OTHERWS', NO_STREAM_TEAM);
    await waitForAnswer(h, warmUp.q.channel, warmUp.q.ts);
  });
  after(async () => {
    await h?.close();
    await finance?.stop().catch(() => undefined);
    await security?.stop().catch(() => undefined);
    tmp?.remove();
  });

  /** The background probe reports the engine up (a positive signal, polled: it makes no call the fakes see). */
  async function endpointUp(id: ExpertId): Promise<void> {
    await h.fake.waitFor(() => h.app.core.expertStatus().find((s) => s.id === id)?.endpoint?.health === 'up', 20_000, `${id}'s engine up`);
  }

  function row(decisionOrUser: { decisionId?: string; userId?: string }): Row {
    const rows = decisionOrUser.decisionId
      ? query<Row>(h, 'SELECT status, gate_expert, expert, fallback_reason, error FROM decisions WHERE id = ?', decisionOrUser.decisionId)
      : query<Row>(h, 'SELECT status, gate_expert, expert, fallback_reason, error FROM decisions WHERE user_id = ?', decisionOrUser.userId);
    assert.equal(rows.length, 1);
    return rows[0]!;
  }

  /** Every Web API call the bot made about this thread (its messages, their updates and streams, its status). */
  function callsAbout(channel: string, threadTs: string): string[] {
    const ours = new Set(h.fake.thread(channel, threadTs).map((m) => m.ts));
    return h.fake.calls
      .filter((c) => c.params.channel === channel || c.params.channel_id === channel)
      .filter((c) => c.params.thread_ts === threadTs || ours.has(String(c.params.ts)))
      .map((c) => `${c.method} ${JSON.stringify(c.params)}`);
  }

  /** The thread's status names the fallback expert last, and is cleared at the end. */
  async function statusNamesFallback(channel: string, threadTs: string): Promise<void> {
    const statuses = await h.fake.waitFor(() => {
      const s = h.fake.statuses(channel, threadTs).map((x) => x.status);
      return s.at(-1) === '' ? s : null;
    }, 10_000, 'the status cleared');
    assert.equal(statuses.filter((s) => s !== '').at(-1), 'is asking 💬 General Assistant…', `status: ${JSON.stringify(statuses)}`);
  }

  async function brokenBeforeShown(user: string, channel: string, teamId?: string): Promise<FakeMessage> {
    finance.setMode({ kind: 'ok' });
    await endpointUp('finance');
    const asked = finance.calls.filter((c) => c.path === '/v1/chat/completions').length;
    finance.setMode({ kind: 'malformed', goodChunks: 4 }); // four words, then a chunk that is not JSON, in one write
    const { q } = await mention(h, 'my credit card got charged twice for the same order', user, channel, teamId);
    // The answer (with its vote buttons) or an error line, whichever comes: a failure shows at once.
    const answer = await h.fake.waitFor(() => h.fake.thread(channel, q.ts).find((m) => voteBlock(m) !== null || endedWithError(m)), 60_000, 'the answer');
    assert.ok(!endedWithError(answer), `expected the fallback's answer, got: ${JSON.stringify(answer.text)}`);
    assert.equal(h.fake.thread(channel, q.ts).length, 1, 'one message in the thread');
    assert.equal(finance.calls.filter((c) => c.path === '/v1/chat/completions').length, asked + 1, 'the finance engine was asked first');
    const calls = callsAbout(channel, q.ts);
    assert.ok(calls.length > 0);
    assert.deepEqual(calls.filter((c) => c.includes('Dispute') || c.includes('duplicate charge')), [], 'none of the broken expert\'s words were sent to Slack');
    await statusNamesFallback(channel, q.ts);
    const r = row({ decisionId: decisionIdOf(answer) });
    assert.deepEqual([r.status, r.gate_expert, r.expert, r.fallback_reason], ['answered', 'finance', 'general', 'expert_unavailable']);
    assert.match(r.error ?? '', /^expert_unavailable: Finance Expert: /, 'the row says what happened to the chosen expert');
    return answer;
  }

  test('streaming workspace, broken before any of its text was sent: the fallback expert answers in the same stream', async () => {
    const answer = await brokenBeforeShown('U0BRK01', 'C0GENERAL');
    assert.equal(answer.stream, 'stopped', 'natively streamed');
    assert.ok(answer.text.trim().length > 0, 'the fallback\'s answer');
    assert.match(contextText(answer), FALLBACK_HEADER, 'the footer names the fallback expert and why');
    assert.ok(voteBlock(answer), 'with the vote buttons');
  });

  test('workspace that cannot stream, broken before any of its text was sent: the fallback expert answers in the placeholder', async () => {
    const startsBefore = h.fake.callsOf('chat.startStream').length;
    const answer = await brokenBeforeShown('U0BRK02', 'C0OTHERWS', NO_STREAM_TEAM);
    assert.equal(h.fake.callsOf('chat.startStream').length, startsBefore, 'the workspace is known not to stream');
    assert.equal(answer.stream, null, 'a posted placeholder');
    assert.ok(answer.updates.length >= 1, 'edited into the answer');
    assert.ok(sectionsText(answer).join('').trim().length > 0, 'the fallback\'s answer');
    assert.match(contextText(answer), FALLBACK_HEADER, 'the footer names the fallback expert and why');
    assert.ok(voteBlock(answer), 'with the vote buttons');
  });

  /** Asks the security expert, waits until its first words were sent to Slack (`shown`), then stops its engine. */
  async function brokenAfterShown(user: string, channel: string, shown: (m: FakeMessage) => boolean, teamId?: string): Promise<FakeMessage> {
    await endpointUp('cybersecurity');
    const { q } = await mention(h, 'how do i set up 2fa on my gmail', user, channel, teamId);
    await h.fake.waitFor(() => h.fake.thread(channel, q.ts).find(shown), 60_000, 'the first words on screen');
    await security.stop(); // the engine goes away mid-answer
    const ended = await h.fake.waitFor(() => h.fake.thread(channel, q.ts).find((m) => endedWithError(m) || voteBlock(m) !== null), 30_000, 'the error line');
    assert.ok(endedWithError(ended), `expected the error line, got: ${JSON.stringify(ended.text.slice(-200))}`);
    assert.equal(h.fake.thread(channel, q.ts).length, 1, 'one message in the thread');
    assert.equal(voteBlock(ended), null, 'no vote buttons on an answer that failed');
    const r = row({ userId: user });
    assert.deepEqual([r.status, r.expert], ['failed', 'cybersecurity']);
    assert.match(r.error ?? '', /^expert_unavailable: /);
    assert.ok(!callsAbout(channel, q.ts).some((c) => c.includes('General Assistant')), 'no fallback after text was shown');
    return ended;
  }

  test('streaming workspace, broken after some of its text was sent: the stream keeps it and ends with the error line', async () => {
    const ended = await brokenAfterShown('U0BRK03', 'C0GENERAL', (m) => m.stream !== null && m.chunks.some((c) => c.text.includes('step0')));
    assert.equal(ended.stream, 'stopped');
    assert.match(ended.text, /^step0\b/, 'the text shown stays');
    assert.ok(ended.text.endsWith(`\n\n${ERROR_LINE}`), `it ends with the error line: ${JSON.stringify(ended.text.slice(-120))}`);
    await security.restart();
  });

  test('workspace that cannot stream, broken after some of its text was sent: the placeholder keeps it and ends with the error line', async () => {
    const shown = (m: FakeMessage): boolean => m.updates.some((u) => JSON.stringify(u.blocks).includes('step0'));
    const ended = await brokenAfterShown('U0BRK04', 'C0OTHERWS', shown, NO_STREAM_TEAM);
    assert.equal(ended.stream, null);
    const sections = sectionsText(ended);
    assert.match(sections[0] ?? '', /^step0\b/, 'the text shown stays');
    assert.equal(sections.at(-1), ERROR_LINE, 'it ends with the error line');
    assert.equal(blocksOf(ended).at(-1)?.type, 'section');
    assert.match(contextText(ended), /^🔐 Cybersecurity Expert · /, 'who wrote it');
    assert.ok(!contextText(ended).includes('writing'), 'no longer writing');
  });
});
