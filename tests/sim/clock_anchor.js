// depotsim run --clock-anchor: simulated time = scenario start + (wall clock - anchor) x speed, the formula
// depotd is given too. An independent CSMS (npm ocpp-rpc, strict) takes the time every message arrives and checks
// the timestamp inside against the formula: stations connect and boot before the anchor (stamped before the
// scenario's start), the scenario does not move before the anchor, and afterwards every stamp is within a few
// real milliseconds of the formula. The same run prints the live table (--table-minutes 5) and compares with the
// uncontrolled baseline (--baseline): both are checked too.
// Env: DEPOTSIM (binary), SIM_EXAMPLES (examples/sim), NODE_PATH (repo node_modules).
'use strict';
const { RPCServer } = require('ocpp-rpc');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
}

const SPEED = 600;
const START = Date.parse('2026-11-26T18:00:00Z');
const ARRIVAL = Date.parse('2026-11-26T18:05:00Z');
const DEPARTURE = Date.parse('2026-11-26T18:25:00Z');
const TOLERANCE_REAL_MS = 100; // stamp to receipt: one loop turn and a local socket, with room for a busy machine

async function main() {
  const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
  const seen = []; // {action, recv, params}
  server.auth((accept) => accept({}));
  server.on('client', (client) => {
    const log = (action, reply) => ({ params }) => { seen.push({ action, recv: Date.now(), params }); return reply(); };
    client.handle('BootNotification', log('BootNotification',
      () => ({ currentTime: new Date().toISOString(), interval: 300, status: 'Accepted' })));
    client.handle('StatusNotification', log('StatusNotification', () => ({})));
    client.handle('Heartbeat', log('Heartbeat', () => ({ currentTime: new Date().toISOString() })));
    client.handle('Authorize', log('Authorize', () => ({ idTokenInfo: { status: 'Accepted' } })));
    client.handle('TransactionEvent', log('TransactionEvent', () => ({})));
  });
  const http = await server.listen(0, '127.0.0.1');
  const port = http.address().port;

  const scen = path.join(os.tmpdir(), `depotsim-anchor-${process.pid}.json`);
  fs.writeFileSync(scen, JSON.stringify({
    start: '2026-11-26T18:00:00Z', end: '2026-11-26T18:30:00Z',
    visits: [{ ev: 'VAN-01', idToken: 'VAN01', station: 'SIMCS01', evse: 1, arrival: '2026-11-26T18:05:00Z',
      departure: '2026-11-26T18:25:00Z', energyKwh: 2 }],
  }));
  const json = path.join(os.tmpdir(), `depotsim-anchor-${process.pid}-report.json`);
  const anchor = Date.now() + 1500;
  const sim = spawn(process.env.DEPOTSIM, ['run', '--csms', `ws://127.0.0.1:${port}/ocpp`,
    '--depot', path.join(process.env.SIM_EXAMPLES, 'depot-small.json'), '--scenario', scen,
    '--speed', String(SPEED), '--meter-interval', '60', '--clock-anchor', String(anchor), '--max-real-seconds', '20',
    '--table-minutes', '5', '--baseline', '--json', json],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  sim.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((res) => sim.on('exit', res));
  await server.close({ force: true });
  fs.unlinkSync(scen);
  process.stdout.write(out);

  check(code === 0, `depotsim exits 0 (${code})`);
  const boot = seen.find((m) => m.action === 'BootNotification');
  check(boot && boot.recv < anchor, `stations boot before the anchor (${boot ? boot.recv - anchor : 'no'} ms)`);
  const stamped = seen.filter((m) => m.params.timestamp);
  const before = stamped.filter((m) => m.recv < anchor - 5);
  check(before.length >= 2 && before.every((m) => Date.parse(m.params.timestamp) < START),
    `messages before the anchor are stamped before the scenario's start (${before.length})`);
  // Expected stamp from the receipt time; the stamp was taken a little earlier, on the sender's side.
  let worst = 0, early = 0;
  for (const m of stamped) {
    const lagReal = (START + (m.recv - anchor) * SPEED - Date.parse(m.params.timestamp)) / SPEED;
    worst = Math.max(worst, lagReal);
    early = Math.min(early, lagReal);
  }
  check(stamped.length >= 10 && worst <= TOLERANCE_REAL_MS && early >= -2,
    `${stamped.length} stamps follow start + (receipt - anchor) x ${SPEED}: receipt after stamp by ` +
    `${early.toFixed(1)}..${worst.toFixed(1)} real ms`);
  const tx = seen.filter((m) => m.action === 'TransactionEvent');
  const started = tx.find((m) => m.params.eventType === 'Started');
  const ended = tx.find((m) => m.params.eventType === 'Ended');
  const arrivalReal = anchor + (ARRIVAL - START) / SPEED;
  check(started && Date.parse(started.params.timestamp) >= ARRIVAL && started.recv >= arrivalReal - 2,
    `the EV arrives at 18:05 simulated, ${started ? started.recv - anchor : '?'} ms after the anchor (${(ARRIVAL - START) / SPEED} due)`);
  check(ended && Date.parse(ended.params.timestamp) >= DEPARTURE, 'it leaves at 18:25 simulated');
  check(tx.every((m) => m.recv >= arrivalReal - 2), 'no transaction before the scenario reached the arrival');

  // The live table: a header, then a row at 18:05, 18:10, ... 18:30, all the same width.
  const lines = out.split('\n');
  const header = lines.findIndex((l) => l.startsWith('sim time (UTC)'));
  const rows = lines.slice(header + 1).filter((l) => /^2026-11-26 \d\d:\d\d /.test(l));
  check(header >= 0 && rows.length === 6 && rows[0].startsWith('2026-11-26 18:05') &&
    rows[5].startsWith('2026-11-26 18:30') && rows.every((r) => r.length === lines[header].length),
  `table: 6 aligned rows every 5 simulated minutes (${rows.length})`);
  const col = (r) => r.trim().split(/\s+/);  // date time stations plugged charging kW limit price late cost
  check(rows.length === 6 && col(rows[1])[3] === '1' && col(rows[5])[3] === '0' && col(rows[1])[2] === '1/1' &&
    Number(col(rows[1])[5]) > 5 && col(rows[1])[6] === '30.0',
  `table: the van plugged at 18:10 drawing power, gone at 18:30 (${rows[1]})`);
  check(/controlled vs uncontrolled/.test(out) && /vehicles met\s+1\/1\s+1\/1/.test(out),
    'comparison with the baseline printed');
  let rep = null;
  try { rep = JSON.parse(fs.readFileSync(json, 'utf8')); fs.unlinkSync(json); } catch (e) { /* checked below */ }
  check(rep && rep.baseline && Math.abs(rep.baseline.site.deliveredKwh - 2) < 0.01 &&
    Math.abs(rep.site.deliveredKwh - 2) < 0.01 && rep.vehicles[0].maxPowerKw === 11,
  'JSON: baseline site and vehicles, both delivered the 2 kWh; maxPowerKw per vehicle');
  console.log(`${failures} failed`);
  process.exit(failures ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
