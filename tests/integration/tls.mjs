// TLS: OCPP security profiles 2 and 3 over real TLS, with certificates made at test time by the openssl command
// line (pki.mjs). An independent client, npm `ocpp-rpc` in strict mode, boots a profile-2 station (password over
// wss://) and a profile-3 station (its client certificate, no password); raw TLS sockets and `ws` try what must be
// refused: plain ws:// for a profile-2 station (downgrade), station A's certificate used as station B, no
// certificate, a rogue CA's, an expired one, a TLS 1.2 suite the whitepaper does not list. Each refusal is answered
// (HTTP 403/401 or the TLS alert), recorded as a `refused` event, and depotd serves the next station after it.
// SIGHUP loads a renewed certificate while a station stays connected; a broken file on SIGHUP keeps the old one.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  Depotd, REPO, requireRepo, hashPassword, connectRaw, bootPayload, sql, eventually, withTimeout, WAIT_MS, PASSWORD,
} from './lib.mjs';
import { makePki, read } from './pki.mjs';

const { RPCClient } = requireRepo('ocpp-rpc');
const DEPOTSIM = process.env.DEPOTSIM || path.join(REPO, 'build', 'sim', 'depotsim');

const API_TOKEN = 'tls-test-viewer-token-0001-of-32-chars-or-more';
const ADMIN_TOKEN = 'tls-test-admin-token-0001-of-32-chars-or-more';
const P1 = 'TLS-P1';
const P2 = 'TLS-P2';
const A = 'TLS-P3-A';
const B = 'TLS-P3-B';

let depotd;
let dir;
let pki;
let live; // the certificate and key files depotd is configured with (replaced by the SIGHUP test)
const clients = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depotd-tls-'));
  pki = makePki(path.join(dir, 'pki'), [A, B]);
  live = { cert: path.join(dir, 'live.pem'), key: path.join(dir, 'live.key') };
  fs.copyFileSync(pki.server.cert, live.cert);
  fs.copyFileSync(pki.server.key, live.key);
  const hash = hashPassword();
  depotd = new Depotd({
    dir,
    config: {
      read_capabilities: false,
      api_port: 0,
      api_tls_cert_file: pki.server.cert,
      api_tls_key_file: pki.server.key,
      api_tokens: [{ name: 'viewer', role: 'viewer',
        token_hash: 'sha256$' + crypto.createHash('sha256').update(API_TOKEN).digest('hex') },
      { name: 'admin', role: 'admin',
        token_hash: 'sha256$' + crypto.createHash('sha256').update(ADMIN_TOKEN).digest('hex') }],
      station_ca_cert_file: pki.ca,
      station_ca_key_file: path.join(dir, 'pki', 'ca.key'),
      tls_port: 0,
      tls_cert_file: live.cert,
      tls_key_file: live.key,
      tls_ca_file: pki.ca,
      stations: [
        { id: P1, password_hash: hash, security_profile: 1 },
        { id: P2, password_hash: hash }, // the default with TLS: 2
        { id: A, security_profile: 3 },
        { id: B, security_profile: 3 },
        { id: 'SIMCS01', password_hash: hashPassword('depotsim-secret-01') }, // examples/sim/depot-small.json
      ],
    },
  });
  await depotd.start();
});

after(async () => {
  for (const c of clients) await c.close({ force: true }).catch(() => {});
  await depotd?.cleanup();
  if (dir && !process.env.KEEP_TLS_DIR) fs.rmSync(dir, { recursive: true, force: true });
});

// An ocpp-rpc station (strict: every frame checked against its own copy of the OCPP 2.0.1 schemas).
async function rpcStation(identity, wsOpts, password) {
  const client = new RPCClient({
    endpoint: `wss://127.0.0.1:${depotd.tlsPort}/ocpp`,
    identity,
    password,
    protocols: ['ocpp2.0.1'],
    strictMode: true,
    callTimeoutMs: WAIT_MS,
    reconnect: false,
    wsOpts,
  });
  clients.push(client);
  await withTimeout(client.connect(), WAIT_MS, `${identity} connect`);
  return client;
}

// A bare TLS handshake with depotd's listener; resolves with the socket's facts, or {error} when refused.
function handshake(opts = {}) {
  return withTimeout(new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: depotd.tlsPort, ca: read(pki.ca), ...opts }, () => {
      const facts = { protocol: s.getProtocol(), cipher: s.getCipher().standardName,
        fingerprint: s.getPeerCertificate().fingerprint256 };
      s.end();
      resolve(facts);
    });
    s.on('error', (e) => resolve({ error: e.code || e.message }));
  }), WAIT_MS, 'TLS handshake');
}

