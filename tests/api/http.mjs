// The API's HTTP contract over real sockets: routing, auth, body limits, content types, problem+json, the
// ops endpoints (/healthz, /readyz, /metrics) and how a bad API config is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ApiDepotd, Depotd, DEPOTD, WAIT_MS, baseConfig, commandStation, depotConfig, makeTokens, parseResponses, problem, rawHttp,
  tokenHash,
} from './lib.mjs';

const tokens = makeTokens();
let d;

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens, { api_max_body_bytes: 1024 }) });
  await d.start();
});

after(async () => {
  if (d) await d.finish();
});

test('healthz answers without a token', async () => {
  const r = await d.req('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ok');
  assert.match(r.json.version, /^\d+\.\d+\.\d+|dev/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
});

test('readyz reports every check and is ready on a healthy depot', async () => {
  const r = await d.req('GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'ready');
  for (const c of ['loop', 'store_writable', 'disk', 'store_commit', 'store_read']) assert.equal(r.json.checks[c].ok, true, c);
  assert.ok(r.json.checks.store_read.last_seq >= 1, 'the store answered a read of the log');
});

test('unknown routes are 404 problems, even without a token', async () => {
  // (/ is the operator page: tests/api/web.mjs.)
  for (const p of ['/index.htm', '/api', '/api/v1', '/api/v2/stations', '/api/v1/nothing', '/api/v1/stations/CS1/evses',
    '/api/v1/vehicles/van-1/departure/x']) {
    const r = await d.req('GET', p);
    problem(assert, r, 404);
    assert.equal(r.json.instance, p);
  }
});

test('a method a route does not have is 405 with Allow', async () => {
  let r = await d.req('DELETE', '/api/v1/stations', { token: tokens.admin });
  problem(assert, r, 405);
  assert.equal(r.headers.get('allow'), 'GET');
  r = await d.req('PATCH', '/api/v1/vehicles/van-1/departure', { token: tokens.admin, body: {} });
  problem(assert, r, 405);
  assert.equal(r.headers.get('allow'), 'GET, PUT, DELETE');
  r = await d.req('POST', '/healthz');
  problem(assert, r, 405);
});

test('401 without a valid bearer token, with WWW-Authenticate', async () => {
  const cases = [
    {},
    { Authorization: 'Basic dXNlcjpwYXNz' },
    { Authorization: 'Bearer ' + 'x'.repeat(43) },
    { Authorization: 'Bearer short' },
    { Authorization: 'Bearer ' + tokens.admin.slice(0, 42) },
  ];
  for (const headers of cases) {
    const r = await d.req('GET', '/api/v1/stations', { headers });
    problem(assert, r, 401, 'Authorization');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="depotd"');
  }
  // /metrics is not public.
  problem(assert, await d.req('GET', '/metrics'), 401, 'Authorization');
});

test('403 when the role is too low, naming the role needed; the refused write is in the log', async () => {
  let r = await d.req('PUT', '/api/v1/site/limit', { token: tokens.viewer, body: { kw: 10 } });
  let p = problem(assert, r, 403);
  assert.match(p.detail, /wallboard.*viewer.*admin/);
  r = await d.req('PUT', '/api/v1/site/limit', { token: tokens.dispatcher, body: { kw: 10 } });
  problem(assert, r, 403);
  r = await d.req('POST', '/api/v1/stations/CS1/commands', { token: tokens.dispatcher, body: { action: 'Reset' } });
  problem(assert, r, 403);
  // Reads are allowed to every role.
  assert.equal((await d.req('GET', '/api/v1/site/limit', { token: tokens.viewer })).status, 200);
  r = await d.req('GET', '/api/v1/events?type=api&order=desc&limit=5', { token: tokens.admin });
  const refused = r.json.items.filter((e) => e.data.status === 403);
  assert.ok(refused.some((e) => e.data.by === 'wallboard' && e.data.path === '/api/v1/site/limit'));
});

test('400 for malformed JSON, naming the body and where it broke', async () => {
  const r = await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body: '{"kw": 10,' });
  const p = problem(assert, r, 400, 'body');
  assert.match(p.detail, /not valid JSON at byte \d+/);
  problem(assert, await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body: '' ,
    headers: { 'Content-Type': 'application/json' } }), 400, 'body');
});

test('422 for JSON that is not an object', async () => {
  problem(assert, await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body: '[1,2]' }), 422, 'body');
});

