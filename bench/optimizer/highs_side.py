#!/usr/bin/python3
"""Reads opt_bench's tab-separated output, solves each exported MPS with HiGHS (SciPy linprog), prints a
markdown table with GLPK and HiGHS side by side. HiGHS time is the solve only (not the MPS parsing).
Usage: highs_side.py BENCH_TSV [BENCH_TSV_INTERIOR]"""
import csv
import os
import sys
import time

from scipy.optimize import linprog

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/optimizer"))
from mps import read_mps  # noqa: E402


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


main = rows(sys.argv[1])
interior = {(r["n"], r["circuits"]): r for r in rows(sys.argv[2])} if len(sys.argv) > 2 else {}
print("| vehicles x 96 | circuits | cols | rows | GLPK cold (ms) | GLPK warm: new prices (ms) | GLPK warm: +1 van (ms) "
      "| GLPK interior (ms) | HiGHS (ms) | GLPK / HiGHS | GLPK peak MB | objective GLPK / HiGHS |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in main:
    lp = read_mps(r["mps"])
    t0 = time.perf_counter()
    res = linprog(method="highs", **lp)
    highs_ms = (time.perf_counter() - t0) * 1e3
    ncols = len(lp["c"])
    nrows = (lp["A_ub"].shape[0] if lp["A_ub"] is not None else 0) + (lp["A_eq"].shape[0] if lp["A_eq"] is not None else 0)
    ip = interior.get((r["n"], r["circuits"]))
    cold = float(r["cold_ms"])
    print("| %s | %s | %d | %d | %.1f | %s | %s | %s | %.1f | %.2f | %s | %.8g / %.8g |" % (
        r["n"], r["circuits"], ncols, nrows, cold,
        r["warm_price_ms"] + (" (%s it)" % r["warm_price_iter"]), r["warm_van_ms"],
        ip["cold_ms"] if ip else "-", highs_ms, cold / highs_ms, r["glpk_mb"], float(r["objective"]), res.fun))
    sys.stdout.flush()
