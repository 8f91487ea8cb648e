/** Seeding the decision log through the real HTTP API (POST /predict, POST /feedback) and signing in to /admin. */
import assert from 'node:assert/strict';
import type { App } from '../../src/app.js';
import { datasetExamples } from '../support/testApp.js';
import type { Label } from '../../src/gate/types.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const DAY = 86_400_000;

/** A clock the app reads (createApp's `now`) that seeding moves into the past, so decisions spread over days. */
export class SeedClock {
  daysAgo = 0;
  readonly now = (): number => Date.now() - this.daysAgo * DAY;
}

export type Post = (url: string, body: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;

/** POST through fastify's inject (the full HTTP pipeline without a socket). */
export function injectPost(app: App): Post {
  return async (url, body) => {
    const res = await app.http.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
}

/** POST over a real socket (the end-to-end test). */
export function fetchPost(base: string): Post {
  return async (url, body) => {
    const res = await fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
}

export interface SeededDecision {
  decisionId: string;
  query: string;
  userId: string;
  expert: string;
  fallback: boolean;
  daysAgo: number;
  vote: 'up' | 'down' | null;
  correctedTo: string | null;
}

export interface Seeded {
  decisions: SeededDecision[];
  /** What the dashboard must show, computed from the API's answers (not from the database). */
  byExpert: Record<string, number>;
  fallbacks: number;
  votes: number;
  upvotes: number;
  /** gate's choice → corrected expert → count. */
  corrections: Record<string, Record<string, number>>;
  /** expert → [votes, 👍]. */
  votesByExpert: Record<string, [number, number]>;
}

const EXPERT_CYCLE = ['healthcare', 'finance', 'cybersecurity', 'general'];
const PER_LABEL: Record<Label, number> = { healthcare: 7, finance: 6, cybersecurity: 5, none: 4 };

/** Questions from our dataset, a fixed number per label, interleaved so every day gets a mix. */
export function seedQuestions(): string[] {
  const all = datasetExamples();
  const lists = (Object.keys(PER_LABEL) as Label[]).map((l) => all.filter((r) => r.label === l).slice(0, PER_LABEL[l]).map((r) => r.text));
  const out: string[] = [];
  for (let i = 0; out.length < lists.reduce((n, l) => n + l.length, 0); i++) for (const l of lists) if (l[i]) out.push(l[i]!);
  return out;
}

/**
 * Asks each question (spread over the last 7 days by the clock) and votes on most answers: 👍, bare 👎, or 👎 with a
 * correction naming another expert, in a fixed pattern. Users are `user-N` / `voter-N`.
 */
export async function seedThroughApi(post: Post, clock: SeedClock): Promise<Seeded> {
  const seeded: Seeded = { decisions: [], byExpert: {}, fallbacks: 0, votes: 0, upvotes: 0, corrections: {}, votesByExpert: {} };
  const questions = seedQuestions();
  for (const [i, query] of questions.entries()) {
    clock.daysAgo = 6 - (i % 7);
    const userId = `user-${i % 5}`;
    const res = await post('/predict', { query, userId });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const expert = String(res.body.expertId);
    const d: SeededDecision = {
      decisionId: String(res.body.decisionId), query, userId, expert, fallback: res.body.fallback === true, daysAgo: clock.daysAgo,
      vote: null, correctedTo: null,
    };
    seeded.byExpert[expert] = (seeded.byExpert[expert] ?? 0) + 1;
    if (d.fallback) seeded.fallbacks++;
    // 👍, bare 👎, 👎 naming another expert, 👍, no vote: a cycle of 5 over questions interleaved by label, so every expert gets each kind.
    const kind = (['up', 'down', 'correction', 'up', null] as const)[i % 5]!;
    if (kind !== null) {
      const vote = kind === 'up' ? 'up' : 'down';
      const corrected = kind === 'correction' ? EXPERT_CYCLE[(EXPERT_CYCLE.indexOf(expert) + 1 + (i % 2)) % EXPERT_CYCLE.length]! : undefined;
      const v = await post('/feedback', { decisionId: d.decisionId, vote, userId: `voter-${i % 3}`, ...(corrected ? { expert: corrected } : {}) });
      assert.equal(v.status, 200, JSON.stringify(v.body));
      d.vote = vote;
      d.correctedTo = corrected ?? null;
      seeded.votes++;
      if (vote === 'up') seeded.upvotes++;
      const ve = (seeded.votesByExpert[expert] ??= [0, 0]);
      ve[0]++;
      if (vote === 'up') ve[1]++;
      if (corrected) {
        const row = (seeded.corrections[expert] ??= {});
        row[corrected] = (row[corrected] ?? 0) + 1;
      }
    }
    seeded.decisions.push(d);
  }
  clock.daysAgo = 0;
  return seeded;
}

/** Signs in with the form post; returns the session cookie (name=value). */
export async function signIn(app: App, token = ADMIN_TOKEN): Promise<string> {
  const res = await app.http.inject({
    method: 'POST', url: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token }).toString(),
  });
  assert.equal(res.statusCode, 303, res.body);
  const setCookie = String(res.headers['set-cookie']);
  return setCookie.split(';')[0]!;
}

/** The CSRF token the dashboard page carries for this session. */
export async function csrfOf(app: App, cookie: string): Promise<string> {
  const res = await app.http.inject({ method: 'GET', url: '/admin', headers: { cookie } });
  const m = /<meta name="csrf-token" content="([^"]+)">/.exec(res.body);
  assert.ok(m, 'the dashboard page carries a CSRF token');
  return m[1]!;
}
