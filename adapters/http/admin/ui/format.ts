/** Small formatting helpers and the colour-blind-safe palette (Okabe–Ito) shared by charts and tables. */

/** Okabe & Ito's palette: distinguishable with every common colour-vision deficiency. */
const EXPERT_COLOURS: Record<string, string> = {
  healthcare: '#0072B2',
  finance: '#E69F00',
  cybersecurity: '#009E73',
  general: '#CC79A7',
};
const SPARE_COLOURS = ['#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function expertColour(id: string, index: number): string {
  return EXPERT_COLOURS[id] ?? SPARE_COLOURS[index % SPARE_COLOURS.length]!;
}

export const EXPERT_ORDER = ['healthcare', 'finance', 'cybersecurity', 'general'];

/** Known experts first in a fixed order, then any others alphabetically. */
export function orderExperts(ids: Iterable<string>): string[] {
  const set = new Set(ids);
  return [...EXPERT_ORDER.filter((id) => set.has(id)), ...[...set].filter((id) => !EXPERT_ORDER.includes(id)).sort()];
}

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function int(x: number): string {
  return x.toLocaleString('en-US');
}

/** Bucket starts are whole UTC hours/days; labels say so. */
export function bucketLabel(ms: number, bucket: 'hour' | 'day'): string {
  const iso = new Date(ms).toISOString();
  return bucket === 'day' ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

export function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

export function bytes(n: number | null): string {
  if (n === null) return '–';
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return `${Math.round(n / 1024 ** 2)} MiB`;
}

/** Creates an element with text content (never innerHTML: question text is user input). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | null, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** Fills a table from a header row and body rows of cells (strings or ready elements). */
export function fillTable(table: HTMLTableElement, head: string[], rows: (string | Node)[][], empty: string): void {
  const caption = table.querySelector('caption');
  table.replaceChildren(...(caption ? [caption] : []));
  const thead = table.createTHead();
  const tr = thead.insertRow();
  for (const h of head) {
    const th = el('th', h);
    th.scope = 'col';
    tr.append(th);
  }
  const tbody = table.createTBody();
  if (rows.length === 0) {
    const cell = tbody.insertRow().insertCell();
    cell.colSpan = head.length;
    cell.textContent = empty;
    cell.className = 'empty';
    return;
  }
  for (const row of rows) {
    const r = tbody.insertRow();
    for (const value of row) {
      const cell = r.insertCell();
      if (typeof value === 'string') cell.textContent = value;
      else cell.append(value);
    }
  }
}
