"""`depotsim load` functional check against a real depotd (not a benchmark): 50 stations x 4 MeterValues/s
for 2 s. Every planned message must be sent and answered (none lost, none a CALLERROR), every station
booted, and depotd's GetVariables after boot answered. A station id unknown to depotd is refused: that
run must exit 1 and count the station as a connect failure.

env: DEPOTD, DEPOTSIM.
"""
import json
import os
import subprocess
import sys

from depotd_fixture import Depotd, base_config, hash_password

PW = "load-test-pass-01"
failures = 0


def check(ok, what):
    global failures
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    failures += not ok


def main():
    depotd, depotsim = os.environ["DEPOTD"], os.environ["DEPOTSIM"]
    h = hash_password(depotd, PW)
    cfg = base_config(stations=[{"id": "LOAD%05d" % (i + 1), "boot": "Accepted", "password_hash": h}
                                for i in range(50)])
    with Depotd(depotd, cfg) as d:
        base = [depotsim, "load", "--csms", d.url(), "--password", PW, "--json", "--call-timeout", "5"]
        p = subprocess.run(base + ["--stations", "50", "--rate", "4", "--seconds", "2", "--message", "MeterValues"],
                           capture_output=True, text=True, timeout=60)
        print(p.stdout, p.stderr)
        r = json.loads(p.stdout) if p.stdout.strip() else {}
        check(p.returncode == 0, "exit 0 (%d)" % p.returncode)
        check(r.get("booted") == 50 and r.get("connected") == 50, "50 stations connected and booted")
        check(r.get("planned") == 400 and r.get("sent") == 400 and r.get("answered") == 400,
              "400 planned, sent and answered (%s/%s/%s)" % (r.get("planned"), r.get("sent"), r.get("answered")))
        check(r.get("failures") == 0, "no failures (%s)" % r.get("failures"))
        check(r.get("csmsCalls", 0) >= 50, "depotd's GetVariables after boot answered (%s)" % r.get("csmsCalls"))
        check(0 < r.get("rttMs", {}).get("p50", 0) <= r.get("rttMs", {}).get("max", 0),
              "latency percentiles measured (%s)" % r.get("rttMs"))
        p = subprocess.run(base + ["--stations", "2", "--rate", "1", "--seconds", "1", "--id-prefix", "NOPE"],
                           capture_output=True, text=True, timeout=60)
        r = json.loads(p.stdout) if p.stdout.strip() else {}
        check(p.returncode == 1 and r.get("connectFailed") == 2 and r.get("notSent") == 2,
              "unknown stations refused: exit 1, 2 connect failures, 2 not sent (%d, %s)" % (p.returncode, r))
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
