/*
 * control_internal.h - the control loop's own state, shared by control.c (orchestration, profiles, saga),
 * control_model.c (the live model of EVSEs, sessions and needs), control_build.c and control_plan.c (the planner) and
 * control_caps.c (the station maxima that follow the plan).
 * Not part of any contract: only the control_*.c files and the loop's C tests include it.
 */
#ifndef DEPOTD_CONTROL_INTERNAL_H
#define DEPOTD_CONTROL_INTERNAL_H

#include <pthread.h>

#include "control.h"
#include "departures.h"
#include "depot.h"
#include "optimizer.h"
#include "schedule.h"

#define CTL_EVSE_MAX 64
#define CTL_VEHICLE_ID_MAX 48
/* A plan's first slot is cut where sessions leave inside it, into at most this many parts (control_build.c). */
#define CTL_MAX_PARTS 9
#define CTL_CUT_MIN_MS 60000 /* no part shorter than a minute */

enum ctl_failsafe { CTL_FAILSAFE_STATION_MAX, CTL_FAILSAFE_TX_DEFAULT };

/* control.circuits (control_circuits.c): the feeder tree, parents before children. */
#define CTL_CIRCUITS_MAX 64
#define CTL_LOAD_SLOTS 1024 /* the building's load: 10 days of 15-minute slots */
struct ctl_circuit {
    char id[48];
    int parent;                  /* index, below this one's; -1: directly under the site */
    double limit_kw;             /* per phase when per_phase (limit_a x nominal_voltage_v) */
    bool per_phase;
};
struct ctl_attach { char station[CFG_STATION_ID_MAX + 1]; int evse; int circuit; }; /* evse 0: the whole station */
struct ctl_rotation { char station[CFG_STATION_ID_MAX + 1]; int evse; int rotation; }; /* control_circuits.c's ROTATIONS */

struct ctl_vehicle {
    char id[CTL_VEHICLE_ID_MAX + 1];
    double battery_kwh;          /* 0: unknown */
    double max_kw;               /* 0: unknown */
    char **id_tokens;
    int n_id_tokens;
    bool has_need;               /* the dispatcher's need */
    struct control_need need;
    /* the API's registry (control_query.c): fleet scope, id token group, DC limit, who set the need and when */
    char fleet[CONTROL_FLEET_MAX + 1];
    char group_id_token[37];     /* "": none (answered to stations, unused by the planner) */
    double max_dc_kw;            /* 0: unknown (recorded; the planner uses max_kw) */
    char need_by[CONTROL_FLEET_MAX + 1];
    int64_t need_set_ms;         /* wall clock */
};

struct ctl_config {
    bool enabled;
    double site_limit_kw;
    int slot_minutes, horizon_h;
    enum ctl_failsafe failsafe;
    int failsafe_stations;
    double failsafe_evse_kw;     /* an idle EVSE's floor, the TxDefaultProfile of a station that keeps floors */
    double idle_reserve_pct;     /* the least share of the limit the idle floors get when not all fit */
    double nominal_voltage_v;
    double min_current_a;
    double evse_max_kw;          /* when the station does not say (EVSE Power MaxSet) */
    int tx_stack_level;
    int replan_delay_ms;         /* coalescing window (real ms) */
    double drift_kw, drift_kwh;  /* meter drift (power, energy since the plan) that triggers a re-plan */
    double noncompliance_kw;
    int noncompliance_s;         /* planning-clock seconds above the limit before a station is non-compliant */
    int ev_max_retry_min;        /* a learned EV maximum is forgotten (full power offered again) after this; 0: never */
    double default_dwell_h, default_energy_kwh;
    double departure_margin_min; /* plans finish this long before departure */
    double energy_margin_pct;    /* plans aim this much above the need */
    double at_risk_kwh;          /* shortfall that raises departure_at_risk */
    double earliness_pct;        /* the optimizer's earliness, in % */
    double departure_hedge_pct;  /* plan to be done this share of the stay early (%) */
    double departure_hedge_max_pct; /* the most the hedge learned from ended sessions may be (%); 0: not learned */
    double departure_hedge_new_pct; /* the learned hedge until enough sessions ended (%) */
    bool verify_composite;       /* GetCompositeSchedule after an accepted profile */
    int solver_time_limit_ms;
    int mip_max_binaries;
    int64_t clock_skew_tolerance_ms; /* the server's clock_skew_tolerance_s: profiles hold this far either way */
    /* control.demand (control_demand.c): the bill's price per kW of the billing period's peak */
    bool demand_on;
    double demand_price_per_kw;
    int demand_billing_day, demand_interval_min;
    /* control.circuits, control.phase_rotation (control_circuits.c) */
    struct ctl_circuit *circuits;
    int n_circuits;
    struct ctl_attach *attach;
    int n_attach;
    struct ctl_rotation *rotations;
    int n_rotations;        /* exact min-current MIP up to this many on/off variables; 0: never */
    struct ctl_vehicle *vehicles;
    int n_vehicles;
};

/* Where an EVSE's draw stands, as far as the site limit is concerned. */
enum ctl_evse_mode {
    CTL_MODE_FAILSAFE = 0,       /* no TxProfile of ours in force: bounded by the fail-safe profile */
    CTL_MODE_CONTROLLED,         /* following the TxProfile it accepted (applied) */
    CTL_MODE_UNCONTROLLED,       /* rejected or did not answer a profile: planned around at its fail-safe limit */
    CTL_MODE_NONCOMPLIANT,       /* draws above its limit: planned around with its measured draw */
};

