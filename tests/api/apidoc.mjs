// examples/api.md cannot rot: its sh blocks run, in order, in one bash (set -e, pipefail) against the live depot
// of `make demo` (scripts/demo_live.py: depotd on the real clock with examples/depotd.json's tokens and
// vehicles, depotsim with three vans plugged in at CS001 and CS002), on free ports of 127.0.0.1. Every
// command must succeed and the answers the page promises must come (feasible, at risk, 412, 403, ...).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApiDepotd, REPO, eventually, withTimeout } from './lib.mjs';

const DEPOTSIM = process.env.DEPOTSIM;
const VIEW = 'demo-viewer-token-0001-not-for-production';
let d, sim, dir;

before(async () => {
  d = new ApiDepotd({ config: {} });
  dir = d.dir;
  const gen = spawnSync('python3', [path.join(REPO, 'scripts', 'demo_live.py'), dir, '--port', '0', '--api-port', '0']);
  assert.equal(gen.status, 0, String(gen.stderr));
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'live.json'), 'utf8'));
  delete cfg.database;
  fs.writeFileSync(d.configPath, JSON.stringify(cfg));
  await d.start();
  sim = spawn(DEPOTSIM, ['run', '--csms', `ws://127.0.0.1:${d.port}/ocpp`, '--depot', path.join(dir, 'live-depot.json'),
    '--scenario', path.join(dir, 'live-scenario.json'), '--speed', '1', '--meter-interval', '60',
    '--max-real-seconds', '120'], { stdio: ['ignore', 'pipe', 'pipe'] });
  sim.out = '';
  sim.stdout.on('data', (b) => { sim.out += b; });
  sim.stderr.on('data', (b) => { sim.out += b; });
  // The three vans plugged in and a plan that has them.
  await eventually(async () => {
    const r = await d.req('GET', '/api/v1/plan', { token: VIEW });
    return r.status === 200 && r.json.evses.filter((e) => e.vehicle_id).length === 3;
  }, 'three vans in the plan', 20000, 200);
});

after(async () => {
  if (sim && sim.exitCode === null) sim.kill('SIGTERM');
  if (d) await d.finish();
});

function shBlocks() {
  const md = fs.readFileSync(path.join(REPO, 'examples', 'api.md'), 'utf8');
  return [...md.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('every sh block of examples/api.md runs against the live demo depot and gives the answers it shows', async () => {
  const blocks = shBlocks();
  assert.ok(blocks.length >= 10, `${blocks.length} sh blocks`);
  assert.match(blocks[0], /API=http:\/\/127\.0\.0\.1:8181/);
  let script = 'set -e -o pipefail\ntrap \'echo "@@@ FAILED at line $LINENO: $BASH_COMMAND" >&2\' ERR\n';
  blocks.forEach((b, i) => {
    script += `echo "@@@ block ${i}"\n` + b.replace('API=http://127.0.0.1:8181', `API=http://127.0.0.1:${d.apiPort}`);
  });
  script += 'echo "@@@ done"\n';
  const sh = spawn('bash', ['-c', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  sh.stdout.on('data', (b) => { out += b; });
  sh.stderr.on('data', (b) => { err += b; });
  const code = await withTimeout(new Promise((resolve) => sh.on('close', resolve)), 40000, 'the api.md blocks');
  const where = `\n--- stdout\n${out.slice(-4000)}\n--- stderr\n${err.slice(-2000)}`;
  assert.equal(code, 0, `api.md failed${where}`);
  assert.match(out, /@@@ done/);
  const expect = [
    [/"status":"ok"/, 'healthz'],
    [/^"ready"$/m, 'readyz'],
    [/\{"id":"van-01","fleet":"north","battery_kwh":75,"plugged_in":true\}/, 'van-01 plugged in'],
    [/\{"id":"van-04","fleet":"north","battery_kwh":75,"etag":"\\"[0-9a-f]{16}\\""\}/, 'van-04 registered in north'],
    [/\{"id":"van-04","battery_kwh":80,"id_tokens":\["VAN04","VAN04-SPARE"\]\}/, 'van-04 replaced with If-Match'],
    [/\{"status":412,"field":"If-Match"\}/, 'stale vehicle ETag'],
    [/\{"status":422,"field":"battery_kwh","detail":"battery_kwh: [^"]+"\}/, 'negative battery'],
    [/\{"status":403,"field":"fleet"\}/, 'other fleet'],
    [/"energy_kwh":45,"plan":\{"status":"feasible","plan_id":\d+,"feasible":true/, 'van-01 feasible'],
    [/^"not_plugged_in"$/m, 'van-04 not plugged in'],
    [/"field":"departure"/, 'departure in the past'],
    [/more than the battery of van-01 holds \(75 kWh\)/, 'battery of van-01'],
    [/may change vehicles of fleet \\"north\\" only; van-1 is in fleet \\"south\\"/, 'fleet scope'],
    [/^404$/m, 'unknown vehicle'],
    [/^50$/m, 'If-Match change'],
    [/^412$/m, 'stale departure ETag'],
    [/"price_source":"market"/, 'price source per slot'],
    [/\{"status":"at_risk","plan_id":\d+,"feasible":false,"remaining_kwh":30,"planned_kwh":[\d.]+,"shortfall_kwh":(1\d|2\d)(\.\d+)?,/, 'van-02 at risk'],
    [/\[\{"station_id":"CS001","evse_id":2,"vehicle_id":"van-02","departure":"[^"]+","shortfall_kwh":[\d.]+\}\]/, 'sessions_at_risk'],
    [/^depotd_sessions_at_risk 1$/m, 'metric at risk'],
    [/"source":"event_log"/, 'plan?at'],
    [/^403$/m, 'limit needs admin'],
    [/"limit_now":11,/, 'curtailed plan'],
    // depotsim answers TriggerMessage (200) since it carries out commands; before, NotImplemented (502).
    [/\{"status":null,"ocpp_error_code":null,"response":\{"status":"(Accepted|Rejected|NotImplemented)"[^}]*\}\}|\{"status":502,"ocpp_error_code":"NotImplemented","response":null\}/, 'command answered by depotsim'],
    [/^idempotent-replayed: true/mi, 'Idempotency-Key replay'],
    [/^"station_id: station CS003 is not connected"$/m, 'command to a station not connected'],
    [/\["[^"]+","demo-dispatcher","PUT","\/api\/v1\/vehicles\/van-02\/departure",200\]/, 'audit trail'],
  ];
  for (const [re, what] of expect) assert.match(out, re, `${what}${where}`);
});
