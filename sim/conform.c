/*
 * The conformance catalogue. Names: TC_B_01/02/03_CSMS follow the OCA test cases for the three boot
 * outcomes; the others carry the OCPP 2.0.1 Part 2 use case they check (B, C, E, G, K), written from the
 * spec, not from the OCA test document. Every scenario returns PASS, FAIL (with the frames as evidence) or
 * SKIP with the reason: something the CSMS does not do, or an option not given, is never a PASS.
 */
#include "conform.h"

#include "simtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct verdict {
    enum cf_verdict v;
    char why[512];
    char evidence[8192];
};

typedef void (*scenario_fn)(const struct cf_options *o, struct verdict *r);

static void set(struct verdict *r, enum cf_verdict v, const cf_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->v = v;
    if (v == CF_FAIL && c)
        cf_evidence(c, r->evidence, sizeof r->evidence);
}

static char *now_text(char *buf, int64_t offset_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return sim_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms, buf);
}

static cJSON *boot_payload(void)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "reason", "PowerUp");
    cJSON *cs = cJSON_AddObjectToObject(p, "chargingStation");
    cJSON_AddStringToObject(cs, "model", "conform");
    cJSON_AddStringToObject(cs, "vendorName", "depotsim");
    return p;
}

static const char *str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

/* Boot and expect `want`; returns the connection (caller closes) or NULL with r set. */
static cf_conn *boot(const char *id, const char *pw, const char *want, struct verdict *r)
{
    int status = 0;
    cf_conn *c = cf_open(id, pw, &status);
    if (!cf_connected(c)) {
        set(r, CF_FAIL, c, "%s: websocket not opened (HTTP %d)", id, status);
        cf_close(c);
        return NULL;
    }
    cJSON *p = boot_payload(), *res = NULL;
    enum ocpp_error code = OCPP_OK;
    int rc = cf_call(c, "BootNotification", p, &res, &code);
    cJSON_Delete(p);
    if (rc != 0) {
        set(r, CF_FAIL, c, "BootNotification: %s", rc > 0 ? ocpp_error_name(code) : "no valid answer");
    } else if (strcmp(str(res, "status"), want) != 0) {
        set(r, CF_FAIL, c, "BootNotification status %s, expected %s", str(res, "status"), want);
    } else {
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(res, "interval");
        int64_t t;
        if (!cJSON_IsNumber(iv) || iv->valueint < 0 || (strcmp(want, "Accepted") != 0 && iv->valueint <= 0))
            set(r, CF_FAIL, c, "BootNotification interval missing or unusable for %s", want);
        else if (ocpp_time_parse(str(res, "currentTime"), &t) != 0)
            set(r, CF_FAIL, c, "currentTime is not RFC 3339");
        else {
            cJSON_Delete(res);
            return c;
        }
    }
    cJSON_Delete(res);
    cf_close(c);
    return NULL;
}

static int simple_call(cf_conn *c, const char *action, cJSON *p, struct verdict *r, cJSON **out)
{
    enum ocpp_error code = OCPP_OK;
    cJSON *res = NULL;
    int rc = cf_call(c, action, p, &res, &code);
    cJSON_Delete(p);
    if (rc != 0) {
        set(r, CF_FAIL, c, "%s: %s", action, rc > 0 ? ocpp_error_name(code) : "no valid answer in time");
        cJSON_Delete(res);
        return -1;
    }
    if (out)
        *out = res;
    else
        cJSON_Delete(res);
    return 0;
}

static cJSON *status_payload(int evse, const char *status)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "timestamp", now_text(tb, 0));
    cJSON_AddStringToObject(p, "connectorStatus", status);
    cJSON_AddNumberToObject(p, "evseId", evse);
    cJSON_AddNumberToObject(p, "connectorId", 1);
    return p;
}

