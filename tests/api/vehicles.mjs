// Vehicles through the API (create, replace, delete with ETag / If-Match, fleet scope, 409/412/422 naming the
// field), sessions matched with an API-registered id token, departures answered with what the plan says
// (feasible, at risk with the shortfall, not plugged in), the plan endpoints (in force, and ?at= from the event
// log), and everything surviving a restart: vehicles and departures are replayed from the event log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, commandStation, depotConfig, eventually, iso, makeTokens, problem, sql, txEvent } from './lib.mjs';

const tokens = makeTokens();
let d, st;
const H = 3600e3;
const V = '/api/v1/vehicles';
const req = (m, p, body, token = tokens.dispatcher, headers = {}) => d.req(m, p, { token, body, headers });

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens) });
  await d.start();
  st = await commandStation(d, 'CS1');
});

after(async () => {
  if (st) await st.close();
  if (d) await d.finish();
});

test('create, read, replace and delete a vehicle; ETag and If-Match; the writes are api events', async () => {
  const body = { id: 'van-9', fleet: 'south', battery_kwh: 75, max_kw: 11, max_dc_kw: 50, id_tokens: ['VAN-9'] };
  const c = await req('POST', V, body);
  assert.equal(c.status, 201, c.text);
  const tag = c.headers.get('etag');
  assert.match(tag, /^"[0-9a-f]{16}"$/);
  assert.deepEqual(c.json, { ...body, departure: null, session: null, etag: tag });
  const [ev] = sql(d.db, "SELECT data FROM events WHERE type = 'api' ORDER BY seq DESC LIMIT 1").map((x) => JSON.parse(x.data));
  assert.equal(ev.status, 201);
  assert.equal(ev.by, 'dispatch-all');
  assert.deepEqual(ev.registry, { ...body });
  problem(assert, await req('POST', V, body), 409, 'id');

  const g = await req('GET', `${V}/van-9`, undefined, tokens.viewer);
  assert.equal(g.status, 200);
  assert.equal(g.headers.get('etag'), tag);
  assert.ok((await req('GET', V, undefined, tokens.viewer)).json.items.some((v) => v.id === 'van-9'));

  const changed = { fleet: 'south', battery_kwh: 80, max_kw: 11, id_tokens: ['VAN-9', 'VAN-9B'] };
  const p = await req('PUT', `${V}/van-9`, changed, tokens.dispatcher, { 'If-Match': tag });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.battery_kwh, 80);
  assert.equal(p.json.max_dc_kw, null, 'PUT replaces: a member left out is unknown');
  assert.notEqual(p.headers.get('etag'), tag);
  problem(assert, await req('PUT', `${V}/van-9`, changed, tokens.dispatcher, { 'If-Match': tag }), 412, 'If-Match');
  problem(assert, await req('DELETE', `${V}/van-9`, undefined, tokens.dispatcher, { 'If-Match': tag }), 412, 'If-Match');
  const n = await req('PUT', `${V}/van-10`, { battery_kwh: 40 });
  assert.equal(n.status, 201, n.text);
  assert.equal(n.json.fleet, null);

  const del = await req('DELETE', `${V}/van-9`, undefined, tokens.dispatcher, { 'If-Match': p.headers.get('etag') });
  assert.equal(del.status, 204, del.text);
  problem(assert, await req('GET', `${V}/van-9`, undefined, tokens.viewer), 404, 'vehicle_id');
  problem(assert, await req('DELETE', `${V}/van-9`), 404, 'vehicle_id');
});

test('422 names the field; id tokens belong to one vehicle (409); viewers cannot write (403)', async () => {
  const cases = [
    [{ id: 'van-11', battery_kwh: -5 }, 'battery_kwh'],
    [{ id: 'van-11', max_kw: 0 }, 'max_kw'],
    [{ id: 'van-11', max_dc_kw: 'fast' }, 'max_dc_kw'],
    [{ id: 'van 11' }, 'id'],
    [{ battery_kwh: 40 }, 'id'],
    [{ id: 'van-11', id_tokens: 'VAN-11' }, 'id_tokens'],
    [{ id: 'van-11', id_tokens: ['A', 'A'] }, 'id_tokens'],
    [{ id: 'van-11', colour: 'white' }, 'colour'],
    [{ id: 'van-11', fleet: '' }, 'fleet'],
  ];
  for (const [body, field] of cases) problem(assert, await req('POST', V, body), 422, field);
  problem(assert, await req('PUT', `${V}/van-11`, { id: 'van-12' }), 422, 'id');
  // VAN-1 is van-1's (config): a second vehicle cannot take it.
  problem(assert, await req('POST', V, { id: 'van-11', id_tokens: ['VAN-1'] }), 409, 'id_tokens');
  problem(assert, await req('POST', V, { id: 'van-11' }, tokens.viewer), 403);
  // A departure asks for more than a smaller battery holds: the battery change is refused.
  await req('PUT', `${V}/van-2/departure`, { departure: iso(Date.now() + 6 * H), energy_kwh: 70 });
  problem(assert, await req('PUT', `${V}/van-2`, { fleet: 'south', battery_kwh: 50, id_tokens: ['VAN-2'] }), 422, 'battery_kwh');
});

