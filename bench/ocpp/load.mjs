#!/usr/bin/env node
// OCPP load on depotd (a benchmark, not a test): N stations connect with Basic auth, boot, answer depotd's
// GetVariables, then each sends Heartbeat and MeterValues alternately at a fixed rate for S seconds. Every
// CALL's round trip is timed (send to answer, client clock). Prints throughput, latency percentiles and
// failures as a markdown table.
//
//   node bench/ocpp/load.mjs --stations 1000 --rate 1 --seconds 30 [--workers 2] [--depotd PATH | --url ws://...]
//
// With --depotd (default: $DEPOTD or build/src/depotd) it starts its own depotd on 127.0.0.1 with a temp
// directory, database and config listing the stations, and removes them afterwards. With --url it drives a
// running depotd (stations BENCH0000.. must be known to it with --password).
//
// Stations are spread over worker threads (one event loop cannot keep 1,000 sockets' timers honest); every
// station keeps at most one CALL in flight (OCPP-J), so a tick that finds its previous CALL unanswered is
// counted as "busy" instead of sent. Everything is bounded: at most 3,600 s, 20,000 stations, 100 calls/s each.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CALL_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const o = { stations: 100, rate: 1, seconds: 30, workers: Math.min(2, os.cpus().length), url: null,
    depotd: process.env.DEPOTD || path.join(REPO, 'build', 'src', 'depotd'), password: 'bench-station-pass-0001',
    connectConcurrency: 50, label: '' };
  for (let i = 2; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    const num = () => { i++; const n = Number(v); if (!Number.isFinite(n)) throw new Error(`${k}: not a number`); return n; };
    switch (k) {
      case '--stations': case '-n': o.stations = num(); break;
      case '--rate': case '-r': o.rate = num(); break;
      case '--seconds': case '-s': o.seconds = num(); break;
      case '--workers': case '-w': o.workers = num(); break;
      case '--url': o.url = v; i++; break;
      case '--depotd': o.depotd = v; i++; break;
      case '--password': o.password = v; i++; break;
      case '--label': o.label = v; i++; break;
      case '--help': case '-h':
        console.log('usage: load.mjs --stations N --rate CALLS_PER_S_PER_STATION --seconds S [--workers W] [--depotd PATH | --url WS_BASE] [--label TEXT]');
        process.exit(0);
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  if (!(o.stations >= 1 && o.stations <= 20000)) throw new Error('--stations must be 1..20000');
  if (!(o.rate > 0 && o.rate <= 100)) throw new Error('--rate must be in (0, 100]');
  if (!(o.seconds > 0 && o.seconds <= 3600)) throw new Error('--seconds must be in (0, 3600]');
  o.workers = Math.max(1, Math.min(o.workers, o.stations, 16));
  return o;
}

// ---- worker: drives a slice of the stations ----------------------------------------------------------------

async function runWorker({ ids, url, password, rate, seconds, connectConcurrency }) {
  const { createRequire } = await import('node:module');
  const WebSocket = createRequire(path.join(REPO, 'package.json'))('ws');
  const lat = { Heartbeat: [], MeterValues: [], BootNotification: [] };
  const fail = { callerror: 0, timeout: 0, closed: 0, connect: 0, busy: 0 };
  let sent = 0, answered = 0, serverCalls = 0;
  const stations = [];
  let seq = 0;

  function makeStation(id) {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${url}/${id}`, ['ocpp2.0.1'], {
        headers: { Authorization: 'Basic ' + Buffer.from(`${id}:${password}`).toString('base64') },
        perMessageDeflate: false, handshakeTimeout: 30000,
      });
      const st = { id, ws, inflight: null, timer: null, n: 0, open: false };
      ws.on('open', () => { st.open = true; resolve(st); });
      ws.on('error', () => { if (!st.open) { fail.connect++; resolve(null); } });
      ws.on('close', () => {
        if (st.inflight) { fail.closed++; clearTimeout(st.inflight.timer); st.inflight.reject?.(); st.inflight = null; }
        st.open = false;
      });
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f[0] === 2) { // depotd's GetVariables: answer as a station would
          serverCalls++;
          const items = f[2] === 'GetVariables' ? f[3].getVariableData : [];
          ws.send(JSON.stringify(f[2] === 'GetVariables'
            ? [3, f[1], { getVariableResult: items.map((d) => ({ attributeStatus: 'Accepted', attributeValue: '1',
              ...(d.attributeType ? { attributeType: d.attributeType } : {}), component: d.component, variable: d.variable })) }]
            : [4, f[1], 'NotImplemented', '', {}]));
          return;
        }
        const c = st.inflight;
        if (!c || f[1] !== c.id) return;
        st.inflight = null;
        clearTimeout(c.timer);
        const ms = performance.now() - c.t0;
        answered++;
        if (f[0] === 3) { lat[c.action].push(ms); c.resolve(f[2]); } else { fail.callerror++; c.resolve(null); }
      });
    });
  }

  function call(st, action, payload) {
    return new Promise((resolve, reject) => {
      const id = `b${(++seq).toString(36)}`;
      const c = { id, action, t0: performance.now(), resolve, reject };
      c.timer = setTimeout(() => { if (st.inflight === c) { st.inflight = null; fail.timeout++; resolve(null); } }, CALL_TIMEOUT_MS);
      st.inflight = c;
      sent++;
      st.ws.send(JSON.stringify([2, id, action, payload]));
    });
  }

  // Ramp up: connect and boot with bounded concurrency.
  const t0 = performance.now();
  for (let i = 0; i < ids.length; i += connectConcurrency) {
    const batch = await Promise.all(ids.slice(i, i + connectConcurrency).map(makeStation));
    await Promise.all(batch.filter(Boolean).map(async (st) => {
      const boot = await call(st, 'BootNotification', { chargingStation: { vendorName: 'bench', model: 'load' }, reason: 'PowerUp' }).catch(() => null);
      if (boot && boot.status === 'Accepted') stations.push(st);
      else st.ws.terminate();
    }));
  }
  const rampMs = performance.now() - t0;
  parentPort.postMessage({ type: 'ready', booted: stations.length, rampMs });
  await new Promise((r) => parentPort.once('message', r)); // 'go'

  // Steady load: each station ticks every 1/rate s from a random phase; Heartbeat and MeterValues alternate.
  const periodMs = 1000 / rate;
  const endAt = performance.now() + seconds * 1000;
  for (const st of stations) {
    const tick = () => {
      if (performance.now() >= endAt || !st.open) return;
      if (st.inflight) fail.busy++;
      else if (st.n++ % 2 === 0) call(st, 'Heartbeat', {}).catch(() => {});
      else call(st, 'MeterValues', { evseId: 1, meterValue: [{ timestamp: new Date().toISOString(),
        sampledValue: [{ value: 1000 + st.n, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] }).catch(() => {});
      st.timer = setTimeout(tick, periodMs);
    };
    st.timer = setTimeout(tick, Math.random() * periodMs);
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  // Let the last answers come (bounded), then close.
  const drainEnd = performance.now() + CALL_TIMEOUT_MS;
  while (stations.some((s) => s.inflight) && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 20));
  for (const st of stations) { clearTimeout(st.timer); st.ws.close(1000); }
  parentPort.postMessage({ type: 'done', lat, fail, sent, answered, serverCalls });
}

// ---- main: start depotd (optional), spread stations over workers, report -------------------------------------

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
// CPU seconds (user + system) depotd has used so far, from /proc (Linux); NaN when not ours or not readable.
function depotdCpuS(d) {
  try {
    const stat = readFileSync(`/proc/${d.proc.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return NaN;
  }
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');

async function main() {
  const o = parseArgs(process.argv);
  const ids = Array.from({ length: o.stations }, (_, i) => `BENCH${String(i).padStart(4, '0')}`);
  let depotd = null;
  let url = o.url;
  if (!url) {
    process.env.DEPOTD = o.depotd; // read by lib.mjs when it loads
    const lib = await import(path.join(REPO, 'tests', 'integration', 'lib.mjs'));
    depotd = new lib.Depotd({ config: {
      max_stations: Math.max(2000, o.stations + 100), pbkdf2_iterations: 1000,
      max_messages_per_s: 100000, // a load benchmark measures throughput, not the per-station bound
      stations: ids.map((id) => ({ id, boot: 'Accepted', password_hash: lib.hashPassword(o.password) })),
    } });
    await depotd.start();
    url = `ws://127.0.0.1:${depotd.port}/ocpp`;
  }
  try {
    const per = Math.ceil(ids.length / o.workers);
    const workers = [];
    for (let w = 0; w < o.workers; w++) {
      const slice = ids.slice(w * per, (w + 1) * per);
      if (!slice.length) continue;
      workers.push(new Worker(fileURLToPath(import.meta.url), { workerData: { ids: slice, url, password: o.password,
        rate: o.rate, seconds: o.seconds, connectConcurrency: o.connectConcurrency } }));
    }
    const msgs = (type) => Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      const on = (m) => { if (m.type === type) { w.off('message', on); resolve(m); } };
      w.on('message', on);
      w.once('error', reject);
    })));
    const ready = await msgs('ready');
    const booted = ready.reduce((a, r) => a + r.booted, 0);
    const rampMs = Math.max(...ready.map((r) => r.rampMs));
    const done = msgs('done');
    const cpu0 = { depotd: depotdCpuS(depotd), self: process.cpuUsage() };
    const tStart = performance.now();
    for (const w of workers) w.postMessage('go');
    const results = await done;
    const wallS = (performance.now() - tStart) / 1000;
    const depotdCpu = depotd ? (depotdCpuS(depotd) - cpu0.depotd) / wallS : NaN;
    const selfCpu = process.cpuUsage(cpu0.self);
    const loadCpu = (selfCpu.user + selfCpu.system) / 1e6 / wallS;
    await Promise.all(workers.map((w) => w.terminate()));

    const merge = (k) => results.flatMap((r) => r.lat[k]).sort((a, b) => a - b);
    const sum = (f) => results.reduce((a, r) => a + f(r), 0);
    const fail = Object.fromEntries(Object.keys(results[0].fail).map((k) => [k, sum((r) => r.fail[k])]));
    const hb = merge('Heartbeat'), mv = merge('MeterValues'), all = [...hb, ...mv].sort((a, b) => a - b);
    const steadyAnswered = hb.length + mv.length;
    const row = (name, a, perS = f1(a.length / o.seconds)) => `| ${o.label || o.stations} | ${name} | ${a.length} | ${perS} | ${f1(pct(a, 50))} | ${f1(pct(a, 95))} | ${f1(pct(a, 99))} | ${f1(a[a.length - 1])} |`;
    console.log(`\nstations ${booted}/${o.stations} booted in ${(rampMs / 1000).toFixed(1)} s; rate ${o.rate}/s per station for ${o.seconds} s ` +
      `(offered ${f1(booted * o.rate)} calls/s); ${o.workers} worker thread(s); measured window ${wallS.toFixed(1)} s`);
    console.log('\n| stations | CALL | answered | per s | p50 ms | p95 ms | p99 ms | max ms |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(row('Heartbeat', hb));
    console.log(row('MeterValues (durable)', mv));
    console.log(row('all', all));
    console.log(row('BootNotification (ramp-up)', merge('BootNotification'), '-'));
    console.log(`\nfailures: CALLERROR ${fail.callerror}, timeout (>${CALL_TIMEOUT_MS / 1000} s) ${fail.timeout}, ` +
      `closed with a CALL in flight ${fail.closed}, connect refused ${fail.connect}, ticks skipped busy ${fail.busy}; ` +
      `GetVariables answered ${sum((r) => r.serverCalls)}; steady-state answers ${steadyAnswered} of ${sum((r) => r.sent) - booted} sent`);
    console.log(`CPU during the measured window (1.0 = one core): depotd ${f2(depotdCpu)}, load generator ${f2(loadCpu)}`);
    if (depotd) {
      const exit = await depotd.stop();
      const errs = depotd.stderr().split('\n').filter((l) => / (ERROR|WARN) /.test(l));
      console.log(`depotd exit ${JSON.stringify(exit)}; ${errs.length} warn/error log lines${errs.length ? ': ' + errs.slice(0, 3).join(' | ') : ''}`);
    }
  } finally {
    await depotd?.cleanup();
  }
}

if (isMainThread) {
  main().catch((e) => { console.error(e); process.exit(1); });
} else {
  runWorker(workerData).catch((e) => { console.error(e); process.exit(1); });
}
