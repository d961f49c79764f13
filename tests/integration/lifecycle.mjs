// A station's life against a real depotd, checked on the wire and in the store: boot (B01-B03), status,
// heartbeat, authorization (C01), transactions (E01-E07) with idempotent and offline events, EV charging needs
// (K17), capability reads, a replaced connection, a restart in the middle of a transaction, and projections
// rebuilt from the event log equal to the live ones.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  Depotd, DEPOTD, WAIT_MS, connectRaw, stationEntries, bootedStation, sql, eventually, newId, bootPayload,
  statusPayload, txEvent, isoNow,
} from './lib.mjs';

const HEARTBEAT_S = 120;
const RETRY_S = 30;
let depotd;
const open = [];

before(async () => {
  depotd = new Depotd({
    config: {
      heartbeat_interval_s: HEARTBEAT_S,
      pending_retry_interval_s: RETRY_S,
      stations: [
        ...stationEntries(['ACC', 'TX', 'OFF', 'NEEDS', 'CAPS', 'REPL', 'RST']),
        ...stationEntries(['PEND'], { boot: 'Pending' }),
        ...stationEntries(['REJ'], { boot: 'Rejected' }),
      ],
      id_tokens: [{ id_token: 'VAN-0001', type: 'ISO14443', vehicle: 'van-1' }],
    },
  });
  await depotd.start();
});

after(async () => {
  for (const c of open) c.terminate();
  const sanitizer = depotd?.sanitizerReports() ?? [];
  await depotd?.cleanup();
  assert.deepEqual(sanitizer, [], 'no sanitizer report on depotd stderr');
});

async function station(id) {
  const c = await connectRaw(depotd.url(id));
  open.push(c);
  return c;
}

const one = (q) => sql(depotd.db, q)[0];
const msOf = (iso) => Date.parse(iso);

test('BootNotification: Accepted gets the heartbeat interval, Pending and Rejected the retry interval', async () => {
  const cases = [['ACC', 'Accepted', HEARTBEAT_S], ['PEND', 'Pending', RETRY_S], ['REJ', 'Rejected', RETRY_S]];
  for (const [id, status, interval] of cases) {
    const c = await station(id);
    const res = await c.ok('BootNotification', bootPayload());
    assert.equal(res.status, status, id);
    assert.equal(res.interval, interval, id);
    assert.ok(Math.abs(msOf(res.currentTime) - Date.now()) < 10000, `${id} currentTime is now: ${res.currentTime}`);
    // The answer is sent after the BootNotification's event is committed: the station row already shows it.
    const row = one(`SELECT vendor, model, boot_reason FROM stations WHERE id='${id}'`);
    assert.deepEqual(row, { vendor: 'depotd-itest', model: 'raw-1', boot_reason: 'PowerUp' });
    // boot_status comes from depotd's answer frame, logged as it is sent: committed a moment later.
    await eventually(() => one(`SELECT boot_status FROM stations WHERE id='${id}'`).boot_status === status,
      `${id} boot_status ${status}`);
    if (status !== 'Accepted') {
      // B02/B03: until Accepted, anything but BootNotification is refused.
      const hid = newId('hb');
      const hb = await c.call('Heartbeat', {}, hid);
      assert.deepEqual(hb.slice(0, 3), [4, hid, 'SecurityError'], `${id} Heartbeat before Accepted`);
      const sid = newId('st');
      const st = await c.call('StatusNotification', statusPayload(), sid);
      assert.deepEqual(st.slice(0, 3), [4, sid, 'SecurityError'], `${id} StatusNotification before Accepted`);
      assert.equal(c.serverCalls.length, 0, `depotd sends no GetVariables to a ${status} station`);
    }
  }
});

