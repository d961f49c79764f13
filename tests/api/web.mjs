// The operator page on the API's port: its files, built into depotd from web/ and the pinned uPlot, served to
// anyone with the browser's security headers, revalidated by ETag (304), HEAD without a body, other methods 405,
// paths that are not its files the API's 404; and GET /api/v1/me, the page's first call after sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ApiDepotd, REPO, WAIT_MS, depotConfig, makeTokens, parseResponses, problem, rawHttp, withTimeout,
} from './lib.mjs';

const tokens = makeTokens();
let d;

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const repoFile = (...p) => fs.readFileSync(path.join(REPO, ...p));

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens) });
  await d.start();
});

after(async () => {
  if (d) await d.finish();
});

// A GET whose body is kept as bytes (the page's files are compared byte for byte).
async function fetchBytes(p, { method = 'GET', headers = {} } = {}) {
  const res = await withTimeout(fetch(d.base + p, { method, headers }), WAIT_MS, `${method} ${p}`);
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

// One request as written (fetch would resolve "/../x" itself), parsed: {status, headers, body, raw}.
async function raw(line, extra = '') {
  const text = await rawHttp(d.apiPort, `${line} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`);
  const [r] = parseResponses(text);
  assert.ok(r, `an answer to ${line}: ${JSON.stringify(text)}`);
  return { ...r, raw: text };
}

function pageHeaders(h, what) {
  assert.equal(h.get('content-security-policy'), CSP, what);
  assert.equal(h.get('x-content-type-options'), 'nosniff', what);
  assert.equal(h.get('referrer-policy'), 'no-referrer', what);
  assert.equal(h.get('x-frame-options'), 'DENY', what);
}

test('/ and /index.html are the page, byte for byte, with its security headers and an ETag', async () => {
  const want = repoFile('web', 'index.html');
  let tag;
  for (const p of ['/', '/index.html', '/?from=bookmark']) {
    const r = await fetchBytes(p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8', p);
    assert.equal(r.headers.get('cache-control'), 'no-cache', p);
    pageHeaders(r.headers, p);
    assert.match(r.headers.get('etag'), /^"[0-9a-f]{20}"$/, p);
    tag ??= r.headers.get('etag');
    assert.equal(r.headers.get('etag'), tag, `${p}: the same file, the same tag`);
    assert.ok(r.bytes.equals(want), `${p}: the bytes of web/index.html (${r.bytes.length} vs ${want.length})`);
  }
});

test('scripts, styles and the vendored uPlot have their types and bytes', async () => {
  const cases = [
    ['/js/app.js', 'text/javascript; charset=utf-8', repoFile('web', 'js', 'app.js')],
    ['/js/api.js', 'text/javascript; charset=utf-8', repoFile('web', 'js', 'api.js')],
    ['/app.css', 'text/css; charset=utf-8', repoFile('web', 'app.css')],
    ['/vendor/uplot.js', 'text/javascript; charset=utf-8',
      repoFile('node_modules', 'uplot', 'dist', 'uPlot.iife.min.js')],
    ['/vendor/uplot.css', 'text/css; charset=utf-8', repoFile('node_modules', 'uplot', 'dist', 'uPlot.min.css')],
  ];
  for (const [p, type, want] of cases) {
    const r = await fetchBytes(p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers.get('content-type'), type, p);
    pageHeaders(r.headers, p);
    assert.ok(r.bytes.equals(want), `${p}: ${r.bytes.length} bytes vs ${want.length}`);
  }
});

test('If-None-Match with the ETag (or listing it, or *) is a 304 with no body', async () => {
  const first = await fetchBytes('/js/app.js');
  const tag = first.headers.get('etag');
  for (const inm of [tag, `"0000", ${tag}`, `W/${tag}`, '*']) {
    const r = await fetchBytes('/js/app.js', { headers: { 'If-None-Match': inm } });
    assert.equal(r.status, 304, inm);
    assert.equal(r.bytes.length, 0, inm);
    assert.equal(r.headers.get('etag'), tag, inm);
    assert.equal(r.headers.get('cache-control'), 'no-cache', inm);
  }
  const stale = await fetchBytes('/js/app.js', { headers: { 'If-None-Match': '"0123456789abcdef0123"' } });
  assert.equal(stale.status, 200, 'another tag gets the bytes');
  assert.ok(stale.bytes.equals(first.bytes));
  // On the wire: nothing after the headers.
  const w = await raw('GET /js/app.js', `If-None-Match: ${tag}\r\n`);
  assert.equal(w.status, 304);
  assert.ok(w.raw.endsWith('\r\n\r\n'), JSON.stringify(w.raw));
});

test('HEAD / is the headers of GET /, Content-Length included, and no body', async () => {
  const get = await fetchBytes('/');
  const r = await raw('HEAD /');
  assert.equal(r.status, 200, r.raw);
  assert.equal(r.headers['content-length'], String(get.bytes.length));
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(r.headers.etag, get.headers.get('etag'));
  assert.equal(r.headers['content-security-policy'], CSP);
  assert.ok(r.raw.endsWith('\r\n\r\n'), `nothing after the headers: ${JSON.stringify(r.raw.slice(-80))}`);
});

test('other methods on the page are 405 with Allow: GET, HEAD', async () => {
  for (const [m, p] of [['POST', '/'], ['PUT', '/index.html'], ['DELETE', '/js/app.js']]) {
    const r = await d.req(m, p, { body: m === 'DELETE' ? undefined : 'x', headers: { 'Content-Type': 'text/plain' } });
    problem(assert, r, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD', `${m} ${p}`);
  }
});

test('paths that are not the page\'s files are the API\'s 404, traversal included', async () => {
  for (const p of ['/nope.html', '/js/nope.js', '/web/index.html', '/vendor/uPlot.iife.min.js']) {
    const r = await d.req('GET', p);
    problem(assert, r, 404);
    assert.equal(r.headers.get('content-security-policy'), null, p);
  }
  for (const p of ['/../src/api.c', '/%2e%2e/meson.build', '/js/../../meson.build', '/..%2fsrc/api.c']) {
    const r = await raw(`GET ${p}`);
    assert.equal(r.status, 404, `${p}: ${r.raw.slice(0, 300)}`);
    assert.equal(r.headers['content-type'], 'application/problem+json', p);
    assert.equal(JSON.parse(r.body).status, 404, p);
  }
});

test('the page needs no token, and a token does not change it', async () => {
  const anon = await fetchBytes('/');
  assert.equal(anon.status, 200);
  const wrong = await fetchBytes('/', { headers: { Authorization: 'Bearer ' + 'x'.repeat(43) } });
  assert.equal(wrong.status, 200);
  assert.ok(wrong.bytes.equals(anon.bytes));
});

test('API answers carry nosniff and stay no-store, without the page\'s headers', async () => {
  for (const [p, token] of [['/healthz'], ['/api/v1/me', tokens.viewer], ['/api/v1/stations', tokens.viewer],
    ['/api/v1/me']]) {
    const r = await d.req('GET', p, { token });
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
    assert.equal(r.headers.get('cache-control'), 'no-store', p);
    assert.equal(r.headers.get('content-security-policy'), null, p);
  }
});

test('page answers count in the API\'s request metrics', async () => {
  const metric = async (name) => {
    const m = await d.req('GET', '/metrics', { token: tokens.admin });
    return Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(m.text)[1]);
  };
  const before = await metric('depotd_api_requests_total');
  const before3xx = await metric('depotd_api_responses_total{class="3xx"}');
  const tag = (await fetchBytes('/')).headers.get('etag');
  await fetchBytes('/', { headers: { 'If-None-Match': tag } });
  // Two page answers, and the two /metrics reads since `before` was read.
  assert.equal(await metric('depotd_api_requests_total'), before + 4);
  assert.equal(await metric('depotd_api_responses_total{class="3xx"}'), before3xx + 1);
});

test('GET /api/v1/me tells each token its name, role, fleet and manage_tokens', async () => {
  const want = {
    admin: { name: 'ops-admin', role: 'admin', fleet: null, manage_tokens: true },
    dispatcher: { name: 'dispatch-all', role: 'dispatcher', fleet: null, manage_tokens: true },
    north: { name: 'dispatch-north', role: 'dispatcher', fleet: 'north', manage_tokens: false },
    northCards: { name: 'cards-north', role: 'dispatcher', fleet: 'north', manage_tokens: true },
    viewer: { name: 'wallboard', role: 'viewer', fleet: null, manage_tokens: false },
  };
  for (const [who, me] of Object.entries(want)) {
    const r = await d.req('GET', '/api/v1/me', { token: tokens[who] });
    assert.equal(r.status, 200, `${who}: ${r.text}`);
    assert.equal(r.contentType, 'application/json');
    assert.deepEqual(r.json, me, who);
  }
});

test('GET /api/v1/me without a token, or with a wrong one, is 401', async () => {
  let r = await d.req('GET', '/api/v1/me');
  problem(assert, r, 401, 'Authorization');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="depotd"');
  r = await d.req('GET', '/api/v1/me', { token: 'y'.repeat(43) });
  problem(assert, r, 401, 'Authorization');
  r = await d.req('GET', '/api/v1/me', { headers: { Authorization: 'Bearer ' + tokens.admin.slice(1) } });
  problem(assert, r, 401, 'Authorization');
});
