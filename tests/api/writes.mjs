// Dispatcher and operator writes: departures (roles, fleet scope, ETag / If-Match, every 422), the temporary
// site limit, and the audit trail: each write an "api" event with the token's name, in the log before the
// answer comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, depotConfig, iso, makeTokens, problem, sql } from './lib.mjs';

const tokens = makeTokens();
let d;

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens) });
  await d.start();
});

after(async () => {
  if (d) await d.finish();
});

const H = 3600e3;
const put = (p, body, token = tokens.dispatcher, headers = {}) => d.req('PUT', p, { token, body, headers });
const dep = (v) => `/api/v1/vehicles/${v}/departure`;

// The newest "api" event, read from the SQLite file: it must be there by the time the answer came.
function lastApiEvent() {
  const [row] = sql(d.db, "SELECT data FROM events WHERE type = 'api' ORDER BY seq DESC LIMIT 1");
  return row && JSON.parse(row.data);
}

test('a dispatcher sets a departure: the need goes to the control loop, the write to the log', async () => {
  const when = iso(Date.now() + 6 * H);
  const r = await put(dep('van-2'), { departure: when, energy_kwh: 45, priority: 2 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual({ ...r.json, set_at: undefined, plan: undefined }, { vehicle_id: 'van-2', departure: when,
    energy_kwh: 45, target_soc: null, priority: 2, set_by: 'dispatch-all', set_at: undefined, plan: undefined });
  // van-2 is not plugged in: the answer says so instead of waiting for a plan that cannot include it.
  assert.equal(r.json.plan.status, 'not_plugged_in', r.text);
  assert.equal(r.json.plan.plan_id, null);
  assert.match(r.headers.get('etag'), /^"[0-9a-f]{16}"$/);
  const ev = lastApiEvent();
  assert.equal(ev.by, 'dispatch-all');
  assert.equal(ev.role, 'dispatcher');
  assert.equal(ev.method, 'PUT');
  assert.equal(ev.status, 200);
  assert.equal(ev.vehicle, 'van-2');
  assert.deepEqual(ev.request, { departure: when, energy_kwh: 45, priority: 2 });
  // The control loop recorded the need with the token's name, and re-planned for it.
  const [need] = sql(d.db, "SELECT data FROM events WHERE type = 'need' ORDER BY seq DESC LIMIT 1").map((x) => JSON.parse(x.data));
  assert.equal(need.vehicle, 'van-2');
  assert.equal(need.by, 'dispatch-all');
  assert.equal(need.energy_kwh, 45);
  const g = await d.req('GET', dep('van-2'), { token: tokens.viewer });
  assert.equal(g.status, 200);
  assert.equal(g.headers.get('etag'), r.headers.get('etag'));
  assert.equal((await d.req('GET', '/api/v1/vehicles/van-2', { token: tokens.viewer })).json.departure.energy_kwh, 45);
});

test('target_soc needs a known battery; energy or soc, not both', async () => {
  const when = iso(Date.now() + 6 * H);
  const ok = await put(dep('van-1'), { departure: when, target_soc: 0.8 });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.target_soc, 0.8);
  assert.equal(ok.json.energy_kwh, null);
  problem(assert, await put(dep('van-3'), { departure: when, target_soc: 0.8 }), 422, 'target_soc');
  problem(assert, await put(dep('van-1'), { departure: when, target_soc: 0.8, energy_kwh: 3 }), 422, 'target_soc');
  problem(assert, await put(dep('van-1'), { departure: when }), 422, 'energy_kwh');
});

test('422 for every semantic error, naming the field', async () => {
  const when = iso(Date.now() + 2 * H);
  const cases = [
    [{ departure: iso(Date.now() - 60e3), energy_kwh: 5 }, 'departure', /in the past/],
    [{ departure: iso(Date.now() + 40 * 24 * H), energy_kwh: 5 }, 'departure', /30 days/],
    [{ departure: 'tomorrow', energy_kwh: 5 }, 'departure', /RFC 3339/],
    [{ energy_kwh: 5 }, 'departure', /required/],
    [{ departure: when, energy_kwh: 61 }, 'energy_kwh', /more than the battery of van-1 holds \(60 kWh\)/],
    [{ departure: when, energy_kwh: -1 }, 'energy_kwh', /from 0/],
    [{ departure: when, energy_kwh: '5' }, 'energy_kwh', /number/],
    [{ departure: when, target_soc: 1.5 }, 'target_soc', /from 0 to 1/],
    [{ departure: when, energy_kwh: 5, priority: 101 }, 'priority', /from 0 to 100/],
    [{ departure: when, energy_kwh: 5, departure_time: when }, 'departure_time', /unknown member/],
  ];
  for (const [body, field, re] of cases) {
    const p = problem(assert, await put(dep('van-1'), body), 422, field);
    assert.match(p.detail, re);
  }
  // A refused write is in the audit trail too.
  const ev = lastApiEvent();
  assert.equal(ev.status, 422);
  assert.equal(ev.by, 'dispatch-all');
});

test('404 for a vehicle not in the registry, or a departure not set', async () => {
  problem(assert, await put(dep('van-9'), { departure: iso(Date.now() + H), energy_kwh: 1 }), 404, 'vehicle_id');
  problem(assert, await d.req('GET', dep('van-3'), { token: tokens.viewer }), 404, 'vehicle_id');
  problem(assert, await d.req('DELETE', dep('van-3'), { token: tokens.dispatcher }), 404, 'vehicle_id');
});

test('roles and fleet scope: viewers read, a fleet dispatcher changes only its fleet', async () => {
  const body = { departure: iso(Date.now() + 3 * H), energy_kwh: 10 };
  problem(assert, await put(dep('van-1'), body, tokens.viewer), 403);
  let p = problem(assert, await put(dep('van-2'), body, tokens.north), 403, 'vehicle_id');
  assert.match(p.detail, /fleet "north".*van-2.*fleet "south"/);
  p = problem(assert, await put(dep('van-3'), body, tokens.north), 403, 'vehicle_id');
  assert.match(p.detail, /no fleet/);
  assert.equal((await put(dep('van-1'), body, tokens.north)).status, 200);
  problem(assert, await d.req('DELETE', dep('van-2'), { token: tokens.north }), 403, 'vehicle_id');
  const ev = lastApiEvent();
  assert.equal(ev.status, 403);
  assert.equal(ev.by, 'dispatch-north');
  assert.equal(ev.method, 'DELETE');
  // Admins may do what dispatchers may.
  assert.equal((await put(dep('van-3'), body, tokens.admin)).status, 200);
});

test('If-Match: a stale ETag is 412 and changes nothing; the current one goes through', async () => {
  const first = await put(dep('van-2'), { departure: iso(Date.now() + 7 * H), energy_kwh: 30 });
  const tag = first.headers.get('etag');
  // Someone else changes it.
  const other = await put(dep('van-2'), { departure: iso(Date.now() + 7 * H), energy_kwh: 35 }, tokens.admin);
  assert.notEqual(other.headers.get('etag'), tag);
  const stale = await put(dep('van-2'), { departure: iso(Date.now() + 8 * H), energy_kwh: 50 }, tokens.dispatcher,
    { 'If-Match': tag });
  problem(assert, stale, 412, 'If-Match');
  assert.equal((await d.req('GET', dep('van-2'), { token: tokens.viewer })).json.energy_kwh, 35);
  const fresh = await put(dep('van-2'), { departure: iso(Date.now() + 8 * H), energy_kwh: 50 }, tokens.dispatcher,
    { 'If-Match': other.headers.get('etag') });
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal(fresh.json.energy_kwh, 50);
  // If-Match on DELETE too, and "*" matches only an existing departure.
  problem(assert, await d.req('DELETE', dep('van-2'), { token: tokens.dispatcher, headers: { 'If-Match': tag } }), 412,
    'If-Match');
  const del = await d.req('DELETE', dep('van-2'), { token: tokens.dispatcher, headers: { 'If-Match': '*' } });
  assert.equal(del.status, 204);
  assert.equal(del.text, '');
  problem(assert, await put(dep('van-2'), { departure: iso(Date.now() + H), energy_kwh: 5 }, tokens.dispatcher,
    { 'If-Match': '*' }), 412, 'If-Match');
  problem(assert, await d.req('GET', dep('van-2'), { token: tokens.viewer }), 404);
  const [need] = sql(d.db, "SELECT data FROM events WHERE type = 'need' ORDER BY seq DESC LIMIT 1").map((x) => JSON.parse(x.data));
  assert.equal(need.vehicle, 'van-2');
  assert.equal(need.departure, undefined, 'the cleared need is recorded without a departure');
});

test('site limit: a temporary lower limit with an expiry, then cleared; the limit in force follows', async () => {
  const g0 = await d.req('GET', '/api/v1/site/limit', { token: tokens.viewer });
  assert.equal(g0.status, 200);
  assert.equal(g0.json.configured_kw, 100);
  assert.equal(g0.json.in_force_kw, 100);
  assert.equal(g0.json.temporary, null);
  assert.equal(g0.json.control_enabled, true);
  const until = iso(Date.now() + 2 * H);
  const r = await put('/api/v1/site/limit', { kw: 60, until }, tokens.admin);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.in_force_kw, 60);
  assert.deepEqual(r.json.temporary, { kw: 60, until, set_by: 'ops-admin' });
  const ev = lastApiEvent();
  assert.equal(ev.by, 'ops-admin');
  assert.equal(ev.path, '/api/v1/site/limit');
  const [lim] = sql(d.db, "SELECT data FROM events WHERE type = 'site_limit' ORDER BY seq DESC LIMIT 1").map((x) => JSON.parse(x.data));
  assert.equal(lim.kw, 60);
  assert.equal(lim.by, 'ops-admin');
  const metrics = (await d.req('GET', '/metrics', { token: tokens.viewer })).text;
  assert.match(metrics, /^depotd_site_limit_kw 60$/m);

  const cleared = await d.req('DELETE', '/api/v1/site/limit', { token: tokens.admin });
  assert.equal(cleared.status, 200);
  assert.equal(cleared.json.in_force_kw, 100);
  assert.equal(cleared.json.temporary, null);
});