static cJSON *tx_payload(const char *type, const char *trigger, int seq, const char *txid, int64_t offset_ms,
                         double wh, bool offline, const char *token)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "eventType", type);
    cJSON_AddStringToObject(p, "timestamp", now_text(tb, offset_ms));
    cJSON_AddStringToObject(p, "triggerReason", trigger);
    cJSON_AddNumberToObject(p, "seqNo", seq);
    if (offline)
        cJSON_AddBoolToObject(p, "offline", true);
    cJSON *ti = cJSON_AddObjectToObject(p, "transactionInfo");
    cJSON_AddStringToObject(ti, "transactionId", txid);
    if (strcmp(type, "Ended") == 0)
        cJSON_AddStringToObject(ti, "stoppedReason", "EVDisconnected");
    cJSON *ev = cJSON_AddObjectToObject(p, "evse");
    cJSON_AddNumberToObject(ev, "id", 1);
    cJSON_AddNumberToObject(ev, "connectorId", 1);
    if (token) {
        cJSON *t = cJSON_AddObjectToObject(p, "idToken");
        cJSON_AddStringToObject(t, "idToken", token);
        cJSON_AddStringToObject(t, "type", "ISO14443");
    }
    cJSON *mv = cJSON_AddArrayToObject(p, "meterValue"), *m = cJSON_CreateObject();
    cJSON_AddItemToArray(mv, m);
    cJSON_AddStringToObject(m, "timestamp", tb);
    cJSON *sv = cJSON_AddArrayToObject(m, "sampledValue"), *s = cJSON_CreateObject();
    cJSON_AddItemToArray(sv, s);
    cJSON_AddNumberToObject(s, "value", wh);
    cJSON_AddStringToObject(s, "measurand", "Energy.Active.Import.Register");
    return p;
}

static void tx_id(char *buf, const char *tag)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, 36, "cf-%s-%lld", tag, (long long)ts.tv_sec % 100000000);
}

/* ---- B: provisioning -------------------------------------------------------------------------------- */

static void tc_b_01(const struct cf_options *o, struct verdict *r)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    /* B01.FR.x: after Accepted the station reports its connectors. */
    if (simple_call(c, "StatusNotification", status_payload(1, "Available"), r, NULL) == 0) {
        cf_pump(c, 0.3);
        if (cf_protocol_faults(c))
            set(r, CF_FAIL, c, "the CSMS sent %d invalid frame(s)", cf_protocol_faults(c));
        else
            set(r, CF_PASS, NULL, "Accepted with interval and currentTime; StatusNotification answered");
    }
    cf_close(c);
}

static void tc_b_02(const struct cf_options *o, struct verdict *r)
{
    if (!o->pending_id[0]) {
        set(r, CF_SKIP, NULL, "no --pending-id given");
        return;
    }
    cf_conn *c = boot(o->pending_id, o->pending_password, "Pending", r);
    if (!c)
        return;
    /* B02.FR.02: while Pending the CSMS may send only what configures the station; we watch for a while. */
    cf_pump(c, o->wait_s < 2 ? o->wait_s : 2);
    if (cf_protocol_faults(c))
        set(r, CF_FAIL, c, "the CSMS sent %d invalid frame(s) while Pending", cf_protocol_faults(c));
    else
        set(r, CF_PASS, NULL, "Pending with a retry interval; no invalid CSMS frame while Pending");
    cf_close(c);
}

static void tc_b_03(const struct cf_options *o, struct verdict *r)
{
    if (!o->rejected_id[0]) {
        set(r, CF_SKIP, NULL, "no --rejected-id given");
        return;
    }
    cf_conn *c = boot(o->rejected_id, o->rejected_password, "Rejected", r);
    if (!c)
        return;
    /* B03.FR.xx: the CSMS must not send CALLs to a Rejected station. */
    struct cf_msg *m = cf_wait_call(c, NULL, 1.5);
    if (m)
        set(r, CF_FAIL, c, "the CSMS sent %s to a Rejected station", m->action);
    else
        set(r, CF_PASS, NULL, "Rejected with a retry interval; no CALL from the CSMS afterwards");
    cf_close(c);
}

/* ---- G, C: heartbeat, status, authorization ----------------------------------------------------------- */

static void g02_heartbeat(const struct cf_options *o, struct verdict *r)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cJSON *res = NULL;
    int64_t t;
    if (simple_call(c, "Heartbeat", cJSON_CreateObject(), r, &res) == 0) {
        if (ocpp_time_parse(str(res, "currentTime"), &t) != 0)
            set(r, CF_FAIL, c, "Heartbeat currentTime is not RFC 3339");
        else
            set(r, CF_PASS, NULL, "Heartbeat answered with currentTime");
    }
    cJSON_Delete(res);
    cf_close(c);
}

static void g01_status(const struct cf_options *o, struct verdict *r)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    static const char *const states[] = {"Available", "Occupied", "Reserved", "Unavailable", "Faulted", "Available"};
    int ok = 1;
    for (size_t i = 0; i < sizeof states / sizeof states[0] && ok; i++)
        ok = simple_call(c, "StatusNotification", status_payload(1, states[i]), r, NULL) == 0;
    if (ok)
        set(r, CF_PASS, NULL, "every connectorStatus answered");
    cf_close(c);
}