test('the registry is listed in id order, paged with a cursor, filtered by fleet', async () => {
  for (const id of ['pg-c', 'pg-a', 'pg-e', 'pg-b', 'pg-d']) {
    const c = await req('POST', V, { id, fleet: 'paging', battery_kwh: 50 });
    assert.equal(c.status, 201, c.text);
  }
  const seen = [];
  let cursor = '';
  for (let page = 0; page < 10; page++) {
    const r = await req('GET', `${V}?fleet=paging&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, tokens.viewer);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= 2);
    seen.push(...r.json.items.map((v) => v.id));
    if (r.json.next_cursor === null) break;
    cursor = r.json.next_cursor;
  }
  assert.deepEqual(seen, ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e']);
  const all = (await req('GET', `${V}?limit=500`, undefined, tokens.viewer)).json.items.map((v) => v.id);
  assert.deepEqual(all, [...all].sort(), 'id order');
  problem(assert, await req('GET', `${V}?limit=0`, undefined, tokens.viewer), 400, 'limit');
  for (const id of ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e']) assert.equal((await req('DELETE', `${V}/${id}`)).status, 204);
});

test('fleet scope: a fleet dispatcher creates and changes only its fleet\'s vehicles', async () => {
  const own = await req('POST', V, { id: 'north-5', battery_kwh: 60 }, tokens.north);
  assert.equal(own.status, 201, own.text);
  assert.equal(own.json.fleet, 'north', 'a fleet token registers in its fleet');
  problem(assert, await req('POST', V, { id: 'south-5', fleet: 'south' }, tokens.north), 403, 'fleet');
  problem(assert, await req('PUT', `${V}/van-2`, { fleet: 'north' }, tokens.north), 403, 'fleet');
  problem(assert, await req('PUT', `${V}/north-5`, { fleet: 'south' }, tokens.north), 403, 'fleet');
  problem(assert, await req('DELETE', `${V}/van-2`, undefined, tokens.north), 403, 'fleet');
  assert.equal((await req('DELETE', `${V}/north-5`, undefined, tokens.north)).status, 204);
});

test('id tokens: a right of their own; a config mapping stays; another fleet\'s owner is not named', async () => {
  // Without manage_tokens a dispatcher registers and changes vehicles, but gives none a new card.
  const p = problem(assert, await req('POST', V, { id: 'north-6', id_tokens: ['ANY-CARD-1'] }, tokens.north), 403,
    'id_tokens');
  assert.match(p.detail, /manage_tokens/);
  assert.equal((await req('POST', V, { id: 'north-6', battery_kwh: 60 }, tokens.north)).status, 201);
  problem(assert, await req('PUT', `${V}/north-6`, { battery_kwh: 60, id_tokens: ['ANY-CARD-1'] }, tokens.north), 403,
    'id_tokens');
  const withCard = await req('PUT', `${V}/north-6`, { battery_kwh: 60, id_tokens: ['NORTH-CARD-6'] }, tokens.northCards);
  assert.equal(withCard.status, 200, withCard.text);
  const dropped = await req('PUT', `${V}/north-6`, { battery_kwh: 60, id_tokens: [] }, tokens.north);
  assert.equal(dropped.status, 200, `taking a card away needs no right: ${dropped.text}`);
  // VAN-1 is the config's (id_tokens[0].vehicle van-1): no one takes it over through the API.
  const cfg = problem(assert, await req('PUT', `${V}/north-6`, { battery_kwh: 60, id_tokens: ['VAN-1'] }, tokens.admin),
    409, 'id_tokens');
  assert.match(cfg.detail, /config/);
  // VAN-2 is van-2's (fleet south): a north dispatcher learns it is taken, not by which vehicle.
  const other = problem(assert, await req('PUT', `${V}/north-6`, { battery_kwh: 60, id_tokens: ['VAN-2'] },
    tokens.northCards), 409, 'id_tokens');
  assert.ok(!other.detail.includes('van-2'), other.detail);
  assert.match(other.detail, /another fleet/);
  const named = problem(assert, await req('PUT', `${V}/north-6`, { battery_kwh: 60, id_tokens: ['VAN-2'] }), 409,
    'id_tokens');
  assert.match(named.detail, /van-2/, 'a dispatcher of every fleet is told which vehicle');
  assert.equal((await req('DELETE', `${V}/north-6`, undefined, tokens.north)).status, 204);
});

test('a vehicle registered through the API is matched to a new session by its id token; delete is 409 while plugged in', async () => {
  const c = await req('POST', V, { id: 'van-7', fleet: 'south', battery_kwh: 60, max_kw: 11, id_tokens: ['VAN-7'] });
  assert.equal(c.status, 201, c.text);
  await st.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-7', seqNo: 0, wh: 1000, idToken: 'VAN-7',
    chargingState: 'Charging' }));
  const v = await req('GET', `${V}/van-7`, undefined, tokens.viewer);
  assert.deepEqual(v.json.session, { station_id: 'CS1', evse_id: 1, transaction_id: 'tx-7' });
  const s = await req('GET', '/api/v1/sessions?vehicle=van-7', undefined, tokens.viewer);
  assert.equal(s.json.items.length, 1, s.text);
  assert.equal(s.json.items[0].vehicle, 'van-7');
  problem(assert, await req('DELETE', `${V}/van-7`), 409, 'vehicle_id');
});

test('a departure is answered with the plan that includes it: feasible, or at risk with the shortfall', async () => {
  const ok = await req('PUT', `${V}/van-7/departure`, { departure: iso(Date.now() + 8 * H), energy_kwh: 20 });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.plan.status, 'feasible', ok.text);
  assert.equal(ok.json.plan.feasible, true);
  assert.ok(Number.isInteger(ok.json.plan.plan_id));
  assert.equal(ok.json.plan.shortfall_kwh, 0);
  assert.ok(ok.json.plan.planned_kwh > 18, ok.text);
  // 50 kWh in 30 minutes at 11 kW cannot be done: at risk, and by about 50 - 5.5 kWh.
  const risky = await req('PUT', `${V}/van-7/departure`, { departure: iso(Date.now() + 0.5 * H), energy_kwh: 50 });
  assert.equal(risky.status, 200, risky.text);
  assert.equal(risky.json.plan.status, 'at_risk', risky.text);
  assert.equal(risky.json.plan.feasible, false);
  assert.ok(risky.json.plan.plan_id > ok.json.plan.plan_id);
  assert.ok(risky.json.plan.shortfall_kwh > 40 && risky.json.plan.shortfall_kwh < 50, risky.text);
  // The plan in force shows it at risk; the write's api event was recorded before the answer.
  const plan = await eventually(async () => {
    const p = await req('GET', '/api/v1/plan', undefined, tokens.viewer);
    return p.json && p.json.plan_id >= risky.json.plan.plan_id && p;
  }, 'the risky plan in force');
  assert.equal(plan.json.source, 'memory');
  const e = plan.json.evses.find((x) => x.vehicle_id === 'van-7');
  assert.ok(e && e.at_risk && e.need_source === 'dispatcher', plan.text);
  assert.deepEqual(plan.json.sessions_at_risk.map((x) => x.vehicle_id), ['van-7']);
  assert.equal(e.kw.length, plan.json.slots.length);
  assert.ok(plan.json.slots.every((s) => s.site_limit_kw === 100 && s.site_kw <= 100 + 1e-6 && s.price_source));
  assert.ok(Math.abs(plan.json.slots[0].site_kw - e.kw[0]) < 1e-6);
  const [ev] = sql(d.db, "SELECT data FROM events WHERE type = 'api' AND data LIKE '%van-7/departure%' ORDER BY seq DESC LIMIT 1")
    .map((x) => JSON.parse(x.data));
  assert.equal(ev.request.energy_kwh, 50);
  // Not plugged in: said at once.
  const np = await req('PUT', `${V}/van-1/departure`, { departure: iso(Date.now() + 5 * H), energy_kwh: 10 });
  assert.equal(np.json.plan.status, 'not_plugged_in', np.text);
});

test('metrics: messages by action and result, plan durations, solver status, site power vs limit, sessions at risk', async () => {
  // A CALL depotd does not know: answered with a CALLERROR, counted by its code.
  st.send([2, 'm-unknown-1', 'FrobnicateWidget', {}]);
  const text = await eventually(async () => {
    const m = await req('GET', '/metrics', undefined, tokens.viewer);
    return /action="FrobnicateWidget"/.test(m.text) && m.text;
  }, 'the unknown action counted');
  const value = (re) => {
    const m = new RegExp('^' + re + ' (\\S+)$', 'm').exec(text);
    assert.ok(m, `metric ${re} in\n${text}`);
    return Number(m[1]);
  };
  assert.ok(value('depotd_ocpp_messages_total\\{direction="in",type="call",action="BootNotification",status="ok"\\}') >= 1);
  assert.ok(value('depotd_ocpp_messages_total\\{direction="in",type="call",action="TransactionEvent",status="ok"\\}') >= 1);
  assert.ok(value('depotd_ocpp_messages_total\\{direction="out",type="callresult",action="TransactionEvent",status="ok"\\}') >= 1);
  assert.ok(value('depotd_ocpp_messages_total\\{direction="in",type="callresult",action="SetChargingProfile",status="ok"\\}') >= 1);
  const err = /^depotd_ocpp_messages_total\{direction="out",type="callerror",action="FrobnicateWidget",status="(\w+)"\} 1$/m.exec(text);
  assert.ok(err && err[1] !== 'ok', text);
  const count = value('depotd_plan_duration_seconds_count');
  assert.ok(count >= 2, `plans counted: ${count}`);
  assert.equal(value('depotd_plan_duration_seconds_bucket\\{le="\\+Inf"\\}'), count);
  assert.ok(value('depotd_plan_duration_seconds_bucket\\{le="10"\\}') <= count);
  assert.ok(value('depotd_plan_duration_seconds_sum') > 0);
  assert.equal(value('depotd_plan_solver_status\\{method="\\w+",status="solved"\\}'), 1);
  assert.equal(value('depotd_sessions_at_risk'), 1, 'van-7 cannot get 50 kWh in 30 minutes');
  assert.equal(value('depotd_site_limit_kw'), 100);
  assert.ok(value('depotd_site_planned_kw') <= 100);
  assert.ok(value('depotd_site_measured_kw') >= 0);
  assert.match(text, /^depotd_price_breaker_state\{provider="[^"]+",state="closed"\} [01]$/m);
});

test('plan?at=: the plan in force then, with its inputs, from the event log', async () => {
  const now = await req('GET', '/api/v1/plan', undefined, tokens.viewer);
  const at = await req('GET', `/api/v1/plan?at=${encodeURIComponent(iso(Date.now() + 1000))}`, undefined, tokens.viewer);
  assert.equal(at.status, 200, at.text);
  assert.equal(at.json.source, 'event_log');
  assert.ok(at.json.plan_id >= now.json.plan_id);
  assert.equal(at.json.inputs.plan, at.json.plan_id);
  assert.equal(at.json.inputs.prices.length, at.json.slots.length);
  assert.ok(Array.isArray(at.json.inputs.sessions));
  assert.ok(at.json.evses.some((x) => x.vehicle_id === 'van-7'));
  const [row] = sql(d.db, `SELECT type FROM events WHERE seq = ${at.json.event_seq}`);
  assert.equal(row.type, 'plan');
  problem(assert, await req('GET', '/api/v1/plan?at=2001-01-01T00:00:00Z', undefined, tokens.viewer), 404, 'at');
  problem(assert, await req('GET', '/api/v1/plan?at=yesterday', undefined, tokens.viewer), 400, 'at');
});

test('vehicles and departures survive a restart (replayed from the event log on top of the config)', async () => {
  // van-3 comes from the config: deleting it through the API must hold across restarts too.
  assert.equal((await req('DELETE', `${V}/van-3`)).status, 204);
  const soon = await req('PUT', `${V}/van-1/departure`, { departure: iso(Date.now() + 1500), energy_kwh: 5 });
  assert.equal(soon.status, 200, soon.text);
  const before = (await req('GET', `${V}/van-2`, undefined, tokens.viewer)).json;
  assert.equal(before.departure.energy_kwh, 70);
  await st.close();
  st = null;
  await new Promise((r) => setTimeout(r, 1600));
  await d.stop();
  await d.start();
  const after = await req('GET', V, undefined, tokens.viewer);
  const ids = after.json.items.map((v) => v.id).sort();
  assert.deepEqual(ids, ['van-1', 'van-10', 'van-2', 'van-7']);
  const v2 = after.json.items.find((v) => v.id === 'van-2');
  assert.deepEqual({ ...v2, session: undefined }, { ...before, session: undefined });
  assert.equal(v2.departure.set_by, 'dispatch-all');
  assert.equal(after.json.items.find((v) => v.id === 'van-1').departure, null, 'a departure that passed is dropped');
  assert.deepEqual(after.json.items.find((v) => v.id === 'van-7').id_tokens, ['VAN-7']);
  assert.match(d.stderrText, /replayed \d+ vehicle and departure writes/);
});