test('StatusNotification is stored per connector; Heartbeat gives the current time', async () => {
  const c = open.find((x) => x === open[0]); // ACC, booted above
  const ts = isoNow(-1000);
  assert.deepEqual(await c.ok('StatusNotification', statusPayload(1, 1, 'Occupied', ts)), {});
  assert.deepEqual(await c.ok('StatusNotification', statusPayload(2, 1, 'Available', ts)), {});
  const rows = sql(depotd.db, "SELECT evse_id, connector_id, status, updated_ms FROM connectors WHERE station='ACC' ORDER BY evse_id");
  assert.deepEqual(rows, [
    { evse_id: 1, connector_id: 1, status: 'Occupied', updated_ms: msOf(ts) },
    { evse_id: 2, connector_id: 1, status: 'Available', updated_ms: msOf(ts) },
  ]);
  // An older status (a replay) does not overwrite the newer one.
  await c.ok('StatusNotification', statusPayload(1, 1, 'Faulted', isoNow(-60000)));
  assert.equal(one("SELECT status FROM connectors WHERE station='ACC' AND evse_id=1").status, 'Occupied');
  const hb = await c.ok('Heartbeat', {});
  assert.ok(Math.abs(msOf(hb.currentTime) - Date.now()) < 10000, hb.currentTime);
});

test('Authorize: a listed token is Accepted, an unknown one Invalid', async () => {
  const c = open[0];
  const known = await c.ok('Authorize', { idToken: { idToken: 'VAN-0001', type: 'ISO14443' } });
  assert.equal(known.idTokenInfo.status, 'Accepted');
  const unknown = await c.ok('Authorize', { idToken: { idToken: 'STRANGER-9', type: 'ISO14443' } });
  assert.equal(unknown.idTokenInfo.status, 'Invalid');
  const wrongType = await c.ok('Authorize', { idToken: { idToken: 'VAN-0001', type: 'eMAID' } });
  assert.equal(wrongType.idTokenInfo.status, 'Invalid', 'the token type is part of the identity');
});

test('a full transaction: Started, Updated with meter values, Ended', async () => {
  const c = await station('TX');
  await c.ok('BootNotification', bootPayload());
  const t0 = Date.now() - 60000;
  const at = (s) => new Date(t0 + s * 1000).toISOString();
  const txId = 'TX-FULL-1';
  const started = await c.ok('TransactionEvent', txEvent({ eventType: 'Started', txId, seqNo: 0, timestamp: at(0),
    wh: 1000, idToken: 'VAN-0001', chargingState: 'EVConnected' }));
  assert.equal(started.idTokenInfo.status, 'Accepted');
  let row = one(`SELECT ended_ms, started_ms, charging_state, id_token, evse_id FROM transactions WHERE station='TX' AND id='${txId}'`);
  assert.deepEqual(row, { ended_ms: null, started_ms: t0, charging_state: 'EVConnected', id_token: 'VAN-0001', evse_id: 1 });
  for (const [seq, wh] of [[1, 2500], [2, 4000]])
    assert.deepEqual(await c.ok('TransactionEvent', txEvent({ eventType: 'Updated', txId, seqNo: seq, timestamp: at(seq * 10),
      wh, chargingState: 'Charging' })), {});
  row = one(`SELECT charging_state, energy_last_wh, events FROM transactions WHERE station='TX' AND id='${txId}'`);
  assert.deepEqual(row, { charging_state: 'Charging', energy_last_wh: 4000, events: 3 });
  const ended = await c.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId, seqNo: 3, timestamp: at(40), wh: 5000,
    idToken: 'VAN-0001', chargingState: 'Idle', stoppedReason: 'Local' }));
  assert.equal(ended.idTokenInfo.status, 'Accepted');
  row = one(`SELECT * FROM transactions WHERE station='TX' AND id='${txId}'`);
  assert.equal(row.started_ms, t0);
  assert.equal(row.ended_ms, t0 + 40000);
  assert.equal(row.stopped_reason, 'Local');
  assert.equal(row.energy_first_wh, 1000);
  assert.equal(row.energy_last_wh, 5000);
  assert.equal(row.seq_max, 3);
  assert.equal(row.events, 4);
  const evs = sql(depotd.db, `SELECT seq_no, event_type, time_ms FROM transaction_events WHERE station='TX' AND transaction_id='${txId}' ORDER BY seq_no`);
  assert.deepEqual(evs.map((e) => [e.seq_no, e.event_type, e.time_ms]),
    [[0, 'Started', t0], [1, 'Updated', t0 + 10000], [2, 'Updated', t0 + 20000], [3, 'Ended', t0 + 40000]]);
  const mv = sql(depotd.db, `SELECT measurand, value FROM meter_values WHERE station='TX' AND transaction_id='${txId}' AND measurand='Energy.Active.Import.Register' ORDER BY time_ms`);
  assert.deepEqual(mv.map((m) => m.value), [1000, 2500, 4000, 5000]);
  assert.equal(one(`SELECT count(*) AS n FROM meter_values WHERE station='TX' AND transaction_id='${txId}'`).n, 8,
    'both sampled values of each meter value are kept');
});

