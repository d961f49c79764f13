// A station that reconnects without rebooting (issue 13). OCPP 2.0.1 has a station send BootNotification when it
// boots, not when only its websocket was lost: the registration is the station's, so depotd serves a station whose
// last boot it answered Accepted on a new connection at once (and across its own restart, from the event log),
// asks for the EVSEs' status, and holds stations never Accepted, Pending (B02) and Rejected (B03) to the rules.
// With smart charging on, a reconnect re-sends the fail-safe, also to a station that refused it before.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Depotd, connectRaw, stationEntries, bootedStation, sql, eventually, bootPayload, statusPayload, txEvent, isoNow,
  meterValue,
} from './lib.mjs';

let depotd;
const open = [];
const config = (boots = {}) => ({
  stations: [
    ...stationEntries(['BLIP', 'RST', 'KILL', 'NEVER', 'CHANGED', 'FS']),
    ...stationEntries(['PEND'], { boot: 'Pending' }),
    ...stationEntries(['REJ'], { boot: 'Rejected' }),
  ].map((s) => (boots[s.id] ? { ...s, boot: boots[s.id] } : s)),
  id_tokens: [{ id_token: 'VAN-0001', type: 'ISO14443' }],
  control: { site_limit_kw: 50, replan_delay_ms: 50 },
});

before(async () => {
  depotd = new Depotd({ config: config() });
  await depotd.start();
});

after(async () => {
  for (const c of open) c.terminate();
  const sanitizer = depotd?.sanitizerReports() ?? [];
  await depotd?.cleanup();
  assert.deepEqual(sanitizer, [], 'no sanitizer report on depotd stderr');
});

async function connect(id, opts = {}) {
  const c = await connectRaw(depotd.url(id), { station: id, ...opts });
  open.push(c);
  return c;
}

async function boot(id) {
  const c = await bootedStation(depotd, id);
  open.push(c);
  return c;
}

// Drops the socket the way a network blip does (no close handshake), and waits until depotd saw it.
async function drop(c, id) {
  const before = sql(depotd.db, `SELECT count(*) AS n FROM events WHERE station='${id}' AND type='disconnect'`)[0].n;
  c.terminate();
  await eventually(() => sql(depotd.db, `SELECT count(*) AS n FROM events WHERE station='${id}' AND type='disconnect'`)[0].n > before,
    `${id} disconnect seen`);
}

// A running transaction: Started with a meter reading, then what the station queued while it was away.
async function startTx(c, txId) {
  await c.ok('TransactionEvent', txEvent({ eventType: 'Started', txId, seqNo: 0, idToken: 'VAN-0001', wh: 0,
    timestamp: isoNow(-60000) }));
  await c.ok('TransactionEvent', txEvent({ eventType: 'Updated', txId, seqNo: 1, wh: 1000, timestamp: isoNow(-40000) }));
}

// What the acceptance asks of a station back without a boot: Heartbeat, MeterValues and a queued Ended, all
// answered with CALLRESULTs and stored.
async function goOnWithoutBoot(c, id, txId) {
  const hb = await c.call('Heartbeat', {});
  assert.equal(hb[0], 3, `Heartbeat answered ${JSON.stringify(hb)}`);
  const mv = await c.call('MeterValues', { evseId: 1, meterValue: [meterValue(1500)] });
  assert.equal(mv[0], 3, `MeterValues answered ${JSON.stringify(mv)}`);
  const queuedAt = isoNow(-20000);
  const ended = await c.call('TransactionEvent', txEvent({ eventType: 'Ended', txId, seqNo: 2, wh: 2000, offline: true,
    timestamp: queuedAt, stoppedReason: 'EVDisconnected', triggerReason: 'EVCommunicationLost' }));
  assert.equal(ended[0], 3, `TransactionEvent answered ${JSON.stringify(ended)}`);
  const tx = sql(depotd.db, `SELECT ended_ms, seq_max, events, energy_last_wh, stopped_reason FROM transactions WHERE station='${id}' AND id='${txId}'`);
  assert.deepEqual(tx, [{ ended_ms: Date.parse(queuedAt), seq_max: 2, events: 3, energy_last_wh: 2000, stopped_reason: 'EVDisconnected' }]);
  const offline = sql(depotd.db, `SELECT offline FROM transaction_events WHERE station='${id}' AND transaction_id='${txId}' AND seq_no=2`);
  assert.deepEqual(offline, [{ offline: 1 }]);
  assert.ok(sql(depotd.db, `SELECT count(*) AS n FROM meter_values WHERE station='${id}' AND value=1500`)[0].n >= 1,
    'the MeterValues after the reconnect are stored');
  const refused = sql(depotd.db, `SELECT count(*) AS n FROM events WHERE station='${id}' AND type='ocpp_out' AND status='SecurityError'`)[0].n;
  assert.equal(refused, 0, 'nothing refused');
}

