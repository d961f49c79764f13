// Plan: the plan in force (or the one in force at a past time: GET /api/v1/plan?at=) as a chart: kW per session
// per slot stacked, the site limit as a dashed line, the price per slot on a second axis, a now-marker.
import * as api from './api.js';
import { el, clear, kw, kwh, eur, when, relative, fullTime, statusLine, colour } from './ui.js';

const $ = (id) => document.getElementById(id);
const view = { chart: null, plan: null, atMinutes: 0, sessions: [] };

const label = (e) => e.vehicle_id || `${e.station_id} EVSE ${e.evse_id}`;
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// x: each slot's start (s), plus the last slot's end so the last step is drawn; y per session: its kW stacked
// on the ones before it (uPlot draws lines; the bands fill between neighbours).
function chartData(plan) {
  const slots = plan.slots;
  const xs = slots.map((s) => Date.parse(s.start) / 1000);
  if (slots.length) xs.push(Date.parse(slots[slots.length - 1].end) / 1000);
  const pad = (arr) => (arr.length ? [...arr, arr[arr.length - 1]] : arr);
  const stacked = [];
  let below = slots.map(() => 0);
  for (const e of plan.evses) {
    const row = slots.map((_, k) => below[k] + (e.kw[k] || 0));
    stacked.push(pad(row));
    below = row;
  }
  return [xs, ...stacked, pad(slots.map((s) => s.site_limit_kw)), pad(slots.map((s) => s.price))];
}

function drawNow(u) {
  const t = Date.now() / 1000;
  if (t < u.scales.x.min || t > u.scales.x.max) return;
  const x = Math.round(u.valToPos(t, 'x', true));
  const c = u.ctx;
  c.save();
  c.strokeStyle = css('--fg');
  c.lineWidth = 1.5 * devicePixelRatio;
  c.beginPath();
  c.moveTo(x, u.bbox.top);
  c.lineTo(x, u.bbox.top + u.bbox.height);
  c.stroke();
  c.restore();
}

function makeChart(plan, node) {
  const step = uPlot.paths.stepped({ align: 1 });
  const n = plan.evses.length;
  const fg = css('--fg'), grid = css('--grid');
  const axis = { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } };
  const series = [{ label: 'time' }];
  plan.evses.forEach((e, i) => series.push({
    label: label(e), scale: 'kw', paths: step, stroke: colour(i), width: 1, fill: colour(i) + '99', points: { show: false },
    // the legend and tooltip show the session's own kW, not the stack's top
    value: (u, v, si, idx) => (idx == null ? '–' : kw((plan.evses[i].kw[Math.min(idx, plan.slots.length - 1)]) || 0)),
  }));
  series.push({ label: 'site limit', scale: 'kw', paths: step, stroke: css('--limit'), width: 2, dash: [8, 5], points: { show: false },
                value: (u, v) => kw(v) });
  series.push({ label: 'price', scale: 'eur', paths: step, stroke: css('--price'), width: 1.5, points: { show: false },
                value: (u, v) => (v == null ? '–' : `${eur(v, 3)}/kWh`) });
  const bands = [];
  for (let i = 2; i <= n; i++) bands.push({ series: [i, i - 1] });
  const opts = {
    width: Math.max(320, node.clientWidth), height: 340,
    series, bands,
    scales: { x: { time: true }, kw: { range: (u, lo, hi) => [0, Math.max(hi, 1) * 1.08] } },
    axes: [{ ...axis }, { ...axis, scale: 'kw', label: 'kW', values: (u, v) => v.map((x) => `${x}`) },
           { ...axis, scale: 'eur', side: 1, label: '€/kWh', grid: { show: false },
             values: (u, v) => v.map((x) => x.toFixed(2)) }],
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    hooks: { draw: [drawNow], setCursor: [(u) => tip(u)] },
  };
  // the first session's fill goes down to zero; the others' between their neighbours (bands)
  return new uPlot(opts, chartData(plan), node);
}

// Hover: the session under the cursor in the stack, with its energy, need and departure.
function tip(u) {
  const box = $('plan-tip');
  const idx = u.cursor.idx;
  const plan = view.plan;
  if (idx == null || !plan || u.cursor.top < 0 || idx >= plan.slots.length) {
    box.hidden = true;
    return;
  }
  const y = u.posToVal(u.cursor.top, 'kw');
  let below = 0, hit = null;
  for (const e of plan.evses) {
    const top = below + (e.kw[idx] || 0);
    if (y >= below && y < top) hit = e;
    below = top;
  }
  if (!hit) {
    box.hidden = true;
    return;
  }
  clear(box,
    el('strong', {}, label(hit)), ` ${hit.station_id} EVSE ${hit.evse_id}`, el('br'),
    `${kw(hit.kw[idx] || 0)} in this slot; planned ${kwh(hit.planned_kwh)} of ${kwh(hit.remaining_kwh)} still needed`, el('br'),
    `departure ${when(hit.departure)} (${relative(hit.departure)})`, el('br'),
    `price in this slot ${eur(plan.slots[idx].price, 3)}/kWh (${plan.slots[idx].price_source})`,
    hit.at_risk ? el('span', { class: 'bad' }, ` · at risk: ${kwh(hit.shortfall_kwh)} short`) : null);
  box.style.left = `${Math.min(u.cursor.left + 60, u.bbox.width / devicePixelRatio - 200)}px`;
  box.style.top = `${u.cursor.top + 10}px`;
  box.hidden = false;
}

