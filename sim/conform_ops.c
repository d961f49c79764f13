/*
 * The test cases an operator starts at the CSMS (B provisioning, C cache, E transaction status, F remote control,
 * G availability; K's use this machinery too, conform_k.c). The station side cannot press the CSMS's buttons, so
 * each case runs `--trigger` with what the operator asks for and then checks, as the OCA test tool does, the
 * CALL the CSMS sends and its answer to what the station does next. A CSMS may also send the CALL by itself (a
 * smart charging CSMS sets its own TxDefaultProfile): any CALL that passes the checks counts.
 */
#include "conform_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CF_TEXT_MAX 2048

/* ---- the request and the checks -------------------------------------------------------------------------------- */

struct subst {
    const struct cf_options *o;
    const char *tx;
};

/* text with $TX (the setup's transactionId), $TOKEN, $UNIT (what the station declared), $NOW, $L<n> (n A, or
 * n kW in W) replaced. */
static void expand(const struct subst *s, const char *text, char *out, size_t len)
{
    size_t n = 0;
    char tb[32];
    for (const char *p = text; *p && n + 1 < len;) {
        const char *v = NULL;
        char num[32];
        size_t skip = 0;
        if (strncmp(p, "$TX", 3) == 0) v = s->tx, skip = 3;
        else if (strncmp(p, "$TOKEN", 6) == 0) v = s->o->id_token, skip = 6;
        else if (strncmp(p, "$UNIT", 5) == 0) v = s->o->rate_unit_w ? "W" : "A", skip = 5;
        else if (strncmp(p, "$NOW", 4) == 0) v = cf_now_text(tb, 0), skip = 4;
        else if (strncmp(p, "$L", 2) == 0 && p[2] >= '0' && p[2] <= '9') {
            long a = strtol(p + 2, (char **)&v, 10);
            skip = (size_t)((const char *)v - p);
            snprintf(num, sizeof num, "%ld", s->o->rate_unit_w ? a * 1000 : a);
            v = num;
        }
        if (v) {
            n += (size_t)snprintf(out + n, len - n, "%s", v);
            p += skip;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < len ? n : len - 1] = '\0';
}

/* a.b.0.c: members by name, array items by index. */
static const cJSON *at_path(const cJSON *root, const char *path)
{
    char seg[64];
    const cJSON *x = root;
    while (x && *path) {
        size_t n = strcspn(path, ".");
        snprintf(seg, sizeof seg, "%.*s", (int)(n < sizeof seg ? n : sizeof seg - 1), path);
        x = cJSON_IsArray(x) ? cJSON_GetArrayItem(x, atoi(seg)) : cJSON_GetObjectItemCaseSensitive(x, seg);
        path += n + (path[n] == '.');
    }
    return x;
}

static void as_text(const cJSON *x, char *buf, size_t len)
{
    if (cJSON_IsString(x)) snprintf(buf, len, "%s", x->valuestring);
    else if (cJSON_IsNumber(x)) snprintf(buf, len, "%g", x->valuedouble);
    else if (cJSON_IsBool(x)) snprintf(buf, len, "%s", cJSON_IsTrue(x) ? "true" : "false");
    else snprintf(buf, len, "%s", x ? "(object)" : "(absent)");
}

/* The first clause of checks the payload fails, said in why; true when it passes them all. */
static bool check_all(const struct subst *s, const char *checks, const cJSON *payload, char *why, size_t len)
{
    char text[CF_TEXT_MAX];
    expand(s, checks ? checks : "", text, sizeof text);
    for (char *save = NULL, *c = strtok_r(text, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(c, '='), got[128];
        bool negate = eq && eq > c && eq[-1] == '!';
        if (c[0] == '!' && !eq) {
            if (at_path(payload, c + 1)) {
                snprintf(why, len, "%s is present, the test case wants it absent", c + 1);
                return false;
            }
            continue;
        }
        if (eq) *eq = '\0';
        if (negate) eq[-1] = '\0';
        const cJSON *x = at_path(payload, c);
        as_text(x, got, sizeof got);
        if (!x || (eq && (strcmp(got, eq + 1) == 0) == negate)) {
            snprintf(why, len, "%s is %s, the test case wants %s%s", c, got, eq ? (negate ? "not " : "") : "it present",
                     eq ? eq + 1 : "");
            return false;
        }
    }
    return true;
}

struct matcher {
    struct subst s;
    const char *checks;
};

static bool passes(const cJSON *payload, const void *arg)
{
    const struct matcher *m = arg;
    char why[8];
    return check_all(&m->s, m->checks, payload, why, sizeof why);
}

/* ---- follow-ups: what the station does after answering ------------------------------------------------------- */

static int send_and_check(cf_conn *c, const char *action, cJSON *p, struct verdict *r)
{
    return cf_simple_call(c, action, p, r, NULL);
}

static int follow_notify_report(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                                struct verdict *r)
{
    (void)o, (void)tx;
    char tb[32];
    cJSON *p = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(p, "reportData"), *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "requestId", cJSON_GetNumberValue(cJSON_GetObjectItem(m->payload, "requestId")));
    cJSON_AddStringToObject(p, "generatedAt", cf_now_text(tb, 0));
    cJSON_AddNumberToObject(p, "seqNo", 0);
    cJSON_AddBoolToObject(p, "tbc", false);
    cJSON_AddItemToArray(data, d);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "component"), "name", "OCPPCommCtrlr");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "variable"), "name", "HeartbeatInterval");
    cJSON *attrs = cJSON_AddArrayToObject(d, "variableAttribute"), *a = cJSON_CreateObject();
    cJSON_AddItemToArray(attrs, a);
    cJSON_AddStringToObject(a, "type", "Actual");
    cJSON_AddStringToObject(a, "value", "300");
    cJSON_AddStringToObject(a, "mutability", "ReadWrite");
    return send_and_check(*c, "NotifyReport", p, r);
}

