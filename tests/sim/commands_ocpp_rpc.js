// depotsim answers the CSMS's remote-control commands truthfully, checked by an independent CSMS: npm
// ocpp-rpc in strict mode (every frame in both directions validated against its own copy of the 2.0.1
// schemas, so each answer and each message a command causes must be schema-valid).
// TriggerMessage (BootNotification while Pending and after Accepted, StatusNotification, Heartbeat,
// MeterValues, an unsupported one), RequestStartTransaction (on a plugged EV whose token was refused; on a
// free EVSE: a walk-in EV; on an occupied and an inoperative EVSE), UnlockConnector, ChangeAvailability
// (now and Scheduled), RequestStopTransaction, Reset (OnIdle Scheduled, EVSE reset refused, Immediate:
// transactions end, reconnect, BootNotification RemoteReset, the plugged EV gets a new transaction).
// Env: DEPOTSIM (binary), NODE_PATH (repo node_modules).
'use strict';
const { RPCServer } = require('ocpp-rpc');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
}

const log = [];            // every CALL the station sent: {n, conn, action, params}
let connections = 0;
let client = null;
let bootAnswer = 'Pending';

function waitFor(pred, ms, what) {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const poll = () => {
      const hit = log.find(pred);
      if (hit) return resolve(hit);
      if (Date.now() > until) { check(false, `timed out waiting for ${what}`); return resolve(null); }
      setTimeout(poll, 20);
    };
    poll();
  });
}
const after = (n) => (m) => m.n > n;
const mark = () => log.length;

async function call(action, params) {
  try { return await client.call(action, params); } catch (e) { return { error: String(e) }; }
}

