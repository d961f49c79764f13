// Small DOM helpers shared by the views. Text goes in as text (textContent), never as HTML: names, ids and
// event data come from stations and dispatchers.

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const kw = (v) => (v === null || v === undefined ? '–' : `${v.toFixed(v < 10 ? 1 : 0)} kW`);
export const kwh = (v) => (v === null || v === undefined ? '–' : `${v.toFixed(1)} kWh`);
export const eur = (v, digits = 2) => (v === null || v === undefined ? '–' : `€${v.toFixed(digits)}`);

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTimeFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

// A time as a dispatcher reads it: the hour today, the weekday and hour otherwise.
export function when(iso, now = Date.now()) {
  if (!iso) return '–';
  const t = new Date(iso);
  return Math.abs(t - now) < 12 * 3600e3 ? timeFmt.format(t) : dayTimeFmt.format(t);
}
export const fullTime = (iso) => (iso ? fullFmt.format(new Date(iso)) : '–');

// "in 2 h 05 min", "5 min ago"
export function relative(iso, now = Date.now()) {
  if (!iso) return '';
  const min = Math.round((new Date(iso) - now) / 60e3);
  const a = Math.abs(min);
  const s = a >= 60 ? `${Math.floor(a / 60)} h ${String(a % 60).padStart(2, '0')} min` : `${a} min`;
  return min >= 0 ? `in ${s}` : `${s} ago`;
}

// The value for <input type="datetime-local"> (the browser's time zone) and back to ISO.
export function toLocalInput(iso) {
  const t = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}
export const fromLocalInput = (v) => new Date(v).toISOString();

// A status line for a view: what failed and when the data was last fresh.
export function statusLine(node, { error, fresh }) {
  clear(node, error ? el('span', { class: 'bad' }, error) : null,
        fresh ? el('span', { class: 'muted' }, ` updated ${timeFmt.format(fresh)}`) : null);
}

// Session colours: distinct, readable on light and dark, cycling.
// No red: red is the site limit's.
const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316',
                 '#14b8a6', '#6366f1', '#eab308', '#64748b'];
export const colour = (i) => PALETTE[i % PALETTE.length];
