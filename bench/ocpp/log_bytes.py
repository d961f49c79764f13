#!/usr/bin/python3
"""Benchmark (not a test): how many bytes of event log each OCPP message costs (issue 16).

    /usr/bin/python3 bench/ocpp/log_bytes.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 200] [--seconds 30]

For each of Heartbeat and MeterValues: a fresh depotd (no smart charging, one SQLite file), `depotsim load`
sends `stations x seconds` of them at one a second per station, depotd stops cleanly (WAL checkpointed), then the
database file is measured and the event log counted. Prints bytes per load message (file size over messages
answered, the CALL and its answer both logged, boots and the rest included) and bytes per logged frame.
127.0.0.1 only; files in a temp directory, removed.
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time


def one(a, tmp, message):
    db = os.path.join(tmp, f'{message}.db')
    cfgp = os.path.join(tmp, 'depotd.json')
    json.dump({'listen_address': '127.0.0.1', 'port': 0, 'api_port': -1, 'read_capabilities': False,
               'unauthenticated_stations': True, 'max_stations': a.stations + 10,
               'stations': [{'id': f'LOAD{i + 1:05d}'} for i in range(a.stations)]}, open(cfgp, 'w'))
    logp = os.path.join(tmp, 'depotd.log')
    d = subprocess.Popen([a.depotd, '-c', cfgp, '-d', db], stderr=open(logp, 'w'))
    port = None
    for _ in range(300):
        m = re.search(r'listening on 127\.0\.0\.1:(\d+)/', open(logp).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    if not port:
        d.kill()
        sys.exit('depotd did not start:\n' + open(logp).read()[-2000:])
    r = subprocess.run([a.depotsim, 'load', '--csms', f'ws://127.0.0.1:{port}/ocpp', '--stations', str(a.stations),
                        '--rate', '1', '--seconds', str(a.seconds), '--message', message, '--json'],
                       capture_output=True, text=True)
    d.terminate()
    d.wait(timeout=60)
    try:
        res = json.loads(r.stdout)
    except json.JSONDecodeError:
        sys.exit(f'depotsim load failed: {r.stdout[-500:]} {r.stderr[-800:]}\n' + open(logp).read()[-1500:])
    size = sum(os.path.getsize(db + t) for t in ('', '-wal') if os.path.exists(db + t))
    con = sqlite3.connect(db)
    frames = con.execute("SELECT count(*), sum(length(data)) FROM events WHERE type IN ('ocpp_in','ocpp_out')").fetchone()
    events = con.execute('SELECT count(*) FROM events').fetchone()[0]
    con.close()
    return res['answered'], size, events, frames[0], frames[1] or 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=200)
    ap.add_argument('--seconds', type=int, default=30)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='depotd-logbytes-')
    try:
        print('| message | answered | events | frames logged | database bytes | bytes per message | bytes per frame '
              '| frame text bytes per frame |')
        print('|---|---:|---:|---:|---:|---:|---:|---:|')
        for message in ('Heartbeat', 'MeterValues'):
            answered, size, events, frames, text = one(a, tmp, message)
            print(f'| {message} | {answered} | {events} | {frames} | {size} | {size / max(answered, 1):.0f} '
                  f'| {size / max(frames, 1):.0f} | {text / max(frames, 1):.0f} |')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
