"""A depot day under depotd's control, end to end: depotd (control on, simulated clock), depotsim playing
examples/sim/scenario-day.json on 20 EVSEs behind a 150 kW limit, real hourly Belgian prices through depotd's
CSV provider. depotsim samples the site's power every simulated minute and computes the uncontrolled
baseline (full power on arrival, the limit shared equally) for the same visits and prices.

Checks: no minute above the limit; every need met by departure; the controlled cost below the baseline by a
margin computed from the scenario: at least a third of the gap between the baseline and the cheapest possible
cost of the same needs (an LP bound, tests/sim/scenario_bound.py); depotd's event log holds the plans with
their inputs, and the profiles it sent were accepted.

Modes (argv[1]):
  day       the plain day
  faults    10 % of stations reject every profile, 10 % drop their connection a third into the run
  mixed     half the stations take A only, PeriodsPerSchedule 8 (examples/sim/depot-day-mixed.json)
  kill      depotd is killed (SIGKILL) a third into the day and restarted 3 real seconds later
  stationmax  the fail-safe is ChargingStationMaxProfile (station maxima that follow the plan) on an uneven depot
            (tests/control/data/depot-stationmax.json: 12 of the 20 EVSEs on two stations), and depotd is killed
            (SIGKILL) a third into the day and restarted 3 real seconds later on the same database, as in `kill`.
            Also checks, from the SetChargingProfile frames, their answers and the station_cap events, that the
            station maxima in force (or in flight, or announced by a write-ahead "sending" event, counted at the
            higher) never sum above the limit, across the restart too; that every cap raise was logged
            ("sending") before its frame; that the restarted depotd restored the caps and went on planning and
            moving them; and that they moved to the loaded stations.
  tight     a tight limit: 40 EVSEs (20 stations x 2) behind 40 kW (tests/control/data/depot-tight.json), so the
            idle EVSEs' 4.2 kW fail-safe floors alone exceed the limit, and a night whose needs do not all fit
            (tests/control/data/scenario-tight.json: the limit binds for much of the night, some needs cannot be
            met). Fail-safe TxDefaultProfile. Instead of "every need met" and the cost margin, checks against
            depotsim's baseline and the LP bound of the same visits: energy delivered >= the baseline's and >= 95 %
            of the LP bound's, needs met >= the baseline's, EUR/kWh <= the baseline's (and no minute above 40 kW).
  tight_stationmax  the same with ChargingStationMaxProfile; also the station maxima checks of `stationmax`
            (their sum never above 40 kW, raises logged before they leave), without the kill.
  trucks, trucks_stationmax  a DC truck depot (tests/control/data/depot-trucks.json: 12 x 150 kW DC behind 600 kW,
            a third of the stations' sum; scenario-trucks.json: 8 midday top-ups that together do not fit, 12
            trucks overnight), with each fail-safe; the checks of `tight` (and the station maxima of
            `tight_stationmax`).

env: DEPOTD, DEPOTSIM, SIM_EXAMPLES, PRICES_CSV, SPEED (default 3000), TEST_DATA (stationmax, tight*, trucks*),
KEEP_DB (copy depotd's database there at the end).
Network: 127.0.0.1 only. Every wait has a deadline.
"""
import bisect
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
from depotd_fixture import Depotd, base_config, hash_password  # noqa: E402

failures = 0
TIGHT_ENERGY_OF_BOUND = 0.95  # tight modes: energy delivered, at least this share of the LP bound's