test('idempotency: the same (transactionId, seqNo) twice is one row in transaction_events', async () => {
  const c = open.find((x) => x.ws.url.endsWith('/TX'));
  const txId = 'TX-IDEM-1';
  const ts = isoNow(-5000);
  await c.ok('TransactionEvent', txEvent({ eventType: 'Started', txId, seqNo: 0, timestamp: ts, wh: 100 }));
  const upd = txEvent({ eventType: 'Updated', txId, seqNo: 1, timestamp: isoNow(-4000), wh: 200 });
  await c.ok('TransactionEvent', upd);
  // The station lost our answer and sends the same event again under a new message id (E.g. after a reconnect).
  await c.ok('TransactionEvent', upd);
  // And once more under the same message id: a retransmission, answered again, applied once.
  const id = newId('retx');
  const first = await c.call('TransactionEvent', { ...upd, seqNo: 2, timestamp: isoNow(-3000), meterValue: undefined }, id);
  const again = await c.call('TransactionEvent', { ...upd, seqNo: 2, timestamp: isoNow(-3000), meterValue: undefined }, id);
  assert.equal(first[0], 3);
  assert.equal(again[0], 3);
  const evs = sql(depotd.db, `SELECT seq_no, count(*) AS n FROM transaction_events WHERE station='TX' AND transaction_id='${txId}' GROUP BY seq_no ORDER BY seq_no`);
  assert.deepEqual(evs, [{ seq_no: 0, n: 1 }, { seq_no: 1, n: 1 }, { seq_no: 2, n: 1 }]);
  const tx = one(`SELECT events, energy_last_wh FROM transactions WHERE station='TX' AND id='${txId}'`);
  assert.deepEqual(tx, { events: 3, energy_last_wh: 200 });
  assert.equal(one(`SELECT count(*) AS n FROM meter_values WHERE station='TX' AND transaction_id='${txId}'`).n, 4,
    'the repeated event adds no meter values');
});

