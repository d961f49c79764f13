#!/usr/bin/python3
"""Independent cross-check: random instances solved by the optimizer (GLPK) are exported as MPS; HiGHS (via
SciPy) solves the same files; the optimal objectives must agree within 1e-6 relative.
Usage: crosscheck_highs.py EXPORT_TOOL [COUNT]. Exit 77 (meson: skipped) when SciPy is missing."""
import os
import subprocess
import sys
import tempfile

try:
    from scipy.optimize import linprog
except ImportError:
    print("SciPy not available to this interpreter (%s): skipped" % sys.executable)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mps import read_mps  # noqa: E402

tool = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
failures = 0
with tempfile.TemporaryDirectory(prefix="opt-crosscheck-") as d:
    subprocess.run([tool, d, str(count)], check=True)
    lines = open(os.path.join(d, "objectives.txt")).read().split("\n")
    lines = [l for l in lines if l]
    if len(lines) != count:
        print("FAIL exporter wrote %d of %d instances" % (len(lines), count))
        failures += 1
    for line in lines:
        name, glpk_obj, n, T, nc = line.split()
        lp = read_mps(os.path.join(d, name))
        res = linprog(method="highs", **lp)
        rel = abs(res.fun - float(glpk_obj)) / max(1.0, abs(float(glpk_obj))) if res.status == 0 else float("inf")
        ok = res.status == 0 and rel <= 1e-6
        failures += not ok
        print("%s %s: %s sessions x %s slots, %s circuits: GLPK %.10g HiGHS %.10g (rel diff %.2g)"
              % ("ok  " if ok else "FAIL", name, n, T, nc, float(glpk_obj), res.fun, rel))
print("crosscheck_highs: %d failure(s)" % failures)
sys.exit(1 if failures else 0)
