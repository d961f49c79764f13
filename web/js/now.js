// Now: site power against the limit in force (and a temporary curtailment), a tile per station with its
// EVSEs (status, vehicle, kW now against the limit in force, the fail-safe in force), connection state, alarms.
import * as api from './api.js';
import { el, clear, kw, kwh, eur, when, relative, statusLine } from './ui.js';

const $ = (id) => document.getElementById(id);
const view = { site: null };

const MODE_TEXT = {
  controlled: 'following its plan', failsafe: 'on its fail-safe', uncontrolled: 'refused a profile: planned around',
  noncompliant: 'draws above its limit', idle: 'idle',
};

function siteBar(s) {
  const limit = s.limit.in_force_kw, measured = s.limit.measured_kw ?? 0, planned = s.limit.planned_kw ?? 0;
  const top = Math.max(limit, measured, s.limit.configured_kw, 1);
  const pct = (v) => `${Math.min(100, (100 * v) / top).toFixed(1)}%`;
  const over = measured > limit + 0.05;
  const bar = el('div', { class: 'bar', role: 'img',
                          'aria-label': `Site: ${kw(measured)} measured, ${kw(planned)} planned, limit ${kw(limit)}` },
    el('div', { class: over ? 'fill over' : 'fill', dataset: { w: pct(measured) } }),
    el('div', { class: 'mark planned', dataset: { l: pct(planned) }, title: 'planned now' }),
    el('div', { class: 'mark limit', dataset: { l: pct(limit) }, title: 'limit in force' }));
  const temp = s.limit.temporary;
  return [
    el('div', { class: 'site-figures' },
      el('span', {}, 'Site ', el('b', { class: over ? 'bad' : null }, kw(measured)), ' measured'),
      el('span', {}, el('b', {}, kw(planned)), ' planned now'),
      el('span', {}, 'limit ', el('b', {}, kw(limit)),
         temp ? el('span', { class: 'warn' }, ` curtailed from ${kw(s.limit.configured_kw)} until ${when(temp.until)}`) : null),
      s.site_load ? el('span', {}, 'building ', el('b', {}, kw(s.site_load.planned_kw)),
                       el('span', { class: 'muted' },
                          ` planned with (meter ${s.site_load.reading_kw == null ? 'not read yet' : kw(s.site_load.reading_kw)}`
                          + ` + ${kw(s.site_load.margin_kw)} margin; fail-safe under ${kw(s.site_load.failsafe_limit_kw)})`)) : null,
      s.demand ? el('span', {}, 'peak this billing period ', el('b', {}, kw(s.demand.peak_kw)),
                    s.demand.plan_peak_kw != null ? ` (the plan: ${kw(s.demand.plan_peak_kw)})` : '',
                    el('span', { class: 'muted' }, ` at ${eur(s.demand.price_per_kw)}/kW`)) : null,
      el('span', { class: 'muted' }, `fail-safe: ${s.failsafe}`)),
    bar,
  ];
}

function layoutBar() {
  for (const f of document.querySelectorAll('#now-site .fill')) f.style.width = f.dataset.w;
  for (const m of document.querySelectorAll('#now-site .mark')) m.style.left = m.dataset.l;
}

function failsafeText(st) {
  const f = st.failsafe;
  if (!f) return 'never connected to depotd';
  if (f.kw == null) return 'no fail-safe in force';
  const what = f.profile === 'TxDefaultProfile' ? `${kw(f.kw)} per idle EVSE` : `station at most ${kw(f.kw)}`;
  return `fail-safe ${what}${f.state && f.state !== 'accepted' ? ` (${f.state})` : ''}`;
}

function evseRow(e) {
  const busy = e.mode !== 'idle'; // another fleet's session is not named, but it is there
  const load = e.limit_kw != null ? `${kw(e.power_kw ?? 0)} of ${kw(e.limit_kw)}` : kw(e.power_kw ?? 0);
  return el('li', { class: `evse mode-${e.mode}` },
    el('span', { class: 'evse-id' }, `EVSE ${e.id}`),
    el('span', { class: 'st' }, e.status || 'unknown'),
    el('span', { class: 'veh' }, e.vehicle || (busy ? 'a session' : '')),
    el('span', { class: 'num' }, busy ? load : ''),
    el('span', { class: 'muted mode' }, busy ? MODE_TEXT[e.mode] || e.mode : ''),
    e.at_risk ? el('span', { class: 'bad' }, `at risk: ${kwh(e.short_kwh)} short`) : null);
}