test('offline events out of timestamp order, and a late Ended, still give the right transaction', async () => {
  const c = await station('OFF');
  await c.ok('BootNotification', bootPayload());
  const t0 = Date.now() - 3600000;
  const at = (min) => new Date(t0 + min * 60000).toISOString();
  // A: replayed out of order, the Ended comes last.
  const a = 'TX-OFF-A';
  const sendA = [
    { eventType: 'Started', seqNo: 0, timestamp: at(0), wh: 10, chargingState: 'Charging' },
    { eventType: 'Updated', seqNo: 2, timestamp: at(20), wh: 30, offline: true, chargingState: 'SuspendedEV' },
    { eventType: 'Updated', seqNo: 1, timestamp: at(10), wh: 20, offline: true, chargingState: 'Charging' },
    { eventType: 'Ended', seqNo: 3, timestamp: at(30), wh: 40, offline: true, chargingState: 'Idle', stoppedReason: 'EVDisconnected' },
  ];
  for (const e of sendA) await c.ok('TransactionEvent', txEvent({ txId: a, ...e }));
  let row = one(`SELECT started_ms, ended_ms, energy_first_wh, energy_last_wh, charging_state, events, seq_max FROM transactions WHERE station='OFF' AND id='${a}'`);
  assert.deepEqual(row, { started_ms: t0, ended_ms: t0 + 30 * 60000, energy_first_wh: 10, energy_last_wh: 40,
    charging_state: 'Idle', events: 4, seq_max: 3 });
  // B: the Ended arrives before the offline Updated events that happened earlier; it must stay ended with
  // the values of the latest timestamp.
  const b = 'TX-OFF-B';
  const sendB = [
    { eventType: 'Updated', seqNo: 1, timestamp: at(15), wh: 150, offline: true, chargingState: 'Charging' },
    { eventType: 'Ended', seqNo: 3, timestamp: at(45), wh: 450, offline: true, chargingState: 'Idle', stoppedReason: 'Local' },
    { eventType: 'Started', seqNo: 0, timestamp: at(5), wh: 50, offline: true, chargingState: 'EVConnected' },
    { eventType: 'Updated', seqNo: 2, timestamp: at(30), wh: 300, offline: true, chargingState: 'Charging' },
  ];
  for (const e of sendB) await c.ok('TransactionEvent', txEvent({ txId: b, ...e }));
  row = one(`SELECT started_ms, ended_ms, energy_first_wh, energy_last_wh, charging_state, stopped_reason, events, seq_max, evse_id FROM transactions WHERE station='OFF' AND id='${b}'`);
  assert.deepEqual(row, { started_ms: t0 + 5 * 60000, ended_ms: t0 + 45 * 60000, energy_first_wh: 50, energy_last_wh: 450,
    charging_state: 'Idle', stopped_reason: 'Local', events: 4, seq_max: 3, evse_id: 1 });
  const offline = sql(depotd.db, `SELECT seq_no, offline FROM transaction_events WHERE station='OFF' AND transaction_id='${b}' ORDER BY seq_no`);
  assert.deepEqual(offline.map((r) => r.offline), [1, 1, 1, 1]);
});

test('NotifyEVChargingNeeds is stored in ev_needs', async () => {
  const c = await station('NEEDS');
  await c.ok('BootNotification', bootPayload());
  const departure = new Date(Math.floor(Date.now() / 1000) * 1000 + 8 * 3600000).toISOString();
  const res = await c.ok('NotifyEVChargingNeeds', {
    evseId: 1,
    chargingNeeds: {
      requestedEnergyTransfer: 'AC_three_phase',
      departureTime: departure,
      acChargingParameters: { energyAmount: 42000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 },
    },
  });
  assert.equal(res.status, 'Accepted');
  const row = one("SELECT evse_id, departure_ms, energy_wh, requested_transfer, ev_max_current_a, ev_max_voltage_v FROM ev_needs WHERE station='NEEDS'");
  assert.deepEqual(row, { evse_id: 1, departure_ms: msOf(departure), energy_wh: 42000, requested_transfer: 'AC_three_phase',
    ev_max_current_a: 32, ev_max_voltage_v: 400 });
  // A newer report of the same EVSE replaces it.
  await c.ok('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'DC',
    dcChargingParameters: { evMaxCurrent: 200, evMaxVoltage: 800, evMaxPower: 150000, stateOfCharge: 35, energyAmount: 30000 } } });
  const dc = sql(depotd.db, "SELECT requested_transfer, ev_max_power_w, state_of_charge, energy_wh FROM ev_needs WHERE station='NEEDS'");
  assert.deepEqual(dc, [{ requested_transfer: 'DC', ev_max_power_w: 150000, state_of_charge: 35, energy_wh: 30000 }]);
});

