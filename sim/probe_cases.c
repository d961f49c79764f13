/*
 * The probe's catalogue, in the order one charging session walks it: boot and heartbeat, the device model, a
 * remote start and its meter values, profiles of every purpose and kind with stack levels, the composite schedule
 * and the limit followed, a clear, the offline queue, a remote stop, availability and a reset. Each case says
 * what it checks and why a charger that fails it is a risk to a depot.
 */
#include "probe_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMOTE_START_ID 4711

static bool of_tx(const struct pr_msg *m, const void *tx)
{
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(m->payload, "transactionInfo");
    return strcmp(pb_str(ti, "transactionId"), tx) == 0;
}

/* ---- boot, heartbeat, device model ------------------------------------------------------------------------- */

static void boot(struct pb *pb, struct pb_verdict *r)
{
    double wait = pb->o->wait_s * 6;
    if (!pr_wait_connected(wait)) {
        pb_set(r, CF_FAIL, "no station connected and booted within %.0f s", wait);
        snprintf(pb->abort, sizeof pb->abort, "no station under test");
        return;
    }
    struct pr_msg *m = pr_wait_msg("BootNotification", NULL, NULL, pb->o->wait_s);
    const cJSON *cs = m ? cJSON_GetObjectItemCaseSensitive(m->payload, "chargingStation") : NULL;
    if (!m)
        pb_set(r, CF_FAIL, "connected without a BootNotification");
    else
        pb_set(r, CF_PASS, "%s booted (%s): %s %s, firmware %s", pr_station_id(), pb_str(m->payload, "reason"),
               pb_str(cs, "vendorName"), pb_str(cs, "model"), pb_str(cs, "firmwareVersion")[0] ? pb_str(cs, "firmwareVersion") : "not said");
}

static void status_after_boot(struct pb *pb, struct pb_verdict *r)
{
    struct pr_msg *m = pr_wait_msg("StatusNotification", NULL, NULL, pb->o->wait_s);
    if (!m)
        pb_set(r, CF_FAIL, "no StatusNotification within %.0f s of the boot (B01.FR.05)", pb->o->wait_s);
    else
        pb_set(r, CF_PASS, "EVSE %d connector %d %s", cJSON_GetObjectItemCaseSensitive(m->payload, "evseId")->valueint,
               cJSON_GetObjectItemCaseSensitive(m->payload, "connectorId")->valueint,
               pb_str(m->payload, "connectorStatus"));
}

static void trigger_heartbeat(struct pb *pb, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(req, "requestedMessage", "Heartbeat");
    if (pb_call("TriggerMessage", req, &res, r))
        return;
    if (strcmp(pb_str(res, "status"), "Accepted") != 0)
        pb_set(r, CF_FAIL, "TriggerMessage Heartbeat %s", pb_str(res, "status"));
    else if (!pr_wait_msg("Heartbeat", NULL, NULL, pb->o->wait_s))
        pb_set(r, CF_FAIL, "TriggerMessage Accepted, but no Heartbeat within %.0f s", pb->o->wait_s);
    else
        pb_set(r, CF_PASS, "TriggerMessage Heartbeat Accepted and the Heartbeat came");
    cJSON_Delete(res);
}

static void add_var(cJSON *arr, const char *comp, int evse, const char *var)
{
    cJSON *d = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(d, "component");
    cJSON_AddStringToObject(c, "name", comp);
    if (evse)
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(c, "evse"), "id", evse);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "variable"), "name", var);
    cJSON_AddItemToArray(arr, d);
}

