/*
 * baseline.h - what the depot would draw and cost with no CSMS control ("uncontrolled charging"), the
 * yardstick a smart-charging run is compared with.
 *
 * Every EV charges at its full power from the moment it is plugged in: its own limit at its SoC (taper
 * included), capped by its EVSE's and its station's hardware, and by the site's grid limit shared equally
 * among the EVs charging at that moment; an EV that wants less than its equal share leaves the rest to the
 * others (max-min fair sharing). Same EV model (ev.h), same plugging rule as `depotsim run` (the visit's
 * station, else the first station with a free EVSE, EVSEs in order), same report (report.h).
 *
 * Pure: no sockets, no clock, no I/O. Steps are at most step_ms long and also end at every arrival and
 * departure, so no EV charges outside its visit.
 * Thread: any; nothing shared.
 */
#ifndef SIM_BASELINE_H
#define SIM_BASELINE_H

#include "report.h"
#include "scenario.h"

#include <stddef.h>
#include <stdint.h>

struct sim_baseline_options {
    double grid_limit_w;  /* shared among the charging EVs; <= 0: no site limit */
    int64_t step_ms;      /* longest step, 1000..900000 (0: 60000) */
    const struct sim_prices *site_load; /* the building's kW on the same connection (borrowed), or NULL: the EVs
                                           share the limit less it */
};

/*
 * Runs the scenario uncontrolled and returns its report (caller frees with sim_report_free): vehicles with
 * requested vs delivered energy, the site's power per minute against grid_limit_w. NULL with err on bad
 * options, a scenario too long for a report, or out of memory.
 */
struct sim_report *sim_baseline_run(const struct sim_depot *depot, const struct sim_scenario *sc,
                                    const struct sim_baseline_options *opt, char *err, size_t err_len);

/*
 * Shares limit among n consumers that want want[i] (>= 0) each: out[i] = min(want[i], level), with the
 * level chosen so that the sum is min(limit, sum of wants). limit < 0: no limit (out = want).
 */
void sim_share_fair(const double *want, int n, double limit, double *out);

#endif