test('capabilities are read with GetVariables after boot and after a new EVSE, and stored', async () => {
  const c = await station('CAPS');
  await c.ok('BootNotification', bootPayload());
  // First how many items one GetVariables may carry (the test station says 4), then the capabilities in
  // requests of at most that many.
  const [limit] = await c.waitServerCalls((f) => f[2] === 'GetVariables', 1, 'GetVariables after boot');
  assert.deepEqual(limit[3].getVariableData, [{ component: { name: 'DeviceDataCtrlr' },
    variable: { name: 'ItemsPerMessage', instance: 'GetVariables' } }]);
  const gvs = await c.waitServerCalls((f) => f[2] === 'GetVariables', 3, 'the capability reads');
  const items = gvs.slice(1).flatMap((f) => f[3].getVariableData);
  assert.ok(gvs.every((f) => f[3].getVariableData.length <= 4), JSON.stringify(gvs));
  const names = items.map((d) => `${d.component.name}/${d.variable.name}`);
  assert.deepEqual(names, ['SmartChargingCtrlr/Enabled', 'SmartChargingCtrlr/LimitChangeSignificance',
    'SmartChargingCtrlr/PeriodsPerSchedule', 'SmartChargingCtrlr/ProfileStackLevel', 'SmartChargingCtrlr/RateUnit',
    'SmartChargingCtrlr/Entries', 'ChargingStation/SupplyPhases']);
  const caps = await eventually(() => {
    const r = sql(depotd.db, "SELECT component, variable, variable_instance, value, status FROM capabilities WHERE station='CAPS' AND evse_id=0 AND component <> 'DeviceDataCtrlr' ORDER BY component, variable, variable_instance");
    return r.length >= items.length ? r : null;
  }, 'station capabilities stored');
  assert.deepEqual(caps.find((r) => r.variable === 'Enabled'), { component: 'SmartChargingCtrlr', variable: 'Enabled',
    variable_instance: '', value: 'true', status: 'Accepted' });
  assert.equal(caps.find((r) => r.variable === 'Entries' && r.variable_instance === 'ChargingProfiles')?.value, '16');
  await c.ok('StatusNotification', statusPayload(3, 1, 'Available'));
  const calls = await c.waitServerCalls((f) => f[2] === 'GetVariables', 4, 'GetVariables after a new EVSE');
  const evseItems = calls[3][3].getVariableData;
  assert.ok(evseItems.every((d) => d.component.name === 'EVSE' && d.component.evse.id === 3), JSON.stringify(evseItems));
  const evse = await eventually(() => {
    const r = sql(depotd.db, "SELECT variable, attribute_type, value FROM capabilities WHERE station='CAPS' AND component='EVSE' AND evse_id=3 ORDER BY variable");
    return r.length >= evseItems.length ? r : null;
  }, 'EVSE capabilities stored');
  assert.deepEqual(evse, [{ variable: 'Power', attribute_type: 'MaxSet', value: '22000' },
    { variable: 'SupplyPhases', attribute_type: 'Actual', value: '3' }]);
  // The same EVSE again is not read again.
  await c.ok('StatusNotification', statusPayload(3, 1, 'Occupied'));
  await c.ok('Heartbeat', {});
  assert.equal(c.serverCalls.length, 4);
});

test('a second connection with the same station id replaces the first', async () => {
  const first = await station('REPL');
  await first.ok('BootNotification', bootPayload());
  const second = await station('REPL');
  const closed = await first.closedPromise;
  assert.equal(closed.code, 1008, `old socket closed with policy violation: ${JSON.stringify(closed)}`);
  const boot = await second.ok('BootNotification', bootPayload());
  assert.equal(boot.status, 'Accepted');
  await second.ok('Heartbeat', {});
  const ev = sql(depotd.db, "SELECT type, data FROM events WHERE station='REPL' AND type IN ('connect','disconnect') ORDER BY seq");
  assert.deepEqual(ev.map((e) => e.type), ['connect', 'disconnect', 'connect']);
  assert.equal(JSON.parse(ev[1].data).reason, 'replaced');
  assert.equal(one("SELECT connected FROM stations WHERE id='REPL'").connected, 1);
  // Only one session: when the new one closes the station is disconnected once, and can come back.
  await second.close();
  await eventually(() => one("SELECT connected FROM stations WHERE id='REPL'").connected === 0, 'REPL disconnected');
  assert.equal(one("SELECT count(*) AS n FROM events WHERE station='REPL' AND type='disconnect'").n, 2);
  const third = await station('REPL');
  await third.ok('BootNotification', bootPayload());
  await third.ok('Heartbeat', {});
});

