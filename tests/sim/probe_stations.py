"""`depotsim probe` against two station implementations, each conforming and deliberately not: depotsim's own
station mode (`depotsim run`, one AC station, a walk-in car on the remote start) and an independent station on npm
ocpp-rpc in strict mode (probe_station.js). The conforming ones must PASS every case; one that ignores its profiles
must FAIL exactly the two limit cases, one whose composite does not tell the truth exactly the two composite cases,
every other case still PASS. The runs go side by side (each probe on its own port): their timing is real time.

env: DEPOTSIM, NODE (the node binary, optional: without it the ocpp-rpc runs are reported as not run, a failure),
NODE_PATH.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PW = "probe-station-pass-01"
LIMITS = {"K_limit_followed", "K_limit_cleared"}
COMPOSITES = {"K08_composite", "K08_composite_cleared"}


def depot_files(d, sid):
    depot = os.path.join(d, "depot.json")
    with open(depot, "w") as f:
        json.dump({"gridLimitKw": 50, "stations": [{
            "id": sid, "password": PW, "evses": 1, "ac": {"phases": 3, "maxCurrentA": 16, "voltageV": 230},
            "rateUnits": ["A", "W"], "periodsPerSchedule": 24, "profileStackLevel": 8, "vendor": "depotsim",
            "model": "sim-ac11", "firmware": "0.1.0"}]}, f)
    now = time.time()
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    scenario = os.path.join(d, "scenario.json")
    with open(scenario, "w") as f:
        json.dump({"start": fmt(now), "end": fmt(now + 3600), "visits": []}, f)
    return depot, scenario


def station_cmd(kind, url, sid, d, fault):
    if kind == "depotsim":
        depot, scenario = depot_files(d, sid)
        cmd = [os.environ["DEPOTSIM"], "run", "--csms", url.rstrip("/"), "--depot", depot, "--scenario", scenario,
               "--speed", "1", "--meter-interval", "1", "--max-real-seconds", "150"]
        return cmd + {"ignore": ["--fault-ignore-profiles", "1"], "composite": ["--fault-wrong-composite", "1"]}.get(
            fault, [])
    cmd = [os.environ["NODE"], os.path.join(HERE, "probe_station.js"), "--url", url, "--id", sid, "--password", PW,
           "--seconds", "150"]
    return cmd + {"ignore": ["--ignore-limits"], "composite": ["--wrong-composite"]}.get(fault, [])


def run(kind, fault, out):
    """One probe against one station; out[name] = (verdicts, report, probe output)."""
    name = "%s/%s" % (kind, fault or "conforming")
    sid = "PROBE-%s-%s" % (kind[:4].upper(), (fault or "ok").upper())
    d = tempfile.mkdtemp(prefix="probe-")
    report = os.path.join(d, "probe.json")
    probe = subprocess.Popen([os.environ["DEPOTSIM"], "probe", "--listen", "ws://127.0.0.1:0/ocpp/", "--station", sid,
                              "--password", PW, "--wait", "5", "--reaction", "3", "--offline", "4", "--json", report],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    station = None
    try:
        line = probe.stderr.readline()
        m = re.search(r"listening on (ws://127\.0\.0\.1:\d+/ocpp/)", line)
        if not m:
            raise RuntimeError("probe did not say where it listens: " + line)
        station = subprocess.Popen(station_cmd(kind, m.group(1), sid, d, fault), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        stdout, _ = probe.communicate(timeout=180)
        verdicts = dict(re.findall(r"^(\S+)\s+(PASS|FAIL|SKIP)", stdout, re.M))
        rep = json.load(open(report)) if os.path.exists(report) else {}
        out[name] = (verdicts, rep, stdout, probe.returncode)
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        out[name] = ({}, {}, "error: %s" % e, -1)
    finally:
        for p in (probe, station):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(d, ignore_errors=True)


def judge(name, result, want_fail):
    verdicts, rep, stdout, rc = result
    fails = {n for n, v in verdicts.items() if v == "FAIL"}
    others = {v for n, v in verdicts.items() if n not in want_fail}
    from_json = {x["name"]: x["verdict"] for x in rep.get("scenarios", [])}
    ok = (len(verdicts) >= 18 and fails == want_fail and others == {"PASS"} and from_json == verdicts and
          rc == (1 if want_fail else 0))
    print("%s %s: %d cases, FAIL %s (expected %s), exit %d" % ("ok  " if ok else "FAIL", name, len(verdicts),
                                                              sorted(fails) or "none", sorted(want_fail) or "none", rc))
    if not ok:
        print(stdout)
    return 0 if ok else 1


def main():
    kinds = ["depotsim"] + (["ocpp-rpc"] if os.environ.get("NODE") else [])
    out, threads = {}, []
    for kind in kinds:
        for fault in (None, "ignore", "composite"):
            t = threading.Thread(target=run, args=(kind, fault, out))
            t.start()
            threads.append(t)
    for t in threads:
        t.join()
    failures = 0 if os.environ.get("NODE") else 1
    if not os.environ.get("NODE"):
        print("FAIL the ocpp-rpc station was not run: no NODE")
    for kind in kinds:
        failures += judge(kind + "/conforming", out[kind + "/conforming"], set())
        failures += judge(kind + "/ignore", out[kind + "/ignore"], LIMITS)
        failures += judge(kind + "/composite", out[kind + "/composite"], COMPOSITES)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
