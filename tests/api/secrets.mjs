// Secrets stay secret: what the review found, each checked against a real depotd. The logged config carries no
// tariff provider token or hash (header values: tests/store/test_config_auth.c); a viewer reads no config or registry event through
// /api/v1/events (an admin does, with the auto-registered station's password hash redacted); the database and
// its WAL are created owner-only (0600).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ApiDepotd, connectRaw, bootPayload, depotConfig, eventually, makeTokens, sql } from './lib.mjs';

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

after(async () => {
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
  const all = await d.req('GET', '/api/v1/events?limit=1000', { token: tokens.viewer });
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