async function script() {
  const boot1 = await waitFor((m) => m.action === 'BootNotification', 10000, 'BootNotification');
  check(boot1 && boot1.params.reason === 'PowerUp', `first boot: PowerUp (${boot1 && boot1.params.reason})`);
  // B02: Pending; the CSMS asks for the boot when it is ready (F06).
  let n = mark();
  bootAnswer = 'Accepted';
  let r = await call('TriggerMessage', { requestedMessage: 'BootNotification' });
  check(r.status === 'Accepted', `TriggerMessage BootNotification while Pending: Accepted (${JSON.stringify(r)})`);
  const boot2 = await waitFor((m) => after(n)(m) && m.action === 'BootNotification', 5000, 'triggered boot');
  check(boot2 && boot2.params.reason === 'Triggered', `triggered boot: reason Triggered (${boot2 && boot2.params.reason})`);
  await waitFor((m) => m.action === 'StatusNotification' && m.params.evseId === 3, 5000, 'statuses after boot');

  r = await call('TriggerMessage', { requestedMessage: 'BootNotification' });
  check(r.status === 'Rejected', `TriggerMessage BootNotification after Accepted: Rejected, F06.FR.17 (${r.status})`);
  n = mark();
  r = await call('TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 2, connectorId: 1 } });
  const st2 = await waitFor((m) => after(n)(m) && m.action === 'StatusNotification', 3000, 'triggered status');
  check(r.status === 'Accepted' && st2 && st2.params.evseId === 2 && st2.params.connectorStatus === 'Available',
    `TriggerMessage StatusNotification EVSE 2: Accepted, then Available (${st2 && JSON.stringify(st2.params)})`);
  n = mark();
  r = await call('TriggerMessage', { requestedMessage: 'Heartbeat' });
  const hb = await waitFor((m) => after(n)(m) && m.action === 'Heartbeat', 3000, 'triggered heartbeat');
  check(r.status === 'Accepted' && hb, 'TriggerMessage Heartbeat: Accepted, then a Heartbeat');
  r = await call('TriggerMessage', { requestedMessage: 'LogStatusNotification' });
  check(r.status === 'NotImplemented', `TriggerMessage LogStatusNotification: NotImplemented (${r.status})`);
  r = await call('TriggerMessage', { requestedMessage: 'Heartbeat', evse: { id: 9 } });
  check(r.status === 'Rejected', `TriggerMessage for EVSE 9 of 3: Rejected (${r.status})`);

  // VAN-01 plugs into EVSE 1; its token is refused, so its transaction waits for authorization.
  const started1 = await waitFor((m) => m.action === 'TransactionEvent' && m.params.eventType === 'Started' &&
    m.params.evse && m.params.evse.id === 1, 10000, 'VAN-01 plugged in');
  await waitFor((m) => m.action === 'Authorize', 3000, 'Authorize of VAN-01');
  const tx1 = started1 && started1.params.transactionInfo.transactionId;
  n = mark();
  r = await call('TriggerMessage', { requestedMessage: 'MeterValues', evse: { id: 1 } });
  const mv = await waitFor((m) => after(n)(m) && m.action === 'MeterValues', 3000, 'triggered MeterValues');
  check(r.status === 'Accepted' && mv && mv.params.evseId === 1 && mv.params.meterValue[0].sampledValue.length >= 2,
    'TriggerMessage MeterValues EVSE 1: Accepted, then MeterValues for EVSE 1');

  // F02: the CSMS starts the transaction the cable started, with its own token.
  n = mark();
  r = await call('RequestStartTransaction', { evseId: 1, remoteStartId: 7, idToken: { idToken: 'DEPOT-1', type: 'Central' } });
  check(r.status === 'Accepted' && r.transactionId === tx1,
    `RequestStartTransaction on the plugged EV: Accepted with its transactionId (${JSON.stringify(r)}, ${tx1})`);
  const rs = await waitFor((m) => after(n)(m) && m.action === 'TransactionEvent', 3000, 'RemoteStart event');
  check(rs && rs.params.triggerReason === 'RemoteStart' && rs.params.transactionInfo.remoteStartId === 7 &&
    rs.params.idToken && rs.params.idToken.idToken === 'DEPOT-1' && rs.params.transactionInfo.chargingState === 'Charging',
    `then TransactionEvent RemoteStart, remoteStartId 7, idToken DEPOT-1, Charging (${rs && JSON.stringify(rs.params.transactionInfo)})`);
  const charging = await waitFor((m) => after(n)(m) && m.action === 'TransactionEvent' &&
    m.params.transactionInfo.transactionId === tx1 && m.params.meterValue &&
    m.params.meterValue[0].sampledValue.some((s) => s.measurand === 'Power.Active.Import' && s.value > 1000),
    5000, 'VAN-01 drawing power');
  check(charging, 'VAN-01 draws power after the remote start');
  r = await call('RequestStartTransaction', { evseId: 1, remoteStartId: 8, idToken: { idToken: 'DEPOT-2', type: 'Central' } });
  check(r.status === 'Rejected', `RequestStartTransaction on an EVSE already charging: Rejected (${JSON.stringify(r)})`);

  // F01: a free EVSE; depotsim's driver plugs a walk-in EV.
  n = mark();
  r = await call('RequestStartTransaction', { evseId: 2, remoteStartId: 9, idToken: { idToken: 'WALKIN', type: 'Central' } });
  const started2 = await waitFor((m) => after(n)(m) && m.action === 'TransactionEvent' && m.params.eventType === 'Started',
    3000, 'walk-in Started');
  check(r.status === 'Accepted' && !r.transactionId, `RequestStartTransaction on a free EVSE: Accepted (${JSON.stringify(r)})`);
  check(started2 && started2.params.evse.id === 2 && started2.params.triggerReason === 'RemoteStart' &&
    started2.params.transactionInfo.remoteStartId === 9 && started2.params.idToken.idToken === 'WALKIN',
    `then Started on EVSE 2, RemoteStart, remoteStartId 9, idToken WALKIN (${started2 && JSON.stringify(started2.params.transactionInfo)})`);
  const tx2 = started2 && started2.params.transactionInfo.transactionId;
  const walkinPower = await waitFor((m) => m.action === 'TransactionEvent' && m.params.transactionInfo.transactionId === tx2 &&
    m.params.meterValue && m.params.meterValue[0].sampledValue.some((s) => s.measurand === 'Power.Active.Import' && s.value > 1000),
    5000, 'the walk-in EV drawing power');
  check(walkinPower, 'the walk-in EV draws power');

  r = await call('UnlockConnector', { evseId: 1, connectorId: 1 });
  check(r.status === 'OngoingAuthorizedTransaction', `UnlockConnector while charging: OngoingAuthorizedTransaction (${r.status})`);
  r = await call('UnlockConnector', { evseId: 3, connectorId: 1 });
  check(r.status === 'Unlocked', `UnlockConnector on a free EVSE: Unlocked (${r.status})`);
  r = await call('UnlockConnector', { evseId: 9, connectorId: 1 });
  check(r.status === 'UnknownConnector', `UnlockConnector EVSE 9: UnknownConnector (${r.status})`);

  n = mark();
  r = await call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 3 } });
  let s3 = await waitFor((m) => after(n)(m) && m.action === 'StatusNotification' && m.params.evseId === 3, 3000, 'EVSE 3 status');
  check(r.status === 'Accepted' && s3 && s3.params.connectorStatus === 'Unavailable',
    `ChangeAvailability Inoperative EVSE 3: Accepted, then Unavailable (${r.status}, ${s3 && s3.params.connectorStatus})`);
  r = await call('RequestStartTransaction', { evseId: 3, remoteStartId: 10, idToken: { idToken: 'X', type: 'Central' } });
  check(r.status === 'Rejected', `RequestStartTransaction on an inoperative EVSE: Rejected (${r.status})`);
  n = mark();
  r = await call('ChangeAvailability', { operationalStatus: 'Operative', evse: { id: 3 } });
  s3 = await waitFor((m) => after(n)(m) && m.action === 'StatusNotification' && m.params.evseId === 3, 3000, 'EVSE 3 status');
  check(r.status === 'Accepted' && s3 && s3.params.connectorStatus === 'Available',
    `ChangeAvailability Operative EVSE 3: Accepted, then Available (${s3 && s3.params.connectorStatus})`);
  n = mark();
  r = await call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 2 } });
  check(r.status === 'Scheduled', `ChangeAvailability Inoperative while EVSE 2 charges: Scheduled (${r.status})`);

  r = await call('RequestStopTransaction', { transactionId: 'no-such-tx' });
  check(r.status === 'Rejected', `RequestStopTransaction of an unknown transaction: Rejected (${r.status})`);
  n = mark();
  r = await call('RequestStopTransaction', { transactionId: tx2 });
  const ended2 = await waitFor((m) => after(n)(m) && m.action === 'TransactionEvent' && m.params.eventType === 'Ended',
    3000, 'walk-in Ended');
  check(r.status === 'Accepted' && ended2 && ended2.params.transactionInfo.transactionId === tx2 &&
    ended2.params.triggerReason === 'RemoteStop' && ended2.params.transactionInfo.stoppedReason === 'Remote',
    `RequestStopTransaction: Accepted, then Ended RemoteStop / Remote (${ended2 && JSON.stringify(ended2.params.transactionInfo)})`);
  const s2 = await waitFor((m) => after(n)(m) && m.action === 'StatusNotification' && m.params.evseId === 2, 3000, 'EVSE 2 status');
  check(s2 && s2.params.connectorStatus === 'Unavailable', `the scheduled Inoperative applies once EVSE 2 is free (${s2 && s2.params.connectorStatus})`);

  r = await call('Reset', { type: 'OnIdle' });
  check(r.status === 'Scheduled', `Reset OnIdle with a transaction running: Scheduled (${r.status})`);
  r = await call('Reset', { type: 'Immediate', evseId: 1 });
  check(r.status === 'Rejected', `Reset of one EVSE: Rejected (${r.status})`);
  n = mark();
  const conn0 = connections;
  r = await call('Reset', { type: 'Immediate' });
  check(r.status === 'Accepted', `Reset Immediate: Accepted (${r.status})`);
  const ended1 = await waitFor((m) => after(n)(m) && m.action === 'TransactionEvent' && m.params.eventType === 'Ended' &&
    m.params.transactionInfo.transactionId === tx1, 8000, 'VAN-01 Ended by the reset');
  check(ended1 && ended1.params.transactionInfo.stoppedReason === 'ImmediateReset' && ended1.params.triggerReason === 'ResetCommand',
    `the running transaction ends: ResetCommand / ImmediateReset (${ended1 && JSON.stringify(ended1.params.transactionInfo)})`);
  const boot3 = await waitFor((m) => after(n)(m) && m.action === 'BootNotification', 8000, 'boot after reset');
  check(boot3 && boot3.params.reason === 'RemoteReset' && boot3.conn > conn0,
    `reconnects and boots with reason RemoteReset on a new connection (${boot3 && boot3.params.reason}, connection ${boot3 && boot3.conn})`);
  const restarted = await waitFor((m) => after(n)(m) && m.action === 'TransactionEvent' && m.params.eventType === 'Started' &&
    m.params.evse && m.params.evse.id === 1, 5000, 'new transaction on EVSE 1');
  check(restarted && restarted.params.transactionInfo.transactionId !== tx1,
    `VAN-01, still plugged, gets a new transaction (${restarted && restarted.params.transactionInfo.transactionId})`);
  const s2b = await waitFor((m) => after(n)(m) && m.action === 'StatusNotification' && m.params.evseId === 2, 3000, 'EVSE 2 status after boot');
  check(s2b && s2b.params.connectorStatus === 'Unavailable', `EVSE 2 stays Unavailable across the reboot (${s2b && s2b.params.connectorStatus})`);
}

