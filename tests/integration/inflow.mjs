// What depotd takes from one station is bounded, and nothing is lost to the bound: a station read faster than
// max_messages_per_s (after a burst of 10 seconds' worth) is not read for a while, and every message it sent is
// still answered; a station whose CALLs wait unanswered (here: another process holds the database's write lock)
// is not read past max_unanswered of them, and is read again once answers go out. Both are counted
// (depotd_stations_throttled_total) and logged as `throttled` events.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  Depotd, stationEntries, bootedStation, statusPayload, sql, eventually, withTimeout, newId, WAIT_MS,
} from './lib.mjs';

let depotd;
let locker;
const open = [];
after(async () => {
  locker?.kill('SIGKILL');
  for (const c of open) c.terminate();
  await depotd?.cleanup();
});

const throttled = (station) => sql(depotd.db, `SELECT json_extract(data, '$.reason') AS r FROM events WHERE type = `
  + `'throttled' AND station = '${station}'`).map((x) => x.r);

test('a station is read at most max_messages_per_s, and every message is answered', async () => {
  depotd = new Depotd({ config: { stations: stationEntries(['FAST', 'PILE']), read_capabilities: false,
    max_messages_per_s: 20, max_unanswered: 4 } });
  await depotd.start();
  const fast = await bootedStation(depotd, 'FAST');
  open.push(fast);
  // 300 Heartbeats sent at once: 200 are the burst, the other 100 come in at 20 a second.
  const t0 = Date.now();
  const ids = Array.from({ length: 300 }, () => newId('hb'));
  for (const id of ids) fast.send([2, id, 'Heartbeat', {}]);
  const answers = await withTimeout(Promise.all(ids.map((id) => fast.answer(id, WAIT_MS * 2))), WAIT_MS * 2,
    'every Heartbeat answered');
  const took = Date.now() - t0;
  assert.ok(answers.every((f) => f[0] === 3), 'all 300 answered, none refused');
  assert.ok(took >= 4000, `the 100 beyond the burst took their time at 20/s (${took} ms)`);
  await eventually(() => throttled('FAST').some((r) => /max_messages_per_s/.test(r)), 'the throttled event');
});

test('a station is not read past max_unanswered CALLs, and is read again as answers go out', async () => {
  const pile = await bootedStation(depotd, 'PILE');
  open.push(pile);
  locker = spawn('sqlite3', [depotd.db], { stdio: ['pipe', 'pipe', 'pipe'] });
  locker.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n");
  await withTimeout(once(locker.stdout, 'data'), WAIT_MS, 'the write lock');
  const ids = Array.from({ length: 10 }, () => newId('sn'));
  for (const id of ids) pile.send([2, id, 'StatusNotification', statusPayload(1, 1, 'Available')]);
  await new Promise((r) => setTimeout(r, 1000));
  locker.stdin.write('ROLLBACK;\n.quit\n');
  await withTimeout(once(locker, 'exit'), WAIT_MS, 'the lock released');
  locker = null;
  const answers = await withTimeout(Promise.all(ids.map((id) => pile.answer(id, WAIT_MS * 2))), WAIT_MS * 2,
    'every StatusNotification answered');
  assert.ok(answers.every((f) => f[0] === 3), 'all ten stored and answered once the lock went');
  await eventually(() => throttled('PILE').some((r) => /max_unanswered/.test(r)), 'the throttled event');
});
