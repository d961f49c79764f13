// The feeder tree through the API (control.circuits, src/api_circuits.c): GET /circuits lists it with the limits
// in force and the plan's load; an admin sets a temporary (lower) limit on one circuit until a time, which the
// next plan keeps to, and clears it; the errors a dispatcher, a typo or an unknown circuit get.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, commandStation, depotConfig, eventually, iso, makeTokens, problem, sql, txEvent } from './lib.mjs';

const tokens = makeTokens();
const H = 3600e3;
let d, cs1;

before(async () => {
  const cfg = depotConfig(tokens);
  cfg.control.failsafe = 'TxDefaultProfile';
  cfg.control.circuits = [
    { id: 'transformer', limit_kw: 90 },
    { id: 'feeder-1', parent: 'transformer', limit_kw: 30, stations: ['CS1'] },
    { id: 'board-2', parent: 'transformer', limit_a: 32, stations: ['CS2'] },
  ];
  d = new ApiDepotd({ config: cfg });
  await d.start();
  cs1 = await commandStation(d, 'CS1'); // answers depotd's CALLs (its profiles: Accepted)
  await cs1.ok('StatusNotification', { timestamp: iso(Date.now()), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
  await cs1.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'T1', seqNo: 0, triggerReason: 'CablePluggedIn',
    idToken: 'VAN-1' }));
});

after(async () => {
  cs1?.close();
  if (d) await d.finish();
});

const circuit = async (id) => (await d.req('GET', '/api/v1/circuits', { token: tokens.viewer })).json.items.find((c) => c.id === id);

test('GET /circuits: the tree, parents first, per-phase in A as kW a phase, and the plan\'s peak on each', async () => {
  const r = await d.req('GET', '/api/v1/circuits', { token: tokens.viewer });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.items.map((c) => [c.id, c.parent, c.per_phase]),
    [['transformer', null, false], ['feeder-1', 'transformer', false], ['board-2', 'transformer', true]]);
  const board = r.json.items[2];
  assert.ok(Math.abs(board.limit_kw - 7.36) < 1e-9, `32 A x 230 V = 7.36 kW a phase: ${board.limit_kw}`);
  // van-1 (max 11 kW) on CS1: the plan gives it its 11 kW, under feeder-1's 30.
  const f1 = await eventually(async () => {
    const c = await circuit('feeder-1');
    return c.planned_peak_kw > 0 && c;
  }, 'a plan with van-1 on feeder-1');
  assert.equal(f1.planned_peak_kw, 11);
  assert.equal(f1.headroom_kw, 19);
  assert.equal(f1.temporary, null);
});

test('a temporary limit on a circuit: planned with at once, logged, shown, then cleared', async () => {
  const before = (await d.req('GET', '/api/v1/plan', { token: tokens.viewer })).json.plan_id;
  const until = iso(Date.now() + 2 * H);
  const r = await d.req('PUT', '/api/v1/circuits/feeder-1/limit', { token: tokens.admin, body: { kw: 5, until } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.limit_in_force_kw, 5);
  assert.deepEqual(r.json.temporary, { kw: 5, until, set_by: 'ops-admin' });
  const plan = await eventually(async () => {
    const p = (await d.req('GET', '/api/v1/plan', { token: tokens.viewer })).json;
    return p.plan_id > before && p;
  }, 'a re-plan');
  const van = plan.evses.find((e) => e.vehicle_id === 'van-1');
  assert.ok(van.kw[0] <= 5.001, `van-1 within feeder-1's 5 kW now: ${van.kw[0]}`);
  const f1 = plan.circuits.find((c) => c.id === 'feeder-1');
  // The least room in any slot: none while the 5 kW hold; after them van-1 takes its 11 kW again (the peak).
  assert.ok(f1.limit_in_force_kw === 5 && Math.abs(f1.headroom_kw) < 0.01 && f1.planned_peak_kw === 11, JSON.stringify(f1));
  const [ev] = sql(d.db, "SELECT data FROM events WHERE type = 'circuit_limit' ORDER BY seq DESC LIMIT 1").map((x) => JSON.parse(x.data));
  assert.deepEqual([ev.circuit, ev.kw, ev.by], ['feeder-1', 5, 'ops-admin']);
  const metrics = (await d.req('GET', '/metrics', { token: tokens.viewer })).text;
  assert.match(metrics, /^depotd_circuit_planned_peak_kw\{circuit="feeder-1"\} [0-9.]+$/m);

  const cleared = await d.req('DELETE', '/api/v1/circuits/feeder-1/limit', { token: tokens.admin });
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.json.temporary, null);
  assert.equal(cleared.json.limit_in_force_kw, 30);
});

