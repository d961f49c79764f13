// Shared helpers of the depotd integration and interop tests: run a real depotd on 127.0.0.1 with a temp
// directory and database, talk to it over real websockets, read its SQLite store through the sqlite3 CLI.
//
// Every wait here is event-driven with a deadline (tests also run against a slow ASan build), every loop is
// bounded, and everything a test starts is stopped and removed in its `after` hooks.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// ws and ocpp-rpc are the repo's pinned npm inputs (package-lock.json), installed by `make setup`.
export const requireRepo = createRequire(path.join(REPO, 'package.json'));
export const WebSocket = requireRepo('ws');

export const DEPOTD = process.env.DEPOTD || path.join(REPO, 'build', 'src', 'depotd');
// Generous: the same tests run against an ASan+UBSan depotd, which is several times slower.
export const WAIT_MS = Number(process.env.DEPOTD_TEST_WAIT_MS || 20000);

export const PASSWORD = 'integration-pass-0001';

let hashCache = new Map();
// A password hash from depotd itself (--hash-password). 1000 iterations (the least allowed) keeps the
// handshakes of many stations cheap; depotd reads the count from each hash.
export function hashPassword(password = PASSWORD, iterations = 1000) {
  const key = `${iterations}:${password}`;
  if (hashCache.has(key)) return hashCache.get(key);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depotd-hash-'));
  try {
    const cfg = path.join(dir, 'c.json');
    fs.writeFileSync(cfg, JSON.stringify({ pbkdf2_iterations: iterations }));
    const out = execFileSync(DEPOTD, ['-c', cfg, '--hash-password'], { input: password + '\n', timeout: WAIT_MS });
    const hash = out.toString().trim();
    if (!hash.startsWith('pbkdf2-sha256$')) throw new Error(`unexpected hash output: ${hash}`);
    hashCache.set(key, hash);
    return hash;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

// ---- depotd process ---------------------------------------------------------------------------------------

const LISTEN_RE = /listening on 127\.0\.0\.1:(\d+)\//;
const TLS_LISTEN_RE = /listening \(TLS\) on 127\.0\.0\.1:(\d+)\//;

// Config defaults for tests: loopback, a free port, short call timeout so a forgotten answer shows quickly.
export function baseConfig(extra = {}) {
  return {
    listen_address: '127.0.0.1',
    port: 0,
    log_level: 'info',
    heartbeat_interval_s: 300,
    pending_retry_interval_s: 60,
    call_timeout_s: 30,
    max_frame_bytes: 65536,
    auto_register: false,
    unknown_id_token: 'Invalid',
    read_capabilities: true,
    pbkdf2_iterations: 1000,
    // Stations without a password (password: null) are allowed here: loopback, tests.
    unauthenticated_stations: true,
    stations: [],
    id_tokens: [],
    ...extra,
  };
}

// Station entries for the config: ids with the test password (or none when password === null).
export function stationEntries(ids, { boot = 'Accepted', password = PASSWORD } = {}) {
  return ids.map((id) => ({ id, boot, ...(password === null ? {} : { password_hash: hashPassword(password) }) }));
}

export class Depotd {
  constructor({ config, dir, db } = {}) {
    this.ownDir = !dir;
    this.dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'depotd-itest-'));
    this.db = db || path.join(this.dir, 'depotd.db');
    this.configPath = path.join(this.dir, 'depotd.json');
    fs.writeFileSync(this.configPath, JSON.stringify(baseConfig(config), null, 1));
    this.proc = null;
    this.port = 0;
    this.tlsPort = 0; // the wss:// listener's, when the config has tls_cert_file
    this.tls = Boolean(config?.tls_cert_file);
    this.stderrText = ''; // this run's stderr
    this.allStderr = ''; // every run's, for sanitizer reports across restarts
    this.exited = null; // {code, signal} once the process ended
  }

  // Starts depotd and resolves with the port once the "listening" log line is seen.
  async start({ port = 0 } = {}) {
    this.stderrText = '';
    this.exited = null;
    const proc = spawn(DEPOTD, ['-c', this.configPath, '-d', this.db, '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    this.exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve(this.exited);
      });
    });
    const listening = new Promise((resolve, reject) => {
      proc.stderr.setEncoding('utf8');
      proc.stderr.on('data', (chunk) => {
        this.stderrText += chunk;
        this.allStderr += chunk;
        const m = LISTEN_RE.exec(this.stderrText);
        const t = TLS_LISTEN_RE.exec(this.stderrText);
        if (t) this.tlsPort = Number(t[1]);
        if (m && (!this.tls || t)) resolve(Number(m[1]));
      });
      proc.on('error', reject);
      this.exitPromise.then((e) =>
        reject(new Error(`depotd exited (${e.code ?? e.signal}) before listening:\n${this.stderrText}`)));
    });
    this.port = await withTimeout(listening, WAIT_MS, 'depotd listening line');
    return this.port;
  }

  url(station) {
    return `ws://127.0.0.1:${this.port}/ocpp/${encodeURIComponent(station)}`;
  }

  tlsUrl(station) {
    return `wss://127.0.0.1:${this.tlsPort}/ocpp/${encodeURIComponent(station)}`;
  }

  stderr() {
    return this.stderrText;
  }

  // SIGTERM and wait: the clean stop. Resolves with {code, signal}.
  async stop() {
    if (!this.proc || this.exited) return this.exited;
    this.proc.kill('SIGTERM');
    try {
      return await withTimeout(this.exitPromise, WAIT_MS, 'depotd exit after SIGTERM');
    } catch (e) {
      this.proc.kill('SIGKILL');
      await this.exitPromise;
      throw e;
    }
  }

  // kill -9: the crash.
  async kill9() {
    if (!this.proc || this.exited) return this.exited;
    this.proc.kill('SIGKILL');
    return this.exitPromise;
  }

  // Stops whatever runs and removes the temp directory (when we made it).
  async cleanup() {
    if (this.proc && !this.exited) {
      this.proc.kill('SIGKILL');
      await this.exitPromise;
    }
    if (this.ownDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // Sanitizer reports in what depotd wrote to stderr in all its runs (ASan/UBSan/LSan): each report's first
  // line followed by the lines after it (the stack, the allocation and free sites), so a failure shows where.
  sanitizerReports() {
    const lines = this.allStderr.split('\n');
    const reports = [];
    lines.forEach((l, i) => {
      if (/ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/.test(l)) {
        reports.push(lines.slice(i, i + 80).join('\n'));
      }
    });
    return reports;
  }
}

// ---- the store -----------------------------------------------------------------------------------------

// Runs one query with the sqlite3 CLI (node 20 has no built-in SQLite). Returns rows as objects.
export function sql(db, query) {
  const out = execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', db, query], { timeout: WAIT_MS });
  const text = out.toString().trim();
  return text ? JSON.parse(text) : [];
}

// ---- raw websocket client ------------------------------------------------------------------------------

// Connects; resolves with a RawClient, or rejects with an Error carrying `refusal` = {status} (HTTP status of
// a refused upgrade) or {closeCode} / {error} describing how the handshake failed. `tls`: options for a
// wss:// url (ca, cert, key, ...), as node's tls.connect takes them.
export function connectRaw(url, { station, password = PASSWORD, protocols = ['ocpp2.0.1'], headers = {},
  answerCalls = true, answer = answerServerCall, tls = {} } = {}) {
  const opts = { headers: { ...headers }, handshakeTimeout: WAIT_MS, perMessageDeflate: false, ...tls };
  if (password !== null && password !== undefined) {
    const user = station ?? decodeURIComponent(url.split('/').pop());
    opts.headers.Authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  }
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, opts);
    let settled = false;
    const fail = (refusal) => {
      if (settled) return;
      settled = true;
      const err = new Error(`handshake refused: ${JSON.stringify(refusal)}`);
      err.refusal = refusal;
      try { ws.terminate(); } catch { /* already gone */ }
      reject(err);
    };
    ws.on('unexpected-response', (req, res) => {
      fail({ status: res.statusCode });
      res.resume();
    });
    ws.on('error', (e) => fail({ error: e.message }));
    ws.on('close', (code) => fail({ closeCode: code }));
    ws.on('open', () => {
      settled = true;
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      resolve(new RawClient(ws, { answerCalls, answer }));
    });
  });
}

