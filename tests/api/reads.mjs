// The read routes against what real stations told a real depotd: stations (registry, boot, EVSE status,
// capabilities), sessions (filters, cursor pages, meter values), the event log (cursor pages both ways,
// filters, checked against the SQLite file itself), prices and the vehicle registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiDepotd, bootedStation, depotConfig, iso, makeTokens, problem, sql, statusPayload, txEvent,
} from './lib.mjs';

const tokens = makeTokens();
const T = tokens.viewer;
let d;
const stations = [];
const now = Date.now();

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens) });
  await d.start();
  const cs1 = await bootedStation(d, 'CS1', { password: null });
  const cs2 = await bootedStation(d, 'CS2', { password: null });
  stations.push(cs1, cs2);
  await cs1.ok('StatusNotification', statusPayload(1, 1, 'Available'));
  await cs1.ok('StatusNotification', statusPayload(2, 1, 'Occupied'));
  await cs2.ok('StatusNotification', statusPayload(1, 1, 'Occupied'));
  // A: ended, van-1 (id_tokens[].vehicle), 4 kWh. B: active on CS1 EVSE 2, no vehicle. C: active, van-2.
  const h = 3600e3;
  await cs1.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-A', seqNo: 0, timestamp: iso(now - 3 * h),
    wh: 1000, idToken: 'VAN-1', chargingState: 'Charging' }));
  for (let i = 1; i <= 3; i++)
    await cs1.ok('TransactionEvent', txEvent({ eventType: 'Updated', txId: 'tx-A', seqNo: i,
      timestamp: iso(now - 3 * h + i * 600e3), wh: 1000 + i * 1000 }));
  await cs1.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'tx-A', seqNo: 4, timestamp: iso(now - 2 * h),
    wh: 5000, stoppedReason: 'EVDisconnected' }));
  await cs1.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-B', seqNo: 0, timestamp: iso(now - h),
    wh: 200, evseId: 2, idToken: 'STRANGER' }));
  await cs2.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-C', seqNo: 0, timestamp: iso(now - h / 2),
    wh: 0, idToken: 'VAN-2', chargingState: 'Charging' }));
  await cs2.ok('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase',
    departureTime: iso(now + 4 * h), acChargingParameters: { energyAmount: 30000, evMinCurrent: 6, evMaxCurrent: 16, evMaxVoltage: 400 } } });
});

after(async () => {
  for (const s of stations) await s.close();
  if (d) await d.finish();
});

const get = (p, token = T) => d.req('GET', p, { token });

test('stations: the registry in id order, a cursor page at a time, with boot facts and EVSEs', async () => {
  const all = await get('/api/v1/stations');
  assert.equal(all.status, 200);
  assert.deepEqual(all.json.items.map((s) => s.id), ['CS1', 'CS2']);
  assert.equal(all.json.next_cursor, null);
  const cs1 = all.json.items[0];
  assert.equal(cs1.connected, true);
  assert.equal(cs1.registry_boot, 'Accepted');
  assert.equal(cs1.boot_status, 'Accepted');
  assert.equal(cs1.vendor, 'depotd-itest');
  assert.equal(cs1.model, 'raw-1');
  assert.deepEqual(cs1.evses.map((e) => [e.id, e.connectors.map((c) => c.status)]), [[1, ['Available']], [2, ['Occupied']]]);
  assert.equal(cs1.evses[0].session, null);
  assert.equal(cs1.evses[1].session.id, 'CS1:tx-B');

  const p1 = await get('/api/v1/stations?limit=1');
  assert.deepEqual(p1.json.items.map((s) => s.id), ['CS1']);
  assert.equal(p1.json.next_cursor, 'CS1');
  const p2 = await get(`/api/v1/stations?limit=1&cursor=${p1.json.next_cursor}`);
  assert.deepEqual(p2.json.items.map((s) => s.id), ['CS2']);
  assert.equal(p2.json.next_cursor, null);
});

