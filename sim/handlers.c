/* The CSMS's CALLs a simulated station answers: block K (smart charging), B06/B05 device model
 * variables and B07 its base report, the remote control of F (RequestStart/StopTransaction, TriggerMessage, UnlockConnector), B11/B12
 * Reset and G03 ChangeAvailability; anything else gets a CALLERROR NotImplemented, as OCPP-J 4.3 asks.
 * Each command is answered first and acted on after, so the CSMS sees the answer before what it caused. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply(struct sim_station *st, const char *id, cJSON *p)
{
    char err[256];
    if (ocpp_session_reply(st->session, id, p, err, sizeof err) != 0) {
        /* Our own answer failed its schema: a simulator bug; say so to the CSMS rather than hang it. */
        ocpp_session_reply_error(st->session, id, OCPP_E_INTERNAL_ERROR, err);
        sim_report_counters(st->w->report)->callerrors_out++;
    }
    cJSON_Delete(p);
}

static cJSON *status_with_reason(const char *status, const struct sim_reject *why)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", status);
    if (why && why->reason[0]) {
        cJSON *si = cJSON_AddObjectToObject(p, "statusInfo");
        cJSON_AddStringToObject(si, "reasonCode", why->reason);
        if (why->info[0])
            cJSON_AddStringToObject(si, "additionalInfo", why->info);
    }
    return p;
}

static void set_profile(struct sim_station *st, const struct ocpp_event *ev)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(ev->payload, "evseId");
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(ev->payload, "chargingProfile");
    struct sim_profile p;
    struct sim_reject why = {{0}, {0}};
    char err[128];
    int rc;
    if (st->fault_reject_profiles) {
        snprintf(why.reason, sizeof why.reason, "InjectedFault");
        snprintf(why.info, sizeof why.info, "depotsim fault injection: this station rejects every profile");
        rc = -1;
    } else if (sim_profile_from_json(cp, &p, err, sizeof err) != 0) {
        snprintf(why.reason, sizeof why.reason, "InvalidProfile");
        snprintf(why.info, sizeof why.info, "%s", err);
        rc = -1;
    } else {
        sim_station_charge(st, sim_clock_now(&st->w->clock, sim_real_ms())); /* the old limits up to now */
        rc = sim_profiles_set(st->profiles, evse->valueint, &p, st->tx, &why);
    }
    struct sim_counters *c = sim_report_counters(st->w->report);
    if (rc == 0)
        c->profiles_accepted++;
    else
        c->profiles_rejected++;
    if (rc != 0 && st->w->opt.progress)
        fprintf(stderr, "%s: SetChargingProfile Rejected: %s %s\n", st->cfg->id, why.reason, why.info);
    reply(st, ev->id, status_with_reason(rc == 0 ? "Accepted" : "Rejected", rc == 0 ? NULL : &why));
}

static void read_criteria(const cJSON *crit, struct sim_clear_criteria *c)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(crit, "evseId")) && cJSON_IsNumber(v)) {
        c->has_evse = true;
        c->evse_id = v->valueint;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(crit, "chargingProfilePurpose")) && cJSON_IsString(v)) {
        int p = sim_purpose_from_name(v->valuestring);
        c->has_purpose = p >= 0;
        c->purpose = (enum sim_purpose)(p >= 0 ? p : 0);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(crit, "stackLevel")) && cJSON_IsNumber(v)) {
        c->has_stack_level = true;
        c->stack_level = v->valueint;
    }
}

static void clear_profile(struct sim_station *st, const struct ocpp_event *ev)
{
    struct sim_clear_criteria c = {0};
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev->payload, "chargingProfileId");
    if (cJSON_IsNumber(id)) {
        c.has_id = true;
        c.id = id->valueint;
    }
    read_criteria(cJSON_GetObjectItemCaseSensitive(ev->payload, "chargingProfileCriteria"), &c);
    sim_station_charge(st, sim_clock_now(&st->w->clock, sim_real_ms()));
    int n = sim_profiles_clear(st->profiles, &c);
    reply(st, ev->id, status_with_reason(n > 0 ? "Accepted" : "Unknown", NULL));
}

