// Benchmark (not a test): how long from a station's event to every changed SetChargingProfile written.
// N EVSEs (N/2 stations x 2) charge behind a site limit that binds; each trigger is one EV telling new needs
// (NotifyEVChargingNeeds), which moves energy between many sessions. Latency = from sending the trigger to the
// last SetChargingProfile of the resulting plan received (decreases, their answers, then increases), measured
// at the stations over real websockets on 127.0.0.1. Prints a table.
// Every trigger's plan is counted: after each trigger the bench waits (at most PLAN_WAIT_MS) for depotd's log
// line of the plan that took it ("plan N (..needs..): ... D decreases then I increases, solved in X ms"),
// then (at most PLAN_WAIT_MS more) for those D + I SetChargingProfile frames. A plan or frames that do not
// come in time are counted in the "timed out" column, never dropped silently.
//
//   node bench/control/replan_latency.mjs [EVSES...]      (default: 100 500)
// env: DEPOTD (default build/src/depotd), TRIGGERS (default 40), REPLAN_DELAY_MS (default 20),
//      PLAN_WAIT_MS (default 30000), DEBUG=1 (per-trigger lines on stderr), KEEP_DB=dir (keep the event logs)
import {
  Depotd, baseConfig, stationEntries, connectRaw, bootPayload, statusPayload, txEvent, isoNow, newId,
} from '../../tests/integration/lib.mjs';

const TRIGGERS = Number(process.env.TRIGGERS || 40);
const DELAY = Number(process.env.REPLAN_DELAY_MS || 20);
const QUIET_MS = 400;
const PLAN_WAIT_MS = Number(process.env.PLAN_WAIT_MS || 30000);
const PLAN_RE = /plan (\d+) \(([^)]*)\): .*?(\d+) decreases then (\d+) increases, solved in (\d+) ms by (\S+)/g;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const VALUES = { PeriodsPerSchedule: '24', ProfileStackLevel: '8', RateUnit: 'W', SupplyPhases: '3', Power: '22000' };

function answer(c, frame, seen) {
  const [, id, action, payload] = frame;
  if (action === 'GetVariables') {
    c.send(JSON.stringify([3, id, {
      getVariableResult: payload.getVariableData.map((d) => ({
        attributeStatus: 'Accepted', attributeValue: VALUES[d.variable.name] ?? '1',
        component: d.component, variable: d.variable,
        ...(d.attributeType ? { attributeType: d.attributeType } : {}),
      })),
    }]));
  } else if (action === 'SetChargingProfile') {
    seen.push(performance.now());
    c.send(JSON.stringify([3, id, { status: 'Accepted' }]));
  } else {
    c.send(JSON.stringify([4, id, 'NotImplemented', '', {}]));
  }
}

async function call(ws, pending, action, payload) {
  const id = newId();
  const p = new Promise((resolve, reject) => {
    pending.set(id, resolve);
    setTimeout(() => reject(new Error(`${action} timed out`)), 20000);
  });
  ws.send(JSON.stringify([2, id, action, payload]));
  return p;
}

const pct = (v, q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];