const fingerprint = (file) => new crypto.X509Certificate(read(file)).fingerprint256;

async function refusedWith(station, opts, status) {
  const err = await connectRaw(depotd.tlsUrl(station), { station, ...opts }).then(
    (c) => { c.terminate(); return null; }, (e) => e);
  assert.ok(err, `${station}: the handshake was refused`);
  assert.equal(err.refusal.status, status, `${station}: HTTP ${status} (${JSON.stringify(err.refusal)})`);
}

const refusals = (station) => sql(depotd.db,
  `SELECT json_extract(data, '$.reason') AS reason FROM events WHERE type = 'refused' AND station = '${station}'`)
  .map((r) => r.reason);

test('profile 2: an ocpp-rpc station boots and heartbeats over wss:// with its password', async () => {
  const c = await rpcStation(P2, { ca: read(pki.ca) }, PASSWORD);
  const boot = await c.call('BootNotification', bootPayload());
  assert.equal(boot.status, 'Accepted');
  const hb = await c.call('Heartbeat', {});
  assert.ok(Date.parse(hb.currentTime) > 0, 'Heartbeat answered with a time');
  await c.close();
  const wrong = await connectRaw(depotd.tlsUrl(P2), { station: P2, password: 'not-the-password',
    tls: { ca: read(pki.ca) } }).then((x) => { x.terminate(); return null; }, (e) => e);
  assert.equal(wrong?.refusal?.status, 401, 'a wrong password over TLS is still refused');
});

test('no downgrade: a profile-2 station on plain ws:// is refused before its password is checked', async () => {
  const err = await connectRaw(depotd.url(P2), { station: P2 }).then((c) => { c.terminate(); return null; }, (e) => e);
  assert.equal(err?.refusal?.status, 403, JSON.stringify(err?.refusal));
  await eventually(() => refusals(P2).some((r) => /security profile 2: plain ws:\/\/ refused/.test(r)),
    'the refusal is a refused event naming the profile');
  // A profile-1 station keeps both doors.
  for (const url of [depotd.url(P1), depotd.tlsUrl(P1)]) {
    const c = await connectRaw(url, { station: P1, tls: { ca: read(pki.ca) } });
    assert.equal((await c.ok('BootNotification', bootPayload())).status, 'Accepted', `profile 1 over ${url}`);
    await c.close();
  }
});

test('profile 3: an ocpp-rpc station authenticates with its client certificate alone', async () => {
  const c = await rpcStation(A, { ca: read(pki.ca), cert: read(pki.stations[A].cert), key: read(pki.stations[A].key) });
  const boot = await c.call('BootNotification', bootPayload());
  assert.equal(boot.status, 'Accepted');
  await c.call('Heartbeat', {});
  await c.close();
});

test('profile 3 refusals: A\'s certificate as B, none, a rogue CA\'s, an expired one, over plain ws', async () => {
  const ca = read(pki.ca);
  await refusedWith(B, { password: null, tls: { ca, cert: read(pki.stations[A].cert), key: read(pki.stations[A].key) } }, 401);
  await refusedWith(B, { password: null, tls: { ca } }, 401);
  await refusedWith(A, { password: null, tls: { ca, cert: read(pki.rogue[A].cert), key: read(pki.rogue[A].key) } }, 401);
  await refusedWith(A, { password: null, tls: { ca, cert: read(pki.expired[A].cert), key: read(pki.expired[A].key) } }, 401);
  const plain = await connectRaw(depotd.url(A), { station: A, password: null }).then((c) => { c.terminate(); return null; }, (e) => e);
  assert.equal(plain?.refusal?.status, 403, 'profile 3 over ws:// is a downgrade');
  await eventually(() => {
    const b = refusals(B);
    const a = refusals(A);
    return b.some((r) => /issued to "TLS-P3-A", not to this station/.test(r)) &&
      b.some((r) => /no client certificate/.test(r)) &&
      a.some((r) => /not accepted: .*(unable to (verify|get local issuer)|self.signed)/.test(r)) &&
      a.some((r) => /not accepted: certificate has expired/.test(r));
  }, 'each refusal recorded with its reason');
  // depotd is alive and serves A with the right certificate after all that.
  const c = await connectRaw(depotd.tlsUrl(A), { station: A, password: null,
    tls: { ca, cert: read(pki.stations[A].cert), key: read(pki.stations[A].key) } });
  assert.equal((await c.ok('BootNotification', bootPayload())).status, 'Accepted');
  await c.close();
});

