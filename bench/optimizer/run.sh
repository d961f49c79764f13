#!/usr/bin/env bash
# Optimizer benchmark (not a test): GLPK cold and warm solve times and memory on instances from real data,
# GLPK's interior point, and HiGHS on the same exported LPs. Bounded: GLPK time limit 20 s per solve, the
# interior-point run stops at 1,000 vehicles; the whole run takes about a minute on 2 cores.
# Usage: bench/optimizer/run.sh BUILD_DIR [SIZES...]   (OPT_BENCH_SIMPLEX=dual|primal: one simplex for all solves)
# Real re-plan sequences: BUILD_DIR/tests/optimizer/replay_plans DEPOTD_DB re-solves a depotd event log's plans
# through one planner (KEEP_DB=dir node bench/control/replan_latency.mjs 500 keeps one); see replay_plans.c.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SIZES...]}
shift
sizes=${*:-10 100 500 1000 2000}
root=$(cd "$(dirname "$0")/../.." && pwd)
data="$root/../shared/data"
out=$(mktemp -d /tmp/opt-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
tool="$build/tests/optimizer/opt_bench"
ninja -C "$build" tests/optimizer/opt_bench >/dev/null
echo "machine: $(nproc) cores $(uname -m), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), $(date -u +%F)"
timeout 300 "$tool" "$data" "$out" $sizes > "$out/simplex.tsv"
small=$(for s in $sizes; do if [ "$s" -le 1000 ]; then echo "$s"; fi; done)
mkdir -p "$out/ipt"; OPT_BENCH_VARIANT=interior timeout 300 "$tool" "$data" "$out/ipt" $small > "$out/interior.tsv" 2>/dev/null || true
mkdir -p "$out/coarse"; OPT_BENCH_VARIANT=coarse timeout 300 "$tool" "$data" "$out/coarse" $sizes > "$out/coarse.tsv"
mkdir -p "$out/keep"; OPT_BENCH_VARIANT=keeprows timeout 300 "$tool" "$data" "$out/keep" $sizes > "$out/keeprows.tsv"
timeout 300 /usr/bin/python3 "$root/bench/optimizer/highs_side.py" "$out/simplex.tsv" "$out/interior.tsv"
echo
echo "coarse grid (15 min for 6 h, then 1 h; HiGHS solves the same coarse LP):"
timeout 300 /usr/bin/python3 "$root/bench/optimizer/highs_side.py" "$out/coarse.tsv"
echo "raw GLPK rows (limit rows that cannot bind kept):"
cut -f1-19 "$out/keeprows.tsv" | column -t
echo
echo "raw GLPK rows (simplex):"
cut -f1-19 "$out/simplex.tsv" | column -t
echo "raw GLPK rows (interior point):"
cut -f1-19 "$out/interior.tsv" | column -t