test('site limit: 422 above the configured limit, in the past, too far ahead, missing or unknown members', async () => {
  const until = iso(Date.now() + H);
  const cases = [
    [{ kw: 150, until }, 'kw', /above the configured site limit of 100 kW/],
    [{ kw: -5, until }, 'kw', /from 0/],
    [{ until }, 'kw', /required/],
    [{ kw: 50 }, 'until', /required/],
    [{ kw: 50, until: iso(Date.now() - 1000) }, 'until', /not in the future/],
    [{ kw: 50, until: iso(Date.now() + 8 * 24 * H) }, 'until', /7 days/],
    [{ kw: 50, until, reason: 'dso' }, 'reason', /unknown member/],
  ];
  for (const [body, field, re] of cases) {
    const p = problem(assert, await put('/api/v1/site/limit', body, tokens.admin), 422, field);
    assert.match(p.detail, re);
  }
});

test('site limit without smart charging: 409', async () => {
  const plain = new ApiDepotd({ config: { ...depotConfig(tokens), control: null } });
  try {
    await plain.start();
    const g = await plain.req('GET', '/api/v1/site/limit', { token: tokens.viewer });
    assert.equal(g.json.control_enabled, false);
    assert.equal(g.json.configured_kw, null);
    problem(assert, await plain.req('PUT', '/api/v1/site/limit', { token: tokens.admin,
      body: { kw: 10, until: iso(Date.now() + H) } }), 409);
    problem(assert, await plain.req('GET', dep('van-1'), { token: tokens.viewer }), 404, 'vehicle_id');
  } finally {
    await plain.finish();
  }
});
