/** The three time charts (Chart.js, only the parts we use registered, so the bundle stays small). */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartDataset,
} from 'chart.js';
import type { TimeSeriesResponse } from '../apiTypes.js';
import { bucketLabel, expertColour, orderExperts, pct } from './format.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.maintainAspectRatio = false;

export interface DashboardCharts {
  questions: Chart;
  fallback: Chart;
  upvotes: Chart;
}

/** Dash patterns tell the lines apart without colour. */
const DASHES: number[][] = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

function canvas(id: string): HTMLCanvasElement {
  const node = document.getElementById(id);
  if (!(node instanceof HTMLCanvasElement)) throw new Error(`missing canvas #${id}`);
  return node;
}

export function createCharts(): DashboardCharts {
  const questions = new Chart(canvas('chart-questions'), {
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'questions' }, ticks: { precision: 0 } } },
      plugins: { legend: { position: 'bottom' }, tooltip: { mode: 'index', intersect: false } },
    },
  });
  const fallback = new Chart(canvas('chart-fallback'), {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      spanGaps: true,
      scales: { y: { min: 0, max: 1, title: { display: true, text: 'fallback rate' }, ticks: { callback: (v) => pct(Number(v), 0) } } },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `fallback ${pct(c.parsed.y)}` } } },
    },
  });
  const upvotes = new Chart(canvas('chart-upvotes'), {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      spanGaps: true,
      scales: {
        y: { min: 0, max: 1, position: 'left', title: { display: true, text: '👍 rate' }, ticks: { callback: (v) => pct(Number(v), 0) } },
        votes: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'votes' }, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: 'bottom' }, tooltip: { mode: 'index', intersect: false } },
    },
  });
  return { questions, fallback, upvotes };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function updateCharts(charts: DashboardCharts, ts: TimeSeriesResponse): void {
  const labels = ts.buckets.map((b) => bucketLabel(b, ts.bucket));
  const experts = orderExperts([...Object.keys(ts.questions), ...Object.keys(ts.votes)]);
  const unit = ts.bucket === 'day' ? 'day' : 'hour';

  charts.questions.data.labels = labels;
  charts.questions.data.datasets = experts.filter((id) => ts.questions[id]).map((id, i) => ({
    label: id, data: ts.questions[id]!, backgroundColor: expertColour(id, i), stack: 'questions',
  }));
  charts.questions.update();
  const perExpert = experts.filter((id) => ts.questions[id]).map((id) => `${id} ${sum(ts.questions[id]!)}`).join(', ');
  charts.questions.canvas.setAttribute('aria-label', `Questions per expert per ${unit}, stacked. Totals in range: ${perExpert || 'none'}.`);

  const rates = ts.totals.map((n, i) => (n > 0 ? ts.fallbacks[i]! / n : null));
  charts.fallback.data.labels = labels;
  charts.fallback.data.datasets = [{ label: 'fallback rate', data: rates, borderColor: '#D55E00', backgroundColor: '#D55E00', pointRadius: 2 }];
  charts.fallback.update();
  const total = sum(ts.totals);
  charts.fallback.canvas.setAttribute('aria-label',
    `Fallback rate per ${unit}. In range: ${sum(ts.fallbacks)} of ${total} questions (${pct(total ? sum(ts.fallbacks) / total : null)}).`);

  const voters = experts.filter((id) => ts.votes[id]);
  const lines: ChartDataset<'line', (number | null)[]>[] = voters.map((id, i) => ({
    type: 'line', label: `${id} 👍 rate`, yAxisID: 'y', pointRadius: 2,
    data: ts.votes[id]!.map((n, b) => (n > 0 ? ts.upvotes[id]![b]! / n : null)),
    borderColor: expertColour(id, i), backgroundColor: expertColour(id, i), borderDash: DASHES[i % DASHES.length]!,
  }));
  const voteCounts = ts.buckets.map((_, b) => sum(voters.map((id) => ts.votes[id]![b]!)));
  const bars = { type: 'bar' as const, label: 'votes', yAxisID: 'votes', data: voteCounts, backgroundColor: 'rgba(120,120,120,0.35)', order: 10 };
  charts.upvotes.data.labels = labels;
  charts.upvotes.data.datasets = [...lines, bars] as ChartDataset<'line'>[];
  charts.upvotes.update();
  const votesText = voters.map((id) => `${id} ${sum(ts.upvotes[id]!)} of ${sum(ts.votes[id]!)}`).join(', ');
  charts.upvotes.canvas.setAttribute('aria-label', `👍 per expert per ${unit}, and votes. 👍 in range: ${votesText || 'no votes'}.`);
}