static int follow_reboot(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                         struct verdict *r)
{
    (void)m, (void)tx;
    cf_close(*c);
    *c = cf_open(o->id, o->password, NULL);
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(p, "reason", "RemoteReset");
    cJSON *cs = cJSON_AddObjectToObject(p, "chargingStation");
    cJSON_AddStringToObject(cs, "model", "conform");
    cJSON_AddStringToObject(cs, "vendorName", "depotsim");
    if (cf_simple_call(*c, "BootNotification", p, r, &res)) return -1;
    int rc = strcmp(cf_str(res, "status"), "Accepted") == 0 ? 0 : -1;
    if (rc) cf_set(r, CF_FAIL, *c, "BootNotification (RemoteReset) after the reset: %s", cf_str(res, "status"));
    cJSON_Delete(res);
    return rc;
}

static int follow_remote_stop(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                              struct verdict *r)
{
    (void)o, (void)m;
    cJSON *p = cf_tx_payload("Ended", "RemoteStop", 2, tx, 0, 2000, false, NULL);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p, "transactionInfo"), "stoppedReason", cJSON_CreateString("Remote"));
    return cf_send_tx(*c, p, r);
}

static int follow_remote_start(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                               struct verdict *r)
{
    (void)tx;
    char id[40];
    cf_tx_id(id, "remote");
    cJSON *p = cf_tx_payload("Started", "RemoteStart", 0, id, 0, 0, false, o->id_token);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(p, "transactionInfo"), "remoteStartId",
                            cJSON_GetNumberValue(cJSON_GetObjectItem(m->payload, "remoteStartId")));
    if (cf_send_tx(*c, p, r)) return -1;
    return cf_send_tx(*c, cf_tx_payload("Ended", "EVDeparted", 1, id, 0, 100, false, NULL), r);
}

int cf_follow_heartbeat(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                        struct verdict *r)
{
    (void)o, (void)m, (void)tx;
    return send_and_check(*c, "Heartbeat", cJSON_CreateObject(), r);
}

static int follow_available(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                            struct verdict *r)
{
    (void)o, (void)m, (void)tx;
    return send_and_check(*c, "StatusNotification", cf_status_payload(1, "Available"), r);
}

static int follow_unavailable(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                              struct verdict *r)
{
    (void)o, (void)m, (void)tx;
    return send_and_check(*c, "StatusNotification", cf_status_payload(1, "Unavailable"), r);
}