function remove(arr, item) {
  const i = arr.indexOf(item);
  if (i >= 0) arr.splice(i, 1);
}

let idCounter = 0;
export function newId(prefix = 't') {
  return `${prefix}${process.pid.toString(36)}-${(++idCounter).toString(36)}`;
}

// One websocket with an inbox. Frames the server sends are parsed and kept until a test takes them.
// When answerCalls is on, depotd's own CALLs (GetVariables after boot and after a new EVSE) are answered
// at once, as a real station would (by `answer(frame)`, answerServerCall unless given), and recorded in
// serverCalls. Given to the constructor, so that CALLs depotd sends with the handshake are answered too.
export class RawClient {
  constructor(ws, { answerCalls = true, answer = answerServerCall } = {}) {
    this.ws = ws;
    this.answerCalls = answerCalls;
    this.answerFn = answer;
    this.inbox = [];
    this.waiters = [];
    this.serverCalls = [];
    this.serverAnswers = [];
    this.callWaiters = [];
    this.closed = null;
    this.closedPromise = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
        this._settleWaiters();
      });
    });
    ws.on('error', () => { /* reported through close */ });
    ws.on('message', (data, isBinary) => this._onMessage(data, isBinary));
  }

  _onMessage(data, isBinary) {
    const text = data.toString();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { unparsable: text };
    }
    const msg = { frame, text, isBinary };
    if (this.answerCalls && Array.isArray(frame) && frame[0] === 2) {
      this.serverCalls.push(frame);
      const answer = this.answerFn(frame);
      this.send(answer);
      this.serverAnswers.push(answer);
      for (const w of [...this.callWaiters]) w();
      return;
    }
    this.inbox.push(msg);
    this._settleWaiters();
  }

  _settleWaiters() {
    for (const w of [...this.waiters]) {
      const i = this.inbox.findIndex((m) => w.pred(m.frame, m));
      if (i >= 0) {
        const [m] = this.inbox.splice(i, 1);
        remove(this.waiters, w);
        clearTimeout(w.timer);
        w.resolve(m.frame);
      } else if (this.closed && !w.allowClosed) {
        remove(this.waiters, w);
        clearTimeout(w.timer);
        w.reject(new Error(`connection closed (${this.closed.code}) while waiting for ${w.what}`));
      }
    }
  }

  // Resolves with the first frame (parsed) matching pred, waiting up to ms.
  waitFor(pred, what = 'a frame', ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const w = { pred, what, resolve, reject };
      w.timer = setTimeout(() => {
        remove(this.waiters, w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; inbox: ${JSON.stringify(this.inbox.map((m) => m.text))}`));
      }, ms);
      this.waiters.push(w);
      this._settleWaiters();
    });
  }

  // Resolves once `count` CALLs from depotd matching pred (on the frame) were received and answered.
  waitServerCalls(pred, count = 1, what = 'CALLs from depotd', ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const got = this.serverCalls.filter(pred);
        if (got.length < count) return false;
        clearTimeout(timer);
        remove(this.callWaiters, check);
        resolve(got);
        return true;
      };
      const timer = setTimeout(() => {
        remove(this.callWaiters, check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(this.serverCalls)}`));
      }, ms);
      this.callWaiters.push(check);
      check();
    });
  }

  // The answer (CALLRESULT or CALLERROR) with this message id.
  answer(id, ms = WAIT_MS) {
    return this.waitFor((f) => Array.isArray(f) && (f[0] === 3 || f[0] === 4) && f[1] === id, `answer to ${id}`, ms);
  }

  send(data) {
    this.ws.send(typeof data === 'string' ? data : JSON.stringify(data));
  }

  sendBinary(buf) {
    this.ws.send(buf, { binary: true });
  }

  // Sends a CALL and resolves with its answer frame.
  async call(action, payload, id = newId()) {
    this.send([2, id, action, payload]);
    return this.answer(id);
  }

  // Like call, but throws unless the answer is a CALLRESULT; resolves with its payload.
  async ok(action, payload, id = newId()) {
    const f = await this.call(action, payload, id);
    if (f[0] !== 3) throw new Error(`${action} ${id} answered ${JSON.stringify(f)}`);
    return f[2];
  }

  close(code = 1000) {
    if (this.closed) return Promise.resolve(this.closed);
    try { this.ws.close(code); } catch { /* closing already */ }
    return withTimeout(this.closedPromise, WAIT_MS, 'websocket close').catch(() => {
      this.ws.terminate();
      return this.closedPromise;
    });
  }

  terminate() {
    this.ws.terminate();
  }
}

