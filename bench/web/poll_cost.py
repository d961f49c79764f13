#!/usr/bin/python3
"""Benchmark (not a test): what the operator page's short polling costs depotd (README "The web page").

    /usr/bin/python3 bench/web/poll_cost.py --depotd build/src/depotd --depotsim build/sim/depotsim [--requests 400]

The live depot of `make demo` (scripts/demo_live.py: three vans plugged in by depotsim on the real clock) on free
ports of 127.0.0.1. Each request the page makes is sent --requests times, one at a time, as the page does (a
new connection each: depotd answers one request per connection); depotd's CPU (utime + stime of all its threads,
/proc/PID/stat) over the batch, per request, with the answer's size and the round trip's p50/p99. GET /healthz
(the cheapest answer) is the reference in the same run: the machine is shared, ratios hold, absolute figures do
not. Then what one open page costs per view: the requests each view makes every 5 s, as a share of one core.
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TICK = os.sysconf('SC_CLK_TCK')
ADMIN = 'demo-admin-token-0001-not-for-production'
POLL_S = 5  # web/js/app.js POLL_MS
# The requests of each view's refresh (web/js/*.js).
VIEWS = {
    'Now': ['/api/v1/site'],
    'Plan': ['/api/v1/plan'],
    'Vans': ['/api/v1/vehicles', '/api/v1/plan', '/api/v1/site'],
    'Events': ['/api/v1/events?order=desc&limit=100'],
    'Prices': ['/api/v1/prices?slot_minutes=60'],
}
ASSETS = ['/', '/app.css', '/js/app.js', '/js/plan.js', '/vendor/uplot.js']


def cpu_s(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def get(port, path, token=ADMIN):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    t = time.perf_counter()
    c.request('GET', path, headers={'Authorization': f'Bearer {token}'} if token else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, len(body), time.perf_counter() - t


def batch(pid, port, path, n, token=ADMIN):
    rtts, size = [], 0
    c0 = cpu_s(pid)
    for _ in range(n):
        status, size, rtt = get(port, path, token)
        if status != 200:
            sys.exit(f'{path}: {status}')
        rtts.append(rtt)
    used = cpu_s(pid) - c0
    rtts.sort()
    return {'path': path, 'us_per_req': used / n * 1e6, 'bytes': size,
            'p50_ms': rtts[len(rtts) // 2] * 1e3, 'p99_ms': rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))] * 1e3}


def start(args, tmp):
    subprocess.run([sys.executable, os.path.join(REPO, 'scripts', 'demo_live.py'), tmp, '--port', '0', '--api-port', '0'],
                   check=True)
    cfg_path = os.path.join(tmp, 'live.json')
    log = open(os.path.join(tmp, 'depotd.log'), 'w+')
    d = subprocess.Popen([args.depotd, '-c', cfg_path, '-d', os.path.join(tmp, 'bench.db')], stderr=log)
    ports = None
    for _ in range(100):
        time.sleep(0.1)
        log.seek(0)
        text = log.read()
        ws = re.search(r'listening on 127\.0\.0\.1:(\d+)/', text)
        api = re.search(r'JSON API on http://127\.0\.0\.1:(\d+)/', text)
        if ws and api:
            ports = int(ws.group(1)), int(api.group(1))
            break
    if not ports:
        d.kill()
        sys.exit('depotd did not start: ' + text[-2000:])
    sim = subprocess.Popen([args.depotsim, 'run', '--csms', f'ws://127.0.0.1:{ports[0]}/ocpp',
                            '--depot', os.path.join(tmp, 'live-depot.json'), '--scenario',
                            os.path.join(tmp, 'live-scenario.json'), '--speed', '1', '--meter-interval', '60',
                            '--max-real-seconds', '600'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        time.sleep(0.1)
        try:
            c = http.client.HTTPConnection('127.0.0.1', ports[1], timeout=5)
            c.request('GET', '/api/v1/plan', headers={'Authorization': f'Bearer {ADMIN}'})
            r = c.getresponse()
            plan = json.loads(r.read() or b'{}')
            if r.status == 200 and sum(1 for e in plan.get('evses', []) if e.get('vehicle_id')) == 3:
                return d, sim, ports[1]
        except (OSError, ValueError):
            pass
    d.kill()
    sim.kill()
    sys.exit('no plan with the three vans')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--depotd', default=os.path.join(REPO, 'build', 'src', 'depotd'))
    ap.add_argument('--depotsim', default=os.path.join(REPO, 'build', 'sim', 'depotsim'))
    ap.add_argument('--requests', type=int, default=400)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='poll-cost-') as tmp:
        d, sim, port = start(args, tmp)
        try:
            rows = [batch(d.pid, port, '/healthz', args.requests, token=None)]
            for p in sorted({p for v in VIEWS.values() for p in v}) + ['/api/v1/me']:
                rows.append(batch(d.pid, port, p, args.requests))
            assets = [batch(d.pid, port, p, max(50, args.requests // 4), token=None) for p in ASSETS]
        finally:
            sim.terminate()
            d.terminate()
            d.wait(10)
    ref = rows[0]['us_per_req']
    print(f'\nOperator page polling: depotd CPU per request ({args.requests} each, one connection each; '
          f'the live demo depot, 3 vans)')
    print(f'{"request":42} {"CPU us":>8} {"x healthz":>9} {"bytes":>7} {"p50 ms":>7} {"p99 ms":>7}')
    for r in rows + assets:
        print(f'{r["path"]:42} {r["us_per_req"]:8.0f} {r["us_per_req"] / ref:9.1f} {r["bytes"]:7d} '
              f'{r["p50_ms"]:7.2f} {r["p99_ms"]:7.2f}')
    cost = {r['path']: r['us_per_req'] for r in rows}
    print(f'\nOne open page, per view, refreshed every {POLL_S} s while visible:')
    print(f'{"view":8} {"requests":>8} {"CPU us / refresh":>17} {"share of a core":>16}')
    for v, paths in VIEWS.items():
        us = sum(cost[p] for p in paths)
        print(f'{v:8} {len(paths):8d} {us:17.0f} {us / (POLL_S * 1e6) * 100:15.3f}%')
    load = sum(r['bytes'] for r in assets)
    print(f'\nFirst load of the page (these {len(ASSETS)} files; a reload revalidates them with ETags): {load} bytes')


if __name__ == '__main__':
    main()
