// Wire fuzzing: seeded random mutations sent to a running depotd (under the sanitizers in the ASan build), each
// batch bounded in count, then a check that depotd is alive, serves a station and reported no sanitizer error.
//  - the websocket handshake: mutated upgrade requests over raw TCP (path, station id, subprotocol, Basic auth);
//  - the HTTP API: mutated request lines, query strings, headers and JSON bodies, with a valid admin token;
//  - the OCPP handlers with a valid, booted session: every action's example payload, mutated.
// Deterministic (seeded): a failure names the seed and the input. The libFuzzer targets go deeper into the
// parsers (tests/store/fuzz_config.c, tests/tariffs/fuzz_parsers.c, tests/ocpp/fuzz_frame.c).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import {
  Depotd, stationEntries, bootedStation, bootPayload, statusPayload, txEvent, eventually, withTimeout, PASSWORD,
  WAIT_MS,
} from './lib.mjs';

const SEED = Number(process.env.FUZZ_SEED || 7);
const ADMIN = 'fuzz-admin-token-0001-of-32-chars-or-more';
let depotd;
let good;
let apiPort;
let rng = SEED;
const rnd = (n) => {
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng % n;
};
const PIECES = ['%', '%00', '%zz', '/', '..', '?', '&', '=', '"', '{', '}', '[', ']', ':', ',', '\\', '\u00e9', '\r\n',
  ' ', '-1', '1e999', 'null', 'true', 'A'.repeat(300), '\u0000', '*', '\ud800'];

function mutate(text) {
  let s = text;
  const rounds = 1 + rnd(4);
  for (let i = 0; i < rounds; i++) {
    const at = rnd(s.length + 1);
    switch (rnd(4)) {
      case 0: s = s.slice(0, at) + PIECES[rnd(PIECES.length)] + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + rnd(8)); break;
      case 2: s = s.slice(0, at) + String.fromCharCode(rnd(256)) + s.slice(at + 1); break;
      default: s = s.slice(0, at) + s.slice(rnd(s.length + 1)); break;
    }
  }
  return s;
}

// One raw exchange: write, read until the server closes or 100 ms pass. Never throws.
function raw(port, data) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => { sock.destroy(); resolve(got); };
    sock.setTimeout(100, done);
    sock.on('data', (b) => { got += b.toString('latin1'); });
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => sock.write(Buffer.from(data, 'latin1')));
  });
}

// n exchanges, ten at a time (bounded: each ends within 100 ms of its last byte).
async function batches(n, one) {
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, one));
}

async function alive(what) {
  assert.equal(depotd.exited, null, `depotd exited after ${what}`);
  assert.ok((await good.ok('Heartbeat', {})).currentTime, `depotd serves a station after ${what}`);
  assert.deepEqual(depotd.sanitizerReports(), [], `no sanitizer report after ${what}`);
}

before(async () => {
  depotd = new Depotd({
    config: {
      api_port: 0,
      api_tokens: [{ name: 'admin', role: 'admin',
        token_hash: 'sha256$' + crypto.createHash('sha256').update(ADMIN).digest('hex') }],
      stations: stationEntries(['FUZZ-GOOD', 'FUZZ-1']),
      max_messages_per_s: 100000, // the frames come as fast as node sends them
      control: { site_limit_kw: 50, vehicles: [{ id: 'van-1', id_tokens: ['VAN-1'] }] },
    },
  });
  await depotd.start();
  apiPort = Number((await eventually(() => /JSON API on http:\/\/127\.0\.0\.1:(\d+)\//.exec(depotd.stderr()),
    'the API listening'))[1]);
  good = await bootedStation(depotd, 'FUZZ-GOOD');
});

after(async () => {
  good?.terminate();
  await depotd?.cleanup();
});

test(`the websocket handshake: 400 mutated upgrade requests (seed ${SEED})`, async () => {
  const auth = Buffer.from(`FUZZ-1:${PASSWORD}`).toString('base64');
  const base = `GET /ocpp/FUZZ-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
    + `Sec-WebSocket-Protocol: ocpp2.0.1\r\nAuthorization: Basic ${auth}\r\n\r\n`;
  await batches(400, () => raw(depotd.port, mutate(base)));
  await alive('the mutated handshakes');
});

test(`the HTTP API: 600 mutated requests with an admin token (seed ${SEED})`, async () => {
  const bases = [
    `GET /api/v1/events?limit=5&type=refused&order=desc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`,
    `GET /api/v1/plan?at=2026-12-07T00:00:00Z HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`,
    `GET /api/v1/sessions?vehicle=van-1&active=true&cursor=5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`,
  ];
  const bodies = [
    ['PUT', '/api/v1/vehicles/van-1', '{"battery_kwh": 60, "max_kw": 11, "id_tokens": ["VAN-1"], "fleet": "north"}'],
    ['PUT', '/api/v1/vehicles/van-1/departure', '{"departure": "2030-01-01T06:00:00Z", "energy_kwh": 20}'],
    ['PUT', '/api/v1/site/limit', '{"limit_kw": 30, "until": "2030-01-01T06:00:00Z"}'],
    ['POST', '/api/v1/stations/FUZZ-GOOD/commands', '{"action": "TriggerMessage", "request": {"requestedMessage": "Heartbeat"}}'],
  ];
  for (const [m, p, b] of bodies) {
    bases.push(`${m} ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${ADMIN}\r\n`
      + 'Content-Type: application/json\r\n'
      + `Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
  }
  await batches(600, () => raw(apiPort, mutate(bases[rnd(bases.length)])));
  await alive('the mutated API requests');
});

test(`the OCPP handlers in a booted session: 1500 mutated CALLs (seed ${SEED})`, async () => {
  const st = await bootedStation(depotd, 'FUZZ-1');
  const examples = [
    ['BootNotification', bootPayload()],
    ['StatusNotification', statusPayload(1, 1, 'Occupied')],
    ['TransactionEvent', txEvent({ eventType: 'Started', txId: 'fz-1', seqNo: 0, wh: 100, idToken: 'VAN-1' })],
    ['TransactionEvent', txEvent({ eventType: 'Updated', txId: 'fz-1', seqNo: 1, wh: 500, chargingState: 'Charging' })],
    ['MeterValues', { evseId: 1, meterValue: [{ timestamp: new Date().toISOString(),
      sampledValue: [{ value: 5, unitOfMeasure: { unit: 'kWh', multiplier: 3 } }] }] }],
    ['NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase',
      acChargingParameters: { energyAmount: 20000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } } }],
    ['Authorize', { idToken: { idToken: 'VAN-1', type: 'ISO14443' } }],
    ['SignCertificate', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n' }],
    ['NotifyReport', { requestId: 1, generatedAt: new Date().toISOString(), seqNo: 0 }],
  ];
  for (let i = 0; i < 1500; i++) {
    const [action, payload] = examples[rnd(examples.length)];
    const text = mutate(JSON.stringify([2, `fz${i}`, action, payload]));
    st.send(text);
    if (i % 50 === 49) await st.ok('Heartbeat', {}).catch(() => {}); // paces the batch; may be refused if broken
  }
  await st.ok('Heartbeat', {});
  const answered = st.inbox.filter((m) => Array.isArray(m.frame) && [3, 4].includes(m.frame[0])).length;
  assert.ok(answered >= 1000, `the session stayed up and answered the mutated CALLs (${answered} of 1500)`);
  st.terminate();
  await withTimeout(alive('the mutated CALLs'), WAIT_MS, 'alive');
});
