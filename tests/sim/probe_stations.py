"""`depotsim probe` against two station implementations, each conforming and deliberately not: depotsim's own
station mode (`depotsim run`, one AC station, a walk-in car on the remote start) and an independent station on npm
ocpp-rpc in strict mode (probe_station.js). The conforming ones must PASS every case; one that ignores its profiles
must FAIL exactly the two limit cases, one whose composite does not tell the truth exactly the two composite cases,
every other case still PASS. depotsim's conforming station also runs over wss:// (security profile 2: the probe's
certificate checked against a CA made here) and with a client certificate the probe asks for (profile 3); a station
without one is refused in the handshake. The runs go side by side (each probe on its own port): their timing is real
time.

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


def make_certs(d):
    """A CA, the probe's certificate for 127.0.0.1 and a station's client certificate (CN = its id), all from it."""
    def ssl(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    p = lambda name: os.path.join(d, name)
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    with open(p("client.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=probe test CA",
        "-keyout", p("ca.key"), "-out", p("ca.pem"))
    for name, cn in (("server", "127.0.0.1"), ("client", "PROBE-DEPO-TLS3")):
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", p(name + ".key"),
            "-out", p(name + ".csr"))
        ssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", p(name + ".ext"), "-out", p(name + ".pem"))
    return p


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


def station_cmd(kind, url, sid, d, fault, certs):
    if kind == "depotsim":
        depot, scenario = depot_files(d, sid)
        cmd = [os.environ["DEPOTSIM"], "run", "--csms", url.rstrip("/"), "--depot", depot, "--scenario", scenario,
               "--speed", "1", "--meter-interval", "1", "--max-real-seconds", "150"]
        if fault in ("tls2", "tls3", "tls3-nocert"):
            cmd += ["--ca", certs("ca.pem")]
        if fault == "tls3":
            cmd += ["--cert", certs("client.pem"), "--key", certs("client.key")]
        return cmd + {"ignore": ["--fault-ignore-profiles", "1"], "composite": ["--fault-wrong-composite", "1"]}.get(
            fault, [])
    cmd = [os.environ["NODE"], os.path.join(HERE, "probe_station.js"), "--url", url, "--id", sid, "--password", PW,
           "--seconds", "150"]
    return cmd + {"ignore": ["--ignore-limits"], "composite": ["--wrong-composite"]}.get(fault, [])


def run(kind, fault, out, certs):
    """One probe against one station; out[name] = (verdicts, report, probe output)."""
    name = "%s/%s" % (kind, fault or "conforming")
    sid = "PROBE-%s-%s" % (kind[:4].upper(), (fault or "ok").upper())
    d = tempfile.mkdtemp(prefix="probe-")
    report = os.path.join(d, "probe.json")
    listen = ["--listen", "ws://127.0.0.1:0/ocpp/"]
    if fault in ("tls2", "tls3", "tls3-nocert"):
        listen = ["--listen", "wss://127.0.0.1:0/ocpp/", "--cert", certs("server.pem"), "--key", certs("server.key")]
    if fault in ("tls3", "tls3-nocert"):
        listen += ["--ca", certs("ca.pem")]
    probe = subprocess.Popen([os.environ["DEPOTSIM"], "probe", *listen, "--station", sid, "--password", PW,
                              "--wait", "5", "--reaction", "3", "--offline", "4", "--json", report],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    station = None
    try:
        line = probe.stderr.readline()
        m = re.search(r"listening on (wss?://127\.0\.0\.1:\d+/ocpp/)", line)
        if not m:
            raise RuntimeError("probe did not say where it listens: " + line)
        station = subprocess.Popen(station_cmd(kind, m.group(1), sid, d, fault, certs), stdout=subprocess.DEVNULL,
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


def judge_refused(name, result):
    """A station without the client certificate the probe asks for never gets in: the boot case fails."""
    verdicts, rep, stdout, rc = result
    ok = verdicts.get("B01_boot") == "FAIL" and "PASS" not in verdicts.values() and rc == 1
    print("%s %s: refused in the handshake (B01_boot %s, no PASS), exit %d" % ("ok  " if ok else "FAIL", name,
                                                                              verdicts.get("B01_boot"), rc))
    if not ok:
        print(stdout)
    return 0 if ok else 1


def main():
    kinds = ["depotsim"] + (["ocpp-rpc"] if os.environ.get("NODE") else [])
    out, threads = {}, []
    certs = make_certs(tempfile.mkdtemp(prefix="probe-pki-"))
    runs = [(kind, fault) for kind in kinds for fault in (None, "ignore", "composite")]
    runs += [("depotsim", "tls2"), ("depotsim", "tls3"), ("depotsim", "tls3-nocert")]
    for kind, fault in runs:
        t = threading.Thread(target=run, args=(kind, fault, out, certs))
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
    failures += judge("depotsim/tls2 (wss://, the probe's certificate checked)", out["depotsim/tls2"], set())
    failures += judge("depotsim/tls3 (wss:// and the station's certificate)", out["depotsim/tls3"], set())
    failures += judge_refused("depotsim/tls3 without a client certificate", out["depotsim/tls3-nocert"])
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
