"""ACN-Data replay against a real depotd, kept short: one day (2021-05-03 UTC) of real Caltech sessions on
14 stations x 4 EVSEs (examples/sim/depot-acn.json) at --speed 8000 (about 11 s). Checks: every session
depotsim plugged in is a transaction depotd ended, with the energy depotsim delivered (to 1 Wh), and the
run's site energy equals the sum over vehicles.

env: DEPOTD, DEPOTSIM, SIM_EXAMPLES, SIM_DATA.
"""
import json
import os
import subprocess
import sys
import tempfile

from depotd_fixture import Depotd, base_config, hash_password

failures = 0


def check(ok, what):
    global failures
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    failures += not ok


def main():
    depotd, depotsim = os.environ["DEPOTD"], os.environ["DEPOTSIM"]
    depot = os.path.join(os.environ["SIM_EXAMPLES"], "depot-acn.json")
    with open(depot) as f:
        st = json.load(f)["stations"][0]
    h = hash_password(depotd, st["password"])
    cfg = base_config(unknown_id_token="Accepted",
                      stations=[{"id": "%s%04d" % (st["id"], i + 1), "boot": "Accepted", "password_hash": h}
                                for i in range(st["count"])])
    out = tempfile.mktemp(prefix="depotsim-acn-", suffix=".json")
    with Depotd(depotd, cfg) as d:
        p = subprocess.run([depotsim, "run", "--csms", d.url(), "--depot", depot, "--acn",
                            os.path.join(os.environ["SIM_DATA"], "acn-sessions-2021-05-06.json"),
                            "--from", "2021-05-03T00:00:00Z", "--hours", "24", "--speed", "8000",
                            "--meter-interval", "900", "--json", out, "--max-real-seconds", "40"],
                           capture_output=True, text=True, timeout=90)
        print(p.stdout[-1500:], p.stderr[-1500:])
        check(p.returncode == 0, "depotsim run exits 0 (%d)" % p.returncode)
        txs = d.query("SELECT id, ended_ms, energy_last_wh - energy_first_wh FROM transactions")
    with open(out) as f:
        rep = json.load(f)
    os.unlink(out)
    plugged = [v for v in rep["vehicles"] if v.get("station")]
    check(len(plugged) >= 5, "a day of real sessions plugged in (%d)" % len(plugged))
    check(len(txs) == len(plugged), "depotd has one transaction per plugged session (%d vs %d)"
          % (len(txs), len(plugged)))
    check(all(t[1] is not None for t in txs), "every transaction ended in depotd")
    stored = sorted(round(t[2] or 0, 0) for t in txs)
    delivered = sorted(round(v["deliveredKwh"] * 1000, 0) for v in plugged)
    check(len(stored) == len(delivered) and all(abs(a - b) <= 1 for a, b in zip(stored, delivered)),
          "stored energies equal delivered ones (sum %.2f vs %.2f kWh)" % (sum(stored) / 1000, sum(delivered) / 1000))
    check(abs(rep["site"]["energyKwh"] - sum(v["deliveredKwh"] for v in rep["vehicles"])) < 0.01,
          "site energy %.2f kWh = sum over vehicles" % rep["site"]["energyKwh"])
    check(rep["messages"]["invalidFrames"] == 0 and rep["messages"]["callErrorsIn"] == 0,
          "no invalid frames or CALLERRORs")
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
