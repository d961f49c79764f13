#!/usr/bin/python3
"""Benchmark (not a test): what keep_frames_days costs while depotd serves (issue 16).

    /usr/bin/python3 bench/ocpp/prune.py --depotd build/src/depotd --depotsim build/sim/depotsim \
        [--stations 200] [--seconds 60] [--probe-stations 100] [--probe-seconds 20]

1. Fill: a fresh depotd takes `stations x seconds` MeterValues from `depotsim load` (one a second each) and
   stops cleanly.
2. Age: on that database the events are moved 100 days into the past (a bench-only edit: the UPDATE trigger is
   dropped for it and put back).
3. Two depotds on copies of the aged log, one after the other, each probed by the same `depotsim load` of
   MeterValues (answered only once durable, so a pruning step in the writer's way shows): one with keep_frames_days 30 (it prunes the old MeterValues frames while the probe runs), the
   peer with 0 (keeps everything). Prints the probe's round trips for both, how long the pruning took, what went
   and what stayed, and the file's size (SQLite reuses the freed pages; the file does not shrink by itself).
127.0.0.1 only; depotd from tests/sim/depotd_fixture.py (temp directories, removed). Every wait has a deadline.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'sim'))
from depotd_fixture import Depotd, base_config  # noqa: E402

DAY_MS = 86400000


def config(a, keep_days):
    return base_config(api_port=-1, read_capabilities=False, max_stations=a.stations + a.probe_stations + 10,
                       keep_frames_days=keep_days,
                       stations=[{'id': f'LOAD{i + 1:05d}'} for i in range(a.stations)] +
                       [{'id': f'PROBE{i + 1:05d}'} for i in range(a.probe_stations)])


def load(a, d, prefix, stations, seconds, message):
    r = subprocess.run([a.depotsim, 'load', '--csms', d.url(), '--stations', str(stations), '--rate', '1',
                        '--seconds', str(seconds), '--message', message, '--id-prefix', prefix, '--json'],
                       capture_output=True, text=True, timeout=seconds + 120)
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        sys.exit(f'depotsim load failed: {r.stdout[-500:]} {r.stderr[-800:]}\n' + ''.join(d.log[-30:]))


def fill(a, aged):
    d = Depotd(a.depotd, config(a, 0)).start()
    try:
        res = load(a, d, 'LOAD', a.stations, a.seconds, 'MeterValues')
        d.proc.terminate()
        d.proc.wait(timeout=60)
        shutil.copy(d.db, aged)
    finally:
        d.stop()
    con = sqlite3.connect(aged)
    schema = con.execute("SELECT sql FROM sqlite_master WHERE name = 'events_append_only_u'").fetchone()[0]
    con.executescript('DROP TRIGGER events_append_only_u; UPDATE events SET time_ms = time_ms - %d; %s;'
                      % (100 * DAY_MS, schema))
    con.commit()
    con.close()
    return res['answered']


def counts(db, older_than_ms=None):
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=10)
    try:
        where = '' if older_than_ms is None else 'WHERE time_ms < %d' % older_than_ms
        return dict(con.execute("SELECT coalesce(action, type), count(*) FROM events %s GROUP BY 1" % where).fetchall())
    finally:
        con.close()


def serve(a, aged, keep_days):
    d = Depotd(a.depotd, config(a, keep_days))
    shutil.copy(aged, d.db)
    size_before = os.path.getsize(d.db)
    before = counts(d.db)
    d.start()
    t0 = time.monotonic()
    done = {}

    def watch():  # when the last old MeterValues frame is gone (bounded)
        while time.monotonic() - t0 < a.probe_seconds + 120 and 'at' not in done:
            if counts(d.db, int(time.time() * 1000) - 30 * DAY_MS).get('MeterValues', 0) == 0:
                done['at'] = time.monotonic() - t0
            time.sleep(0.2)

    w = threading.Thread(target=watch, daemon=True)
    if keep_days:
        w.start()
    try:
        probe = load(a, d, 'PROBE', a.probe_stations, a.probe_seconds, 'MeterValues')
        if keep_days:
            w.join(a.probe_seconds + 130)
        after = counts(d.db)
        d.proc.terminate()
        d.proc.wait(timeout=60)
        size_after = os.path.getsize(d.db)
    finally:
        d.stop()
    return probe, before, after, done.get('at'), size_before, size_after


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depotd', required=True)
    ap.add_argument('--depotsim', required=True)
    ap.add_argument('--stations', type=int, default=200)
    ap.add_argument('--seconds', type=int, default=60)
    ap.add_argument('--probe-stations', type=int, default=100)
    ap.add_argument('--probe-seconds', type=int, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='depotd-prune-')
    try:
        aged = os.path.join(tmp, 'aged.db')
        answered = fill(a, aged)
        print(f'filled: {answered} MeterValues answered, aged 100 days\n')
        print('| depotd | probe answered | probe rtt p50 / p99 / max ms | pruning took s | MeterValues frames '
              'before / after | events before / after | file bytes before / after |')
        print('|---|---:|---|---:|---|---|---|')
        for keep in (30, 0):
            probe, before, after, took, sb, sa = serve(a, aged, keep)
            rtt = probe['rttMs']
            print(f"| keep_frames_days {keep} | {probe['answered']} | {rtt['p50']:.2f} / {rtt['p99']:.2f} / "
                  f"{rtt['max']:.2f} | {'%.1f' % took if took is not None else '-'} | "
                  f"{before.get('MeterValues', 0)} / {after.get('MeterValues', 0)} | {sum(before.values())} / "
                  f"{sum(after.values())} | {sb} / {sa} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
