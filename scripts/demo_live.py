#!/usr/bin/env python3
"""The live depot of `make demo` (and of tests/api/apidoc.mjs): writes, into OUTDIR,
  live.json          depotd's config: examples/depotd.json (API tokens, vehicles, 44 kW site limit) on the real
                     clock, with a time-of-use tariff and the database OUTDIR/live.db;
  live-depot.json    depotsim's depot: CS001 and CS002 of examples/depotd.json, two 22 kW AC EVSEs each;
  live-scenario.json three vans (van-01, van-02 on CS001, van-03 on CS002) plugged in a few seconds after now,
                     staying 12 hours; van-1, van-2 (fleet south) are not plugged in.
examples/api.md's calls act on this depot. Usage: demo_live.py OUTDIR [--port N] [--api-port N]
"""
import argparse
import datetime as dt
import json
import os

ap = argparse.ArgumentParser()
ap.add_argument("outdir")
ap.add_argument("--port", type=int, default=8180)
ap.add_argument("--api-port", type=int, default=8181)
args = ap.parse_args()
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

cfg = json.load(open(os.path.join(repo, "examples", "depotd.json")))
cfg["port"] = args.port
cfg["api_port"] = args.api_port
cfg["database"] = os.path.join(os.path.abspath(args.outdir), "live.db")
cfg["call_timeout_s"] = 10
# Only the stations of the live depot (and CS003 for a real charger): every registered station that never
# connected is counted at an equal share of the 44 kW (the fail-safe guarantee), so SIMCS01 would hold 11 kW.
cfg["stations"] = [s for s in cfg["stations"] if s["id"] != "SIMCS01"]
# unknown_id_token stays Invalid (examples/depotd.json): a van registered through the API authorizes with the
# id tokens it was registered with.
# The sample CSV of day-ahead prices covers a few days of 2024: a live depot today plans on the static
# time-of-use tariff of examples/tariffs/tou.json (cheap nights), so the plan has cheap hours to move into.
tou = json.load(open(os.path.join(repo, "examples", "tariffs", "tou.json")))
cfg["tariff"] = {"provider": dict(tou["provider"], name="demo-tou"), "fallback": tou["fallback"]}
# A dispatcher's schedule: departures are kept, so plans run to them from the first session (no learned hedge).
cfg["control"]["departure_hedge_new_pct"] = 0
cfg["control"]["replan_delay_ms"] = 100
# The LP without the exact min-current MIP: a departure's answer waits for its plan, and the MIP of a 12-hour
# horizon can take seconds.
cfg["control"]["mip_max_binaries"] = 0

now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
depot = {
    "gridLimitKw": cfg["control"]["site_limit_kw"],
    "stations": [
        {"id": sid, "password": "demo-station-password-0001", "evses": 2,
         "ac": {"phases": 3, "maxCurrentA": 32, "voltageV": 230}, "rateUnits": ["A", "W"],
         "periodsPerSchedule": 24, "profileStackLevel": 8, "vendor": "depotsim", "model": "sim-ac22",
         "firmware": "0.1.0"} for sid in ("CS001", "CS002")],
}
plug = now + dt.timedelta(seconds=3)
leave = now + dt.timedelta(hours=12)
visits = [
    {"ev": "VAN-01", "idToken": "VAN01", "station": "CS001", "evse": 1, "energyKwh": 40, "arrivalSoc": 0.2},
    {"ev": "VAN-02", "idToken": "VAN02", "station": "CS001", "evse": 2, "energyKwh": 30, "arrivalSoc": 0.3},
    {"ev": "VAN-03", "idToken": "VAN03", "station": "CS002", "evse": 1, "energyKwh": 25, "arrivalSoc": 0.4},
]
for v in visits:
    v["arrival"], v["departure"] = iso(plug), iso(leave)
scenario = {"start": iso(now), "end": iso(leave + dt.timedelta(minutes=5)),
            "evDefaults": {"capacityKwh": 60, "maxPowerKw": 11, "taperSoc": 0.8, "taperFloor": 0.1,
                           "efficiency": 0.92},
            "visits": visits}
os.makedirs(args.outdir, exist_ok=True)
for name, doc in (("live.json", cfg), ("live-depot.json", depot), ("live-scenario.json", scenario)):
    with open(os.path.join(args.outdir, name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