struct ctl_evse {
    int id;
    bool present;
    char status[24];
    /* the session */
    bool active;
    char tx_id[37];
    char id_token[37];
    char vehicle[CTL_VEHICLE_ID_MAX + 1];
    int64_t started_ms;
    bool has_register;
    double register_start_wh, register_wh;
    double power_w;              /* last measured (or derived from the register) */
    int64_t power_ms, register_ms;
    int64_t power_from_ms;       /* power_w is the mean over [power_from_ms, power_ms] (equal: a measured power) */
    double soc_pct;              /* the EV's state of charge the station last reported in this session; -1: none.
                                    Shown to the operator (control_live.c), not planned with */
    bool charging;               /* chargingState Charging */
    bool ev_suspended;           /* chargingState SuspendedEV: the EV takes nothing (full, or it paused) */
    /* the EV's own needs (NotifyEVChargingNeeds) */
    bool ev_need;
    int64_t ev_departure_ms;
    double ev_energy_wh, ev_need_base_wh, ev_max_w, ev_min_w;
    int ev_phases;               /* the session's car draws on 1 or 3 phases, as measured or told; 0: not known */
    bool ev_need_base_known;     /* false: the needs came before any meter reading; count from the first */
    /* capabilities */
    double max_w;                /* EVSE Power MaxSet; 0: unknown */
    int phases;                  /* 0: unknown (then the station's) */
    bool dc;                     /* reported SupplyPhases 0 */
    /* control */
    enum ctl_evse_mode mode;
    bool distrusted;             /* its composite schedule did not match: stays uncontrolled for the session */
    bool applied_valid;          /* `applied` is the TxProfile in force at the station */
    bool resend;                 /* its station reconnected: the next plan sends its TxProfile even if unchanged */
    bool profile_unknown;        /* a TxProfile depotd does not know may be in force: one of before its restart, or
                                    of before the station's reboot (kept or not); cleared by one of ours accepted */
    bool floor;                  /* idle, it keeps a fail-safe floor in the plan in force (control_floors.c) */
    struct sched *applied;       /* the TxProfile in force while applied_valid (allocated at the first: 6 KB) */
    int64_t over_since_ms;       /* measured above the limit since (0: not) */
    int64_t drift_replan_ms;     /* the last re-plan this session's meter drift asked for */
    uint64_t drift_plan_id;      /* energy drift: the plan the baseline below belongs to */
    double drift_base_wh;        /* the register at the first reading under that plan */
    int64_t drift_base_ms;
    int64_t energy_drift_ms;     /* the last re-plan this session's energy drift asked for */
    struct sched_evmax observed; /* the EV took only this much while offered more (full, tapering) */
    /* A session on a station flagged non-compliant: a probe TxProfile (its fail-safe limit) went out; readings at
     * or under it since probe_ok_ms (0: not). One slot of them clears the station. */
    bool probe_sent;
    int64_t probe_ok_ms;
    double reserved_w;           /* what the plan in force reserved for it while non-compliant */
    bool at_risk;
    double short_kwh;
    int session_index;           /* index in the plan in force, or -1 */
};

struct ctl_station {
    struct station *st;
    /* [0..evse_cap), [0] unused, grown by ctl_evse() as EVSEs appear (most stations have one or two: a fixed
     * CTL_EVSE_MAX array was 450 KB a station). Growing moves it: hold no ctl_evse pointer across ctl_evse(). */
    struct ctl_evse *evse;
    int evse_cap;
    int max_evse;
    /* capabilities */
    bool rate_w, rate_a, rate_known;
    int periods_per_schedule;    /* 0: unknown */
    int max_stack_level;         /* 0: unknown */
    int supply_phases;           /* 0: unknown */
    bool dc;                     /* reported SupplyPhases 0 */
    /* fail-safe */
    double failsafe_w;           /* the station's share of the site limit */
    bool failsafe_sent, failsafe_accepted, failsafe_rejected, failsafe_due;
    bool failsafe_reoffer;       /* a station that refused it gets it offered once more (boot, reconnect) */
    double txdefault_w;          /* TxDefaultProfile: per EVSE, what the plan in force keeps (its floor, or 0) */
    int64_t failsafe_sent_ms;    /* planning clock: when the fail-safe now in force (or in flight) was sent */
    double failsafe_sent_w;      /* the limit of the fail-safe last accepted (or in flight) */
    /* ChargingStationMaxProfile that follows the plan over time (README "Smart charging"): what depotd counts
     * against the site limit for this station is ctl_cap_counted, at every moment the cap in force or the one in
     * flight when higher. Schedules on depotd's clock (the wire has them in the station's, ctl_wire_schedule). */
    bool cap_known;              /* cap was accepted (or restored from the log) */
    struct sched *cap;           /* the cap in force (these three allocated when first set: 6 KB each, and a
                                    station without station maxima never needs them) */
    bool cap_inflight;
    struct sched *cap_sent;      /* sent, not answered */
    bool cap_stuck;              /* refused or lost a cap change: counted as it is, not changed until it boots */
    bool cap_raise;              /* saga phase 2: raise to cap_next once every decrease is answered */
    struct sched *cap_next;
    /* Sticky non-compliance: an EVSE of it drew above its limit. Every session on it starts planned around (at
     * what the EV may draw) until the station reboots or follows a probe profile for a full slot, measured. */
    bool noncompliant;
    /* Limits from outside depotd the station reported (NotifyChargingLimit, control_external.c), or NULL. */
    struct ctl_ext_limit *ext;
    int n_ext;
    struct ctl_station *next;
    struct ctl_station *hnext;   /* ctl->by_id chain */
};

