/*
 * The catalogue's scenarios that need nothing from an operator: the station speaks, the CSMS answers (B boot, C
 * authorization, E transactions, G status, J meter values, the RPC framework). Names as in conform_internal.h.
 */
#include "conform_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CF_SCENARIO(fn) static void fn(const struct cf_options *o, struct verdict *r, const void *arg __attribute__((unused)))

static cJSON *token_payload(const char *token)
{
    cJSON *p = cJSON_CreateObject(), *t = cJSON_AddObjectToObject(p, "idToken");
    cJSON_AddStringToObject(t, "idToken", token);
    cJSON_AddStringToObject(t, "type", "ISO14443");
    return p;
}

/* ---- B: provisioning -------------------------------------------------------------------------------- */

CF_SCENARIO(tc_b_01)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    /* B01.FR.x: after Accepted the station reports its connectors. */
    if (cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Available"), r, NULL) == 0) {
        cf_pump(c, 0.3);
        if (cf_protocol_faults(c))
            cf_set(r, CF_FAIL, c, "the CSMS sent %d invalid frame(s)", cf_protocol_faults(c));
        else
            cf_set(r, CF_PASS, NULL, "Accepted with interval and currentTime; StatusNotification answered");
    }
    cf_close(c);
}

CF_SCENARIO(tc_b_02)
{
    if (!o->pending_id[0]) {
        cf_set(r, CF_SKIP, NULL, "no --pending-id given");
        return;
    }
    cf_conn *c = cf_boot(o->pending_id, o->pending_password, "Pending", r);
    if (!c)
        return;
    /* B02.FR.02: while Pending the CSMS may send only what configures the station; we watch for a while. */
    cf_pump(c, o->wait_s < 2 ? o->wait_s : 2);
    if (cf_protocol_faults(c))
        cf_set(r, CF_FAIL, c, "the CSMS sent %d invalid frame(s) while Pending", cf_protocol_faults(c));
    else
        cf_set(r, CF_PASS, NULL, "Pending with a retry interval; no invalid CSMS frame while Pending");
    cf_close(c);
}

CF_SCENARIO(tc_b_03)
{
    if (!o->rejected_id[0]) {
        cf_set(r, CF_SKIP, NULL, "no --rejected-id given");
        return;
    }
    cf_conn *c = cf_boot(o->rejected_id, o->rejected_password, "Rejected", r);
    if (!c)
        return;
    /* B03.FR.xx: the CSMS must not send CALLs to a Rejected station. */
    struct cf_msg *m = cf_wait_call(c, NULL, 1.5);
    if (m)
        cf_set(r, CF_FAIL, c, "the CSMS sent %s to a Rejected station", m->action);
    else
        cf_set(r, CF_PASS, NULL, "Rejected with a retry interval; no CALL from the CSMS afterwards");
    cf_close(c);
}

/* ---- G, C: heartbeat, status, authorization ----------------------------------------------------------- */

CF_SCENARIO(g02_heartbeat)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cJSON *res = NULL;
    int64_t t;
    if (cf_simple_call(c, "Heartbeat", cJSON_CreateObject(), r, &res) == 0) {
        if (ocpp_time_parse(cf_str(res, "currentTime"), &t) != 0)
            cf_set(r, CF_FAIL, c, "Heartbeat currentTime is not RFC 3339");
        else
            cf_set(r, CF_PASS, NULL, "Heartbeat answered with currentTime");
    }
    cJSON_Delete(res);
    cf_close(c);
}

CF_SCENARIO(g01_status)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    static const char *const states[] = {"Available", "Occupied", "Reserved", "Unavailable", "Faulted", "Available"};
    int ok = 1;
    for (size_t i = 0; i < sizeof states / sizeof states[0] && ok; i++)
        ok = cf_simple_call(c, "StatusNotification", cf_status_payload(1, states[i]), r, NULL) == 0;
    if (ok)
        cf_set(r, CF_PASS, NULL, "every connectorStatus answered");
    cf_close(c);
}

CF_SCENARIO(c01_authorize)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cJSON *res = NULL;
    if (cf_simple_call(c, "Authorize", token_payload(o->id_token), r, &res) == 0)
        cf_set(r, CF_PASS, NULL, "Authorize answered: %s",
            cf_str(cJSON_GetObjectItemCaseSensitive(res, "idTokenInfo"), "status"));
    cJSON_Delete(res);
    cf_close(c);
}

