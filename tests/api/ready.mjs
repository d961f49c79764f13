// /readyz reflects the store: a commit of the event log that fails (here a trigger added to the live database
// with the sqlite3 CLI makes SQLite refuse every insert: a real failed commit, which works as root, unlike a
// read-only chmod) turns it not ready with SQLite's reason; the next good commit makes it ready again.
// Not covered: a database that cannot be read (the reader keeps its open file; nothing short of breaking the
// file under a running depotd makes a read fail) and a read-only mount (needs privileges a test has not).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, commandStation, depotConfig, makeTokens, sql } from './lib.mjs';

const tokens = makeTokens();
let d;

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens) });
  await d.start();
});

after(async () => {
  if (d) await d.finish();
});

const vehicle = (id) => d.req('POST', '/api/v1/vehicles', { token: tokens.dispatcher, body: { id, fleet: 'south' } });

test('a failing commit of the event log makes /readyz not ready with the reason, a good one ready again', async () => {
  let r = await d.req('GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.checks.store_commit.ok, true);
  assert.equal(r.json.checks.store_commit.commits_failed, 0);

  sql(d.db, "CREATE TRIGGER ready_test_refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'ready-test: no room'); END");
  const w = await vehicle('van-90');
  assert.equal(w.status, 500, `a write whose event cannot be committed: ${w.text}`);
  r = await d.req('GET', '/readyz');
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.status, 'not_ready');
  assert.equal(r.json.checks.store_commit.ok, false);
  assert.match(r.json.checks.store_commit.detail, /last commit to the event log failed/);
  assert.ok(!r.text.includes('ready-test') && !w.text.includes('ready-test'), 'no SQLite text in public answers');
  assert.match(d.stderr(), /a commit to the event log failed: ready-test: no room/, 'the error is in the log');
  assert.ok(r.json.checks.store_commit.commits_failed >= 1);
  assert.equal(r.json.checks.store_read.ok, true, 'reads still work');

  sql(d.db, 'DROP TRIGGER ready_test_refuse');
  const ok = await vehicle('van-91');
  assert.equal(ok.status, 201, ok.text);
  r = await d.req('GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'ready');
  assert.ok(r.json.checks.store_commit.commits_failed >= 1, 'the count stays');
});

// The disk watermarks on a real file system: a disk_min_free_mb above what any test machine has free (95 TiB)
// puts the event log in lean mode from the start. Boots and status are written and answered; Heartbeats are
// answered but not written, and counted; /readyz stays ready and says why, /metrics and the log say it too.
test('below disk_min_free_mb the essentials are written, Heartbeats are not, and depotd says so', async () => {
  const lean = new ApiDepotd({ config: depotConfig(tokens, { disk_min_free_mb: 100000000, disk_warn_free_mb: 100000000 }) });
  await lean.start();
  try {
    const c = await commandStation(lean, 'CS1');
    for (let i = 0; i < 3; i++) assert.equal((await c.call('Heartbeat', {}, `hb-lean-${i}`))[0], 3, 'answered');
    const sn = await c.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Occupied',
      evseId: 1, connectorId: 1 }, 'sn-lean');
    assert.equal(sn[0], 3, JSON.stringify(sn));
    let r = await lean.req('GET', '/readyz');
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.checks.disk.detail, /below disk_min_free_mb/);
    r = await lean.req('GET', '/metrics', { token: tokens.viewer });
    assert.match(r.text, /^depotd_event_log_lean 1$/m);
    const dropped = Number(/^depotd_events_not_written_total (\d+)$/m.exec(r.text)[1]);
    assert.ok(dropped >= 6, `3 Heartbeats in and out not written: ${dropped}`);
    assert.match(lean.stderr(), /below disk_min_free_mb: not writing Heartbeat/);
    await c.close();
    await lean.stop();
    const actions = sql(lean.db, "SELECT action, count(*) AS n FROM events WHERE type IN ('ocpp_in', 'ocpp_out') "
      + 'GROUP BY action').reduce((o, row) => ({ ...o, [row.action]: row.n }), {});
    assert.equal(actions.Heartbeat, undefined, JSON.stringify(actions));
    assert.ok(actions.BootNotification >= 2 && actions.StatusNotification >= 2, JSON.stringify(actions));
  } finally {
    await lean.finish();
  }
});
