#!/usr/bin/env node
// The Node peer of bench/ocpp/vs_peer.py (a benchmark's yardstick, not a CSMS): an OCPP 2.0.1 server on npm
// `ocpp-rpc` in strict mode (every CALL and answer validated against the official schemas), HTTP Basic auth
// against one password held in memory, answering what `depotsim load` sends from memory and persisting nothing.
//
//   node bench/ocpp/peer_csms.mjs --password PW [--port 0]
//
// Prints "listening PORT" on stdout once it accepts connections; stops on SIGTERM.
import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RPCServer } = require('ocpp-rpc');

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const password = Buffer.from(opt('--password', ''));
const port = Number(opt('--port', '0'));

const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true });
server.auth((accept, reject, handshake) => {
  const p = handshake.password;
  if (!p || p.length !== password.length || !timingSafeEqual(p, password)) return reject(401, 'Unauthorized');
  return accept();
});
server.on('client', (c) => {
  const now = () => new Date().toISOString();
  c.handle('BootNotification', () => ({ currentTime: now(), interval: 300, status: 'Accepted' }));
  c.handle('Heartbeat', () => ({ currentTime: now() }));
  c.handle('StatusNotification', () => ({}));
  c.handle('MeterValues', () => ({}));
  c.handle('TransactionEvent', () => ({}));
  c.handle('Authorize', () => ({ idTokenInfo: { status: 'Accepted' } }));
  c.handle('NotifyEvent', () => ({}));
});
const http = await server.listen(port, '127.0.0.1');
process.stdout.write(`listening ${http.address().port}\n`);
process.on('SIGTERM', async () => {
  await server.close({ awaitPending: false, force: true });
  process.exit(0);
});