def check(ok, what):
    global failures
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    failures += not ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class FixedPortDepotd(Depotd):
    """Same as the fixture, on a port chosen up front so stations find it again after a restart."""

    def __init__(self, depotd, config, port):
        super().__init__(depotd, config)
        self.fixed_port = port

    def start(self, timeout=30):
        self._seen.clear()
        self.proc = subprocess.Popen([self.depotd, "-c", self.config_path, "-d", self.db, "-p", str(self.fixed_port)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        import threading
        threading.Thread(target=self._reader, daemon=True).start()
        if not self._seen.wait(timeout):
            raise RuntimeError("depotd did not start:\n" + "".join(self.log[-50:]))
        return self

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def run_depotsim(cmd, d, kill_after, max_real):
    """Runs depotsim (cmd) to its end; with kill_after (real s after the 2.5 s anchor), depotd is killed (SIGKILL)
    then and restarted 3 s later. Checks depotsim exits 0 and prints its report's tail."""
    sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        time.sleep(2.5 + kill_after)
        d.kill()
        print("depotd killed (SIGKILL) at about a third of the day", flush=True)
        time.sleep(3)
        d.start()
        print("depotd restarted", flush=True)
    so, se = sim.communicate(timeout=max_real + 60)
    print(so[-3000:])
    if sim.returncode:
        print(se[-2000:])
    check(sim.returncode == 0, "depotsim run exits 0 (%d)" % sim.returncode)


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "day"
    depotd, depotsim = os.environ["DEPOTD"], os.environ["DEPOTSIM"]
    ex = os.environ["SIM_EXAMPLES"]
    prices = os.environ["PRICES_CSV"]
    speed = float(os.environ.get("SPEED", "3000"))
    depot_file = os.path.join(ex, "depot-day-mixed.json" if mode == "mixed" else "depot-day.json")
    if mode == "stationmax":
        depot_file = os.path.join(os.environ["TEST_DATA"], "depot-stationmax.json")
    scen_file = os.path.join(ex, "scenario-day.json")
    tight = mode in ("tight", "tight_stationmax", "trucks", "trucks_stationmax")
    if tight:
        kind = "trucks" if mode.startswith("trucks") else "tight"
        depot_file = os.path.join(os.environ["TEST_DATA"], "depot-%s.json" % kind)
        scen_file = os.path.join(os.environ["TEST_DATA"], "scenario-%s.json" % kind)
    depot, scen = load(depot_file), load(scen_file)
    stations = []
    for st in depot["stations"]:
        pw_hash = hash_password(depotd, st["password"])
        ids = ["%s%04d" % (st["id"], i + 1) for i in range(st["count"])] if "count" in st else [st["id"]]
        stations += [{"id": i, "boot": "Accepted", "password_hash": pw_hash} for i in ids]
    failsafe = {"failsafe": "TxDefaultProfile", "failsafe_evse_kw": 4.2}
    if mode in ("stationmax", "tight_stationmax", "trucks_stationmax"):
        failsafe = {"failsafe": "ChargingStationMaxProfile", "failsafe_evse_kw": 4.2}

    # The dispatcher knows the vans that do not speak ISO 15118: their departure and energy go in as needs
    # (the others tell depotd themselves with NotifyEVChargingNeeds).
    vehicles, needs, tokens = [], [], []
    for v in scen["visits"]:
        vid = v["ev"]
        vehicles.append({"id": vid, "battery_kwh": v.get("capacityKwh", scen["evDefaults"]["capacityKwh"]),
                         "max_kw": v.get("maxPowerKw", scen["evDefaults"]["maxPowerKw"]), "id_tokens": [v["idToken"]]})
        if not v.get("iso15118"):
            needs.append({"vehicle": vid, "departure": v["departure"], "energy_kwh": v["energyKwh"]})

    anchor = int(time.time() * 1000) + 2500
    port = free_port()
    cfg = base_config(
        stations=stations, log_level="info", call_timeout_s=5,
        timezone="Europe/Brussels",
        tariff={"provider": {"type": "csv", "name": "be-dayahead", "file": prices, "resolution_min": 60},
                "fallback": {"type": "fixed", "name": "flat-fallback", "price": 0.30}},
        control={"site_limit_kw": depot["gridLimitKw"], "slot_minutes": 15, "horizon_h": 24,
                 # Per-EVSE fail-safe: an idle EVSE reserves 6 A x 3 phases for a van that may plug in while
                 # depotd is down; the rest of the limit is free for planned sessions wherever they are.
                 **failsafe,
                 "replan_delay_ms": 20, "vehicles": vehicles, "needs": needs,
                 # A dispatcher's schedule: departures are kept, so no hedge before 8 sessions have ended.
                 "departure_hedge_new_pct": 0,
                 # At thousands of times real speed a solve that runs to a MIP time limit costs simulated hours.
                 "mip_max_binaries": 0, "solver_time_limit_ms": 500},
        clock={"start": scen["start"], "speed": speed, "anchor_unix_ms": anchor})
    out = tempfile.mktemp(prefix="depot-day-", suffix=".json")
    d = FixedPortDepotd(depotd, cfg, port)
    d.start()
    # A slower SPEED (to see what the time compression costs) gets the time its day takes.
    max_real = max(120, int((load_end(scen) - load_start(scen)) / speed) + 60)
    try:
        cmd = [depotsim, "run", "--csms", "ws://127.0.0.1:%d/ocpp" % port, "--depot", depot_file,
               "--scenario", scen_file, "--speed", str(speed), "--clock-anchor", str(anchor),
               "--meter-interval", "300", "--prices", prices, "--baseline", "--json", out,
               "--max-real-seconds", str(max_real), "--drop-delay-ms", "300"]
        if mode == "faults":
            cmd += ["--fault-reject-profiles", "0.1", "--fault-drop", "0.1", "--seed", "7"]
        kill_after = (load_end(scen) - load_start(scen)) / speed / 3 if mode in ("kill", "stationmax") else None
        run_depotsim(cmd, d, kill_after, max_real)
        time.sleep(0.5)
        plans = d.query("SELECT count(*) FROM events WHERE type = 'plan'")[0][0]
        sent = d.query("SELECT count(*) FROM events WHERE type = 'ocpp_out' AND action = 'SetChargingProfile'"
                       " AND msg_type = 2")[0][0]
        accepted = d.query("SELECT count(*) FROM events WHERE type = 'ocpp_in' AND action = 'SetChargingProfile'"
                           " AND msg_type = 3 AND data LIKE '%Accepted%'")[0][0]
        comp = d.query("SELECT count(*) FROM events WHERE type = 'compensation'")[0][0]
        risk = d.query("SELECT count(*) FROM events WHERE type = 'departure_at_risk'")[0][0]
        d_sent_a = d.query("SELECT count(*) FROM events WHERE type = 'ocpp_out' AND action = 'SetChargingProfile'"
                           " AND msg_type = 2 AND data LIKE '%\"chargingRateUnit\":\"A\"%'")[0][0]
        last_plan = d.query("SELECT data FROM events WHERE type = 'plan' ORDER BY seq DESC LIMIT 1")
        cap_log = d.query("SELECT seq, type, msg_type, message_id, station, data FROM events WHERE (action = "
                          "'SetChargingProfile' AND type IN ('ocpp_out', 'ocpp_in')) OR type IN ('station_cap', 'start')"
                          " ORDER BY seq")
        restart_seq = d.query("SELECT coalesce(max(seq), 0) FROM events WHERE type = 'start'")[0][0]
        after_restart = d.query("SELECT (SELECT count(*) FROM events WHERE type = 'plan' AND seq > ?1), (SELECT count(*)"
                                " FROM events WHERE type = 'station_cap' AND seq > ?1 AND data LIKE '%\"accepted\"%')",
                                (restart_seq,))[0]
        restored = any("restored from the event log" in line for line in d.log)
        plan_ids = [r[0] for r in d.query("SELECT json_extract(data, '$.plan') FROM events WHERE type = 'plan' ORDER BY seq")]
        floors = d.query("SELECT json_extract(data, '$.floors'), json_extract(data, '$.reserved'), json_extract(data, "
                         "'$.lp_site_limit_kw[0]'), json_extract(data, '$.result.caps_pass') FROM events WHERE type = "
                         "'plan' AND json_array_length(data, '$.sessions') > 0 ORDER BY seq") if tight else []
    finally:
        if os.environ.get("KEEP_DB"):
            import shutil
            shutil.copy(d.db, os.environ["KEEP_DB"])
        d.stop()
        depotd_log = list(d.log)
    rep = load(out)
    if os.environ.get("KEEP_REPORT"):  # depotsim's report (per-minute site power, per vehicle), to diagnose
        import shutil
        shutil.copy(out, os.environ["KEEP_REPORT"])
    os.unlink(out)
    site, base = rep["site"], rep.get("baseline", {}).get("site", rep.get("baseline", {}))
    print("controlled: cost %.2f EUR, peak %.1f kW, %d/%d met; baseline: cost %.2f EUR, peak %.1f kW"
          % (site["costEur"], site["maxKw"], site["vehiclesMet"], site["vehicles"], base.get("costEur", float("nan")),
             base.get("maxKw", float("nan"))))
    print("depotd: %d plans, %d SetChargingProfile sent, %d accepted, %d compensation events, %d at-risk events"
          % (plans, sent, accepted, comp, risk))
    check(site["minutesAboveLimit"] == 0, "no simulated minute above the %g kW limit (worst %.2f kW over; %s)"
          % (depot["gridLimitKw"], site["worstExceedanceKw"], minutes_above(site) or "none"))
    check(site["vehicles"] == len(scen["visits"]), "every visit plugged in (%d)" % site["vehicles"])
    # depotd sees energy through meter values every 5 simulated minutes (up to ~0.9 kWh at 11 kW); a need counts
    # as met within 0.5 kWh.
    short = [(v["ev"], v["requestedKwh"] - v["deliveredKwh"]) for v in rep["vehicles"]
             if v["requestedKwh"] - v["deliveredKwh"] > 0.5]
    if not tight:
        check(not short, "every need met by departure within 0.5 kWh (%d of %d met to 99 %%; short: %s)"
              % (site["vehiclesMet"], site["vehicles"], ", ".join("%s %.2f kWh" % s for s in short) or "none"))
    check(plans >= 20 and sent >= 20, "depotd planned (%d plans) and sent profiles (%d)" % (plans, sent))
    if last_plan:
        p = json.loads(last_plan[0][0])
        check(all(k in p for k in ("prices", "price_sources", "site_limit_kw", "sessions", "result")),
              "each plan event carries its inputs (prices with sources, limits, sessions) and its result")
    if tight:
        # Not every need fits: the LP bound's cost buys more energy than the baseline's, so compare energy,
        # needs met and the price per kWh instead of the cost margin.
        check_tight(site, base, short, scenario_bound(depot_file, scen_file, prices, required=True))
        print_floors(floors)
    else:
        # The margin comes from the scenario: the LP bound says how much cheaper the same needs can be at best.
        bound = scenario_bound(depot_file, scen_file, prices)
        if bound is not None and mode in ("day", "mixed") and bound.get("boundEnergyKwh"):
            # Issue 14 point 1: with every station following its profiles and depotd up all day, the price per
            # kWh is within 3 % of the LP bound's (faults, kill and stationmax lose control for a part of the day).
            eur_kwh, lp_eur_kwh = site["costEur"] / site["energyKwh"], bound["boundCostEur"] / bound["boundEnergyKwh"]
            check(eur_kwh <= lp_eur_kwh * 1.03, "%.4f EUR/kWh within 3 %% of the LP bound's %.4f (%+.1f %%)"
                  % (eur_kwh, lp_eur_kwh, (eur_kwh / lp_eur_kwh - 1) * 100))
        if bound is not None:
            bound = bound["boundCostEur"]
            margin = (base["costEur"] - bound) / 3
            check(site["costEur"] <= base["costEur"] - margin,
                  "cost %.2f EUR <= baseline %.2f - a third of (baseline - LP bound %.2f) = %.2f"
                  % (site["costEur"], base["costEur"], bound, base["costEur"] - margin))
        else:
            check(site["costEur"] < base["costEur"], "cost below the baseline")
    if mode == "mixed":
        a_only = d_sent_a
        check(a_only > 0, "A-only stations got their profiles in A (%d SetChargingProfile in A)" % a_only)
    if mode in ("tight_stationmax", "trucks_stationmax"):
        check_caps(cap_log, depot["gridLimitKw"], runs=1, loaded=())
    if mode in ("kill", "stationmax"):
        check(all(b > a for a, b in zip(plan_ids, plan_ids[1:])), "plan numbers go on across the restart (%s)"
              % [b for a, b in zip(plan_ids, plan_ids[1:]) if b <= a][:3])
    if mode == "stationmax":
        check_caps(cap_log, depot["gridLimitKw"])
        check(restored and after_restart[0] >= 5 and after_restart[1] >= 1,
              "after the restart depotd restored the station caps from its log (%s) and went on: %d plans, %d cap "
              "changes accepted" % ("yes" if restored else "no", after_restart[0], after_restart[1]))
    if mode == "faults":
        check(comp >= 1, "stations that rejected profiles were planned around (%d compensation events)" % comp)
    if failures:  # what depotd said last (its whole log with KEEP_LOG=file)
        print("depotd's log, last 30 lines:\n" + "".join(depotd_log[-30:]))
    if os.environ.get("KEEP_LOG"):
        with open(os.environ["KEEP_LOG"], "w") as f:
            f.writelines(depotd_log)
    print("%d failed" % failures)
    return 1 if failures else 0


def check_tight(site, base, short, bound):
    """Where not every need fits, what the depot got against the uncontrolled baseline and the LP bound of the
    same visits (energy first, then needs met, then price per kWh)."""
    e, be, lp = site["energyKwh"], base["energyKwh"], bound["boundEnergyKwh"]
    eur_kwh = site["costEur"] / e if e > 0 else float("inf")
    base_eur_kwh = base["costEur"] / be if be > 0 else float("inf")
    print("tight: energy %.1f kWh (depotd) / %.1f (baseline) / %.1f (LP bound, %.1f needed); met %d / %d (baseline) "
          "of %d; %.4f / %.4f EUR/kWh (LP bound %.4f); %d minutes above %g kW"
          % (e, be, lp, bound["needKwh"], site["vehiclesMet"], base["vehiclesMet"], site["vehicles"], eur_kwh,
             base_eur_kwh, bound["boundCostEur"] / lp if lp > 0 else float("nan"), site["minutesAboveLimit"],
             site["gridLimitKw"]), flush=True)
    print("short by more than 0.5 kWh: %s" % (", ".join("%s %.2f" % s for s in short) or "none"))
    check(not bound["boundMeetsEveryNeed"], "the scenario is tight: the LP bound cannot meet every need either "
          "(%.1f of %.1f kWh)" % (lp, bound["needKwh"]))
    check(e >= be, "energy delivered %.1f kWh >= the baseline's %.1f" % (e, be))
    check(e >= TIGHT_ENERGY_OF_BOUND * lp, "energy delivered %.1f kWh >= %d %% of the LP bound's %.1f (%.1f), got %.1f %%"
          % (e, TIGHT_ENERGY_OF_BOUND * 100, lp, TIGHT_ENERGY_OF_BOUND * lp, 100 * e / lp if lp else 0))
    check(site["vehiclesMet"] >= base["vehiclesMet"], "needs met %d >= the baseline's %d"
          % (site["vehiclesMet"], base["vehiclesMet"]))
    check(eur_kwh <= base_eur_kwh, "cost per kWh %.4f EUR <= the baseline's %.4f" % (eur_kwh, base_eur_kwh))


def print_floors(rows):
    """What the plans with sessions kept for the idle EVSEs (plan event "floors"), reserved ("reserved", by why)
    and left the LP in their first slot, and how many re-planned with station circuits (result.caps_pass 2):
    for whoever reads a failure."""
    if not rows:
        print("no plan with sessions")
        return
    fl = [json.loads(f) for f, _, _, _ in rows if f]
    res, why = [], {}
    for _, x, _, _ in rows:
        r = json.loads(x) if x else []
        res.append(sum(e.get("kw", 0) for e in r))
        for e in r:
            why[e.get("why")] = max(why.get(e.get("why"), 0), e.get("kw", 0))
    lim = [x for _, _, x, _ in rows if x is not None]

    def span(xs):
        return "%g-%g" % (min(xs), max(xs)) if xs else "-"
    print("plans with sessions: %d; floors: idle EVSEs %s, kept %s (none kept in %d plans), budget %s kW, kept %s kW; "
          "reserved %s kW (largest entry by why: %s); LP limit in the first slot %s kW; caps pass 2 in %d plans"
          % (len(rows), span([f["idle_evses"] for f in fl]), span([f["kept"] for f in fl]),
             sum(f["kept"] == 0 < f["idle_evses"] for f in fl), span([f["budget_kw"] for f in fl]),
             span([f["kept_kw"] for f in fl]), span([round(r, 2) for r in res]),
             ", ".join("%s %g" % kv for kv in sorted(why.items())) or "none", span(lim),
             sum(1 for _, _, _, c in rows if c == 2)), flush=True)


def wire_cap(cp, station_phases=3):
    """A ChargingStationMaxProfile from its frame as [(unix ms, W), ...]: the station's limit over time."""
    sch = cp["chargingSchedule"][0]
    t0 = iso_s(sch["startSchedule"]) * 1000
    amps = sch["chargingRateUnit"] == "A"
    return [(t0 + p["startPeriod"] * 1000,
             p["limit"] * (p.get("numberPhases", station_phases) * 230.0 if amps else 1.0))
            for p in sch["chargingSchedulePeriod"]]


def cap_at(cap, t):
    """The limit of a cap schedule at t (its first period's before it starts, the last one's for ever)."""
    k = bisect.bisect_right(cap, (t, float("inf"))) - 1
    return cap[max(k, 0)][1]


def same_cap(a, b, now):
    """Two caps that allow the same from now on (the frame is backdated: compared where both are defined)."""
    ts = sorted({t for t, _ in a + b if t >= now} | {now})
    return all(abs(cap_at(a, t) - cap_at(b, t)) < 1.5 for t in ts)


def check_caps(log, limit_kw, runs=2, loaded=("DEPOTA0001", "DEPOTA0002")):
    """The station maxima in force, from the event log, across depotd's restart (the stations keep their caps). A cap
    is a schedule (ChargingStationMaxProfile periods that follow the plan); per station, at every moment, the last
    accepted one, or a higher one that may be in force any moment: a frame not answered (in flight, or lost with the
    connection or the kill), or a raise depotd announced ("sending" station_cap event with its periods, the
    write-ahead) whose frame the log may never show. An accepted answer supersedes what was sent before it (same
    profile id). Their sum, at every step and every moment after it, and depotd's own count in its station_cap
    events, stay under the limit; and every raise was announced before its frame."""
    accepted, pending, sent_at = {}, {}, {}
    worst, n_caps, steps, starts, raises, unannounced, multi = 0.0, 0, 0, 0, 0, [], 0
    peak, sums = {}, []

    def counted_at_all(s, t):
        return max(([cap_at(accepted[s], t)] if s in accepted else [0]) + [cap_at(c, t) for _, c in pending.get(s, [])])

    def sum_worst(now):
        caps = list(accepted.values()) + [c for p in pending.values() for _, c in p]
        ts = sorted({t for c in caps for t, _ in c if t >= now} | {now})
        stations = set(accepted) | set(pending)
        return max(sum(counted_at_all(s, t) for s in stations) for t in ts)

    time_ms = 0  # the planning clock, as the newest station_cap event says
    for seq, typ, msg_type, mid, station, data in log:
        f = json.loads(data)
        if typ == "start":
            starts += 1
            continue
        if typ == "station_cap":
            time_ms = f.get("at", time_ms)
            sums.append(f)
            cap = [(t, kw * 1000) for t, kw in f.get("periods", [])] or [(time_ms, f["kw"] * 1000)]
            if f["what"] == "sending":
                pending.setdefault(station, []).append([None, cap])
            elif f["what"] == "withheld":
                p = pending.get(station, [])
                k = next((k for k, (m, pc) in enumerate(p) if m is None and same_cap(pc, cap, time_ms)), None)
                if k is not None:
                    del p[k]
            continue
        if typ == "ocpp_out" and msg_type == 2:
            cp = f[3].get("chargingProfile", {})
            if cp.get("chargingProfilePurpose") != "ChargingStationMaxProfile":
                continue
            cap = wire_cap(cp)
            # Sent now: its first period starts clock_skew_tolerance_s (300 s) earlier for a station whose clock
            # is behind (README "Clock skew"); these stations share depotd's clock, so that stretch is past.
            time_ms = max(time_ms, cap[0][0] + 300000)
            multi += len({w for _, w in cap}) > 1
            p = pending.setdefault(station, [])
            k = next((k for k, (m, pc) in enumerate(p) if m is None and same_cap(pc, cap, time_ms)), None)
            if k is not None:
                p[k][0] = mid  # the announced raise leaves
            else:
                ts = sorted({t for t, _ in cap if t >= time_ms} | {time_ms})
                if station in accepted and any(cap_at(cap, t) > counted_at_all(station, t) + 1 for t in ts):
                    unannounced.append((seq, station, max(w for _, w in cap)))
                p.append([mid, cap])
            raises += k is not None
            sent_at[mid] = station
            n_caps += 1
        elif typ == "ocpp_in" and mid in sent_at:
            station = sent_at.pop(mid)
            p = pending.get(station, [])
            k = next((k for k, (m, _) in enumerate(p) if m == mid), None)
            if k is None:
                continue
            cap = p[k][1]
            if msg_type == 3 and f[2].get("status") == "Accepted":
                accepted[station] = cap
                peak[station] = max(peak.get(station, 0), max(w for _, w in cap))
                del p[:k + 1]
            else:
                del p[k]
        else:
            continue
        steps += 1
        worst = max(worst, sum_worst(time_ms))
    check(starts == runs, "depotd ran %d time(s) on the same database (%d start events)" % (runs, starts))
    check(n_caps > 20 and worst <= limit_kw * 1000 + 1,
          "station maxima in force, in flight or announced never sum above %g kW at any moment%s (%d "
          "ChargingStationMaxProfile sent, %d of them with periods that follow the plan, %d steps, worst %.1f kW)"
          % (limit_kw, ", across the restart too" if runs > 1 else "", n_caps, multi, steps, worst / 1000))
    check(raises >= 5 and not unannounced,
          "every cap raise was logged (station_cap \"sending\") before its frame went out (%d raises; unannounced: %s)"
          % (raises, unannounced[:3] or "none"))
    over = [e for e in sums if e["sum_kw"] > e["limit_kw"] + 0.001]
    check(len(sums) > 20 and not over, "depotd's own count (station_cap events, unseen stations included) never above "
          "the limit (%d events, %d over)" % (len(sums), len(over)))
    if loaded:
        top = max(peak.get(s, 0) for s in loaded)
        check(top > limit_kw * 1000 / 10 * 2, "the caps followed the cars: a 6-EVSE station got %.1f kW (equal "
              "share %.1f kW)" % (top / 1000, limit_kw / 10))


def minutes_above(site, most=5):
    """The first simulated minutes above the limit with their kW, to find the plans around them in the log."""
    from datetime import datetime, timedelta
    t0 = datetime.fromisoformat(site["start"].replace("Z", "+00:00"))
    over = [(m, kw) for m, kw in enumerate(site["powerKwPerMinute"]) if kw > site["gridLimitKw"] + 1e-6]
    return ", ".join("%s %.2f kW" % ((t0 + timedelta(minutes=m)).strftime("%H:%MZ"), kw) for m, kw in over[:most])


def load_start(scen):
    return iso_s(scen["start"])


def load_end(scen):
    return iso_s(scen["end"])


def iso_s(s):
    from datetime import datetime
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def scenario_bound(depot_file, scen_file, prices, required=False):
    """The LP bound of the scenario's visits (tests/sim/scenario_bound.py bound_for: boundCostEur, the cheapest
    cost of the most energy deliverable, boundEnergyKwh, ...), None without scipy unless required."""
    here = os.path.join(os.path.dirname(__file__), "..", "sim")
    sys.path.insert(0, here)
    try:
        import scenario_bound as sb
    except ImportError:
        if required:
            raise
        return None
    return sb.bound_for(os.environ["DEPOTSIM"], depot_file, prices, scenario=scen_file)


if __name__ == "__main__":
    sys.exit(main())
