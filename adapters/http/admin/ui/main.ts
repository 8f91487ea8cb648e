/** The dashboard page: loads every panel from /admin/api/*, wires the range, filters, Retrain now and Rollback. */
import type {
  ConfusionResponse, DecisionsResponse, ExpertsResponse, GatesResponse, RetrainStatusResponse, RollbackResponse, SummaryResponse,
  TimeSeriesResponse,
} from '../apiTypes.js';
import { ApiFailure, getJson, postJson } from './api.js';
import { createCharts, updateCharts, type DashboardCharts } from './charts.js';
import { orderExperts, pct } from './format.js';
import { renderConfusion, renderDecisions, renderExperts, renderGates, renderSummary } from './tables.js';

declare global {
  interface Window {
    /** The live Chart.js instances, for people (and the end-to-end test) reading what is drawn. */
    moeCharts?: DashboardCharts;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node as T;
}

const status = byId<HTMLParagraphElement>('status');
const rangeSelect = byId<HTMLSelectElement>('range');
const bucketSelect = byId<HTMLSelectElement>('bucket');
const expertFilter = byId<HTMLSelectElement>('filter-expert');
const voteFilter = byId<HTMLSelectElement>('filter-vote');
const fallbackFilter = byId<HTMLSelectElement>('filter-fallback');
const retrainButton = byId<HTMLButtonElement>('retrain');
const retrainProgress = byId<HTMLProgressElement>('retrain-progress');
const retrainStatus = byId<HTMLParagraphElement>('retrain-status');

const charts = createCharts();
window.moeCharts = charts;

/** Marks the page busy or settled; the end-to-end test waits for `ready`. */
function setState(state: 'loading' | 'ready' | 'error'): void {
  document.documentElement.dataset.state = state;
}

function showError(err: unknown): void {
  status.textContent = err instanceof Error ? err.message : String(err);
  status.classList.add('error');
}

async function loadSeries(): Promise<void> {
  const params = new URLSearchParams({ range: rangeSelect.value, bucket: bucketSelect.value });
  updateCharts(charts, await getJson<TimeSeriesResponse>(`timeseries?${params}`));
}

async function loadSummary(): Promise<void> {
  const s = await getJson<SummaryResponse>('summary');
  renderSummary(byId('summary'), s);
  byId('gate-version').textContent = s.gateVersion;
  const known = new Set([...expertFilter.options].map((o) => o.value));
  for (const id of orderExperts(Object.keys(s.byExpert))) {
    if (!known.has(id)) expertFilter.append(new Option(id, id));
  }
}

async function loadGates(): Promise<void> {
  const g = await getJson<GatesResponse>('gates');
  renderGates(byId('gates'), g.versions, g.routingVersion, (version, button) => void rollback(version, button));
}

async function loadDecisions(): Promise<void> {
  const params = new URLSearchParams({ limit: '50' });
  if (expertFilter.value) params.set('expert', expertFilter.value);
  if (voteFilter.value !== 'any') params.set('vote', voteFilter.value);
  if (fallbackFilter.value) params.set('fallback', fallbackFilter.value);
  const d = await getJson<DecisionsResponse>(`decisions?${params}`);
  renderDecisions(byId('decisions'), d.decisions, d.textLogged);
}

async function loadAll(): Promise<void> {
  setState('loading');
  status.textContent = 'Loading…';
  status.classList.remove('error');
  try {
    await Promise.all([
      loadSummary(),
      loadSeries(),
      getJson<ConfusionResponse>('confusion').then((c) => renderConfusion(byId('confusion'), c)),
      getJson<ExpertsResponse>('experts').then((e) => renderExperts(byId('experts'), e.experts)),
      loadGates(),
      loadDecisions(),
    ]);
    status.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    setState('ready');
  } catch (err) {
    showError(err);
    setState('error');
  }
}

async function rollback(version: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  retrainStatus.textContent = `Rolling back to ${version}…`;
  try {
    const r = await postJson<RollbackResponse>('rollback', { version });
    retrainStatus.textContent = `Rolled back: the active gate is now ${r.to} (was ${r.from ?? 'none'}).`;
    await loadAll();
  } catch (err) {
    button.disabled = false;
    retrainStatus.textContent = `Rollback failed: ${err instanceof ApiFailure ? err.message : String(err)}`;
  }
}

function describeRetrain(s: RetrainStatusResponse): string {
  if (s.state === 'failed') return `Retraining failed: ${s.error ?? 'unknown error'}`;
  const r = s.result;
  if (!r) return '';
  const head = r.promoted ? `Promoted gate ${r.version} (was ${r.oldVersion ?? 'none'}).` : `Kept gate ${r.oldVersion ?? 'none'}; candidate ${r.version} was not promoted.`;
  return `${head} Held-out accuracy ${pct(r.oldAccuracy)} → ${pct(r.newAccuracy)}. Trained on ${r.examplesUsed} examples, `
    + `${r.feedbackExamples} from votes, in ${(r.durationMs / 1000).toFixed(1)} s.`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Shows progress until the run in `s` ends, then its result in numbers. */
async function followRetrain(first: RetrainStatusResponse): Promise<void> {
  retrainButton.disabled = true;
  retrainProgress.hidden = false;
  try {
    let s = first;
    while (s.state === 'running') {
      const seconds = Math.round((Date.now() - (s.startedAt ?? Date.now())) / 1000);
      if (s.step !== null && s.steps !== null) {
        retrainProgress.max = s.steps;
        retrainProgress.value = s.step;
      } else {
        retrainProgress.removeAttribute('value'); // indeterminate until the retrainer reports a stage
      }
      const stage = s.stage ? `: ${s.message ?? s.stage}${s.step !== null ? ` (step ${s.step} of ${s.steps})` : ''}` : '';
      retrainStatus.textContent = `Retraining${stage}… ${seconds} s (asked by ${s.requestedBy ?? 'someone'})`;
      await sleep(500);
      s = await getJson<RetrainStatusResponse>('retrain');
    }
    retrainStatus.textContent = describeRetrain(s);
    retrainStatus.dataset.result = s.state;
    await loadAll();
  } catch (err) {
    retrainStatus.textContent = `Retraining failed: ${err instanceof Error ? err.message : String(err)}`;
    retrainStatus.dataset.result = 'failed';
  } finally {
    retrainButton.disabled = false;
    retrainProgress.hidden = true;
  }
}

async function retrain(): Promise<void> {
  retrainButton.disabled = true;
  retrainStatus.textContent = 'Retraining…';
  delete retrainStatus.dataset.result;
  try {
    await followRetrain(await postJson<RetrainStatusResponse>('retrain'));
  } catch (err) {
    retrainStatus.textContent = `Retraining failed: ${err instanceof Error ? err.message : String(err)}`;
    retrainStatus.dataset.result = 'failed';
    retrainButton.disabled = false;
  }
}

/** Hour buckets over 90 days would be 2,160 bars: switch to days for long ranges. */
rangeSelect.addEventListener('change', () => {
  if (rangeSelect.value === '90d') bucketSelect.value = 'day';
  if (rangeSelect.value === '24h') bucketSelect.value = 'hour';
  void loadSeries().catch(showError);
});
bucketSelect.addEventListener('change', () => void loadSeries().catch(showError));
for (const f of [expertFilter, voteFilter, fallbackFilter]) f.addEventListener('change', () => void loadDecisions().catch(showError));
byId('refresh').addEventListener('click', () => void loadAll());
retrainButton.addEventListener('click', () => void retrain());

// A retraining started elsewhere (another tab, before a reload) shows its progress here too.
void loadAll().then(async () => {
  const s = await getJson<RetrainStatusResponse>('retrain');
  if (s.state === 'running' && !retrainButton.disabled) await followRetrain(s);
}).catch(showError);