test('415 unless the body is application/json (a charset is fine)', async () => {
  const body = JSON.stringify({ kw: 10, until: new Date(Date.now() + 3600e3).toISOString() });
  problem(assert, await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body,
    headers: { 'Content-Type': 'text/plain' } }), 415, 'Content-Type');
  problem(assert, await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body,
    headers: { 'Content-Type': 'application/jsonx' } }), 415, 'Content-Type');
  const ok = await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body,
    headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await d.req('DELETE', '/api/v1/site/limit', { token: tokens.admin })).status, 200);
});

test('413 for a body over api_max_body_bytes, refused before it is read, and the connection closes', async () => {
  const body = JSON.stringify({ kw: 10, pad: 'x'.repeat(2000) });
  const text = await rawHttp(d.apiPort,
    `PUT /api/v1/site/limit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.admin}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const [res, ...more] = parseResponses(text);
  assert.equal(res.status, 413, text);
  assert.equal(res.headers['content-type'], 'application/problem+json');
  assert.equal(res.headers.connection, 'close');
  assert.equal(JSON.parse(res.body).field, 'body');
  assert.equal(more.length, 0);
  // Exactly at the limit is fine (and gets past the size check to the content checks).
  const exact = JSON.stringify({ kw: 10, pad: 'y'.repeat(1024 - JSON.stringify({ kw: 10, pad: '' }).length) });
  assert.equal(exact.length, 1024);
  const r = await d.req('PUT', '/api/v1/site/limit', { token: tokens.admin, body: exact });
  problem(assert, r, 422, 'pad');
});

test('411 for a chunked request body (lws cannot decode it), and the connection closes', async () => {
  const text = await rawHttp(d.apiPort,
    `PUT /api/v1/site/limit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.admin}\r\n` +
    'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"kw": 1}\r\n0\r\n\r\n');
  const res = parseResponses(text);
  assert.equal(res.length, 1, text);
  assert.equal(res[0].status, 411);
  assert.equal(JSON.parse(res[0].body).field, 'Content-Length');
});

test('one request per connection: a pipelining client gets its first answer and a close, and the loop stays free', async () => {
  // lws 4.1 spun the loop on a pipelined request with a body (BODY_COMPLETION again and again): found by
  // tests/store/fuzz_api.c. Now every answer closes its connection, whatever follows it.
  const auth = `Authorization: Bearer ${tokens.admin}\r\n`;
  const body = JSON.stringify({ kw: 10, until: new Date(Date.now() + 3600e3).toISOString() });
  const text = await rawHttp(d.apiPort,
    `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n` +
    `PUT /api/v1/site/limit HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}` +
    `GET /api/v1/site/limit HTTP/1.1\r\nHost: x\r\n${auth}\r\n`);
  const res = parseResponses(text);
  assert.deepEqual(res.map((r) => r.status), [200], text);
  assert.equal(res[0].headers.connection, 'close');
  // The PUT behind it was never read: no limit was set, and the loop answers at once.
  const t0 = Date.now();
  const lim = await d.req('GET', '/api/v1/site/limit', { token: tokens.viewer });
  assert.equal(lim.status, 200);
  assert.equal(lim.json.temporary, null, lim.text);
  assert.ok(Date.now() - t0 < 1000, `answered after ${Date.now() - t0} ms`);
  const st = await commandStation(d, 'CS1');
  await st.close();
});

test('a request pipelined behind one still waiting for its answer closes the connection (no freed request left parked)', async () => {
  // GET /stations waits for the reader thread; the body lets lws parse the next request at once. That request
  // used to wipe the parked one (use after free when the reader answered): found by tests/store/fuzz_api.c.
  const auth = `Authorization: Bearer ${tokens.viewer}\r\n`;
  for (let i = 0; i < 5; i++) {
    await rawHttp(d.apiPort,
      `GET /api/v1/stations HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}` +
      `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
  }
  const r = await d.req('GET', '/api/v1/stations', { token: tokens.viewer });
  assert.equal(r.status, 200);
  assert.equal(r.json.items.length, 2);
});

test('a trailing slash names the same resource', async () => {
  const r = await d.req('GET', '/api/v1/vehicles/', { token: tokens.viewer });
  assert.equal(r.status, 200);
  assert.equal(r.json.items.length, 3);
});

test('no websocket upgrades on the API port', async () => {
  const text = await rawHttp(d.apiPort,
    'GET /api/v1/stations HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n',
    { until: (t) => t.includes('</html>') });
  assert.match(text, /^HTTP\/1\.[01] 400 /);
  assert.match(text, /no websockets on the API port/);
});