static void device_model(struct pb *pb, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(req, "getVariableData"), *res = NULL;
    add_var(arr, "SmartChargingCtrlr", 0, "Enabled");
    add_var(arr, "SmartChargingCtrlr", 0, "RateUnit");
    add_var(arr, "SmartChargingCtrlr", 0, "PeriodsPerSchedule");
    add_var(arr, "EVSE", 1, "Power");
    add_var(arr, "ChargingStation", 0, "SupplyPhases");
    add_var(arr, "SampledDataCtrlr", 0, "TxUpdatedInterval");
    if (pb_call("GetVariables", req, &res, r))
        return;
    const cJSON *it;
    int n = 0;
    char said[400] = "";
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "getVariableResult")) {
        const char *comp = pb_str(cJSON_GetObjectItemCaseSensitive(it, "component"), "name");
        const char *var = pb_str(cJSON_GetObjectItemCaseSensitive(it, "variable"), "name");
        const char *val = pb_str(it, "attributeValue");
        n++;
        if (strcmp(pb_str(it, "attributeStatus"), "Accepted") != 0)
            continue;
        snprintf(said + strlen(said), sizeof said - strlen(said), "%s%s.%s=%s", said[0] ? ", " : "", comp, var, val);
        if (strcmp(var, "Enabled") == 0)
            pb->smart_charging = strcmp(val, "true") == 0;
        else if (strcmp(var, "RateUnit") == 0)
            pb->unit = strchr(val, 'A') ? SIM_UNIT_A : SIM_UNIT_W;
        else if (strcmp(var, "Power") == 0)
            pb->evse_max_w = atof(val);
        else if (strcmp(var, "SupplyPhases") == 0)
            pb->phases = atoi(val);
    }
    if (n != 6)
        pb_set(r, CF_FAIL, "GetVariables of 6 variables answered with %d results", n);
    else if (pb_bench_start(pb))
        pb_set(r, CF_FAIL, "probe: out of memory");
    else
        pb_set(r, CF_PASS, "%s", said[0] ? said : "every variable unknown to the station");
    cJSON_Delete(res);
}

static void sample_interval(struct pb *pb, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(req, "setVariableData"), *res = NULL;
    add_var(arr, "SampledDataCtrlr", 0, "TxUpdatedInterval");
    cJSON_AddStringToObject(cJSON_GetArrayItem(arr, 0), "attributeValue", "1");
    if (pb_call("SetVariables", req, &res, r))
        return;
    const char *st = pb_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "setVariableResult"), 0),
                            "attributeStatus");
    if (strcmp(st, "Accepted") == 0)
        pb_set(r, CF_PASS, "SampledDataCtrlr.TxUpdatedInterval set to 1 s: meter values every second");
    else
        pb_set(r, CF_SKIP, "SampledDataCtrlr.TxUpdatedInterval not set (%s): the station's own interval is used", st);
    cJSON_Delete(res);
}

static bool report_of(const struct pr_msg *m, const void *id)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m->payload, "requestId")) == *(const int *)id;
}

static void base_report(struct pb *pb, struct pb_verdict *r)
{
    static const int id = 77;
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(req, "requestId", id);
    cJSON_AddStringToObject(req, "reportBase", "FullInventory");
    if (pb_call("GetBaseReport", req, &res, r))
        return;
    int parts = 0, vars = 0;
    bool more = strcmp(pb_str(res, "status"), "Accepted") == 0;
    while (more) {
        struct pr_msg *m = pr_wait_msg("NotifyReport", report_of, &id, pb->o->wait_s);
        if (!m)
            break;
        parts++;
        vars += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m->payload, "reportData"));
        more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m->payload, "tbc"));
    }
    if (strcmp(pb_str(res, "status"), "Accepted") != 0)
        pb_set(r, CF_FAIL, "GetBaseReport FullInventory %s (B07 is core)", pb_str(res, "status"));
    else if (!parts || more)
        pb_set(r, CF_FAIL, "GetBaseReport Accepted, but %s within %.0f s", parts ? "the report did not end" : "no NotifyReport",
               pb->o->wait_s);
    else
        pb_set(r, CF_PASS, "FullInventory in %d part(s), %d variables", parts, vars);
    cJSON_Delete(res);
}

/* ---- a transaction ----------------------------------------------------------------------------------------- */

static bool remote_started(const struct pr_msg *m, const void *arg)
{
    (void)arg;
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(m->payload, "transactionInfo");
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ti, "remoteStartId")) == REMOTE_START_ID;
}