/* A CALL in flight that control wants the answer to. */
struct ctl_call {
    uint64_t cookie;
    char station[CFG_STATION_ID_MAX + 1];
    int evse;                    /* 0: station-wide (fail-safe) */
    int kind;                    /* CTL_CALL_* */
    uint64_t plan_id;
    int phase;                   /* saga phase 1 (decreases) or 2 (increases) */
    struct sched sched;          /* what was sent, on depotd's clock */
    int64_t clock_off_ms, clock_unc_ms; /* how it went on the wire, in the station's time (ctl_wire_schedule) */
    int64_t sent_ms;             /* planning clock: when it was sent (a composite's answer is judged knowing it) */
    bool confirming;             /* a composite asked again to confirm a mismatch (control_verify.c) */
    cJSON *held_req;             /* a cap raise waiting for its station_cap event to be durable (write-ahead) */
    struct ctl_call *next;
};
enum { CTL_CALL_FAILSAFE = 1, CTL_CALL_TX_PROFILE, CTL_CALL_COMPOSITE };

/* Periods per schedule when a station does not say (PeriodsPerSchedule): a common minimum. */
#define CTL_CAP_PERIODS_DEFAULT 24

struct ctl_plan;          /* control_plan.c */
struct ctl_planner;       /* control_plan.c */
struct tariff_price;      /* tariff.h */

/* The seam: every call the control loop makes into the server. depotd's (control_depot.c) goes to the stations,
 * the event log, the planning clock and lws' timers; the C tests' (tests/control/test_loop.c) keep what was sent
 * and answer by hand. Loop thread only, except post (the planner's worker). */
enum ctl_timer { CTL_TIMER_REPLAN, CTL_TIMER_BOUNDARY };
struct ctl_port {
    void *ctx;
    int64_t (*now_ms)(void *ctx);                    /* the planning clock */
    int64_t (*mono_ms)(void *ctx);                   /* real, monotonic: latencies */
    int64_t (*real_delay_ms)(void *ctx, int64_t t);  /* real ms until planning time t */
    bool (*connected)(void *ctx, const struct station *st);
    /* A CALL to the station (req is not taken); its answer comes to ctl_on_answer with the cookie. 0, or -1 (err). */
    int (*call)(void *ctx, struct station *st, const char *action, const cJSON *req, uint64_t cookie, char *err,
                size_t err_len);
    uint64_t (*log_event)(void *ctx, const char *type, const char *station, const char *json); /* ticket; 0: failed */
    /* fn once the ticket's events are durable (or failed to be); 0, or -1 (not queued: fn never runs). */
    int (*after_durable)(void *ctx, uint64_t ticket, void (*fn)(struct control *ctl, void *arg, bool durable),
                         void *arg);
    void (*arm)(void *ctx, enum ctl_timer which, int64_t real_ms);  /* ctl_on_timer(which) after real_ms */
    void (*station_clock)(void *ctx, const struct station *st, int64_t *offset_ms, int64_t *uncertainty_ms);
    int (*prices)(void *ctx, int64_t slot0, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
                  size_t err_len);                 /* prices.h */
    size_t (*stations_known)(void *ctx);             /* registered stations, connected or not */
    /* The load the plan counts (kW: the building with its margin, less PV and a battery's discharge) and the building
     * alone in n slots from slot0; -1: no site load feed. May be NULL. */
    int (*site_load)(void *ctx, int64_t slot0, int64_t slot_ms, size_t n, double *kw, double *building);
    /* From the worker thread: fn(ctl, arg) on the loop thread, or fn(NULL, arg) when control is gone by then. */
    int (*post)(void *ctx, void (*fn)(struct control *ctl, void *arg), void *arg);
    void (*planned)(void *ctx);                      /* a plan came back (the API's waiters) */
};

struct control {
    struct depot *d;             /* depotd's port only (control_depot.c, the restore at start, control_query.c) */
    const struct config *conf;
    struct ctl_port port;
    struct ctl_config cfg;
    struct ctl_station *stations;
    struct ctl_station **by_id;  /* hash of the stations by id (control_model.c): a lookup per message */
    size_t n_by_id;              /* buckets */
    int n_stations;
    /* temporary site limit (a site_limit event; restored from the newest at start while it lasts) */
    double override_kw;
    int64_t override_until_ms;
    char override_by[CONTROL_FLEET_MAX + 1];
    /* re-planning */
    struct ctl_planner *planner;
    bool replan_wanted, solving;
    char replan_reasons[160];
    lws_sorted_usec_list_t replan_sul, boundary_sul; /* depotd's port's timers */
    bool sul_armed;              /* the re-plan timer is armed */
    int64_t replan_requested_mono;
    /* the plan in force and the one waiting for the saga to finish */
    struct ctl_plan *plan, *waiting;
    /* the transition saga */
    int saga_phase;              /* 0: idle, 1: decreases in flight, 2: increases in flight */
    int saga_in_flight;
    bool saga_failed;
    struct ctl_plan *saga_plan;
    struct ctl_target *targets;  /* control.c: this saga's EVSEs and their schedules */
    int n_targets;
    struct ctl_call *calls;
    struct ctl_call *rechecks;   /* composite mismatches waiting for the station's next CALL (control_verify.c) */
    int caps_held;               /* cap raises waiting for their write-ahead event to be durable */
    bool saga_tx_deferred;       /* phase 2's TxProfiles wait for those raises to leave first */
    uint64_t next_cookie;
    uint64_t next_plan_id;
    struct control_stats stats;
    struct departures departures; /* how the told departures were kept (departures.h) */
    double hedge_logged_pct;     /* the learned hedge last logged */
    struct ctl_circuit_limit {   /* control.circuits: a temporary limit set through the API (control_circuits.c) */
        double kw;               /* < 0: none */
        int64_t until_ms;
        char by[CONTROL_FLEET_MAX + 1];
        bool seen;               /* at start: its newest event was read (control_restore.c) */
    } circuit_limit[CTL_CIRCUITS_MAX];
    struct ctl_site_load {       /* the building's load over the horizon, from the port (control_model.c) */
        bool on;
        int64_t start_ms, slot_ms;
        int n;
        double kw[CTL_LOAD_SLOTS];       /* what the plan counts */
        double building[CTL_LOAD_SLOTS]; /* the building alone (no PV, no battery): what the fail-safe counts */
        double peak_kw;          /* the building's highest: what the fail-safe must leave room for */
    } load;
    struct ctl_demand {          /* the billing period's peak (control_demand.c) */
        struct tariff_tz *tz;    /* the depot's timezone: where billing periods start */
        int64_t period_ms;       /* the period peak_kw belongs to */
        double peak_kw;          /* its highest interval mean so far */
        int64_t peak_at_ms;      /* that interval's start */
        double interval_wh;      /* energy in the open interval so far */
        int64_t last_ms;         /* the measured site power was last_w since then */
        double last_w;
    } demand;
};