static void c01_authorize(const struct cf_options *o, struct verdict *r)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cJSON *p = cJSON_CreateObject(), *t = cJSON_AddObjectToObject(p, "idToken"), *res = NULL;
    cJSON_AddStringToObject(t, "idToken", o->id_token);
    cJSON_AddStringToObject(t, "type", "ISO14443");
    if (simple_call(c, "Authorize", p, r, &res) == 0)
        set(r, CF_PASS, NULL, "Authorize answered: %s",
            str(cJSON_GetObjectItemCaseSensitive(res, "idTokenInfo"), "status"));
    cJSON_Delete(res);
    cf_close(c);
}

/* ---- E: transactions ---------------------------------------------------------------------------------- */

static int send_tx(cf_conn *c, cJSON *p, struct verdict *r)
{
    return simple_call(c, "TransactionEvent", p, r, NULL);
}

static void e01_e06_transaction(const struct cf_options *o, struct verdict *r)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    tx_id(id, "full");
    if (send_tx(c, tx_payload("Started", "CablePluggedIn", 0, id, 0, 1000, false, NULL), r) == 0 &&
        send_tx(c, tx_payload("Updated", "Authorized", 1, id, 0, 1000, false, o->id_token), r) == 0 &&
        send_tx(c, tx_payload("Updated", "MeterValuePeriodic", 2, id, 0, 1500, false, NULL), r) == 0 &&
        send_tx(c, tx_payload("Ended", "EVDeparted", 3, id, 0, 2500, false, NULL), r) == 0)
        set(r, CF_PASS, NULL, "Started, Updated x2, Ended answered (%s)", id);
    cf_close(c);
}

static void e12_offline_replay(const struct cf_options *o, struct verdict *r)
{
    /* E12: events made while offline arrive after the reboot, offline=true, timestamps in the past. */
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    tx_id(id, "offl");
    if (send_tx(c, tx_payload("Started", "CablePluggedIn", 0, id, -3600000, 0, true, NULL), r) == 0 &&
        send_tx(c, tx_payload("Updated", "Authorized", 1, id, -3590000, 0, true, o->id_token), r) == 0 &&
        send_tx(c, tx_payload("Updated", "MeterValuePeriodic", 2, id, -1800000, 5000, true, NULL), r) == 0 &&
        send_tx(c, tx_payload("Ended", "EVDeparted", 3, id, -60000, 11000, true, NULL), r) == 0)
        set(r, CF_PASS, NULL, "4 offline events (1 h old) answered (%s)", id);
    cf_close(c);
}

static void e_out_of_order_seq(const struct cf_options *o, struct verdict *r)
{
    /* E01 / E12: seqNo lets the CSMS order events; a late one must still be accepted. */
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    tx_id(id, "seq");
    if (send_tx(c, tx_payload("Started", "CablePluggedIn", 0, id, -600000, 0, false, o->id_token), r) == 0 &&
        send_tx(c, tx_payload("Updated", "MeterValuePeriodic", 2, id, -120000, 2000, false, NULL), r) == 0 &&
        send_tx(c, tx_payload("Updated", "MeterValuePeriodic", 1, id, -300000, 1000, true, NULL), r) == 0 &&
        send_tx(c, tx_payload("Ended", "EVDeparted", 3, id, 0, 3000, false, NULL), r) == 0)
        set(r, CF_PASS, NULL, "seqNo 0, 2, 1, 3 all answered (%s)", id);
    cf_close(c);
}

/* ---- the CSMS's own CALLs: CALLERROR and timeout reactions ------------------------------------------- */

static void csms_call_reaction(const struct cf_options *o, struct verdict *r, enum cf_answer_mode mode)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cf_set_answer_mode(c, mode);
    cf_conn *keep = c;
    (void)simple_call(c, "StatusNotification", status_payload(1, "Available"), r, NULL);
    struct cf_msg *m = cf_wait_call(c, NULL, o->wait_s);
    if (!m) {
        set(r, CF_SKIP, NULL, "the CSMS sent no CALL within %.0f s after boot and StatusNotification", o->wait_s);
        cf_close(keep);
        return;
    }
    cf_pump(c, 1.0);
    cJSON *res = NULL;
    if (simple_call(c, "Heartbeat", cJSON_CreateObject(), r, &res) == 0) {
        if (cf_protocol_faults(c))
            set(r, CF_FAIL, c, "the CSMS sent %d invalid frame(s)", cf_protocol_faults(c));
        else
            set(r, CF_PASS, NULL, "%s %s; the CSMS still answers Heartbeat on the same connection",
                mode == CF_ANSWER_ERROR ? "CALLERROR InternalError sent to its" : "no answer to its", m->action);
    }
    cJSON_Delete(res);
    cf_close(keep);
}

