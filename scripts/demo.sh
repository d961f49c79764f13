#!/usr/bin/env bash
# `make demo`: a demo depot. depotd runs with examples/depotd.json on 127.0.0.1:8180 with a fresh database under
# ./demo/; when depotsim is built, simulated stations connect to it; otherwise it waits for a real charger.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mkdir -p demo
rm -f demo/depotd.db demo/depotd.db-wal demo/depotd.db-shm
speed=${DEMO_SPEED:-1500}
have_sim=0
[[ -x "$build/sim/depotsim" ]] && have_sim=1
# The demo config: examples/depotd.json plus smart charging for the simulated depot (examples/sim/depot-day.json:
# 10 stations x 2 EVSEs behind 150 kW), Belgian day-ahead prices through the CSV provider
# (examples/prices/be-dayahead-sample.csv) and a simulated clock shared with depotsim (same start, speed, anchor).
anchor=$(( $(date +%s%3N) + 3000 ))
/usr/bin/env python3 - "$build/src/depotd" "$speed" "$anchor" > demo/depotd.json <<'PY'
import json, subprocess, sys
depotd, speed, anchor = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
cfg = json.load(open("examples/depotd.json"))
depot = json.load(open("examples/sim/depot-day.json"))
scen = json.load(open("examples/sim/scenario-day.json"))
st = depot["stations"][0]
h = subprocess.run([depotd, "--hash-password"], input=st["password"] + "\n", text=True, capture_output=True,
                   check=True).stdout.strip()
cfg["stations"] += [{"id": "%s%04d" % (st["id"], i + 1), "password_hash": h, "boot": "Accepted"}
                    for i in range(st["count"])]
cfg["unknown_id_token"] = "Accepted"
cfg["timezone"] = "Europe/Brussels"
cfg["tariff"] = {"provider": {"type": "csv", "name": "be-dayahead", "file": "examples/prices/be-dayahead-sample.csv",
                              "resolution_min": 60},
                 "fallback": {"type": "fixed", "name": "flat-fallback", "price": 0.30}}
vehicles, needs = [], []
for v in scen["visits"]:
    vehicles.append({"id": v["ev"], "battery_kwh": v.get("capacityKwh", scen["evDefaults"]["capacityKwh"]),
                     "max_kw": scen["evDefaults"]["maxPowerKw"], "id_tokens": [v["idToken"]]})
    if not v.get("iso15118"):
        needs.append({"vehicle": v["ev"], "departure": v["departure"], "energy_kwh": v["energyKwh"]})
cfg["control"] = {"site_limit_kw": depot["gridLimitKw"], "failsafe": "TxDefaultProfile", "failsafe_evse_kw": 4.2,
                  "replan_delay_ms": 20, "mip_max_binaries": 0, "solver_time_limit_ms": 500,
                  "vehicles": vehicles, "needs": needs}
cfg["clock"] = {"start": scen["start"], "speed": speed, "anchor_unix_ms": anchor}
json.dump(cfg, sys.stdout, indent=1)
PY
"$build/src/depotd" -c demo/depotd.json -d demo/depotd.db 2> demo/depotd.log &
depotd_pid=$!
trap 'kill $depotd_pid 2>/dev/null; wait $depotd_pid 2>/dev/null || true' EXIT INT TERM
sleep 0.5
if ! kill -0 $depotd_pid 2>/dev/null; then
  echo "demo: depotd did not start (is port 8180 taken?); see demo/depotd.log" >&2
  exit 1
fi
if (( have_sim )); then
  echo "demo: a depot day at ${speed}x: 20 EVSEs (examples/sim/depot-day.json), 30 vans (scenario-day.json),"
  echo "      150 kW limit, Belgian day-ahead prices; depotd plans and sends profiles (its log: demo/depotd.log)"
  "$build/sim/depotsim" run --csms ws://127.0.0.1:8180/ocpp --depot examples/sim/depot-day.json \
    --scenario examples/sim/scenario-day.json --speed "$speed" --clock-anchor "$anchor" --meter-interval 300 \
    --prices examples/prices/be-dayahead-sample.csv --table --table-minutes 60 --baseline || true
  echo
  echo "demo: depotd's plans and warnings (demo/depotd.db):"
  sqlite3 -header -column demo/depotd.db \
    "SELECT count(*) AS plans, round(avg(json_extract(data, '$.result.solve_ms')), 1) AS avg_solve_ms
       FROM events WHERE type = 'plan'" || true
  sqlite3 -header -column demo/depotd.db \
    "SELECT type, station, json_extract(data, '$.vehicle') AS vehicle, json_extract(data, '$.kwh_short') AS kwh_short,
            json_extract(data, '$.departure') AS departure
       FROM events WHERE type IN ('departure_at_risk', 'departure_at_risk_cleared', 'compensation') LIMIT 20" || true
fi
cat <<'TXT'

depotd is running: ws://127.0.0.1:8180/ocpp/{stationId}, subprotocol ocpp2.0.1.
Connect a charger (OCPP 2.0.1, security profile 1) as one of the stations in examples/depotd.json:
  station id CS001, CS002 (Accepted) or CS003 (Pending), password demo-station-password-0001.
The event log and projections are in demo/depotd.db, e.g.:
  sqlite3 demo/depotd.db 'SELECT seq, type, station, action, status FROM events ORDER BY seq DESC LIMIT 20'
Press Ctrl-C to stop.
TXT
wait $depotd_pid