static inline int64_t ctl_now(const struct control *ctl) { return ctl->port.now_ms(ctl->port.ctx); }
static inline int64_t ctl_mono(const struct control *ctl) { return ctl->port.mono_ms(ctl->port.ctx); }
static inline bool ctl_connected(const struct control *ctl, const struct ctl_station *cs)
{
    return ctl->port.connected(ctl->port.ctx, cs->st);
}
/* TxDefaultProfile: a plan's saga can move this station's default (lower it in phase 1, before any raise): it is
 * connected and took ours. */
static inline bool ctl_txdefault_movable(const struct control *ctl, const struct ctl_station *cs)
{
    return ctl_connected(ctl, cs) && !cs->failsafe_rejected && cs->failsafe_sent && cs->failsafe_accepted;
}
static inline int ctl_send(struct control *ctl, struct ctl_station *cs, const char *action, const cJSON *req,
                           uint64_t cookie, char *err, size_t err_len)
{
    return ctl->port.call(ctl->port.ctx, cs->st, action, req, cookie, err, err_len);
}

/* control.c: a control for conf (its "control" section) over port (ctx NULL: the control itself), the planner
 * started when enabled; NULL with err. Nothing restored from the log (control_depot.c does that for depotd). */
struct control *ctl_new(const struct config *conf, const struct ctl_port *port, char *err, size_t err_len);
void ctl_free(struct control *ctl);
/* The first plan and the slot timer, once the loop runs. */
void ctl_begin(struct control *ctl);
/* A re-plan after the coalescing window (reason: why, in the plan event); a timer armed through the port fired. */
void ctl_replan(struct control *ctl, const char *reason);
void ctl_on_timer(struct control *ctl, enum ctl_timer which);

/* control_station.c: what the stations tell and answer (control.h's control_on_* with the control). */
void ctl_on_boot_accepted(struct control *ctl, struct station *st, bool caps_coming);
void ctl_on_reconnect(struct control *ctl, struct station *st, bool caps_coming);
void ctl_on_disconnect(struct control *ctl, struct station *st);
void ctl_on_status(struct control *ctl, struct station *st, const cJSON *payload);
void ctl_on_transaction_event(struct control *ctl, struct station *st, const cJSON *payload);
void ctl_on_call(struct control *ctl, struct station *st);
void ctl_on_meter_values(struct control *ctl, struct station *st, const cJSON *payload);
void ctl_on_ev_needs(struct control *ctl, struct station *st, const cJSON *payload);
/* NotifyChargingLimit (cleared false) or ClearedChargingLimit (control_external.c): re-plans when it changes. */
void ctl_on_charging_limit(struct control *ctl, struct station *st, const cJSON *payload, bool cleared);
/* The same from the store at start-up (no re-plan: the first plan comes when the loop runs); received_ms (planning
 * clock) is when depotd heard of it, where a schedule without a startSchedule starts. */
void ctl_restore_charging_limit(struct control *ctl, struct station *st, const cJSON *payload, int64_t received_ms);
/* The lowest external limit on this EVSE over [from, to) (W; the station's shared by its sessions), INFINITY: none. */
double ctl_external_limit_w(const struct control *ctl, const struct ctl_station *cs, int evse, int64_t from, int64_t to);
/* ReportChargingProfiles: its ChargingStationExternalConstraints profiles from a source other than the CSO. */
void ctl_on_reported_profiles(struct control *ctl, struct station *st, const cJSON *payload);
/* The same from the store at start-up (the station's last report; no re-plan), reported at received_ms (planning
 * clock). */
void ctl_restore_reported_profiles(struct control *ctl, struct station *st, const cJSON *payload, int64_t received_ms);
void ctl_external_free(struct ctl_station *cs);
/* The charging profile ids depotd sends under (its fail-safe and its TxProfiles): an operator may not use them. */
#define CTL_PROFILE_ID_FAILSAFE 1
#define CTL_PROFILE_ID_TX_BASE 1000
#define CTL_PROFILE_ID_OURS(id) ((id) == CTL_PROFILE_ID_FAILSAFE || ((id) >= CTL_PROFILE_ID_TX_BASE && (id) < 2000))
int ctl_operator_profile_refused(const struct control *ctl, const char *action, const cJSON *request, char *why,
                                 size_t len);
void ctl_on_operator_profile(struct control *ctl, struct station *st, const char *action, const cJSON *request,
                             const cJSON *response);
void ctl_on_variables(struct control *ctl, struct station *st, const cJSON *result);
void ctl_on_capabilities_read(struct control *ctl, struct station *st);
void ctl_on_answer(struct control *ctl, const struct ocpp_event *ev);

