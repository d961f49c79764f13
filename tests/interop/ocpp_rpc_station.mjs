// Interop: an independent OCPP 2.0.1 implementation, npm `ocpp-rpc` (RPCClient, strictMode), plays the
// charging station against depotd. Strict mode validates every CALL depotd sends and every answer it gives
// against the official 2.0.1 schemas bundled with ocpp-rpc (not the copy depotd builds from), and rejects
// what breaks them. The station boots, reports status, heartbeats, authorizes, runs a transaction with meter
// values, reports its EV's charging needs, answers depotd's GetVariables, and rides through a network blip and
// a restart of depotd in the middle of the transaction the way real chargers do: it reconnects WITHOUT a new
// BootNotification (OCPP 2.0.1 boots only on a reboot) and goes on with its queued events and the next seqNo.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  Depotd, requireRepo, stationEntries, sql, eventually, withTimeout, WAIT_MS, PASSWORD, isoNow,
} from '../integration/lib.mjs';

const { RPCClient } = requireRepo('ocpp-rpc');
const WebSocket = requireRepo('ws');
const STATION = 'RPC-STATION-01';

let depotd;
let client;
after(async () => {
  await client?.close({ force: true }).catch(() => {});
  await depotd?.cleanup();
});

const meter = (wh, w) => [{
  timestamp: isoNow(),
  sampledValue: [
    { value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
    { value: w, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
  ],
}];

test('ocpp-rpc station in strict mode: full session, restart of depotd mid-transaction', async (t) => {
  depotd = new Depotd({
    config: {
      stations: stationEntries([STATION]),
      id_tokens: [{ id_token: 'VAN-0001', type: 'ISO14443', vehicle: 'van-1' }],
    },
  });
  await depotd.start();
  const port = depotd.port;

  client = new RPCClient({
    endpoint: `ws://127.0.0.1:${port}/ocpp`,
    identity: STATION,
    password: PASSWORD,
    protocols: ['ocpp2.0.1'],
    strictMode: true,
    callTimeoutMs: WAIT_MS,
    reconnect: true,
    maxReconnects: 50,
    backoff: { initialDelay: 100, maxDelay: 400, randomisationFactor: 0 },
  });
  const strictFailures = [];
  const badMessages = [];
  const callErrors = [];
  client.on('strictValidationFailure', (e) => strictFailures.push({ method: e.method, outbound: e.outbound,
    isCall: e.isCall, error: e.error?.message, params: e.params, result: e.result }));
  client.on('badMessage', (e) => badMessages.push({ message: e.buffer?.toString(), error: e.error?.message }));
  client.on('callError', (e) => callErrors.push({ method: e.method, outbound: e.outbound, error: e.error?.message }));

  // What depotd asks the station. Strict mode has already checked the request against the schema.
  const asked = [];
  client.handle('GetVariables', ({ params }) => {
    asked.push(params);
    return {
      getVariableResult: params.getVariableData.map((d) => ({
        attributeStatus: d.variable.name === 'LimitChangeSignificance' ? 'UnknownVariable' : 'Accepted',
        ...(d.variable.name === 'LimitChangeSignificance' ? {} : { attributeValue: d.variable.name === 'Power' ? '11000' : '3' }),
        ...(d.attributeType ? { attributeType: d.attributeType } : {}),
        component: d.component,
        variable: d.variable,
      })),
    };
  });

  // F06: after a reconnect without boot depotd asks what the EVSEs are doing now.
  const triggered = [];
  client.handle('TriggerMessage', ({ params }) => {
    triggered.push(params);
    if (params.requestedMessage !== 'StatusNotification') return { status: 'NotImplemented' };
    setImmediate(() => client.call('StatusNotification', { timestamp: isoNow(), connectorStatus: 'Occupied', evseId: 1,
      connectorId: 1 }).catch(() => {}));
    return { status: 'Accepted' };
  });

  await client.connect();
  assert.equal(client.protocol, 'ocpp2.0.1');

  const boot = await client.call('BootNotification', {
    chargingStation: { vendorName: 'ocpp-rpc', model: 'interop-1', serialNumber: 'RPC-1', firmwareVersion: '2.2.1' },
    reason: 'PowerUp',
  });
  assert.equal(boot.status, 'Accepted');
  assert.ok(boot.interval > 0);

  assert.deepEqual(await client.call('StatusNotification', {
    timestamp: isoNow(), connectorStatus: 'Available', evseId: 1, connectorId: 1 }), {});
  const hb = await client.call('Heartbeat', {});
  assert.ok(Math.abs(Date.parse(hb.currentTime) - Date.now()) < 10000);
  const auth = await client.call('Authorize', { idToken: { idToken: 'VAN-0001', type: 'ISO14443' } });
  assert.equal(auth.idTokenInfo.status, 'Accepted');

  const txId = 'RPC-TX-0001';
  let seqNo = 0;
  const started = await client.call('TransactionEvent', {
    eventType: 'Started', timestamp: isoNow(), triggerReason: 'Authorized', seqNo: seqNo++,
    transactionInfo: { transactionId: txId, chargingState: 'EVConnected' },
    evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'VAN-0001', type: 'ISO14443' }, meterValue: meter(0, 0),
  });
  assert.equal(started.idTokenInfo.status, 'Accepted');
  await client.call('StatusNotification', { timestamp: isoNow(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
  for (const wh of [1200, 2400]) {
    assert.deepEqual(await client.call('TransactionEvent', {
      eventType: 'Updated', timestamp: isoNow(), triggerReason: 'MeterValuePeriodic', seqNo: seqNo++,
      transactionInfo: { transactionId: txId, chargingState: 'Charging' }, meterValue: meter(wh, 11000),
    }), {});
  }
  const needs = await client.call('NotifyEVChargingNeeds', {
    evseId: 1,
    chargingNeeds: {
      requestedEnergyTransfer: 'AC_three_phase',
      departureTime: new Date(Date.now() + 6 * 3600000).toISOString(),
      acChargingParameters: { energyAmount: 35000, evMinCurrent: 6, evMaxCurrent: 16, evMaxVoltage: 400 },
    },
  });
  assert.equal(needs.status, 'Accepted');
  const mv = await client.call('MeterValues', { evseId: 1, meterValue: meter(2500, 11000) });
  assert.deepEqual(mv, {});

  // depotd read how many items a GetVariables may carry (this station says 3), then the station's capabilities
  // (after boot) and the EVSE's (after its first StatusNotification), never more than 3 items at a time.
  const hasItem = (p, comp, evse) => p.getVariableData.some((d) => d.component.name === comp && (!evse || d.component.evse?.id === evse));
  await eventually(() => asked.some((p) => hasItem(p, 'EVSE', 1)) && asked.filter((p) => hasItem(p, 'SmartChargingCtrlr')).length >= 2,
    'the capability reads from depotd');
  assert.ok(hasItem(asked[0], 'DeviceDataCtrlr'));
  assert.ok(asked.every((p) => p.getVariableData.length <= 3), JSON.stringify(asked));
  await eventually(() => sql(depotd.db, `SELECT count(*) AS n FROM capabilities WHERE station='${STATION}' AND status='UnknownVariable'`)[0].n === 1,
    'the UnknownVariable answer is stored as such');

  // ---- a network blip in the middle of the transaction: the socket dies, ocpp-rpc reconnects by itself and
  // goes on without a boot (ocpp-rpc has no public call for a dropped link; terminating its socket is one) ----
  let reopened = once(client, 'open');
  client._ws.terminate();
  await withTimeout(reopened, WAIT_MS, 'ocpp-rpc reconnects after the blip');
  const hb2 = await client.call('Heartbeat', {});
  assert.ok(Math.abs(Date.parse(hb2.currentTime) - Date.now()) < 10000);
  assert.deepEqual(await client.call('TransactionEvent', {
    eventType: 'Updated', timestamp: isoNow(), triggerReason: 'MeterValuePeriodic', seqNo: seqNo++,
    transactionInfo: { transactionId: txId, chargingState: 'Charging' }, meterValue: meter(3000, 11000),
  }), {});
  assert.deepEqual(await client.call('MeterValues', { evseId: 1, meterValue: meter(3100, 11000) }), {});
  await eventually(() => triggered.some((p) => p.requestedMessage === 'StatusNotification'),
    'TriggerMessage StatusNotification after the reconnect');

  // ---- depotd restarts (SIGTERM) in the middle of the transaction, on the same port and DB ----
  const disconnected = once(client, 'disconnect');
  const exit = await depotd.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  await withTimeout(disconnected, WAIT_MS, 'ocpp-rpc sees the disconnect');
  // While depotd is down the charger queues its events (E12: offline=true, measured earlier).
  const queuedAt = isoNow();
  reopened = once(client, 'open');
  await depotd.start({ port });
  await withTimeout(reopened, WAIT_MS, 'ocpp-rpc reconnects by itself');
  t.diagnostic(`reconnected to the restarted depotd on port ${port}, no new boot`);

  assert.equal(sql(depotd.db, `SELECT count(*) AS n FROM transactions WHERE station='${STATION}' AND id='${txId}' AND ended_ms IS NULL`)[0].n, 1,
    'the transaction is still running after the restart');
  assert.deepEqual(await client.call('TransactionEvent', {
    eventType: 'Updated', timestamp: queuedAt, triggerReason: 'MeterValuePeriodic', seqNo: seqNo++, offline: true,
    transactionInfo: { transactionId: txId, chargingState: 'Charging' }, meterValue: meter(3600, 11000),
  }), {});
  const ended = await client.call('TransactionEvent', {
    eventType: 'Ended', timestamp: queuedAt, triggerReason: 'EVCommunicationLost', seqNo: seqNo++, offline: true,
    transactionInfo: { transactionId: txId, chargingState: 'Idle', stoppedReason: 'EVDisconnected' },
    idToken: { idToken: 'VAN-0001', type: 'ISO14443' }, meterValue: meter(4000, 0),
  });
  assert.equal(ended.idTokenInfo.status, 'Accepted');
  await client.call('StatusNotification', { timestamp: isoNow(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
  // The restarted depotd did not know the capabilities: it read them again, and asked for the EVSEs' status.
  await eventually(() => asked.filter((p) => hasItem(p, 'DeviceDataCtrlr')).length >= 2, 'GetVariables again after the restart');
  await eventually(() => triggered.length >= 2, 'TriggerMessage again after the restart');

  // ---- the store: one transaction with every event ----
  const txs = sql(depotd.db, `SELECT id, started_ms, ended_ms, seq_max, events, energy_first_wh, energy_last_wh, stopped_reason FROM transactions WHERE station='${STATION}'`);
  assert.equal(txs.length, 1);
  assert.equal(txs[0].id, txId);
  assert.ok(txs[0].ended_ms >= txs[0].started_ms);
  assert.deepEqual({ ...txs[0], started_ms: 0, ended_ms: 0 }, { id: txId, started_ms: 0, ended_ms: 0, seq_max: seqNo - 1,
    events: seqNo, energy_first_wh: 0, energy_last_wh: 4000, stopped_reason: 'EVDisconnected' });
  const evs = sql(depotd.db, `SELECT seq_no, event_type FROM transaction_events WHERE station='${STATION}' ORDER BY seq_no`);
  assert.deepEqual(evs.map((e) => `${e.seq_no}:${e.event_type}`), ['0:Started', '1:Updated', '2:Updated', '3:Updated',
    '4:Updated', '5:Ended']);
  const ev = sql(depotd.db, `SELECT evse_id, energy_wh, requested_transfer FROM ev_needs WHERE station='${STATION}'`);
  assert.deepEqual(ev, [{ evse_id: 1, energy_wh: 35000, requested_transfer: 'AC_three_phase' }]);
  const boots = sql(depotd.db, `SELECT count(*) AS n FROM events WHERE station='${STATION}' AND type='ocpp_in' AND action='BootNotification' AND msg_type=2`)[0].n;
  assert.equal(boots, 1, 'one boot: the reconnects were served without one');
  assert.equal(sql(depotd.db, `SELECT count(*) AS n FROM events WHERE station='${STATION}' AND type='resume'`)[0].n, 2);
  assert.equal(sql(depotd.db, `SELECT count(*) AS n FROM events WHERE station='${STATION}' AND type='ocpp_out' AND status='SecurityError'`)[0].n, 0);

  // ---- nothing depotd sent broke the official schemas, nothing was malformed, nothing was refused ----
  assert.deepEqual(strictFailures, [], 'no strict-mode validation failure');
  assert.deepEqual(badMessages, [], 'no malformed RPC message from depotd');
  assert.deepEqual(callErrors, [], 'no CALLERROR either way');

  await client.close({ code: 1000 });
  client = null;
  const exit2 = await depotd.stop();
  assert.deepEqual(exit2, { code: 0, signal: null });
  assert.deepEqual(depotd.sanitizerReports(), [], 'no sanitizer report on depotd stderr');
});

test('the same strict ocpp-rpc station reports a CSMS that breaks the schemas (the check above can fail)', async () => {
  // A stand-in CSMS on 127.0.0.1 that sends an invalid GetVariables (getVariableData needs at least one item)
  // and answers BootNotification without its required fields.
  const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'ocpp2.0.1' });
  await once(wss, 'listening');
  const fromStation = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      fromStation.push(f);
      if (f[0] === 2 && f[2] === 'BootNotification') ws.send(JSON.stringify([3, f[1], { status: 'Accepted' }]));
    });
    ws.send(JSON.stringify([2, 'bad-1', 'GetVariables', { getVariableData: [] }]));
  });
  const c = new RPCClient({ endpoint: `ws://127.0.0.1:${wss.address().port}/ocpp`, identity: 'X', protocols: ['ocpp2.0.1'],
    strictMode: true, reconnect: false, callTimeoutMs: WAIT_MS });
  const failures = [];
  c.on('strictValidationFailure', (e) => failures.push({ method: e.method, isCall: e.isCall }));
  c.handle('GetVariables', () => ({ getVariableResult: [] }));
  try {
    await c.connect();
    await assert.rejects(c.call('BootNotification', { chargingStation: { vendorName: 'v', model: 'm' }, reason: 'PowerUp' }));
    await eventually(() => fromStation.some((f) => f[0] === 4 && f[1] === 'bad-1'), 'the invalid CALL is refused');
    assert.deepEqual(failures.map((f) => `${f.method}:${f.isCall}`).sort(), ['BootNotification:false', 'GetVariables:true']);
  } finally {
    await c.close({ force: true });
    wss.close();
  }
});