test('TLS 1.2 with the whitepaper\'s suites and TLS 1.3; a suite it does not list is refused', async () => {
  const t12 = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  assert.equal(t12.protocol, 'TLSv1.2', JSON.stringify(t12));
  assert.equal(t12.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  const t13 = await handshake();
  assert.equal(t13.protocol, 'TLSv1.3', JSON.stringify(t13));
  // OpenSSL's own default list has CBC suites; depotd's does not.
  const cbc = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA' });
  assert.ok(cbc.error, `a CBC suite is refused (${JSON.stringify(cbc)})`);
});

// depotsim's conformance driver as the station: exit code and what it printed.
function conform(args) {
  return new Promise((resolve) => {
    execFile(DEPOTSIM, ['conform', '--csms', `wss://127.0.0.1:${depotd.tlsPort}/ocpp`, '--wait', '3', ...args],
      { timeout: WAIT_MS * 2 }, (err, stdout, stderr) => resolve({ code: err ? err.code ?? -1 : 0, out: stdout + stderr }));
  });
}

test('depotsim speaks TLS: wss:// with --ca (profile 2), and --cert/--key (profile 3)', async () => {
  const p2 = await conform(['--id', P2, '--password', PASSWORD, '--ca', pki.ca, '--only', 'G02_heartbeat']);
  assert.equal(p2.code, 0, p2.out);
  assert.match(p2.out, /G02_heartbeat\s+PASS/);
  const p3 = await conform(['--id', A, '--ca', pki.ca, '--cert', pki.stations[A].cert, '--key', pki.stations[A].key,
    '--only', 'G02_heartbeat']);
  assert.equal(p3.code, 0, p3.out);
  assert.match(p3.out, /G02_heartbeat\s+PASS/);
  // Against another CA depotd's certificate does not verify: no connection.
  const wrongCa = await conform(['--id', P2, '--password', PASSWORD, '--ca', path.join(dir, 'pki', 'rogue.pem'),
    '--only', 'G02_heartbeat']);
  assert.notEqual(wrongCa.code, 0, wrongCa.out);
});

// One HTTPS request to the API; resolves with {status, body} or {error}.
function apiGet(pathname, opts = {}) {
  const port = Number(/JSON API on https:\/\/127\.0\.0\.1:(\d+)\//.exec(depotd.stderr())[1]);
  return withTimeout(new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: pathname, ca: read(pki.ca),
      headers: { Authorization: `Bearer ${API_TOKEN}` }, ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ error: e.code || e.message }));
  }), WAIT_MS, 'API request');
}

test('the JSON API over https:// (api_tls_*), on loopback by default; plain http on its port gets nothing', async () => {
  assert.match(depotd.stderr(), /JSON API on https:\/\/127\.0\.0\.1:\d+\/api\/v1\//);
  const r = await apiGet('/api/v1/stations');
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.ok(JSON.parse(r.body).items.some((s) => s.id === P2), 'the stations, read over TLS');
  const cbc = await apiGet('/api/v1/stations', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256' });
  assert.ok(cbc.error, `the API refuses a suite the whitepaper does not list (${JSON.stringify(cbc)})`);
  const port = Number(/JSON API on https:\/\/127\.0\.0\.1:(\d+)\//.exec(depotd.stderr())[1]);
  const plain = await withTimeout(fetch(`http://127.0.0.1:${port}/api/v1/stations`, {
    headers: { Authorization: `Bearer ${API_TOKEN}` } }).then((x) => x.status, (e) => e.cause?.code || e.message),
  WAIT_MS, 'plain http');
  assert.notEqual(plain, 200, `no answer in clear text (${plain})`);
});

function apiPost(pathname, body) {
  const port = Number(/JSON API on https:\/\/127\.0\.0\.1:(\d+)\//.exec(depotd.stderr())[1]);
  return withTimeout(new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathname, method: 'POST', ca: read(pki.ca),
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text || 'null') }));
    });
    req.on('error', (e) => resolve({ error: e.code || e.message }));
    req.end(JSON.stringify(body));
  }), WAIT_MS, 'API command');
}

