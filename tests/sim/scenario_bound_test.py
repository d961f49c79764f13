"""scenario_bound: a hand-computed case (two vans, three hourly prices, one van's worth of site), a need that
cannot be met, and the example depot day (examples/sim/scenario-day.json) where a controller that shifts load to
cheap hours must have room to beat the baseline clearly.

env: DEPOTSIM, SIM_EXAMPLES (examples/sim), PRICES_EXAMPLES (examples/prices).
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_bound as sb  # noqa: E402

failures = 0


def check(ok, what):
    global failures
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    failures += not ok


def near(a, b, tol=1e-3):
    return a is not None and abs(a - b) <= tol


def hand_case(depotsim, tmp):
    depot = os.path.join(tmp, "depot.json")
    scen = os.path.join(tmp, "scenario.json")
    prices = os.path.join(tmp, "prices.csv")
    with open(depot, "w") as f:
        json.dump({"gridLimitKw": 11, "stations": [{"id": "S", "evses": 2,
                                                    "ac": {"phases": 3, "maxCurrentA": 32, "voltageV": 230}}]}, f)
    with open(prices, "w") as f:
        f.write("time,price\n2026-01-01T00:00:00Z,0.30\n2026-01-01T01:00:00Z,0.10\n2026-01-01T02:00:00Z,0.20\n"
                "2026-01-01T03:00:00Z,0.50\n")
    ev = {"capacityKwh": 100, "maxPowerKw": 11, "efficiency": 1, "arrivalSoc": 0.1}
    visits = [{"ev": "A", "arrival": "2026-01-01T00:00:00Z", "departure": "2026-01-01T02:00:00Z", "energyKwh": 11},
              {"ev": "B", "arrival": "2026-01-01T01:00:00Z", "departure": "2026-01-01T03:00:00Z", "energyKwh": 11}]
    with open(scen, "w") as f:
        json.dump({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z", "evDefaults": ev,
                   "visits": visits}, f)
    r = sb.bound_for(depotsim, depot, prices, scenario=scen)
    # Baseline: A takes hour 0 at 0.30 (3.30), B hour 1 at 0.10 (1.10). Bound: the site fits one van an hour;
    # A in hour 1 (1.10) and B in hour 2 (2.20) beats A in hour 0 and B in hour 1 (4.40).
    check(near(r["baselineCostEur"], 4.40), "baseline 4.40 EUR (%s)" % r["baselineCostEur"])
    check(near(r["boundCostEur"], 3.30), "bound 3.30 EUR: the site limit binds in the cheap hour (%.4f)"
          % r["boundCostEur"])
    check(r["boundMeetsEveryNeed"] and near(r["boundEnergyKwh"], 22), "bound delivers both needs")
    check(near(sb.required_max_cost(4.40, 3.30, 0.3), 4.07), "required max cost 4.40 - 0.3 x 1.10 = 4.07")

    # A need that cannot fit its visit: the LP delivers what it can (11 kWh) and says so.
    visits[1]["energyKwh"] = 30
    with open(scen, "w") as f:
        json.dump({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z", "evDefaults": ev,
                   "visits": visits}, f)
    r = sb.bound_for(depotsim, depot, prices, scenario=scen)
    # B can take at most 22 kWh in its two hours; the site's 33 kWh over three hours go A (hour 0) + B (1, 2).
    check(near(r["boundEnergyKwh"], 33), "an impossible need: as much energy as fits first (%.2f kWh of %.2f)"
          % (r["boundEnergyKwh"], r["needKwh"]))
    check(near(r["boundCostEur"], 6.60), "then the cheapest way to deliver it: 3.30 + 1.10 + 2.20 (%.4f)"
          % r["boundCostEur"])
    check(not r["boundMeetsEveryNeed"], "an impossible need is reported as not met")


def example_day(depotsim, ex, px):
    r = sb.bound_for(depotsim, os.path.join(ex, "depot-day.json"), os.path.join(px, "be-dayahead-sample.csv"),
                     scenario=os.path.join(ex, "scenario-day.json"))
    print(json.dumps(r))
    check(r["baselineVehicles"] == 30 and r["baselineVehiclesMet"] == 30, "baseline: all 30 visits plugged and met")
    check(r["baselineMinutesAboveLimit"] == 0 and r["baselineMaxKw"] <= 150.001,
          "baseline: the shared site limit is never exceeded (peak %.1f kW)" % r["baselineMaxKw"])
    check(r["boundMeetsEveryNeed"] and r["pricesCoverRun"], "every need fits together under 150 kW, prices cover")
    gap = r["baselineCostEur"] - r["boundCostEur"]
    check(gap > 0.3 * r["baselineCostEur"],
          "shifting to cheap hours can save over 30 %% (baseline %.2f, bound %.2f EUR)"
          % (r["baselineCostEur"], r["boundCostEur"]))


def main():
    depotsim = os.environ["DEPOTSIM"]
    tmp = tempfile.mkdtemp(prefix="depotsim-bound-")
    try:
        hand_case(depotsim, tmp)
        example_day(depotsim, os.environ["SIM_EXAMPLES"], os.environ["PRICES_EXAMPLES"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
