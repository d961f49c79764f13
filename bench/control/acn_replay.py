#!/usr/bin/python3
"""Benchmark (not a test): real ACN-Data sessions replayed against depotd's smart charging, at high speed on a
shared simulated clock, priced with real Belgian day-ahead prices. Prints one table: energy delivered vs
requested, vehicles met, cost, average price, peak and minutes above the limit, for depotd's control next to the
uncontrolled baseline (depotsim's, same visits and prices) and the LP lower bound (tests/sim/scenario_bound.py,
when scipy is there), and what depotd did (plans, profiles sent / accepted, at-risk warnings).

    /usr/bin/python3 bench/control/acn_replay.py [--from 2021-06-23] [--days 1] [--speed 2400] [--site-limit-kw 150]

The default day, Wednesday 23 June 2021, is the data's busiest (20 sessions, 290 kWh delivered); at 6.6 kW per
car that is at most 132 kW, so the site's 150 kW never binds: --site-limit-kw 40 makes the limit part of it.

What runs: depotd (temporary config and database, a free port on 127.0.0.1, stopped at the end) with control on
and the clock {"start": the window's start, "speed", "anchor_unix_ms"}; depotsim run --acn ... --clock-anchor
(the same three numbers) --baseline on examples/sim/depot-acn.json (14 stations x 4 single-phase 32 A EVSEs,
150 kW site).

Sessions: ACN site 0002 (Caltech, Pasadena: America/Los_Angeles) connected during the chosen Pasadena days
(a window from local midnight, so the workplace sessions, morning to evening, are not cut by the window's end).
Each session's need is the driver's own input at plug-in (last userInputs kWhRequested and requestedDeparture,
else kWhDelivered and the disconnect time); depotd learns it as a dispatcher need (control.vehicles/needs, one
vehicle per ACN user: a user with several sessions in the window gets the need of the first; the others run on
depotd's default policy, and the table says how many).

Why a session got less than uncontrolled charging gave it (--sessions prints every session): from depotd's plan
events, "station cap" (a plan left it short while its station's circuit in the LP was used up: with
ChargingStationMaxProfile the station's hardware, or the share it got when the stations' peaks did not fit
together; the caps sent follow the plan), "left early" (it disconnected before the departure depotd was told), "past told" (it stayed
past that departure, still short). The summary also counts the needs feasible at the EV's 6.6 kW by the real
disconnect, and what the sessions that left before their told departure got.

Price mapping: the ACN sessions are from May-June 2021, the prices from 2022. A Pasadena day D (2021) is
priced with the Brussels day D + 364 days (2022: same weekday, same season), hour by local hour: a session
charging at 08:00 Pasadena time on Wednesday 2021-06-23 pays the Brussels 08:00 price of Wednesday 2022-06-22.
The mapped prices go to a temporary CSV in UTC (RFC 3339), read by depotd's CSV provider and by depotsim. A
Brussels hour that does not exist (spring-forward) takes the hour before; a repeated one (fall-back) the first.

env: DEPOTD, DEPOTSIM (default build/src/depotd, build/sim/depotsim). Network: 127.0.0.1 only; every wait has a
deadline. depotd's control keys live in depotd_config() alone, to adjust as they settle.
"""
import argparse
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))
from depotd_fixture import Depotd, base_config, hash_password  # noqa: E402

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
SHIFT_DAYS = 364  # 52 weeks: same weekday
MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}


