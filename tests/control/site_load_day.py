"""A depot day behind a feeder tree and beside a building, end to end (issue 18): the day of feeders_day.py (a
transformer, two feeders, two per-phase boards, 30 vans, a third single-phase, 150 kW, TxDefault fail-safe) on a
connection the depot's workshop shares. The building's load comes from a real HTTP server on 127.0.0.1 that plays a
meter with a day-ahead forecast: the measured series up to the simulated now and examples/sim/site-load-forecast.csv
after it (30 kW at night, 70 kW from 07:00 to 18:00 UTC). depotd polls it every 5 simulated minutes (site_load,
margin 5 kW) and is killed (SIGKILL) at about a third of the day, restarted 3 real seconds later: its fail-safe has
to hold the tree and the connection beside the building alone. Departures are kept (departure_hedge_new_pct 0, as in
feeders_day.py and depot_day.py). depotsim plays the same tree and building (--site-load, the measured series) and
counts the building with the chargers; its baseline shares what the building leaves but knows no feeder.

In make test the workshop measures what was forecast. Checks: no minute above any circuit or phase, none above 150 kW
with the building, needs met and energy at least the baseline's (less 0.5 kWh), though the baseline breaks the
feeders to deliver it.

`site_load_day.py defrost`: the meter measures examples/sim/site-load-measured.csv, with a cold store's defrost the
forecast did not know (+30 kW, 01:00-02:30 UTC, in the night's cheapest hours). Checks then: no minute above 150 kW
but in the defrost's first 10 minutes (what no controller can see before its meter says so), a plan that names the
building's load within 8 minutes of the defrost with its slot under 150 - 60 - 5 = 85 kW. Measured (docs/benchmarks.md
"The building's load"): 2-6 minutes above at the defrost's start, every circuit kept, 1034 of 1034 kWh in 5 runs of
7 and 1031.5 (one van short) in one: planned into the cheapest hours, the day cannot always win back the 45 kWh the
surprise takes there, while the baseline knows the building exactly. With the operator's default hedge nothing goes
above, but two vans left 15.3 kWh short in the one run.

env: DEPOTD, DEPOTSIM, SIM_EXAMPLES, PRICES_CSV, SPEED (default 3000). 127.0.0.1 only; every wait has a deadline.
"""
import http.server
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import depot_day as dd  # noqa: E402  (its fixture, clock and checks)
import feeders_day  # noqa: E402  (the tree as depotd's config)

QUARTER = 15 * 60 * 1000
DEFROST = ("2022-09-27T01:00:00Z", "2022-09-27T02:30:00Z", 30.0)
MARGIN_KW = 5.0


def read_series(path):
    """time,kw rows: [(start ms, kW)] ascending."""
    rows = []
    with open(path) as f:
        for line in f:
            t, _, v = line.strip().partition(",")
            if t and t != "time":
                rows.append((int(dd.iso_s(t) * 1000), float(v)))
    return rows


def value_at(rows, t_ms):
    v = 0.0
    for start, kw in rows:
        if start > t_ms:
            break
        v = kw
    return v


def csv_rows(rows):
    return "time,kw\n" + "".join("%s,%.1f\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t / 1000)), v)
                                  for t, v in rows)