static int follow_meter_values(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                               struct verdict *r)
{
    (void)o, (void)m, (void)tx;
    char tb[32];
    cJSON *p = cJSON_CreateObject(), *mv = cJSON_AddArrayToObject(p, "meterValue"), *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "evseId", 1);
    cJSON_AddItemToArray(mv, v);
    cJSON_AddStringToObject(v, "timestamp", cf_now_text(tb, 0));
    cJSON *sv = cJSON_AddArrayToObject(v, "sampledValue"), *s = cJSON_CreateObject();
    cJSON_AddItemToArray(sv, s);
    cJSON_AddNumberToObject(s, "value", 4321);
    cJSON_AddStringToObject(s, "context", "Trigger");
    return send_and_check(*c, "MeterValues", p, r);
}

static int report(cf_conn *c, const struct cf_msg *m, const char *source, const char *purpose, struct verdict *r)
{
    const cJSON *evse = cJSON_GetObjectItem(m->payload, "evseId");
    char text[CF_TEXT_MAX];
    snprintf(text, sizeof text,
             "{\"requestId\": %d, \"chargingLimitSource\": \"%s\", \"evseId\": %d, \"tbc\": false, \"chargingProfile\": "
             "[{\"id\": 901, \"stackLevel\": 0, \"chargingProfilePurpose\": \"%s\", \"chargingProfileKind\": "
             "\"Absolute\", \"chargingSchedule\": [{\"id\": 1, \"chargingRateUnit\": \"W\", \"chargingSchedulePeriod\": "
             "[{\"startPeriod\": 0, \"limit\": 11000}]}]}]}",
             (int)cJSON_GetNumberValue(cJSON_GetObjectItem(m->payload, "requestId")), source,
             cJSON_IsNumber(evse) ? evse->valueint : 0, purpose);
    return send_and_check(c, "ReportChargingProfiles", cJSON_Parse(text), r);
}

int cf_follow_report_profiles(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                              struct verdict *r)
{
    (void)o, (void)tx;
    return report(*c, m, "CSO", "TxDefaultProfile", r);
}

int cf_follow_report_external(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                              struct verdict *r)
{
    (void)o, (void)tx;
    return report(*c, m, "EMS", "ChargingStationExternalConstraints", r);
}

/* ---- the run of one case ------------------------------------------------------------------------------------- */