static void get_profiles(struct sim_station *st, const struct ocpp_event *ev)
{
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(ev->payload, "requestId");
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(ev->payload, "evseId");
    const cJSON *crit = cJSON_GetObjectItemCaseSensitive(ev->payload, "chargingProfile");
    struct sim_clear_criteria c = {0};
    read_criteria(crit, &c);
    if (cJSON_IsNumber(evse)) {
        c.has_evse = true;
        c.evse_id = evse->valueint;
    }
    int ids[64], nids = 0;
    const cJSON *idarr = cJSON_GetObjectItemCaseSensitive(crit, "chargingProfileId"), *it;
    cJSON_ArrayForEach(it, idarr) if (cJSON_IsNumber(it) && nids < 64) ids[nids++] = it->valueint;
    static struct sim_profile found[SIM_PROFILES_MAX];
    int evses[SIM_PROFILES_MAX];
    int n = sim_profiles_select(st->profiles, &c, nids, ids, found, evses, SIM_PROFILES_MAX);
    reply(st, ev->id, status_with_reason(n > 0 ? "Accepted" : "NoProfiles", NULL));
    /* K09: one ReportChargingProfiles per EVSE and source; all from the CSMS here ("CSO"). */
    for (int e = 0; e <= st->cfg->spec.evse_count && n > 0; e++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "requestId", rid->valueint);
        cJSON_AddStringToObject(p, "chargingLimitSource", "CSO");
        cJSON_AddNumberToObject(p, "evseId", e);
        cJSON *arr = cJSON_AddArrayToObject(p, "chargingProfile");
        int count = 0;
        for (int i = 0; i < n; i++)
            if (evses[i] == e) {
                cJSON_AddItemToArray(arr, sim_profile_to_json(&found[i]));
                count++;
            }
        bool last = true;
        for (int f = e + 1; f <= st->cfg->spec.evse_count; f++)
            for (int i = 0; i < n; i++)
                last = last && evses[i] != f;
        cJSON_AddBoolToObject(p, "tbc", !last);
        if (count) {
            char err[256];
            if (ocpp_session_call(st->session, "ReportChargingProfiles", p, NULL, sim_real_ms(), NULL, err,
                                  sizeof err) != 0 && st->w->opt.progress)
                fprintf(stderr, "%s: ReportChargingProfiles not sent: %s\n", st->cfg->id, err);
        }
        cJSON_Delete(p);
    }
}

static void composite(struct sim_station *st, const struct ocpp_event *ev)
{
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(ev->payload, "duration");
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(ev->payload, "evseId");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(ev->payload, "chargingRateUnit");
    enum sim_unit u = st->cfg->spec.unit_w ? SIM_UNIT_W : SIM_UNIT_A;
    if (cJSON_IsString(unit))
        u = strcmp(unit->valuestring, "A") == 0 ? SIM_UNIT_A : SIM_UNIT_W;
    int64_t start = sim_clock_now(&st->w->clock, sim_real_ms());
    start -= start % 1000;
    static struct sim_schedule out;
    struct sim_reject why = {{0}, {0}};
    if (sim_profiles_composite(st->profiles, evse->valueint, start, dur->valueint, u, st->tx, &out, &why) != 0) {
        reply(st, ev->id, status_with_reason("Rejected", &why));
        return;
    }
    if (st->fault_wrong_composite) {
        /* Fault: a station whose report does not match its profiles (it claims its hardware maximum). */
        out.nperiods = 1;
        out.periods[0].start_s = 0;
        out.periods[0].limit = sim_profiles_from_w(st->profiles, st->cfg->spec.evse_max_w, u);
    }
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", "Accepted");
    cJSON *s = cJSON_AddObjectToObject(p, "schedule");
    cJSON_AddNumberToObject(s, "evseId", evse->valueint);
    cJSON_AddNumberToObject(s, "duration", out.duration_s);
    cJSON_AddStringToObject(s, "scheduleStart", sim_time_format(start, tb));
    cJSON_AddStringToObject(s, "chargingRateUnit", sim_unit_name(u));
    cJSON *arr = cJSON_AddArrayToObject(s, "chargingSchedulePeriod");
    for (int i = 0; i < out.nperiods; i++) {
        cJSON *pd = cJSON_CreateObject();
        cJSON_AddNumberToObject(pd, "startPeriod", out.periods[i].start_s);
        /* The schema wants multiples of 0.1; rounding down keeps the answer a limit that is obeyed. */
        cJSON_AddNumberToObject(pd, "limit", floor(out.periods[i].limit * 10 + 1e-6) / 10);
        cJSON_AddItemToArray(arr, pd);
    }
    reply(st, ev->id, p);
}