static void remote_start(struct pb *pb, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *res = NULL, *t = cJSON_AddObjectToObject(req, "idToken");
    cJSON_AddNumberToObject(req, "evseId", 1);
    cJSON_AddNumberToObject(req, "remoteStartId", REMOTE_START_ID);
    cJSON_AddStringToObject(t, "idToken", pb->o->id_token);
    cJSON_AddStringToObject(t, "type", "ISO14443");
    if (pb_call("RequestStartTransaction", req, &res, r)) {
        snprintf(pb->abort, sizeof pb->abort, "no transaction to go on with");
        return;
    }
    struct pr_msg *m = strcmp(pb_str(res, "status"), "Accepted") == 0
                           ? pr_wait_msg("TransactionEvent", remote_started, NULL, pb->o->wait_s * 2) : NULL;
    if (!m) {
        pb_set(r, CF_FAIL, "RequestStartTransaction %s%s (a car must be plugged in EVSE 1, not yet authorized)",
               pb_str(res, "status"), strcmp(pb_str(res, "status"), "Accepted") ? "" : ", but no TransactionEvent "
               "with its remoteStartId");
        snprintf(pb->abort, sizeof pb->abort, "no transaction to go on with");
    } else {
        const cJSON *ti = cJSON_GetObjectItemCaseSensitive(m->payload, "transactionInfo");
        snprintf(pb->tx[1].tx_id, sizeof pb->tx[1].tx_id, "%s", pb_str(ti, "transactionId"));
        if (ocpp_time_parse(pb_str(m->payload, "timestamp"), &pb->tx[1].start_ms))
            pb->tx[1].start_ms = pb_now();
        pb->seq_first = cJSON_GetObjectItemCaseSensitive(m->payload, "seqNo")->valueint;
        pb_set(r, CF_PASS, "transaction %s (%s, %s)", pb->tx[1].tx_id, pb_str(m->payload, "eventType"),
               pb_str(m->payload, "triggerReason"));
    }
    cJSON_Delete(res);
}

static bool tx_energy(const struct pr_msg *m, const void *tx)
{
    return strcmp(m->action, "TransactionEvent") == 0 && of_tx(m, tx) &&
           cJSON_GetObjectItemCaseSensitive(m->payload, "meterValue");
}

static void meter_values(struct pb *pb, struct pb_verdict *r)
{
    struct pr_msg *m = pr_wait_msg(NULL, tx_energy, pb->tx[1].tx_id, pb->o->wait_s * 2);
    if (!m)
        pb_set(r, CF_FAIL, "no TransactionEvent with meter values for %s within %.0f s", pb->tx[1].tx_id,
               pb->o->wait_s * 2);
    else
        pb_set(r, CF_PASS, "meter values in TransactionEvent %s (%s)", pb_str(m->payload, "eventType"),
               pb_str(m->payload, "triggerReason"));
}

/* ---- smart charging ------------------------------------------------------------------------------------------ */

static bool smart(struct pb *pb, struct pb_verdict *r)
{
    if (!pb->smart_charging || !pb->store)
        pb_set(r, CF_SKIP, "SmartChargingCtrlr.Enabled is not true: the station does no smart charging");
    return pb->smart_charging && pb->store;
}

/* Four profiles, each purpose, each kind, two stack levels: TxDefaultProfile 13 A (stack 0, Absolute) under an 11 A
 * Recurring one (stack 1), a Relative TxProfile of 10 A for the transaction, and a ChargingStationMaxProfile of 6 A
 * for 4 minutes, then 12 A. EVSE 1 should compose to 6 A, then 10 A. */