async function run(nEvse) {
  const nStations = Math.ceil(nEvse / 2);
  const ids = Array.from({ length: nStations }, (_, i) => `BENCH${String(i + 1).padStart(4, '0')}`);
  // KEEP_DB=dir: keep depotd's event log as dir/replan-N.db (plan events carry the exact LP, for
  // bench/optimizer/replay_plans).
  const d = new Depotd({
    db: process.env.KEEP_DB ? `${process.env.KEEP_DB}/replan-${nEvse}.db` : undefined,
    config: baseConfig({
      stations: stationEntries(ids), log_level: 'info', unknown_id_token: 'Accepted', max_queued_calls: 256,
      control: { site_limit_kw: nEvse * 4, slot_minutes: 15, horizon_h: 24, replan_delay_ms: DELAY, failsafe: 'TxDefaultProfile' },
    }),
  });
  await d.start();
  const seen = [];
  const clients = [];
  try {
    for (const id of ids) {
      const ws = (await connectRaw(d.url(id), { station: id, answerCalls: false })).ws;
      const pending = new Map();
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f[0] === 2) answer(ws, f, seen);
        else if (pending.has(f[1])) { pending.get(f[1])(f[2]); pending.delete(f[1]); }
      });
      const c = { id, ws, pending, seq: 0 };
      clients.push(c);
      await call(ws, pending, 'BootNotification', bootPayload());
      for (const e of [1, 2]) {
        await call(ws, pending, 'StatusNotification', statusPayload(e, 1, 'Occupied'));
        await call(ws, pending, 'TransactionEvent', txEvent({
          eventType: 'Started', txId: `${id}-${e}`, seqNo: c.seq++, evseId: e, idToken: `T${id}${e}`,
          chargingState: 'Charging', wh: 1000,
        }));
        // Every EV has a finite need: together they keep the limit busy, so one changed need moves others.
        await call(ws, pending, 'NotifyEVChargingNeeds', {
          evseId: e,
          chargingNeeds: {
            requestedEnergyTransfer: 'AC_three_phase', departureTime: isoNow(8 * 3600000),
            acChargingParameters: { energyAmount: 20000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 },
          },
        });
      }
    }
    // Quiet: no frame and no depotd log output for QUIET_MS (a plan still solving logs when it is applied).
    const quiet = async (maxMs = 10000) => {
      const start = performance.now();
      let n = -1, len = -1, since = start;
      while (performance.now() - start < maxMs) {
        if (seen.length !== n || d.stderr().length !== len) {
          n = seen.length; len = d.stderr().length; since = performance.now();
        } else if (performance.now() - since >= QUIET_MS) return;
        await sleep(50);
      }
    };
    await quiet(120000);
    if (process.env.DEBUG) console.error(`set-up: ${seen.length} profiles\n` + d.stderr().split('\n').filter((l) => /control|WARN|ERROR/.test(l)).slice(-15).join('\n'));
    const lat = [], frames = [], solve = [];
    let planned = 0, unchanged = 0, timedOut = 0;
    let rnd = 12345;
    const rand = () => ((rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < TRIGGERS; k++) {
      const c = clients[Math.floor(rand() * clients.length)];
      const evse = 1 + Math.floor(rand() * 2);
      const before = seen.length;
      const logFrom = d.stderr().length;
      const t0 = performance.now();
      await call(c.ws, c.pending, 'NotifyEVChargingNeeds', {
        evseId: evse,
        chargingNeeds: {
          requestedEnergyTransfer: 'AC_three_phase',
          departureTime: isoNow((2 + rand() * 6) * 3600000),
          acChargingParameters: { energyAmount: Math.round(10000 + rand() * 50000), evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 },
        },
      });
      // The first plan logged after the trigger whose reasons include the new needs.
      let plan = null;
      while (!plan && performance.now() - t0 < PLAN_WAIT_MS) {
        for (const m of d.stderr().slice(logFrom).matchAll(PLAN_RE)) {
          if (m[2].split(',').includes('needs')) { plan = { id: +m[1], frames: +m[3] + +m[4], ms: +m[5], method: m[6] }; break; }
        }
        if (!plan) await sleep(10);
      }
      let line = 'no plan';
      if (!plan) {
        timedOut++;
      } else {
        planned++;
        solve.push(plan.ms);
        if (plan.frames === 0) {
          unchanged++;
          line = `plan ${plan.id}: no changes, solved in ${plan.ms} ms`;
        } else {
          while (seen.length - before < plan.frames && performance.now() - t0 < 2 * PLAN_WAIT_MS) await sleep(5);
          if (seen.length - before < plan.frames) {
            timedOut++;
            line = `plan ${plan.id}: only ${seen.length - before} of ${plan.frames} frames`;
          } else {
            lat.push(seen[before + plan.frames - 1] - t0);
            frames.push(plan.frames);
            line = `plan ${plan.id}: ${plan.frames} frames, ${lat[lat.length - 1].toFixed(1)} ms, solved in ${plan.ms} ms by ${plan.method}`;
          }
        }
      }
      await quiet(); // frames of later plans (drift, coalesced triggers) must not count for the next trigger
      if (process.env.DEBUG) console.error(`trigger ${k}: ${line}`);
    }
    if (process.env.DEBUG) console.error('after:\n' + d.stderr().split('\n').slice(-12).join('\n'));
    for (const v of [lat, frames, solve]) v.sort((a, b) => a - b);
    return {
      nEvse, triggers: TRIGGERS, planned, changed: lat.length, unchanged, timedOut, frames: pct(frames, 0.5),
      p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[lat.length - 1], solve50: pct(solve, 0.5), solve99: pct(solve, 0.99),
    };
  } finally {
    for (const c of clients) c.ws.terminate();
    await d.stop();
    await d.cleanup();
  }
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const rows = [];
for (const n of sizes.length ? sizes : [100, 500]) rows.push(await run(n));
console.log(`\nevent -> last changed SetChargingProfile received (96 slots of 15 min, replan_delay_ms ${DELAY}, ${TRIGGERS} triggers)`);
console.log('| EVSEs | plans found | with changes | timed out | profiles per plan (median) | p50 ms | p99 ms | max ms | solve p50 / p99 ms |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const f = (v) => (v === undefined ? '-' : v.toFixed(1));
for (const r of rows) {
  console.log(`| ${r.nEvse} | ${r.planned}/${r.triggers} | ${r.changed} | ${r.timedOut} | ${r.frames ?? '-'} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${r.solve50 ?? '-'} / ${r.solve99 ?? '-'} |`);
}
