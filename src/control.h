/*
 * control.h - the smart-charging control loop: what depotd knows about every EVSE and session, the needs
 * (departure, energy), the planner worker that turns them into a plan with the optimizer, and the charging
 * profiles that carry the plan to the stations, safely.
 *
 * Needs, in order of precedence (documented in the README):
 *   1. the dispatcher's entry for the vehicle (control.needs in the config; the JSON API later);
 *   2. the EV's own NotifyEVChargingNeeds (departureTime, energyAmount, its current/power limits);
 *   3. the default policy (control.default_dwell_h, control.default_energy_kwh; 0 = charge to full within
 *      the EV's limit, a best-effort need that never raises an alarm).
 * Vehicles are matched to sessions by id token (id_tokens[].vehicle, control.vehicles[].id_tokens).
 *
 * Safety (the guarantee the README states): every station gets a fail-safe profile at boot and on every
 * reconnect (ChargingStationMaxProfile by default, or TxDefaultProfile) whose limits, summed over every
 * station depotd knows, fit under the site limit; plans are computed within those limits, and profile
 * changes are applied decreases first, increases only once the decreases were accepted.
 *
 * Threads: everything here runs on the loop thread, except the solve, which runs on the planner worker
 * (control.c); the result comes back through depot_post().
 */
#ifndef DEPOTD_CONTROL_H
#define DEPOTD_CONTROL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct depot;
struct station;
struct conn;
struct ocpp_event;

/* ---- the planning clock ---------------------------------------------------------------------------------
 * Wall-clock time, or a simulated clock (config `clock`: {"start", "speed", "anchor_unix_ms"}: simulated time
 * = start + (wall - anchor) x speed) so depotd can run a depot day against depotsim in a few real seconds.
 * Set once at start-up, read from any thread. */
int depot_clock_configure(const cJSON *clock, char *err, size_t err_len);
int64_t depot_now_ms(void);
/* Real milliseconds until the planning clock reaches t (0 when it has). */
int64_t depot_clock_real_delay_ms(int64_t t);
bool depot_clock_simulated(void);

/* Starts the control loop: reads control.* from the config (errors name the key), restores the active
 * sessions from the store and starts the planner worker. With control.enabled false it only keeps the
 * model. Returns 0 or -1 with err. */
int control_start(struct depot *d, char *err, size_t err_len);
/* The `control` keys, as Markdown (after config_print_doc in `depotd --config-doc`). */
void control_print_doc(void);
/* Once the loop's lws context exists: arms the slot timer and asks for the first plan. */
void control_loop_started(struct depot *d);
void control_stop(struct depot *d);

/* ---- what stations tell (handlers.c calls these after validating the payload) ---- */
void control_on_boot_accepted(struct depot *d, struct station *st);
void control_on_disconnect(struct depot *d, struct station *st);
void control_on_status(struct depot *d, struct station *st, const cJSON *payload);
void control_on_transaction_event(struct depot *d, struct station *st, const cJSON *payload);
void control_on_meter_values(struct depot *d, struct station *st, const cJSON *payload);
void control_on_ev_needs(struct depot *d, struct station *st, const cJSON *payload);
/* A GetVariables result (capabilities: rate unit, periods per schedule, EVSE power and phases). */
void control_on_variables(struct depot *d, struct station *st, const cJSON *result);
/* The answer (or error, timeout, close) to a CALL depotd sent with a control cookie (depot_call's user). */
void control_on_answer(struct depot *d, const struct ocpp_event *ev);

/* ---- what dispatchers and operators tell ---- */
struct control_need {
    int64_t departure_ms;        /* planning clock */
    double energy_kwh;           /* energy to add during the session; < 0: not given */
    double target_soc;           /* 0..1, used when energy_kwh < 0 and the battery is known; < 0: not given */
    double priority;             /* 0 means 1 */
};
/* Sets (need != NULL) or clears the dispatcher's need for a vehicle and re-plans. 0, or -1 with err. */
int control_set_need(struct depot *d, const char *vehicle, const struct control_need *need, const char *who,
                     char *err, size_t err_len);
/* A temporary site limit (utility curtailment) until `until_ms`; kw < 0 clears it. Re-plans. */
int control_set_site_limit(struct depot *d, double kw, int64_t until_ms, const char *who, char *err, size_t err_len);

/* Ask for a re-plan (coalesced: many asks within control.replan_delay_ms are one solve). */
void control_replan(struct depot *d, const char *reason);

/* ---- reading state (API, metrics, tests) ---- */
struct control_stats {
    uint64_t plans, plans_failed, profiles_sent, profiles_accepted, profiles_rejected, profiles_failed;
    uint64_t compensations, noncompliant;
    int sessions, sessions_at_risk;
    double site_limit_kw, planned_site_kw, measured_site_kw;
    double last_solve_ms;
    uint64_t last_plan_id;
    const char *last_method;
};
void control_stats(struct depot *d, struct control_stats *out);

#endif