/* The device model: a few variables a CSMS reads to learn what this station accepts. */
static int variable(const struct sim_station *st, const char *comp, const char *var, char *out, size_t len)
{
    const struct sim_station_spec *s = &st->cfg->spec;
    if (strcmp(comp, "SmartChargingCtrlr") == 0) {
        if (strcmp(var, "Enabled") == 0 || strcmp(var, "Available") == 0)
            return snprintf(out, len, "true"), 0;
        if (strcmp(var, "PeriodsPerSchedule") == 0)
            return snprintf(out, len, "%d", s->periods_per_schedule), 0;
        if (strcmp(var, "ProfileStackLevel") == 0)
            return snprintf(out, len, "%d", s->max_stack_level), 0;
        if (strcmp(var, "RateUnit") == 0)
            return snprintf(out, len, "%s", s->unit_a && s->unit_w ? "A,W" : s->unit_a ? "A" : "W"), 0;
        if (strcmp(var, "Entries") == 0)
            return snprintf(out, len, "%d", s->entries_max), 0;
    }
    /* Every EVSE of a simulated station is the same: its power (the attribute a CSMS asks for is MaxSet) and the
     * phases it is wired to, 0 for DC. */
    if (strcmp(comp, "EVSE") == 0) {
        if (strcmp(var, "Power") == 0)
            return snprintf(out, len, "%.0f", s->evse_max_w), 0;
        if (strcmp(var, "SupplyPhases") == 0)
            return snprintf(out, len, "%d", s->dc ? 0 : s->phases), 0;
    }
    if (strcmp(comp, "OCPPCommCtrlr") == 0 && strcmp(var, "HeartbeatInterval") == 0)
        return snprintf(out, len, "%lld", (long long)st->heartbeat_s), 0;
    if (strcmp(comp, "SampledDataCtrlr") == 0 && strcmp(var, "TxUpdatedInterval") == 0)
        return snprintf(out, len, "%d", st->w->opt.meter_interval_s), 0;
    if (strcmp(comp, "ChargingStation") == 0) {
        if (strcmp(var, "Model") == 0)
            return snprintf(out, len, "%s", st->cfg->model), 0;
        if (strcmp(var, "VendorName") == 0)
            return snprintf(out, len, "%s", st->cfg->vendor), 0;
        /* Device model: phases of the supply, 0 for DC. A CSMS turns A into W with it (a 1-phase 6 A minimum is
         * 1.38 kW, not the 4.14 kW of three phases). */
        if (strcmp(var, "SupplyPhases") == 0)
            return snprintf(out, len, "%d", s->dc ? 0 : s->phases), 0;
    }
    return -1;
}