// What a plain station answers to depotd's CALLs: every GetVariables item Accepted with a plausible value,
// anything else NotImplemented (depotd must cope).
const VARIABLE_VALUES = {
  Enabled: 'true', LimitChangeSignificance: '10', PeriodsPerSchedule: '24', ProfileStackLevel: '8',
  RateUnit: 'A,W', Entries: '16', SupplyPhases: '3', Power: '22000', ItemsPerMessage: '4',
};
export function answerServerCall(frame) {
  const [, id, action, payload] = frame;
  if (action === 'GetVariables') {
    return [3, id, {
      getVariableResult: payload.getVariableData.map((d) => ({
        attributeStatus: 'Accepted',
        ...(d.attributeType ? { attributeType: d.attributeType } : {}),
        attributeValue: VARIABLE_VALUES[d.variable.name] ?? '1',
        component: d.component,
        variable: d.variable,
      })),
    }];
  }
  return [4, id, 'NotImplemented', `${action} not implemented by the test station`, {}];
}

// ---- OCPP payloads -------------------------------------------------------------------------------------

export const isoNow = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

export const bootPayload = (reason = 'PowerUp') => ({
  chargingStation: { vendorName: 'depotd-itest', model: 'raw-1', serialNumber: 'SN-1', firmwareVersion: '1.0' },
  reason,
});

