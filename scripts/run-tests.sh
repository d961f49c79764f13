#!/usr/bin/env bash
# Runs the meson test suite in each build dir given, then prints one summary line for all of them.
# An argument DIR:SUITE runs DIR's tests except those of meson suite SUITE (the sanitizer build skips the long
# end-to-end depot days whose code paths other tests already run under it; see tests/control/meson.build).
set -uo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
passed=0 failed=0 skipped=0 rc=0
for arg in "$@"; do
  dir=${arg%%:*}
  skip=()
  [[ $arg == *:* ]] && skip=(--no-suite "${arg#*:}")
  ninja -C "$dir" >/dev/null || { echo "build failed in $dir"; ninja -C "$dir"; exit 1; }
  echo "== tests in $dir${skip:+ (${skip[*]})}"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "${skip[@]}" || rc=1
  log="$dir/meson-logs/testlog.json"
  if [[ -f $log ]]; then
    read -r p f s < <(python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[[ $rc -eq 0 && $failed -eq 0 ]]
