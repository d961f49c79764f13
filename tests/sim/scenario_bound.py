#!/usr/bin/python3
"""What a controller can be held to on a scenario: the uncontrolled baseline's cost (depotsim baseline) and the
lowest energy cost any controller could reach (a linear program), so a test can require a controlled run to
land a given share of the way from the one to the other:

    controlled cost <= baseline - fraction x (baseline - bound)      (required_max_cost, fraction 0.3 by default)

The bound: every plugged vehicle (as `depotsim baseline` plugs them: same EVSEs, same departures) gets its need
by departure at no more than its own maximum power capped by its EVSE (taper ignored), the site stays under its
limit, each kWh paid at the price in force. Time is cut at every price change, arrival and departure, so within a
piece everything is constant and the LP over energies per piece is the exact continuous optimum: no controller
(whatever its slot length) can do better. When some needs cannot be met at all, the LP first delivers as much as
possible, then minimises cost for that energy (and says so).

Library: bound_for(depotsim, depot, prices, scenario=... | acn=..., from_=..., hours=...) -> dict;
         lp_bound_cost(depot, scenario, prices[, depotsim]) -> EUR; required_max_cost(baseline, bound, fraction).
CLI:     scenario_bound.py --depotsim BIN --depot F (--scenario F | --acn F --from T --hours H) --prices CSV
         [--grid-limit-kw KW] [--fraction 0.3] [--json]
Needs scipy (Debian: python3-scipy) and runs with the system python3.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix
except ImportError as e:  # say what to do; still an ImportError, so an importer can fall back
    raise ImportError("scenario_bound needs numpy and scipy (Debian: apt install python3-scipy, then run "
                      "/usr/bin/python3): %s" % e) from e

MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
DELIVER_WEIGHT = 1000.0  # EUR per kWh not delivered: far above any price, so energy comes first, then cost


def parse_time_ms(text):
    """RFC 3339 ('2022-09-26T05:30:00Z', fractions, offsets) or ENTSO-E '01jan2022 00:00:00' read as UTC, as
    depotsim reads them."""
    t = text.strip()
    if len(t) >= 18 and t[2:5].lower() in MONTHS and t[5:9].isdigit():
        d = datetime.datetime(int(t[5:9]), MONTHS[t[2:5].lower()], int(t[0:2]), int(t[10:12]), int(t[13:15]),
                              int(t[16:18]), tzinfo=datetime.timezone.utc)
    else:
        d = datetime.datetime.fromisoformat(t.replace("Z", "+00:00").replace("z", "+00:00"))
        if d.tzinfo is None:
            raise ValueError("time without offset: %s" % text)
    return int(round(d.timestamp() * 1000))


def read_prices(path):
    """[(start_ms, eur_per_kwh)] ascending, from a depotsim price CSV (header line allowed)."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or "," not in line:
                continue
            t, p = line.split(",", 1)
            try:
                out.append((parse_time_ms(t), float(p.split(",")[0])))
            except ValueError:
                if n == 1:
                    continue
                raise ValueError("%s:%d: cannot read %r" % (path, n, line))
    out.sort()
    if not out:
        raise ValueError("%s: no prices" % path)
    return out


def price_at(prices, t_ms):
    """The price in force at t (None before the first one), like sim_prices_at."""
    lo, hi = 0, len(prices) - 1
    if t_ms < prices[0][0]:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if prices[mid][0] <= t_ms:
            lo = mid
        else:
            hi = mid - 1
    return prices[lo][1]


