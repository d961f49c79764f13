// Ack-after-commit when the commit fails, for real: another process holds the database's write lock (the sqlite3
// command line in a BEGIN IMMEDIATE), so depotd's writer gives up after its busy timeout and the batch fails.
// The station's state-changing CALL is answered with a CALLERROR InternalError, not a CALLRESULT; a Heartbeat
// (nothing to store) is still answered; once the lock is gone the station's retry is stored and acknowledged, and
// no CALLRESULT the station got for a state-changing CALL lacks its CALL in the log.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  Depotd, stationEntries, bootedStation, statusPayload, sql, withTimeout, WAIT_MS,
} from './lib.mjs';

const STATION = 'COMMIT-FAIL-1';
let depotd;
let locker;
after(async () => {
  locker?.kill('SIGKILL');
  await depotd?.cleanup();
});

test('a failed commit is answered InternalError and nothing unstored is acknowledged', async () => {
  depotd = new Depotd({ config: { stations: stationEntries([STATION]), read_capabilities: false } });
  await depotd.start();
  const c = await bootedStation(depotd, STATION);

  locker = spawn('sqlite3', [depotd.db], { stdio: ['pipe', 'pipe', 'pipe'] });
  locker.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n");
  await withTimeout(once(locker.stdout, 'data'), WAIT_MS, 'the write lock');

  const failed = await c.call('StatusNotification', statusPayload(1, 1, 'Occupied'), 'sn-during-lock');
  assert.equal(failed[0], 4, `a CALLERROR, not a CALLRESULT: ${JSON.stringify(failed)}`);
  assert.equal(failed[2], 'InternalError');
  const hb = await c.call('Heartbeat', {}, 'hb-during-lock');
  assert.equal(hb[0], 3, 'a Heartbeat changes nothing and is answered');

  locker.stdin.write('ROLLBACK;\n.quit\n');
  await withTimeout(once(locker, 'exit'), WAIT_MS, 'the lock released');
  locker = null;

  const retried = await c.call('StatusNotification', statusPayload(1, 1, 'Occupied'), 'sn-retry');
  assert.equal(retried[0], 3, `the retry is stored and acknowledged: ${JSON.stringify(retried)}`);
  await c.close();
  await depotd.stop();

  const durable = "('BootNotification', 'StatusNotification')";
  const calls = sql(depotd.db, 'SELECT message_id FROM events WHERE type = \'ocpp_in\' AND msg_type = 2 AND action IN '
    + durable).map((r) => r.message_id);
  assert.ok(calls.includes('sn-retry') && !calls.includes('sn-during-lock'), JSON.stringify(calls));
  const acked = sql(depotd.db, 'SELECT message_id FROM events WHERE type = \'ocpp_out\' AND msg_type = 3 AND action IN '
    + durable).map((r) => r.message_id);
  assert.ok(acked.length >= 2, JSON.stringify(acked));
  for (const id of acked) assert.ok(calls.includes(id), `acknowledged ${id} has its CALL in the log`);
});
