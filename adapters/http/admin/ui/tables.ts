/** The summary cards and tables: confusion heatmap, experts, gate versions, recent decisions. */
import type {
  ConfusionResponse, DecisionItem, ExpertItem, GateVersionItem, SummaryResponse,
} from '../apiTypes.js';
import { bytes, dateTime, el, fillTable, int, pct } from './format.js';

/** One card per line: adding a figure (e.g. conversations' follow-up share) is one entry here. */
const CARDS: { label: string; value: (s: SummaryResponse) => string }[] = [
  { label: 'questions', value: (s) => int(s.decisions) },
  { label: 'votes', value: (s) => int(s.votes) },
  { label: '👍 rate', value: (s) => pct(s.upvoteRate) },
  { label: 'fallback rate', value: (s) => pct(s.fallbackRate) },
  { label: 'corrections', value: (s) => int(s.corrections) },
  { label: 're-routes', value: (s) => int(s.reroutes) },
  { label: 'failed', value: (s) => int(s.byStatus.failed ?? 0) },
  { label: 'cancelled', value: (s) => int(s.byStatus.cancelled ?? 0) },
  { label: 'follow-ups', value: (s) => pct(s.conversations.followUpShare) },
  { label: 'sticky / switched', value: (s) => `${int(s.conversations.sticky)} / ${int(s.conversations.switched)}` },
];

export function renderSummary(target: HTMLElement, s: SummaryResponse): void {
  const items: Node[] = [];
  for (const card of CARDS) {
    const div = el('div', null, 'card');
    div.dataset.card = card.label;
    div.append(el('dt', card.label), el('dd', card.value(s)));
    items.push(div);
  }
  for (const [expert, n] of Object.entries(s.byExpert)) {
    const div = el('div', null, 'card small');
    div.dataset.card = `expert:${expert}`;
    div.append(el('dt', expert), el('dd', int(n)));
    items.push(div);
  }
  target.replaceChildren(...items);
}

/** A single-hue (blue) scale: lightness carries the count, which reads the same with any colour vision. */
function heat(n: number, max: number): string {
  if (n === 0 || max === 0) return '';
  const t = Math.min(1, n / max);
  return `hsl(210 80% ${Math.round(95 - t * 55)}%)`;
}

export function renderConfusion(table: HTMLTableElement, c: ConfusionResponse): void {
  const max = Math.max(0, ...c.experts.flatMap((r) => c.experts.map((col) => c.cells[r]?.[col] ?? 0)));
  const caption = table.querySelector('caption');
  if (caption) {
    caption.textContent = `Rows: the expert the gate chose. Columns: the expert users said was right (${c.fromCorrections} corrections, `
      + `${c.fromReroutes} 👍 after "ask another expert").`;
  }
  const rows = c.experts.map((chosen) => {
    const th = el('th', chosen);
    th.scope = 'row';
    return [th, ...c.experts.map((right) => {
      const n = c.cells[chosen]?.[right] ?? 0;
      const span = el('span', String(n), n > 0 && n >= max * 0.6 ? 'heat-cell dark' : 'heat-cell');
      span.style.backgroundColor = heat(n, max);
      span.dataset.chosen = chosen;
      span.dataset.right = right;
      span.title = `gate chose ${chosen}, users said ${right}: ${n}`;
      return span;
    })];
  });
  fillTable(table, ['gate chose ↓ / right →', ...c.experts], rows, 'No corrections yet.');
}

