#!/usr/bin/env bash
# `make demo`: a demo depot in two parts, with fresh databases under ./demo/.
#   1. A depot day replayed at DEMO_SPEED (1500x) on a simulated clock shared by depotd and depotsim, then its
#      report (skipped with DEMO_SKIP_REPLAY=1, or when depotsim is not built).
#   2. A live depot on the real clock until Ctrl-C: depotd (scripts/demo_live.py: examples/depotd.json) on
#      127.0.0.1:8180, its JSON API on 127.0.0.1:8181, and three vans plugged in now at two simulated stations,
#      for examples/api.md's curl calls.
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
                  "vehicles": vehicles, "needs": needs,
                  # The dispatcher's schedule: departures are kept, so no hedge before 8 sessions have ended.
                  "departure_hedge_new_pct": 0}
cfg["clock"] = {"start": scen["start"], "speed": speed, "anchor_unix_ms": anchor}
json.dump(cfg, sys.stdout, indent=1)
PY
if (( have_sim )) && [[ -z "${DEMO_SKIP_REPLAY:-}" ]]; then
  "$build/src/depotd" -c demo/depotd.json -d demo/depotd.db 2> demo/depotd.log &
  depotd_pid=$!
  trap 'kill $depotd_pid 2>/dev/null; wait $depotd_pid 2>/dev/null || true' EXIT INT TERM
  sleep 0.5
  if ! kill -0 $depotd_pid 2>/dev/null; then
    echo "demo: depotd did not start (are ports 8180/8181 taken?); see demo/depotd.log" >&2
    exit 1
  fi
  echo "demo: a depot day at ${speed}x: 20 EVSEs (examples/sim/depot-day.json), 30 vans (scenario-day.json),"
  echo "      150 kW limit, Belgian day-ahead prices; depotd plans and sends profiles (its log: demo/depotd.log)."
  echo "      One station in ten loses its connection once and comes back without rebooting, as real chargers do."
  "$build/sim/depotsim" run --csms ws://127.0.0.1:8180/ocpp --depot examples/sim/depot-day.json \
    --scenario examples/sim/scenario-day.json --speed "$speed" --clock-anchor "$anchor" --meter-interval 300 \
    --fault-drop 0.1 \
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
  kill $depotd_pid 2>/dev/null; wait $depotd_pid 2>/dev/null || true
  trap - EXIT INT TERM
fi

# ---- the live depot (real clock) for examples/api.md ----
rm -f demo/live.db demo/live.db-wal demo/live.db-shm
/usr/bin/env python3 scripts/demo_live.py demo
"$build/src/depotd" -c demo/live.json 2> demo/live.log &
live_pid=$!
sim_pid=
trap 'kill $live_pid $sim_pid 2>/dev/null; wait $live_pid $sim_pid 2>/dev/null || true' EXIT INT TERM
sleep 0.5
if ! kill -0 $live_pid 2>/dev/null; then
  echo "demo: the live depotd did not start (are ports 8180/8181 taken?); see demo/live.log" >&2
  exit 1
fi
if (( have_sim )); then
  "$build/sim/depotsim" run --csms ws://127.0.0.1:8180/ocpp --depot demo/live-depot.json \
    --scenario demo/live-scenario.json --speed 1 --meter-interval 60 > demo/live-sim.log 2>&1 &
  sim_pid=$!
fi
cat <<'TXT'

demo: a LIVE depot on the real clock: depotd ws://127.0.0.1:8180/ocpp/{stationId} (subprotocol ocpp2.0.1),
      JSON API http://127.0.0.1:8181 (tokens in examples/api.md), site limit 44 kW, time-of-use prices.
      Simulated stations CS001 and CS002 (demo/live-depot.json): van-01 and van-02 on CS001, van-03 on CS002.
Try examples/api.md's curl calls in another terminal, e.g.:
  curl -s -H 'Authorization: Bearer demo-viewer-token-0001-not-for-production' http://127.0.0.1:8181/api/v1/plan | jq .
The operator page: http://127.0.0.1:8181/  sign in with the token
  demo-admin-token-0001-not-for-production       (admin: everything), or
  demo-dispatcher-token-0001-not-for-production  (dispatcher of fleet north: edits its vans' departures).
Logs: demo/live.log (depotd), demo/live-sim.log (depotsim); the event log: sqlite3 demo/live.db.
A real charger may connect as CS003 (Pending), password demo-station-password-0001.
Press Ctrl-C to stop.
TXT
wait $live_pid