/* ---- E: transactions ---------------------------------------------------------------------------------- */


CF_SCENARIO(tc_e_03)
{
    /* E02: cable first; the transaction starts on the plug, the driver authorizes, charging starts. */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    cJSON *auth = NULL;
    cf_tx_id(id, "e03");
    if (cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Occupied"), r, NULL) == 0 &&
        cf_send_tx(c, cf_tx_payload("Started", "CablePluggedIn", 0, id, 0, 1000, false, NULL), r) == 0 &&
        cf_simple_call(c, "Authorize", token_payload(o->id_token), r, &auth) == 0) {
        const char *st = cf_str(cJSON_GetObjectItemCaseSensitive(auth, "idTokenInfo"), "status");
        cJSON *res = NULL;
        if (strcmp(st, "Accepted") != 0)
            cf_set(r, CF_FAIL, c, "Authorize of the configured idToken %s: %s, expected Accepted", o->id_token, st);
        else if (cf_simple_call(c, "TransactionEvent", cf_tx_payload("Updated", "Authorized", 1, id, 0, 1000, false,
                                                                     o->id_token), r, &res) == 0) {
            st = cf_str(cJSON_GetObjectItemCaseSensitive(res, "idTokenInfo"), "status");
            if (strcmp(st, "Accepted") != 0)
                cf_set(r, CF_FAIL, c, "TransactionEvent with the idToken: idTokenInfo %s, expected Accepted", st);
            else if (cf_send_tx(c, cf_tx_payload("Updated", "ChargingStateChanged", 2, id, 0, 1500, false, NULL), r) == 0 &&
                     cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 3, id, 0, 2500, false, NULL), r) == 0)
                cf_set(r, CF_PASS, NULL, "Occupied, Started (CablePluggedIn), Authorize Accepted, Updated Authorized with "
                       "idTokenInfo Accepted, charging, Ended (%s)", id);
        }
        cJSON_Delete(res);
    }
    cJSON_Delete(auth);
    cf_close(c);
}

CF_SCENARIO(tc_e_04)
{
    /* E03: authorization first, then the cable: the transaction starts Authorized with the idToken. */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    cJSON *auth = NULL, *res = NULL;
    cf_tx_id(id, "e04");
    if (cf_simple_call(c, "Authorize", token_payload(o->id_token), r, &auth) == 0 &&
        cf_simple_call(c, "TransactionEvent", cf_tx_payload("Started", "Authorized", 0, id, 0, 0, false, o->id_token), r,
                       &res) == 0) {
        const char *st = cf_str(cJSON_GetObjectItemCaseSensitive(res, "idTokenInfo"), "status");
        if (strcmp(st, "Accepted") != 0)
            cf_set(r, CF_FAIL, c, "TransactionEvent Started with the idToken: idTokenInfo %s, expected Accepted", st);
        else if (cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Occupied"), r, NULL) == 0 &&
                 cf_send_tx(c, cf_tx_payload("Updated", "CablePluggedIn", 1, id, 0, 0, false, NULL), r) == 0 &&
                 cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 2, id, 0, 900, false, NULL), r) == 0)
            cf_set(r, CF_PASS, NULL, "Authorize, Started (Authorized) with idTokenInfo Accepted, plugged, Ended (%s)", id);
    }
    cJSON_Delete(auth);
    cJSON_Delete(res);
    cf_close(c);
}

CF_SCENARIO(e12_offline_replay)
{
    /* E12: events made while offline arrive after the reboot, offline=true, timestamps in the past. */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    cf_tx_id(id, "offl");
    if (cf_send_tx(c, cf_tx_payload("Started", "CablePluggedIn", 0, id, -3600000, 0, true, NULL), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Updated", "Authorized", 1, id, -3590000, 0, true, o->id_token), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Updated", "MeterValuePeriodic", 2, id, -1800000, 5000, true, NULL), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 3, id, -60000, 11000, true, NULL), r) == 0)
        cf_set(r, CF_PASS, NULL, "4 offline events (1 h old) answered (%s)", id);
    cf_close(c);
}

