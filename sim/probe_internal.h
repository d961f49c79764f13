/*
 * probe_internal.h - what probe.c (the run, the bench) and probe_cases.c (the catalogue) share.
 */
#ifndef SIM_PROBE_INTERNAL_H
#define SIM_PROBE_INTERNAL_H

#include "conform.h"
#include "probe.h"
#include "profiles.h"

struct pb_verdict {
    enum cf_verdict v;
    char why[512];
    char evidence[8192];
};

/* The session under test, as the cases learn it. */
struct pb {
    const struct pr_options *o;
    char abort[256];                   /* set: the remaining cases SKIP with this reason */
    enum sim_unit unit;                /* what the probe sets limits in (A when the station takes it) */
    int phases;                        /* SupplyPhases, 0: unknown (3) */
    double evse_max_w;                 /* EVSE 1's Power, 0: unknown */
    bool smart_charging;               /* SmartChargingCtrlr.Enabled */
    struct sim_station_spec spec;
    sim_profiles *store;               /* what the probe set and the station accepted */
    struct sim_evse_tx tx[2];          /* the transaction on EVSE 1 (tx[1]) */
    int seq_first;                     /* the transaction's first seqNo seen */
    int64_t limit_changed_ms;          /* when the last profile change was accepted */
    int connection_before_drop;
};

struct pb_case {
    const char *name, *what;
    void (*fn)(struct pb *pb, struct pb_verdict *r);
};
extern const struct pb_case pb_cases[];
extern const int pb_n_cases;

void pb_set(struct pb_verdict *r, enum cf_verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int64_t pb_now(void);                              /* wall clock, ms */
const char *pb_str(const cJSON *o, const char *k); /* "" when absent */
/* A CALL (payload freed) answered with a CALLRESULT; 0, or -1 with r set. */
int pb_call(const char *action, cJSON *payload, cJSON **out, struct pb_verdict *r);

/* The bench: a profile store shaped like the station (after the device model was read). */
int pb_bench_start(struct pb *pb);
double pb_limit(const struct pb *pb, double amps);
/* SetChargingProfile on evse; mirrored into the store when Accepted. 0, or -1 with r set (FAIL). */
int pb_set_profile(struct pb *pb, int evse, const char *profile_json, struct pb_verdict *r);
/* GetCompositeSchedule of EVSE 1 compared with the store's; sets r (PASS or FAIL). */
int pb_check_composite(struct pb *pb, int duration_s, struct pb_verdict *r);
/* The station's power readings for window_s against the limit in force; sets r. */
int pb_check_following(struct pb *pb, double window_s, struct pb_verdict *r);

#endif
