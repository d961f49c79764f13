#!/usr/bin/python3
"""Benchmark (not a test): memory per idle connection, depotd against the Node peer (bench/ocpp/peer_csms.mjs) in
the same run (issue 16: <= 8 KiB RSS per idle connection at 10,000 held).

    /usr/bin/python3 bench/ocpp/held.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 10000] [--hold 30] [--iterations 1000]

Per server: its RSS once listening (and, for depotd, its stations loaded from the config), then `depotsim load`
connects and boots --stations stations and holds them (one Heartbeat per station every 100 s), and the server's
RSS is read every second of the hold; the row is the last reading. Per connection = (held - empty) / stations.
The kernel's side (socket buffers: /proc/net/sockstat TCP "mem", pages) is not in any process's RSS; its growth is
shown for both (it counts depotsim's sockets too, the same for both servers). depotd's password hashes use
--iterations (the default 20,000 is issue 16's storm bench, bench/security/reconnect_storm.py; here only what
stays matters). 127.0.0.1 only; every wait bounded.
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vs_peer  # noqa: E402


def tcp_mem_pages():
    with open('/proc/net/sockstat') as f:
        m = re.search(r'TCP:.* mem (\d+)', f.read())
    return int(m.group(1)) if m else 0


def held(a, name, start):
    tmp = vs_peer.tempfile.mkdtemp(prefix='depotd-held-')
    proc, url = start(a, tmp)
    try:
        time.sleep(2)
        empty, tcp0 = vs_peer.rss_kib(proc.pid), tcp_mem_pages()
        seconds = a.hold
        load = subprocess.Popen(['taskset', '-c', '1', a.depotsim, 'load', '--csms', url, '--stations', str(a.stations),
                                 '--rate', '0.01', '--seconds', str(seconds), '--message', 'Heartbeat',
                                 '--id-prefix', 'VS', '--password', vs_peer.PASSWORD, '--connect-batch', '500',
                                 '--connect-timeout', '120', '--call-timeout', '30', '--json'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        last, tcp1 = empty, tcp0
        deadline = time.monotonic() + seconds + 180
        while load.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
            last, tcp1 = vs_peer.rss_kib(proc.pid), max(tcp1, tcp_mem_pages())
        if load.poll() is None:
            load.kill()
        out, err = load.communicate(timeout=30)
        try:
            res = vs_peer.json.loads(out)
        except ValueError:
            sys.exit(f'depotsim load failed against {name}: {out[-400:]} {err[-600:]}')
        return name, res, empty, last, tcp1 - tcp0
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        vs_peer.shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=10000)
    ap.add_argument('--hold', type=int, default=30, help='seconds the stations stay connected after booting')
    ap.add_argument('--iterations', type=int, default=1000, help="PBKDF2 iterations of depotd's password hashes")
    a = ap.parse_args()
    if not (1 <= a.stations <= 20000 and 5 <= a.hold <= 600):
        sys.exit('bounds: stations 1..20000, hold 5..600')
    rows = [held(a, 'depotd', vs_peer.start_depotd), held(a, 'Node peer', vs_peer.start_peer)]
    page_kib = os.sysconf('SC_PAGE_SIZE') / 1024
    print(f'{a.stations} stations held {a.hold} s after booting; servers on core 0, depotsim load on core 1\n')
    print('| server | connected / booted / failed | RSS empty MiB | RSS held MiB | RSS per connection KiB '
          '| kernel TCP memory grew MiB (both ends) |')
    print('|---|---|---:|---:|---:|---:|')
    for name, res, empty, last, tcp in rows:
        failed = res['connectFailed'] + res['bootRejected']
        print(f"| {name} | {res['connected']} / {res['booted']} / {failed} | {empty / 1024:.0f} | {last / 1024:.0f} "
              f"| {(last - empty) / a.stations:.1f} | {tcp * page_kib / 1024:.0f} |")


if __name__ == '__main__':
    main()