// A key and a CSR for `cn`, made by the openssl command line (node makes no CSRs).
function csrFor(cn, name) {
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  return { key: keyFile, csr: fs.readFileSync(csrFile, 'utf8') };
}

test('A03, A02 and M: a station renews its certificate with the depot CA; the CA is installed through the API', async () => {
  const signed = [];
  const installed = [];
  let client;
  const handlers = (c) => {
    c.handle('CertificateSigned', ({ params }) => { signed.push(params); return { status: 'Accepted' }; });
    c.handle('InstallCertificate', ({ params }) => { installed.push(params); return { status: 'Accepted' }; });
    c.handle('TriggerMessage', ({ params }) => {
      if (params.requestedMessage === 'SignChargingStationCertificate') {
        setImmediate(() => c.call('SignCertificate', { csr: csrFor(A, 'a02').csr,
          certificateType: 'ChargingStationCertificate' }).catch(() => {}));
      }
      return { status: 'Accepted' };
    });
  };
  client = await rpcStation(A, { ca: read(pki.ca), cert: read(pki.stations[A].cert), key: read(pki.stations[A].key) });
  handlers(client);
  await client.call('BootNotification', bootPayload());
  // A03: the station asks; the chain it gets verifies against the depot CA and names it.
  const fresh = csrFor(A, 'a03');
  const r = await client.call('SignCertificate', { csr: fresh.csr, certificateType: 'ChargingStationCertificate' });
  assert.equal(r.status, 'Accepted', JSON.stringify(r));
  await eventually(() => signed.length === 1, 'CertificateSigned');
  const chainFile = path.join(dir, 'a03-chain.pem');
  fs.writeFileSync(chainFile, signed[0].certificateChain);
  execFileSync('openssl', ['verify', '-CAfile', pki.ca, chainFile]);
  assert.equal(new crypto.X509Certificate(signed[0].certificateChain).subject, `CN=${A}`);
  // Another station's name in the CSR: refused.
  const other = await client.call('SignCertificate', { csr: csrFor(B, 'b').csr, certificateType: 'ChargingStationCertificate' });
  assert.equal(other.status, 'Rejected');
  assert.match(other.statusInfo.additionalInfo, /not the station id/);
  await client.close();
  // The new certificate is good for profile 3.
  const renewed = await connectRaw(depotd.tlsUrl(A), { station: A, password: null,
    tls: { ca: read(pki.ca), cert: read(chainFile), key: read(fresh.key) } });
  assert.equal((await renewed.ok('BootNotification', bootPayload())).status, 'Accepted');
  await renewed.close();
  // A02 through the API: TriggerMessage SignChargingStationCertificate, and the station gets a certificate again.
  client = await rpcStation(A, { ca: read(pki.ca), cert: read(pki.stations[A].cert), key: read(pki.stations[A].key) });
  handlers(client);
  await client.call('BootNotification', bootPayload());
  const trig = await apiPost(`/api/v1/stations/${A}/commands`, { action: 'TriggerMessage',
    request: { requestedMessage: 'SignChargingStationCertificate' } });
  assert.equal(trig.status, 200, JSON.stringify(trig));
  await eventually(() => signed.length === 2, 'the second CertificateSigned (A02)');
  // M: the depot CA installed as the station's CSMS root.
  const inst = await apiPost(`/api/v1/stations/${A}/commands`, { action: 'InstallCertificate',
    request: { certificateType: 'CSMSRootCertificate', certificate: fs.readFileSync(pki.ca, 'utf8') } });
  assert.equal(inst.status, 200, JSON.stringify(inst));
  assert.equal(installed.length, 1);
  assert.equal(installed[0].certificateType, 'CSMSRootCertificate');
  await client.close();
  const events = sql(depotd.db, `SELECT json_extract(data, '$.status') AS s FROM events WHERE type = 'certificate' AND station = '${A}'`)
    .map((x) => x.s);
  assert.deepEqual(events, ['Accepted', 'Rejected', 'Accepted']);
});

