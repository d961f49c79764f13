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
#include <stdio.h>
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
/* Planning-clock milliseconds per real millisecond (1 on the wall clock). */
double depot_clock_speed(void);

/* Starts the control loop: reads control.* from the config (errors name the key), restores the active
 * sessions from the store and starts the planner worker. With control.enabled false it only keeps the
 * model. Returns 0 or -1 with err. */
int control_start(struct depot *d, char *err, size_t err_len);
/* The `control` keys, as Markdown (after config_print_doc in `depotd --config-doc`). */
void control_print_doc(void);
/* `depotd --replay-plan N`: re-solves plan N from its event in the log at db_path and prints the comparison
 * to out. 0: the same plan within rounding; 1: a different plan; 2: cannot (no such plan, not logged with
 * its problem, unreadable), said on stderr. Needs no running depotd. */
int control_replay_plan(const char *db_path, uint64_t plan, FILE *out);
/* Once the loop's lws context exists: arms the slot timer and asks for the first plan. */
void control_loop_started(struct depot *d);
void control_stop(struct depot *d);

/* ---- what stations tell (handlers.c calls these after validating the payload) ---- */
/* caps_coming: a capability read is on its way; the fail-safe waits for control_on_capabilities_read. */
void control_on_boot_accepted(struct depot *d, struct station *st, bool caps_coming);
/* A new connection of an Accepted station without a boot (handlers.c depot_resume_station). */
void control_on_reconnect(struct depot *d, struct station *st, bool caps_coming);
void control_on_disconnect(struct depot *d, struct station *st);
void control_on_status(struct depot *d, struct station *st, const cJSON *payload);
void control_on_transaction_event(struct depot *d, struct station *st, const cJSON *payload);
void control_on_meter_values(struct depot *d, struct station *st, const cJSON *payload);
void control_on_ev_needs(struct depot *d, struct station *st, const cJSON *payload);
/* NotifyChargingLimit / ClearedChargingLimit (cleared): a limit from outside depotd the station enforces. */
void control_on_charging_limit(struct depot *d, struct station *st, const cJSON *payload, bool cleared);
/* ReportChargingProfiles: the ChargingStationExternalConstraints profiles in it are planned with like K12 limits. */
void control_on_reported_profiles(struct depot *d, struct station *st, const cJSON *payload);
/* An operator's SetChargingProfile / ClearChargingProfile (API commands) while depotd plans: 0 when it may go to the
 * station, or 409 with why. depotd's plan keeps TxProfile and its fail-safe's purpose, and profile ids 1 and
 * 1000-1999; an operator may set and clear a ChargingStationMaxProfile with the TxDefaultProfile fail-safe, which
 * depotd plans with once the station accepts it (control_on_operator_profile). 0 when smart charging is off. */
int control_operator_profile_refused(struct depot *d, const char *action, const cJSON *request, char *why, size_t len);
/* The station's answer to an operator's SetChargingProfile / ClearChargingProfile request. */
void control_on_operator_profile(struct depot *d, struct station *st, const char *action, const cJSON *request,
                                 const cJSON *response);
/* After any CALL of the station was handled (its news so far is known). */
void control_on_call(struct depot *d, struct station *st);
/* A GetVariables result (capabilities: rate unit, periods per schedule, EVSE power and phases). */
void control_on_variables(struct depot *d, struct station *st, const cJSON *result);
/* The capability read that a boot or reconnect started has ended (answered or not): the fail-safe goes out. */
void control_on_capabilities_read(struct depot *d, struct station *st);
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
/* The temporary site limit in force: true with its kW, end and who set it; false when there is none. */
bool control_site_override(struct depot *d, double *kw, int64_t *until_ms, const char **by);

/* Ask for a re-plan (coalesced: many asks within control.replan_delay_ms are one solve). */
void control_replan(struct depot *d, const char *reason);
/* The building's load was fetched (site_load.h): re-plans when it moved. */
void control_site_load_changed(struct depot *d);

/* ---- reading state (API, metrics, tests) ---- */
struct control_stats {
    bool enabled;               /* control.site_limit_kw set: depotd plans and sends profiles */
    uint64_t plans, plans_failed, profiles_sent, profiles_accepted, profiles_rejected, profiles_failed;
    uint64_t compensations, noncompliant;
    int sessions, sessions_at_risk;
    double site_limit_kw, planned_site_kw, measured_site_kw;
    double demand_peak_kw;      /* control.demand: the billing period's peak so far (0: none or off) */
    bool site_load_on;          /* a site_load feed: the building's load now (margin included) and the horizon's
                                   highest, which the fail-safe leaves room for */
    double site_load_kw, site_load_peak_kw, failsafe_limit_kw;
    double last_solve_ms;
    double departure_hedge_pct; /* in force: configured or learned from ended sessions */
    uint64_t last_plan_id;
    const char *last_method;
};
void control_stats(struct depot *d, struct control_stats *out);

/* ==== For the JSON API (control_query.c, owned by the API): the vehicle registry, the dispatcher's needs as
 * the control loop holds them, the plan in force, and the restore of both from the event log. Loop thread. */
