#!/usr/bin/env bash
# `make demo`: a demo depot. depotd runs with examples/depotd.json on 127.0.0.1:8180 with a fresh database under
# ./demo/; when depotsim is built, simulated stations connect to it; otherwise it waits for a real charger.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mkdir -p demo
rm -f demo/depotd.db demo/depotd.db-wal demo/depotd.db-shm
"$build/src/depotd" -c examples/depotd.json -d demo/depotd.db &
depotd_pid=$!
trap 'kill $depotd_pid 2>/dev/null; wait $depotd_pid 2>/dev/null || true' EXIT INT TERM
sleep 0.5
if ! kill -0 $depotd_pid 2>/dev/null; then
  echo "demo: depotd did not start (is port 8180 taken?)" >&2
  exit 1
fi
if [[ -x "$build/sim/depotsim" ]]; then
  echo "demo: depotsim plays station SIMCS01 (examples/sim/depot-small.json): two vans, two simulated hours at 600x"
  "$build/sim/depotsim" run --csms ws://127.0.0.1:8180/ocpp --depot examples/sim/depot-small.json \
    --scenario examples/sim/scenario-small.json --speed 600 --progress || true
  echo
  echo "demo: what depotd recorded (demo/depotd.db):"
  sqlite3 -header -column demo/depotd.db \
    "SELECT station, id, datetime(started_ms/1000,'unixepoch') AS started, datetime(ended_ms/1000,'unixepoch') AS ended,
            round((energy_last_wh - energy_first_wh)/1000.0, 2) AS kwh FROM transactions" || true
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
