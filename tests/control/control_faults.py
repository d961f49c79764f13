"""Chargers that do not do as told, end to end: depotd (control on, simulated clock) and depotsim playing
tests/control/data/scenario-faults.json (six vans on six single-EVSE stations behind 40 kW), real hourly
Belgian prices through depotd's CSV provider. depotsim picks the faulty station with --seed and names it on
stderr; the checks read depotd's SQLite event log and depotsim's per-minute site power.

Modes (argv[1]):
  noncompliant  one station accepts its profiles but draws at full power anyway (--fault-ignore-profiles):
                depotd logs `noncompliant` for that station (and no other), a later plan reserves the measured
                draw (the other sessions' planned kW + the reservations <= the limit in every slot), and once
                that plan is applied no simulated minute is above the limit (the faulty draw alone fits).
                Sticky: VAN-F7, a second session on that station later, is planned around from its first plan
                (reserved as noncompliant, never planned as controlled) without a new detection; it gets a probe
                profile, ignores it, and the station is never trusted again (no `compliant` event).
  composite     control.verify_composite on, one station answers GetCompositeSchedule with its hardware
                maximum (--fault-wrong-composite): `composite_mismatch` and a compensation for that station,
                none for the honest ones, which were verified too.
The composite run also gives VAN-F7 (in at 13:24) a stale dispatcher need, departure 12:00, as a vehicle's
earlier visit leaves behind: it must not apply to the later session (need_source "default", never "dispatcher").
The noncompliant run also re-runs logged plans with `depotd --replay-plan N` (the same plan; a copy of the
log with a need halved gives a different one).
Energy drift rides along: with control.drift_kwh 0.3 and power drift off (composite), plans give
`energy_drift` among their reasons; with drift_kwh 1000 (noncompliant) never.

env: DEPOTD, DEPOTSIM, TEST_DATA (tests/control/data), PRICES_CSV, SPEED (default 2000).
Network: 127.0.0.1 only. Every wait has a deadline.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
from depotd_fixture import Depotd, base_config, hash_password  # noqa: E402

failures = 0
SEED = "1"  # with six stations and a fraction of 0.17 this picks exactly one (the test checks it)


def check(ok, what):
    global failures
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    failures += not ok


def load(path):
    with open(path) as f:
        return json.load(f)


def iso_ms(s):
    from datetime import datetime
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "noncompliant"
    if mode not in ("noncompliant", "composite"):
        print("mode: noncompliant or composite")
        return 2
    depotd, depotsim = os.environ["DEPOTD"], os.environ["DEPOTSIM"]
    data = os.environ["TEST_DATA"]
    prices = os.environ["PRICES_CSV"]
    speed = float(os.environ.get("SPEED", "2000"))
    depot_file = os.path.join(data, "depot-faults.json")
    scen_file = os.path.join(data, "scenario-faults.json")
    depot, scen = load(depot_file), load(scen_file)
    limit_kw = depot["gridLimitKw"]
    st = depot["stations"][0]
    pw_hash = hash_password(depotd, st["password"])
    stations = [{"id": "%s%04d" % (st["id"], i + 1), "boot": "Accepted", "password_hash": pw_hash}
                for i in range(st["count"])]
    vehicles = [{"id": v["ev"], "battery_kwh": scen["evDefaults"]["capacityKwh"],
                 "max_kw": scen["evDefaults"]["maxPowerKw"], "id_tokens": [v["idToken"]]} for v in scen["visits"]]
    needs = [{"vehicle": v["ev"], "departure": v["departure"], "energy_kwh": v["energyKwh"]} for v in scen["visits"]]
    control = {"site_limit_kw": limit_kw, "slot_minutes": 15, "horizon_h": 12,
               "failsafe": "TxDefaultProfile", "failsafe_evse_kw": 4.2, "replan_delay_ms": 20,
               "vehicles": vehicles, "needs": needs, "mip_max_binaries": 0, "solver_time_limit_ms": 500,
               "noncompliance_kw": 1, "noncompliance_s": 120,
               # A dispatcher's schedule: departures are kept, so no hedge before 8 sessions have ended.
               "departure_hedge_new_pct": 0}
    if mode == "composite":
        control["verify_composite"] = True
        # A need from the vehicle's earlier visit: its departure is before this session starts.
        for n in needs:
            if n["vehicle"] == "VAN-F7":
                n["departure"] = "2022-09-26T12:00:00Z"
        # Energy drift alone: power drift out of the way (and with it the learned EV maximum, whose tolerance it
        # is), a tight energy tolerance. VAN-F4 tapers early (from 20 % down to 5 % of its power at full): it
        # keeps Charging but takes less than it is planned, so its energy falls behind the plan. (A van that
        # stops at its target reports SuspendedEV and is re-planned at its minimum at once: no drift.)
        control.update({"drift_kw": 1000, "drift_kwh": 0.3})
        for v in scen["visits"]:
            if v["ev"] == "VAN-F4":
                v.update({"taperSoc": 0.2, "taperFloor": 0.05})
        scen_file = tempfile.mktemp(prefix="scenario-faults-taper-", suffix=".json")
        with open(scen_file, "w") as f:
            json.dump(scen, f)
    else:
        control["drift_kwh"] = 1000  # and here none: the drift check must be what asks
    anchor = int(time.time() * 1000) + 2000
    cfg = base_config(stations=stations, log_level="info", call_timeout_s=5, timezone="Europe/Brussels",
                      tariff={"provider": {"type": "csv", "name": "be-dayahead", "file": prices, "resolution_min": 60},
                              "fallback": {"type": "fixed", "name": "flat-fallback", "price": 0.30}},
                      control=control, clock={"start": scen["start"], "speed": speed, "anchor_unix_ms": anchor})
    out = tempfile.mktemp(prefix="control-faults-", suffix=".json")
    fault_opt = "--fault-ignore-profiles" if mode == "noncompliant" else "--fault-wrong-composite"
    d = Depotd(depotd, cfg)
    d.start()
    try:
        cmd = [depotsim, "run", "--csms", d.url(), "--depot", depot_file, "--scenario", scen_file,
               "--speed", str(speed), "--clock-anchor", str(anchor), "--meter-interval", "60", "--prices", prices,
               "--json", out, "--max-real-seconds", "60", fault_opt, "0.17", "--seed", SEED]
        sim = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        print(sim.stdout[-1500:])
        check(sim.returncode == 0, "depotsim run exits 0 (%d)%s" % (sim.returncode, "" if sim.returncode == 0
                                                                     else ": " + sim.stderr[-1500:]))
        faulty = re.findall(r"depotsim: fault: (\S+) ", sim.stderr)
        check(len(faulty) == 1, "depotsim made exactly one station faulty with seed %s (%s)" % (SEED, faulty))
        bad = faulty[0] if faulty else "?"
        time.sleep(0.5)
        events = lambda t: [(r[0], r[1], json.loads(r[2]), r[3]) for r in d.query(
            "SELECT seq, station, data, time_ms FROM events WHERE type = ? ORDER BY seq", (t,))]
        plans = events("plan")
        comp = events("compensation")
        drift = sum(1 for _, _, p, _ in plans if "energy_drift" in p["reasons"])
        if mode == "noncompliant":
            check(drift == 0, "no energy_drift re-plan with control.drift_kwh 1000 (%d)" % drift)
        else:
            check(drift >= 1, "energy drift asked for re-plans with control.drift_kwh 0.3 (%d of %d plans)"
                  % (drift, len(plans)))
        if mode == "noncompliant":
            check_replay(d, depotd, plans)
            check_noncompliant(d, events("noncompliant"), plans, bad, load(out), limit_kw, scen)
            check_sticky(d, events, plans, bad, scen)
        else:
            check_composite(d, events("composite_mismatch"), comp, bad)
            src = [s["need_source"] for _, _, p, _ in plans for s in p.get("sessions", []) if s["vehicle"] == "VAN-F7"]
            check(src and "dispatcher" not in src, "a dispatcher need whose departure is before the session started "
                  "does not apply to it (VAN-F7 planned %d times, sources %s)" % (len(src), sorted(set(src))))
    finally:
        d.stop()
        if os.path.exists(out):
            os.unlink(out)
        if mode == "composite":
            os.unlink(scen_file)  # the tapering copy
    print("%d failed" % failures)
    return 1 if failures else 0


def check_noncompliant(d, nc, plans, bad, rep, limit_kw, scen):
    print("noncompliant events:", [(s, e["evse"], e["measured_kw"], e["limit_kw"]) for _, s, e, _ in nc])
    check(any(s == bad for _, s, _, _ in nc), "a noncompliant event for %s, the station that ignores profiles" % bad)
    check(all(s == bad for _, s, _, _ in nc), "no noncompliant event for a station that obeys its profiles")
    if not nc:
        return
    seq0, _, ev0, t0 = nc[0]
    check(ev0["measured_kw"] > ev0["limit_kw"] + 1, "the event says measured %.1f kW against a %.1f kW limit"
          % (ev0["measured_kw"], ev0["limit_kw"]))
    later = [(s, p) for s, _, p, _ in plans if s > seq0 and "result" in p and "kw" in p["result"]]
    check(bool(later), "plans after the noncompliant event (%d)" % len(later))
    if not later:
        return
    _, p = later[0]
    res = [r for r in p["reserved"] if r["station"] == bad and r["why"] == "noncompliant"]
    check(len(res) == 1 and res[0]["kw"] >= ev0["measured_kw"] - 0.5,
          "the next plan (%d) reserves the measured draw of %s: %s" % (p["plan"], bad, res))
    # Everything else is planned within what is left: planned kW of the other sessions + reservations.
    reserved = sum(r["kw"] for r in p["reserved"])
    worst = max(sum(row[t] for row in p["result"]["kw"]) + reserved - p["site_limit_kw"][t]
                for t in range(p["slots"]))
    check(all(s["station"] != bad for s in p["sessions"]), "the non-compliant session is not planned as controlled")
    check_plan_sessions(later)
    check(worst <= 0.01, "plan %d: other sessions' planned kW + reserved %.1f kW <= the limit in every slot "
          "(worst %+.3f kW)" % (p["plan"], reserved, worst))
    # Under the limit once that plan is in force (a slot for its profiles to be accepted and take effect); before
    # the detection depotd could not know.
    applied = [r[0] for r in d.query("SELECT time_ms FROM events WHERE type = 'plan' AND seq > ? ORDER BY seq LIMIT 1",
                                     (seq0,))]
    site = rep["site"]
    minutes = site["powerKwPerMinute"]
    start = iso_ms(site["start"])
    # The event log's time_ms is wall time; the simulated minute comes from the plan's own start.
    plan_start_min = (iso_ms(p["start"]) - start) // 60000
    after = [(i, kw) for i, kw in enumerate(minutes) if i >= plan_start_min + 2 and kw > limit_kw + 0.05]
    before = sum(1 for kw in minutes[:plan_start_min + 2] if kw > limit_kw + 0.05)
    print("site: peak %.1f kW, %d minutes above %g kW (%d before the plan around the non-compliant station)"
          % (site["maxKw"], site["minutesAboveLimit"], limit_kw, before))
    check(not after and applied, "no simulated minute above %g kW from 2 minutes after plan %d on (%s)"
          % (limit_kw, p["plan"], after[:5]))


def check_plan_sessions(plans):
    """The plan event's result carries per session (in the order of "sessions" and "kw") planned_kwh, the energy of
    its kW row (the slot it leaves in counted for last_slot_hours), and shortfall_kwh, which add up to the plan's total shortfall."""
    bad = []
    for _, p in plans:
        res = p["result"]
        per = res.get("sessions")
        if per is None or len(per) != len(p["sessions"]):
            bad.append((p["plan"], "sessions missing or of another length"))
            continue
        for s, r, row in zip(p["sessions"], per, res["kw"]):
            # Slot 0 may be cut in parts where sessions leave inside it (first_part_s).
            first = [x / 3600 for x in p.get("first_part_s", [p["first_slot_s"]])]
            hours = first + [p["slot_minutes"] / 60] * (len(row) - len(first))
            if s.get("last_slot_hours") and s["end_slot"] <= len(row):  # it leaves that long into its last slot
                hours[s["end_slot"] - 1] = min(hours[s["end_slot"] - 1], s["last_slot_hours"])
            kwh = sum(kw * h for kw, h in zip(row, hours))
            if r["transaction"] != s["transaction"] or abs(r["planned_kwh"] - kwh) > 0.01 or r["shortfall_kwh"] < 0:
                bad.append((p["plan"], s["transaction"], r, round(kwh, 3)))
        if abs(sum(r["shortfall_kwh"] for r in per) - res["shortfall_kwh"]) > 0.01 * max(1, len(per)):
            bad.append((p["plan"], "shortfalls do not add up"))
    check(plans and not bad, "result.sessions of %d plans: planned_kwh is each kW row's energy, shortfall_kwh adds up "
          "to the total (%s)" % (len(plans), bad[:3]))


