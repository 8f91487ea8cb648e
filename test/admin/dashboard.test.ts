/**
 * The dashboard end to end in a real browser (Debian's chromium driven by playwright-core): seed through the HTTP API,
 * sign in, read what each chart and table drew, retrain, roll back; any page or console error fails the test.
 * With UPDATE_SCREENSHOT=1 it also writes docs/dashboard.png (the README's screenshot); otherwise a temp file, so a
 * test run leaves the checkout clean.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, createTestApp, type TestApp } from '../support/testApp.js';
import { makeTempDir } from '../support/tempDir.js';
import { GateVersions } from '../../src/store/GateVersions.js';
import { smallDataset, writeCsv } from '../learning/helpers.js';
import { ADMIN_TOKEN, SeedClock, fetchPost, seedThroughApi, type Seeded } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

let app: TestApp;
let base: string;
let browser: Browser;
let seeded: Seeded;
let dataDir: { dir: string; remove(): void };

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  dataDir = makeTempDir('moe-dash-data-');
  const datasetPath = path.join(dataDir.dir, 'dataset.csv');
  writeCsv(datasetPath, smallDataset()); // a small training set keeps Retrain now to a second or two
  const clock = new SeedClock();
  app = await createTestApp({ ADMIN_TOKEN, DATASET_PATH: datasetPath, GATE_RELOAD_INTERVAL: '200ms', RETRAIN_MARGIN: '1' }, { maxTokens: 6, now: clock.now });
  base = await app.http.listen({ host: '127.0.0.1', port: 0 });
  seeded = await seedThroughApi(fetchPost(base), clock);
  // playwright starts Chromium with a new empty profile of its own (it refuses a --user-data-dir argument).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await app?.dispose();
  dataDir?.remove();
});

/** A page that records every page error, console error and failed request; the test fails on any of them. */
async function watchedPage(width: number, height: number): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  return { page, problems };
}

async function signInAndWait(page: Page): Promise<void> {
  await page.goto(`${base}/admin`);
  assert.equal(await page.locator('input').count(), 1);
  await page.fill('input[name="token"]', ADMIN_TOKEN);
  await page.click('button[type="submit"]');
  await page.waitForSelector('html[data-state="ready"]');
}

interface DrawnChart {
  labels: string[];
  datasets: { label: string; type?: string; data: (number | null)[] }[];
  ariaLabel: string | null;
}

/** What Chart.js holds for a chart (window.moeCharts), read in the page; strings keep DOM types out of this file. */
async function drawn(page: Page, name: 'questions' | 'fallback' | 'upvotes'): Promise<DrawnChart> {
  return (await page.evaluate(`(() => {
    const chart = window.moeCharts[${JSON.stringify(name)}];
    return {
      labels: chart.data.labels,
      datasets: chart.data.datasets.map((d) => ({ label: d.label, type: d.type, data: d.data })),
      ariaLabel: chart.canvas.getAttribute('aria-label'),
    };
  })()`)) as DrawnChart;
}

