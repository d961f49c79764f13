// While the price provider hangs, depotd still answers a station at once: the fetch runs on a worker thread,
// never on the event loop. Measured against a run where the provider answers, with a real HTTP server on
// 127.0.0.1 (tests/tariffs/price_server.py) and a real depotd.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO, Depotd, stationEntries, bootedStation, eventually, withTimeout, WAIT_MS } from './lib.mjs';

const PRICE_SERVER = path.join(REPO, 'tests', 'tariffs', 'price_server.py');
const HANG_S = 20;

async function startPriceServer() {
  const proc = spawn('/usr/bin/python3', [PRICE_SERVER, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await withTimeout(new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (c) => {
      out += c;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`price server exited ${code}`)));
  }), WAIT_MS, 'price server PORT line');
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    proc,
    async routes(r) {
      const res = await fetch(`${base}/_control/routes`, { method: 'POST', body: JSON.stringify(r) });
      assert.equal(res.status, 200);
    },
    async requests() {
      return (await fetch(`${base}/_control/requests`)).json();
    },
    stop() { proc.kill('SIGKILL'); },
  };
}

// A day of hourly prices in the generic JSON format, around now.
function priceBody() {
  const hour = 3600e3;
  const start = Math.floor(Date.now() / hour) * hour - hour;
  const prices = [];
  for (let i = 0; i < 50; i++) {
    prices.push({ from: new Date(start + i * hour).toISOString(), to: new Date(start + (i + 1) * hour).toISOString(),
                  eur_per_mwh: 80 + 40 * Math.sin(i / 4) });
  }
  return JSON.stringify({ result: { prices } });
}

function tariffConfig(base) {
  return {
    provider: {
      type: 'json', name: 'test-json', url: `${base}/prices`, array: '/result/prices', start: '/from', end: '/to',
      price: '/eur_per_mwh', time_format: 'iso8601', multiplier: 0.001,
      http: { connect_timeout_ms: 2000, timeout_ms: HANG_S * 1000 + 5000, low_speed_time_s: HANG_S + 5 },
    },
    fallback: { type: 'fixed', price: 0.3 },
  };
}

async function heartbeatRtts(station, n) {
  const rtts = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await station.ok('Heartbeat', {});
    rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  rtts.sort((a, b) => a - b);
  return { p50: rtts[Math.floor(n / 2)], max: rtts[n - 1] };
}

async function measure(server, route) {
  await server.routes({ '/prices': route });
  const depotd = new Depotd({ config: { stations: stationEntries(['CS-P']), tariff: tariffConfig(server.base) } });
  try {
    await depotd.start();
    // The fetch starts as depotd starts; make sure it is under way (or done) before measuring.
    await eventually(async () => (await server.requests()).some((r) => r.path.startsWith('/prices')),
                     'depotd asked the price server');
    const station = await bootedStation(depotd, 'CS-P');
    const rtt = await heartbeatRtts(station, 30);
    station.close();
    return { rtt, depotd };
  } catch (e) {
    await depotd.cleanup();
    throw e;
  }
}

test('a hanging price provider does not delay a station\'s Heartbeat', { timeout: 120000 }, async () => {
  const server = await startPriceServer();
  try {
    const healthy = await measure(server, { status: 200, body: priceBody() });
    await eventually(() => /test-json: \d+ prices until/.test(healthy.depotd.stderr()), 'healthy prices stored');
    await healthy.depotd.stop();
    await healthy.depotd.cleanup();

    await fetch(`${server.base}/_control/reset`, { method: 'POST' });
    const t0 = Date.now();
    const hanging = await measure(server, { status: 200, body: priceBody(), fault: 'hang', delay_s: HANG_S });
    const elapsed = Date.now() - t0;
    // Still inside the hang: the provider has not answered, and depotd has logged no fetch result yet.
    assert.ok(elapsed < HANG_S * 1000, `measured within the hang (${elapsed} ms)`);
    assert.ok(!/test-json: (\d+ prices|fetch failed)/.test(hanging.depotd.stderr()), 'the fetch is still hanging');
    await hanging.depotd.stop();
    await hanging.depotd.cleanup();

    console.log(`# heartbeat RTT healthy p50 ${healthy.rtt.p50.toFixed(2)} ms max ${healthy.rtt.max.toFixed(2)} ms;` +
                ` provider hanging p50 ${hanging.rtt.p50.toFixed(2)} ms max ${hanging.rtt.max.toFixed(2)} ms`);
    // The bound: the same order as the healthy run, and nowhere near the hang itself.
    assert.ok(hanging.rtt.p50 <= 5 * healthy.rtt.p50 + 20, 'median round trip stays close to the healthy one');
    assert.ok(hanging.rtt.max < 1000, 'no round trip waits for the provider');
  } finally {
    server.stop();
  }
});