static void set_profiles(struct pb *pb, struct pb_verdict *r)
{
    if (!smart(pb, r))
        return;
    char now[32], hour_ago[32], json[1024];
    ocpp_time_format(pb_now() / 1000 * 1000, now);
    ocpp_time_format(pb_now() / 1000 * 1000 - 3600000, hour_ago);
    const char *u = sim_unit_name(pb->unit);
#define SCHED "\"chargingSchedule\": [{\"id\": 1, %s\"chargingRateUnit\": \"%s\", \"chargingSchedulePeriod\": "
    char abs_start[64], rec_start[64];
    snprintf(abs_start, sizeof abs_start, "\"startSchedule\": \"%s\", ", now);
    snprintf(rec_start, sizeof rec_start, "\"startSchedule\": \"%s\", ", hour_ago);
    const struct {
        int evse;
        const char *head, *start;
        double a1, a2;
    } set[] = {
        {0, "\"id\": 801, \"stackLevel\": 0, \"chargingProfilePurpose\": \"TxDefaultProfile\", \"chargingProfileKind\": "
            "\"Absolute\"", abs_start, 13, 0},
        {0, "\"id\": 802, \"stackLevel\": 1, \"chargingProfilePurpose\": \"TxDefaultProfile\", \"chargingProfileKind\": "
            "\"Recurring\", \"recurrencyKind\": \"Daily\"", rec_start, 11, 0},
        {1, "\"id\": 803, \"stackLevel\": 0, \"chargingProfilePurpose\": \"TxProfile\", \"chargingProfileKind\": "
            "\"Relative\", \"transactionId\": \"%TX%\"", "", 10, 0},
        {0, "\"id\": 804, \"stackLevel\": 0, \"chargingProfilePurpose\": \"ChargingStationMaxProfile\", "
            "\"chargingProfileKind\": \"Absolute\"", abs_start, 6, 12},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        char head[300], periods[160];
        snprintf(head, sizeof head, "%s", set[i].head);
        char *tx = strstr(head, "%TX%");
        if (tx)
            snprintf(tx, sizeof head - (size_t)(tx - head), "%s\"", pb->tx[1].tx_id);
        if (set[i].a2 > 0)
            snprintf(periods, sizeof periods, "[{\"startPeriod\": 0, \"limit\": %g}, {\"startPeriod\": 240, \"limit\": %g}]",
                     pb_limit(pb, set[i].a1), pb_limit(pb, set[i].a2));
        else
            snprintf(periods, sizeof periods, "[{\"startPeriod\": 0, \"limit\": %g}]", pb_limit(pb, set[i].a1));
        snprintf(json, sizeof json, "{%s, " SCHED "%s}]}", head, set[i].start, u, periods);
        if (pb_set_profile(pb, set[i].evse, json, r))
            return;
    }
#undef SCHED
    pb_set(r, CF_PASS, "TxDefaultProfile Absolute (stack 0) and Recurring (stack 1), TxProfile Relative, "
           "ChargingStationMaxProfile Absolute with two periods: all Accepted");
}

static void composite(struct pb *pb, struct pb_verdict *r)
{
    if (smart(pb, r))
        pb_check_composite(pb, 900, r);
}

static void following(struct pb *pb, struct pb_verdict *r)
{
    if (smart(pb, r))
        pb_check_following(pb, pb->o->reaction_s + 6, r);
}

static void clear_profile(struct pb *pb, struct pb_verdict *r)
{
    if (!smart(pb, r))
        return;
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(req, "chargingProfileId", 804);
    if (pb_call("ClearChargingProfile", req, &res, r))
        return;
    if (strcmp(pb_str(res, "status"), "Accepted") != 0) {
        pb_set(r, CF_FAIL, "ClearChargingProfile of the ChargingStationMaxProfile it holds: %s", pb_str(res, "status"));
    } else {
        struct sim_clear_criteria c = {.has_id = true, .id = 804};
        sim_profiles_clear(pb->store, &c);
        pb->limit_changed_ms = pb_now();
        pb_set(r, CF_PASS, "ChargingStationMaxProfile 804 cleared: EVSE 1 should compose to its TxProfile's %g %s",
               pb_limit(pb, 10), sim_unit_name(pb->unit));
    }
    cJSON_Delete(res);
}

/* ---- offline, stop, availability, reset -------------------------------------------------------------------- */

struct seq_event {
    int seq;
    char at[40];                /* the event's own timestamp: a resend carries the same one */
};

struct seqs {
    const char *tx;
    int n;
    struct seq_event ev[512];
    bool offline_seen;
};

