// Prices: the series depotd plans with, the source of each slot (the provider, its fallback, a fixed price),
// and the state of the feed's circuit breaker.
import * as api from './api.js';
import { el, clear, eur, when, fullTime, statusLine } from './ui.js';

const $ = (id) => document.getElementById(id);
const view = { prices: null, chart: null };
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function makeChart(p, node) {
  const xs = p.items.map((i) => Date.parse(i.start) / 1000);
  const ys = p.items.map((i) => i.price_per_kwh);
  if (p.items.length) {
    xs.push(Date.parse(p.items[p.items.length - 1].end) / 1000);
    ys.push(ys[ys.length - 1]);
  }
  const fg = css('--fg'), grid = css('--grid');
  const axis = { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } };
  return new uPlot({
    width: Math.max(320, node.clientWidth), height: 240,
    series: [{ label: 'time' }, { label: 'price', stroke: css('--price'), width: 2, points: { show: false },
                                  paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v == null ? '–' : `${eur(v, 3)}/kWh`) }],
    axes: [{ ...axis }, { ...axis, label: '€/kWh', values: (u, v) => v.map((x) => x.toFixed(2)) }],
    cursor: { drag: { x: false, y: false } },
  }, [xs, ys], node);
}

async function refresh() {
  const p = await api.get('/api/v1/prices?slot_minutes=60');
  view.prices = p;
  const breakerClass = p.breaker === 'closed' ? 'good' : 'bad';
  clear($('prices-feed'),
    el('span', {}, 'Provider ', el('b', {}, p.provider || '–')),
    el('span', {}, 'breaker ', el('b', { class: breakerClass }, p.breaker || '–'),
       p.breaker && p.breaker !== 'closed' ? ' (the fallback prices are used)' : ''),
    el('span', {}, `last fetch ${p.last_outcome || '–'}${p.last_success_at ? `, last success ${when(p.last_success_at)}` : ''}`),
    el('span', {}, `covered until ${fullTime(p.covered_until)}`));
  view.chart?.destroy();
  view.chart = makeChart(p, clear($('prices-chart')));
  const rows = p.items.map((i) => el('tr', { class: i.source === 'market' ? null : 'warn-row' },
    el('td', {}, when(i.start)), el('td', { class: 'num' }, eur(i.price_per_kwh, 4)), el('td', {}, i.source)));
  clear($('prices-table'), el('table', { class: 'grid compact' },
    el('caption', {}, 'Price per hour and where it came from'),
    el('thead', {}, el('tr', {}, ...['From', '€/kWh', 'Source'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows)));
  statusLine($('prices-status'), { fresh: new Date() });
}

export default Object.assign(view, { refresh, retheme: () => view.prices && refresh() });