test('circuit limits: 422 above the configured one, in the past, unknown members; 404 unknown circuit; 403 dispatcher', async () => {
  const until = iso(Date.now() + H);
  const put = (id, body, token = tokens.admin) => d.req('PUT', `/api/v1/circuits/${id}/limit`, { token, body });
  assert.match(problem(assert, await put('feeder-1', { kw: 31, until }), 422, 'kw').detail,
    /above feeder-1's configured 30 kW; a temporary limit may only lower it/);
  assert.match(problem(assert, await put('board-2', { kw: 8, until }), 422, 'kw').detail, /per phase/);
  problem(assert, await put('feeder-1', { kw: 3, until: iso(Date.now() - H) }), 422, 'until');
  problem(assert, await put('feeder-1', { kw: 3 }), 422, 'until');
  problem(assert, await put('feeder-1', { kw: 3, until, why: 'dso' }), 422, 'why');
  problem(assert, await put('feeder-9', { kw: 3, until }), 404, 'circuit_id');
  problem(assert, await put('feeder-1', { kw: 3, until }, tokens.dispatcher), 403);
  problem(assert, await d.req('DELETE', '/api/v1/circuits/nope/limit', { token: tokens.admin }), 404, 'circuit_id');
});

test('what the stations measure on each circuit now: van-1\'s 7.4 kW on feeder-1 and the transformer above it', async () => {
  await cs1.ok('MeterValues', { evseId: 1, meterValue: [{ timestamp: iso(Date.now()), sampledValue: [
    { value: 7400, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } }] }] });
  const f1 = await eventually(async () => {
    const c = await circuit('feeder-1');
    return c.measured_kw > 0 && c;
  }, 'feeder-1 measured');
  assert.equal(f1.measured_kw, 7.4);
  assert.equal((await circuit('transformer')).measured_kw, 7.4);
  assert.equal((await circuit('board-2')).measured_kw, 0);
  const metrics = (await d.req('GET', '/metrics', { token: tokens.viewer })).text;
  assert.match(metrics, /^depotd_circuit_measured_kw\{circuit="feeder-1"\} 7\.4$/m);
});

test('temporary limits survive a restart: the site\'s and a circuit\'s, until their end; a cleared one stays cleared', async () => {
  const until = iso(Date.now() + 2 * H);
  let r = await d.req('PUT', '/api/v1/circuits/feeder-1/limit', { token: tokens.admin, body: { kw: 7, until } });
  assert.equal(r.status, 200, r.text);
  r = await d.req('PUT', '/api/v1/circuits/transformer/limit', { token: tokens.admin, body: { kw: 60, until } });
  assert.equal(r.status, 200, r.text);
  r = await d.req('DELETE', '/api/v1/circuits/transformer/limit', { token: tokens.admin });
  assert.equal(r.status, 200, r.text);
  r = await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body: { kw: 40, until } });
  assert.equal(r.status, 200, r.text);
  cs1?.close();
  await d.kill9(); // the crash: nothing is written on the way out
  await d.start();
  cs1 = await commandStation(d, 'CS1');
  const site = (await d.req('GET', '/api/v1/site/limit', { token: tokens.viewer })).json;
  assert.deepEqual(site.temporary, { kw: 40, until, set_by: 'ops-admin' }, JSON.stringify(site));
  assert.equal(site.in_force_kw, 40);
  const f1 = await circuit('feeder-1');
  assert.deepEqual(f1.temporary, { kw: 7, until, set_by: 'ops-admin' });
  assert.equal(f1.limit_in_force_kw, 7);
  const tr = await circuit('transformer');
  assert.equal(tr.temporary, null, 'the transformer\'s limit was cleared before the crash');
  assert.match(d.stderrText, /temporary site limit of 40\.0 kW \(set by ops-admin\) restored/);
});