function tile(st) {
  return el('article', { class: st.connected ? 'tile' : 'tile down', 'aria-label': `Station ${st.id}` },
    el('h3', {}, st.id, el('span', { class: st.connected ? 'good' : 'bad' }, st.connected ? ' connected' : ' disconnected')),
    el('p', { class: 'muted' }, failsafeText(st),
       st.cap_kw != null ? ` · station maximum now ${kw(st.cap_kw)}` : '',
       st.clock_offset_s != null && Math.abs(st.clock_offset_s) >= 2 ? ` · clock ${st.clock_offset_s > 0 ? '+' : ''}${Math.round(st.clock_offset_s)} s` : ''),
    el('ul', { class: 'evses' }, st.evses.map(evseRow)));
}

// control.circuits: each feeder's limit in force against the plan's peak on it (its worst phase when per phase).
function circuitsTable(circuits) {
  if (!circuits.length) return null;
  const rows = circuits.map((c) => el('tr', { class: c.headroom_kw < 0.05 * c.limit_in_force_kw ? 'risk' : null },
    el('th', { scope: 'row' }, c.id), el('td', {}, c.parent || 'site'),
    el('td', { class: 'num' }, `${kw(c.limit_in_force_kw)}${c.per_phase ? ' a phase' : ''}`,
       c.temporary ? el('span', { class: 'warn' }, ` until ${when(c.temporary.until)}`) : ''),
    el('td', { class: 'num' }, kw(c.measured_kw)),
    el('td', { class: 'num' }, kw(c.planned_peak_kw)), el('td', { class: 'num' }, kw(c.headroom_kw))));
  return el('table', { class: 'grid compact' }, el('caption', {}, 'Feeders: measured now, and the plan\'s peak on each'),
    el('thead', {}, el('tr', {}, ...['Circuit', 'Under', 'Limit', 'Measured', 'Planned peak', 'Headroom'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows));
}

function alarms(s) {
  const out = [];
  for (const st of s.stations) {
    if (!st.connected) out.push(`${st.id} is disconnected${st.disconnected_at ? ` since ${when(st.disconnected_at)}` : ''}`);
    if (st.failsafe?.state === 'rejected') out.push(`${st.id} refused its fail-safe profile`);
    for (const e of st.evses) {
      if (e.mode === 'noncompliant') out.push(`${st.id} EVSE ${e.id} draws above its limit`);
      if (e.at_risk) out.push(`${e.vehicle || `${st.id} EVSE ${e.id}`} will leave ${kwh(e.short_kwh)} short`);
    }
  }
  if (s.price_feed && s.price_feed.breaker !== 'closed') out.push(`price feed ${s.price_feed.provider}: breaker ${s.price_feed.breaker}, planning on fallback prices`);
  if (s.site_load && s.site_load.breaker !== 'closed') out.push(`building load feed ${s.site_load.provider}: breaker ${s.site_load.breaker}, planning on its last values and fallback`);
  if (s.limit.temporary) out.push(`site curtailed to ${kw(s.limit.in_force_kw)} until ${when(s.limit.temporary.until)} (${relative(s.limit.temporary.until)})`);
  return out;
}

async function refresh() {
  const s = await api.get('/api/v1/site');
  view.site = s;
  clear($('now-site'), siteBar(s));
  layoutBar();
  const a = alarms(s);
  clear($('now-alarms'), a.length ? el('ul', { 'aria-label': 'Alarms' }, a.map((t) => el('li', { class: 'alarm' }, t)))
                                  : el('p', { class: 'good' }, 'No alarms.'));
  clear($('now-circuits'), circuitsTable(s.circuits || []));
  clear($('now-stations'), s.stations.length ? s.stations.map(tile) : el('p', { class: 'muted' }, 'No stations.'));
  statusLine($('now-status'), { fresh: new Date() });
}

export default Object.assign(view, { refresh });