test('a network blip: reconnect without boot, Heartbeat, MeterValues and a queued Ended are accepted and stored', async () => {
  const c = await boot('BLIP');
  await c.ok('StatusNotification', statusPayload(1, 1, 'Occupied'));
  await startTx(c, 'TX-BLIP');
  await drop(c, 'BLIP');
  const again = await connect('BLIP');
  await goOnWithoutBoot(again, 'BLIP', 'TX-BLIP');
  // F06: depotd asks for the EVSEs' status (the station may have moved on while away).
  const [trig] = await again.waitServerCalls((f) => f[2] === 'TriggerMessage', 1, 'TriggerMessage after the reconnect');
  assert.deepEqual(trig[3], { requestedMessage: 'StatusNotification' });
  const resume = sql(depotd.db, "SELECT data FROM events WHERE station='BLIP' AND type='resume'");
  assert.deepEqual(resume.map((r) => JSON.parse(r.data)), [{ boot_state: 'Accepted' }]);
  // Capabilities were read at the boot and are known: the reconnect does not read them again.
  assert.equal(again.serverCalls.filter((f) => f[2] === 'GetVariables').length, 0);
  assert.equal(sql(depotd.db, "SELECT count(*) AS n FROM events WHERE station='BLIP' AND type='ocpp_in' AND action='BootNotification'")[0].n, 1);
});

for (const how of ['SIGTERM', 'SIGKILL']) {
  const id = how === 'SIGTERM' ? 'RST' : 'KILL';
  test(`a depotd restart (${how}) in between: the registration comes back from the event log`, async () => {
    const c = await boot(id);
    await c.ok('StatusNotification', statusPayload(1, 1, 'Occupied'));
    await startTx(c, `TX-${id}`);
    const port = depotd.port;
    if (how === 'SIGTERM') assert.deepEqual(await depotd.stop(), { code: 0, signal: null });
    else await depotd.kill9();
    await c.closedPromise;
    await depotd.start({ port });
    const again = await connect(id);
    await goOnWithoutBoot(again, id, `TX-${id}`);
    // The restarted depotd knows nothing of the station's capabilities: it reads them again.
    await again.waitServerCalls((f) => f[2] === 'GetVariables' && f[3].getVariableData.some((d) => d.component.name === 'SmartChargingCtrlr'),
      1, 'capabilities read after the restart');
    await again.waitServerCalls((f) => f[2] === 'TriggerMessage', 1, 'TriggerMessage after the restart');
  });
}

test('a station never Accepted still gets SecurityError without a boot', async () => {
  const c = await connect('NEVER');
  const hb = await c.call('Heartbeat', {});
  assert.equal(hb[0], 4);
  assert.equal(hb[2], 'SecurityError');
  assert.equal((await c.ok('BootNotification', bootPayload())).status, 'Accepted');
  assert.equal((await c.call('Heartbeat', {}))[0], 3);
});