CF_SCENARIO(e_out_of_order_seq)
{
    /* E01 / E12: seqNo lets the CSMS order events; a late one must still be accepted. */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    cf_tx_id(id, "seq");
    if (cf_send_tx(c, cf_tx_payload("Started", "CablePluggedIn", 0, id, -600000, 0, false, o->id_token), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Updated", "MeterValuePeriodic", 2, id, -120000, 2000, false, NULL), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Updated", "MeterValuePeriodic", 1, id, -300000, 1000, true, NULL), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 3, id, 0, 3000, false, NULL), r) == 0)
        cf_set(r, CF_PASS, NULL, "seqNo 0, 2, 1, 3 all answered (%s)", id);
    cf_close(c);
}

/* ---- the CSMS's own CALLs: CALLERROR and timeout reactions ------------------------------------------- */

static void csms_call_reaction(const struct cf_options *o, struct verdict *r, enum cf_answer_mode mode)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cf_set_answer_mode(c, mode);
    cf_conn *keep = c;
    (void)cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Available"), r, NULL);
    struct cf_msg *m = cf_wait_call(c, NULL, o->wait_s);
    if (!m) {
        cf_set(r, CF_SKIP, NULL, "the CSMS sent no CALL within %.0f s after boot and StatusNotification", o->wait_s);
        cf_close(keep);
        return;
    }
    cf_pump(c, 1.0);
    cJSON *res = NULL;
    if (cf_simple_call(c, "Heartbeat", cJSON_CreateObject(), r, &res) == 0) {
        if (cf_protocol_faults(c))
            cf_set(r, CF_FAIL, c, "the CSMS sent %d invalid frame(s)", cf_protocol_faults(c));
        else
            cf_set(r, CF_PASS, NULL, "%s %s; the CSMS still answers Heartbeat on the same connection",
                mode == CF_ANSWER_ERROR ? "CALLERROR InternalError sent to its" : "no answer to its", m->action);
    }
    cJSON_Delete(res);
    cf_close(keep);
}

CF_SCENARIO(rpc_callerror)
{
    csms_call_reaction(o, r, CF_ANSWER_ERROR);
}

CF_SCENARIO(rpc_timeout)
{
    csms_call_reaction(o, r, CF_ANSWER_NEVER);
}

CF_SCENARIO(rpc_malformed)
{
    /* OCPP-J 4.2.3: a CALL that cannot be parsed gets a CALLERROR, and the connection stays usable. */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char *back = cf_raw(c, "[2,\"cf-bad-1\",\"Heartbeat\",{\"x\":", o->wait_s);
    struct ocpp_frame f;
    struct ocpp_fault fault;
    bool ok = back && ocpp_frame_parse(back, strlen(back), &f, &fault) == 0;
    if (!ok)
        cf_set(r, CF_FAIL, c, "no parseable CALLERROR for a broken frame");
    else if (f.type != OCPP_CALLERROR)
        cf_set(r, CF_FAIL, c, "answer to a broken frame is not a CALLERROR");
    else {
        cJSON *res = NULL;
        if (cf_simple_call(c, "Heartbeat", cJSON_CreateObject(), r, &res) == 0)
            cf_set(r, CF_PASS, NULL, "CALLERROR %s, then Heartbeat answered", ocpp_error_name(f.error_code));
        cJSON_Delete(res);
    }
    if (ok)
        ocpp_frame_clear(&f);
    free(back);
    cf_close(c);
}

CF_SCENARIO(tc_b_30)
{
    if (!o->pending_id[0]) {
        cf_set(r, CF_SKIP, NULL, "no --pending-id given");
        return;
    }
    cf_conn *c = cf_boot(o->pending_id, o->pending_password, "Pending", r);
    if (!c)
        return;
    /* B02.FR.09: while Pending, a CALL other than BootNotification gets CALLERROR SecurityError. Sent raw: the
     * station side's own session refuses to send it. */
    char tb[32], frame[400];
    snprintf(frame, sizeof frame, "[2,\"cf-b30\",\"StatusNotification\",{\"timestamp\":\"%s\",\"connectorStatus\":"
             "\"Available\",\"evseId\":1,\"connectorId\":1}]", cf_now_text(tb, 0));
    char *back = cf_raw(c, frame, o->wait_s);
    struct ocpp_frame f;
    struct ocpp_fault fault;
    bool parsed = back && ocpp_frame_parse(back, strlen(back), &f, &fault) == 0;
    if (parsed && f.type == OCPP_CALLERROR && f.error_code == OCPP_E_SECURITY_ERROR)
        cf_set(r, CF_PASS, NULL, "Pending: StatusNotification answered CALLERROR SecurityError");
    else
        cf_set(r, CF_FAIL, c, "Pending: StatusNotification %s, expected CALLERROR SecurityError",
               !back ? "not answered" : !parsed ? "answered with a broken frame"
               : f.type == OCPP_CALLERROR ? ocpp_error_name(f.error_code) : "answered with a CALLRESULT");
    if (parsed)
        ocpp_frame_clear(&f);
    free(back);
    cf_close(c);
}

