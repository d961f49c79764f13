/* Shared by report.c and report_circuits.c; not part of the report's contract (report.h). */
#ifndef SIM_REPORT_INTERNAL_H
#define SIM_REPORT_INTERNAL_H

#include "report.h"

#include <cjson/cJSON.h>

struct sim_report {
    int64_t start_ms;
    int minutes;
    double *minute_wh;          /* the site's total per minute */
    double *phase_wh;           /* the site per grid phase: [p * minutes + m] */
    const struct sim_circuit *circuits; /* borrowed (sim_report_set_circuits) */
    int ncircuits;
    double *circuit_wh;         /* per circuit and grid phase: [(c * 3 + p) * minutes + m]; NULL without circuits */
    double grid_limit_w;
    const struct sim_prices *site_load; /* the building's kW (sim_report_set_site_load), or NULL */
    int nveh, capveh;
    struct sim_vehicle_result *veh;
    struct sim_counters c;
};

/* The highest one-minute average seen and the minutes above a limit: one rule for the site, its phases and every
 * circuit, so that "above" means the same everywhere. */
struct sim_report__peak {
    double max_kw;
    int minutes_above;
    double worst_exceed_kw;
};
/* One minute's average kW against limit_kw (<= 0: no limit). */
void sim_report__peak_add(struct sim_report__peak *p, double kw, double limit_kw);
/* A minute's energy as its average power. */
double sim_report__kw(double minute_wh);

/* report_circuits.c: the circuits' table after the site's figures (nothing without circuits), their lines in the
 * comparison with a baseline, and their JSON array. */
void sim_report__print_circuits(const struct sim_report *r, FILE *out);
void sim_report__compare_circuits(const struct sim_report *ctl, const struct sim_report *base, FILE *out);
cJSON *sim_report__circuits_json(const struct sim_report *r);

#endif
