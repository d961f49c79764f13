// Benchmark (not a test): the storm of tests/integration/doors.mjs against any depotd build, without the config keys
// newer builds added, so an older build runs it too. Usage: node bench/security/storm.mjs PATH/TO/depotd
// Twelve stations whose hashes take ~0.1 s (300,000 PBKDF2 iterations) connect at once, then a connected station
// sends a Heartbeat: prints its round trip and how long the twelve took. 127.0.0.1 only; files in /tmp, removed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const lib = await import(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'integration', 'lib.mjs'));
const { connectRaw, bootPayload, hashPassword, PASSWORD } = lib;
const depotd = process.argv[2];
const heavy = hashPassword('heavy-station-password-01', 300000);
const good = hashPassword();
const ids = Array.from({ length: 12 }, (_, i) => `HEAVY-${i}`);
const cfg = { listen_address: '127.0.0.1', port: 0, read_capabilities: false, pbkdf2_iterations: 1000,
  stations: [{ id: 'GOOD', boot: 'Accepted', password_hash: good }, ...ids.map((id) => ({ id, boot: 'Accepted', password_hash: heavy }))] };
fs.writeFileSync('/tmp/depotd-storm.json', JSON.stringify(cfg));
try { fs.unlinkSync('/tmp/depotd-storm.db'); } catch {}
const p = spawn(depotd, ['-c', '/tmp/depotd-storm.json', '-d', '/tmp/depotd-storm.db'], { stdio: ['ignore', 'ignore', 'pipe'] });
let err = '';
const port = await new Promise((resolve) => p.stderr.on('data', (b) => { err += b; const m = /listening on 127\.0\.0\.1:(\d+)\//.exec(err); if (m) resolve(Number(m[1])); }));
const url = (id) => `ws://127.0.0.1:${port}/ocpp/${id}`;
const g = await connectRaw(url('GOOD'), { station: 'GOOD', password: PASSWORD });
await g.ok('BootNotification', bootPayload());
const t0 = Date.now();
const letIn = [];
const all = ids.map((id) => connectRaw(url(id), { station: id, password: 'heavy-station-password-01' }).then(async (c) => {
  await c.ok('BootNotification', bootPayload()); letIn.push(Date.now() - t0); c.terminate(); }));
await new Promise((r) => setTimeout(r, 50));
const s = Date.now();
await g.ok('Heartbeat', {});
const rtt = Date.now() - s;
await Promise.all(all);
console.log(`${depotd}: Heartbeat round trip ${rtt} ms during a storm of ${Math.max(...letIn)} ms (the test asks < 1/4)`);
g.terminate();
p.kill('SIGKILL');
for (const f of ['/tmp/depotd-storm.json', '/tmp/depotd-storm.db', '/tmp/depotd-storm.db-wal', '/tmp/depotd-storm.db-shm'])
  fs.rmSync(f, { force: true });