function metricValue(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('metrics: Prometheus text with HELP and TYPE, counters that move', async () => {
  const r0 = await d.req('GET', '/metrics', { token: tokens.viewer });
  assert.equal(r0.status, 200);
  assert.match(r0.contentType, /^text\/plain; version=0\.0\.4/);
  const lines = r0.text.trim().split('\n');
  for (const l of lines) assert.match(l, /^(# (HELP|TYPE) depotd_\w+ .+|depotd_\w+(\{[^}]*\})? -?[\d.e+-]+)$/, l);
  const names = ['depotd_stations_known', 'depotd_stations_connected', 'depotd_connections_total',
    'depotd_ocpp_frames_in_total', 'depotd_ocpp_frames_out_total', 'depotd_ocpp_callerrors_sent_total',
    'depotd_ocpp_calls_sent_total', 'depotd_ocpp_call_timeouts_total', 'depotd_plans_total',
    'depotd_plan_solve_seconds', 'depotd_sessions_at_risk', 'depotd_site_limit_kw', 'depotd_site_planned_kw',
    'depotd_site_measured_kw', 'depotd_price_breaker_state', 'depotd_api_requests_total', 'depotd_loop_lag_seconds'];
  for (const n of names) assert.notEqual(metricValue(r0.text, n), undefined, n);
  assert.equal(metricValue(r0.text, 'depotd_stations_known'), 2);
  assert.equal(metricValue(r0.text, 'depotd_site_limit_kw'), 100);
  assert.match(r0.text, /depotd_price_breaker_state\{provider="[^"]+",state="none"\} 1/);

  const st = await commandStation(d, 'CS1');
  const r1 = await d.req('GET', '/metrics', { token: tokens.viewer });
  assert.equal(metricValue(r1.text, 'depotd_stations_connected'), 1);
  assert.equal(metricValue(r1.text, 'depotd_connections_total'), metricValue(r0.text, 'depotd_connections_total') + 1);
  assert.ok(metricValue(r1.text, 'depotd_ocpp_frames_in_total') > metricValue(r0.text, 'depotd_ocpp_frames_in_total'));
  assert.ok(metricValue(r1.text, 'depotd_api_requests_total') > metricValue(r0.text, 'depotd_api_requests_total'));
  await st.close();
});

// A config the API refuses stops depotd with an error naming the key.
function runBadConfig(extra) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depotd-api-cfg-'));
  const cfg = path.join(dir, 'c.json');
  fs.writeFileSync(cfg, JSON.stringify(baseConfig({ api_port: 0, ...extra })));
  return new Promise((resolve) => {
    execFile(DEPOTD, ['-c', cfg, '-d', path.join(dir, 'd.db')], { timeout: WAIT_MS }, (err, stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code: err ? err.code : 0, stderr });
    });
  });
}

test('bad api_tokens stop depotd with an error naming the key', async () => {
  const good = tokenHash('a'.repeat(43));
  const cases = [
    [{ api_tokens: {} }, /api_tokens: must be an array or null/],
    [{ api_tokens: [{ name: 'x', token_hash: 'pbkdf2-sha256$1$a$b', role: 'admin' }] }, /api_tokens\[0\]\.token_hash/],
    [{ api_tokens: [{ name: 'x', token_hash: good, role: 'root' }] }, /api_tokens\[0\]\.role/],
    [{ api_tokens: [{ token_hash: good, role: 'admin' }] }, /api_tokens\[0\]\.name/],
    [{ api_tokens: [{ name: 'x', token_hash: good, role: 'admin', scope: 1 }] }, /api_tokens\[0\]\.scope: unknown key/],
    [{ api_tokens: [{ name: 'x', token_hash: good, role: 'admin' }, { name: 'x', token_hash: tokenHash('b'.repeat(43)), role: 'viewer' }] },
      /api_tokens\[1\]\.name: duplicate/],
    [{ api_port: -2 }, /api_port: -2 is out of range/],
  ];
  for (const [extra, re] of cases) {
    const r = await runBadConfig(extra);
    assert.notEqual(r.code, 0, JSON.stringify(extra));
    assert.match(r.stderr, re);
    // The refusal path frees what it parsed (an ASan build reports leaks at exit).
    assert.deepEqual(r.stderr.split('\n').filter((l) => /ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/.test(l)), []);
  }
});

test('the API is off unless api_port is set', async () => {
  const off = new Depotd({ config: { stations: [] } });
  try {
    await off.start();
    // The API line would follow the OCPP one within the same start-up step; give it ample time.
    await new Promise((r) => setTimeout(r, 500));
    assert.match(off.stderr(), /listening on 127\.0\.0\.1:/);
    assert.doesNotMatch(off.stderr(), /JSON API/);
  } finally {
    await off.stop();
    await off.cleanup();
  }
});