static int set_up(const struct cf_options *o, cf_conn *c, enum cf_setup setup, char *tx, struct verdict *r)
{
    if (setup == CF_IDLE) return cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Available"), r, NULL);
    cf_tx_id(tx, "op");
    cJSON *charging = cf_tx_payload("Updated", "ChargingStateChanged", 1, tx, 0, 500, false, NULL);
    cJSON_AddStringToObject(cJSON_GetObjectItem(charging, "transactionInfo"), "chargingState", "Charging");
    if (cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Occupied"), r, NULL) ||
        cf_send_tx(c, cf_tx_payload("Started", "Authorized", 0, tx, 0, 0, false, o->id_token), r)) {
        cJSON_Delete(charging);
        return -1;
    }
    return cf_send_tx(c, charging, r);
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A CALL of the action that came after the operator's request (its clock: cf_msg.at_ms). */
static bool after(const cJSON *payload, const void *since)
{
    (void)payload, (void)since;
    return true;
}

/* Waits for a CALL that passes m's checks; NULL with r set (FAIL or SKIP) when none came. A CALL that fails them is
 * the CSMS's answer to the operator only when the operator's request was taken (trigger exit 0) and it came after
 * it: before that, or when the CSMS refused the request, it is the CSMS's own doing (a smart charging CSMS's own
 * profiles) and not this test case's. */
static struct cf_msg *await(const struct cf_options *o, cf_conn *c, const char *action, const struct matcher *m,
                            bool triggered, int64_t since, struct verdict *r)
{
    int64_t end = mono_ms() + (int64_t)(o->wait_s * 1000);
    const struct cf_msg *other = NULL;
    for (;;) {
        struct cf_msg *got = cf_find_call(c, action, passes, m);
        if (got) return got;
        struct cf_msg *x;
        while ((x = cf_find_call(c, action, after, NULL)))
            if (x->at_ms >= since && !other) other = x;
        if (mono_ms() >= end || !cf_connected(c) || (other && cf_trigger_status() == 0)) break;
        cf_pump(c, 0.05);
    }
    char why[300];
    int exit = cf_trigger_status();
    if (other && exit == 0) {
        check_all(&m->s, m->checks, other->payload, why, sizeof why);
        cf_set(r, CF_FAIL, c, "%s came for the operator's request, but %s", action, why);
    } else if (!triggered) {
        cf_set(r, CF_SKIP, NULL, "no --trigger given, and no %s of this test case came within %.0f s", action, o->wait_s);
    } else if (exit != 0) {
        cf_set(r, CF_SKIP, NULL, "the CSMS refused the operator's request (trigger exit %d) and sent no %s of this test "
               "case within %.0f s", exit, action, o->wait_s);
    } else {
        cf_set(r, CF_FAIL, c, "the CSMS took the operator's request (trigger exit 0) but no %s came within %.0f s",
               action, o->wait_s);
    }
    return NULL;
}

void cf_op_run(const struct cf_options *o, struct verdict *r, const void *arg)
{
    const struct cf_op *op = arg;
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c) return;
    char tx[40] = "", req[CF_TEXT_MAX];
    struct matcher m = {{o, tx}, op->checks}, m2 = {{o, tx}, op->then_checks ? op->then_checks : op->checks};
    char answer[CF_TEXT_MAX];
    if (op->answer) {
        expand(&m.s, op->answer, answer, sizeof answer);
        cf_answer_with(c, op->action, answer, passes, &m);
    }
    if (set_up(o, c, op->setup, tx, r) == 0) {
        expand(&m.s, op->request, req, sizeof req);
        int64_t since = mono_ms();
        bool triggered = cf_trigger(o, NULL, op->action, req);
        struct cf_msg *got = await(o, c, op->action, &m, triggered, since, r), *second = NULL;
        if (got && op->follow && op->follow(o, &c, got, tx, r)) got = NULL;
        if (got && op->then) {
            cf_trigger_reap(c, o->wait_s);
            if (op->answer) cf_answer_with(c, op->action, answer, passes, &m2);
            expand(&m.s, op->then, req, sizeof req);
            since = mono_ms();
            second = await(o, c, op->action, &m2, cf_trigger(o, NULL, op->action, req), since, r);
            if (second && cJSON_Compare(second->payload, got->payload, true)) {
                cf_set(r, CF_FAIL, c, "the second %s is the first one again", op->action);
                second = NULL;
            }
        }
        if (got && (!op->then || second)) {
            if (cf_protocol_faults(c))
                cf_set(r, CF_FAIL, c, "the CSMS sent %d frame(s) invalid against the schemas", cf_protocol_faults(c));
            else
                cf_set(r, CF_PASS, NULL, "%s%s as the test case wants (%s)%s%s", op->action, op->then ? " twice" : "",
                       op->checks ? op->checks : "any", op->answer ? "; answered " : "", op->answer ? op->answer : "");
        }
        if (op->setup == CF_CHARGING && cf_connected(c))
            cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 9, tx, 0, 3000, false, NULL), &(struct verdict){0});
    }
    cf_trigger_reap(c, o->wait_s);
    cf_close(c);
}

/* ---- the catalogue's operator cases -------------------------------------------------------------------------- */