static void get_variables(struct sim_station *st, const struct ocpp_event *ev)
{
    cJSON *p = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(p, "getVariableResult");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ev->payload, "getVariableData")) {
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(it, "component");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variable");
        const char *cn = cJSON_GetObjectItemCaseSensitive(comp, "name")->valuestring;
        const char *vn = cJSON_GetObjectItemCaseSensitive(var, "name")->valuestring;
        char val[64];
        int rc = variable(st, cn, vn, val, sizeof val);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "attributeStatus", rc == 0 ? "Accepted" : "UnknownVariable");
        if (rc == 0)
            cJSON_AddStringToObject(r, "attributeValue", val);
        cJSON_AddItemToObject(r, "component", cJSON_Duplicate(comp, 1));
        cJSON_AddItemToObject(r, "variable", cJSON_Duplicate(var, 1));
        cJSON_AddItemToArray(res, r);
    }
    reply(st, ev->id, p);
}

/* B07: every variable the station knows, as one NotifyReport (the list is short). */
static void base_report(struct sim_station *st, const struct ocpp_event *ev)
{
    static const char *const known[][2] = {
        {"SmartChargingCtrlr", "Enabled"}, {"SmartChargingCtrlr", "PeriodsPerSchedule"},
        {"SmartChargingCtrlr", "ProfileStackLevel"}, {"SmartChargingCtrlr", "RateUnit"},
        {"SmartChargingCtrlr", "Entries"}, {"OCPPCommCtrlr", "HeartbeatInterval"},
        {"SampledDataCtrlr", "TxUpdatedInterval"}, {"ChargingStation", "Model"},
        {"ChargingStation", "VendorName"}, {"ChargingStation", "SupplyPhases"}};
    reply(st, ev->id, status_with_reason("Accepted", NULL));
    char tb[32], val[64];
    cJSON *p = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(p, "reportData");
    cJSON_AddNumberToObject(p, "requestId", cJSON_GetObjectItemCaseSensitive(ev->payload, "requestId")->valueint);
    cJSON_AddStringToObject(p, "generatedAt", sim_time_format(sim_clock_now(&st->w->clock, sim_real_ms()), tb));
    cJSON_AddNumberToObject(p, "seqNo", 0);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (variable(st, known[i][0], known[i][1], val, sizeof val) != 0)
            continue;
        cJSON *d = cJSON_CreateObject(), *attrs, *a = cJSON_CreateObject();
        cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "component"), "name", known[i][0]);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "variable"), "name", known[i][1]);
        attrs = cJSON_AddArrayToObject(d, "variableAttribute");
        cJSON_AddItemToArray(attrs, a);
        cJSON_AddStringToObject(a, "type", "Actual");
        cJSON_AddStringToObject(a, "value", val);
        cJSON_AddItemToArray(data, d);
    }
    sim_station_send(st, "NotifyReport", p);
    cJSON_Delete(p);
}

static void set_variables(struct sim_station *st, const struct ocpp_event *ev)
{
    cJSON *p = cJSON_CreateObject();
    cJSON *res = cJSON_AddArrayToObject(p, "setVariableResult");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ev->payload, "setVariableData")) {
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(it, "component");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variable");
        const char *cn = cJSON_GetObjectItemCaseSensitive(comp, "name")->valuestring;
        const char *vn = cJSON_GetObjectItemCaseSensitive(var, "name")->valuestring;
        const char *value = cJSON_GetObjectItemCaseSensitive(it, "attributeValue")->valuestring;
        const char *status = "UnknownVariable";
        char cur[64];
        if (strcmp(cn, "OCPPCommCtrlr") == 0 && strcmp(vn, "HeartbeatInterval") == 0) {
            long v = strtol(value, NULL, 10);
            status = v > 0 ? "Accepted" : "Rejected";
            if (v > 0)
                st->heartbeat_s = v;
        } else if (strcmp(cn, "SampledDataCtrlr") == 0 && strcmp(vn, "TxUpdatedInterval") == 0) {
            long v = strtol(value, NULL, 10);
            status = v > 0 ? "Accepted" : "Rejected";
            if (v > 0)
                st->w->opt.meter_interval_s = (int)v; /* fleet-wide in the simulator: one setting */
        } else if (strcmp(cn, "SecurityCtrlr") == 0 && strcmp(vn, "BasicAuthPassword") == 0) {
            /* A01: taken at once, used from the next connection on (this one stays). */
            size_t n = strlen(value);
            status = n >= 16 && n <= 40 ? "Accepted" : "Rejected";
            if (n >= 16 && n <= 40)
                snprintf(st->password, sizeof st->password, "%s", value);
        } else if (variable(st, cn, vn, cur, sizeof cur) == 0) {
            status = "Rejected"; /* known but read-only: the hardware decides these */
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "attributeStatus", status);
        cJSON_AddItemToObject(r, "component", cJSON_Duplicate(comp, 1));
        cJSON_AddItemToObject(r, "variable", cJSON_Duplicate(var, 1));
        cJSON_AddItemToArray(res, r);
    }
    reply(st, ev->id, p);
}


