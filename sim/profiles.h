/*
 * profiles.h - the charging profiles one simulated station holds, as OCPP 2.0.1 block K says a
 * station must: K01 SetChargingProfile validation with a reason, stack levels per purpose, validity,
 * Absolute / Relative / Recurring schedules, EVSE 0 versus a specific EVSE, A or W, K08 composite
 * schedule as the minimum of what applies, K09 / K10 selection criteria.
 *
 * Pure: no sockets, no clock. Every time is milliseconds since the Unix epoch on the simulated clock,
 * passed in by the caller. Powers are W, currents A per phase, energies Wh.
 * Thread: a store belongs to the thread of the station that owns it.
 */
#ifndef SIM_PROFILES_H
#define SIM_PROFILES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PERIODS_MAX 96      /* hard bound on periods kept per schedule; PeriodsPerSchedule <= this */
#define SIM_PROFILES_MAX 64     /* profiles one station keeps */
#define SIM_TX_ID_MAX 36        /* transactionId: identifierString maxLength 36 */
#define SIM_EVSE_MAX 16         /* EVSEs per station */
#define SIM_NO_LIMIT 1e12       /* "nothing limits": larger than any real power in W */

enum sim_purpose {
    SIM_PURPOSE_STATION_MAX,     /* ChargingStationMaxProfile */
    SIM_PURPOSE_TX_DEFAULT,      /* TxDefaultProfile */
    SIM_PURPOSE_TX,              /* TxProfile */
    SIM_PURPOSE_EXTERNAL,        /* ChargingStationExternalConstraints */
};
enum sim_kind { SIM_KIND_ABSOLUTE, SIM_KIND_RECURRING, SIM_KIND_RELATIVE };
enum sim_recurrency { SIM_RECUR_NONE, SIM_RECUR_DAILY, SIM_RECUR_WEEKLY };
enum sim_unit { SIM_UNIT_A, SIM_UNIT_W };

const char *sim_purpose_name(enum sim_purpose p);
int sim_purpose_from_name(const char *name);  /* -1 when unknown */
const char *sim_unit_name(enum sim_unit u);

struct sim_period {
    int32_t start_s;     /* seconds from the schedule's start */
    double limit;        /* in the schedule's unit; A is per phase */
    int phases;          /* numberPhases; 0 when absent (the station's phases apply, K01.FR.xx default 3) */
};

struct sim_schedule {
    int id;
    bool has_start;
    int64_t start_ms;    /* startSchedule */
    bool has_duration;
    int32_t duration_s;
    enum sim_unit unit;
    int nperiods;
    struct sim_period periods[SIM_PERIODS_MAX];
};

struct sim_profile {
    int id;
    int stack_level;
    enum sim_purpose purpose;
    enum sim_kind kind;
    enum sim_recurrency recurrency;
    bool has_valid_from, has_valid_to;
    int64_t valid_from_ms, valid_to_ms;
    char tx_id[SIM_TX_ID_MAX + 1];   /* TxProfile: the transaction it belongs to ("" otherwise) */
    int nschedules;                  /* 1..3 in the message; limits come from the first (ISO 15118 offers
                                        the others to the EV) */
    struct sim_schedule schedule;    /* chargingSchedule[0] */
    int extra_periods;               /* periods the message carried beyond SIM_PERIODS_MAX (then rejected) */
};

/* What the station is, as far as profiles care. */
struct sim_station_spec {
    int evse_count;              /* 1..SIM_EVSE_MAX */
    bool dc;
    int phases;                  /* AC: 1 or 3 */
    double voltage_v;            /* AC: nominal phase voltage; DC: nominal voltage used for A <-> W */
    double evse_max_w;           /* what one EVSE can deliver (AC: max current x phases x voltage) */
    double station_max_w;        /* the station's connection (<= evse_count x evse_max_w) */
    bool unit_a, unit_w;         /* ChargingScheduleChargingRateUnit */
    int periods_per_schedule;    /* PeriodsPerSchedule */
    int max_stack_level;         /* ProfileStackLevel */
    int entries_max;             /* Entries of ChargingProfile: how many profiles fit (<= SIM_PROFILES_MAX) */
};

/* The transaction running on one EVSE, as the station knows it ("" id: none). Arrays of these are
 * indexed by evseId, element 0 unused, evse_count + 1 long. */
