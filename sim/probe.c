/*
 * `depotsim probe`: the run, the verdicts and the report, and the smart charging bench: the profiles the probe
 * sends mirrored into a profile store (profiles.h, the code depotsim's own stations enforce), so the composite
 * schedule the charger reports can be compared with the one it should have, and its meter values held against
 * the limit in force. The cases themselves are in probe_cases.c.
 */
#include "probe_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void pb_set(struct pb_verdict *r, enum cf_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->v = v;
    if (v == CF_FAIL)
        pr_evidence(r->evidence, sizeof r->evidence);
}

int64_t pb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *pb_str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

int pb_call(const char *action, cJSON *payload, cJSON **out, struct pb_verdict *r)
{
    cJSON *res = NULL;
    enum ocpp_error code = OCPP_OK;
    int rc = pr_call(action, payload, &res, &code);
    cJSON_Delete(payload);
    if (rc != 0) {
        pb_set(r, CF_FAIL, "%s: %s", action, rc > 0 ? ocpp_error_name(code) : "no valid answer in time");
        cJSON_Delete(res);
        return -1;
    }
    if (out)
        *out = res;
    else
        cJSON_Delete(res);
    return 0;
}

/* ---- the smart charging bench ------------------------------------------------------------------------------ */

int pb_bench_start(struct pb *pb)
{
    pb->spec.evse_count = 1;
    pb->spec.phases = pb->phases > 0 ? pb->phases : 3;
    pb->spec.voltage_v = 230;
    pb->spec.evse_max_w = pb->evse_max_w > 0 ? pb->evse_max_w : 22080;
    pb->spec.station_max_w = pb->spec.evse_max_w;
    pb->spec.unit_a = pb->unit == SIM_UNIT_A;
    pb->spec.unit_w = pb->unit == SIM_UNIT_W;
    pb->spec.periods_per_schedule = SIM_PERIODS_MAX;
    pb->spec.max_stack_level = 100;
    pb->spec.entries_max = SIM_PROFILES_MAX;
    pb->store = sim_profiles_new(&pb->spec);
    return pb->store ? 0 : -1;
}

/* A limit the probe sets, in the station's unit: n A per phase, or what n A is on its phases in W. */
double pb_limit(const struct pb *pb, double amps)
{
    return pb->unit == SIM_UNIT_A ? amps : amps * 230.0 * pb->spec.phases;
}

int pb_set_profile(struct pb *pb, int evse, const char *profile_json, struct pb_verdict *r)
{
    cJSON *cp = cJSON_Parse(profile_json), *req = cJSON_CreateObject(), *res = NULL;
    if (!cp) {
        cJSON_Delete(req);
        pb_set(r, CF_FAIL, "probe bug: a profile that does not parse");
        return -1;
    }
    cJSON_AddNumberToObject(req, "evseId", evse);
    cJSON_AddItemToObject(req, "chargingProfile", cJSON_Duplicate(cp, 1));
    int rc = pb_call("SetChargingProfile", req, &res, r);
    if (rc == 0 && strcmp(pb_str(res, "status"), "Accepted") != 0) {
        const cJSON *si = cJSON_GetObjectItemCaseSensitive(res, "statusInfo");
        pb_set(r, CF_FAIL, "SetChargingProfile %s (purpose %s, kind %s): %s %s", pb_str(res, "status"),
               pb_str(cp, "chargingProfilePurpose"), pb_str(cp, "chargingProfileKind"), pb_str(si, "reasonCode"),
               pb_str(si, "additionalInfo"));
        rc = -1;
    }
    if (rc == 0) {
        struct sim_profile p;
        struct sim_reject why;
        char err[200];
        if (sim_profile_from_json(cp, &p, err, sizeof err) || sim_profiles_set(pb->store, evse, &p, pb->tx, &why)) {
            pb_set(r, CF_FAIL, "probe bug: its own profile %d not taken: %s", p.id, why.reason);
            rc = -1;
        } else {
            pb->limit_changed_ms = pb_now();
        }
    }
    cJSON_Delete(res);
    cJSON_Delete(cp);
    return rc;
}

/* Limits equal within 1 % or 0.1 A / 50 W. */
static bool same_limit(double a, double b, enum sim_unit u)
{
    return fabs(a - b) <= fmax(u == SIM_UNIT_A ? 0.1 : 50.0, 0.01 * fmax(fabs(a), fabs(b)));
}