/* ---- remote control -------------------------------------------------------------------------------------- */

static bool evse_ok(const struct sim_station *st, int id) { return id >= 1 && id <= st->cfg->spec.evse_count; }

static void request_start(struct sim_station *st, const struct ocpp_event *ev)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(ev->payload, "evseId");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(ev->payload, "remoteStartId");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(ev->payload, "idToken");
    const char *token = cJSON_GetObjectItemCaseSensitive(tok, "idToken")->valuestring;
    const char *type = cJSON_GetObjectItemCaseSensitive(tok, "type")->valuestring;
    int id = cJSON_IsNumber(evse) ? evse->valueint : 0;
    if (!cJSON_IsNumber(evse)) {
        /* No EVSE named: a plugged vehicle waiting for authorization first, else the first free one. */
        for (int e = 1; e <= st->cfg->spec.evse_count && !id; e++)
            if (st->evse[e].visit >= 0 && !st->evse[e].authorized && !st->evse[e].inoperative_pending)
                id = e;
        for (int e = 1; e <= st->cfg->spec.evse_count && !id; e++)
            if (st->evse[e].visit < 0 && !st->evse[e].inoperative)
                id = e;
    }
    struct sim_reject why = {{0}, {0}};
    const struct sim_evse *e = evse_ok(st, id) ? &st->evse[id] : NULL;
    if (!e) {
        snprintf(why.reason, sizeof why.reason, cJSON_IsNumber(evse) ? "UnknownEvse" : "NoFreeEvse");
    } else if (e->inoperative || e->inoperative_pending) {
        snprintf(why.reason, sizeof why.reason, "Unavailable");
    } else if (e->visit >= 0 && (e->authorized || !st->tx[id].tx_id[0])) {
        snprintf(why.reason, sizeof why.reason, "Occupied");
        snprintf(why.info, sizeof why.info, "a session is already authorized on EVSE %d", id);
    }
    if (why.reason[0]) {
        reply(st, ev->id, status_with_reason("Rejected", &why));
        return;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", "Accepted");
    if (e->visit >= 0) /* F02: the transaction the cable started */
        cJSON_AddStringToObject(p, "transactionId", st->tx[id].tx_id);
    reply(st, ev->id, p);
    char tx[40];
    if (sim_station_remote_start(st, id, token, type, rid->valueint, tx, sizeof tx) < 0 && st->w->opt.progress)
        fprintf(stderr, "%s: RequestStartTransaction accepted but not started on EVSE %d\n", st->cfg->id, id);
}

static void request_stop(struct sim_station *st, const struct ocpp_event *ev)
{
    const char *tx = cJSON_GetObjectItemCaseSensitive(ev->payload, "transactionId")->valuestring;
    bool known = false;
    for (int e = 1; e <= st->cfg->spec.evse_count; e++)
        known |= st->tx[e].tx_id[0] && strcmp(st->tx[e].tx_id, tx) == 0;
    reply(st, ev->id, status_with_reason(known ? "Accepted" : "Rejected", NULL));
    if (known)
        sim_station_remote_stop(st, tx);
}

