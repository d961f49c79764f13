// depotd answers bad input with the right OCPP-J CALLERROR (code and message id) or refuses the handshake,
// never crashes, and keeps serving a well-behaved station connected at the same time (a Heartbeat round trip
// after every bad input). OCPP-J 2.0.1 §4 (RPC framework), B02/B03 (boot state), A00 (basic auth).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Depotd, connectRaw, stationEntries, bootedStation, sql, eventually, newId, bootPayload, statusPayload, isoNow, withTimeout, WAIT_MS,
} from './lib.mjs';

const MAX_FRAME = 4096;
let depotd, good, bad;

before(async () => {
  depotd = new Depotd({
    config: {
      max_frame_bytes: MAX_FRAME,
      stations: [...stationEntries(['GOOD', 'BAD', 'NEWBIE', 'OPEN'])],
    },
  });
  await depotd.start();
  good = await bootedStation(depotd, 'GOOD');
  bad = await bootedStation(depotd, 'BAD');
});

after(async () => {
  await good?.close();
  await bad?.close();
  const exit = await depotd?.stop();
  const sanitizer = depotd?.sanitizerReports() ?? [];
  await depotd?.cleanup();
  assert.deepEqual(exit, { code: 0, signal: null }, 'depotd stops cleanly on SIGTERM');
  assert.deepEqual(sanitizer, [], 'no sanitizer report on depotd stderr');
});

// The other station is still answered, promptly and correctly.
async function goodStationStillServed() {
  const res = await good.ok('Heartbeat', {});
  assert.match(res.currentTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
}

function assertCallError(frame, code, id) {
  assert.ok(Array.isArray(frame), `an OCPP-J array: ${JSON.stringify(frame)}`);
  assert.equal(frame[0], 4, `a CALLERROR: ${JSON.stringify(frame)}`);
  assert.equal(frame[1], id, `message id: ${JSON.stringify(frame)}`);
  assert.equal(frame[2], code, `error code: ${JSON.stringify(frame)}`);
  assert.equal(typeof frame[3], 'string', 'errorDescription is a string');
  assert.ok(frame[3].length <= 255, 'errorDescription at most 255 characters');
  assert.equal(typeof frame[4], 'object', 'errorDetails is an object');
}

const id37 = 'x'.repeat(37);
const id36 = 'y'.repeat(36);

// Whole frames that break the RPC framework: answered with the id the receiver could read, else "-1".
const frameCases = [
  { name: 'not JSON', text: '[2, "nj-1", "Heartbeat", {', code: 'RpcFrameworkError', id: '-1' },
  { name: 'plain text', text: 'hello depotd', code: 'RpcFrameworkError', id: '-1' },
  { name: 'JSON object, not an array', text: '{"messageTypeId":2,"id":"obj-1"}', code: 'RpcFrameworkError', id: '-1' },
  { name: 'empty array', text: '[]', code: 'RpcFrameworkError', id: '-1' },
  { name: 'message id not a string', text: '[2, 12345, "Heartbeat", {}]', code: 'RpcFrameworkError', id: '-1' },
  { name: 'message id of 37 characters', text: JSON.stringify([2, id37, 'Heartbeat', {}]), code: 'RpcFrameworkError', id: '-1' },
  { name: 'wrong MessageTypeId 7', text: '[7, "mt-7", "Heartbeat", {}]', code: 'MessageTypeNotSupported', id: 'mt-7' },
  { name: 'wrong MessageTypeId 5', text: '[5, "mt-5", "Heartbeat", {}]', code: 'MessageTypeNotSupported', id: 'mt-5' },
];

// CALLs with a readable id whose action or payload is wrong.
const longVendor = 'V'.repeat(51);
const callCases = [
  { name: 'unknown action', action: 'MakeCoffee', payload: {}, code: 'NotImplemented' },
  { name: 'action only a CSMS sends', action: 'ClearCache', payload: {}, code: 'NotSupported' },
  { name: 'type: evseId is a string', action: 'StatusNotification',
    payload: { ...statusPayload(), evseId: '1' }, code: 'TypeConstraintViolation' },
  // OCPP-J 2.0.1 §4.3: ProtocolError "Payload for Action is not conform the PDU structure".
  { name: 'payload is an array, not an object', action: 'Heartbeat', raw: (id) => `[2,"${id}","Heartbeat",[]]`,
    code: 'ProtocolError' },
  { name: 'required: connectorStatus missing', action: 'StatusNotification',
    payload: (({ connectorStatus, ...rest }) => rest)(statusPayload()), code: 'OccurrenceConstraintViolation' },
  { name: 'enum: connectorStatus Flying', action: 'StatusNotification',
    payload: { ...statusPayload(), connectorStatus: 'Flying' }, code: 'PropertyConstraintViolation' },
  { name: 'maxLength: vendorName of 51 characters', action: 'BootNotification',
    payload: { chargingStation: { vendorName: longVendor, model: 'm' }, reason: 'PowerUp' },
    code: 'PropertyConstraintViolation' },
  { name: 'additionalProperties: unknown field in Heartbeat', action: 'Heartbeat', payload: { coffee: true },
    code: 'OccurrenceConstraintViolation' },
  { name: 'minimum: stateOfCharge -1', action: 'NotifyEVChargingNeeds',
    payload: { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'DC',
      dcChargingParameters: { evMaxCurrent: 200, evMaxVoltage: 800, stateOfCharge: -1 } } },
    code: 'PropertyConstraintViolation' },
  { name: 'maximum: fullSoC 101', action: 'NotifyEVChargingNeeds',
    payload: { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'DC',
      dcChargingParameters: { evMaxCurrent: 200, evMaxVoltage: 800, fullSoC: 101 } } },
    code: 'PropertyConstraintViolation' },
  { name: 'date-time: timestamp "yesterday"', action: 'StatusNotification',
    payload: { ...statusPayload(), timestamp: 'yesterday' }, code: 'FormatViolation' },
  { name: 'date-time: no time zone', action: 'StatusNotification',
    payload: { ...statusPayload(), timestamp: '2026-11-26T10:00:00' }, code: 'FormatViolation' },
];