test('stations: connected filter follows the live connections', async () => {
  const extra = await bootedStation(d, 'CS2', { password: null }); // replaces CS2's connection
  await extra.close();
  let r;
  for (let i = 0; i < 100; i++) {
    r = await get('/api/v1/stations?connected=false');
    if (r.json.items.length) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.deepEqual(r.json.items.map((s) => s.id), ['CS2']);
  assert.deepEqual((await get('/api/v1/stations?connected=true')).json.items.map((s) => s.id), ['CS1']);
  problem(assert, await get('/api/v1/stations?connected=yes'), 400, 'connected');
  // Reconnect CS2 for the tests after this one.
  stations[1] = await bootedStation(d, 'CS2', { password: null });
});

test('a station: capabilities read with GetVariables, EVSE sessions, 404 for an unknown id', async () => {
  const r = await get('/api/v1/stations/CS1');
  assert.equal(r.status, 200);
  assert.equal(r.json.id, 'CS1');
  const caps = Object.fromEntries(r.json.capabilities.map((c) => [c.variable, c.value]));
  assert.equal(caps.RateUnit, 'A,W');
  assert.equal(caps.PeriodsPerSchedule, '24');
  assert.deepEqual(r.json.charging_limits, []);
  problem(assert, await get('/api/v1/stations/NOPE'), 404, 'station_id');
});

test('sessions: newest first, filters by state, station, vehicle and time', async () => {
  const ids = async (q) => {
    const r = await get('/api/v1/sessions' + q);
    assert.equal(r.status, 200, r.text);
    return r.json.items.map((s) => s.id);
  };
  assert.deepEqual(await ids(''), ['CS2:tx-C', 'CS1:tx-B', 'CS1:tx-A']);
  assert.deepEqual(await ids('?active=true'), ['CS2:tx-C', 'CS1:tx-B']);
  assert.deepEqual(await ids('?active=false'), ['CS1:tx-A']);
  assert.deepEqual(await ids('?station=CS1'), ['CS1:tx-B', 'CS1:tx-A']);
  assert.deepEqual(await ids('?vehicle=van-1'), ['CS1:tx-A']);
  assert.deepEqual(await ids('?vehicle=van-2'), ['CS2:tx-C']);
  assert.deepEqual(await ids('?vehicle=van-3'), []);
  assert.deepEqual(await ids(`?since=${iso(now - 90 * 60e3)}`), ['CS2:tx-C', 'CS1:tx-B']);
  assert.deepEqual(await ids(`?until=${iso(now - 150 * 60e3)}`), ['CS1:tx-A']);
  // A UTC offset's '+' arrives as a space unless escaped; both work.
  const plus = new Date(now - 90 * 60e3 + 3600e3).toISOString().replace('Z', '+01:00');
  assert.deepEqual(await ids(`?since=${plus}`), ['CS2:tx-C', 'CS1:tx-B']);
  assert.deepEqual(await ids(`?since=${encodeURIComponent(plus)}`), ['CS2:tx-C', 'CS1:tx-B']);

  const a = (await get('/api/v1/sessions?active=false')).json.items[0];
  assert.equal(a.vehicle, 'van-1');
  assert.equal(a.active, false);
  assert.equal(a.energy_kwh, 4);
  assert.equal(a.stopped_reason, 'EVDisconnected');
  assert.equal(a.started_at, iso(now - 3 * 3600e3));
  assert.equal(a.ended_at, iso(now - 2 * 3600e3));
});

test('sessions: cursor pages cover the list exactly once', async () => {
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 10; i++) {
    const r = await get('/api/v1/sessions?limit=1' + (cursor ? `&cursor=${cursor}` : ''));
    seen.push(...r.json.items.map((s) => s.id));
    cursor = r.json.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, ['CS2:tx-C', 'CS1:tx-B', 'CS1:tx-A']);
  problem(assert, await get('/api/v1/sessions?cursor=abc'), 400, 'cursor');
  problem(assert, await get('/api/v1/sessions?limit=0'), 400, 'limit');
  problem(assert, await get('/api/v1/sessions?limit=501'), 400, 'limit');
  problem(assert, await get('/api/v1/sessions?since=yesterday'), 400, 'since');
  problem(assert, await get('/api/v1/sessions?active=1'), 400, 'active');
});