def check_sticky(d, events, plans, bad, scen):
    """Non-compliance is sticky per station: the next session there is planned around from the start."""
    v7 = [v for v in scen["visits"] if v["ev"] == "VAN-F7"][0]
    check(v7["station"] == bad, "VAN-F7 comes to the faulty station %s (%s)" % (bad, v7["station"]))
    arrive = iso_ms(v7["arrival"])
    later = [p for _, _, p, _ in plans if iso_ms(p["start"]) >= arrive and "result" in p]
    first = [p for p in later if any(r["station"] == bad for r in p["reserved"])
             or any(s["station"] == bad for s in p["sessions"])]
    check(bool(first), "plans with VAN-F7's session at %s (%d)" % (bad, len(first)))
    if not first:
        return
    p = first[0]
    res = [r for r in p["reserved"] if r["station"] == bad and r["why"] == "noncompliant"]
    check(len(res) == 1 and res[0]["kw"] >= 10.9,
          "its first plan (%d, %s) reserves it as noncompliant at what the EV may take: %s" % (p["plan"], p["reasons"], res))
    check(not [p for p in first if any(s["station"] == bad for s in p["sessions"])],
          "VAN-F7's session is never planned as controlled (%d plans)" % len(first))
    nc = [e for _, s, e, _ in events("noncompliant") if s == bad]
    check(len(nc) == 1, "one noncompliant detection at %s, in the first session: none needed for VAN-F7 (%d)"
          % (bad, len(nc)))
    def payloads(t, action):
        out = []
        for (data,) in d.query("SELECT data FROM events WHERE type = ? AND station = ? AND action = ? AND msg_type = 2 "
                               "ORDER BY seq", (t, bad, action)):
            x = json.loads(data)
            out.append(x[3] if isinstance(x, list) else x)
        return out
    txs = [p["transactionInfo"]["transactionId"] for p in payloads("ocpp_in", "TransactionEvent")
           if p.get("eventType") == "Started"]
    sent = [json.dumps(p) for p in payloads("ocpp_out", "SetChargingProfile")]
    probe = [x for x in sent if txs and txs[-1] in x]
    check(len(txs) >= 2 and len(probe) >= 1, "a probe TxProfile went to VAN-F7's transaction %s (%d)"
          % (txs[-1] if txs else "?", len(probe)))
    check(not [e for _, s, e, _ in events("compliant") if s == bad], "%s, ignoring the probe too, is never trusted again"
          % bad)