#define CONTROL_VEHICLE_ID_MAX 48
#define CONTROL_FLEET_MAX 64
#define CONTROL_TOKENS_MAX 16
struct control_vehicle {
    char id[CONTROL_VEHICLE_ID_MAX + 1];
    char fleet[CONTROL_FLEET_MAX + 1];   /* "": none */
    double battery_kwh, max_kw, max_dc_kw; /* 0: unknown; max_kw is what the planner uses (AC) */
    int n_id_tokens;
    char id_tokens[CONTROL_TOKENS_MAX][37];
    char group_id_token[37];             /* "": none; its tokens' idTokenInfo.groupIdToken (type Central) */
};
/* Creates or replaces a vehicle (its need, if any, stays). An id token of another vehicle is refused (-1, err
 * naming id_tokens). New sessions are matched with it; sessions already running keep their vehicle. Re-plans. */
int control_vehicle_put(struct depot *d, const struct control_vehicle *v, bool *created, char *err, size_t err_len);
/* Removes a vehicle and its need; -1 when unknown. */
int control_vehicle_delete(struct depot *d, const char *id, char *err, size_t err_len);
bool control_vehicle_get(struct depot *d, const char *id, struct control_vehicle *out);
int control_vehicle_count(struct depot *d);
bool control_vehicle_at(struct depot *d, int i, struct control_vehicle *out);
/* Which vehicle an id token names ("" when none), as a new session would be matched. */
const char *control_vehicle_for_token(struct depot *d, const char *token);
/* The group_id_token of the vehicle an id token names ("" when none, or the vehicle has no group). Borrowed:
 * valid until the registry changes. */
const char *control_group_for_token(struct depot *d, const char *token);
/* The active session of a vehicle: true with its station, EVSE and transaction. */
bool control_vehicle_session(struct depot *d, const char *vehicle, char *station, size_t station_len, int *evse,
                             char *tx, size_t tx_len);
/* control_set_need, remembering who set it and when (wall clock; 0 = now). */
int control_put_need(struct depot *d, const char *vehicle, const struct control_need *need, const char *who,
                     int64_t set_ms, char *err, size_t err_len);
/* The dispatcher's need in force for a vehicle; false when none (or no such vehicle). who: >= 65 bytes. */
bool control_get_need(struct depot *d, const char *vehicle, struct control_need *out, char *who, int64_t *set_ms);

/* Whether the control loop plans at all (control.enabled). */
bool control_planning(struct depot *d);
/* control.at_risk_kwh: a shortfall above it is an alarm. */
double control_at_risk_kwh(struct depot *d);
/* Plans: the id the next submitted plan will get (a change made now is in it and every later one). */
uint64_t control_next_plan_id(struct depot *d);
/* Called (loop thread) after each solved or failed plan, with its id; set by the API. */
extern void (*control_plan_listener)(struct depot *d, uint64_t plan_id);
/* The newest solved plan's entry for a vehicle (it may still wait for the running transition). Returns 1 with
 * the figures, 0 when that plan has no session of the vehicle, -1 when there is no plan. shortfall_kwh is the
 * expected miss beyond the planning margin; feasible: not at risk. */
struct control_vehicle_plan {
    uint64_t plan_id;
    bool feasible, best_effort;
    double need_kwh, remaining_kwh, planned_kwh, shortfall_kwh;
    int64_t departure_ms;
    const char *need_source;
};
int control_plan_for_vehicle(struct depot *d, const char *vehicle, struct control_vehicle_plan *out);
/* The plan in force as the API documents it (schemas/openapi.json, Plan); NULL when there is none. */
cJSON *control_plan_json(struct depot *d);
/* The depot now, as control sees it: per station and EVSE the state the operator page shows (control_live.c says
 * what each field means). fleet: a fleet-scoped reader (NULL or "": all): another fleet's vehicle and transaction
 * are not named; the power, limits and status still are (the stations are shared). NULL when control is off (no
 * `control` config, or control.enabled false: no profiles, so no limits to show) or memory is out. The caller
 * frees it. Loop thread. */
cJSON *control_live_json(struct depot *d, const char *fleet);
/* control.circuits: per circuit of the feeder tree its limit (configured, in force, temporary), the plan in force's
 * peak on it (the worst phase of a per-phase one; 0 without a plan) and the headroom left; NULL without circuits.
 * Loop thread. */
cJSON *control_circuits_json(struct depot *d);
/* A temporary limit on a circuit (kW, per phase when it is per-phase) until a time, or none (kw < 0): it may only
 * lower the configured one; logged (circuit_limit event), planned at once. 0, -1 (control off), -2 (no such
 * circuit) or -3 (above the configured limit), with err. */
int control_set_circuit_limit(struct depot *d, const char *id, double kw, int64_t until_ms, const char *who, char *err,
                              size_t err_len);

/* control_start's hook: the API's vehicle and departure writes replayed from the event log on top of the
 * config (needs whose departure passed are dropped). 0, or -1 with err. */
int control_query_restore(struct depot *d, char *err, size_t err_len);
/* ctl_plan_ready's hook: tells control_plan_listener. */
void control_query_plan_done(struct depot *d);

#endif