static void rpc_callerror(const struct cf_options *o, struct verdict *r)
{
    csms_call_reaction(o, r, CF_ANSWER_ERROR);
}

static void rpc_timeout(const struct cf_options *o, struct verdict *r)
{
    csms_call_reaction(o, r, CF_ANSWER_NEVER);
}

static void rpc_malformed(const struct cf_options *o, struct verdict *r)
{
    /* OCPP-J 4.2.3: a CALL that cannot be parsed gets a CALLERROR, and the connection stays usable. */
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char *back = cf_raw(c, "[2,\"cf-bad-1\",\"Heartbeat\",{\"x\":", o->wait_s);
    struct ocpp_frame f;
    struct ocpp_fault fault;
    bool ok = back && ocpp_frame_parse(back, strlen(back), &f, &fault) == 0;
    if (!ok)
        set(r, CF_FAIL, c, "no parseable CALLERROR for a broken frame");
    else if (f.type != OCPP_CALLERROR)
        set(r, CF_FAIL, c, "answer to a broken frame is not a CALLERROR");
    else {
        cJSON *res = NULL;
        if (simple_call(c, "Heartbeat", cJSON_CreateObject(), r, &res) == 0)
            set(r, CF_PASS, NULL, "CALLERROR %s, then Heartbeat answered", ocpp_error_name(f.error_code));
        cJSON_Delete(res);
    }
    if (ok)
        ocpp_frame_clear(&f);
    free(back);
    cf_close(c);
}

/* ---- K: smart charging --------------------------------------------------------------------------------- */

static void k15_needs_to_profile(const struct cf_options *o, struct verdict *r)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40], tb[32];
    tx_id(id, "k15");
    if (simple_call(c, "StatusNotification", status_payload(1, "Occupied"), r, NULL) ||
        send_tx(c, tx_payload("Started", "CablePluggedIn", 0, id, 0, 0, false, o->id_token), r)) {
        cf_close(c);
        return;
    }
    cJSON *p = cJSON_CreateObject(), *n = cJSON_AddObjectToObject(p, "chargingNeeds");
    cJSON_AddNumberToObject(p, "evseId", 1);
    cJSON_AddStringToObject(n, "requestedEnergyTransfer", "AC_three_phase");
    cJSON_AddStringToObject(n, "departureTime", now_text(tb, 4 * 3600000));
    cJSON *a = cJSON_AddObjectToObject(n, "acChargingParameters");
    cJSON_AddNumberToObject(a, "energyAmount", 30000);
    cJSON_AddNumberToObject(a, "evMinCurrent", 6);
    cJSON_AddNumberToObject(a, "evMaxCurrent", 16);
    cJSON_AddNumberToObject(a, "evMaxVoltage", 230);
    cJSON *res = NULL;
    if (simple_call(c, "NotifyEVChargingNeeds", p, r, &res) == 0) {
        struct cf_msg *m = cf_wait_call(c, "SetChargingProfile", o->wait_s);
        const struct cf_sc_seen *sc = cf_sc(c);
        if (!m)
            set(r, CF_SKIP, NULL, "NotifyEVChargingNeeds %s; no SetChargingProfile received within %.0f s",
                str(res, "status"), o->wait_s);
        else if (cf_protocol_faults(c))
            set(r, CF_FAIL, c, "SetChargingProfile invalid against the schema");
        else if (sc->set_profiles_bad)
            set(r, CF_FAIL, c, "SetChargingProfile ignores what the station declared: %s", sc->bad_reason);
        else
            set(r, CF_PASS, NULL, "SetChargingProfile valid, within PeriodsPerSchedule %d and RateUnit %s",
                o->periods_per_schedule, o->rate_unit_w ? "W" : "A");
    }
    cJSON_Delete(res);
    send_tx(c, tx_payload("Ended", "EVDeparted", 1, id, 0, 100, false, NULL), r);
    cf_close(c);
}