/* Catalogue rows name only the fields they use; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define OP(name, what, ...) {name, what, cf_op_run, &(const struct cf_op){__VA_ARGS__}}
#define ACCEPTED "{\"status\": \"Accepted\"}"
#define HB_M "\"component\": {\"name\": \"OCPPCommCtrlr\"}, \"variable\": {\"name\": \"HeartbeatInterval\"}"
#define TO_M "\"component\": {\"name\": \"TxCtrlr\"}, \"variable\": {\"name\": \"EVConnectionTimeOut\"}"
#define NETWORK "{\"configurationSlot\": 2, \"connectionData\": {\"ocppVersion\": \"OCPP20\", \"ocppTransport\": " \
    "\"JSON\", \"ocppCsmsUrl\": \"wss://127.0.0.1:9443/ocpp/\", \"messageTimeout\": 30, \"securityProfile\": 2, " \
    "\"ocppInterface\": \"Wired0\"}}"
#define NETWORK_CHECKS "configurationSlot=2;connectionData.ocppTransport=JSON;connectionData.ocppCsmsUrl;" \
    "connectionData.securityProfile"

const struct cf_scenario cf_ops[] = {
    OP("TC_B_06_CSMS", "GetVariables, one value", "GetVariables", "{\"getVariableData\": [" "{" HB_M "}]}",
       "getVariableData.0.component.name=OCPPCommCtrlr;getVariableData.0.variable.name=HeartbeatInterval;"
       "!getVariableData.1",
       "{\"getVariableResult\": [{\"attributeStatus\": \"Accepted\", \"attributeValue\": \"300\", " HB_M "}]}"),
    OP("TC_B_07_CSMS", "GetVariables, two values in one request", "GetVariables",
       "{\"getVariableData\": [" "{" HB_M "}, " "{" TO_M "}]}",
       "getVariableData.0.variable.name=HeartbeatInterval;getVariableData.1.variable.name=EVConnectionTimeOut",
       "{\"getVariableResult\": [{\"attributeStatus\": \"Accepted\", \"attributeValue\": \"300\", " HB_M "}, "
       "{\"attributeStatus\": \"Accepted\", \"attributeValue\": \"60\", " TO_M "}]}"),
    OP("TC_B_09_CSMS", "SetVariables, one value", "SetVariables",
       "{\"setVariableData\": [{\"attributeValue\": \"120\", " HB_M "}]}",
       "setVariableData.0.variable.name=HeartbeatInterval;setVariableData.0.attributeValue=120;!setVariableData.1",
       "{\"setVariableResult\": [{\"attributeStatus\": \"Accepted\", " HB_M "}]}"),
    OP("TC_B_10_CSMS", "SetVariables, two values in one request", "SetVariables",
       "{\"setVariableData\": [{\"attributeValue\": \"120\", " HB_M "}, {\"attributeValue\": \"90\", " TO_M
       "}]}",
       "setVariableData.0.attributeValue=120;setVariableData.1.attributeValue=90",
       "{\"setVariableResult\": [{\"attributeStatus\": \"Accepted\", " HB_M "}, {\"attributeStatus\": "
       "\"Accepted\", " TO_M "}]}"),
    OP("TC_B_12_CSMS", "GetBaseReport ConfigurationInventory, NotifyReport answered", "GetBaseReport",
       "{\"requestId\": 12, \"reportBase\": \"ConfigurationInventory\"}", "reportBase=ConfigurationInventory;requestId",
       ACCEPTED, CF_IDLE, follow_notify_report),
    OP("TC_B_13_CSMS", "GetBaseReport FullInventory, NotifyReport answered", "GetBaseReport",
       "{\"requestId\": 13, \"reportBase\": \"FullInventory\"}", "reportBase=FullInventory;requestId", ACCEPTED, CF_IDLE,
       follow_notify_report),
    OP("TC_B_14_CSMS", "GetBaseReport SummaryInventory, NotifyReport answered", "GetBaseReport",
       "{\"requestId\": 14, \"reportBase\": \"SummaryInventory\"}", "reportBase=SummaryInventory;requestId", ACCEPTED,
       CF_IDLE, follow_notify_report),
    OP("TC_B_18_CSMS", "GetReport with criteria and component/variable", "GetReport",
       "{\"requestId\": 18, \"componentCriteria\": [\"Available\"], \"componentVariable\": [{\"component\": {\"name\": "
       "\"OCPPCommCtrlr\"}, \"variable\": {\"name\": \"HeartbeatInterval\"}}]}",
       "requestId;componentCriteria.0=Available;componentVariable.0.component.name=OCPPCommCtrlr", ACCEPTED, CF_IDLE,
       follow_notify_report),
    OP("TC_B_20_CSMS", "Reset OnIdle without a transaction, then the reboot", "Reset", "{\"type\": \"OnIdle\"}",
       "type=OnIdle;!evseId", ACCEPTED, CF_IDLE, follow_reboot),
    OP("TC_B_42_CSMS", "SetNetworkProfile, Accepted", "SetNetworkProfile", NETWORK, NETWORK_CHECKS, ACCEPTED),
    OP("TC_B_44_CSMS", "SetNetworkProfile, Failed", "SetNetworkProfile", NETWORK, NETWORK_CHECKS,
       "{\"status\": \"Failed\"}", CF_IDLE, cf_follow_heartbeat),
    OP("TC_C_37_CSMS", "ClearCache, Accepted", "ClearCache", "{}", NULL, ACCEPTED),
    OP("TC_C_38_CSMS", "ClearCache, Rejected", "ClearCache", "{}", NULL, "{\"status\": \"Rejected\"}", CF_IDLE,
       cf_follow_heartbeat),
    OP("TC_E_21_CSMS", "RequestStopTransaction, then Ended (RemoteStop)", "RequestStopTransaction",
       "{\"transactionId\": \"$TX\"}", "transactionId=$TX", ACCEPTED, CF_CHARGING, follow_remote_stop),
    OP("TC_E_30_CSMS", "GetTransactionStatus of an ongoing transaction", "GetTransactionStatus",
       "{\"transactionId\": \"$TX\"}", "transactionId=$TX",
       "{\"ongoingIndicator\": true, \"messagesInQueue\": false}", CF_CHARGING),
    OP("TC_E_34_CSMS", "GetTransactionStatus without a transactionId", "GetTransactionStatus", "{}", "!transactionId",
       "{\"messagesInQueue\": false}"),
    OP("TC_F_03_CSMS", "RequestStartTransaction, then Started (RemoteStart)", "RequestStartTransaction",
       "{\"evseId\": 1, \"idToken\": {\"idToken\": \"$TOKEN\", \"type\": \"ISO14443\"}}",
       "idToken.idToken=$TOKEN;remoteStartId;evseId=1", ACCEPTED, CF_IDLE, follow_remote_start),
    OP("TC_F_06_CSMS", "UnlockConnector, Unlocked", "UnlockConnector", "{\"evseId\": 1, \"connectorId\": 1}",
       "evseId=1;connectorId=1", "{\"status\": \"Unlocked\"}"),
    OP("TC_F_11_CSMS", "TriggerMessage MeterValues of an EVSE", "TriggerMessage",
       "{\"requestedMessage\": \"MeterValues\", \"evse\": {\"id\": 1}}", "requestedMessage=MeterValues;evse.id=1",
       ACCEPTED, CF_IDLE, follow_meter_values),
    OP("TC_F_20_CSMS", "TriggerMessage Heartbeat", "TriggerMessage", "{\"requestedMessage\": \"Heartbeat\"}",
       "requestedMessage=Heartbeat", ACCEPTED, CF_IDLE, cf_follow_heartbeat),
    OP("TC_F_23_CSMS", "TriggerMessage StatusNotification of a connector", "TriggerMessage",
       "{\"requestedMessage\": \"StatusNotification\", \"evse\": {\"id\": 1, \"connectorId\": 1}}",
       "requestedMessage=StatusNotification;evse.id=1;evse.connectorId=1", ACCEPTED, CF_IDLE, follow_available),
    OP("TC_F_27_CSMS", "TriggerMessage answered NotImplemented", "TriggerMessage",
       "{\"requestedMessage\": \"FirmwareStatusNotification\"}", "requestedMessage=FirmwareStatusNotification",
       "{\"status\": \"NotImplemented\"}", CF_IDLE, cf_follow_heartbeat),
    OP("TC_G_03_CSMS", "ChangeAvailability of an EVSE to Inoperative", "ChangeAvailability",
       "{\"operationalStatus\": \"Inoperative\", \"evse\": {\"id\": 1}}",
       "operationalStatus=Inoperative;evse.id=1;!evse.connectorId", ACCEPTED, CF_IDLE, follow_unavailable),
    OP("TC_G_04_CSMS", "ChangeAvailability of an EVSE to Operative", "ChangeAvailability",
       "{\"operationalStatus\": \"Operative\", \"evse\": {\"id\": 1}}",
       "operationalStatus=Operative;evse.id=1;!evse.connectorId", ACCEPTED, CF_IDLE, follow_available),
    OP("TC_G_05_CSMS", "ChangeAvailability of the station to Inoperative", "ChangeAvailability",
       "{\"operationalStatus\": \"Inoperative\"}", "operationalStatus=Inoperative;!evse", ACCEPTED, CF_IDLE,
       follow_unavailable),
};
const int cf_n_ops = (int)(sizeof cf_ops / sizeof cf_ops[0]);