CF_SCENARIO(tc_c_02)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char token[40];
    cf_tx_id(token, "unknown-token");
    cJSON *res = NULL;
    if (cf_simple_call(c, "Authorize", token_payload(token), r, &res) == 0) {
        const char *st = cf_str(cJSON_GetObjectItemCaseSensitive(res, "idTokenInfo"), "status");
        if (strcmp(st, "Invalid") == 0 || strcmp(st, "Unknown") == 0)
            cf_set(r, CF_PASS, NULL, "an unknown idToken: %s", st);
        else
            cf_set(r, CF_FAIL, c, "an unknown idToken (%s): %s, expected Invalid or Unknown", token, st);
    }
    cJSON_Delete(res);
    cf_close(c);
}

/* The sampled value of a payload made by cf_tx_payload, given a reading context. */
static cJSON *with_context(cJSON *p, const char *context)
{
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "meterValue"), 0);
    cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "sampledValue"), 0);
    cJSON_AddStringToObject(s, "context", context);
    return p;
}

CF_SCENARIO(tc_e_53)
{
    /* E01: each transaction counts seqNo from 0; a second one on the same EVSE starts at 0 again. */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char a[40], b[40];
    cf_tx_id(a, "e53a");
    cf_tx_id(b, "e53b");
    if (cf_send_tx(c, cf_tx_payload("Started", "Authorized", 0, a, 0, 0, false, o->id_token), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 1, a, 0, 500, false, NULL), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Started", "Authorized", 0, b, 0, 500, false, o->id_token), r) == 0 &&
        cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 1, b, 0, 900, false, NULL), r) == 0)
        cf_set(r, CF_PASS, NULL, "two transactions, seqNo from 0 in each, all answered");
    cf_close(c);
}

CF_SCENARIO(tc_j_01)
{
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char tb[32];
    cJSON *p = cJSON_CreateObject(), *mv = cJSON_AddArrayToObject(p, "meterValue"), *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "evseId", 1);
    cJSON_AddItemToArray(mv, m);
    cJSON_AddStringToObject(m, "timestamp", cf_now_text(tb, 0));
    cJSON *sv = cJSON_AddArrayToObject(m, "sampledValue"), *s = cJSON_CreateObject();
    cJSON_AddItemToArray(sv, s);
    cJSON_AddNumberToObject(s, "value", 1234.5);
    cJSON_AddStringToObject(s, "context", "Sample.Clock");
    cJSON_AddStringToObject(s, "measurand", "Energy.Active.Import.Register");
    if (cf_simple_call(c, "MeterValues", p, r, NULL) == 0)
        cf_set(r, CF_PASS, NULL, "clock-aligned MeterValues outside a transaction answered");
    cf_close(c);
}

CF_SCENARIO(tc_j_09_10)
{
    /* J02: sampled values in Updated (Sample.Periodic) and Ended (Transaction.End). */
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    cf_tx_id(id, "j09");
    if (cf_send_tx(c, with_context(cf_tx_payload("Started", "Authorized", 0, id, 0, 0, false, o->id_token),
                                   "Transaction.Begin"), r) == 0 &&
        cf_send_tx(c, with_context(cf_tx_payload("Updated", "MeterValuePeriodic", 1, id, 0, 700, false, NULL),
                                   "Sample.Periodic"), r) == 0 &&
        cf_send_tx(c, with_context(cf_tx_payload("Ended", "EVDeparted", 2, id, 0, 1400, false, NULL),
                                   "Transaction.End"), r) == 0)
        cf_set(r, CF_PASS, NULL, "Transaction.Begin, Sample.Periodic and Transaction.End values answered (%s)", id);
    cf_close(c);
}

/* A NotifyEvent the CSMS must answer: G05 a connector's lock fails, N07 an alert from a hard-wired monitor, one
 * cleared after a reboot, a periodic one. */
struct event_case {
    const char *component, *variable, *trigger, *type, *value;
    bool cleared;
};

