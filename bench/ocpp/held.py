#!/usr/bin/python3
"""Benchmark (not a test): memory per idle connection, depotd against the Node peer (bench/ocpp/peer_csms.mjs) in
the same run (issue 16: <= 8 KiB RSS per idle connection at 10,000 held).

    /usr/bin/python3 bench/ocpp/held.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 10000] [--hold 30] [--iterations 1000]

Per server: its RSS once listening (and, for depotd, its stations loaded from the config), then `depotsim load`
connects and boots --stations stations and holds them (one Heartbeat per station every 100 s), and the server's
RSS is read every second of the hold; the row is the last reading. Per connection = (held - empty) / stations.
Halfway through the hold, --probes more stations send --probe-rate Heartbeats/s in all for --probe-seconds: their
round trips are the latency of a server holding that many connections (issue 16: p99 <= 20 ms at 2,000/s).
The kernel's side (socket buffers: /proc/net/sockstat TCP "mem", pages) is not in any process's RSS; its growth is
shown for both (it counts depotsim's sockets too, the same for both servers). depotd's password hashes use
--iterations (the default 20,000 is issue 16's storm bench, bench/security/reconnect_storm.py; here only what
stays matters). 127.0.0.1 only; every wait bounded.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vs_peer  # noqa: E402


def tcp_mem_pages():
    with open('/proc/net/sockstat') as f:
        m = re.search(r'TCP:.* mem (\d+)', f.read())
    return int(m.group(1)) if m else 0


def established(port):
    """Established TCP connections to the server's port (its side of them)."""
    r = subprocess.run(['ss', '-Htn', 'state', 'established', f'( sport = :{port} )'], capture_output=True, text=True)
    return len(r.stdout.splitlines())


def start_depotd(a, tmp):
    """vs_peer's depotd, knowing the probe stations (PR00001..) too."""
    cfg = vs_peer.base_config(api_port=-1, read_capabilities=False, max_stations=a.stations + a.probes + 10,
                              log_level='info', pbkdf2_iterations=a.iterations, max_messages_per_s=100000,
                              unauthenticated_stations=False,
                              stations=[{'id': f'{prefix}{i + 1:05d}',
                                         'password_hash': vs_peer.hash_password(a.depotd, vs_peer.PASSWORD,
                                                                                a.iterations)}
                                        for prefix, n in (('VS', a.stations), ('PR', a.probes)) for i in range(n)])
    return vs_peer.start_depotd(a, tmp, cfg)


def run_probe(a, url):
    """The probe stations, on core 1 beside the holders: round trips of Heartbeats at --probe-rate in all."""
    r = subprocess.run(['taskset', '-c', '1', a.depotsim, 'load', '--csms', url, '--stations', str(a.probes),
                        '--rate', str(a.probe_rate / a.probes), '--seconds', str(a.probe_seconds),
                        '--message', 'Heartbeat', '--id-prefix', 'PR', '--password', vs_peer.PASSWORD,
                        '--connect-timeout', '60', '--call-timeout', '30', '--json'],
                       capture_output=True, text=True, timeout=a.probe_seconds + 120)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def held(a, name, start):
    tmp = tempfile.mkdtemp(prefix='depotd-held-')
    proc, url = start(a, tmp)
    port = int(url.rsplit(':', 1)[1].split('/')[0])
    try:
        time.sleep(2)
        empty, tcp0 = vs_peer.rss_kib(proc.pid), tcp_mem_pages()
        seconds = a.hold
        load = subprocess.Popen(['taskset', '-c', '1', a.depotsim, 'load', '--csms', url, '--stations', str(a.stations),
                                 '--rate', '0.01', '--seconds', str(seconds), '--message', 'Heartbeat',
                                 '--id-prefix', 'VS', '--password', vs_peer.PASSWORD, '--connect-batch', '500',
                                 '--connect-timeout', '120', '--call-timeout', '30', '--json'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        last, tcp1, probe = empty, tcp0, None
        deadline = time.monotonic() + seconds + 180
        while load.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
            last, tcp1 = vs_peer.rss_kib(proc.pid), max(tcp1, tcp_mem_pages())
            if probe is None and a.probes and established(port) >= a.stations:
                time.sleep(2)
                probe = run_probe(a, url)
        if load.poll() is None:
            load.kill()
        out, err = load.communicate(timeout=30)
        try:
            res = json.loads(out)
        except ValueError:
            sys.exit(f'depotsim load failed against {name}: {out[-400:]} {err[-600:]}')
        return name, res, empty, last, tcp1 - tcp0, probe
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=10000)
    ap.add_argument('--hold', type=int, default=30, help='seconds the stations stay connected after booting')
    ap.add_argument('--iterations', type=int, default=1000, help="PBKDF2 iterations of depotd's password hashes")
    ap.add_argument('--probes', type=int, default=100, help='probe stations (0: no probe)')
    ap.add_argument('--probe-rate', type=float, default=2000, help='probe Heartbeats per second, all probes together')
    ap.add_argument('--probe-seconds', type=int, default=10)
    a = ap.parse_args()
    if not (1 <= a.stations <= 20000 and 5 <= a.hold <= 600 and 0 <= a.probes <= 1000 and
            0 < a.probe_rate <= 20 * max(a.probes, 1) and 1 <= a.probe_seconds <= 60):
        sys.exit('bounds: stations 1..20000, hold 5..600, probes 0..1000, probe-rate up to 20/s each, probe-seconds 1..60')
    if a.probes and a.hold < a.probe_seconds + 20:
        a.hold = a.probe_seconds + 20  # the holders stay until the probe is done
    rows = [held(a, 'depotd', start_depotd), held(a, 'Node peer', vs_peer.start_peer)]
    page_kib = os.sysconf('SC_PAGE_SIZE') / 1024
    print(f'{a.stations} stations held {a.hold} s after booting; servers on core 0, depotsim load on core 1\n')
    print('| server | connected / booted / failed | RSS empty MiB | RSS held MiB | RSS per connection KiB '
          f'| kernel TCP memory grew MiB (both ends) | probe: {a.probe_rate:.0f} Heartbeat/s answered, rtt p50 / p99 / max ms |')
    print('|---|---|---:|---:|---:|---:|---|')
    for name, res, empty, last, tcp, probe in rows:
        failed = res['connectFailed'] + res['bootRejected']
        pr = (f"{probe['answered']} ({probe['failures']} failures), {probe['rttMs']['p50']:.2f} / "
              f"{probe['rttMs']['p99']:.2f} / {probe['rttMs']['max']:.1f}" if probe else 'not run')
        print(f"| {name} | {res['connected']} / {res['booted']} / {failed} | {empty / 1024:.0f} | {last / 1024:.0f} "
              f"| {(last - empty) / a.stations:.1f} | {tcp * page_kib / 1024:.0f} | {pr} |")


if __name__ == '__main__':
    main()
