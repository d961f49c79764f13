#!/usr/bin/python3
"""Benchmark (not a test): depotd against a Node peer (bench/ocpp/peer_csms.mjs: npm ocpp-rpc in strict mode,
answers from memory, persists nothing), the same loads in one run (issue 16's table).

    /usr/bin/python3 bench/ocpp/vs_peer.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 1000] [--seconds 30] [--saturation-rate 20] [--iterations 20000]

Each server runs pinned to core 0 (taskset), `depotsim load` to core 1; both servers check HTTP Basic passwords
(depotd: PBKDF2 hashes of --iterations in its config, made with its own --hash-password; the peer: one password
compared in memory). Rows: every station 1 Heartbeat/s, then 1 MeterValues/s (depotd answers MeterValues only
after its event is committed to disk: group commit, fsync; the peer writes nothing), then saturation (each
station offers --saturation-rate Heartbeats/s; one CALL in flight per station, so what comes back is what the
server and the generator manage). Server CPU is read from /proc/PID/stat every 100 ms and counted over the load
window only (connects and boots excluded), per answered message. A row whose generator used more CPU than its
core has is marked: then the generator, not the server, was the limit. 127.0.0.1 only; every wait bounded.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'sim'))
from depotd_fixture import base_config, hash_password  # noqa: E402

PASSWORD = 'vs-peer-station-pass-0001'
TICK = os.sysconf('SC_CLK_TCK')


def cpu_s(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        m = re.search(r'VmRSS:\s+(\d+) kB', f.read())
    return int(m.group(1)) if m else 0


class Sampler(threading.Thread):
    """The server's CPU seconds every 100 ms, stamped with time.monotonic()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.samples.append((time.monotonic(), cpu_s(self.pid)))
            except OSError:
                return
            time.sleep(0.1)

    def between(self, t0, t1):
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return None, None
        return inside[-1][1] - inside[0][1], inside[-1][0] - inside[0][0]


def start_depotd(a, tmp, cfg=None):
    cfg = cfg or base_config(api_port=-1, read_capabilities=False, max_stations=a.stations + 10, log_level='info',
                      pbkdf2_iterations=a.iterations, max_messages_per_s=100000,
                      stations=[{'id': f'VS{i + 1:05d}', 'password_hash': hash_password(a.depotd, PASSWORD, a.iterations)}
                                for i in range(a.stations)], unauthenticated_stations=False)
    path = os.path.join(tmp, 'depotd.json')
    with open(path, 'w') as f:
        json.dump(cfg, f)
    p = subprocess.Popen(['taskset', '-c', '0', a.depotd, '-c', path, '-d', os.path.join(tmp, 'depotd.db'), '-p', '0'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        m = re.search(r'listening on 127\.0\.0\.1:(\d+)', line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, f'ws://127.0.0.1:{m.group(1)}/ocpp'
    p.kill()
    sys.exit('depotd did not start')


def start_peer(a, tmp):
    p = subprocess.Popen(['taskset', '-c', '0', 'node', os.path.join(HERE, 'peer_csms.mjs'), '--password', PASSWORD],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.match(r'listening (\d+)', line or '')
    if not m:
        p.kill()
        sys.exit('the Node peer did not start: ' + (line or '') + p.stderr.read()[-500:])
    return p, f'ws://127.0.0.1:{m.group(1)}/ocpp'


def load(a, url, message, rate, seconds):
    sampler_t0 = time.monotonic()
    r = subprocess.run(['taskset', '-c', '1', a.depotsim, 'load', '--csms', url, '--stations', str(a.stations),
                        '--rate', str(rate), '--seconds', str(seconds), '--message', message, '--id-prefix', 'VS',
                        '--password', PASSWORD, '--connect-timeout', '120', '--json'],
                       capture_output=True, text=True, timeout=seconds + 300)
    try:
        res = json.loads(r.stdout)
    except json.JSONDecodeError:
        sys.exit(f'depotsim load failed: {r.stdout[-500:]} {r.stderr[-800:]}')
    # depotsim connects and boots first (connectSeconds), then loads (loadSeconds): the window, 1 s trimmed each side.
    w0 = sampler_t0 + res['connectSeconds'] + 1.0
    return res, w0, w0 + res['loadSeconds'] - 2.0


def rows(a, name, start):
    tmp = tempfile.mkdtemp(prefix='depotd-vs-peer-')
    proc, url = start(a, tmp)
    sampler = Sampler(proc.pid)
    sampler.start()
    out = []
    try:
        for label, message, rate, seconds in (('1 Heartbeat/s', 'Heartbeat', 1, a.seconds),
                                              ('1 MeterValues/s', 'MeterValues', 1, a.seconds),
                                              (f'saturation ({a.saturation_rate} Heartbeat/s offered)', 'Heartbeat',
                                               a.saturation_rate, min(a.seconds, 20))):
            res, w0, w1 = load(a, url, message, rate, seconds)
            time.sleep(0.3)
            cpu, span = sampler.between(w0, w1)
            per_s = res['answered'] / res['loadSeconds'] if res['loadSeconds'] else 0
            us = cpu / (per_s * span) * 1e6 if cpu is not None and per_s and span else float('nan')
            gen_limit = res['cpuSeconds'] >= 0.9 * res['loadSeconds']  # the generator had a whole core busy
            out.append((label, name, res, us, per_s, rss_kib(proc.pid), gen_limit))
    finally:
        sampler.stop.set()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=1000)
    ap.add_argument('--seconds', type=int, default=30)
    ap.add_argument('--saturation-rate', type=int, default=20)
    ap.add_argument('--iterations', type=int, default=20000, help="PBKDF2 iterations of depotd's password hashes")
    a = ap.parse_args()
    if not (1 <= a.stations <= 10000 and 5 <= a.seconds <= 300 and 1 <= a.saturation_rate <= 100):
        sys.exit('bounds: stations 1..10000, seconds 5..300, saturation-rate 1..100')
    d = rows(a, 'depotd', start_depotd)
    n = rows(a, 'Node peer', start_peer)
    print(f'{a.stations} stations, depotd and the peer on core 0, depotsim load on core 1\n')
    print('| load | server | answered/s | server CPU us/msg | rtt p50 / p99 / max ms | failures | RSS MiB '
          '| depotd / peer |')
    print('|---|---|---:|---:|---|---:|---:|---|')
    for (label, _, rd, usd, psd, rssd, gd), (_, _, rn, usn, psn, rssn, gn) in zip(d, n):
        for name, res, us, ps, rss, gen in (('depotd', rd, usd, psd, rssd, gd), ('Node peer', rn, usn, psn, rssn, gn)):
            rtt = res['rttMs']
            ratio = ''
            if name == 'depotd':
                ratio = (f'CPU/msg {usd / usn:.2f}x, answered/s {psd / psn:.2f}x' if usn == usn and usn > 0 and psn
                         else '')
            fails = (f"{res['failures']} ({res['callErrors']} errors, {res['timeouts']} timeouts, {res['notSent']} not "
                     f"sent, {res['invalid']} invalid)" if res['failures'] else '0')
            print(f"| {label} | {name} | {ps:.0f}{' (generator-bound)' if gen else ''} | {us:.0f} | "
                  f"{rtt['p50']:.2f} / {rtt['p99']:.2f} / {rtt['max']:.1f} | {fails} | {rss / 1024:.0f} | {ratio} |")


if __name__ == '__main__':
    main()