static double period_at(const struct sim_schedule *s, int32_t t)
{
    double v = NAN;
    for (int i = 0; i < s->nperiods && s->periods[i].start_s <= t; i++)
        v = s->periods[i].limit;
    return v;
}

static void describe(const struct sim_schedule *s, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->nperiods && n + 24 < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%d s: %.1f", i ? ", " : "", s->periods[i].start_s, s->periods[i].limit);
}

/* K08: GetCompositeSchedule of EVSE 1 against the composite of what the probe set, from the station's
 * scheduleStart, compared at every period start of either (a station's clock may put a change up to 5 s off). */
int pb_check_composite(struct pb *pb, int duration_s, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(req, "evseId", 1);
    cJSON_AddNumberToObject(req, "duration", duration_s);
    cJSON_AddStringToObject(req, "chargingRateUnit", sim_unit_name(pb->unit));
    if (pb_call("GetCompositeSchedule", req, &res, r))
        return -1;
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(res, "schedule");
    int64_t start;
    int rc = -1;
    struct sim_schedule got, want;
    struct sim_reject why;
    cJSON *as_profile = cJSON_CreateObject();
    cJSON_AddNumberToObject(as_profile, "id", 1);
    cJSON_AddNumberToObject(as_profile, "stackLevel", 0);
    cJSON_AddStringToObject(as_profile, "chargingProfilePurpose", "TxDefaultProfile");
    cJSON_AddStringToObject(as_profile, "chargingProfileKind", "Absolute");
    cJSON *arr = cJSON_AddArrayToObject(as_profile, "chargingSchedule"), *one = cJSON_Duplicate(sch, 1);
    cJSON_AddItemToArray(arr, one);
    cJSON_AddNumberToObject(one, "id", 1);
    struct sim_profile gp;
    char err[200], a[600], b[600];
    if (strcmp(pb_str(res, "status"), "Accepted") != 0 || !sch) {
        pb_set(r, CF_FAIL, "GetCompositeSchedule %s, without a schedule", pb_str(res, "status"));
    } else if (ocpp_time_parse(pb_str(sch, "scheduleStart"), &start) ||
               sim_profile_from_json(as_profile, &gp, err, sizeof err)) {
        pb_set(r, CF_FAIL, "GetCompositeSchedule: a schedule the probe cannot read");
    } else if (sim_profiles_composite(pb->store, 1, start, duration_s, pb->unit, pb->tx, &want, &why)) {
        pb_set(r, CF_FAIL, "probe bug: no composite of its own (%s)", why.reason);
    } else {
        got = gp.schedule;
        describe(&got, a, sizeof a);
        describe(&want, b, sizeof b);
        rc = 0;
        for (int pass = 0; pass < 2 && rc == 0; pass++) {
            const struct sim_schedule *s = pass ? &got : &want;
            for (int i = 0; i < s->nperiods && rc == 0; i++) {
                int32_t t = s->periods[i].start_s + 5;
                if (t < duration_s && !same_limit(period_at(&got, t), period_at(&want, t), pb->unit))
                    rc = -1;
            }
        }
        if (rc)
            pb_set(r, CF_FAIL, "the composite the station reports (%s) is not what its profiles make (%s), in %s",
                   a, b, sim_unit_name(pb->unit));
        else
            pb_set(r, CF_PASS, "the station's composite (%s %s) is what its profiles make", a, sim_unit_name(pb->unit));
    }
    cJSON_Delete(as_profile);
    cJSON_Delete(res);
    return rc;
}

/* ---- meter values against the limit in force ----------------------------------------------------------------- */

/* The power in W a TransactionEvent or MeterValues reports (Power.Active.Import), NAN when it has none. */
static double power_of(const cJSON *payload)
{
    const cJSON *mv, *sv;
    double w = NAN;
    cJSON_ArrayForEach(mv, cJSON_GetObjectItemCaseSensitive(payload, "meterValue"))
        cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(mv, "sampledValue")) {
            if (strcmp(pb_str(sv, "measurand"), "Power.Active.Import") != 0 || pb_str(sv, "phase")[0])
                continue;
            double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sv, "value"));
            const char *unit = pb_str(cJSON_GetObjectItemCaseSensitive(sv, "unitOfMeasure"), "unit");
            w = strcmp(unit, "kW") == 0 ? v * 1000 : v;
        }
    return w;
}