export function renderExperts(table: HTMLTableElement, experts: ExpertItem[]): void {
  const rows = experts.map((e) => {
    const name = el('span', `${e.emoji} ${e.displayName}`);
    const tags = [e.isFallback ? 'fallback' : '', e.demo ? 'demo model' : ''].filter(Boolean).join(' · ');
    if (tags) name.append(el('small', tags, 'tag'));
    const state = el('span', e.state + (e.unavailableReason ? `: ${e.unavailableReason}` : ''), `state state-${e.state}`);
    let endpoint: string | Node = '–';
    if (e.endpoint) {
      const ep = e.endpoint;
      const node = el('span', `${ep.health} since ${dateTime(ep.since)}`, `state endpoint-${ep.health}`);
      node.dataset.health = ep.health;
      node.append(el('small', `${ep.model} at ${ep.baseUrl} (≤ ${ep.maxConcurrent} at once)`, 'tag'));
      if (ep.lastError) node.append(el('small', `last error: ${ep.lastError}`, 'tag'));
      if (ep.nextProbeAt !== null) node.append(el('small', `next probe ${dateTime(ep.nextProbeAt)}`, 'tag'));
      endpoint = node;
    }
    return [
      name,
      state,
      bytes(e.memoryBytes),
      `${e.active} / ${e.queued}`,
      int(e.busyRejections),
      e.tokensPerSecond === null ? '–' : e.tokensPerSecond.toFixed(0),
      endpoint,
    ];
  });
  fillTable(table, ['expert', 'state', 'memory', 'answering / queued', 'busy rejections', 'tokens/s (24 h)', 'remote endpoint'], rows, 'No experts.');
}

export function renderGates(table: HTMLTableElement, versions: GateVersionItem[], routingVersion: string, onRollback: (version: string, button: HTMLButtonElement) => void): void {
  const rows = versions.map((g) => {
    let action: Node;
    if (g.active) {
      action = el('strong', 'active', 'active-badge');
    } else {
      const button = el('button', 'Roll back to this');
      button.type = 'button';
      button.dataset.version = g.version;
      button.setAttribute('aria-label', `Roll back to gate ${g.version}`);
      button.addEventListener('click', () => onRollback(g.version, button));
      action = button;
    }
    const reason = el('span', g.reason ?? '', 'reason');
    return [
      g.version, dateTime(g.createdAt), pct(g.heldOutAccuracy), g.macroF1 === null ? '–' : g.macroF1.toFixed(3),
      g.ece === null ? '–' : g.ece.toFixed(3), `${int(g.examples)} (${int(g.feedbackExamples)} from votes)`,
      g.promoted ? 'yes' : 'no', g.requestedBy ?? '–', reason, action,
    ];
  });
  fillTable(table, ['version', 'created (UTC)', 'held-out accuracy', 'macro-F1', 'calibration (ECE)', 'examples', 'promoted', 'by', 'why', ''],
    // As `moe gate list` says: before anything is recorded the bot routes with the shipped gate at GATE_PATH.
    rows, `No gate versions recorded yet: the bot routes with the shipped gate ${routingVersion} (GATE_PATH); the first retraining or moe train records it.`);
  for (const [i, g] of versions.entries()) if (g.active) table.tBodies[0]?.rows[i]?.classList.add('active-row');
}

export function renderDecisions(table: HTMLTableElement, decisions: DecisionItem[], textLogged: boolean): void {
  const rows = decisions.map((d) => {
    const votes = d.upvotes || d.downvotes ? `${d.upvotes ? `👍${d.upvotes}` : ''} ${d.downvotes ? `👎${d.downvotes}` : ''}`.trim() : '–';
    const expert = d.expert === d.gateExpert ? d.expert : `${d.expert} (gate: ${d.gateExpert})`;
    const question = d.query === null ? el('span', textLogged ? 'not kept' : 'not logged', 'muted') : el('span', d.query, 'query');
    return [
      dateTime(d.createdAt), d.platform, d.user ?? '–', expert, pct(d.confidence, 0), d.fallbackReason ?? '–',
      d.reroutedFrom ? 're-route' : d.status, votes + (d.correctedExpert ? ` → ${d.correctedExpert}` : ''), question,
    ];
  });
  fillTable(table, ['time (UTC)', 'platform', 'user', 'expert', 'confidence', 'fallback', 'status', 'votes', 'question'], rows,
    'No decisions match.');
}
