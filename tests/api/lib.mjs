// Helpers of the API tests: a real depotd with its JSON API on a free port of 127.0.0.1, bearer tokens made
// the way examples/api.md makes them, HTTP through node's fetch (and raw sockets where fetch would hide what
// is on the wire), and stations that answer depotd's commands as a test tells them to.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { Depotd, connectRaw, bootPayload, withTimeout, WAIT_MS, eventually } from '../integration/lib.mjs';

export * from '../integration/lib.mjs';

// A token as examples/api.md makes one: 32 random bytes, base64url (43 characters), stored as sha256$<hex>.
export function newToken() {
  return crypto.randomBytes(32).toString('base64url');
}
export function tokenHash(token) {
  return 'sha256$' + crypto.createHash('sha256').update(token).digest('hex');
}

// Tokens for every role; `north` is a dispatcher scoped to fleet north; `dispatcher` and `northCards` (fleet
// north) may give vehicles new id tokens (manage_tokens), `north` may not.
export function makeTokens() {
  return { admin: newToken(), dispatcher: newToken(), north: newToken(), northCards: newToken(), viewer: newToken() };
}
export function tokenEntries(t) {
  return [
    { name: 'ops-admin', token_hash: tokenHash(t.admin), role: 'admin' },
    { name: 'dispatch-all', token_hash: tokenHash(t.dispatcher), role: 'dispatcher', manage_tokens: true },
    { name: 'dispatch-north', token_hash: tokenHash(t.north), role: 'dispatcher', fleet: 'north' },
    { name: 'cards-north', token_hash: tokenHash(t.northCards), role: 'dispatcher', fleet: 'north', manage_tokens: true },
    { name: 'wallboard', token_hash: tokenHash(t.viewer), role: 'viewer' },
  ];
}

// The depot most tests use: two stations without passwords, three vans, smart charging at 100 kW.
export function depotConfig(tokens, extra = {}) {
  return {
    api_port: 0,
    call_timeout_s: 2,
    api_tokens: tokenEntries(tokens),
    stations: [{ id: 'CS1' }, { id: 'CS2' }],
    id_tokens: [{ id_token: 'VAN-1', type: 'ISO14443', vehicle: 'van-1' }],
    control: {
      site_limit_kw: 100,
      // A dispatcher's schedule: departures are kept, so plans run to them before 8 sessions have ended.
      departure_hedge_new_pct: 0,
      vehicles: [
        { id: 'van-1', battery_kwh: 60, max_kw: 11, fleet: 'north', id_tokens: ['VAN-1'] },
        { id: 'van-2', battery_kwh: 80, fleet: 'south', id_tokens: ['VAN-2'] },
        { id: 'van-3' },
      ],
    },
    ...extra,
  };
}

const API_RE = /JSON API on http:\/\/127\.0\.0\.1:(\d+)\//;

// depotd with the API; resolves once both ports are known.
export class ApiDepotd extends Depotd {
  async start(opts) {
    await super.start(opts);
    const m = await eventually(() => API_RE.exec(this.stderrText), 'the API listening line');
    this.apiPort = Number(m[1]);
    this.base = `http://127.0.0.1:${this.apiPort}`;
    return this.port;
  }

  // The end of a test file: depotd stops cleanly with no sanitizer report, then its files go.
  async finish() {
    await this.stop();
    assert.deepEqual(this.sanitizerReports(), []);
    await this.cleanup();
  }

  // One HTTP request. body: an object (sent as JSON) or a string (sent as is). Resolves with
  // {status, headers, text, json} (json: the parsed body when it is JSON, else undefined).
  async req(method, path, { token, body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
    const res = await withTimeout(fetch(this.base + path, { method, headers: h, body: payload }), WAIT_MS,
      `${method} ${path}`);
    const text = await res.text();
    let json;
    const ct = res.headers.get('content-type') || '';
    if (ct.includes('json') && text) json = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, json, contentType: ct };
  }
}

// Raw HTTP/1.1 over one socket: writes `data`, resolves with everything read until the server closes or
// `until(text)` is true. For what fetch would not send (chunked bodies, lying Content-Length, pipelining).
export function rawHttp(port, data, { until = null, ms = WAIT_MS } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (b) => {
      text += b.toString();
      if (until && until(text)) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', (e) => (text ? resolve(text) : reject(e)));
    s.on('close', () => resolve(text));
    s.write(data);
  }), ms, 'raw HTTP exchange');
}

// The responses in a raw HTTP text: [{status, headers, body}] (bodies by Content-Length).
export function parseResponses(text) {
  const out = [];
  let rest = text;
  for (let i = 0; i < 20 && rest.length; i++) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    const len = Number(headers['content-length'] || 0);
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

// A booted station whose answers to depotd's CALLs come from `answer(action, payload)`: an object (the
// CALLRESULT payload), {error: code, description} (a CALLERROR), or null (no answer at all). GetVariables
// and the control loop's SetChargingProfile get plain answers unless `answer` handles them.
export async function commandStation(d, id, answer = () => ({ status: 'Accepted' }), password = null) {
  const c = await connectRaw(d.url(id), { station: id, password, answerCalls: false });
  c.calls = [];
  c._onMessage = (data) => {
    const frame = JSON.parse(data.toString());
    if (Array.isArray(frame) && frame[0] === 2) {
      const [, mid, action, payload] = frame;
      c.calls.push({ id: mid, action, payload });
      let a;
      if (action === 'GetVariables') a = { getVariableResult: [] };
      else if (action === 'SetChargingProfile') a = { status: 'Accepted' };
      else a = answer(action, payload);
      if (a === null) return;
      if (a.error) c.send([4, mid, a.error, a.description || '', {}]);
      else c.send([3, mid, a]);
      return;
    }
    c.inbox.push({ frame, text: data.toString() });
    c._settleWaiters();
  };
  const boot = await c.ok('BootNotification', bootPayload());
  if (boot.status !== 'Accepted') throw new Error(`${id} boot ${boot.status}`);
  return c;
}

// Checks the problem+json shape every error shares, and returns the problem.
export function problem(assert, res, status, field) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(res.contentType, 'application/problem+json', res.text);
  const p = res.json;
  assert.equal(p.type, 'about:blank');
  assert.equal(p.status, status);
  assert.equal(typeof p.title, 'string');
  assert.equal(typeof p.detail, 'string');
  assert.ok(p.detail.length > 5);
  assert.equal(typeof p.instance, 'string');
  if (field !== undefined) {
    assert.equal(p.field, field, `field of ${res.text}`);
    // The message names the field too, for a human reading only `detail`.
    assert.ok(p.detail.includes(field.split('.')[0]), `detail names ${field}: ${p.detail}`);
  }
  return p;
}

export const iso = (ms) => new Date(ms).toISOString();