async function main() {
  const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
  server.on('client', (c) => {
    client = c;
    const conn = ++connections;
    const seen = (action) => ({ params }) => { log.push({ n: log.length + 1, conn, action, params }); };
    const h = (action, answer) => c.handle(action, (x) => { seen(action)(x); return answer(x); });
    h('BootNotification', () => ({ currentTime: new Date().toISOString(), interval: bootAnswer === 'Accepted' ? 300 : 60, status: bootAnswer }));
    h('StatusNotification', () => ({}));
    h('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
    h('MeterValues', () => ({}));
    h('Authorize', ({ params }) => ({ idTokenInfo: { status: params.idToken.idToken === 'WAITING' ? 'Invalid' : 'Accepted' } }));
    h('TransactionEvent', () => ({}));
    h('NotifyEVChargingNeeds', () => ({ status: 'Accepted' }));
  });
  const http = await server.listen(0, '127.0.0.1');
  const port = http.address().port;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'depotsim-cmd-'));
  const depot = path.join(tmp, 'depot.json'), scenario = path.join(tmp, 'scenario.json'), json = path.join(tmp, 'report.json');
  fs.writeFileSync(depot, JSON.stringify({ stations: [{ id: 'CMD01', evses: 3, ac: { phases: 3, maxCurrentA: 16, voltageV: 230 } }] }));
  fs.writeFileSync(scenario, JSON.stringify({
    start: '2026-11-26T08:00:00Z', end: '2026-11-26T08:25:00Z',
    evDefaults: { capacityKwh: 60, maxPowerKw: 11 },
    visits: [{ ev: 'VAN-01', idToken: 'WAITING', station: 'CMD01', evse: 1, arrival: '2026-11-26T08:02:00Z',
      departure: '2026-11-26T08:24:00Z', energyKwh: 20, arrivalSoc: 0.2 }],
  }));
  const sim = spawn(process.env.DEPOTSIM, ['run', '--csms', `ws://127.0.0.1:${port}/ocpp`, '--depot', depot,
    '--scenario', scenario, '--speed', '60', '--meter-interval', '60', '--json', json, '--max-real-seconds', '45'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((res) => sim.on('exit', res));
  const guard = setTimeout(() => sim.kill('SIGKILL'), 60000);
  await script();
  const code = await exited;
  clearTimeout(guard);
  await server.close({ force: true });
  check(code === 0, `depotsim exits 0 (${code})`);
  let report = null;
  try { report = JSON.parse(fs.readFileSync(json, 'utf8')); } catch (e) { /* checked below */ }
  fs.rmSync(tmp, { recursive: true, force: true });
  check(report && report.messages.invalidFrames === 0 && report.messages.callErrorsOut === 0,
    `depotsim: no invalid frames from the CSMS, no CALLERROR of its own (${report && JSON.stringify(report.messages)})`);
  const walkin = report && report.vehicles.find((v) => v.ev === 'REMOTE-WALKIN');
  check(walkin && walkin.deliveredKwh > 0, `the walk-in EV is in the report with energy (${walkin && walkin.deliveredKwh} kWh)`);
  console.log(`${failures} failed`);
  process.exit(failures ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
