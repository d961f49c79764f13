#!/usr/bin/python3
"""Benchmark (not a test): depotd's outcome against the site limit. Runs bench/control/acn_replay.py once per
site limit and fail-safe mode and prints one table (energy delivered and needs met, EUR/kWh and peak for depotd,
depotsim's uncontrolled baseline and the LP bound; minutes above the limit; plans and profiles sent), and writes
the rows as JSON for bench/control/plot_sweep.py.

    /usr/bin/python3 bench/control/sweep.py [--from 2021-06-21] [--days 1] [--limits 30,45,60,90,150]
        [--failsafes ChargingStationMaxProfile,TxDefaultProfile] [--json docs/sweep-acn.json]
        [--control departure_hedge_pct=90 ...] [--trucks] [--speed 2400]

--trucks adds the DC fleet depot (tests/control/depot_day.py trucks: 12 x 150 kW DC stations behind 600 kW, a
third of their sum; a day of overnight trucks and midday top-ups), one row per fail-safe, at its own limit.

Each run is a whole replay (about 40 s per simulated day at 2400x); nothing runs in parallel (the simulated
clocks need the cores). Network: 127.0.0.1 only, through acn_replay.py.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

ROWS = {
    "energy": r"energy delivered kWh\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
    "met": r"vehicles met\s+(\d+)/(\d+)\s+(\d+)/(\d+)",
    "eur_kwh": r"average EUR/kWh\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
    "peak": r"peak kW \(1-min\)\s+([\d.]+)\s+([\d.]+)",
    "above": r"minutes above [\d.]+ kW\s+(\d+)\s+(\d+)",
    "plans": r"depotd: (\d+) plans, (\d+) SetChargingProfile sent",
}


def extract(rows, text, what):
    """Every row's numbers from a run's output; a missing row is an error naming it."""
    out = {}
    for key, rx in rows.items():
        m = re.search(rx, text)
        if not m:
            raise ValueError("%s output without %s:\n%s" % (what, key, text[-2000:]))
        out[key] = [float(g) for g in m.groups()]
    return out


def parse(text):
    out = extract(ROWS, text, "acn_replay")
    return {
        "energy_kwh": {"depotd": out["energy"][0], "baseline": out["energy"][1], "lp_bound": out["energy"][2]},
        "met": {"depotd": int(out["met"][0]), "baseline": int(out["met"][2]), "of": int(out["met"][1])},
        "eur_per_kwh": {"depotd": out["eur_kwh"][0], "baseline": out["eur_kwh"][1], "lp_bound": out["eur_kwh"][2]},
        "peak_kw": {"depotd": out["peak"][0], "baseline": out["peak"][1]},
        "minutes_above": {"depotd": int(out["above"][0]), "baseline": int(out["above"][1])},
        "plans": int(out["plans"][0]), "profiles_sent": int(out["plans"][1]),
    }


TRUCK_ROWS = {
    "energy": r"tight: energy ([\d.]+) kWh \(depotd\) / ([\d.]+) \(baseline\) / ([\d.]+) \(LP bound",
    "met": r"met (\d+) / (\d+) \(baseline\) of (\d+)",
    "eur_kwh": r"; ([\d.]+) / ([\d.]+) EUR/kWh \(LP bound ([\d.]+)\)",
    "above": r"EUR/kWh \(LP bound [\d.]+\); (\d+) minutes above ([\d.]+) kW",
    "peak": r"controlled: cost [\d.]+ EUR, peak ([\d.]+) kW.*baseline: cost [\d.]+ EUR, peak ([\d.]+) kW",
    "plans": r"depotd: (\d+) plans, (\d+) SetChargingProfile sent",
}


def parse_trucks(text):
    out = extract(TRUCK_ROWS, text, "depot_day.py")
    return {
        "depot": "trucks", "site_limit_kw": out["above"][1],
        "energy_kwh": {"depotd": out["energy"][0], "baseline": out["energy"][1], "lp_bound": out["energy"][2]},
        "met": {"depotd": int(out["met"][0]), "baseline": int(out["met"][1]), "of": int(out["met"][2])},
        "eur_per_kwh": {"depotd": out["eur_kwh"][0], "baseline": out["eur_kwh"][1], "lp_bound": out["eur_kwh"][2]},
        "peak_kw": {"depotd": out["peak"][0], "baseline": out["peak"][1]},
        "minutes_above": {"depotd": int(out["above"][0]), "baseline": None},
        "plans": int(out["plans"][0]), "profiles_sent": int(out["plans"][1]),
    }


def run_trucks(fs, speed):
    """One DC truck depot day through tests/control/depot_day.py (its checks' verdict is not the sweep's)."""
    root = os.path.normpath(os.path.join(HERE, "..", ".."))
    env = dict(os.environ)
    env.setdefault("DEPOTD", os.path.join(root, "build", "src", "depotd"))
    env.setdefault("DEPOTSIM", os.path.join(root, "build", "sim", "depotsim"))
    env.setdefault("SIM_EXAMPLES", os.path.join(root, "examples", "sim"))
    env.setdefault("TEST_DATA", os.path.join(root, "tests", "control", "data"))
    env.setdefault("PRICES_CSV", os.path.join(root, "examples", "prices", "be-dayahead-sample.csv"))
    env["SPEED"] = str(speed)
    mode = "trucks_stationmax" if fs == "ChargingStationMaxProfile" else "trucks"
    r = subprocess.run([sys.executable, os.path.join(root, "tests", "control", "depot_day.py"), mode],
                       capture_output=True, text=True, timeout=1800, env=env)
    return {"failsafe": fs, **parse_trucks(r.stdout)}


def print_row(row):
    e, m, c = row["energy_kwh"], row["met"], row["eur_per_kwh"]
    print("%-8s %-26s %5g kW: energy %6.1f / %6.1f / %6.1f kWh, met %2d / %2d of %d, EUR/kWh %.4f / %.4f / %.4f, "
          "peak %5.1f, above %d, plans %d, profiles %d" % (
              row.get("depot", "acn"), row["failsafe"], row["site_limit_kw"], e["depotd"], e["baseline"],
              e["lp_bound"], m["depotd"], m["baseline"], m["of"], c["depotd"], c["baseline"], c["lp_bound"],
              row["peak_kw"]["depotd"], row["minutes_above"]["depotd"], row["plans"], row["profiles_sent"]),
          flush=True)


def main():
    ap = argparse.ArgumentParser(description="depotd against the site limit (benchmark).")
    ap.add_argument("--from", dest="from_", default="2021-06-21")
    ap.add_argument("--days", default="1")
    ap.add_argument("--limits", default="30,45,60,90,150")
    ap.add_argument("--failsafes", default="ChargingStationMaxProfile,TxDefaultProfile")
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--control", action="append", default=[], metavar="KEY=JSON",
                    help="passed to acn_replay.py (e.g. departure_hedge_pct=90)")
    ap.add_argument("--speed", default="2400", help="simulated seconds per real second (ACN replay)")
    ap.add_argument("--trucks", action="store_true", help="add the DC truck depot's rows")
    ap.add_argument("--truck-speed", default="3000")
    args = ap.parse_args()
    rows = []
    for fs in args.failsafes.split(","):
        for lim in args.limits.split(","):
            cmd = [sys.executable, os.path.join(HERE, "acn_replay.py"), "--from", args.from_, "--days", args.days,
                   "--site-limit-kw", lim, "--failsafe", fs, "--speed", args.speed]
            for kv in args.control:
                cmd += ["--control", kv]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                print("sweep: %s at %s kW failed:\n%s" % (fs, lim, r.stderr[-2000:]), file=sys.stderr)
                return 1
            row = {"failsafe": fs, "site_limit_kw": float(lim), **parse(r.stdout)}
            rows.append(row)
            print_row(row)
        if args.trucks:
            rows.append(run_trucks(fs, args.truck_speed))
            print_row(rows[-1])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"from": args.from_, "days": float(args.days), "speed": float(args.speed),
                       "control": args.control, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
