// GET /plan?at= under a simulated planning clock (config `clock`): `at` is a time on depotd's clock like every
// other time of the API, matched against each plan's own planning-clock start (the plan event's "start"), not
// against when the event was recorded (the real clock, a year away here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, depotConfig, eventually, makeTokens, problem } from './lib.mjs';

const tokens = makeTokens();
let d;
const SIM_START = Date.parse('2025-06-01T06:00:00Z');
const get = (p) => d.req('GET', p, { token: tokens.viewer });
const iso = (ms) => new Date(ms).toISOString();

before(async () => {
  // 1 real second = 1 simulated minute: the planning clock is a year and a half behind the real one.
  d = new ApiDepotd({ config: depotConfig(tokens, { clock: { start: iso(SIM_START), speed: 60 } }) });
  await d.start();
});

after(async () => {
  if (d) await d.finish();
});

test('plan?at= picks the plan in force at a time of the planning clock', async () => {
  const first = await eventually(async () => {
    const r = await get('/api/v1/plan');
    return r.status === 200 && r.json;
  }, 'the first plan');
  const firstStart = Date.parse(first.start);
  assert.ok(Math.abs(firstStart - SIM_START) < 3600e3, `the plan starts on the simulated clock: ${first.start}`);

  // A second plan a few simulated minutes later (a re-plan asked by a new vehicle).
  await new Promise((r) => setTimeout(r, 3000));
  const c = await d.req('POST', '/api/v1/vehicles', { token: tokens.dispatcher,
    body: { id: 'van-50', fleet: 'south', id_tokens: ['VAN-50'] } });
  assert.equal(c.status, 201, c.text);
  const second = await eventually(async () => {
    const r = await get('/api/v1/plan');
    return r.status === 200 && r.json.plan_id > first.plan_id && r.json;
  }, 'a later plan');
  const secondStart = Date.parse(second.start);
  assert.ok(secondStart - firstStart >= 2 * 60e3, `${first.start} .. ${second.start}: minutes apart on the sim clock`);

  const atFirst = await get(`/api/v1/plan?at=${encodeURIComponent(first.start)}`);
  assert.equal(atFirst.status, 200, atFirst.text);
  assert.equal(atFirst.json.source, 'event_log');
  assert.equal(atFirst.json.start, first.start);
  assert.ok(atFirst.json.plan_id < second.plan_id, `at the first plan's start: plan ${atFirst.json.plan_id}`);
  // recorded_at is the real clock: far from the planning clock.
  assert.ok(Date.parse(atFirst.json.recorded_at) - Date.parse(atFirst.json.start) > 100 * 86400e3,
    `${atFirst.json.recorded_at} vs ${atFirst.json.start}`);

  const between = await get(`/api/v1/plan?at=${encodeURIComponent(iso(secondStart - 1))}`);
  assert.equal(between.status, 200, between.text);
  assert.ok(between.json.plan_id < second.plan_id && Date.parse(between.json.start) < secondStart);

  const atSecond = await get(`/api/v1/plan?at=${encodeURIComponent(second.start)}`);
  assert.equal(atSecond.status, 200, atSecond.text);
  assert.ok(atSecond.json.plan_id >= second.plan_id);
  assert.equal(atSecond.json.inputs.start, atSecond.json.start);

  // Before the first plan's start on the planning clock there is none, though the real clock is later.
  problem(assert, await get(`/api/v1/plan?at=${encodeURIComponent(iso(firstStart - 60e3))}`), 404, 'at');
});
