#!/usr/bin/python3
"""depotsim conform's --trigger for depotd: the operator's part of an OCA test case, done through depotd's JSON API
(POST /api/v1/stations/{id}/commands). Called as: conform_trigger.py TC STATION ACTION REQUEST_JSON.

Exit 0 when depotd took the request and the station answered it (HTTP 200), 3 when depotd refused it (4xx: what
depotd will not send, with its problem text on stderr), 4 when the station did not answer with a CALLRESULT (502,
504) or depotd could not be reached.

env: DEPOTD_API (http://127.0.0.1:PORT), DEPOTD_TOKEN (an admin token). Loopback only. CONFORM_TRIGGER_MUTATE (a JSON
object, for the catalogue's own test): merged into the request, an operator asking for something other than the test
case wants, which the catalogue must fail.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def main():
    tc, station, action, request = sys.argv[1:5]
    request = json.loads(request)
    request.update(json.loads(os.environ.get("CONFORM_TRIGGER_MUTATE", "{}")))
    body = json.dumps({"action": action, "request": request}).encode()
    req = urllib.request.Request("%s/api/v1/stations/%s/commands" % (os.environ["DEPOTD_API"], station), data=body,
                                 method="POST", headers={"Authorization": "Bearer " + os.environ["DEPOTD_TOKEN"],
                                                         "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            print("trigger %s: %s %s" % (tc, action, r.status), file=sys.stderr)
            return 0
    except urllib.error.HTTPError as e:
        detail = json.loads(e.read() or b"{}").get("detail", "")
        print("trigger %s: %s refused %d: %s" % (tc, action, e.code, detail), file=sys.stderr)
        return 3 if e.code < 500 else 4
    except (OSError, ValueError) as e:
        print("trigger %s: %s: %s" % (tc, action, e), file=sys.stderr)
        return 4


if __name__ == "__main__":
    sys.exit(main())