static void reset(struct sim_station *st, const struct ocpp_event *ev)
{
    const char *type = cJSON_GetObjectItemCaseSensitive(ev->payload, "type")->valuestring;
    if (cJSON_GetObjectItemCaseSensitive(ev->payload, "evseId")) {
        struct sim_reject why = {{0}, {0}};
        snprintf(why.reason, sizeof why.reason, "UnsupportedRequest");
        snprintf(why.info, sizeof why.info, "depotsim resets whole stations only");
        reply(st, ev->id, status_with_reason("Rejected", &why));
        return;
    }
    bool immediate = strcmp(type, "Immediate") == 0;
    /* B11: OnIdle waits for the running transactions to end (Scheduled); B12: Immediate ends them now. */
    bool later = !immediate && !sim_station_idle(st);
    reply(st, ev->id, status_with_reason(later ? "Scheduled" : "Accepted", NULL));
    if (later)
        st->reset_on_idle = true;
    else
        sim_station_reset_now(st);
}

static void change_availability(struct sim_station *st, const struct ocpp_event *ev)
{
    const char *op = cJSON_GetObjectItemCaseSensitive(ev->payload, "operationalStatus")->valuestring;
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(ev->payload, "evse");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(evse, "id");
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(evse, "connectorId");
    bool operative = strcmp(op, "Operative") == 0;
    int from = 1, to = st->cfg->spec.evse_count;
    if (cJSON_IsNumber(id) && id->valueint != 0) {
        if (!evse_ok(st, id->valueint) || (cJSON_IsNumber(conn) && conn->valueint != 1)) {
            struct sim_reject why = {{0}, {0}};
            snprintf(why.reason, sizeof why.reason, "UnknownEvse");
            reply(st, ev->id, status_with_reason("Rejected", &why));
            return;
        }
        from = to = id->valueint;
    }
    /* Decide first (answer before the StatusNotifications), then act. */
    bool scheduled = false;
    for (int e = from; e <= to; e++)
        scheduled |= !operative && (st->tx[e].tx_id[0] || st->evse[e].visit >= 0);
    reply(st, ev->id, status_with_reason(scheduled ? "Scheduled" : "Accepted", NULL));
    for (int e = from; e <= to; e++)
        sim_station_availability(st, e, operative);
}

static void trigger_message(struct sim_station *st, const struct ocpp_event *ev)
{
    const char *what = cJSON_GetObjectItemCaseSensitive(ev->payload, "requestedMessage")->valuestring;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev->payload, "evse"), "id");
    int from = 1, to = st->cfg->spec.evse_count;
    if (cJSON_IsNumber(id) && id->valueint != 0) {
        if (!evse_ok(st, id->valueint)) {
            reply(st, ev->id, status_with_reason("Rejected", NULL));
            return;
        }
        from = to = id->valueint;
    }
    if (strcmp(what, "BootNotification") == 0) {
        /* F06.FR.17: once a boot was Accepted, a triggered BootNotification is Rejected. */
        bool ok = !st->booted;
        reply(st, ev->id, status_with_reason(ok ? "Accepted" : "Rejected", NULL));
        if (ok && !st->boot_in_flight)
            sim_station_send_boot(st, "Triggered");
    } else if (strcmp(what, "Heartbeat") == 0) {
        reply(st, ev->id, status_with_reason("Accepted", NULL));
        sim_station_send_heartbeat(st);
    } else if (strcmp(what, "StatusNotification") == 0) {
        reply(st, ev->id, status_with_reason("Accepted", NULL));
        for (int e = from; e <= to; e++)
            sim_station_send_status(st, e);
    } else if (strcmp(what, "MeterValues") == 0) {
        reply(st, ev->id, status_with_reason("Accepted", NULL));
        for (int e = from; e <= to; e++)
            sim_station_send_meter_values(st, e);
    } else if (strcmp(what, "SignChargingStationCertificate") == 0) {
        reply(st, ev->id, status_with_reason("Accepted", NULL));
        sim_station_send_sign_certificate(st);
    } else {
        reply(st, ev->id, status_with_reason("NotImplemented", NULL));
    }
}