export const statusPayload = (evseId = 1, connectorId = 1, connectorStatus = 'Available', timestamp = isoNow()) => ({
  timestamp, connectorStatus, evseId, connectorId,
});

export function meterValue(wh, timestamp = isoNow()) {
  return {
    timestamp,
    sampledValue: [
      { value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
      { value: 7200, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
    ],
  };
}

export function txEvent({ eventType, txId, seqNo, triggerReason, timestamp = isoNow(), wh, evseId = 1,
  idToken, chargingState, stoppedReason, offline }) {
  const p = {
    eventType,
    timestamp,
    triggerReason: triggerReason ?? (eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'StopAuthorized' : 'MeterValuePeriodic'),
    seqNo,
    transactionInfo: { transactionId: txId },
  };
  if (chargingState) p.transactionInfo.chargingState = chargingState;
  if (stoppedReason) p.transactionInfo.stoppedReason = stoppedReason;
  if (eventType === 'Started') p.evse = { id: evseId, connectorId: 1 };
  if (idToken) p.idToken = { idToken, type: 'ISO14443' };
  if (offline !== undefined) p.offline = offline;
  if (wh !== undefined) p.meterValue = [meterValue(wh, timestamp)];
  return p;
}

// A station that is connected and booted (Accepted by the config), with its capability reads answered.
export async function bootedStation(depotd, station, opts = {}) {
  const c = await connectRaw(depotd.url(station), { station, ...opts });
  const boot = await c.ok('BootNotification', bootPayload());
  if (boot.status !== 'Accepted') throw new Error(`${station} boot ${boot.status}`);
  return c;
}

// Polls a condition on the store (the store is written by another thread: an answered CALL is durable, but
// connect/disconnect events are not answered, so tests wait for them). Bounded by count and time.
export async function eventually(fn, what, ms = WAIT_MS, stepMs = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (let i = 0; i < ms / stepMs + 1 && Date.now() <= deadline; i++) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`not reached in ${ms} ms: ${what}`);
}
