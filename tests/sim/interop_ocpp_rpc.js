// depotsim against an independent CSMS: npm ocpp-rpc in strict mode (it validates every frame in both
// directions against its own copy of the 2.0.1 schemas). Checks boot, a transaction, that a TxProfile the
// CSMS sends is obeyed (meter power and delivered energy follow it) and a GetCompositeSchedule answer.
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

const LIMIT_A = 8;                  // 8 A x 3 phases x 230 V = 5520 W
const LIMIT_W = LIMIT_A * 3 * 230;

async function main() {
  const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
  const seen = { boot: 0, status: 0, authorize: 0, started: 0, ended: 0, needs: 0, heartbeat: 0 };
  const powerAfterProfile = [];
  let profileStatus = null, composite = null, compositeErr = null, authOk = null;
  let profileAcceptedAt = null;

  server.auth((accept, reject, handshake) => {
    authOk = handshake.identity === 'SIMCS01' && handshake.password &&
      handshake.password.toString() === 'depotsim-secret-01';
    if (authOk) accept({}); else reject(401);
  });
  server.on('client', (client) => {
    client.handle('BootNotification', () => { seen.boot++; return { currentTime: new Date().toISOString(), interval: 30, status: 'Accepted' }; });
    client.handle('StatusNotification', () => { seen.status++; return {}; });
    client.handle('Heartbeat', () => { seen.heartbeat++; return { currentTime: new Date().toISOString() }; });
    client.handle('Authorize', () => { seen.authorize++; return { idTokenInfo: { status: 'Accepted' } }; });
    client.handle('NotifyEVChargingNeeds', () => { seen.needs++; return { status: 'Accepted' }; });
    client.handle('ReportChargingProfiles', () => ({}));
    client.handle('TransactionEvent', async ({ params }) => {
      if (params.eventType === 'Started') seen.started++;
      if (params.eventType === 'Ended') seen.ended++;
      const evseId = params.evse ? params.evse.id : null;
      if (params.eventType === 'Started' && evseId === 1) {
        // Answer first, then send the profile: the transaction exists on the station once Started is out.
        setImmediate(async () => {
          try {
            const r = await client.call('SetChargingProfile', {
              evseId: 1,
              chargingProfile: {
                id: 100, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
                transactionId: params.transactionInfo.transactionId,
                chargingSchedule: [{ id: 1, chargingRateUnit: 'A',
                  chargingSchedulePeriod: [{ startPeriod: 0, limit: LIMIT_A }] }],
              },
            });
            profileStatus = r.status;
            profileAcceptedAt = Date.now();
            composite = await client.call('GetCompositeSchedule', { duration: 600, evseId: 1, chargingRateUnit: 'W' });
          } catch (e) { compositeErr = String(e); }
        });
      }
      if (profileAcceptedAt && params.eventType === 'Updated' && params.triggerReason === 'MeterValuePeriodic' &&
          params.transactionInfo.transactionId.endsWith('-1-1') && params.meterValue) {
        for (const sv of params.meterValue[0].sampledValue)
          if (sv.measurand === 'Power.Active.Import') powerAfterProfile.push(sv.value);
      }
      return {};
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const port = http.address().port;

  const json = path.join(os.tmpdir(), `depotsim-interop-${process.pid}.json`);
  const ex = process.env.SIM_EXAMPLES;
  const sim = spawn(process.env.DEPOTSIM, ['run', '--csms', `ws://127.0.0.1:${port}/ocpp`,
    '--depot', path.join(ex, 'depot-small.json'), '--scenario', path.join(ex, 'scenario-small.json'),
    '--speed', '600', '--meter-interval', '60', '--json', json, '--max-real-seconds', '40'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  sim.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((res) => sim.on('exit', res));
  await server.close({ force: true });
  process.stdout.write(out);

  check(code === 0, `depotsim exits 0 (${code})`);
  check(authOk === true, 'HTTP Basic auth: identity and password as configured');
  check(seen.boot >= 1, 'BootNotification accepted by strict ocpp-rpc');
  check(seen.status >= 2, `StatusNotification for the EVSEs (${seen.status})`);
  check(seen.authorize === 2, `Authorize per vehicle (${seen.authorize})`);
  check(seen.started === 2 && seen.ended === 2, `TransactionEvent Started/Ended per vehicle (${seen.started}/${seen.ended})`);
  check(seen.needs === 1, `NotifyEVChargingNeeds from the ISO 15118 EV (${seen.needs})`);
  check(profileStatus === 'Accepted', `SetChargingProfile TxProfile Accepted (${profileStatus})`);
  check(compositeErr === null, `no error in calls to the station (${compositeErr})`);
  const periods = composite && composite.schedule ? composite.schedule.chargingSchedulePeriod : [];
  check(composite && composite.status === 'Accepted' && periods.length === 1 && Math.abs(periods[0].limit - LIMIT_W) < 0.2,
    `GetCompositeSchedule reports ${LIMIT_W} W (${JSON.stringify(periods)})`);
  check(powerAfterProfile.length > 10 && powerAfterProfile.every((p) => p <= LIMIT_W + 0.1) &&
    powerAfterProfile.some((p) => p > LIMIT_W - 1),
    `meter power follows the profile: ${powerAfterProfile.length} samples, max ${Math.max(...powerAfterProfile)} W`);
  let report = null;
  try { report = JSON.parse(fs.readFileSync(json, 'utf8')); fs.unlinkSync(json); } catch (e) { /* checked below */ }
  check(report !== null, 'JSON report written');
  if (report) {
    const v1 = report.vehicles.find((v) => v.ev === 'VAN-01');
    const v2 = report.vehicles.find((v) => v.ev === 'VAN-02');
    // 18:05 -> 19:50 is 1.75 h at 5.52 kW = 9.66 kWh; the EV alone would take its 15 kWh.
    check(v1 && v1.deliveredKwh > 9.3 && v1.deliveredKwh < 10.0, `VAN-01 energy follows the profile (${v1 && v1.deliveredKwh} kWh, ~9.66)`);
    // VAN-02 is unconstrained: 1.5 h at 11 kW = 16.5 kWh (its need, 19.6 kWh, is larger).
    check(v2 && Math.abs(v2.deliveredKwh - 16.5) < 0.4, `VAN-02 draws its own 11 kW (${v2 && v2.deliveredKwh} kWh, ~16.5)`);
    check(report.messages.invalidFrames === 0, `no invalid frames (${report.messages.invalidFrames})`);
  }
  console.log(`${failures} failed`);
  process.exit(failures ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