test('Pending (B02) and Rejected (B03) stations are held to their rules after a reconnect', async () => {
  for (const [id, status] of [['PEND', 'Pending'], ['REJ', 'Rejected']]) {
    const c = await connect(id);
    assert.equal((await c.ok('BootNotification', bootPayload())).status, status);
    await drop(c, id);
    const again = await connect(id);
    const hb = await again.call('Heartbeat', {});
    assert.deepEqual([hb[0], hb[2]], [4, 'SecurityError'], `${id}: ${JSON.stringify(hb)}`);
    const tx = await again.call('TransactionEvent', txEvent({ eventType: 'Started', txId: `TX-${id}`, seqNo: 0, idToken: 'VAN-0001', wh: 0 }));
    assert.deepEqual([tx[0], tx[2]], [4, 'SecurityError']);
    assert.equal((await again.ok('BootNotification', bootPayload())).status, status);
    assert.equal(again.serverCalls.length, 0, `${id}: depotd sends nothing to a ${status} station on its own`);
  }
  assert.deepEqual(sql(depotd.db, "SELECT data FROM events WHERE station='PEND' AND type='resume'").map((r) => JSON.parse(r.data)),
    [{ boot_state: 'Pending' }]);
  assert.equal(sql(depotd.db, "SELECT count(*) AS n FROM events WHERE station='REJ' AND type='resume'")[0].n, 0);
});

test('a station whose registry entry changed from Accepted to Rejected must boot again, and is Rejected', async () => {
  const c = await boot('CHANGED');
  await c.close();
  const port = depotd.port;
  await depotd.stop();
  const changed = new Depotd({ config: config({ CHANGED: 'Rejected' }), dir: depotd.dir, db: depotd.db });
  changed.allStderr = depotd.allStderr;
  depotd = changed;
  await depotd.start({ port });
  const again = await connect('CHANGED');
  const hb = await again.call('Heartbeat', {});
  assert.deepEqual([hb[0], hb[2]], [4, 'SecurityError']);
  assert.equal((await again.ok('BootNotification', bootPayload())).status, 'Rejected');
});

test('a station that refused its fail-safe gets it offered again at a reconnect and a boot', async () => {
  let refuse = true;
  const profiles = [];
  const answer = (frame) => {
    const [, mid, action, payload] = frame;
    if (action === 'SetChargingProfile') {
      profiles.push(payload);
      const failsafe = payload.chargingProfile.chargingProfilePurpose !== 'TxProfile';
      return [3, mid, { status: failsafe && refuse ? 'Rejected' : 'Accepted' }];
    }
    if (action === 'GetVariables') {
      return [3, mid, { getVariableResult: payload.getVariableData.map((d) => ({ attributeStatus: 'UnknownVariable',
        component: d.component, variable: d.variable })) }];
    }
    return [3, mid, { status: 'Accepted' }];
  };
  const failsafes = () => profiles.filter((p) => p.chargingProfile.chargingProfilePurpose !== 'TxProfile').length;
  const c = await connect('FS', { answer });
  assert.equal((await c.ok('BootNotification', bootPayload())).status, 'Accepted');
  await eventually(() => failsafes() >= 1, 'the first fail-safe');
  await eventually(() => sql(depotd.db, "SELECT count(*) AS n FROM events WHERE station='FS' AND type='compensation'")[0].n === 1,
    'the refusal is counted');
  await drop(c, 'FS');
  // Reconnect without boot: offered again (and refused again: counted once, not twice).
  const again = await connect('FS', { answer });
  await eventually(() => failsafes() >= 2, 'the fail-safe offered again after the reconnect');
  await again.ok('Heartbeat', {});
  assert.equal(sql(depotd.db, "SELECT count(*) AS n FROM events WHERE station='FS' AND type='compensation'")[0].n, 1);
  // A boot offers it again too; this time the station takes it, and the refusal stops counting.
  refuse = false;
  assert.equal((await again.ok('BootNotification', bootPayload())).status, 'Accepted');
  await eventually(() => failsafes() >= 3, 'the fail-safe offered again after the boot');
  await eventually(() => sql(depotd.db, "SELECT count(*) AS n FROM events WHERE station='FS' AND type='compensation_cleared'")[0].n === 1,
    'the accepted fail-safe clears the refusal');
});