struct sim_evse_tx {
    char tx_id[SIM_TX_ID_MAX + 1];
    int64_t start_ms;
};

/* Why a profile was Rejected: reasonCode (StatusInfo, at most 20 characters) and additionalInfo. */
struct sim_reject {
    char reason[21];
    char info[256];
};

typedef struct sim_profiles sim_profiles;

/* The spec is copied. NULL on ENOMEM or an invalid spec. */
sim_profiles *sim_profiles_new(const struct sim_station_spec *spec);
void sim_profiles_free(sim_profiles *store);

/*
 * chargingProfile JSON (already valid against the SetChargingProfileRequest schema) to a profile.
 * Returns 0, or -1 with err when a date-time does not parse or a required field is missing.
 */
int sim_profile_from_json(const cJSON *json, struct sim_profile *out, char *err, size_t err_len);
/* The profile as chargingProfile JSON; caller frees with cJSON_Delete. */
cJSON *sim_profile_to_json(const struct sim_profile *p);

/*
 * K01: install the profile on evse_id (0: the station) or refuse it. Returns 0 (Accepted) or -1
 * (Rejected, *why filled). Replaces a profile with the same id (K01.FR.05).
 */
int sim_profiles_set(sim_profiles *store, int evse_id, const struct sim_profile *p,
                     const struct sim_evse_tx *tx, struct sim_reject *why);

/* K10 criteria; a field that is absent matches everything. */
struct sim_clear_criteria {
    bool has_id;
    int id;
    bool has_evse;
    int evse_id;
    bool has_purpose;
    enum sim_purpose purpose;
    bool has_stack_level;
    int stack_level;
};
/* Removes what matches; returns how many (0: answer Unknown). */
int sim_profiles_clear(sim_profiles *store, const struct sim_clear_criteria *c);

/* K09: copies up to max matching profiles (with the EVSE each sits on) and returns how many matched. */
int sim_profiles_select(const sim_profiles *store, const struct sim_clear_criteria *c, int ids_n,
                        const int *ids, struct sim_profile *out, int *out_evse, int max);

/* K01.FR.xx: a TxProfile ends with its transaction. */
void sim_profiles_transaction_ended(sim_profiles *store, const char *tx_id);

/* Drop profiles whose validTo has passed. */
void sim_profiles_expire(sim_profiles *store, int64_t now_ms);

int sim_profiles_count(const sim_profiles *store);

/*
 * The composite limit in W at time t: for evse_id > 0 what that EVSE may draw (the winning TxProfile
 * or TxDefaultProfile, capped by ChargingStationMaxProfile, ExternalConstraints and the hardware);
 * for evse_id 0 what the whole station may draw.
 */
double sim_profiles_limit_w(const sim_profiles *store, int evse_id, int64_t t_ms, const struct sim_evse_tx *tx);
/*
 * The same for an EV that charges on ev_phases of the station's (0, or as many as the station has: the above). A
 * limit in A is a current per phase, so a 1-phase EV on a 3-phase station gets it on one phase only (16 A: 3.68 kW,
 * not 11.04); the EVSE's and the station's hardware maxima give it one phase's share. A limit in W stays W.
 */
double sim_profiles_limit_w_on(const sim_profiles *store, int evse_id, int64_t t_ms, const struct sim_evse_tx *tx,
                               int ev_phases);

/* The times in (start, end) at which a limit in force may change (any EVSE, the station), ascending, at most max. */
int sim_profiles_changes(const sim_profiles *store, int64_t start_ms, int64_t end_ms, const struct sim_evse_tx *tx,
                         int64_t *pts, int max);

/*
 * K08: the composite schedule from start for duration_s in unit, as periods relative to start
 * (merged where the limit does not change). Returns 0, or -1 with why (unsupported unit, unknown EVSE).
 */
int sim_profiles_composite(const sim_profiles *store, int evse_id, int64_t start_ms, int32_t duration_s,
                           enum sim_unit unit, const struct sim_evse_tx *tx, struct sim_schedule *out,
                           struct sim_reject *why);

/* A <-> W with the station's phases and voltage (phases 0: the station's). */
double sim_profiles_to_w(const sim_profiles *store, double limit, enum sim_unit unit, int phases);
double sim_profiles_from_w(const sim_profiles *store, double w, enum sim_unit unit);

#endif
