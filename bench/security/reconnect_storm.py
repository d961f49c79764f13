#!/usr/bin/python3
"""Benchmark (not a test): 10,000 stations connecting at once, as after a depotd restart, with the default
password hashing, while 100 stations already connected send a Heartbeat a second each.

    /usr/bin/python3 bench/security/reconnect_storm.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 10000] [--probes 100] [--iterations 20000] [--password-threads N] [--seconds 120]

Every station has a password hash of --iterations PBKDF2 rounds (one hash shared by all: the same work per
station, made once); depotd starts with an empty cache of verified credentials, as after a restart. Prints how
long until every storm station was Accepted (depotsim load's connect+boot; a station waits up to --seconds for
its BootNotification answer), the probes' Heartbeat round trips over the whole storm, and depotd's CPU and peak
RSS. 127.0.0.1 only; depotd from tests/sim/depotd_fixture.py (temp directory, removed).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'sim'))
from depotd_fixture import Depotd, base_config, hash_password  # noqa: E402

PASSWORD = 'storm-station-password-01'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=10000)
    ap.add_argument('--probes', type=int, default=100)
    ap.add_argument('--iterations', type=int, default=20000)
    ap.add_argument('--password-threads', type=int, default=0, help='0: depotd default')
    ap.add_argument('--seconds', type=int, default=120, help='how long the probes run (bounds the storm)')
    a = ap.parse_args()
    pw_hash = hash_password(a.depotd, PASSWORD, a.iterations)
    stations = [{'id': f'PROBE{i + 1:05d}', 'password_hash': pw_hash} for i in range(a.probes)]
    stations += [{'id': f'STORM{i + 1:05d}', 'password_hash': pw_hash} for i in range(a.stations)]
    cfg = base_config(api_port=-1, read_capabilities=False, stations=stations, pbkdf2_iterations=a.iterations,
                      unauthenticated_stations=False, max_stations=a.stations + a.probes + 100)
    if a.password_threads:
        cfg['password_threads'] = a.password_threads
    d = Depotd(a.depotd, cfg).start()
    try:
        run(a, d)
    finally:
        d.stop(timeout=60)


def run(a, d):
    url = d.url()
    load = [a.depotsim, 'load', '--csms', url, '--password', PASSWORD, '--json']
    probes = subprocess.Popen(load + ['--id-prefix', 'PROBE', '--stations', str(a.probes), '--rate', '1',
                                      '--seconds', str(a.seconds), '--message', 'Heartbeat', '--call-timeout', '30'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(5)  # the probes are connected and sending
    cpu0 = cpu_s(d.proc.pid)
    t0 = time.time()
    storm = subprocess.run(load + ['--id-prefix', 'STORM', '--stations', str(a.stations), '--rate', '0.1',
                                   '--seconds', '1', '--message', 'Heartbeat', '--connect-batch', str(a.stations),
                                   '--connect-timeout', str(a.seconds), '--call-timeout', str(a.seconds)],
                           capture_output=True, text=True)
    storm_wall = time.time() - t0
    cpu1 = cpu_s(d.proc.pid)
    rss = peak_rss_kib(d.proc.pid)
    pout, perr = probes.communicate(timeout=a.seconds + 60)
    try:
        s, p = json.loads(storm.stdout), json.loads(pout)
    except json.JSONDecodeError:
        sys.exit(f'a load run failed:\nstorm: {storm.stdout[-800:]}{storm.stderr[-800:]}\nprobes: {pout[-800:]}{perr[-800:]}')
    print(f'| stations | PBKDF2 iterations | password_threads | all Accepted after s | connected / booted / failed '
          f'| probe Heartbeats | probe rtt p50 / p99 / max ms | depotd CPU s during | depotd peak RSS MiB |')
    print('|---:|---:|---:|---:|---|---:|---|---:|---:|')
    print(f"| {a.stations} | {a.iterations} | {a.password_threads or 'default'} | {s['connectSeconds']:.1f} "
          f"| {s['connected']} / {s['booted']} / {s['connectFailed'] + s['bootRejected']} "
          f"| {p['answered']} | {p['rttMs']['p50']:.1f} / {p['rttMs']['p99']:.1f} / {p['rttMs']['max']:.1f} "
          f"| {cpu1 - cpu0:.1f} | {rss / 1024:.0f} |")
    print(f'(storm load run {storm_wall:.1f} s wall; probe failures {p["failures"]})')
    if s['connectFailed'] + s['bootRejected']:
        why = {}
        for line in d.log:
            m = re.search(r'(WARN|ERROR) +(\w+) station=\S+ (.*)', line)
            if m:
                k = re.sub(r'[0-9.:]+', '#', m.group(3))[:120]
                why[k] = why.get(k, 0) + 1
        for k, n in sorted(why.items(), key=lambda x: -x[1])[:8]:
            print(f'  depotd: {n} x {k}')
        print('  depotsim:', ' | '.join(storm.stderr.strip().splitlines()[-5:]))


def cpu_s(pid):
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')


def peak_rss_kib(pid):
    for line in open(f'/proc/{pid}/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1])
    return 0


if __name__ == '__main__':
    main()