test('restart (SIGTERM, start on the same DB): a running transaction is still running and can be ended', async () => {
  let c = await station('RST');
  await c.ok('BootNotification', bootPayload());
  const txId = 'TX-RST-1';
  await c.ok('TransactionEvent', txEvent({ eventType: 'Started', txId, seqNo: 0, wh: 0, idToken: 'VAN-0001' }));
  await c.ok('TransactionEvent', txEvent({ eventType: 'Updated', txId, seqNo: 1, wh: 700, chargingState: 'Charging' }));
  const closedBefore = c.closedPromise;
  const exit = await depotd.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  await closedBefore;
  assert.equal(one(`SELECT count(*) AS n FROM transactions WHERE station='RST' AND id='${txId}' AND ended_ms IS NULL`).n, 1);
  const active = sql(depotd.db, 'SELECT count(*) AS n FROM transactions WHERE ended_ms IS NULL')[0].n;
  await depotd.start();
  assert.match(depotd.stderr(), new RegExp(`${active} transactions active`));
  assert.equal(one("SELECT connected FROM stations WHERE id='RST'").connected, 0, 'nobody is connected after a start');
  c = await station('RST');
  await c.ok('BootNotification', bootPayload('PowerUp'));
  await c.ok('TransactionEvent', txEvent({ eventType: 'Updated', txId, seqNo: 2, wh: 1400, chargingState: 'Charging' }));
  assert.equal(one(`SELECT ended_ms FROM transactions WHERE station='RST' AND id='${txId}'`).ended_ms, null);
  await c.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId, seqNo: 3, wh: 2100, stoppedReason: 'Local' }));
  const row = one(`SELECT ended_ms, energy_first_wh, energy_last_wh, events, seq_max FROM transactions WHERE station='RST' AND id='${txId}'`);
  assert.ok(row.ended_ms > 0);
  assert.deepEqual({ ...row, ended_ms: 1 }, { ended_ms: 1, energy_first_wh: 0, energy_last_wh: 2100, events: 4, seq_max: 3 });
});

// The projections the brief names; any other table depotd adds later is compared too (found in the schema).
const PROJECTIONS = ['stations', 'connectors', 'transactions', 'transaction_events', 'meter_values', 'ev_needs',
  'capabilities', 'charging_limits'];

// Rows in primary-key order (every column when a table has none), so two stores compare row by row.
function dumpTable(db, table) {
  const cols = sql(db, `SELECT name, pk FROM pragma_table_info('${table}') ORDER BY pk, cid`);
  const pk = cols.filter((c) => c.pk > 0).map((c) => c.name);
  const order = (pk.length ? pk : cols.map((c) => c.name)).join(', ');
  return sql(db, `SELECT * FROM ${table} ORDER BY ${order}`);
}

test('--rebuild-projections on a copy of the DB gives exactly the live projections', async () => {
  for (const c of open) await c.close();
  const exit = await depotd.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  const copy = path.join(depotd.dir, 'rebuilt.db');
  execFileSync('sqlite3', [depotd.db, `.backup '${copy}'`], { timeout: WAIT_MS });
  // Wreck the copy's projections first, so a rebuild that does nothing cannot pass.
  execFileSync('sqlite3', [copy, 'DELETE FROM transactions; DELETE FROM meter_values; UPDATE stations SET boot_status=NULL;'],
    { timeout: WAIT_MS });
  const rebuild = spawnSync(DEPOTD, ['--rebuild-projections', '-d', copy], { timeout: WAIT_MS, encoding: 'utf8' });
  assert.equal(rebuild.status, 0, `--rebuild-projections exit status; stderr:\n${rebuild.stderr}`);
  assert.doesNotMatch(rebuild.stderr, /Sanitizer|runtime error:/, 'no sanitizer report from the rebuild');
  const tables = sql(depotd.db, "SELECT name FROM sqlite_master WHERE type='table' AND name != 'events' AND name NOT LIKE 'sqlite_%' ORDER BY name").map((r) => r.name);
  for (const t of PROJECTIONS) assert.ok(tables.includes(t), `projection ${t} exists`);
  for (const table of tables) {
    const live = dumpTable(depotd.db, table);
    const rebuilt = dumpTable(copy, table);
    assert.ok(['stations', 'transactions', 'transaction_events', 'meter_values', 'capabilities'].includes(table) ? live.length > 0 : true,
      `${table} has rows to compare`);
    assert.deepEqual(rebuilt, live, `projection ${table} rebuilt from the event log equals the live one`);
  }
});