static void unlock_connector(struct sim_station *st, const struct ocpp_event *ev)
{
    int id = cJSON_GetObjectItemCaseSensitive(ev->payload, "evseId")->valueint;
    int conn = cJSON_GetObjectItemCaseSensitive(ev->payload, "connectorId")->valueint;
    const char *status = "Unlocked";
    if (!evse_ok(st, id) || conn != 1)
        status = "UnknownConnector";
    else if (st->tx[id].tx_id[0] && st->evse[id].authorized)
        status = "OngoingAuthorizedTransaction"; /* F05.FR.02: stop the transaction first */
    reply(st, ev->id, status_with_reason(status, NULL));
}

void sim_station_handle_call(struct sim_station *st, const struct ocpp_event *ev, int64_t now_real)
{
    const char *a = ev->action;
    if (st->fault_silent)
        return; /* fault: the CSMS's call times out on its side */
    if (st->fault_late && st->late_n < SIM_LATE_MAX && now_real >= 0) {
        /* fault: held back, answered by sim_station_answer_late (which passes now_real = -1 to get here) */
        struct sim_late_call *l = &st->late[st->late_n++];
        l->due_real = now_real + st->w->opt.late_ms;
        snprintf(l->id, sizeof l->id, "%s", ev->id);
        snprintf(l->action, sizeof l->action, "%s", ev->action);
        l->payload = cJSON_Duplicate(ev->payload, 1);
        return;
    }
    if (strcmp(a, "SetChargingProfile") == 0)
        set_profile(st, ev);
    else if (strcmp(a, "ClearChargingProfile") == 0)
        clear_profile(st, ev);
    else if (strcmp(a, "GetChargingProfiles") == 0)
        get_profiles(st, ev);
    else if (strcmp(a, "GetCompositeSchedule") == 0)
        composite(st, ev);
    else if (strcmp(a, "GetVariables") == 0)
        get_variables(st, ev);
    else if (strcmp(a, "SetVariables") == 0)
        set_variables(st, ev);
    else if (strcmp(a, "GetBaseReport") == 0)
        base_report(st, ev);
    else if (strcmp(a, "RequestStartTransaction") == 0)
        request_start(st, ev);
    else if (strcmp(a, "RequestStopTransaction") == 0)
        request_stop(st, ev);
    else if (strcmp(a, "Reset") == 0)
        reset(st, ev);
    else if (strcmp(a, "ChangeAvailability") == 0)
        change_availability(st, ev);
    else if (strcmp(a, "TriggerMessage") == 0)
        trigger_message(st, ev);
    else if (strcmp(a, "UnlockConnector") == 0)
        unlock_connector(st, ev);
    else if (strcmp(a, "CertificateSigned") == 0) {
        const cJSON *chain = cJSON_GetObjectItemCaseSensitive(ev->payload, "certificateChain");
        bool ok = sim_cert_install(st, cJSON_IsString(chain) ? chain->valuestring : NULL);
        reply(st, ev->id, status_with_reason(ok ? "Accepted" : "Rejected", NULL));
    }
    else {
        ocpp_session_reply_error(st->session, ev->id, OCPP_E_NOT_IMPLEMENTED, "depotsim does not implement this");
        sim_report_counters(st->w->report)->callerrors_out++;
    }
    sim_station_flush(st);
}

void sim_station_answer_late(struct sim_station *st, int64_t now_real)
{
    int kept = 0;
    for (int i = 0; i < st->late_n; i++) {
        struct sim_late_call *l = &st->late[i];
        if (l->due_real > now_real || !st->session) {
            st->late[kept++] = *l;
            continue;
        }
        struct ocpp_event ev = {.type = OCPP_EV_CALL, .id = l->id, .action = l->action, .payload = l->payload};
        sim_station_handle_call(st, &ev, -1);
        cJSON_Delete(l->payload);
    }
    st->late_n = kept;
}