static void collect(const struct pr_msg *m, void *arg)
{
    struct seqs *s = arg;
    if (strcmp(m->action, "TransactionEvent") != 0 || !of_tx(m, s->tx) || s->n >= 512)
        return;
    struct seq_event *e = &s->ev[s->n++];
    e->seq = cJSON_GetObjectItemCaseSensitive(m->payload, "seqNo")->valueint;
    snprintf(e->at, sizeof e->at, "%s", pb_str(m->payload, "timestamp"));
    s->offline_seen |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m->payload, "offline"));
}

static int by_seq(const void *a, const void *b)
{
    return ((const struct seq_event *)a)->seq - ((const struct seq_event *)b)->seq;
}

static bool rebooted(const struct pr_msg *m, const void *conn)
{
    return m->connection > *(const int *)conn;
}

/* A station that lost the connection before our answer came must send the event again (E12: delivery is at least
 * once), so a seqNo seen twice with the same timestamp is a resend, not a fault; the same seqNo on two different
 * events, or a missing one, is. */
static void seq_check(struct seqs *s, int *gaps, int *conflicts, int *resends)
{
    qsort(s->ev, (size_t)s->n, sizeof s->ev[0], by_seq);
    *gaps = *conflicts = *resends = 0;
    for (int i = 1; i < s->n; i++) {
        if (s->ev[i].seq != s->ev[i - 1].seq)
            *gaps += s->ev[i].seq != s->ev[i - 1].seq + 1;
        else if (strcmp(s->ev[i].at, s->ev[i - 1].at) == 0)
            (*resends)++;
        else
            (*conflicts)++;
    }
}

static void offline(struct pb *pb, struct pb_verdict *r)
{
    int before = pr_connections();
    pr_drop(pb->o->offline_s);
    pr_pump(pb->o->offline_s);
    double wait = pb->o->wait_s * 4;
    for (double t = 0; pr_connections() == before && t < wait; t += 0.1)
        pr_pump(0.1);
    if (pr_connections() == before) {
        pb_set(r, CF_FAIL, "the station did not come back within %.0f s of the connection's loss", wait);
        snprintf(pb->abort, sizeof pb->abort, "the station did not reconnect");
        return;
    }
    pr_pump(pb->o->wait_s);
    static struct seqs s;
    s = (struct seqs){.tx = pb->tx[1].tx_id};
    pr_each(collect, &s);
    int gaps, conflicts, resends;
    seq_check(&s, &gaps, &conflicts, &resends);
    bool boot = pr_wait_msg("BootNotification", rebooted, &before, 0) != NULL;
    if (!s.offline_seen)
        pb_set(r, CF_FAIL, "back after %.0f s away, but no TransactionEvent with offline=true (E12: what happened "
               "while offline is replayed)", pb->o->offline_s);
    else if (gaps || conflicts)
        pb_set(r, CF_FAIL, "seqNo of %s has %d gap(s) and %d seqNo(s) used by two different events over %d events "
               "(E12/E01: the CSMS orders them)", pb->tx[1].tx_id, gaps, conflicts, s.n);
    else
        pb_set(r, CF_PASS, "back after %.0f s away%s; offline events replayed, seqNo %d..%d without a gap%s",
               pb->o->offline_s, boot ? " (with a BootNotification: it rebooted)" : " without a reboot",
               s.n ? s.ev[0].seq : 0, s.n ? s.ev[s.n - 1].seq : 0,
               resends ? " (an event unanswered at the loss sent again)" : "");
}

static bool tx_ended(const struct pr_msg *m, const void *tx)
{
    return of_tx(m, tx) && strcmp(pb_str(m->payload, "eventType"), "Ended") == 0;
}

static void remote_stop(struct pb *pb, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(req, "transactionId", pb->tx[1].tx_id);
    if (pb_call("RequestStopTransaction", req, &res, r))
        return;
    struct pr_msg *m = strcmp(pb_str(res, "status"), "Accepted") == 0
                           ? pr_wait_msg("TransactionEvent", tx_ended, pb->tx[1].tx_id, pb->o->wait_s * 2) : NULL;
    if (!m)
        pb_set(r, CF_FAIL, "RequestStopTransaction %s%s", pb_str(res, "status"),
               strcmp(pb_str(res, "status"), "Accepted") ? "" : ", but no TransactionEvent Ended");
    else
        pb_set(r, CF_PASS, "ended (%s, %s)", pb_str(m->payload, "triggerReason"),
               pb_str(cJSON_GetObjectItemCaseSensitive(m->payload, "transactionInfo"), "stoppedReason"));
    cJSON_Delete(res);
}

