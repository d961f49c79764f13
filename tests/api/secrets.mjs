// Secrets stay secret: what the review found, each checked against a real depotd. A fleet-scoped token reads
// only its fleet: vehicles, departures, sessions, events and the plan of another fleet do not exist for it. The logged config carries no
// tariff provider token or hash (header values: tests/store/test_config_auth.c); a viewer reads no config or registry event through
// /api/v1/events (an admin does, with the auto-registered station's password hash redacted); the database and
// its WAL are created owner-only (0600).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  ApiDepotd, commandStation, connectRaw, bootPayload, depotConfig, eventually, iso, makeTokens, sql, txEvent,
} from './lib.mjs';

const tokens = makeTokens();
const PROVIDER_TOKEN = 'tibber-secret-0123456789abcdef';
const AUTO_PASSWORD = 'auto-registered-password-01';
let d;

before(async () => {
  d = new ApiDepotd({
    config: depotConfig(tokens, {
      auto_register: true,
      // Providers that cannot be reached from here (127.0.0.1 port 9, discard): only their config matters.
      tariff: {
        provider: { type: 'tibber', name: 'tibber', token: PROVIDER_TOKEN, url: 'http://127.0.0.1:9/gql' },
        fallback: { type: 'fixed', name: 'flat', price: 0.3 },
      },
    }),
  });
  await d.start();
  const c = await connectRaw(d.url('AUTO-01'), { station: 'AUTO-01', password: AUTO_PASSWORD });
  await c.ok('BootNotification', bootPayload());
  await c.close();
});

let st;
after(async () => {
  await st?.close();
  await d?.finish();
});

test('the config event carries no provider token or hash', async () => {
  const rows = await eventually(() => sql(d.db, "SELECT data FROM events WHERE type = 'config'"), 'the config event');
  const text = rows.map((r) => r.data).join('\n');
  assert.ok(text.includes('"tibber"') && text.includes('"token":"(redacted)"'), text);
  for (const secret of [PROVIDER_TOKEN, 'sha256$', 'pbkdf2-sha256$'])
    assert.ok(!text.includes(secret), `the logged config has no ${secret}`);
});

test('config and registry events are the admin\'s; nobody reads a password hash back', async () => {
  await eventually(() => sql(d.db, "SELECT 1 FROM events WHERE type = 'registry'").length, 'the registry event');
  const types = async (token, type) => {
    const r = await d.req('GET', `/api/v1/events?type=${type}&limit=100`, { token });
    assert.equal(r.status, 200, r.text);
    return r.json.items;
  };
  for (const type of ['config', 'registry']) {
    assert.deepEqual(await types(tokens.viewer, type), [], `a viewer reads no ${type} event`);
    assert.deepEqual(await types(tokens.dispatcher, type), [], `a dispatcher reads no ${type} event`);
    assert.ok((await types(tokens.admin, type)).length >= 1, `an admin reads the ${type} events`);
  }
  const reg = (await types(tokens.admin, 'registry')).find((e) => e.station === 'AUTO-01');
  assert.equal(reg.data.password_hash, '(redacted)');
  const all = await d.req('GET', '/api/v1/events?limit=500', { token: tokens.viewer });
  assert.equal(all.status, 200, all.text);
  assert.ok(!all.text.includes('pbkdf2-sha256$') && !all.text.includes(PROVIDER_TOKEN), 'no secret in a viewer\'s log');
  // The log itself keeps the hash: the station registry is rebuilt from it.
  assert.match(sql(d.db, "SELECT data FROM events WHERE type = 'registry'")[0].data, /pbkdf2-sha256\$/);
});

test('the database and its WAL are owner-only', () => {
  for (const f of [d.db, `${d.db}-wal`]) {
    const mode = fs.statSync(f).mode & 0o777;
    assert.equal(mode & 0o077, 0, `${f} is ${mode.toString(8)}`);
  }
});

test('a fleet-scoped token reads its fleet only: vehicles, departures, sessions, events, the plan', async () => {
  st = await commandStation(d, 'CS1');
  await st.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-north', seqNo: 0, wh: 0, idToken: 'VAN-1',
    evseId: 1, chargingState: 'Charging' }));
  await st.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-south', seqNo: 0, wh: 0, idToken: 'VAN-2',
    evseId: 2, chargingState: 'Charging' }));
  const dep = { departure: iso(Date.now() + 8 * 3600e3), energy_kwh: 20 };
  for (const v of ['van-1', 'van-2']) {
    const r = await d.req('PUT', `/api/v1/vehicles/${v}/departure`, { token: tokens.dispatcher, body: dep });
    assert.equal(r.status, 200, r.text);
  }
  const get = async (path, token) => {
    const r = await d.req('GET', path, { token });
    return r;
  };
  // The unscoped dispatcher sees both fleets: the data is there.
  const all = (await get('/api/v1/sessions', tokens.dispatcher)).json.items.map((x) => x.vehicle);
  assert.deepEqual(all.sort(), ['van-1', 'van-2']);
  const north = (await get('/api/v1/sessions', tokens.north)).json.items.map((x) => x.vehicle);
  assert.deepEqual(north, ['van-1'], 'a north dispatcher lists north\'s sessions only');
  assert.equal((await get('/api/v1/sessions/CS1:tx-south', tokens.north)).status, 404);
  assert.equal((await get('/api/v1/sessions/CS1:tx-north', tokens.north)).status, 200);
  const vehicles = (await get('/api/v1/vehicles', tokens.north)).json.items.map((v) => v.id);
  assert.deepEqual(vehicles, ['van-1']);
  assert.equal((await get('/api/v1/vehicles/van-2', tokens.north)).status, 404);
  assert.equal((await get('/api/v1/vehicles/van-2/departure', tokens.north)).status, 404);
  assert.equal((await get('/api/v1/vehicles/van-1/departure', tokens.north)).status, 200);
  const ev = (await get('/api/v1/events?limit=500', tokens.north)).json.items;
  assert.ok(ev.length >= 1 && ev.every((e) => e.data?.vehicle === 'van-1'), JSON.stringify(ev.map((e) => e.data?.vehicle)));
  const evAll = (await get('/api/v1/events?limit=500', tokens.dispatcher)).json.items;
  assert.ok(evAll.some((e) => e.data?.vehicle === 'van-2'), 'the south events exist');
  const plan = await eventually(async () => {
    const p = (await get('/api/v1/plan', tokens.dispatcher)).json;
    return p?.evses?.length === 2 ? p : null;
  }, 'a plan with both sessions');
  assert.ok(plan.evses.some((e) => e.vehicle_id === 'van-2'));
  const np = (await get('/api/v1/plan', tokens.north)).json;
  assert.deepEqual(np.evses.map((e) => e.vehicle_id), ['van-1']);
  assert.equal(np.inputs, undefined, 'no inputs: they hold every fleet\'s sessions');
  const at = (await get(`/api/v1/plan?at=${encodeURIComponent(iso(Date.now()))}`, tokens.north)).json;
  assert.ok(at.evses.every((e) => e.vehicle_id === 'van-1') && at.inputs === undefined, JSON.stringify(at.evses));
});
