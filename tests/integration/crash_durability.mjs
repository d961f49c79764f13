// Durability: depotd answers a state-changing CALL only after its event is committed (group commit, WAL,
// synchronous=FULL). So after a `kill -9` in the middle of heavy traffic, every TransactionEvent a station
// got a CALLRESULT for must be in the event log and in transaction_events. Then depotd starts again on the
// same database and the stations reconnect and finish their transactions.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { Depotd, connectRaw, stationEntries, sql, newId, bootPayload, txEvent, withTimeout, WAIT_MS } from './lib.mjs';

const N_STATIONS = 50;
const TRAFFIC_MS = Number(process.env.CRASH_TRAFFIC_MS || 1500); // kill -9 this long after traffic starts
const MAX_EVENTS_PER_STATION = 2000; // and never more than this per station
const ids = Array.from({ length: N_STATIONS }, (_, i) => `CD${String(i).padStart(2, '0')}`);

let depotd;
after(async () => {
  await depotd?.cleanup();
});

async function bootAll() {
  return Promise.all(ids.map(async (id) => {
    const c = await connectRaw(depotd.url(id));
    const boot = await c.ok('BootNotification', bootPayload());
    assert.equal(boot.status, 'Accepted');
    return c;
  }));
}

test('every answered TransactionEvent survives kill -9; depotd restarts on the same DB', async (t) => {
  depotd = new Depotd({ config: { stations: stationEntries(ids) } });
  await depotd.start();
  let clients = await bootAll();

  // Each station has one transaction and sends Updated events back to back, one CALL in flight (OCPP-J).
  const acked = []; // {station, id, txId, seqNo} of every CALLRESULT received
  const nextSeq = new Map();
  const inflight = new Map(); // station -> the payload sent whose answer never came
  let stop = false;
  await Promise.all(clients.map((c, i) => c.ok('TransactionEvent',
    txEvent({ eventType: 'Started', txId: `TX-${ids[i]}`, seqNo: 0, wh: 0, idToken: 'VAN-0001' }))));
  ids.forEach((id) => nextSeq.set(id, 1));

  const pumps = clients.map(async (c, i) => {
    const station = ids[i];
    const txId = `TX-${station}`;
    for (let n = 0; n < MAX_EVENTS_PER_STATION && !stop; n++) {
      const seqNo = nextSeq.get(station);
      const id = newId(`${station}-`);
      const payload = txEvent({ eventType: 'Updated', txId, seqNo, wh: seqNo * 10, chargingState: 'Charging' });
      inflight.set(station, payload);
      c.send([2, id, 'TransactionEvent', payload]);
      let answer;
      try {
        answer = await c.answer(id, WAIT_MS);
      } catch {
        return; // the connection died with depotd: this one was never acknowledged
      }
      inflight.delete(station);
      if (answer[0] !== 3) throw new Error(`${station} ${id}: ${JSON.stringify(answer)}`);
      acked.push({ station, id, txId, seqNo });
      nextSeq.set(station, seqNo + 1);
    }
  });

  await new Promise((r) => setTimeout(r, TRAFFIC_MS));
  const ackedAtKill = acked.length;
  await depotd.kill9();
  stop = true;
  await withTimeout(Promise.all(pumps), WAIT_MS, 'station loops end after the kill');
  assert.ok(ackedAtKill >= N_STATIONS, `traffic was flowing when killed (${ackedAtKill} answered)`);
  assert.ok(acked.length >= ackedAtKill);
  // Answers can only have been received before the process died: what we hold is final.
  const answeredIds = acked.map((a) => a.id);
  t.diagnostic(`${acked.length} TransactionEvents answered before kill -9 (${N_STATIONS} stations, ${TRAFFIC_MS} ms)`);

  // 1. Each answered CALL is in the event log, accepted.
  const logged = new Map(sql(depotd.db, "SELECT message_id, status FROM events WHERE type='ocpp_in' AND action='TransactionEvent' AND msg_type=2")
    .map((r) => [r.message_id, r.status]));
  const missingEvents = answeredIds.filter((id) => logged.get(id) !== 'ok');
  assert.deepEqual(missingEvents.slice(0, 10), [], `${missingEvents.length} answered CALLs missing from events`);

  // 2. And in the transaction_events projection, (station, transactionId, seqNo).
  const projected = new Set(sql(depotd.db, 'SELECT station, transaction_id, seq_no FROM transaction_events')
    .map((r) => `${r.station}/${r.transaction_id}/${r.seq_no}`));
  const missingTx = acked.filter((a) => !projected.has(`${a.station}/${a.txId}/${a.seqNo}`));
  assert.deepEqual(missingTx.slice(0, 10), [], `${missingTx.length} answered events missing from transaction_events`);

  for (const c of clients) c.terminate();

  // 3. depotd starts again on the crashed DB, every transaction is still open, the stations come back.
  await depotd.start();
  const open = sql(depotd.db, "SELECT count(*) AS n FROM transactions WHERE id LIKE 'TX-CD%' AND ended_ms IS NULL")[0].n;
  assert.equal(open, N_STATIONS);
  clients = await bootAll();
  await Promise.all(clients.map(async (c, i) => {
    const station = ids[i];
    // E.g. a real station: it resends the event it never got an answer for (depotd may or may not have it;
    // either way it is applied once), then goes on with the next seqNo.
    const lost = inflight.get(station);
    if (lost) {
      await c.ok('TransactionEvent', lost);
      nextSeq.set(station, lost.seqNo + 1);
    }
    const seqNo = nextSeq.get(station);
    await c.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId: `TX-${station}`, seqNo, wh: seqNo * 10, stoppedReason: 'Local' }));
  }));
  const rows = sql(depotd.db, "SELECT station, ended_ms, seq_max, events FROM transactions WHERE id LIKE 'TX-CD%' ORDER BY station");
  assert.equal(rows.length, N_STATIONS);
  for (const r of rows) {
    assert.ok(r.ended_ms > 0, `${r.station} ended`);
    assert.equal(r.seq_max, nextSeq.get(r.station), `${r.station} seq_max`);
    assert.equal(r.events, r.seq_max + 1, `${r.station}: seqNo 0..${r.seq_max}, each once`);
  }
  for (const c of clients) await c.close();
  const exit = await depotd.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.deepEqual(depotd.sanitizerReports(), [], 'no sanitizer report on depotd stderr');
});