class Meter(http.server.ThreadingHTTPServer):
    """GET /load.csv: measured up to the simulated now, the forecast after it, two days either side."""

    def __init__(self, start_ms, anchor_ms, speed, measured, forecast):
        self.start_ms, self.anchor_ms, self.speed = start_ms, anchor_ms, speed
        self.measured, self.forecast = measured, forecast
        self.requests = 0
        super().__init__(("127.0.0.1", 0), Handler)

    def sim_now(self):
        return self.start_ms + (time.time() * 1000 - self.anchor_ms) * self.speed

    def body(self):
        now = self.sim_now()
        return csv_rows([(t, v) for t, v in self.measured if t <= now] + [(t, v) for t, v in self.forecast if t > now])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if not self.path.startswith("/load.csv"):
            self.send_error(404)
            return
        self.server.requests += 1
        body = self.server.body().encode()
        self.send_response(200)
        self.send_header("content-type", "text/csv")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    depotd, depotsim = os.environ["DEPOTD"], os.environ["DEPOTSIM"]
    ex, prices = os.environ["SIM_EXAMPLES"], os.environ["PRICES_CSV"]
    speed = float(os.environ.get("SPEED", "3000"))
    depot_file, scen_file = os.path.join(ex, "depot-feeders.json"), os.path.join(ex, "scenario-feeders.json")
    # `make test` runs the day with a forecast that holds (the meter serves it); `defrost` adds the unforecast defrost.
    defrost = len(sys.argv) > 1 and sys.argv[1] == "defrost"
    measured_file = os.path.join(ex, "site-load-measured.csv" if defrost else "site-load-forecast.csv")
    depot, scen = dd.load(depot_file), dd.load(scen_file)
    measured, forecast = read_series(measured_file), read_series(os.path.join(ex, "site-load-forecast.csv"))
    circuits, rotation = feeders_day.circuits_config(depot)
    limit = depot["gridLimitKw"]
    stations = []
    for st in depot["stations"]:
        h = dd.hash_password(depotd, st["password"])
        stations += [{"id": "%s%04d" % (st["id"], i + 1), "boot": "Accepted", "password_hash": h} for i in range(st["count"])]
    vehicles, needs = [], []
    for v in scen["visits"]:
        vehicles.append({"id": v["ev"], "battery_kwh": v.get("capacityKwh", scen["evDefaults"]["capacityKwh"]),
                         "max_kw": v.get("maxPowerKw", scen["evDefaults"]["maxPowerKw"]), "id_tokens": [v["idToken"]]})
        if not v.get("iso15118"):
            needs.append({"vehicle": v["ev"], "departure": v["departure"], "energy_kwh": v["energyKwh"]})
    start_ms, end_ms = int(dd.load_start(scen) * 1000), int(dd.load_end(scen) * 1000)
    anchor = int(time.time() * 1000) + 2500
    meter = Meter(start_ms, anchor, speed, measured, forecast)
    threading.Thread(target=meter.serve_forever, daemon=True).start()
    port = dd.free_port()
    cfg = dd.base_config(
        stations=stations, log_level="info", call_timeout_s=5, timezone="Europe/Brussels",
        tariff={"provider": {"type": "csv", "name": "be-dayahead", "file": prices, "resolution_min": 60},
                "fallback": {"type": "fixed", "name": "flat-fallback", "price": 0.30}},
        site_load={"provider": {"type": "csv", "name": "workshop-meter", "resolution_min": 15,
                                "url": "http://127.0.0.1:%d/load.csv" % meter.server_address[1]},
                   "fallback": {"type": "fixed", "name": "workshop-worst", "value": 70},
                   "schedule": {"cadence_s": 300, "retry_s": 60}, "margin_kw": MARGIN_KW},
        control={"site_limit_kw": limit, "slot_minutes": 15, "horizon_h": 24, "circuits": circuits,
                 "phase_rotation": rotation, "failsafe": "TxDefaultProfile", "failsafe_evse_kw": 4.2, "replan_delay_ms": 20,
                 "vehicles": vehicles, "needs": needs, "departure_hedge_new_pct": 0, "mip_max_binaries": 0,
                 "solver_time_limit_ms": 500},
        clock={"start": scen["start"], "speed": speed, "anchor_unix_ms": anchor})
    out = tempfile.mktemp(prefix="site-load-day-", suffix=".json")
    d = dd.FixedPortDepotd(depotd, cfg, port)
    d.start()
    total_real = (end_ms - start_ms) / 1000 / speed
    max_real = max(120, int(total_real) + 60)
    try:
        dd.run_depotsim([depotsim, "run", "--csms", "ws://127.0.0.1:%d/ocpp" % port, "--depot", depot_file,
                         "--scenario", scen_file, "--speed", str(speed), "--clock-anchor", str(anchor),
                         "--meter-interval", "300", "--prices", prices, "--baseline", "--json", out,
                         "--site-load", measured_file, "--max-real-seconds", str(max_real)], d, total_real / 3, max_real)
        plans = d.query("SELECT json_extract(data, '$.start'), json_extract(data, '$.reasons'), "
                        "json_extract(data, '$.site_limit_kw[0]'), json_extract(data, '$.site_load_kw[0]') "
                        "FROM events WHERE type = 'plan' ORDER BY seq")
        fetches = d.query("SELECT count(*) FROM events WHERE type = 'site_load'")[0][0]
    finally:
        d.stop()
        meter.shutdown()
    rep = dd.load(out)
    os.unlink(out)
    site, base = rep["site"], rep["baseline"]["site"]
    dd.check(fetches >= 50 and meter.requests >= 50, "depotd read the meter (%d fetches logged, %d requests)"
             % (fetches, meter.requests))
    defrost_ms = dd.iso_s(DEFROST[0]) * 1000
    t0 = int(dd.iso_s(site["start"]) * 1000)
    # The report's minutes with the building's load (site.minutesAboveLimit counts them; these say when).
    above = [t0 + m * 60000 for m, kw in enumerate(site["powerKwPerMinute"])
             if kw + value_at(measured, t0 + m * 60000) > limit + 0.001]
    late = [time.strftime("%H:%MZ", time.gmtime(t / 1000)) for t in above
            if not defrost_ms <= t < defrost_ms + 10 * 60000]
    print("minutes above with the building: %d (worst %.2f kW over), %d outside the defrost's first 10 minutes"
          % (site["minutesAboveLimit"], site["worstExceedanceKw"], len(late)))
    dd.check(len(above) == site["minutesAboveLimit"], "the report counts the building (%d = %d)"
             % (len(above), site["minutesAboveLimit"]))
    if defrost:
        dd.check(not late, "no minute above %g kW with the building but in the 10 minutes after the unforecast "
                 "defrost (%s)" % (limit, late[:5] or "none"))
        reacted = [p for p in plans if "site_load" in (p[1] or "") and
                   defrost_ms <= dd.iso_s(p[0]) * 1000 <= defrost_ms + 8 * 60000]
        dd.check(bool(reacted) and reacted[0][2] <= limit - 60 - MARGIN_KW + 1e-6,
                 "a plan for the defrost within 8 minutes (%s), its slot under %g - 60 - %g kW (%s)"
                 % (reacted[0][0] if reacted else "none", limit, MARGIN_KW, reacted[0][2] if reacted else "-"))
    else:
        dd.check(not above, "no minute above %g kW with the building (%d)" % (limit, len(above)))
    dd.check(base["minutesAboveLimit"] == 0, "the baseline, sharing what the building leaves, stays under the site (%d)"
             % base["minutesAboveLimit"])
    for c in rep["circuits"]:
        dd.check(c["minutesAboveLimit"] == 0, "no minute above %s's limit (peak %.1f kW; worst %.2f kW over)"
                 % (c["id"], c["maxKw"], c["worstExceedanceKw"]))
    delivered = sum(v["deliveredKwh"] for v in rep["vehicles"])
    base_delivered = sum(v["deliveredKwh"] for v in rep["baseline"]["vehicles"])
    print("delivered %.1f kWh (baseline %.1f), needs met %d/%d (baseline %d), %d plans, peak with the building "
          "%.1f kW" % (delivered, base_delivered, site["vehiclesMet"], site["vehicles"], base["vehiclesMet"],
                       len(plans), site["siteMaxKw"]))
    dd.check(site["vehiclesMet"] >= base["vehiclesMet"], "needs met %d >= the baseline's %d"
             % (site["vehiclesMet"], base["vehiclesMet"]))
    # The baseline breaks the feeders to deliver what it does (feeders_day.py): more than this depot can have.
    dd.check(delivered >= base_delivered - 0.5, "energy %.1f kWh >= the baseline's %.1f (less 0.5)"
             % (delivered, base_delivered))
    print("%d failure(s)" % dd.failures)
    sys.exit(1 if dd.failures else 0)


if __name__ == "__main__":
    main()