test('a session: transaction events, meter values in pages, the EV needs while active', async () => {
  const r = await get('/api/v1/sessions/CS1:tx-A');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.transaction_events.map((e) => [e.seq_no, e.event_type]),
    [[0, 'Started'], [1, 'Updated'], [2, 'Updated'], [3, 'Updated'], [4, 'Ended']]);
  const energy = r.json.meter_values.filter((m) => m.measurand === 'Energy.Active.Import.Register');
  assert.deepEqual(energy.map((m) => m.value), [1000, 2000, 3000, 4000, 5000]);
  assert.equal(r.json.meter_values.length, 10);
  assert.equal(r.json.meter_values_next_cursor, null);
  assert.equal(r.json.ev_needs, null);

  const paged = [];
  let c = null;
  for (let i = 0; i < 20; i++) {
    const p = await get('/api/v1/sessions/CS1:tx-A?meter_limit=3' + (c ? `&meter_cursor=${c}` : ''));
    paged.push(...p.json.meter_values);
    c = p.json.meter_values_next_cursor;
    if (!c) break;
  }
  assert.deepEqual(paged, r.json.meter_values);

  const cs = await get('/api/v1/sessions/CS2:tx-C');
  assert.equal(cs.json.vehicle, 'van-2');
  assert.equal(cs.json.ev_needs.energy_kwh, 30);
  assert.equal(cs.json.ev_needs.departure_at, iso(now + 4 * 3600e3));

  problem(assert, await get('/api/v1/sessions/CS1:nope'), 404, 'session_id');
  problem(assert, await get('/api/v1/sessions/tx-A'), 404, 'session_id');
  problem(assert, await get('/api/v1/sessions/CS1:tx-A?meter_limit=0'), 400, 'meter_limit');
  problem(assert, await get('/api/v1/sessions/CS1:tx-A?meter_cursor=x'), 400, 'meter_cursor');
});