def run_baseline(depotsim, depot, scenario=None, acn=None, from_=None, hours=None, prices=None,
                 grid_limit_kw=None, timeout=120):
    """`depotsim baseline --json` and its report as a dict."""
    fd, out = tempfile.mkstemp(prefix="depotsim-baseline-", suffix=".json")
    os.close(fd)
    cmd = [depotsim, "baseline", "--depot", depot, "--json", out]
    if scenario:
        cmd += ["--scenario", scenario]
    if acn:
        cmd += ["--acn", acn]
    if from_:
        cmd += ["--from", from_]
    if hours:
        cmd += ["--hours", str(hours)]
    if prices:
        cmd += ["--prices", prices]
    if grid_limit_kw is not None:
        cmd += ["--grid-limit-kw", str(grid_limit_kw)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("depotsim baseline failed (%d): %s" % (p.returncode, p.stderr.strip()))
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def lp_bound(vehicles, prices, limit_kw, start_ms, end_ms):
    """vehicles: [{arrival_ms, departure_ms, need_kwh, max_kw}]. Returns {costEur, energyKwh, needKwh, met, pieces}.
    limit_kw <= 0: no site limit. Energy outside [start_ms, end_ms) is not available (the run ends there)."""
    cuts = {start_ms, end_ms}
    cuts.update(t for t, _ in prices if start_ms < t < end_ms)
    for v in vehicles:
        for t in (v["arrival_ms"], v["departure_ms"]):
            if start_ms < t < end_ms:
                cuts.add(t)
    cuts = sorted(cuts)
    pieces = list(zip(cuts[:-1], cuts[1:]))
    cols, cost, upper, rows_v, rows_p = [], [], [], [], []
    unpriced = False
    for i, v in enumerate(vehicles):
        for k, (a, b) in enumerate(pieces):
            if a >= v["arrival_ms"] and b <= v["departure_ms"]:
                p = price_at(prices, a)
                if p is None:
                    unpriced, p = True, 0.0
                cols.append((i, k))
                cost.append(p - DELIVER_WEIGHT)
                upper.append(v["max_kw"] * (b - a) / 3600000.0)
    n = len(cols)
    need = [v["need_kwh"] for v in vehicles]
    if n == 0:
        return {"costEur": 0.0, "energyKwh": 0.0, "needKwh": sum(need), "met": not any(x > 0 for x in need),
                "pieces": len(pieces), "unpriced": unpriced}
    # Rows 0..V-1: a vehicle's energy <= its need. Rows V..: the site's energy per piece <= limit x length.
    r, c, d, b_ub = [], [], [], list(need)
    for j, (i, k) in enumerate(cols):
        r.append(i)
        c.append(j)
        d.append(1.0)
    if limit_kw > 0:
        for j, (i, k) in enumerate(cols):
            r.append(len(vehicles) + k)
            c.append(j)
            d.append(1.0)
        b_ub += [limit_kw * (b - a) / 3600000.0 for a, b in pieces]
    A = coo_matrix((d, (r, c)), shape=(len(b_ub), n)).tocsr()
    res = linprog(np.array(cost), A_ub=A, b_ub=np.array(b_ub), bounds=list(zip([0.0] * n, upper)), method="highs")
    if res.status != 0:
        raise RuntimeError("LP not solved: %s" % res.message)
    x = res.x
    energy = float(x.sum())
    money = float(sum(x[j] * (cost[j] + DELIVER_WEIGHT) for j in range(n)))
    got = [0.0] * len(vehicles)
    for j, (i, k) in enumerate(cols):
        got[i] += x[j]
    met = all(got[i] >= need[i] * 0.99 - 1e-6 for i in range(len(vehicles)))
    return {"costEur": money, "energyKwh": energy, "needKwh": sum(need), "met": met, "pieces": len(pieces),
            "unpriced": unpriced}


def vehicles_from_report(report):
    """The plugged vehicles of a depotsim report, as lp_bound wants them."""
    out = []
    for v in report["vehicles"]:
        if not v.get("plugged"):
            continue
        out.append({"ev": v["ev"], "arrival_ms": parse_time_ms(v["arrival"]), "departure_ms": parse_time_ms(v["departure"]),
                    "need_kwh": v["requestedKwh"], "max_kw": v["maxPowerKw"]})
    return out


def bound_for(depotsim, depot, prices, scenario=None, acn=None, from_=None, hours=None, grid_limit_kw=None):
    """Baseline and bound of one scenario: {baselineCostEur, boundCostEur, ...}."""
    rep = run_baseline(depotsim, depot, scenario=scenario, acn=acn, from_=from_, hours=hours, prices=prices,
                       grid_limit_kw=grid_limit_kw)
    site = rep["site"]
    start = parse_time_ms(site["start"])
    end = start + len(site["powerKwPerMinute"]) * 60000
    veh = vehicles_from_report(rep)
    lp = lp_bound(veh, read_prices(prices), site["gridLimitKw"], start, end)
    return {
        "baselineCostEur": site.get("costEur"), "baselineEnergyKwh": site["energyKwh"], "baselineMaxKw": site["maxKw"],
        "baselineMinutesAboveLimit": site["minutesAboveLimit"], "baselineVehicles": site["vehicles"],
        "baselineVehiclesMet": site["vehiclesMet"], "gridLimitKw": site["gridLimitKw"],
        "boundCostEur": lp["costEur"], "boundEnergyKwh": lp["energyKwh"], "needKwh": lp["needKwh"],
        "boundMeetsEveryNeed": lp["met"], "plugged": len(veh), "unplugged": site["vehicles"] - len(veh),
        "lpPieces": lp["pieces"], "pricesCoverRun": not lp["unpriced"],
    }


def lp_bound_cost(depot, scenario, prices, depotsim=None):
    """The bound alone, EUR (depotsim: the argument or $DEPOTSIM)."""
    return bound_for(depotsim or os.environ["DEPOTSIM"], depot, prices, scenario=scenario)["boundCostEur"]


def required_max_cost(baseline, bound, fraction=0.3):
    """The most a controlled run may cost: `fraction` of the way from the baseline down to the bound."""
    return baseline - fraction * (baseline - bound)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--depotsim", default=os.environ.get("DEPOTSIM", "depotsim"))
    ap.add_argument("--depot", required=True)
    ap.add_argument("--scenario")
    ap.add_argument("--acn")
    ap.add_argument("--from", dest="from_")
    ap.add_argument("--hours", type=float)
    ap.add_argument("--prices", required=True)
    ap.add_argument("--grid-limit-kw", type=float)
    ap.add_argument("--fraction", type=float, default=0.3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if bool(a.scenario) == bool(a.acn):
        ap.error("give --scenario or --acn")
    r = bound_for(a.depotsim, a.depot, a.prices, scenario=a.scenario, acn=a.acn, from_=a.from_, hours=a.hours,
                  grid_limit_kw=a.grid_limit_kw)
    if r["baselineCostEur"] is not None:
        r["requiredMaxCostEur"] = required_max_cost(r["baselineCostEur"], r["boundCostEur"], a.fraction)
        r["fraction"] = a.fraction
    if a.json:
        print(json.dumps(r, indent=2))
        return 0
    print("%-30s %10.2f EUR  %9.2f kWh  %d/%d met  peak %.1f kW, %d min above %.0f kW"
          % ("baseline (uncontrolled)", r["baselineCostEur"] or float("nan"), r["baselineEnergyKwh"],
             r["baselineVehiclesMet"], r["baselineVehicles"], r["baselineMaxKw"], r["baselineMinutesAboveLimit"],
             r["gridLimitKw"]))
    print("%-30s %10.2f EUR  %9.2f kWh  %s" % ("lower bound (LP, exact)", r["boundCostEur"], r["boundEnergyKwh"],
                                               "every need met" if r["boundMeetsEveryNeed"]
                                               else "NOT every need can be met (%.2f kWh needed)" % r["needKwh"]))
    if "requiredMaxCostEur" in r:
        print("%-30s %10.2f EUR  (baseline - %.2f x (baseline - bound))" % ("a controlled run must cost <=",
                                                                           r["requiredMaxCostEur"], a.fraction))
    if r["unplugged"]:
        print("%d vehicles found no free EVSE (left out of both)" % r["unplugged"])
    if not r["pricesCoverRun"]:
        print("warning: the prices do not cover the whole run (unpriced time counts as free)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