/* The hedge in force (%): departure_hedge_pct, or more when the ended sessions ask for it (control_model.c);
 * logged when it moved by 5 points or more. */
double ctl_hedge_pct(const struct control *ctl);
void ctl_departures_log_hedge(struct control *ctl);

/* control_model.c */
int ctl_config_parse(struct ctl_config *cfg, const struct config *c, char *err, size_t err_len);
void ctl_config_free(struct ctl_config *cfg);
struct ctl_station *ctl_station(struct control *ctl, struct station *st);   /* creates */
struct ctl_station *ctl_station_find(struct control *ctl, const char *id);
struct ctl_evse *ctl_evse(struct ctl_station *cs, int evse_id);             /* NULL when out of range */
/* *slot, allocated when NULL (NULL when memory is out): the schedules a station or EVSE keeps are set this way. */
struct sched *ctl_sched_slot(struct sched **slot);
/* A station's cap, cap_sent and cap_next, allocated before its first station maximum is sent or restored. */
bool ctl_caps_alloc(struct ctl_station *cs);
struct ctl_vehicle *ctl_vehicle_find(struct control *ctl, const char *id);
/* Which vehicle an id token belongs to ("" when none). */
const char *ctl_vehicle_for_token(struct control *ctl, const char *token);
int ctl_restore(struct control *ctl, char *err, size_t err_len);
/* Station's unit for profiles, phases and minimum. */
void ctl_unit(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e, struct sched_unit *u);
double ctl_evse_max_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e);
/* Site limit in force at t (kW). */
/* The connection's limit at planning time t, or a temporary one below it, without the building. */
double ctl_connection_kw(const struct control *ctl, int64_t t);
/* The limit for charging at planning time t: the connection's, a temporary one, less the building's load. */
double ctl_site_limit_kw(const struct control *ctl, int64_t t);
/* The limit the fail-safe must keep while depotd is down, from now on: the limit now without the building's load
 * of the moment, less the highest load of the horizon. Equal to ctl_site_limit_kw(now) without a load feed. */
double ctl_failsafe_limit_kw(const struct control *ctl, int64_t now);
/* The building's load at t (0 without a feed; the horizon's highest beyond it), and its highest in [from, to). */
double ctl_site_load_kw(const struct control *ctl, int64_t t);
double ctl_site_load_max_kw(const struct control *ctl, int64_t from, int64_t to);
/* The building alone (no PV, no battery) at its highest in [from, to): what station maxima, the fail-safe, keep room for. */
double ctl_site_building_max_kw(const struct control *ctl, int64_t from, int64_t to);
/* The limit for charging that holds over all of [from, to): a plan slot. */
double ctl_site_limit_over_kw(const struct control *ctl, int64_t from, int64_t to);
/* Reads the building's load over the horizon from the port; true when it moved by more than half a kW anywhere. */
bool ctl_site_load_refresh(struct control *ctl);
/* What a station that refused its fail-safe may draw: every EVSE at full power. */
double ctl_station_hw_w(const struct control *ctl, const struct ctl_station *cs);
/* The station's fail-safe limit (W) and the per-EVSE one. */
double ctl_failsafe_station_w(const struct control *ctl);
/* One station's fail-safe cap: the site's share, and each feeder's above it (control.circuits) shared by the stations
 * listed under it. */
double ctl_failsafe_cap_w(const struct control *ctl, const struct ctl_station *cs);
/* The fail-safe caps of the stations listed under feeder k that depotd has not seen yet (W). */
double ctl_caps_feeder_unseen_w(const struct control *ctl, int k);
/* What the feeders above cs leave its cap at every moment (the others' caps counted; INFINITY without feeders). */
void ctl_caps_feeder_room(const struct control *ctl, const struct ctl_station *cs, struct sched *room);
double ctl_failsafe_evse_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e);
/* What an EVSE may draw while depotd sends it nothing new (planned around: uncontrolled, disconnected): its
 * fail-safe, or the TxProfile it accepted last when that is higher. */
double ctl_evse_held_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e);

/* The need in force for a session: where it comes from, departure, energy still to deliver (kWh), limits. */
struct ctl_need {
    const char *source;          /* "dispatcher", "ev", "default" */
    int64_t departure_ms;
    double remaining_kwh;
    double need_kwh;             /* total asked for this session */
    double priority;
    bool best_effort;            /* "charge to full": never at risk */
    double max_kw;               /* the EV's own limit (0: none known) */
};
void ctl_need_for(const struct control *ctl, const struct ctl_evse *e, int64_t now, struct ctl_need *out);

/* Model updates from the stations' messages (control_model.c); those returning an EVSE return NULL when the
 * message names none depotd can place, ctl_model_transaction 1 when a session started or ended, 2 when its EV
 * stopped or resumed by itself (SuspendedEV). */
void ctl_model_status(struct ctl_station *cs, const cJSON *p);
int ctl_model_transaction(struct control *ctl, struct ctl_station *cs, const cJSON *p);
struct ctl_evse *ctl_model_meter(struct control *ctl, struct ctl_station *cs, const cJSON *p);
struct ctl_evse *ctl_model_needs(struct control *ctl, struct ctl_station *cs, const cJSON *p);
void ctl_model_variables(struct ctl_station *cs, const cJSON *result);
/* control_meter.c: what one meterValue[] array says (its sampledValues without a phase; the last of each wins):
 * Energy.Active.Import.Register (Wh) and Power.Active.Import (W), multiplier and kWh/kW applied, and the station's
 * stamp of them (its clock; 0: none); SoC (%, 0..100). has_*: said, finite and within bounds. */
