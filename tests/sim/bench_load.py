"""Benchmark: `depotsim load` against a real depotd (fresh temp database per run, stations configured with a
password, boot Accepted, max_stations sized to the run). Prints one table row per run; numbers go to
docs/benchmarks.md by hand. Not a timed test: nothing here fails on a slow machine, only on failures the
CSMS reports (CALLERRORs, timeouts) which are shown in the table.

usage: bench_load.py DEPOTD DEPOTSIM [K:message:rate:seconds ...]
"""
import json
import subprocess
import sys
import time

from depotd_fixture import Depotd, base_config, hash_password

PASSWORD = "load-bench-pass-01"
DEFAULT_RUNS = ["1000:Heartbeat:10:10", "1000:MeterValues:10:10", "10000:Heartbeat:1:10", "10000:Heartbeat:5:10",
                "10000:MeterValues:1:10"]


def one(depotd, depotsim, k, message, rate, seconds):
    h = hash_password(depotd, PASSWORD)
    cfg = base_config(max_stations=k + 16, log_level="info", max_messages_per_s=100000,
                      stations=[{"id": "LOAD%05d" % (i + 1), "boot": "Accepted", "password_hash": h}
                                for i in range(k)])
    d = Depotd(depotd, cfg).start()
    try:
        cmd = [depotsim, "load", "--csms", d.url(), "--stations", str(k), "--password", PASSWORD, "--message",
               message, "--rate", str(rate), "--seconds", str(seconds), "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300)
        if p.returncode not in (0, 1) or not p.stdout.strip():
            raise RuntimeError("depotsim load failed (%d): %s" % (p.returncode, p.stderr))
        return json.loads(p.stdout)
    finally:
        d.stop()


def main():
    depotd, depotsim = sys.argv[1], sys.argv[2]
    runs = sys.argv[3:] or DEFAULT_RUNS
    print("| stations | message | target msg/s | answered msg/s | rtt p50 ms | p95 | p99 | max | due->answer p99 ms "
          "| failures | connect+boot s | depotsim CPU us/msg |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        k, message, rate, seconds = run.split(":")
        r = one(depotd, depotsim, int(k), message, float(rate), float(seconds))
        print("| %d | %s | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %.1f | %.1f |" % (
            r["stations"], r["message"], r["stations"] * r["ratePerStation"], r["throughput"], r["rttMs"]["p50"],
            r["rttMs"]["p95"], r["rttMs"]["p99"], r["rttMs"]["max"], r["lagMs"]["p99"], r["failures"],
            r["connectSeconds"], r["cpuUsPerMessage"]), flush=True)
        time.sleep(2)  # let TIME_WAIT sockets and depotd's exit settle between runs


if __name__ == "__main__":
    main()