def depotd_config(stations, prices_csv, clock_start, speed, anchor_ms, vehicles, needs, site_limit_kw=150,
                  slot_minutes=15, horizon_h=24, failsafe="TxDefaultProfile"):
    """depotd's config for the replay: the one place that knows its control, clock and tariff keys."""
    return base_config(
        stations=stations, log_level="info", call_timeout_s=10, unknown_id_token="Accepted",
        timezone="America/Los_Angeles",
        tariff={"provider": {"type": "csv", "name": "be-dayahead-mapped", "file": prices_csv, "resolution_min": 60},
                "fallback": {"type": "fixed", "name": "flat-fallback", "price": 0.30}},
        control={"site_limit_kw": site_limit_kw, "slot_minutes": slot_minutes, "horizon_h": horizon_h,
                 "failsafe": failsafe, "vehicles": vehicles, "needs": needs,
                 # An idle EVSE reserves 6 A on one phase for a car that may plug in while depotd is down; at
                 # thousands of times real speed no solve may run to a MIP time limit (simulated hours).
                 "failsafe_evse_kw": 1.4, "replan_delay_ms": 20, "mip_max_binaries": 0, "solver_time_limit_ms": 500},
        clock={"start": clock_start, "speed": speed, "anchor_unix_ms": anchor_ms})


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_brussels_prices(path):
    """{naive Brussels local hour: EUR/kWh} from the ENTSO-E export ('01jan2022 00:00:00', local time)."""
    out = {}
    with open(path) as f:
        for line in f:
            t, _, p = line.strip().partition(",")
            try:
                d = datetime.datetime(int(t[5:9]), MONTHS[t[2:5].lower()], int(t[0:2]), int(t[10:12]))
                price = float(p)
            except (KeyError, ValueError, IndexError):
                continue  # header
            out.setdefault(d, price)  # fall-back day: the first of the repeated hour
    return out


def map_prices(src, first_utc, hours, out_path):
    """Hourly UTC prices over [first_utc, + hours): each UTC hour's Pasadena local hour, 364 days on, in
    Brussels. Returns how many hours had no price of their own (took the previous)."""
    filled, last = 0, None
    with open(out_path, "w") as f:
        f.write("time,price\n")
        for h in range(hours):
            t = first_utc + datetime.timedelta(hours=h)
            local = t.astimezone(LA).replace(tzinfo=None, minute=0, second=0)
            p = src.get(local + datetime.timedelta(days=SHIFT_DAYS))
            if p is None:
                if last is None:
                    raise SystemExit("acn_replay: no 2022 price for %s (Pasadena %s)" % (t, local))
                p, filled = last, filled + 1
            f.write("%s,%r\n" % (rfc3339(t), p))
            last = p
    return filled


