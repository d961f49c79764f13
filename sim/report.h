/*
 * report.h - what a run produced: per vehicle energy requested vs delivered by departure, the site's
 * power per simulated minute against the grid limit, cost from a price file, protocol counters.
 * Pure accumulation; printing goes to the FILE the caller gives.
 * Thread: owned by the event loop thread.
 */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "circuits.h"
#include "ev.h"

struct sim_vehicle_result {
    char ev[SIM_ID_MAX + 1];
    char station[SIM_ID_MAX + 1];
    int evse;
    int64_t arrival_ms, departure_ms;
    double requested_wh, delivered_wh;
    double max_power_w;  /* the EV's own maximum, capped by its EVSE once plugged (what a plan may use) */
    bool plugged;        /* false: no free EVSE when it arrived */
};

struct sim_counters {
    uint64_t sent, received, callerrors_in, callerrors_out, invalid_frames, reconnects, timeouts;
    uint64_t profiles_accepted, profiles_rejected;
    uint64_t replayed;        /* offline TransactionEvents (offline=true) the CSMS answered */
    uint64_t resumed;         /* connections that went on Accepted without a BootNotification (no reboot) */
    uint64_t resume_refused;  /* of those, refused with SecurityError (the CSMS lost the registration): booted */
};

struct sim_prices {
    int n;
    int64_t *t_ms;       /* start of each price, ascending */
    double *eur_kwh;
};

struct sim_report;

/* Minute buckets from start to end (bounded: at most 4 years of minutes). NULL on bad bounds. */
struct sim_report *sim_report_new(int64_t start_ms, int64_t end_ms, double grid_limit_w);
void sim_report_free(struct sim_report *r);
/* The building's load on the same connection (kW from each time on; borrowed: it must outlive the report): counted
 * with the chargers against the grid limit, never in their energy or cost. NULL: none. */
void sim_report_set_site_load(struct sim_report *r, const struct sim_prices *kw);
/* That load at t (0 without one, or before its first value). */
double sim_report_site_load_kw(const struct sim_report *r, int64_t t_ms);

/*
 * The depot's circuits (borrowed: they must outlive the report), so that energy given with a circuit counts in it
 * and in every circuit above it, per grid phase. Call before any energy. 0, or -1 (more than SIM_CIRCUITS_MAX, out
 * of memory: three series of minutes per circuit).
 */
int sim_report_set_circuits(struct sim_report *r, const struct sim_circuit *c, int n);
/* The site drew wh[p] on grid phase p during [t_ms, t_ms + dt_ms) through circuit (1 + index in the circuits;
 * 0: directly under the site): spread over the minutes it covers, in the site's total, its phases and the circuits. */
void sim_report_energy_phases(struct sim_report *r, int circuit, int64_t t_ms, int64_t dt_ms, const double wh[3]);
/* The same, balanced over the three phases, directly under the site. */
void sim_report_energy(struct sim_report *r, int64_t t_ms, int64_t dt_ms, double wh);
/* Returns the slot to fill (valid until the next call), NULL when full. */
struct sim_vehicle_result *sim_report_vehicle(struct sim_report *r);
struct sim_counters *sim_report_counters(struct sim_report *r);
/* The i-th vehicle recorded (in the order they left), NULL past the last. */
const struct sim_vehicle_result *sim_report_vehicle_at(const struct sim_report *r, int i);

struct sim_site_summary {
    double energy_kwh;
    double max_kw;              /* highest one-minute average */
    double phase_max_kw[3];     /* highest one-minute average of each grid phase (each its own minute) */
    int minutes_above;          /* minutes whose average, with the building's load, exceeded the grid limit */
    double worst_exceed_kw;
    double site_max_kw;         /* highest one-minute average with the building's load (= max_kw without one) */
    double cost_eur;            /* NAN without prices */
    double priced_share;        /* share of the energy a price covered */
    int vehicles, vehicles_met; /* met: delivered >= 99 % of requested */
    double requested_kwh, delivered_kwh;
};
void sim_report_summary(const struct sim_report *r, const struct sim_prices *prices, struct sim_site_summary *out);
/* A circuit's figures, the same way as the site's: one-minute averages. */
struct sim_circuit_summary {
    double max_kw;              /* highest one-minute average of its total */
    double phase_max_kw[3];     /* highest one-minute average of each grid phase */
    int minutes_above;          /* minutes above its limit; a perPhase limit is checked on the minute's worst phase */
    double worst_exceed_kw;     /* perPhase: by how much the worst phase exceeded */
};
int sim_report_circuit_count(const struct sim_report *r);
/* The i-th circuit (as given to sim_report_set_circuits) with its figures; NULL past the last. */
const struct sim_circuit *sim_report_circuit_summary(const struct sim_report *r, int i,
                                                     struct sim_circuit_summary *out);
double sim_report_minute_kw(const struct sim_report *r, int minute);
int sim_report_minutes(const struct sim_report *r);
/* Average site power over the whole minutes in [from_ms, to_ms), kW (0 outside the report). */
double sim_report_average_kw(const struct sim_report *r, int64_t from_ms, int64_t to_ms);
/* Cost of the energy of the minutes before until_ms, EUR (each minute at the price in force at its start). */
double sim_report_cost_until(const struct sim_report *r, const struct sim_prices *prices, int64_t until_ms);

/* Vehicles, site, circuits (when any) and message counters (when any). */
void sim_report_print(const struct sim_report *r, const struct sim_prices *prices, FILE *out);
/* A controlled run next to the uncontrolled baseline of the same depot, visits and prices: energy delivered vs
 * needed, vehicles met, cost, peak, minutes above the limit, and what control saved. */
void sim_report_print_comparison(const struct sim_report *controlled, const struct sim_report *baseline,
                                 const struct sim_prices *prices, FILE *out);
/* The report as JSON: "site", "circuits" (each {"id", "parent" (null: the site), "limitKw" or "limitA",
 * "perPhase", "maxKw", "phaseMaxKw" [L1, L2, L3], "minutesAboveLimit", "worstExceedanceKw"}), "vehicles",
 * "messages"; with a baseline (may be NULL) also "baseline": {"savingEur", "site", "circuits", "vehicles"}.
 * 0, or -1 with err. */
int sim_report_write_json(const struct sim_report *r, const struct sim_report *baseline,
                          const struct sim_prices *prices, const char *path, char *err, size_t err_len);

/* Prices CSV: "time,price" with time RFC 3339 or ENTSO-E "01jan2022 00:00:00" (read as UTC), price in
 * EUR/kWh. 0, or -1 with err. */
int sim_prices_load(const char *path, struct sim_prices *out, char *err, size_t err_len);
void sim_prices_free(struct sim_prices *p);
/* The price in force at t, or NAN when t is before the first row. */
double sim_prices_at(const struct sim_prices *p, int64_t t_ms);

#endif