describe('RPC framework errors are answered with the readable id or "-1"', () => {
  for (const c of frameCases) {
    test(`${c.name} -> ${c.code} id ${c.id}`, async () => {
      bad.send(c.text);
      assertCallError(await bad.answer(c.id), c.code, c.id);
      await goodStationStillServed();
    });
  }

  test('a message id of exactly 36 characters is accepted', async () => {
    const res = await bad.call('Heartbeat', {}, id36);
    assert.equal(res[0], 3, JSON.stringify(res));
    assert.equal(res[1], id36);
    await goodStationStillServed();
  });

  test('binary frame -> RpcFrameworkError id -1', async () => {
    bad.sendBinary(Buffer.from(JSON.stringify([2, 'bin-1', 'Heartbeat', {}])));
    assertCallError(await bad.answer('-1'), 'RpcFrameworkError', '-1');
    await goodStationStillServed();
  });

  test(`frame over max_frame_bytes (${MAX_FRAME}) -> RpcFrameworkError with the id from its head`, async () => {
    const id = newId('big');
    const text = JSON.stringify([2, id, 'DataTransfer', { vendorId: 'depotd-itest', data: 'A'.repeat(4 * MAX_FRAME) }]);
    bad.send(text);
    assertCallError(await bad.answer(id), 'RpcFrameworkError', id);
    await goodStationStillServed();
    // A message just under the limit is still handled normally.
    const fits = JSON.stringify([2, newId('fit'), 'DataTransfer', { vendorId: 'depotd-itest', data: '' }]);
    const pad = MAX_FRAME - fits.length - 16;
    const id2 = newId('fit');
    const res = await bad.call('DataTransfer', { vendorId: 'depotd-itest', data: 'B'.repeat(pad) }, id2);
    assert.equal(res[0], 3, JSON.stringify(res).slice(0, 200));
    assert.equal(res[2].status, 'UnknownVendorId');
  });
});

describe('CALLs with a wrong action or payload get the schema error of the first broken field', () => {
  for (const c of callCases) {
    test(`${c.name} -> ${c.code}`, async () => {
      const id = newId('bad');
      bad.send(c.raw ? c.raw(id) : JSON.stringify([2, id, c.action, c.payload]));
      assertCallError(await bad.answer(id), c.code, id);
      await goodStationStillServed();
    });
  }

  test('every refused frame is in the event log with its error code as status', async () => {
    // Refused frames are logged, not held for durability: wait for the writer.
    const expected = frameCases.filter((c) => c.id !== '-1').length + callCases.length;
    const rows = await eventually(() => {
      const r = sql(depotd.db, "SELECT message_id, status FROM events WHERE type='ocpp_in' AND station='BAD'" +
        " AND status NOT IN ('ok','repeat') AND message_id != '-1'");
      return r.length >= expected ? r : null;
    }, 'refused frames logged');
    const byId = new Map(rows.map((r) => [r.message_id, r.status]));
    for (const c of frameCases.filter((f) => f.id !== '-1')) assert.equal(byId.get(c.id), c.code, c.name);
    const codes = rows.map((r) => r.status);
    for (const c of callCases) assert.ok(codes.includes(c.code), `${c.name} logged as ${c.code}`);
  });
});