static void k_csms_action(const struct cf_options *o, struct verdict *r, const char *action)
{
    cf_conn *c = boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    (void)simple_call(c, "StatusNotification", status_payload(1, "Available"), r, NULL);
    struct cf_msg *m = cf_wait_call(c, action, o->wait_s);
    if (!m)
        set(r, CF_SKIP, NULL, "no %s received within %.0f s", action, o->wait_s);
    else if (cf_protocol_faults(c))
        set(r, CF_FAIL, c, "%s invalid against the schema", action);
    else
        set(r, CF_PASS, NULL, "%s valid and answered", action);
    cf_close(c);
}

static void k10_clear(const struct cf_options *o, struct verdict *r)
{
    k_csms_action(o, r, "ClearChargingProfile");
}

static void k08_composite(const struct cf_options *o, struct verdict *r)
{
    k_csms_action(o, r, "GetCompositeSchedule");
}

static const struct {
    const char *name, *what;
    scenario_fn fn;
} catalogue[] = {
    {"TC_B_01_CSMS", "cold boot, Accepted", tc_b_01},
    {"TC_B_02_CSMS", "cold boot, Pending", tc_b_02},
    {"TC_B_03_CSMS", "cold boot, Rejected", tc_b_03},
    {"G02_heartbeat", "Heartbeat answered with currentTime", g02_heartbeat},
    {"G01_status", "StatusNotification, every connectorStatus", g01_status},
    {"C01_authorize", "Authorize answered with idTokenInfo", c01_authorize},
    {"E01_E06_transaction", "Started, Updated, Ended", e01_e06_transaction},
    {"E12_offline_replay", "offline events replayed after reconnect", e12_offline_replay},
    {"E_seqno_out_of_order", "seqNo 0, 2, 1, 3 all accepted", e_out_of_order_seq},
    {"RPC_callerror_reaction", "CSMS CALL answered with CALLERROR", rpc_callerror},
    {"RPC_timeout_reaction", "CSMS CALL never answered", rpc_timeout},
    {"RPC_malformed_frame", "broken frame gets a CALLERROR", rpc_malformed},
    {"K15_needs_to_profile", "NotifyEVChargingNeeds -> valid SetChargingProfile", k15_needs_to_profile},
    {"K10_clear_profile", "ClearChargingProfile valid", k10_clear},
    {"K08_composite_schedule", "GetCompositeSchedule valid", k08_composite},
};

#define N_SCENARIOS ((int)(sizeof catalogue / sizeof catalogue[0]))

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sim_conform_run(const struct cf_options *o)
{
    char err[256];
    if (cf_init(o, err, sizeof err) != 0) {
        fprintf(stderr, "depotsim conform: %s\n", err);
        return 2;
    }
    static struct cf_result results[N_SCENARIOS];
    int n = 0, pass = 0, fail = 0, skip = 0;
    printf("%-24s %-5s %s\n", "scenario", "", "result");
    for (int i = 0; i < N_SCENARIOS; i++) {
        if (o->only && !strstr(catalogue[i].name, o->only))
            continue;
        static struct verdict r;
        memset(&r, 0, sizeof r);
        double t0 = mono_s();
        catalogue[i].fn(o, &r);
        struct cf_result *x = &results[n++];
        *x = (struct cf_result){.name = catalogue[i].name, .what = catalogue[i].what, .v = r.v,
                                .seconds = mono_s() - t0};
        snprintf(x->why, sizeof x->why, "%s", r.why);
        if (r.v == CF_FAIL) snprintf(x->evidence, sizeof x->evidence, "%s", r.evidence);
        printf("%-24s %-5s %s: %s\n", catalogue[i].name, cf_verdict_name(r.v), catalogue[i].what, r.why);
        if (r.v == CF_FAIL && r.evidence[0])
            printf("    frames (> sent, < received):\n%s", r.evidence);
        fflush(stdout);
        pass += r.v == CF_PASS;
        fail += r.v == CF_FAIL;
        skip += r.v == CF_SKIP;
    }
    printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
    cf_shutdown();
    int rc = fail ? 1 : 0;
    if ((o->json_path && cf_report_json(o->json_path, results, n, err, sizeof err)) ||
        (o->junit_path && cf_report_junit(o->junit_path, results, n, err, sizeof err))) {
        fprintf(stderr, "depotsim conform: %s\n", err);
        rc = 2;
    }
    return rc;
}