struct ctl_reading {
    double wh, w, soc_pct;
    bool has_wh, has_w, has_soc;
    double amps;                 /* Current.Import: the phases' total without "phase", else the highest phase's */
    int phases_drawing;          /* phases with a per-phase Current.Import above 1 A (0: none reported per phase) */
    int64_t t;
};
void ctl_read_meter(const cJSON *meter_values, struct ctl_reading *r);
int ctl_phases_measured(int known, const struct ctl_reading *r, double volts); /* control_model.c: 1, 3, or known */
/* The phases a session's car draws on: measured or told (ev_phases), else its EVSE's. */
int ctl_session_phase_count(const struct ctl_station *cs, const struct ctl_evse *e);
/* control_live.c: control_live_json of this control, at its clock's now. */
cJSON *ctl_live_json(struct control *ctl, const char *fleet);

/* control_plan.c */
struct ctl_plan_session {
    char station[CFG_STATION_ID_MAX + 1];
    int evse;
    char tx_id[37];
    char vehicle[CTL_VEHICLE_ID_MAX + 1];
    struct ctl_need need;
    double max_kw, min_kw;
    double shortfall_kwh, planned_kwh;
    double margin_kwh;           /* planned above the need (not an alarm when it is short) */
    double hedge_kwh;            /* departure_hedge_pct: what it could still take at full power between the earlier
                                    time it is planned to be done by and its departure (not an alarm either) */
};
struct ctl_plan_cap {
    char station[CFG_STATION_ID_MAX + 1];
    bool adjustable;
    double want_w, cap_w;        /* slot 0 of the two below (the plan event shows them) */
    double *want_slot_w;         /* [slots + 1]: sessions + reservations + idle floors per slot, and after the
                                    plan's horizon the floors alone */
    double *cap_slot_w;          /* [slots + 1]: the cap per slot, >= want where the site limit allows */
};
struct ctl_plan {
    uint64_t id;
    int64_t start_ms, first_end_ms, slot_ms; /* first_end_ms: where the grid slot of start_ms ends */
    int slots;
    int parts;                    /* slots before first_end_ms: 1, or more where sessions leave inside it */
    int64_t *at;                  /* [slots + 1] where each slot starts; at[slots]: the horizon's end */
    int n;                        /* sessions */
    struct ctl_plan_session *sessions;
    double *kw;                   /* [n * slots] */
    double *site_limit_kw;        /* [slots]: what the LP was given (after reservations) */
    double cost, shortfall_kwh, solve_ms;
    double lp_cost;              /* the LP relaxation's cost (unique at the optimum; cost after the 6 A repair) */
    const char *method;
    char solver[400];            /* each solve's start (warm/cold), iterations, ms and the optimizer's note */
    bool failed;
    char err[200];
    int64_t requested_mono, solved_mono;
    char reasons[160];
    struct ctl_plan_cap *caps;   /* ChargingStationMaxProfile: per station; NULL otherwise */
    int n_caps;
    double *cap_slots;           /* the storage of caps[].want_slot_w and cap_slot_w */
    int caps_pass;               /* 1, or 2 when the first plan's peaks did not fit and it was re-planned */
};
/* One problem for the worker (control_build.c builds it on the loop thread; control_plan.c solves it). */
struct ctl_job {
    struct control *ctl;
    struct opt_problem pb;
    struct opt_session *sessions;
    struct opt_circuit *circuits;
    double *price, *limit, *max_slot;
    double part_hours[CTL_MAX_PARTS];
    char **ids;
    /* ChargingStationMaxProfile: one row per station (index = its circuit), the budget outside them */
    struct sched_cap *caps;
    int n_caps;
    double *caps_limit_w;         /* [slots + 1] the station maxima's room in each slot and after the horizon */
    double caps_other_w;
    double *cap_old;             /* [n_caps * (slots + 1)]: each counted cap per slot (its highest there), the last
                                    column after the horizon */
    double *cap_lim;             /* [n_caps * slots]: the circuits' per-slot limits */
    /* With control.circuits and station maxima: the feeders are circuits 1..n_circuits (placeholders in caps[]),
     * each station's circuit under its feeder; cap_feeder[c] is station circuit c's feeder (-1: none) and
     * feeder_w[k * (slots + 1) + t] feeder k's limit (W) that the stations' caps under it share in slot t. */
    int *cap_feeder;
    double *feeder_w;
    struct ctl_plan *plan;
    cJSON *record;               /* the plan event: inputs now, the result added when it is back */
};

/* The plan's slot that holds t: 0 before the plan starts, slots at or after its horizon. */
int ctl_plan_slot_at(const struct ctl_plan *p, int64_t t);
/* The grid slot (0: the one now) that plan slot t lies in: the parts of slot 0 are all in grid slot 0. */
static inline int ctl_plan_grid_slot(const struct ctl_plan *p, int t) { return t < p->parts ? 0 : t - p->parts + 1; }
struct ctl_job *ctl_job_build(struct control *ctl, const char *reasons); /* NULL: nothing to do (out of memory) */
void ctl_job_free(struct ctl_job *j);
/* control_build_caps.c: with station maxima, station circuit `circuit` of a job (its hardware or fixed cap per slot,
 * under its feeder), circuit 0's room for the adjustable stations, and each feeder's (circuits 1..n_circuits). */
void ctl_caps_station_circuit(struct control *ctl, struct ctl_station *cs, struct ctl_job *j, int circuit,
                              bool adjustable, int64_t now);
