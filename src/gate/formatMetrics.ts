/** Readable tables of gate metrics for the CLI. */
import type { EvalMetrics } from './evaluate.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function formatMetrics(m: EvalMetrics): string {
  const lines = [
    `rows ${m.n}   accuracy ${pct(m.accuracy)}   macro-F1 ${m.macroF1.toFixed(3)}   ECE ${m.ece.toFixed(3)}   fallback ${pct(m.fallbackRate)}`,
    '',
    'label            n   accuracy',
    ...Object.entries(m.byLabel).map(([k, v]) => `${k.padEnd(14)} ${String(v.n).padStart(4)}   ${pct(v.accuracy).padStart(7)}`),
  ];
  if (Object.keys(m.byKind).length) {
    lines.push('', 'kind             n   accuracy', ...Object.entries(m.byKind).map(([k, v]) => `${k.padEnd(14)} ${String(v.n).padStart(4)}   ${pct(v.accuracy).padStart(7)}`));
  }
  const predicted = [...new Set(Object.values(m.confusion).flatMap((row) => Object.keys(row)))].sort();
  lines.push('', `confusion (rows: true label, columns: routed; none = fallback)`, `${''.padEnd(14)} ${predicted.map((p) => p.padStart(13)).join('')}`);
  for (const [label, row] of Object.entries(m.confusion)) lines.push(`${label.padEnd(14)} ${predicted.map((p) => String(row[p] ?? 0).padStart(13)).join('')}`);
  return lines.join('\n');
}