test('A02 with depotsim: the API triggers a certificate, depotsim makes the CSR and installs the signed chain', async () => {
  const sim = spawn(DEPOTSIM, ['run', '--csms', `wss://127.0.0.1:${depotd.tlsPort}/ocpp`, '--ca', pki.ca, '--depot',
    path.join(REPO, 'examples', 'sim', 'depot-small.json'), '--scenario',
    path.join(REPO, 'examples', 'sim', 'scenario-small.json'), '--speed', '600', '--max-real-seconds', '60'],
  { stdio: 'ignore' });
  try {
    await eventually(() => sql(depotd.db, "SELECT 1 FROM events WHERE station = 'SIMCS01' AND type = 'ocpp_out' AND "
      + "action = 'BootNotification' AND msg_type = 3").length, 'depotsim booted over wss://');
    const trig = await apiPost('/api/v1/stations/SIMCS01/commands', { action: 'TriggerMessage',
      request: { requestedMessage: 'SignChargingStationCertificate' } });
    assert.equal(trig.status, 200, JSON.stringify(trig));
    assert.equal(trig.json.response.status, 'Accepted');
    const signed = await eventually(() => sql(depotd.db, "SELECT data FROM events WHERE station = 'SIMCS01' AND "
      + "type = 'ocpp_in' AND action = 'CertificateSigned' AND msg_type = 3").map((x) => x.data)[0],
    'depotsim answered CertificateSigned');
    assert.match(signed, /"status":"Accepted"/, 'depotsim installed the chain: its first certificate is for its key');
  } finally {
    sim.kill('SIGKILL');
  }
});

test('SIGHUP: a renewed certificate is served to new connections, the open ones stay', async () => {
  const c = await connectRaw(depotd.tlsUrl(P2), { station: P2, tls: { ca: read(pki.ca) } });
  await c.ok('BootNotification', bootPayload());
  assert.equal((await handshake()).fingerprint, fingerprint(pki.server.cert));

  fs.copyFileSync(pki.server2.cert, live.cert);
  fs.copyFileSync(pki.server2.key, live.key);
  depotd.proc.kill('SIGHUP');
  await eventually(async () => (await handshake()).fingerprint === fingerprint(pki.server2.cert),
    'new handshakes get the renewed certificate');
  assert.ok((await c.ok('Heartbeat', {})).currentTime, 'the station connected before SIGHUP is still served');

  // A broken file on SIGHUP: logged, and the certificate in force stays.
  fs.writeFileSync(live.cert, 'not a certificate\n');
  depotd.proc.kill('SIGHUP');
  await eventually(() => /SIGHUP: tls_cert_file: cannot load/.test(depotd.stderr()), 'the failed reload is logged');
  assert.equal((await handshake()).fingerprint, fingerprint(pki.server2.cert), 'the renewed certificate stays');
  assert.ok((await c.ok('Heartbeat', {})).currentTime);
  await c.close();
  assert.equal(depotd.exited, null, 'depotd alive');
});

test('A01: a new password through the API, the old one until the station uses the new; never logged; kept across a restart', async () => {
  let current = PASSWORD;
  const station = () => rpcStation(P2, { ca: read(pki.ca) }, current);
  let c = await station();
  let told = null;
  c.handle('SetVariables', ({ params }) => {
    told = params.setVariableData[0].attributeValue;
    return { setVariableResult: params.setVariableData.map((x) => ({ attributeStatus: 'Accepted', component: x.component,
      variable: x.variable })) };
  });
  await c.call('BootNotification', bootPayload());
  const r = await apiPost(`/api/v1/stations/${P2}/password`, {});
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.ok(told && told.length >= 16 && told.length <= 40, `the station was given a password of 16-40 characters`);
  await c.close();
  const tries = async (password) => connectRaw(depotd.tlsUrl(P2), { station: P2, password, tls: { ca: read(pki.ca) } })
    .then(async (x) => {
      const boot = await x.call('BootNotification', bootPayload()).catch(() => null);
      const closed = x.closed;
      x.terminate();
      return boot && boot[0] === 3 && !closed ? 'in' : 'out';
    }, () => 'out');
  assert.equal(await tries(PASSWORD), 'in', 'the old password still works until the new one is used');
  assert.equal(await tries(told), 'in', 'the new one works');
  assert.equal(await tries(PASSWORD), 'out', 'after that, the old one is done');
  const all = sql(depotd.db, 'SELECT data FROM events').map((x) => x.data).join('\n');
  assert.ok(!all.includes(told), 'the new password is nowhere in the event log');
  assert.ok(all.includes('"attributeValue":"(redacted)"'), 'the SetVariables frame is logged redacted');
  fs.copyFileSync(pki.server2.cert, live.cert); // the SIGHUP test left a broken file in place
  await depotd.stop();
  await depotd.start();
  assert.equal(await tries(told), 'in', 'after a restart the new password is the one in force');
  current = told;
});