/** Polls an expression in the page until it is true (waitForFunction would eval, which the dashboard's CSP forbids). */
async function waitUntil(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while ((await page.evaluate(expression)) !== true) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sum = (xs: readonly (number | null)[]): number => xs.reduce<number>((a, b) => a + (b ?? 0), 0);

test('the dashboard draws the seeded numbers, retrains, rolls back, and works at 390 px, without a page or console error', async () => {
  const { page, problems } = await watchedPage(1280, 900);

  await signInAndWait(page);
  const total = seeded.decisions.length;

  // Summary cards.
  assert.equal(await page.locator('[data-card="questions"] dd').innerText(), String(total));
  assert.equal(await page.locator('[data-card="votes"] dd').innerText(), String(seeded.votes));
  assert.equal(await page.locator('[data-card="👍 rate"] dd').innerText(), `${((seeded.upvotes / seeded.votes) * 100).toFixed(1)}%`);
  assert.equal(await page.locator('[data-card="fallback rate"] dd').innerText(), `${((seeded.fallbacks / total) * 100).toFixed(1)}%`);

  // Questions per expert: one stacked dataset per expert, summing to what the API answered; 7 days are drawn.
  const questions = await drawn(page, 'questions');
  assert.equal(questions.labels.length, 8);
  const perExpert = Object.fromEntries(questions.datasets.map((d) => [d.label, sum(d.data)]));
  assert.deepEqual(perExpert, seeded.byExpert);
  assert.equal(questions.datasets.filter((d) => sum(d.data) > 0).length, Object.keys(seeded.byExpert).length);
  const daysWithQuestions = questions.labels.filter((_, i) => sum(questions.datasets.map((d) => d.data[i] ?? 0)) > 0).length;
  assert.equal(daysWithQuestions, 7, 'questions spread over seven days');
  assert.match(questions.ariaLabel ?? '', new RegExp(`finance ${seeded.byExpert.finance}`));

  // Fallback rate per day: the mean over days weighted by questions equals the seeded share.
  const fallback = await drawn(page, 'fallback');
  const totalsPerDay = questions.labels.map((_, i) => sum(questions.datasets.map((d) => d.data[i] ?? 0)));
  const fallbacksDrawn = sum(fallback.datasets[0]!.data.map((r, i) => (r ?? 0) * totalsPerDay[i]!));
  assert.equal(Math.round(fallbacksDrawn), seeded.fallbacks);

  // 👍 rate per expert and the votes count.
  const upvotes = await drawn(page, 'upvotes');
  const bars = upvotes.datasets.find((d) => d.type === 'bar')!;
  assert.equal(sum(bars.data), seeded.votes);
  for (const [expert, [, up]] of Object.entries(seeded.votesByExpert)) {
    const line = upvotes.datasets.find((d) => d.label === `${expert} 👍 rate`);
    assert.ok(line, `a 👍 line for ${expert}`);
    assert.ok(line.data.every((r) => r === null || (r >= 0 && r <= 1)));
    if (up === 0) assert.ok(line.data.every((r) => r === null || r === 0), expert);
  }

  // Confusion matrix: every seeded correction in its cell.
  for (const [chosen, row] of Object.entries(seeded.corrections)) {
    for (const [right, n] of Object.entries(row)) {
      assert.equal(await page.locator(`#confusion [data-chosen="${chosen}"][data-right="${right}"]`).innerText(), String(n), `${chosen}→${right}`);
    }
  }

  // Recent decisions: question text shown (it is logged here), users as hashes only.
  const decisionsText = await page.locator('#decisions').innerText();
  assert.ok(decisionsText.includes(seeded.decisions.at(-1)!.query));
  assert.ok(!decisionsText.includes('user-0'));
  await page.selectOption('#filter-vote', 'down');
  const downs = seeded.decisions.filter((d) => d.vote === 'down').length;
  await waitUntil(page, `document.querySelectorAll('#decisions tbody tr').length === ${downs}`);

  // Experts: four rows, the ones that answered are loaded.
  assert.equal(await page.locator('#experts tbody tr').count(), 4);

  // Retrain now: progress while it runs, then the result in numbers; the new version is listed.
  assert.equal(await page.locator('#gates tbody tr td.empty').count(), 1, 'no versions before the first retraining');
  const routing = await page.locator('#gate-version').innerText();
  const empty = await page.locator('#gates td.empty').innerText();
  assert.ok(routing !== '' && empty.includes(`the bot routes with the shipped gate ${routing} (GATE_PATH)`), empty);
  // Every text the status line shows, recorded in the page, to see the progress shown while the run goes on.
  await page.evaluate(`(() => {
    window.retrainTexts = [];
    const node = document.getElementById('retrain-status');
    new MutationObserver(() => window.retrainTexts.push(node.textContent)).observe(node, { childList: true, characterData: true, subtree: true });
  })()`);
  await page.click('#retrain');
  await page.waitForSelector('#retrain-status[data-result]', { timeout: 120_000 });
  const texts = (await page.evaluate('window.retrainTexts')) as string[];
  assert.ok(texts.some((t) => /^Retraining.*\d+ s \(asked by admin-session:[0-9a-f]{8}\)$/.test(t)), texts.join('\n'));
  assert.equal(await page.locator('#retrain-status').getAttribute('data-result'), 'done', await page.locator('#retrain-status').innerText());
  assert.match(await page.locator('#retrain-status').innerText(), /Held-out accuracy \d+\.\d% → \d+\.\d%\. Trained on \d+ examples, \d+ from votes/);
  await page.waitForSelector('html[data-state="ready"]');
  const versions = await page.locator('#gates tbody tr').count();
  assert.ok(versions >= 2, 'the initial gate and the candidate are listed');
  const activeBefore = await page.locator('#gates tr.active-row td').first().innerText();
  assert.match(await page.locator('#gates').innerText(), /admin-session:[0-9a-f]{8}/, 'the table says who retrained');

  // Screenshot for the README, at 1280 px, with everything drawn.
  await page.selectOption('#filter-vote', 'any');
  await page.waitForSelector('html[data-state="ready"]');
  const shot = process.env.UPDATE_SCREENSHOT === '1' ? path.join(REPO_ROOT, 'docs/dashboard.png') : path.join(dataDir.dir, 'dashboard.png');
  fs.mkdirSync(path.dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 20_000, 'the screenshot has the drawn page');

  // Roll back to another version: the active row changes, and the router follows.
  const target = page.locator('#gates tbody button[data-version]').first();
  const targetVersion = (await target.getAttribute('data-version'))!;
  assert.notEqual(targetVersion, activeBefore);
  await target.focus();
  await page.keyboard.press('Enter'); // keyboard-reachable
  await waitUntil(page, `document.querySelector('#gates tr.active-row td')?.textContent === ${JSON.stringify(targetVersion)}`);
  assert.match(await page.locator('#retrain-status').innerText(), new RegExp(`active gate is now ${targetVersion}`));
  assert.equal(new GateVersions(app.store).active()?.version, targetVersion);

  // 390 px wide (a phone): nothing wider than the screen, controls still there.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#refresh');
  await page.waitForSelector('html[data-state="ready"]');
  assert.equal(await page.evaluate('document.documentElement.scrollWidth <= 390'), true, 'no horizontal scrolling at 390 px');
  assert.ok(await page.locator('#retrain').isVisible());

  // Log out: back to the login form, and the old session cookie no longer opens the API.
  const session = (await page.context().cookies()).find((c) => c.name === 'moe_admin');
  assert.ok(session?.httpOnly && session.sameSite === 'Strict');
  await page.click('form.logout button');
  await page.waitForSelector('input[name="token"]');
  assert.equal((await fetch(`${base}/admin/api/summary`, { headers: { cookie: `moe_admin=${session.value}` } })).status, 401);

  assert.deepEqual(problems, [], problems.join('\n'));
  await page.close();
});

test('a wrong token shows a clear message on the login form (its 401 is the only console message)', async () => {
  const { page, problems } = await watchedPage(390, 844);
  await page.goto(`${base}/admin`);
  await page.fill('input[name="token"]', 'wrong-token');
  await page.click('button[type="submit"]');
  assert.match(await page.locator('.login-error').innerText(), /That token is not right/);
  assert.equal(await page.locator('input[name="token"]').count(), 1);
  assert.deepEqual(problems, ['console error: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  await page.close();
});