static void notify_event(const struct cf_options *o, struct verdict *r, const void *arg)
{
    const struct event_case *x = arg;
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char tb[32];
    cJSON *p = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(p, "eventData"), *e = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "generatedAt", cf_now_text(tb, 0));
    cJSON_AddNumberToObject(p, "seqNo", 0);
    cJSON_AddItemToArray(data, e);
    cJSON_AddNumberToObject(e, "eventId", 1);
    cJSON_AddStringToObject(e, "timestamp", tb);
    cJSON_AddStringToObject(e, "trigger", x->trigger);
    cJSON_AddStringToObject(e, "actualValue", x->value);
    cJSON_AddStringToObject(e, "eventNotificationType", x->type);
    if (x->cleared)
        cJSON_AddBoolToObject(e, "cleared", true);
    cJSON *comp = cJSON_AddObjectToObject(e, "component"), *ev = cJSON_AddObjectToObject(comp, "evse");
    cJSON_AddStringToObject(comp, "name", x->component);
    cJSON_AddNumberToObject(ev, "id", 1);
    cJSON_AddNumberToObject(ev, "connectorId", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "variable"), "name", x->variable);
    if (cf_simple_call(c, "NotifyEvent", p, r, NULL) == 0)
        cf_set(r, CF_PASS, NULL, "NotifyEvent %s.%s = %s (%s, %s%s) answered", x->component, x->variable, x->value,
               x->trigger, x->type, x->cleared ? ", cleared" : "");
    cf_close(c);
}

const struct cf_scenario cf_basic[] = {
    {"TC_B_01_CSMS", "cold boot, Accepted", tc_b_01, NULL},
    {"TC_B_02_CSMS", "cold boot, Pending", tc_b_02, NULL},
    {"TC_B_03_CSMS", "cold boot, Rejected", tc_b_03, NULL},
    {"TC_B_30_CSMS", "Pending: a CALL other than boot gets SecurityError", tc_b_30, NULL},
    {"G02_heartbeat", "Heartbeat answered with currentTime", g02_heartbeat, NULL},
    {"G01_status", "StatusNotification, every connectorStatus", g01_status, NULL},
    {"TC_G_20_CSMS", "NotifyEvent of a lock failure answered", notify_event,
     &(const struct event_case){"ConnectorPlugRetentionLock", "Problem", "Delta", "HardWiredNotification", "true", false}},
    {"TC_N_21_CSMS", "NotifyEvent of a hard-wired monitor answered", notify_event,
     &(const struct event_case){"EVSE", "Problem", "Alerting", "HardWiredMonitor", "true", false}},
    {"TC_N_49_CSMS", "NotifyEvent of a threshold cleared after a reboot", notify_event,
     &(const struct event_case){"EVSE", "Power", "Alerting", "PreconfiguredMonitor", "0", true}},
    {"TC_N_50_CSMS", "NotifyEvent of a periodic monitor answered", notify_event,
     &(const struct event_case){"EVSE", "Power", "Periodic", "CustomMonitor", "7400", false}},
    {"C01_authorize", "Authorize answered with idTokenInfo", c01_authorize, NULL},
    {"TC_C_02_CSMS", "Authorize of an unknown idToken: Invalid or Unknown", tc_c_02, NULL},
    {"TC_E_03_CSMS", "local start, cable plugged in first", tc_e_03, NULL},
    {"TC_E_04_CSMS", "local start, authorization first", tc_e_04, NULL},
    {"TC_E_53_CSMS", "seqNo from 0 again in a new transaction", tc_e_53, NULL},
    {"E12_offline_replay", "offline events replayed after reconnect", e12_offline_replay, NULL},
    {"E_seqno_out_of_order", "seqNo 0, 2, 1, 3 all accepted", e_out_of_order_seq, NULL},
    {"TC_J_01_CSMS", "clock-aligned MeterValues, no transaction", tc_j_01, NULL},
    {"TC_J_09_10_CSMS", "sampled values in Updated and Ended", tc_j_09_10, NULL},
    {"RPC_callerror_reaction", "CSMS CALL answered with CALLERROR", rpc_callerror, NULL},
    {"RPC_timeout_reaction", "CSMS CALL never answered", rpc_timeout, NULL},
    {"RPC_malformed_frame", "broken frame gets a CALLERROR", rpc_malformed, NULL},
};
const int cf_n_basic = (int)(sizeof cf_basic / sizeof cf_basic[0]);
