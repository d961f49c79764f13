"""examples/depotd-electrical.json works as documented (issue 18's acceptance): depotd starts with it, reads the
workshop's meter and the roof's PV forecast from a real HTTP server on 127.0.0.1 (the example's URLs pointed at it),
and GET /api/v1/site and /api/v1/circuits show what the README says: the feeder tree with its per-phase board, the
building's reading, what the plan counts with the PV (250 - (40 + 10 margin) + 15 PV) and the fail-safe's room
without it (250 - 50), the demand charge.

env: DEPOTD. 127.0.0.1 only; every wait has a deadline.
"""
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
from depotd_fixture import Depotd  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "depotd-electrical.json")
TOKEN = "demo-admin-token-0001-not-for-production"  # examples/depotd.json's, loopback only
Q = 900


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        first = int(time.time()) // Q * Q - 96 * Q
        stamps = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first + i * Q)) for i in range(96 * 4)]
        if self.path.startswith("/load.csv"):
            body, ctype = "time,kw\n" + "".join("%s,40\n" % t for t in stamps), "text/csv"
        elif self.path.startswith("/pv.json"):
            body = json.dumps({"forecast": [{"from": stamps[i], "to": stamps[i + 1], "kw": 15}
                                            for i in range(len(stamps) - 1)]})
            ctype = "application/json"
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


failures = 0


def check(ok, what):
    global failures
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    failures += not ok


def get(port, path):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    with open(EXAMPLE) as f:
        cfg = json.load(f)
    cfg["site_load"]["provider"]["url"] = base + "/load.csv"
    cfg["site_load"]["pv"]["provider"]["url"] = base + "/pv.json"
    cfg["port"] = 0
    s = socket.socket()  # a free port for the API
    s.bind(("127.0.0.1", 0))
    api_port = s.getsockname()[1]
    s.close()
    cfg["api_port"] = api_port
    cfg.pop("database", None)
    try:
        with Depotd(os.environ["DEPOTD"], cfg) as d:
            site = None
            for _ in range(100):  # the API comes up beside the OCPP listener; the meter is read in the first second
                try:
                    site = get(api_port, "/api/v1/site")
                except OSError:
                    time.sleep(0.1)
                    continue
                sl = site.get("site_load") or {}
                if sl.get("reading_kw") == 40 and sl.get("planned_kw") == 35:
                    break
                time.sleep(0.1)
            check(site is not None, "the API answered")
            if site is None:
                return 1
            sl = site["site_load"]
            check(sl["provider"] == "workshop-meter" and sl["reading_kw"] == 40,
                  "the workshop's meter read: %s kW" % sl.get("reading_kw"))
            check(sl["planned_kw"] == 35, "the plan counts 40 + 10 margin - 15 kW of PV = 35 kW (%s)" % sl["planned_kw"])
            check(sl["failsafe_limit_kw"] == 200, "the fail-safe keeps under 250 - 50, without the PV (%s)"
                  % sl["failsafe_limit_kw"])
            check(site["limit"]["in_force_kw"] == 215, "charging may use 250 - 35 = 215 kW now (%s)"
                  % site["limit"]["in_force_kw"])
            check(site["demand"] and site["demand"]["price_per_kw"] == 8.5, "the demand charge at 8.50 per kW")
            circuits = {c["id"]: c for c in get(api_port, "/api/v1/circuits")["items"]}
            check(list(circuits) == ["transformer", "feeder-A", "feeder-B", "board-B1"],
                  "the tree, parents first: %s" % list(circuits))
            b1 = circuits.get("board-B1", {})
            check(b1.get("per_phase") and abs(b1.get("limit_kw", 0) - 14.49) < 1e-9 and b1.get("parent") == "feeder-B",
                  "board-B1: 63 A a phase = 14.49 kW a phase, under feeder-B")
    finally:
        server.shutdown()
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
