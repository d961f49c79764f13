#!/usr/bin/python3
"""Benchmark (not a test): how many bytes of event log each OCPP message costs (issue 16).

    /usr/bin/python3 bench/ocpp/log_bytes.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 200] [--seconds 30]

For each of Heartbeat and MeterValues: a fresh depotd (no smart charging, one SQLite file), `depotsim load`
sends `stations x seconds` of them at one a second per station, depotd stops cleanly (WAL checkpointed), then the
database file is measured and the event log counted. Prints bytes per load message (file size over messages
answered, the CALL and its answer both logged, boots and the rest included) and bytes per logged frame.
127.0.0.1 only; depotd from tests/sim/depotd_fixture.py (temp directory, removed).
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'sim'))
from depotd_fixture import Depotd, base_config  # noqa: E402


def one(a, message):
    cfg = base_config(api_port=-1, read_capabilities=False, max_stations=a.stations + 10,
                      stations=[{'id': f'LOAD{i + 1:05d}'} for i in range(a.stations)])
    d = Depotd(a.depotd, cfg).start()
    try:
        r = subprocess.run([a.depotsim, 'load', '--csms', d.url(), '--stations', str(a.stations), '--rate', '1',
                            '--seconds', str(a.seconds), '--message', message, '--json'],
                           capture_output=True, text=True)
        d.proc.terminate()  # a clean stop checkpoints the WAL; the files are measured before Depotd.stop removes them
        d.proc.wait(timeout=60)
        try:
            res = json.loads(r.stdout)
        except json.JSONDecodeError:
            sys.exit(f'depotsim load failed: {r.stdout[-500:]} {r.stderr[-800:]}\n' + ''.join(d.log[-30:]))
        size = sum(os.path.getsize(d.db + t) for t in ('', '-wal') if os.path.exists(d.db + t))
        con = sqlite3.connect(d.db)
        frames = con.execute("SELECT count(*), sum(length(data)) FROM events WHERE type IN ('ocpp_in','ocpp_out')").fetchone()
        events = con.execute('SELECT count(*) FROM events').fetchone()[0]
        con.close()
    finally:
        d.stop()
    return res['answered'], size, events, frames[0], frames[1] or 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=200)
    ap.add_argument('--seconds', type=int, default=30)
    a = ap.parse_args()
    print('| message | answered | events | frames logged | database bytes | bytes per message | bytes per frame '
          '| frame text bytes per frame |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|')
    for message in ('Heartbeat', 'MeterValues'):
        answered, size, events, frames, text = one(a, message)
        print(f'| {message} | {answered} | {events} | {frames} | {size} | {size / max(answered, 1):.0f} '
              f'| {size / max(frames, 1):.0f} | {text / max(frames, 1):.0f} |')

if __name__ == '__main__':
    main()