static bool metering(const struct pr_msg *m, const void *arg)
{
    (void)arg;
    return strcmp(m->action, "MeterValues") == 0 ||
           (strcmp(m->action, "TransactionEvent") == 0 && cJSON_GetObjectItemCaseSensitive(m->payload, "meterValue"));
}

/* Watches the station's power for window_s: every reading from reaction_s after the last limit change on must be
 * within the limit in force (+ tolerance). FAIL with the worst reading; SKIP when it reports no power. */
int pb_check_following(struct pb *pb, double window_s, struct pb_verdict *r)
{
    int64_t end = pb_now() + (int64_t)(window_s * 1000), from = pb->limit_changed_ms + (int64_t)(pb->o->reaction_s * 1000);
    int n = 0, over = 0;
    double worst = 0, worst_w = 0, worst_limit = 0, max_w = 0;
    while (pb_now() < end) {
        struct pr_msg *m = pr_wait_msg(NULL, metering, NULL, (double)(end - pb_now()) / 1000.0);
        if (!m)
            break;
        double w = power_of(m->payload);
        if (isnan(w) || m->at_ms < from)
            continue;
        double lim = sim_profiles_limit_w(pb->store, 1, m->at_ms, pb->tx);
        n++;
        max_w = fmax(max_w, w);
        double excess = w - lim * (1 + pb->o->tolerance_pct / 100.0) - 100;
        if (excess > 0 && (over++ == 0 || excess > worst))
            worst = excess, worst_w = w, worst_limit = lim;
    }
    if (n < 2)
        pb_set(r, CF_SKIP, "%d readings of Power.Active.Import from %.0f s after the change within %.0f s: the station "
               "reports too few to judge", n, pb->o->reaction_s, window_s);
    else if (over)
        pb_set(r, CF_FAIL, "%d of %d readings above the limit in force: %.0f W against %.0f W (tolerance %.0f %% + "
               "100 W, reaction %.0f s)", over, n, worst_w, worst_limit, pb->o->tolerance_pct, pb->o->reaction_s);
    else
        pb_set(r, CF_PASS, "%d readings within the limit in force (%.0f W now), the highest %.0f W", n,
               sim_profiles_limit_w(pb->store, 1, pb_now(), pb->tx), max_w);
    return r->v == CF_FAIL ? -1 : 0;
}

/* ---- the run -------------------------------------------------------------------------------------------------- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sim_probe_run(const struct pr_options *o)
{
    char err[256];
    if (pr_init(o, err, sizeof err) != 0) {
        fprintf(stderr, "depotsim probe: %s\n", err);
        return 2;
    }
    static struct pb pb;
    memset(&pb, 0, sizeof pb);
    pb.o = o;
    pb.unit = SIM_UNIT_A;
    struct cf_result *results = calloc((size_t)pb_n_cases, sizeof *results);
    if (!results) {
        pr_shutdown();
        return 2;
    }
    int count[3] = {0};
    printf("%-24s %-5s %s\n", "case", "", "result");
    for (int i = 0; i < pb_n_cases; i++) {
        static struct pb_verdict r;
        memset(&r, 0, sizeof r);
        double t0 = mono_s();
        if (pb.abort[0])
            pb_set(&r, CF_SKIP, "%s", pb.abort);
        else
            pb_cases[i].fn(&pb, &r);
        results[i] = (struct cf_result){.name = pb_cases[i].name, .what = pb_cases[i].what, .v = r.v,
                                        .seconds = mono_s() - t0};
        snprintf(results[i].why, sizeof results[i].why, "%s", r.why);
        if (r.v == CF_FAIL)
            snprintf(results[i].evidence, sizeof results[i].evidence, "%s", r.evidence);
        cf_result_print(&results[i]);
        count[r.v]++;
    }
    printf("station %s: %d passed, %d failed, %d skipped\n", pr_station_id()[0] ? pr_station_id() : "(none)",
           count[CF_PASS], count[CF_FAIL], count[CF_SKIP]);
    if (pb.store)
        sim_profiles_free(pb.store);
    pr_shutdown();
    int rc = count[CF_FAIL] ? 1 : 0;
    if (cf_reports_write(o->json_path, o->junit_path, results, pb_n_cases, "depotsim probe"))
        rc = 2;
    free(results);
    return rc;
}
