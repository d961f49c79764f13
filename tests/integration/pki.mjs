// Certificates made at test time with the `openssl` command line: a depot CA, depotd's server certificate for
// 127.0.0.1, station certificates (subject CN = station id), a rogue CA with a certificate of its own, an expired
// one. EC P-256 keys: quick to make, and what the OCPP whitepaper's ECDSA suites want.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
}

function key(dir, name) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
}

function ca(dir, name, cn) {
  key(dir, name);
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.pem`, '-days', '3', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

// A certificate for `cn` signed by CA `by`; `days` -1 makes one that expired a day before it began.
function leaf(dir, name, cn, by, { days = 3, server = false } = {}) {
  key(dir, name);
  openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, server
    ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
    : 'extendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.pem`, '-CAkey', `${by}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', String(days), '-extfile', ext], dir);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

// Makes the set in dir; station ids name the station certificates.
export function makePki(dir, stations) {
  fs.mkdirSync(dir, { recursive: true });
  ca(dir, 'ca', 'depot test CA');
  ca(dir, 'rogue', 'rogue CA');
  const p = {
    ca: path.join(dir, 'ca.pem'),
    server: leaf(dir, 'server', 'depotd test', 'ca', { server: true }),
    server2: leaf(dir, 'server2', 'depotd test renewed', 'ca', { server: true }),
    stations: {},
    rogue: {},
    expired: {},
  };
  for (const id of stations) {
    p.stations[id] = leaf(dir, `st-${id}`, id, 'ca');
    p.rogue[id] = leaf(dir, `rogue-${id}`, id, 'rogue');
    p.expired[id] = leaf(dir, `expired-${id}`, id, 'ca', { days: -1 });
  }
  return p;
}

export const read = (file) => fs.readFileSync(file);
