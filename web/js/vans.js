// Vans: the fleet with departure, need, state of charge when known, planned energy and risk; a dispatcher edits
// a departure or need in place (PUT .../departure with If-Match) and sees the answer's feasibility at once.
import * as api from './api.js';
import { el, clear, kwh, when, relative, toLocalInput, fromLocalInput, statusLine } from './ui.js';

const $ = (id) => document.getElementById(id);
const view = { vehicles: [], plan: null, site: null, editing: null, result: null };

function needText(d) {
  if (!d) return '–';
  return d.energy_kwh != null ? `+${kwh(d.energy_kwh)}` : `${Math.round(d.target_soc * 100)} % SoC`;
}

function planStatus(p) {
  if (!p) return null;
  if (p.status === 'feasible') return el('span', { class: 'good' }, `feasible: ${kwh(p.planned_kwh)} planned`);
  if (p.status === 'at_risk') return el('span', { class: 'bad' }, `at risk: ${kwh(p.shortfall_kwh)} short of ${kwh(p.remaining_kwh)}`);
  if (p.status === 'not_plugged_in') return el('span', { class: 'muted' }, 'not plugged in: planned when it arrives');
  return el('span', {}, p.detail || p.status);
}

function socOf(v) {
  if (!v.session || !view.site) return null;
  const st = view.site.stations?.find((s) => s.id === v.session.station_id);
  const ev = st?.evses.find((e) => e.id === v.session.evse_id);
  return ev?.soc_pct ?? null;
}

function editRow(ctx, v) {
  const d = v.departure;
  const leave = el('input', { id: `dep-${v.id}`, type: 'datetime-local', required: true,
                              value: toLocalInput(d?.departure || new Date(Date.now() + 8 * 3600e3).toISOString()) });
  const energy = el('input', { id: `need-${v.id}`, type: 'number', min: '0', step: '0.5', required: true,
                               value: d?.energy_kwh ?? '' });
  const msg = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { class: 'edit', 'aria-label': `Departure of ${v.id}` },
    el('label', { for: leave.id }, 'Leaves at'), leave,
    el('label', { for: energy.id }, 'Energy to add (kWh)'), energy,
    el('button', { type: 'submit' }, 'Save'),
    el('button', { type: 'button', class: 'ghost', onclick: () => { view.editing = null; render(ctx); } }, 'Cancel'),
    msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    try {
      // Change only what this row showed: the departure's ETag now (none when the row showed none).
      let etag = null;
      if (v.departure) etag = (await api.request('GET', `/api/v1/vehicles/${encodeURIComponent(v.id)}/departure`)).etag;
      const res = await api.request('PUT', `/api/v1/vehicles/${encodeURIComponent(v.id)}/departure`, {
        body: { departure: fromLocalInput(leave.value), energy_kwh: Number(energy.value) }, ifMatch: etag });
      view.result = { id: v.id, plan: res.json.plan };
      view.editing = null;
      await refresh(ctx);
      $(`edit-${v.id}`)?.focus();
    } catch (err) {
      if (err.status === 401) return ctx.onAuthLost(err);
      msg.textContent = err.status === 412 ? 'Someone changed this departure since; the row shows theirs now.'
                                           : err.message;
      if (err.status === 412) await refresh(ctx);
    }
  });
  setTimeout(() => leave.focus(), 0);
  return el('tr', { class: 'editing' }, el('td', { colspan: 8 }, form));
}

function render(ctx) {
  const byVehicle = new Map((view.plan?.evses || []).map((e) => [e.vehicle_id, e]));
  const rows = [];
  for (const v of view.vehicles) {
    const p = byVehicle.get(v.id);
    const soc = socOf(v);
    const editable = ctx.canEdit(v);
    const result = view.result?.id === v.id ? planStatus(view.result.plan) : null;
    rows.push(el('tr', { class: p?.at_risk ? 'risk' : null, dataset: { vehicle: v.id } },
      el('th', { scope: 'row' }, v.id),
      el('td', {}, v.fleet || '–'),
      el('td', {}, v.session ? `${v.session.station_id} / ${v.session.evse_id}` : el('span', { class: 'muted' }, 'not plugged in')),
      el('td', { class: 'dep' }, v.departure ? [when(v.departure.departure), el('span', { class: 'muted' }, ` ${relative(v.departure.departure)}`)] : '–'),
      el('td', { class: 'num need' }, needText(v.departure)),
      el('td', { class: 'num' }, soc == null ? '–' : `${Math.round(soc)} %`),
      el('td', { class: 'num planned' }, p ? kwh(p.planned_kwh) : '–'),
      el('td', {}, p?.at_risk ? el('span', { class: 'bad' }, `at risk: ${kwh(p.shortfall_kwh)} short`) : p ? 'on time' : '',
         result ? [el('br'), result] : null,
         editable ? el('button', { type: 'button', class: 'small', id: `edit-${v.id}`, 'aria-label': `Edit departure of ${v.id}`,
                                   onclick: () => { view.editing = v.id; render(ctx); } }, 'Edit') : null)));
    if (view.editing === v.id && editable) rows.push(editRow(ctx, v));
  }
  clear($('vans-table'), el('table', { class: 'grid' },
    el('caption', {}, ctx.me.fleet ? `Vans of fleet ${ctx.me.fleet}` : 'Vans'),
    el('thead', {}, el('tr', {}, ...['Vehicle', 'Fleet', 'Plugged in at', 'Departure', 'Need', 'SoC', 'Planned', 'Status']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'No vans registered.')))));
}

async function refresh(ctx) {
  if (view.editing) return; // do not pull the form from under the dispatcher's fingers
  const [vehicles, plan, site] = await Promise.all([
    api.getAll('/api/v1/vehicles'),
    api.get('/api/v1/plan').catch((e) => { if (e.status === 401) throw e; return null; }),
    api.get('/api/v1/site').catch((e) => { if (e.status === 401) throw e; return null; }),
  ]);
  Object.assign(view, { vehicles, plan, site });
  render(ctx);
  statusLine($('vans-status'), { fresh: new Date() });
}

export default Object.assign(view, { refresh });