void ctl_caps_adjustable_circuit(struct control *ctl, struct ctl_job *j, int T, int nc);
void ctl_caps_feeder_limits(struct control *ctl, struct ctl_job *j, int T, int nc);
/* Worker side (control_caps.c): the station maxima of slot t (t == slots: after the horizon) made to fit every
 * feeder, taking back first what the share added above a station's want. 1 when a cap fell below its want. */
int ctl_caps_fit_feeders(const struct ctl_job *j, struct sched_cap *row, int n, int t, int T);
struct ctl_planner *ctl_planner_start(struct control *ctl, char *err, size_t err_len);
void ctl_planner_stop(struct ctl_planner *p);
const struct opt_options *ctl_planner_options(const struct ctl_planner *p);
/* Builds the problem from the model now, logs it, and hands it to the worker. 0, or -1 (nothing to do). */
int ctl_planner_submit(struct control *ctl, const char *reasons);
void ctl_plan_free(struct ctl_plan *p);
/* control.c: a solved plan is back on the loop thread. */
void ctl_plan_ready(struct control *ctl, struct ctl_plan *plan);
/* control.c: an event in the log (takes o); a CALL whose answer comes to control_on_answer. control_station.c: an
 * EVSE that does not follow its profile is planned around at its fail-safe limit (event, re-plan). */
/* control_circuits.c: the feeder tree. */
int ctl_circuits_parse(struct ctl_config *cfg, const cJSON *circuits, const cJSON *rotation, char *err, size_t len);
void ctl_circuits_free(struct ctl_config *cfg);
int ctl_circuit_of(const struct ctl_config *cfg, const char *station, int evse); /* -1: under the site only */
/* The phases a session loads: 1-phase (phases 1) on the grid phase its station's L1 is wired to, else all three. */
enum opt_phases ctl_session_phases(const struct ctl_config *cfg, const char *station, int evse, int phases);
double ctl_circuit_load_kw(const struct ctl_circuit *c, enum opt_phases ph, double kw);
bool ctl_circuits_per_phase(const struct ctl_config *cfg, const char *station, int evse); /* evse 0: any of it */
int ctl_circuit_find(const struct ctl_config *cfg, const char *id); /* index in control.circuits, -1: none */
double ctl_circuit_limit_kw(const struct control *ctl, int c, int64_t t); /* the configured, or a lower temporary one */
struct floor_ask;
cJSON *ctl_circuits_plan_json(struct control *ctl, const struct ctl_plan *p); /* NULL without circuits */
void ctl_circuits_fit_floors(const struct control *ctl, struct floor_ask *a, int n, struct ctl_station *const *ask_cs,
                             const struct ctl_evse *const *ask_e, double *spare_w);
double ctl_circuits_take_spare(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e,
                               double want_w, double *spare_w);
/* control_demand.c: the demand charge's billing-period peak. */
int ctl_demand_parse(struct ctl_config *cfg, const cJSON *o, char *err, size_t err_len);
int ctl_demand_start(struct control *ctl, char *err, size_t err_len); /* loads the timezone */
void ctl_demand_free(struct control *ctl);
int64_t ctl_demand_period_start(const struct control *ctl, int64_t t);
double ctl_measured_site_w(const struct control *ctl);   /* sum of the sessions' last measured power */
void ctl_demand_sample(struct control *ctl);              /* after a session's measured power may have changed */
void ctl_demand_restore(struct control *ctl, const char *data); /* the last demand_peak event's data */
double ctl_demand_peak_kw(const struct control *ctl, int64_t now); /* 0: none, or not of this billing period */
cJSON *ctl_demand_json(const struct control *ctl, double plan_peak_kw); /* null when off; plan_peak_kw < 0: none */
double ctl_plan_peak_kw(const struct ctl_plan *p);        /* the plan's highest slot of charging (kW) */
uint64_t ctl_log_event(struct control *ctl, const char *type, const char *station, cJSON *o); /* the ticket, or 0 */
struct ctl_call *ctl_call_new(struct control *ctl, const char *station, int evse, int kind);
void ctl_compensate(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, const char *why, uint64_t plan_id);
/* control_failsafe.c, for control_caps.c: a fail-safe profile (the station maximum when the fail-safe is one) at w, in saga
 * phase 1 or 2 of plan_id (0: outside the saga); forget a call; a saga call answered, failed or withheld (the next
 * phase when it was the last); phase 2's TxProfile raises. */
void ctl_send_failsafe_w(struct control *ctl, struct ctl_station *cs, double w, uint64_t plan_id, int phase);
/* The same with a schedule (a station maximum that follows the plan; quantized already). */
void ctl_send_failsafe_sched(struct control *ctl, struct ctl_station *cs, const struct sched *s, uint64_t plan_id,
                             int phase);
void ctl_call_drop(struct control *ctl, struct ctl_call *c);
/* The call a CALL's cookie names, taken off the list (NULL: not ours, or answered already). */
struct ctl_call *ctl_call_take(struct control *ctl, uint64_t cookie);
/* control_failsafe.c: a station's fail-safe (re)sent, and every station's refreshed after a change that moves
 * them; the TxDefaultProfiles that move in saga phase 1 (down) or 2 (up), how many were sent. */
void ctl_send_failsafe(struct control *ctl, struct ctl_station *cs);
void ctl_refresh_failsafes(struct control *ctl);
int ctl_send_txdefaults(struct control *ctl, uint64_t plan_id, int phase);
/* control.c: the periods a station's schedules may have (its PeriodsPerSchedule, or the default). */
int ctl_periods_for(const struct ctl_station *cs);
void ctl_saga_call_done(struct control *ctl, uint64_t plan_id);
void ctl_saga_send_increases(struct control *ctl);