def check_replay(d, depotd, plans):
    """`depotd --replay-plan N` re-solves logged plans from the event log alone and finds the same plans; a copy
    of the log with one input changed gives a different one (exit 1)."""
    import shutil
    import sqlite3
    solved = [p for _, _, p, _ in plans if "kw" in p.get("result", {}) and p["sessions"]]
    if not solved:
        check(False, "plans with sessions to replay")
        return
    picks = [solved[len(solved) // 2], solved[len(solved) // 4]]
    for p in picks:
        r = subprocess.run([depotd, "--replay-plan", str(p["plan"]), "-d", d.db], capture_output=True, text=True,
                           timeout=60)
        print(r.stdout[-1200:], r.stderr[-500:])
        check(r.returncode == 0 and ("the same plan" in r.stdout or "an equivalent plan" in r.stdout),
              "depotd --replay-plan %d: the logged inputs give the same (or an equivalent) plan (exit %d)" % (p["plan"], r.returncode))
        if "re-run by lp-repair" in r.stdout:
            # A repaired plan is judged on its LP relaxation's cost (unique), logged as result.lp_cost.
            check("lp_cost" in p["result"] and "LP relaxation cost: logged" in r.stdout,
                  "plan %d (6 A repair): compared on the LP relaxation's cost, result.lp_cost %s"
                  % (p["plan"], p["result"].get("lp_cost")))
    # Tampered: the biggest need of the middle plan halved in a copy of the log (the copy drops the append-only
    # trigger; the real log keeps it).
    p = picks[0]
    tampered = d.db + ".tampered"
    src = sqlite3.connect("file:%s?mode=ro" % d.db, uri=True)
    dst = sqlite3.connect(tampered)
    src.backup(dst)
    src.close()
    seq, data = dst.execute("SELECT seq, data FROM events WHERE type = 'plan' AND json_extract(data, '$.plan') = ? "
                            "ORDER BY seq DESC LIMIT 1", (p["plan"],)).fetchone()
    ev = json.loads(data)
    big = max(ev["lp"]["sessions"], key=lambda s: s["energy_kwh"])
    big["energy_kwh"] /= 2
    dst.execute("DROP TRIGGER events_append_only_u")
    dst.execute("UPDATE events SET data = ? WHERE seq = ?", (json.dumps(ev), seq))
    dst.commit()
    dst.close()
    r = subprocess.run([depotd, "--replay-plan", str(p["plan"]), "-d", tampered], capture_output=True, text=True,
                       timeout=60)
    print(r.stdout[-800:])
    check(r.returncode == 1 and "DIFFERENT" in r.stdout,
          "plan %d with %s's energy halved in a copy of the log: a different plan (exit %d)"
          % (p["plan"], big["id"], r.returncode))
    os.unlink(tampered)
    r = subprocess.run([depotd, "--replay-plan", "999999", "-d", d.db], capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "no plan 999999" in r.stderr, "an unknown plan number: exit 2 and says so")


def check_composite(d, mism, comp, bad):
    print("composite_mismatch events:", [(s, e) for _, s, e, _ in mism])
    asked = d.query("SELECT station, count(*) FROM events WHERE type = 'ocpp_out' AND action = "
                    "'GetCompositeSchedule' AND msg_type = 2 GROUP BY station")
    asked = dict(asked)
    print("GetCompositeSchedule per station:", asked)
    check(len(asked) >= 4 and all(n >= 1 for n in asked.values()),
          "depotd verified profiles with GetCompositeSchedule on the stations (%d stations)" % len(asked))
    check(any(s == bad for _, s, _, _ in mism), "a composite_mismatch event for %s, the station that lies" % bad)
    check(all(s == bad for _, s, _, _ in mism), "no composite_mismatch for the honest stations")
    cm = [e for _, s, e, _ in comp if s == bad and e.get("why") == "composite_mismatch"]
    check(bool(cm) and all(e["assumed_kw"] > 0 for e in cm),
          "%s was compensated (planned around at its fail-safe limit): %s" % (bad, cm[:1]))
    honest = [(s, e) for _, s, e, _ in comp if s != bad]
    check(not honest, "no compensation for the honest stations%s" % (": %s" % honest[:3] if honest else ""))


if __name__ == "__main__":
    sys.exit(main())