function summary(plan) {
  const atRisk = plan.sessions_at_risk || [];
  const slot0 = plan.slots[0];
  return [
    el('span', {}, el('b', {}, `Plan ${plan.plan_id}`), ` (${plan.method}, ${plan.reasons || 'scheduled'})`,
       plan.source === 'event_log' ? ` · in force at ${fullTime(plan.start)}` : ` · from ${when(plan.start)}`),
    el('span', {}, 'expected cost ', el('b', {}, eur(plan.expected_cost))),
    slot0 ? el('span', {}, 'this slot ', el('b', {}, kw(slot0.site_kw)), ` of ${kw(slot0.site_limit_kw)}`) : null,
    plan.demand ? el('span', {}, 'peak: plan ', el('b', {}, kw(plan.demand.plan_peak_kw)),
                     `, billing period so far ${kw(plan.demand.peak_kw)} (${eur(plan.demand.price_per_kw)}/kW)`) : null,
    el('span', { class: atRisk.length ? 'bad' : 'good' },
       atRisk.length ? `${atRisk.length} van${atRisk.length > 1 ? 's' : ''} at risk` : 'every van on time'),
  ];
}

function sessionsTable(plan) {
  if (!plan.evses.length) return el('p', { class: 'muted' }, 'No session is planned.');
  const rows = plan.evses.map((e, i) => el('tr', { class: e.at_risk ? 'risk' : null },
    el('td', {}, el('span', { class: 'swatch', style: null, dataset: { c: i } }), label(e)),
    el('td', {}, `${e.station_id} / ${e.evse_id}`),
    el('td', {}, when(e.departure), el('span', { class: 'muted' }, ` ${relative(e.departure)}`)),
    el('td', { class: 'num' }, kwh(e.remaining_kwh)),
    el('td', { class: 'num' }, kwh(e.planned_kwh)),
    el('td', {}, e.at_risk ? el('span', { class: 'bad' }, `at risk: ${kwh(e.shortfall_kwh)} short`) : 'on time'),
    el('td', { class: 'muted' }, e.need_source)));
  return el('table', { class: 'grid' },
    el('caption', {}, 'Sessions in this plan'),
    el('thead', {}, el('tr', {}, ...['Vehicle', 'Station / EVSE', 'Departure', 'Still needed', 'Planned', 'Status',
                                     'Need from'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows));
}

function paintSwatches() {
  for (const s of document.querySelectorAll('#plan-sessions .swatch')) s.style.background = colour(Number(s.dataset.c));
}

function atText() {
  return view.atMinutes === 0 ? 'now' : `${fullTime(new Date(Date.now() + view.atMinutes * 60e3).toISOString())}`;
}

async function refresh(ctx) {
  const q = view.atMinutes === 0 ? '' : `?at=${encodeURIComponent(new Date(Date.now() + view.atMinutes * 60e3).toISOString())}`;
  let plan;
  try {
    plan = await api.get(`/api/v1/plan${q}`);
  } catch (e) {
    if (e.status === 401) throw e;
    view.plan = null;
    view.chart?.destroy();
    view.chart = null;
    clear($('plan-summary'), el('span', { class: 'muted' }, e.message));
    clear($('plan-sessions'));
    statusLine($('plan-status'), { error: null, fresh: new Date() });
    return;
  }
  const node = $('plan-chart');
  const sameShape = view.chart && view.plan && view.plan.evses.length === plan.evses.length &&
    view.plan.evses.every((e, i) => label(e) === label(plan.evses[i]));
  view.plan = plan;
  if (sameShape) {
    view.chart.setData(chartData(plan));
  } else {
    view.chart?.destroy();
    clear(node);
    view.chart = makeChart(plan, node);
  }
  clear($('plan-summary'), summary(plan));
  clear($('plan-sessions'), sessionsTable(plan));
  paintSwatches();
  statusLine($('plan-status'), { fresh: new Date() });
}

function mount(ctx) {
  const slider = $('plan-at');
  slider.addEventListener('input', () => {
    view.atMinutes = Number(slider.value);
    $('plan-at-text').value = atText();
  });
  slider.addEventListener('change', () => ctx.refreshSoon());
  $('plan-now').addEventListener('click', () => {
    slider.value = 0;
    view.atMinutes = 0;
    $('plan-at-text').value = 'now';
    ctx.refreshSoon();
  });
  addEventListener('resize', () => view.chart?.setSize({ width: Math.max(320, $('plan-chart').clientWidth), height: 340 }));
}

function retheme() {
  view.chart?.destroy();
  view.chart = null;
  if (view.plan) view.chart = makeChart(view.plan, clear($('plan-chart')));
}

export default Object.assign(view, { refresh, mount, retheme });
