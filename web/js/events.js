// Events: the event log, newest first, filtered by type, station and vehicle; what an operator acts on
// (compensations, non-compliance, vans at risk) stands out.
import * as api from './api.js';
import { el, clear, fullTime, statusLine } from './ui.js';

const $ = (id) => document.getElementById(id);
const view = { items: [], filter: { type: '', station: '', vehicle: '' } };
const ALERT = new Set(['departure_at_risk', 'compensation', 'noncompliant', 'composite_mismatch']);
const GOOD = new Set(['departure_at_risk_cleared', 'compensation_cleared', 'compliant']);

// One line of what an event says: the OCPP action for frames, else the first fields of its data.
function gist(ev) {
  if (ev.action) return `${ev.message_type === 2 ? 'CALL' : ev.message_type === 3 ? 'result' : 'error'} ${ev.action}${ev.status && ev.status !== 'ok' ? ` (${ev.status})` : ''}`;
  const d = ev.data;
  if (!d || typeof d !== 'object') return d == null ? '' : String(d);
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === null || typeof v === 'object') continue;
    parts.push(`${k}: ${v}`);
    if (parts.length >= 5) break;
  }
  return parts.join(' · ');
}

async function refresh() {
  const q = new URLSearchParams({ order: 'desc', limit: '100' });
  for (const [k, v] of Object.entries(view.filter)) if (v) q.set(k, v);
  const page = await api.get(`/api/v1/events?${q}`);
  view.items = page.items;
  const rows = page.items.map((ev) => el('tr', { class: ALERT.has(ev.type) ? 'risk' : GOOD.has(ev.type) ? 'ok' : null },
    el('td', { class: 'num' }, ev.seq),
    el('td', {}, fullTime(ev.time)),
    el('td', {}, ev.type),
    el('td', {}, ev.station || ''),
    el('td', { class: 'gist' }, gist(ev))));
  clear($('events-table'), el('table', { class: 'grid' },
    el('caption', {}, 'The last 100 events that match, newest first'),
    el('thead', {}, el('tr', {}, ...['#', 'Time', 'Type', 'Station', 'What'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'No event matches.')))));
  statusLine($('events-status'), { fresh: new Date() });
}

function mount(ctx) {
  $('events-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    view.filter = { type: $('events-type').value, station: $('events-station').value.trim(),
                    vehicle: $('events-vehicle').value.trim() };
    ctx.refreshSoon();
  });
}

export default Object.assign(view, { refresh, mount });
