// How well the depot's vehicles keep the departures depotd is told, learned from the sessions that ended
// (src/departures.c; control.departure_hedge_max_pct, departure_hedge_new_pct). A new depot plans cautiously
// (the hedge at its most) until 8 sessions with a told departure have ended; vans that keep their departures
// teach it 0; drivers who leave early teach it back up. Each ended session is a departure_kept event, and a
// restarted depotd learns from those again. The hedge in force is /metrics' depotd_departure_hedge_percent and
// each plan event's departure_hedge_pct.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, commandStation, depotConfig, eventually, iso, makeTokens, sql, txEvent } from './lib.mjs';

const tokens = makeTokens();
const MIN = 60 * 1000;
const H = 60 * MIN;
let d, st, serial = 0;

const vans = Array.from({ length: 12 }, (_, i) => `van-${i + 1}`);

async function hedgeMetric() {
  const m = await d.req('GET', '/metrics', { token: tokens.viewer });
  const x = /^depotd_departure_hedge_percent (\S+)$/m.exec(m.text);
  assert.ok(x, m.text);
  return Number(x[1]);
}

// A session on EVSE 1 that started `stayedMs` ago and ends now, its EV telling a departure `toldMs` after its start.
async function evSession(stayedMs, toldMs) {
  const txId = `TX-EV-${++serial}`;
  const start = Date.now() - stayedMs;
  await st.ok('TransactionEvent', txEvent({ eventType: 'Started', txId, seqNo: 0, timestamp: iso(start), wh: 0,
    chargingState: 'Charging' }));
  await st.ok('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase',
    departureTime: iso(start + toldMs), acChargingParameters: { energyAmount: 5000, evMinCurrent: 6, evMaxCurrent: 16,
      evMaxVoltage: 400 } } });
  await st.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId, seqNo: 1, wh: 3000, stoppedReason: 'EVDisconnected' }));
}

// A van whose dispatcher said it stays 10 hours; it left after one.
async function dispatcherSessionLeftEarly(van) {
  const put = await d.req('PUT', `/api/v1/vehicles/${van}/departure`, { token: tokens.dispatcher,
    body: { departure: iso(Date.now() + 9 * H), energy_kwh: 20 } });
  assert.equal(put.status, 200, put.text);
  const txId = `TX-D-${++serial}`;
  await st.ok('TransactionEvent', txEvent({ eventType: 'Started', txId, seqNo: 0, evseId: 2, timestamp: iso(Date.now() - H),
    idToken: van.toUpperCase(), wh: 0, chargingState: 'Charging' }));
  await st.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId, seqNo: 1, wh: 6000, stoppedReason: 'EVDisconnected' }));
}

const keptEvents = () => sql(d.db, "SELECT station, data FROM events WHERE type = 'departure_kept' ORDER BY seq")
  .map((r) => ({ station: r.station, ...JSON.parse(r.data) }));

before(async () => {
  const cfg = depotConfig(tokens);
  // The defaults, not the API tests' dispatcher schedule.
  delete cfg.control.departure_hedge_new_pct;
  cfg.control.replan_delay_ms = 20;
  cfg.control.vehicles = vans.map((id) => ({ id, battery_kwh: 60, max_kw: 11, id_tokens: [id.toUpperCase()] }));
  d = new ApiDepotd({ config: cfg });
  await d.start();
  st = await commandStation(d, 'CS1');
});

after(async () => {
  if (st) await st.close();
  if (d) await d.finish();
});

test('a new depot hedges at the most until 8 sessions have ended; vans that keep their departures teach it 0', async () => {
  assert.equal(await hedgeMetric(), 90, 'nothing learned yet: departure_hedge_new_pct 90');
  // Seven EVs that stayed 60 minutes past the 30 they told: still the new depot's value.
  for (let i = 0; i < 7; i++) await evSession(60 * MIN, 30 * MIN);
  assert.equal(await hedgeMetric(), 90, 'seven sessions: not enough');
  await evSession(60 * MIN, 30 * MIN);
  await eventually(async () => (await hedgeMetric()) === 0, 'eight sessions that kept their departures: no hedge');
  const kept = keptEvents();
  assert.equal(kept.length, 8);
  assert.ok(kept.every((e) => e.station === 'CS1' && e.source === 'ev' && e.kept_pct === 100 && e.evse === 1), JSON.stringify(kept));
  // A session told a departure under 15 minutes after its start teaches nothing, and is no event.
  await evSession(60 * MIN, 10 * MIN);
  assert.equal(keptEvents().length, 8);
});

test('what was learned survives a restart (departure_kept events), and drivers who leave early teach the hedge back up',
  async () => {
    await st.close();
    st = null;
    await d.stop();
    await d.start();
    assert.match(d.stderrText, /learned from 8 sessions in the event log how departures are kept/);
    assert.equal(await hedgeMetric(), 0, 'restored: still 0, not the new depot\'s 90');
    st = await commandStation(d, 'CS1');
    // Vans told 10 hours that left after one (kept 10 %). Two of ten: under a quarter, no hedge.
    for (const van of vans.slice(0, 2)) await dispatcherSessionLeftEarly(van);
    assert.equal(await hedgeMetric(), 0, '2 of 10 left early: no hedge');
    // Three of eleven: the quantile (index 11 / 4 = 2 of the sorted shares) is an early one: 90 % (the most).
    await dispatcherSessionLeftEarly(vans[2]);
    await eventually(async () => (await hedgeMetric()) > 89.9, 'a quarter left before 10 % of the stay: 90 %');
    const early = keptEvents().filter((e) => e.source === 'dispatcher');
    assert.equal(early.length, 3);
    assert.ok(early.every((e) => e.kept_pct === 10 && e.evse === 2), JSON.stringify(early));
    // The next plan says which hedge it was made with.
    await eventually(() => sql(d.db, "SELECT json_extract(data, '$.departure_hedge_pct') AS h FROM events "
      + "WHERE type = 'plan' ORDER BY seq DESC LIMIT 1")[0]?.h > 89.9, 'a plan made with the 90 % hedge');
  });