static bool status_is(const struct pr_msg *m, const void *want)
{
    return strcmp(pb_str(m->payload, "connectorStatus"), want) == 0;
}

static int availability_to(struct pb *pb, const char *op, const char *status, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(req, "operationalStatus", op);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(req, "evse"), "id", 1);
    if (pb_call("ChangeAvailability", req, &res, r))
        return -1;
    const char *st = pb_str(res, "status");
    int rc = 0;
    if (strcmp(st, "Accepted") != 0 && strcmp(st, "Scheduled") != 0) {
        pb_set(r, CF_FAIL, "ChangeAvailability %s: %s", op, st);
        rc = -1;
    } else if (!pr_wait_msg("StatusNotification", status_is, status, pb->o->wait_s * 2)) {
        pb_set(r, CF_FAIL, "ChangeAvailability %s %s, but no StatusNotification %s", op, st, status);
        rc = -1;
    }
    cJSON_Delete(res);
    return rc;
}

static void availability(struct pb *pb, struct pb_verdict *r)
{
    if (availability_to(pb, "Inoperative", "Unavailable", r) == 0 && availability_to(pb, "Operative", "Available", r) == 0)
        pb_set(r, CF_PASS, "EVSE 1 Inoperative (Unavailable), then Operative (Available)");
}

static bool remote_reset_boot(const struct pr_msg *m, const void *arg)
{
    (void)arg;
    return strcmp(pb_str(m->payload, "reason"), "RemoteReset") == 0;
}

static void reset(struct pb *pb, struct pb_verdict *r)
{
    cJSON *req = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(req, "type", "OnIdle");
    if (pb_call("Reset", req, &res, r))
        return;
    const char *st = pb_str(res, "status");
    if (strcmp(st, "Accepted") != 0 && strcmp(st, "Scheduled") != 0)
        pb_set(r, CF_FAIL, "Reset OnIdle: %s", st);
    else if (!pr_wait_msg("BootNotification", remote_reset_boot, NULL, pb->o->wait_s * 6))
        pb_set(r, CF_FAIL, "Reset %s, but no BootNotification (RemoteReset) within %.0f s", st, pb->o->wait_s * 6);
    else
        pb_set(r, CF_PASS, "Reset %s; back with BootNotification RemoteReset", st);
    cJSON_Delete(res);
}

const struct pb_case pb_cases[] = {
    {"B01_boot", "the station connects and boots", boot},
    {"B01_status", "StatusNotification after the boot", status_after_boot},
    {"F06_trigger_heartbeat", "TriggerMessage Heartbeat", trigger_heartbeat},
    {"B06_get_variables", "device model read (smart charging, EVSE, sampling)", device_model},
    {"B05_set_variables", "TxUpdatedInterval set to 1 s", sample_interval},
    {"B07_base_report", "GetBaseReport FullInventory, NotifyReport", base_report},
    {"F01_remote_start", "RequestStartTransaction starts a transaction", remote_start},
    {"J02_meter_values", "meter values during the transaction", meter_values},
    {"K01_set_profiles", "profiles of each purpose and kind, stack levels", set_profiles},
    {"K08_composite", "GetCompositeSchedule is what the profiles make", composite},
    {"K_limit_followed", "meter values within the limit in force", following},
    {"K10_clear_profile", "ClearChargingProfile by id", clear_profile},
    {"K08_composite_cleared", "the composite after the clear", composite},
    {"K_limit_cleared", "meter values within the new limit", following},
    {"E12_offline_replay", "connection lost: events queued and replayed", offline},
    {"F03_remote_stop", "RequestStopTransaction ends it", remote_stop},
    {"G03_availability", "ChangeAvailability of EVSE 1 both ways", availability},
    {"B11_reset", "Reset OnIdle and the reboot", reset},
};
const int pb_n_cases = (int)(sizeof pb_cases / sizeof pb_cases[0]);