/* control_caps.c: */
/* Station maxima that follow the plan (ChargingStationMaxProfile). Counted: the cap in force, or in flight when
 * higher; the equal share for a station that never accepted one; its hardware when it refused the fail-safe.
 * ctl_cap_counted_w is its highest from now on; ctl_cap_base the same without what is in flight. */
void ctl_cap_counted(const struct control *ctl, const struct ctl_station *cs, struct sched *out);
void ctl_cap_base(const struct control *ctl, const struct ctl_station *cs, struct sched *out);
double ctl_cap_counted_w(const struct control *ctl, const struct ctl_station *cs);
/* Stations depotd has not seen yet (registered, or failsafe_stations): the equal share each. */
double ctl_caps_unseen_w(const struct control *ctl);
/* The sum the caps must stay under: the site limit in force now (a temporary lower limit included). */
double ctl_caps_limit_w(const struct control *ctl, int64_t now);
/* The room of all station maxima over [from, to) as planned at `now` (a temporary limit counts as if it held for
 * ever; the building at its highest over the span; after the horizon, the fail-safe's limit), W. */
double ctl_caps_limit_over_w(const struct control *ctl, int64_t now, int64_t from, int64_t to);
/* The same as a schedule from now on, over the building load's slots and beyond. */
void ctl_caps_limit(const struct control *ctl, int64_t now, struct sched *out);
/* Sum of every station's counted cap plus the unseen ones, from now on (except: leaves that station out);
 * ctl_caps_sum_w its highest. */
void ctl_caps_sum(const struct control *ctl, const struct ctl_station *except, struct sched *out);
double ctl_caps_sum_w(const struct control *ctl);
/* Whether cap s on station cs keeps the sum under the limit at every moment from now on. */
bool ctl_caps_fit(const struct control *ctl, const struct ctl_station *cs, const struct sched *s);
/* What cs's cap may be at every moment from now with the others' caps counted: the least of the site's room and
 * its feeders' (W, >= 0). */
void ctl_caps_room(const struct control *ctl, const struct ctl_station *cs, struct sched *room);
/* The same, saying in why (may be NULL) what it does not fit and by how much. */
bool ctl_caps_fit_why(const struct control *ctl, const struct ctl_station *cs, const struct sched *s, char *why,
                      size_t len);
/* Whether depotd may change this station's cap now (connected, answered, never refused one). */
bool ctl_cap_adjustable(const struct control *ctl, const struct ctl_station *cs);
/* What an idle EVSE keeps in its station's cap for a car that plugs in while depotd is down. */
double ctl_idle_floor_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e);
/* control_floors.c: before a plan, which idle EVSEs keep a floor (e->floor; TxDefaultProfile: cs->txdefault_w);
 * a summary goes into the plan event rec. */
void ctl_plan_floors(struct control *ctl, int64_t now, cJSON *rec);
/* What an EVSE adds to what nobody can move (committed) or to what the sessions could take at most (demand), W. */
void ctl_evse_load(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e, double *committed,
                   double *demand);
/* Every cap change sent or answered as a station_cap event with every station's counted cap (returns the ticket). */
uint64_t ctl_caps_log(struct control *ctl, struct ctl_station *cs, const char *what, const struct sched *cap, uint64_t plan_id,
                      int phase);
/* At start: each station counted at the newest station_cap event. */
void ctl_caps_restore(struct control *ctl);
/* A raise (call c, request req, taken) leaves only once its "sending" event is durable. */
void ctl_caps_hold_raise(struct control *ctl, struct ctl_station *cs, struct ctl_call *c, cJSON *req);
/* The station went away: its raises still waiting for their event are withheld. */
void ctl_caps_on_disconnect(struct control *ctl, const char *station);
/* A plan's caps: decreases sent now (phase 1), raises marked for phase 2; counts both. */
void ctl_caps_plan(struct control *ctl, struct ctl_plan *plan, int *decreases, int *increases);
/* Phase 2: the marked raises that still fit. */
void ctl_caps_send_raises(struct control *ctl);
/* The answer to a plan's cap change (status NULL: none came; why says what happened). */
/* A cap answered, in or outside the saga (answered false: no answer, either may be in force). */
void ctl_caps_on_answer(struct control *ctl, struct ctl_station *cs, const struct ctl_call *c, bool accepted,
                        bool answered);
void ctl_caps_answer(struct control *ctl, struct ctl_station *cs, struct ctl_call *c, bool accepted, const char *status,
                     const char *why);

/* control_verify.c: control.verify_composite. After a TxProfile is accepted, GetCompositeSchedule for its
 * EVSE; an answer that does not match what was sent (or Rejected) is a composite_mismatch and a compensation. */
/* chargingSchedule[0] of a profile for this station: s in its own time (sched_for_clock with its measured clock
 * and control's clock_skew_tolerance_s), noted in c so the same can be rebuilt. */
cJSON *ctl_wire_schedule(struct control *ctl, struct ctl_station *cs, const struct sched *s, const struct sched_unit *u,
                         struct ctl_call *c);
/* The same rebuilt from what c noted. */
void ctl_wire_of(const struct control *ctl, const struct ctl_call *c, struct sched *wire);
/* A station maximum as it would go on the wire to cs now. */
void ctl_wire_sched(struct control *ctl, struct ctl_station *cs, const struct sched *s, struct sched *wire);
struct ctl_call *ctl_verify_send(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, const struct ctl_call *tx,
                     uint64_t plan_id);
void ctl_verify_answer(struct control *ctl, struct ctl_call *c, const struct ocpp_event *ev);
/* The station sent a CALL (handled): a mismatch waiting for its news is asked about again now. */
void ctl_verify_on_call(struct control *ctl, struct ctl_station *cs);
void ctl_verify_free(struct control *ctl);

#endif