async function walk(q, limit) {
  const seqs = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const r = await get(`/api/v1/events?limit=${limit}${q}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= limit);
    seqs.push(...r.json.items.map((e) => e.seq));
    cursor = r.json.next_cursor;
    if (!cursor) return seqs;
  }
  throw new Error('the event pages never ended');
}

// What a viewer may read of the log: all of it but the config and registry events (the admin's, secrets.mjs).
const VIEWABLE = "type NOT IN ('config', 'registry')";

test('events: ascending and descending cursor walks return the log exactly', async () => {
  const asc = await walk('', 7);
  const inDb = sql(d.db, `SELECT seq FROM events WHERE seq <= ${asc[asc.length - 1]} AND ${VIEWABLE} ORDER BY seq`)
    .map((r) => r.seq);
  assert.deepEqual(asc, inDb);
  assert.ok(asc.length > 20);
  const desc = await walk('&order=desc', 9);
  const top = desc[0];
  assert.deepEqual(desc, sql(d.db, `SELECT seq FROM events WHERE seq <= ${top} AND ${VIEWABLE} ORDER BY seq DESC`)
    .map((r) => r.seq));
});

test('events: filters by type, station, time and vehicle agree with the store', async () => {
  const got = await walk('&type=ocpp_in&station=CS2', 5);
  const want = sql(d.db, "SELECT seq FROM events WHERE type='ocpp_in' AND station='CS2' ORDER BY seq").map((r) => r.seq);
  assert.deepEqual(got.slice(0, want.length), want);
  const mid = sql(d.db, 'SELECT time_ms FROM events ORDER BY seq LIMIT 1 OFFSET 10')[0].time_ms;
  const since = await walk(`&since=${iso(mid)}&type=ocpp_in`, 50);
  const wantSince = sql(d.db, `SELECT seq FROM events WHERE time_ms >= ${mid} AND type='ocpp_in' ORDER BY seq`).map((r) => r.seq);
  assert.deepEqual(since.slice(0, wantSince.length), wantSince);
  const until = await walk(`&until=${iso(mid)}&order=desc`, 50);
  assert.deepEqual(until, sql(d.db, `SELECT seq FROM events WHERE time_ms < ${mid} AND ${VIEWABLE} ORDER BY seq DESC`)
    .map((r) => r.seq));

  const r = await get('/api/v1/events?type=ocpp_in&limit=1');
  const e = r.json.items[0];
  assert.equal(e.message_type, 2);
  assert.ok(Array.isArray(e.data), 'a frame comes back as JSON');

  const set = await d.req('PUT', '/api/v1/vehicles/van-1/departure', { token: tokens.dispatcher,
    body: { departure: iso(Date.now() + 5 * 3600e3), energy_kwh: 20 } });
  assert.equal(set.status, 200, set.text);
  const v = await get('/api/v1/events?vehicle=van-1');
  assert.deepEqual(v.json.items.map((x) => x.type).sort(), ['api', 'need']);
  assert.ok(v.json.items.every((x) => x.data.vehicle === 'van-1'));

  problem(assert, await get('/api/v1/events?order=up'), 400, 'order');
  problem(assert, await get('/api/v1/events?cursor=-1'), 400, 'cursor');
  problem(assert, await get('/api/v1/events?until=2024-13-01T00:00:00Z'), 400, 'until');
});

test('prices: per slot with its source, over a range and slot length', async () => {
  const r = await get('/api/v1/prices');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.slot_minutes, 15);
  assert.equal(r.json.items.length, 48 * 4);
  assert.ok(r.json.items.every((p) => p.source === 'fallback' && p.price_per_kwh === 0.3));
  assert.equal(r.json.breaker, 'none');
  const from = '2030-01-01T00:00:00.000Z';
  const h = await get(`/api/v1/prices?from=${from}&to=2030-01-01T03:00:00Z&slot_minutes=60`);
  assert.deepEqual(h.json.items.map((p) => p.start), [from, '2030-01-01T01:00:00.000Z', '2030-01-01T02:00:00.000Z']);
  assert.equal(h.json.items[2].end, '2030-01-01T03:00:00.000Z');
  problem(assert, await get('/api/v1/prices?slot_minutes=7'), 400, 'slot_minutes');
  problem(assert, await get(`/api/v1/prices?from=${from}&to=2029-01-01T00:00:00Z`), 400, 'to');
  problem(assert, await get(`/api/v1/prices?from=${from}&to=2031-01-01T00:00:00Z`), 400, 'to');
  problem(assert, await get('/api/v1/prices?from=soon'), 400, 'from');
});

test('vehicles: the registry with fleets and departures', async () => {
  const r = await get('/api/v1/vehicles');
  assert.deepEqual(r.json.items.map((v) => v.id), ['van-1', 'van-2', 'van-3']);
  assert.deepEqual((await get('/api/v1/vehicles?fleet=north')).json.items.map((v) => v.id), ['van-1']);
  const v3 = await get('/api/v1/vehicles/van-3');
  assert.equal(v3.json.battery_kwh, null);
  assert.equal(v3.json.fleet, null);
  assert.equal(v3.json.departure, null);
  const v1 = await get('/api/v1/vehicles/van-1');
  assert.deepEqual(v1.json.id_tokens, ['VAN-1']);
  assert.equal(v1.json.battery_kwh, 60);
  problem(assert, await get('/api/v1/vehicles/van-9'), 404, 'vehicle_id');
});
