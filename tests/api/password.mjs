// A01 against depotsim: an admin gives a simulated station a new password through the API while it runs; the
// station takes it (SetVariables SecurityCtrlr.BasicAuthPassword), its connection drops a third into the run
// (--fault-drop), and it comes back with the new password: let in, no refusal. Then the old password is refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  ApiDepotd, REPO, connectRaw, eventually, hashPassword, makeTokens, sql, tokenEntries, withTimeout, WAIT_MS,
} from './lib.mjs';

const DEPOTSIM = process.env.DEPOTSIM || path.join(REPO, 'build', 'sim', 'depotsim');
const tokens = makeTokens();
let d, sim;
after(async () => {
  sim?.kill('SIGKILL');
  if (d) await d.finish();
});

test('A01 with depotsim: a new password mid-run, used on its reconnect; the old one then refused', async () => {
  d = new ApiDepotd({ config: { api_port: 0, api_tokens: tokenEntries(tokens),
    stations: [{ id: 'SIMCS01', password_hash: hashPassword('depotsim-secret-01') }] } });
  await d.start();
  sim = spawn(DEPOTSIM, ['run', '--csms', `ws://127.0.0.1:${d.port}/ocpp`, '--depot',
    path.join(REPO, 'examples', 'sim', 'depot-small.json'), '--scenario',
    path.join(REPO, 'examples', 'sim', 'scenario-small.json'), '--speed', '600', '--fault-drop', '1',
    '--drop-delay-ms', '300', '--max-real-seconds', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sim.stdout.on('data', (b) => { out += b; });
  sim.stderr.on('data', (b) => { out += b; });
  const exited = new Promise((resolve) => sim.on('exit', (code) => resolve(code)));
  await eventually(() => sql(d.db, "SELECT 1 FROM events WHERE type = 'ocpp_out' AND action = 'BootNotification' "
    + "AND msg_type = 3").length, 'depotsim booted');
  const r = await d.req('POST', '/api/v1/stations/SIMCS01/password', { token: tokens.admin, body: {} });
  assert.equal(r.status, 200, r.text);
  const rotatedAt = sql(d.db, "SELECT max(seq) AS s FROM events WHERE type = 'registry'")[0].s;
  assert.ok(rotatedAt, 'the rotation is a registry event');
  assert.equal(await withTimeout(exited, WAIT_MS * 3, 'depotsim run'), 0, out.slice(-2000));
  const after = sql(d.db, `SELECT type FROM events WHERE station = 'SIMCS01' AND seq > ${rotatedAt} AND type IN `
    + "('connect', 'refused')").map((x) => x.type);
  assert.ok(after.includes('connect'), `depotsim reconnected after the rotation (${after.join(', ')})`);
  assert.ok(!after.includes('refused'), `and was never refused (${after.join(', ')})`);
  const old = await connectRaw(d.url('SIMCS01'), { station: 'SIMCS01', password: 'depotsim-secret-01' })
    .then(() => null, (e) => e);
  assert.equal(old?.refusal?.status, 401, 'the old password is done once the new one was used');
});
