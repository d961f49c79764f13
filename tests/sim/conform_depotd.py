"""`depotsim conform` against a real depotd with three configured stations (Accepted, Pending, Rejected), three times:
without smart charging, and with it with either fail-safe (TxDefaultProfile, station maxima), the operator's part of each test case
done through depotd's JSON API (conform_trigger.py). Every scenario must PASS but the intentional SKIPs of each run
(SKIPS, each with its reason: what depotd refuses by design); the JSON and JUnit reports must say the same.

env: DEPOTD, DEPOTSIM.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from depotd_fixture import Depotd, base_config, hash_password

PW = "conform-pass-0001"
ADMIN = "conform-admin-token-0001-loopback-only"
TRIGGER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conform_trigger.py")

# What depotd does not do, by design, in each run; every other scenario must PASS.
SKIPS = {
    "off": {
        "TC_K_53_CSMS": "without smart charging depotd sets no TxProfile for a car's needs",
    },
    "on": {
        "TC_K_01_CSMS": "depotd's TxDefaultProfile is its fail-safe for the whole station (evseId 0); an operator's "
                        "TxDefaultProfile would replace it, so it is refused (409)",
        "TC_K_02_CSMS": "TxProfiles are depotd's plan: an operator's is refused (409)",
        "TC_K_06_CSMS": "clearing TxDefaultProfiles would clear depotd's fail-safe: refused (409)",
        "TC_K_08_CSMS": "as TC_K_06: a clear by TxDefaultProfile is refused (409)",
        "TC_K_19_CSMS": "a Recurring TxDefaultProfile would replace depotd's fail-safe: refused (409)",
    },
}
# The default fail-safe, station maxima: ChargingStationMaxProfile is depotd's too, and it sets no TxDefaultProfile.
SKIPS["stationmax"] = dict(SKIPS["on"], **{
    "TC_K_04_CSMS": "with the station maxima fail-safe ChargingStationMaxProfile is depotd's: an operator's is "
                    "refused (409; TC_K_03 passes on depotd's own)",
    "TC_K_10_CSMS": "depotd's fail-safe is a ChargingStationMaxProfile, not a TxDefaultProfile, and an operator's "
                    "TxDefaultProfile is refused (409)",
    "TC_K_15_CSMS": "as TC_K_10: no TxDefaultProfile to answer NotSupported to",
    "TC_K_19_CSMS": "a Recurring TxDefaultProfile: refused (409)",
    "TC_K_70_CSMS": "as TC_K_10: no TxDefaultProfile, and the operator's ChargingStationMaxProfile is refused (409)",
})


def run(depotd, depotsim, mode):
    """One catalogue run (smart charging off, on with the TxDefaultProfile fail-safe, on with station maxima); the
    number of failed checks."""
    h = hash_password(depotd, PW)
    failsafe = {"on": "TxDefaultProfile", "stationmax": "ChargingStationMaxProfile"}.get(mode)
    extra = {"control": {"site_limit_kw": 100, "failsafe": failsafe}} if failsafe else {}
    cfg = base_config(stations=[{"id": "CONF-OK", "boot": "Accepted", "password_hash": h},
                                {"id": "CONF-PEND", "boot": "Pending", "password_hash": h},
                                {"id": "CONF-REJ", "boot": "Rejected", "password_hash": h}],
                      id_tokens=[{"id_token": "CONFORM-TOKEN", "type": "ISO14443", "vehicle": "conform"}],
                      unknown_id_token="Invalid", call_timeout_s=2, api_port=0,
                      api_tokens=[{"name": "conform-operator", "role": "admin",
                                   "token_hash": "sha256$" + hashlib.sha256(ADMIN.encode()).hexdigest()}], **extra)
    print("== smart charging %s" % (mode if mode != "on" else "on (TxDefaultProfile fail-safe)"), flush=True)
    out = tempfile.mkdtemp(prefix="conform-")
    js, junit = os.path.join(out, "conform.json"), os.path.join(out, "conform.xml")
    with Depotd(depotd, cfg) as d:
        env = dict(os.environ, DEPOTD_API=d.api_url(), DEPOTD_TOKEN=ADMIN)
        p = subprocess.run([depotsim, "conform", "--csms", d.url(), "--id", "CONF-OK", "--password", PW,
                            "--pending-id", "CONF-PEND", "--pending-password", PW, "--rejected-id", "CONF-REJ",
                            "--rejected-password", PW, "--wait", "2", "--json", js, "--junit", junit,
                            "--trigger", TRIGGER], capture_output=True, text=True, timeout=300, env=env)
    print(p.stdout, p.stderr)
    failures = 0
    verdicts = dict(re.findall(r"^(\S+)\s+(PASS|FAIL|SKIP)", p.stdout, re.M))
    failures += check_reports(js, junit, verdicts)
    shutil.rmtree(out, ignore_errors=True)
    for name, v in sorted(verdicts.items()):
        want = "SKIP" if name in SKIPS[mode] else "PASS"
        if v != want:
            print("FAIL %s: %s, expected %s%s" % (name, v, want, " (%s)" % SKIPS[mode][name] if want == "SKIP" else ""))
            failures += 1
    missing = [n for n in SKIPS[mode] if n not in verdicts]
    k = sum(1 for n, v in verdicts.items() if n.startswith("TC_K_") and v == "PASS")
    oca = sum(1 for n in verdicts if n.startswith("TC_"))
    ok = p.returncode == 0 and not missing and len(verdicts) >= 40 and oca >= 40
    print("%s depotsim conform, smart charging %s: %d scenarios (%d OCA test cases), %d PASS (%d in K), %d intentional "
          "SKIPs, exit %d" % ("ok  " if ok else "FAIL", mode, len(verdicts), oca, list(verdicts.values()).count("PASS"),
                              k, len(SKIPS[mode]), p.returncode))
    failures += not ok
    return failures


def check_reports(js, junit, verdicts):
    """--json and --junit say what the table said: the same scenarios and verdicts, SKIPs with their reason."""
    try:
        rep = json.load(open(js))
        from_json = {x["name"]: x["verdict"] for x in rep["scenarios"]}
        suite = ET.parse(junit).getroot().find("testsuite")
        cases = suite.findall("testcase")
        from_xml = {c.get("name"): "FAIL" if c.find("failure") is not None else
                    "SKIP" if c.find("skipped") is not None else "PASS" for c in cases}
        skips_say_why = all(len(c.find("skipped").get("message", "")) > 10 for c in cases if c.find("skipped") is not None)
        ok = (from_json == verdicts == from_xml and int(suite.get("tests")) == len(verdicts) and skips_say_why and
              rep["passed"] == list(verdicts.values()).count("PASS"))
    except (OSError, ValueError, KeyError, AttributeError, ET.ParseError) as e:
        print("reports: %s" % e)
        ok = False
    print("%s --json and --junit carry the same %d verdicts, SKIPs with their reason" % ("ok  " if ok else "FAIL",
                                                                                          len(verdicts)))
    return 0 if ok else 1


def wrong_request(depotd, depotsim):
    """The catalogue's checks bite: an operator who asks for a TxDefaultProfile on EVSE 2 where TC_K_01 wants EVSE 1
    gets a FAIL naming evseId, with the frames as evidence."""
    cfg = base_config(stations=[{"id": "CONF-OK"}], call_timeout_s=2, api_port=0,
                      api_tokens=[{"name": "conform-operator", "role": "admin",
                                   "token_hash": "sha256$" + hashlib.sha256(ADMIN.encode()).hexdigest()}])
    with Depotd(depotd, cfg) as d:
        env = dict(os.environ, DEPOTD_API=d.api_url(), DEPOTD_TOKEN=ADMIN, CONFORM_TRIGGER_MUTATE='{"evseId": 2}')
        p = subprocess.run([depotsim, "conform", "--csms", d.url(), "--id", "CONF-OK", "--wait", "2", "--only",
                            "TC_K_01", "--trigger", TRIGGER], capture_output=True, text=True, timeout=60, env=env)
    ok = p.returncode == 1 and re.search(r"^TC_K_01_CSMS\s+FAIL .*evseId is 2", p.stdout, re.M) and '"evseId":2' in p.stdout
    print("%s a wrong operator request fails TC_K_01 with the frame as evidence (exit %d)" % ("ok  " if ok else "FAIL",
                                                                                            p.returncode))
    if not ok:
        print(p.stdout, p.stderr)
    return 0 if ok else 1


def main():
    depotd, depotsim = os.environ["DEPOTD"], os.environ["DEPOTSIM"]
    failures = sum(run(depotd, depotsim, m) for m in ("off", "on", "stationmax")) + wrong_request(depotd, depotsim)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
