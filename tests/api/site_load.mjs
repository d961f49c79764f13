// The building's load (site_load, src/site_load.c) through the API: a meter served over HTTP on 127.0.0.1 (a CSV of
// 15-minute kW values), read by depotd behind its breaker; /api/v1/site shows the reading, what control plans with
// and the fail-safe's room; the plan's limit per slot is the connection less the load; a reading above the
// forecast re-plans at once; PV (site_load.pv) counts in the plan, not in the fail-safe; /metrics carries the same; a meter that fails opens the breaker, and what it said of
// the hours ahead stays what control plans with.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ApiDepotd, depotConfig, eventually, makeTokens } from './lib.mjs';

const tokens = makeTokens();
const Q = 15 * 60e3;
let d, server, port;
const meter = { kw: 30, status: 200, requests: 0 };

// Four days of quarters from a day before now: the meter's value for every one (a flat forecast at meter.kw).
function csv() {
  const first = Math.floor(Date.now() / Q) * Q - 96 * Q;
  const rows = ['time,kw'];
  for (let i = 0; i < 96 * 4; i++) rows.push(`${new Date(first + i * Q).toISOString().replace('.000', '')},${meter.kw}`);
  return rows.join('\n') + '\n';
}

before(async () => {
  server = http.createServer((req, res) => {
    meter.requests++;
    if (meter.status !== 200) {
      res.writeHead(meter.status).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv' }).end(csv());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  const cfg = depotConfig(tokens, {
    site_load: {
      provider: { type: 'csv', name: 'workshop-meter', url: `http://127.0.0.1:${port}/load.csv`, resolution_min: 15 },
      fallback: { type: 'fixed', name: 'workshop-worst', value: 80 },
      schedule: { cadence_s: 10, retry_s: 10 }, // simulated seconds: 1 s real at 10x
      breaker: { failure_threshold: 2, open_s: 3600 },
      margin_kw: 5,
      // The roof's PV as a fixed 10 kW (no provider: its fallback): the plan counts it, the fail-safe does not.
      pv: { fallback: { type: 'fixed', name: 'roof', value: 10 } },
    },
    // A planning clock 10x real time, from now: the meter is read every real second.
    clock: { start: new Date().toISOString(), speed: 10, anchor_unix_ms: Date.now() },
  });
  d = new ApiDepotd({ config: cfg });
  await d.start();
});

after(async () => {
  if (d) await d.finish();
  server?.close();
});

const site = async () => (await d.req('GET', '/api/v1/site', { token: tokens.viewer })).json;
const plan = async () => (await d.req('GET', '/api/v1/plan', { token: tokens.viewer })).json;

test('GET /site: the meter\'s reading, the load planned with (margin included) and the fail-safe\'s room', async () => {
  const s = await eventually(async () => {
    const x = await site();
    return x.site_load?.reading_kw === 30 && x.site_load.planned_kw === 25 && x;
  }, 'a reading of 30 kW');
  assert.equal(s.site_load.provider, 'workshop-meter');
  assert.equal(s.site_load.breaker, 'closed');
  assert.equal(s.site_load.margin_kw, 5);
  assert.equal(s.site_load.peak_kw, 35, 'the building\'s highest, without the PV');
  assert.equal(s.site_load.failsafe_limit_kw, 65, 'the fail-safe keeps under 100 - 35');
  assert.ok(Number.isFinite(Date.parse(s.site_load.reading_at)), s.site_load.reading_at);
});

test('the plan\'s limit is the connection less the load; a higher reading re-plans at once', async () => {
  const p = await eventually(async () => {
    const x = await plan();
    return x.slots?.length && x.slots.every((sl) => sl.site_limit_kw === 75) && x;
  }, 'a plan under 100 - 35 + 10 kW of PV in every slot');
  meter.kw = 50; // a compressor starts: the next reading says so
  const q = await eventually(async () => {
    const x = await plan();
    return x.plan_id > p.plan_id && x.slots[0].site_limit_kw === 55 && x;
  }, 'a plan under 100 - 55 + 10 kW');
  const ev = await d.req('GET', `/api/v1/events?type=plan&limit=20`, { token: tokens.admin });
  assert.ok(ev.json.items.some((e) => e.data.plan === q.plan_id && /site_load/.test(e.data.reasons)),
    'the plan names the building\'s load as its reason');
  const m = await d.req('GET', '/metrics', { token: tokens.viewer });
  assert.match(m.text, /^depotd_site_load_kw 45$/m);
  assert.match(m.text, /^depotd_site_load_reading_kw 50$/m);
  assert.match(m.text, /^depotd_failsafe_limit_kw 45$/m);
  assert.match(m.text, /^depotd_site_load_breaker_state\{provider="workshop-meter",state="closed"\} 1$/m);
});

test('a meter that fails: the breaker opens, counted; the values it gave go on being planned with', async () => {
  meter.status = 503;
  const s = await eventually(async () => {
    const x = await site();
    return x.site_load.breaker === 'open' && x;
  }, 'the breaker open');
  assert.equal(s.site_load.breaker, 'open');
  const m = await d.req('GET', '/metrics', { token: tokens.viewer });
  assert.match(m.text, /^depotd_site_load_fetch_failures_total [1-9]/m);
  // The fetched quarters stay the stored values for their times; the fail-safe's room stays what they allow.
  assert.equal((await site()).site_load.failsafe_limit_kw, 45);
});
