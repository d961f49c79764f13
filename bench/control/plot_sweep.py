#!/usr/bin/python3
"""The chart of bench/control/sweep.py's JSON: energy delivered and cost per kWh against the site limit, for
depotd (one line per fail-safe), depotsim's uncontrolled baseline and the LP bound. Needs python3-matplotlib
(Debian).

    /usr/bin/python3 bench/control/plot_sweep.py docs/sweep-acn.json docs/sweep-acn.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        data = json.load(f)
    rows = [r for r in data["rows"] if r.get("depot", "acn") == "acn"]  # the truck depot has one limit: table only
    modes = sorted({r["failsafe"] for r in rows})
    fig, (ax_e, ax_c) = plt.subplots(1, 2, figsize=(11, 4.2))
    first = [r for r in rows if r["failsafe"] == modes[0]]
    lims = [r["site_limit_kw"] for r in first]
    for ax, key, unit in ((ax_e, "energy_kwh", "energy delivered (kWh)"), (ax_c, "eur_per_kwh", "cost (EUR/kWh)")):
        ax.plot(lims, [r[key]["baseline"] for r in first], "s--", color="grey", label="uncontrolled (depotsim)")
        ax.plot(lims, [r[key]["lp_bound"] for r in first], "^:", color="black", label="LP bound")
        for m in modes:
            rs = [r for r in rows if r["failsafe"] == m]
            ax.plot([r["site_limit_kw"] for r in rs], [r[key]["depotd"] for r in rs], "o-",
                    label="depotd, " + m)
        ax.set_xlabel("site limit (kW)")
        ax.set_ylabel(unit)
        ax.grid(True, alpha=0.3)
    ax_e.legend(fontsize=8)
    extra = ", " + " ".join(data["control"]) if data.get("control") else ""
    fig.suptitle("ACN depot (14 stations x 4 EVSEs), %g day(s) from %s%s: depotd against the site limit"
                 % (data["days"], data["from"], extra), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
