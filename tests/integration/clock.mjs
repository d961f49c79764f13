// A station's clock against depotd's (issue 14). depotd reads each station's offset from the timestamps of what
// it sends as it happens (StatusNotification, TransactionEvent not offline): the largest of the last samples,
// since transit only makes a stamp look older. A station has one CALL in flight (OCPP-J), so what it made while
// waiting, and above all what it made while away, leaves in a burst the moment each answer comes back, with
// stamps minutes old. Those are not samples of its clock: taken for one, a station with a good clock was once
// judged 147 s behind after depotd's restart and its caps went out shifted (control_depot_stationmax in CI).
//
// depotd runs on a simulated clock at 600x here, so the minute an offset must hold still is 100 ms.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Depotd, bootedStation, stationEntries, sql, eventually, statusPayload } from './lib.mjs';

const SPEED = 600;
const START = Date.parse('2022-09-26T06:00:00Z');
const AHEAD_S = 120; // the station's clock, ahead of depotd's
const QUEUED_S = 200; // how long the backlog waited in the station's queue (planning clock)
let depotd;
let anchor;

before(async () => {
  anchor = Date.now() + 500;
  depotd = new Depotd({
    config: {
      stations: stationEntries(['CLK1']),
      clock: { start: '2022-09-26T06:00:00Z', speed: SPEED, anchor_unix_ms: anchor },
      clock_skew_tolerance_s: 300,
    },
  });
  await depotd.start();
});

after(async () => {
  const sanitizer = depotd?.sanitizerReports() ?? [];
  await depotd?.cleanup();
  assert.deepEqual(sanitizer, [], 'no sanitizer report on depotd stderr');
});

// depotd's planning clock now, as the station's clock would read it with `offsetS` of skew.
const stamp = (offsetS) => new Date(START + (Date.now() - anchor) * SPEED + offsetS * 1000).toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const offsets = () => sql(depotd.db, "SELECT data FROM events WHERE station='CLK1' AND type='clock_offset' ORDER BY seq")
  .map((r) => JSON.parse(r.data).offset_s);

test('an offset is measured from stamps sent as things happen, and a backlog worked off is not taken for one', async () => {
  const c = await bootedStation(depotd, 'CLK1');
  try {
    // Fresh: one status every 40 ms real (24 s of planning clock), each made and sent at once.
    for (let i = 0; i < 25; i++) {
      await c.ok('StatusNotification', statusPayload(1, 1, 'Available', stamp(AHEAD_S)));
      await sleep(40);
    }
    await eventually(() => offsets().length > 0, 'a clock_offset event');
    const first = offsets();
    assert.ok(Math.abs(first.at(-1) - AHEAD_S) <= 15, `offset measured ${first.at(-1)} s, the clock is ${AHEAD_S} s ahead`);

    // A backlog: each status leaves the moment the previous one is answered, stamped when it was made, 200 s
    // (planning clock) before it leaves. Worked off for 400 ms real, four times the minute an offset must hold.
    const until = Date.now() + 400;
    let sent = 0;
    for (; sent < 5000 && Date.now() < until; sent++)
      await c.ok('StatusNotification', statusPayload(1, 1, 'Available', stamp(AHEAD_S - QUEUED_S)));
    assert.ok(sent >= 40, `the backlog had ${sent} messages, too few to hold a wrong offset still`);

    // Fresh again, so that a wrong offset would have had every chance to be logged.
    for (let i = 0; i < 10; i++) {
      await c.ok('StatusNotification', statusPayload(1, 1, 'Available', stamp(AHEAD_S)));
      await sleep(40);
    }
    await sleep(100);
    const all = offsets();
    const wrong = all.filter((o) => Math.abs(o - AHEAD_S) > 15);
    assert.deepEqual(wrong, [], `offsets logged: ${JSON.stringify(all)} (backlog of ${sent} messages)`);
  } finally {
    c.terminate();
  }
});