def rfc1123_ms(s):
    return int(datetime.datetime.strptime(s, "%a, %d %b %Y %H:%M:%S GMT")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def acn_needs(acn_path, from_ms, to_ms):
    """Dispatcher vehicles and needs for the sessions depotsim will replay (its rules: scenario.c)."""
    with open(acn_path) as f:
        sessions = json.load(f)
    vehicles, needs, seen, sessions_in, with_need = [], [], {}, 0, 0
    for s in sessions:
        a, d = rfc1123_ms(s["connectionTime"]), rfc1123_ms(s["disconnectTime"])
        if a < from_ms or a >= to_ms or d <= a:
            continue
        sessions_in += 1
        need = s.get("kWhDelivered") or 0
        dep = d
        ui = s.get("userInputs") or []
        if ui:
            need = ui[-1].get("kWhRequested", need)
            if ui[-1].get("requestedDeparture"):
                dep = rfc1123_ms(ui[-1]["requestedDeparture"])
        need = max(need, 0.1)
        token = "ACN-%.20s" % (s.get("userID") or "anon")
        if token in seen:
            continue  # depotd keeps one need per vehicle: later sessions of this user use its default policy
        vid = "acn-%s" % token[4:]
        seen[token] = vid
        vehicles.append({"id": vid, "battery_kwh": max(75.0, need * 0.92 / 0.8), "max_kw": 6.6, "id_tokens": [token]})
        if dep > a:
            needs.append({"vehicle": vid, "departure": rfc3339(datetime.datetime.fromtimestamp(dep / 1000,
                                                                                              datetime.timezone.utc)),
                          "energy_kwh": round(need, 3)})
            with_need += 1
    return vehicles, needs, sessions_in, with_need


def depot_stations(depotd, depot_path):
    with open(depot_path) as f:
        depot = json.load(f)
    out = []
    for st in depot["stations"]:
        h = hash_password(depotd, st["password"])
        n = st.get("count", 1)
        ids = ["%s%04d" % (st["id"], i + 1) for i in range(n)] if n > 1 else [st["id"]]
        out += [{"id": i, "boot": "Accepted", "password_hash": h} for i in ids]
    return depot, out


def bound(depotsim, depot, acn, from_, hours, prices, limit_kw):
    try:
        import scenario_bound as sb
    except ImportError as e:
        print("(no LP bound: %s)" % e)
        return None
    return sb.bound_for(depotsim, depot, prices, acn=acn, from_=from_, hours=hours, grid_limit_kw=limit_kw)


def iso_ms(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


def plan_views(plans):
    """Per depotd session (station, EVSE, transaction) what its plans said: the departure depotd was told, and
    whether a plan left it short while its station's cap (a ChargingStationMaxProfile fail-safe: the plan lives
    within it) was used up in that plan's first slot. plans: the 'plan' events' data, in order."""
    out = {}
    for p in plans:
        caps = {c["station"]: c["limit_kw"] for c in p.get("circuits") or []}
        res = p.get("result") or {}
        kw, per = res.get("kw") or [], res.get("sessions") or []
        used = {}
        for s, row in zip(p.get("sessions") or [], kw):
            used[s["station"]] = used.get(s["station"], 0) + (row[0] if row else 0)
        t = iso_ms(p["start"])
        for s, r in zip(p.get("sessions") or [], per):
            v = out.setdefault((s["station"], s["evse"], s["transaction"]),
                               {"first_ms": t, "departure_ms": iso_ms(s["departure"]), "source": s["need_source"],
                                "cap_short": False})
            v["last_ms"] = t
            v["departure_ms"] = iso_ms(s["departure"])  # the latest the plans were told
            cap = caps.get(s["station"])
            if cap is not None and r.get("shortfall_kwh", 0) > 0.05 and used[s["station"]] >= cap - 0.05:
                v["cap_short"] = True
    return out


def causes(rep, views):
    """Each vehicle of the controlled run, next to its baseline twin, with why it got less than uncontrolled
    charging gave it (kWh and its causes; several can apply, and they are counted together):
      station cap  - a plan left it short while its station's fail-safe cap was full (the site was not)
      left early   - it disconnected before the departure depotd was told, and the plan had put energy later
      past told    - it stayed past the told departure, short of its need at that time
      other        - none of those."""
    base = {v["ev"]: v for v in rep.get("baseline", {}).get("vehicles", [])}
    rows = []
    for v in rep["vehicles"]:
        b = base.get(v["ev"], {})
        arr, dep = iso_ms(v["arrival"]), iso_ms(v["departure"])
        view = None
        for (st, evse, _tx), x in views.items():
            if st == v["station"] and evse == v["evse"] and arr - 60000 <= x["first_ms"] <= dep:
                view = x
        told = view["departure_ms"] if view else None
        gap = (b.get("deliveredKwh") or 0) - v["deliveredKwh"]
        why = []
        if view and view["cap_short"]:
            why.append("station cap")
        if told and dep < told - 60000:
            why.append("left early")
        if told and dep > told + 60000 and v["deliveredKwh"] < 0.99 * v["requestedKwh"]:
            why.append("past told")
        # What 6.6 kW (the EV's maximum) could give from arrival to each departure: which needs were feasible.
        kw = v.get("maxPowerKw") or 6.6
        rows.append({"ev": v["ev"], "station": "%s/%d" % (v["station"], v["evse"]), "arr": arr, "dep": dep,
                     "told": told, "source": view and view["source"], "req": v["requestedKwh"],
                     "got": v["deliveredKwh"], "base": b.get("deliveredKwh"), "gap": gap,
                     "feasible_dep": min(v["requestedKwh"], kw * (dep - arr) / 3.6e6),
                     "feasible_told": told and min(v["requestedKwh"], kw * (told - arr) / 3.6e6),
                     "why": why if gap > 0.1 else []})
    return rows


def cause_table(rows, per_session):
    hm = lambda ms: "-" if ms is None else datetime.datetime.fromtimestamp(ms / 1000, LA).strftime("%H:%M")  # noqa: E731
    if per_session:
        print("\n%-9s %-10s %5s %5s %5s %-10s %6s %6s %6s %6s %6s  %s" % (
            "vehicle", "EVSE", "arr", "left", "told", "need from", "req", "feas.", "ctrl", "uncon.", "gap", "why"))
        for r in rows:
            print("%-9s %-10s %5s %5s %5s %-10s %6.1f %6.1f %6.1f %6.1f %6.1f  %s" % (
                r["ev"], r["station"], hm(r["arr"]), hm(r["dep"]), hm(r["told"]), r["source"] or "-", r["req"],
                r["feasible_dep"], r["got"], r["base"] or 0, r["gap"], ", ".join(r["why"])))
    by = {}
    for r in rows:
        if r["gap"] > 0.1:
            k = " + ".join(r["why"]) or "other"
            n, kwh, met = by.get(k, (0, 0.0, 0))
            lost_met = r["base"] is not None and r["base"] >= 0.99 * r["req"] and r["got"] < 0.99 * r["req"]
            by[k] = (n + 1, kwh + r["gap"], met + lost_met)
    gained = sum(-r["gap"] for r in rows if r["gap"] < -0.1)
    print("less than uncontrolled, by cause:\n  %s%s" % (
        "\n  ".join("%-26s %2d sessions %.1f kWh (%d no longer met)" % (k, n, kwh, m) for k, (n, kwh, m) in sorted(by.items()))
        or "none", "\n  more than uncontrolled: %.1f kWh" % gained if gained else ""))
    early = [r for r in rows if r["told"] and r["dep"] < r["told"] - 60000]
    feas = [r for r in rows if r["feasible_dep"] >= 0.99 * r["req"]]
    print("needs feasible at 6.6 kW by the real disconnect: %d, met %d (uncontrolled %d); %d sessions left before "
          "the departure depotd was told (%.1f kWh to them, uncontrolled %.1f)" % (
              len(feas), sum(r["got"] >= 0.99 * r["req"] for r in feas),
              sum((r["base"] or 0) >= 0.99 * r["req"] for r in feas), len(early), sum(r["got"] for r in early),
              sum(r["base"] or 0 for r in early)))


def table(rep, lp, stats, args, extra):
    s = rep["site"]
    b = rep.get("baseline", {}).get("site", {})
    rows = [
        ("energy delivered kWh", s["deliveredKwh"], b.get("deliveredKwh"), lp and lp["boundEnergyKwh"], "%.1f"),
        ("energy requested kWh", s["requestedKwh"], b.get("requestedKwh"), lp and lp["needKwh"], "%.1f"),
        ("vehicles met", "%d/%d" % (s["vehiclesMet"], s["vehicles"]),
         b and "%d/%d" % (b["vehiclesMet"], b["vehicles"]), None, "%s"),
        ("cost EUR", s.get("costEur"), b.get("costEur"), lp and lp["boundCostEur"], "%.2f"),
        ("average EUR/kWh", s.get("costEur", 0) / s["energyKwh"] if s["energyKwh"] else None,
         b.get("costEur", 0) / b["energyKwh"] if b.get("energyKwh") else None,
         lp and lp["boundEnergyKwh"] and lp["boundCostEur"] / lp["boundEnergyKwh"], "%.4f"),
        ("peak kW (1-min)", s["maxKw"], b.get("maxKw"), None, "%.1f"),
        ("minutes above %g kW" % s["gridLimitKw"], s["minutesAboveLimit"], b.get("minutesAboveLimit"), None, "%d"),
    ]
    print("\nACN replay: %s, %g day(s) from %s Pasadena, %s, speed %g, prices BE day-ahead 2022 (+%d days, local hour)"
          % (os.path.basename(args.acn), args.days, args.from_, os.path.basename(args.depot), args.speed, SHIFT_DAYS))
    print("%-24s %14s %14s %14s" % ("", "depotd control", "uncontrolled", "LP bound"))
    for name, c, u, l, fmt in rows:
        cell = lambda v: "-" if v is None or v == "" else (fmt % v)  # noqa: E731
        print("%-24s %14s %14s %14s" % (name, cell(c), cell(u), cell(l)))
    if b.get("deliveredKwh") and abs(s["deliveredKwh"] - b["deliveredKwh"]) > 0.01 * b["deliveredKwh"]:
        print("(the two delivered different energy: compare EUR/kWh, not EUR)")
    if s.get("costEur") is not None and b.get("costEur"):
        print("%-24s %14.2f EUR (%.1f %% of the uncontrolled cost)" % ("saving", b["costEur"] - s["costEur"],
                                                                      100 * (b["costEur"] - s["costEur"]) / b["costEur"]))
    print("sessions %d, with a dispatcher need %d; depotd: %d plans, %d SetChargingProfile sent, %d accepted, "
          "%d departure_at_risk, %d compensation; real %.1f s" % (extra["sessions"], extra["with_need"], *stats,
                                                                  extra["real_s"]))
    print("fail-safe: %s" % extra["failsafe"])
    if extra["filled"]:
        print("(%d hours had no 2022 price of their own and took the previous hour's)" % extra["filled"])


def main():
    ap = argparse.ArgumentParser(description="ACN-Data replay against depotd's smart charging (benchmark).")
    ap.add_argument("--depotd", default=os.environ.get("DEPOTD", os.path.join(ROOT, "build", "src", "depotd")))
    ap.add_argument("--depotsim", default=os.environ.get("DEPOTSIM", os.path.join(ROOT, "build", "sim", "depotsim")))
    ap.add_argument("--acn", default=os.path.join(ROOT, "..", "shared", "data", "acn-sessions-2021-05-06.json"))
    ap.add_argument("--prices", default=os.path.join(ROOT, "..", "shared", "data", "prices-be-dayahead-2022.csv"))
    ap.add_argument("--depot", default=os.path.join(ROOT, "examples", "sim", "depot-acn.json"))
    ap.add_argument("--from", dest="from_", default="2021-06-23", help="first Pasadena day (YYYY-MM-DD)")
    ap.add_argument("--days", type=float, default=1)
    ap.add_argument("--speed", type=float, default=2400)
    ap.add_argument("--site-limit-kw", type=float, help="default: the depot file's gridLimitKw")
    ap.add_argument("--lead-seconds", type=float, default=4, help="real seconds between now and the anchor")
    ap.add_argument("--failsafe", default="ChargingStationMaxProfile")
    ap.add_argument("--control", action="append", default=[], metavar="KEY=JSON",
                    help="override one of depotd's control keys (repeatable), e.g. earliness_pct=5")
    ap.add_argument("--json", help="write depotsim's report (with its baseline) here")
    ap.add_argument("--keep-log", help="write depotd's log here")
    ap.add_argument("--sessions", action="store_true", help="print every session with its cause")
    ap.add_argument("--keep-db", help="copy depotd's event log (SQLite) here, for `depotd --replay-plan` and queries")
    args = ap.parse_args()

    day0 = datetime.datetime.strptime(args.from_, "%Y-%m-%d").replace(tzinfo=LA)
    start = day0.astimezone(datetime.timezone.utc)
    hours = args.days * 24
    start_s, from_ms = rfc3339(start), int(start.timestamp() * 1000)
    to_ms = from_ms + int(hours * 3600000)
    tmp = tempfile.mkdtemp(prefix="acn-replay-")
    try:
        prices = os.path.join(tmp, "prices.csv")
        # A day either side: depotd's horizon looks ahead, depotsim prices every minute of the window.
        filled = map_prices(read_brussels_prices(args.prices), start - datetime.timedelta(days=1),
                            int(hours) + 72, prices)
        depot, stations = depot_stations(args.depotd, args.depot)
        vehicles, needs, n_sessions, with_need = acn_needs(args.acn, from_ms, to_ms)
        anchor = int(time.time() * 1000 + args.lead_seconds * 1000)
        limit = args.site_limit_kw or depot.get("gridLimitKw", 150)
        cfg = depotd_config(stations, prices, start_s, args.speed, anchor, vehicles, needs,
                            site_limit_kw=limit, failsafe=args.failsafe)
        for kv in args.control:
            k, _, v = kv.partition("=")
            cfg["control"][k] = json.loads(v)
        report = args.json or os.path.join(tmp, "report.json")
        t0 = time.monotonic()
        with Depotd(args.depotd, cfg, keep_log=args.keep_log) as d:
            cmd = [args.depotsim, "run", "--csms", d.url(), "--depot", args.depot, "--acn", args.acn,
                   "--from", start_s, "--hours", str(hours), "--prices", prices, "--speed", str(args.speed),
                   "--clock-anchor", str(anchor), "--meter-interval", "300", "--baseline", "--json", report,
                   "--grid-limit-kw", str(limit),
                   "--max-real-seconds", str(int(hours * 3600 / args.speed + 60))]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=hours * 3600 / args.speed + 180)
            if p.returncode != 0:
                print(p.stdout[-3000:], p.stderr[-3000:])
                print("".join(d.log[-40:]))
                return 1
            time.sleep(0.5)
            q = lambda sql: d.query(sql)[0][0]  # noqa: E731
            stats = (q("SELECT count(*) FROM events WHERE type = 'plan'"),
                     q("SELECT count(*) FROM events WHERE type = 'ocpp_out' AND action = 'SetChargingProfile' "
                       "AND msg_type = 2"),
                     q("SELECT count(*) FROM events WHERE type = 'ocpp_in' AND action = 'SetChargingProfile' "
                       "AND msg_type = 3 AND data LIKE '%Accepted%'"),
                     q("SELECT count(*) FROM events WHERE type = 'departure_at_risk'"),
                     q("SELECT count(*) FROM events WHERE type = 'compensation'"))
            plans = [json.loads(r[0]) for r in d.query("SELECT data FROM events WHERE type = 'plan' ORDER BY seq")]
            views = plan_views(plans)
            fs = plans[-1] if plans else {}
            failsafe = "%s, a share of %.1f kW per station%s" % (
                fs.get("failsafe"), fs.get("failsafe_station_kw", 0),
                ": a station cap the plans live within" if fs.get("circuits") else
                " over its EVSEs (at most control.failsafe_evse_kw each), for sessions without a TxProfile")
            caps = [json.loads(r[0]) for r in d.query("SELECT data FROM events WHERE type = 'station_cap' ORDER BY seq")]
            if caps:
                # Station maxima that follow the plan: the equal share only at first boot.
                top = max(max(c["caps"].values() or [0]) for c in caps)
                worst = max(c["sum_kw"] - c["limit_kw"] for c in caps)
                failsafe = ("%s that follow the plan (equal share %.1f kW at first boot): %d cap changes sent, "
                            "largest cap %.1f kW, sum of caps counted at most %+.1f kW from the limit" % (
                                fs.get("failsafe"), fs.get("failsafe_station_kw", 0),
                                sum(1 for c in caps if c["what"] == "sent"), top, worst))
            if args.keep_db:
                src = sqlite3.connect("file:%s?mode=ro" % d.db, uri=True, timeout=10)
                dst = sqlite3.connect(args.keep_db)
                with dst:
                    src.backup(dst)
                src.close()
                dst.close()
        real_s = time.monotonic() - t0
        with open(report) as f:
            rep = json.load(f)
        lp = bound(args.depotsim, args.depot, args.acn, start_s, hours, prices, limit)
        table(rep, lp, stats, args, {"sessions": n_sessions, "with_need": with_need, "real_s": real_s,
                                     "filled": filled, "failsafe": failsafe})
        cause_table(causes(rep, views), args.sessions)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