test('DataTransfer is answered UnknownVendorId', async () => {
  const res = await bad.ok('DataTransfer', { vendorId: 'com.example', messageId: 'x' });
  assert.equal(res.status, 'UnknownVendorId');
  await goodStationStillServed();
});

test('a CALL before BootNotification gets SecurityError; after boot it is served', async () => {
  const newbie = await connectRaw(depotd.url('NEWBIE'));
  try {
    for (const [action, payload] of [['Heartbeat', {}], ['StatusNotification', statusPayload()],
      ['Authorize', { idToken: { idToken: 'VAN-0001', type: 'ISO14443' } }]]) {
      const id = newId('early');
      const res = await newbie.call(action, payload, id);
      assertCallError(res, 'SecurityError', id);
      await goodStationStillServed();
    }
    const boot = await newbie.ok('BootNotification', bootPayload());
    assert.equal(boot.status, 'Accepted');
    await newbie.ok('Heartbeat', {});
  } finally {
    await newbie.close();
  }
});

describe('refused handshakes: the client never gets a served socket, depotd keeps serving', () => {
  const refusals = [
    { name: 'no subprotocol', station: 'OPEN', opts: { protocols: [] }, reason: 'subprotocol' },
    { name: 'wrong subprotocol ocpp1.6', station: 'OPEN', opts: { protocols: ['ocpp1.6'] }, reason: 'subprotocol' },
    // A password the station never verified with is checked off the loop: the upgrade may complete, and depotd
    // closes the socket (1008) before reading a frame; the same password again is refused in the upgrade.
    { name: 'wrong password', station: 'OPEN', opts: { password: 'not-the-password-0001' }, reason: 'wrong password',
      offLoop: true },
    { name: 'no credentials', station: 'OPEN', opts: { password: null }, reason: 'no basic auth' },
    { name: 'basic auth user is another station', station: 'OPEN', opts: { station: 'GOOD' }, reason: 'user' },
    { name: 'unknown station', station: 'NOBODY', opts: {}, reason: 'unknown station' },
    { name: 'bad station id (space)', url: (p) => `ws://127.0.0.1:${p}/ocpp/a%20b`, opts: { station: 'a b' },
      reason: 'station id' },
    { name: 'station id of 49 characters', station: 'S'.repeat(49), opts: {}, reason: 'station id' },
    { name: 'path outside the prefix', url: (p) => `ws://127.0.0.1:${p}/other/OPEN`, opts: { station: 'OPEN' },
      reason: 'prefix' },
  ];
  for (const r of refusals) {
    test(r.name, async () => {
      const before = sql(depotd.db, 'SELECT coalesce(max(seq), 0) AS s FROM events')[0].s;
      const url = r.url ? r.url(depotd.port) : depotd.url(r.station);
      let err = await connectRaw(url, r.opts).then((c) => c, (e) => e);
      if (r.offLoop && !(err instanceof Error)) {
        const closed = await withTimeout(err.closedPromise, WAIT_MS, 'depotd closes the unverified socket');
        assert.equal(closed.code, 1008, JSON.stringify(closed));
        assert.match(closed.reason, new RegExp(r.reason));
        assert.equal(err.inbox.length, 0, 'nothing was served on it');
        err = await connectRaw(url, r.opts).then((c) => c, (e) => e);
        assert.equal(err?.refusal?.status, 401, 'the same password again: refused in the upgrade, no hashing');
      } else if (!(err instanceof Error)) {
        err.terminate();
        err = null;
      }
      assert.ok(err, 'the handshake is refused');
      // Refused in the upgrade: an HTTP error status or a dropped connection, never an open websocket.
      assert.ok(err.refusal && (err.refusal.status >= 400 || err.refusal.error || err.refusal.closeCode),
        JSON.stringify(err.refusal));
      await goodStationStillServed();
      // The refusal is in the event log with its reason (an operator's only clue why a charger stays away).
      const rows = await eventually(() => {
        const x = sql(depotd.db, `SELECT data FROM events WHERE type='refused' AND seq > ${before} ORDER BY seq`);
        return x.length ? x : null;
      }, `refusal "${r.reason}" logged`, 5000);
      assert.equal(rows.length, r.offLoop ? rows.length : 1, JSON.stringify(rows));
      for (const row of rows) assert.match(JSON.parse(row.data).reason, new RegExp(r.reason));
    });
  }

  test('the refused station can still connect properly afterwards', async () => {
    const open = await bootedStation(depotd, 'OPEN');
    await open.ok('Heartbeat', {});
    await open.close();
  });
});

test('the misbehaving station is itself still served after all of it', async () => {
  const res = await bad.ok('Heartbeat', {});
  assert.ok(res.currentTime);
  const st = await bad.ok('StatusNotification', statusPayload(1, 1, 'Available', isoNow()));
  assert.deepEqual(st, {});
});
