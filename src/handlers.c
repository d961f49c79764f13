/*
 * handlers.c - depotd's answers to what a station sends (OCPP 2.0.1, CSMS side), and the GetVariables
 * depotd sends to learn a station's smart-charging capabilities.
 *
 * Every payload reaching a handler has passed the official schema already (ocpp_session). Handlers build the
 * answer; whether it waits for the event to be durable is in the table (`durable`): a CALL that changes
 * state is answered only after its event is committed; pure questions (Heartbeat, Authorize) go at once.
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "depot.h"
#include "log.h"

typedef cJSON *(*handler_fn)(struct conn *c, const cJSON *payload);

/* depotd's planning clock (the wall clock unless a simulated one is configured): a station that syncs its clock
 * to Heartbeat or BootNotification currentTime applies its profiles on depotd's time. */
static void add_now(cJSON *o, const char *key)
{
    char buf[32];
    cJSON_AddStringToObject(o, key, ocpp_time_format(depot_now_ms(), buf));
}

/* A timestamp the station put on something it sends as it happens: a sample of its clock's offset, unless the
 * message waited in the station's queue (then its stamp is older than transit alone makes it). */
static void clock_sample(struct conn *c, const cJSON *p)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(p, "timestamp");
    int64_t ms;
    if (depot_conn_sent_fresh(c) && cJSON_IsString(ts) && ocpp_time_parse(ts->valuestring, &ms) == 0)
        depot_station_clock_sample(c->depot, c->station, ms, depot_now_ms());
}

static cJSON *empty(struct conn *c, const cJSON *p)
{
    (void)c, (void)p;
    return cJSON_CreateObject();
}

static cJSON *status_accepted(struct conn *c, const cJSON *p)
{
    (void)c, (void)p;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "Accepted");
    return o;
}

/* B01-B03: the registry decides; Pending and Rejected get the retry interval instead of the heartbeat. */
static cJSON *boot_notification(struct conn *c, const cJSON *p)
{
    (void)p;
    struct depot *d = c->depot;
    enum cfg_boot boot = c->station->registry_boot;
    cJSON *o = cJSON_CreateObject();
    add_now(o, "currentTime");
    cJSON_AddNumberToObject(o, "interval",
                            boot == CFG_BOOT_ACCEPTED ? d->cfg.heartbeat_interval_s : d->cfg.pending_retry_interval_s);
    cJSON_AddStringToObject(o, "status", cfg_boot_name(boot));
    log_info("ocpp", c->station->id, "BootNotification: %s", cfg_boot_name(boot));
    return o;
}

static cJSON *heartbeat(struct conn *c, const cJSON *p)
{
    (void)c, (void)p;
    cJSON *o = cJSON_CreateObject();
    add_now(o, "currentTime");
    return o;
}

/* What depotd answers for an id token: its AuthorizationStatus and its group ("": none). Borrowed from the config
 * and the registry: used before the handler returns. */
struct token_answer {
    const char *status;
    const char *group, *group_type;
};

/* C01. Precedence: an entry of the config's id_tokens answers with its status (default Accepted; a Blocked card
 * stays Blocked even when a registered vehicle lists it); then a token of a vehicle in the registry (the
 * config's control.vehicles and the vehicles registered through the JSON API, control_query.c) is Accepted;
 * any other is answered as unknown_id_token says.
 * C09: the group is the entry's `group`, else its vehicle's group_id_token. A token depotd does not know is in no
 * group, also when unknown_id_token Accepts it: a group lets its members stop each other's transactions. */
static void token_answer(struct depot *d, const cJSON *id_token, struct token_answer *out)
{
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(id_token, "idToken");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(id_token, "type");
    *out = (struct token_answer){.status = d->cfg.unknown_id_token, .group = "", .group_type = "Central"};
    if (!cJSON_IsString(tok)) return;
    bool listed = false;
    for (size_t i = 0; i < d->cfg.n_id_tokens; i++) {
        const struct cfg_id_token *t = &d->cfg.id_tokens[i];
        if (strcmp(t->id_token, tok->valuestring) != 0) continue;
        listed = true;
        if (t->type[0] && !(cJSON_IsString(type) && strcmp(t->type, type->valuestring) == 0)) continue;
        out->status = t->status[0] ? t->status : "Accepted";
        if (t->group[0]) {
            out->group = t->group;
            out->group_type = t->group_type;
        } else {
            out->group = control_group_for_token(d, tok->valuestring);
        }
        return;
    }
    /* Vehicles' tokens carry no type (the text is what a dispatcher registers); a token the config lists with
     * another type is not made good by the vehicle it names there. */
    if (!listed && tok->valuestring[0] && control_vehicle_for_token(d, tok->valuestring)[0]) {
        out->status = "Accepted";
        out->group = control_group_for_token(d, tok->valuestring);
    }
}

/* C09: depotd says which group a token is in; whether a token of the group may stop a transaction another one
 * started is the station's decision (it compares the groupIdToken of both answers). */
static cJSON *id_token_info(struct depot *d, const cJSON *id_token)
{
    struct token_answer a;
    token_answer(d, id_token, &a);
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "status", a.status);
    if (a.group[0]) {
        cJSON *g = cJSON_AddObjectToObject(info, "groupIdToken");
        cJSON_AddStringToObject(g, "idToken", a.group);
        cJSON_AddStringToObject(g, "type", a.group_type);
    }
    return info;
}

static cJSON *authorize(struct conn *c, const cJSON *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "idTokenInfo", id_token_info(c->depot, cJSON_GetObjectItemCaseSensitive(p, "idToken")));
    return o;
}

/* E01-E07: the transaction itself is kept by the store's projection (idempotent on transactionId + seqNo). */
static cJSON *transaction_event(struct conn *c, const cJSON *p)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(p, "idToken");
    if (tok) cJSON_AddItemToObject(o, "idTokenInfo", id_token_info(c->depot, tok));
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "eventType");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(p, "transactionInfo");
    const cJSON *txid = cJSON_GetObjectItemCaseSensitive(info, "transactionId");
    log_debug("ocpp", c->station->id, "TransactionEvent %s %s", type->valuestring, txid->valuestring);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "offline"))) clock_sample(c, p);
    control_on_transaction_event(c->depot, c->station, p);
    return o;
}

/* K17: the EV's needs are stored (projection ev_needs) for the planner. */
static cJSON *ev_charging_needs(struct conn *c, const cJSON *p)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    log_info("ocpp", c->station->id, "NotifyEVChargingNeeds for EVSE %d", evse ? evse->valueint : 0);
    control_on_ev_needs(c->depot, c->station, p);
    return status_accepted(c, p);
}

static cJSON *meter_values(struct conn *c, const cJSON *p)
{
    control_on_meter_values(c->depot, c->station, p);
    return cJSON_CreateObject();
}

static cJSON *data_transfer(struct conn *c, const cJSON *p)
{
    (void)c, (void)p;
    /* P01.FR.05 / P02: no vendor extensions are known to depotd. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "UnknownVendorId");
    return o;
}

static cJSON *status_notification(struct conn *c, const cJSON *p)
{
    clock_sample(c, p);
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    if (cJSON_IsNumber(evse) && evse->valueint > 0 && evse->valueint < 64)
        c->station->evses_seen |= 1ULL << evse->valueint;
    control_on_status(c->depot, c->station, p);
    return cJSON_CreateObject();
}

/* A03: a station asks the depot CA for its own certificate; the chain goes out after the answer (A02 starts
 * here too, a TriggerMessage SignChargingStationCertificate from the API). */
static cJSON *sign_certificate(struct conn *c, const cJSON *p)
{
    const cJSON *csr = cJSON_GetObjectItemCaseSensitive(p, "csr");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "certificateType");
    char why[256] = "";
    free(c->signed_chain);
    c->signed_chain = NULL;
    if (cJSON_IsString(type) && strcmp(type->valuestring, "ChargingStationCertificate") != 0)
        snprintf(why, sizeof why, "certificateType %s: depotd signs ChargingStationCertificate only (a V2G "
                 "certificate comes from the V2G PKI)", type->valuestring);
    else
        c->signed_chain = depot_cert_sign(&c->depot->cfg, csr->valuestring, c->station->id, why, sizeof why);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "status", c->signed_chain ? "Accepted" : "Rejected");
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "request", "SignCertificate");
    cJSON_AddStringToObject(ev, "status", c->signed_chain ? "Accepted" : "Rejected");
    if (!c->signed_chain) {
        cJSON *info = cJSON_AddObjectToObject(r, "statusInfo");
        cJSON_AddStringToObject(info, "reasonCode", "InvalidCSR");
        cJSON_AddStringToObject(info, "additionalInfo", why);
        cJSON_AddStringToObject(ev, "reason", why);
        log_warn("ocpp", c->station->id, "SignCertificate rejected: %s", why);
    }
    char *json = cJSON_PrintUnformatted(ev);
    depot_log_station_event(c->depot, "certificate", c->station->id, json);
    cJSON_free(json);
    cJSON_Delete(ev);
    return r;
}

/* K12: a limit from an energy management system or the grid operator that the station enforces itself: planned
 * with, so what it takes from this station goes to the others. */
static cJSON *charging_limit(struct conn *c, const cJSON *payload)
{
    control_on_charging_limit(c->depot, c->station, payload, false);
    return cJSON_CreateObject();
}

static cJSON *cleared_charging_limit(struct conn *c, const cJSON *payload)
{
    control_on_charging_limit(c->depot, c->station, payload, true);
    return cJSON_CreateObject();
}

/* K09: what GetChargingProfiles asked for; external constraints in it are planned with. */
static cJSON *reported_profiles(struct conn *c, const cJSON *payload)
{
    control_on_reported_profiles(c->depot, c->station, payload);
    return cJSON_CreateObject();
}

static const struct {
    const char *action;
    handler_fn fn;
    bool durable;
} handlers[] = {
    {"BootNotification", boot_notification, true},
    {"Heartbeat", heartbeat, false},
    {"StatusNotification", status_notification, true},
    {"Authorize", authorize, false},
    {"TransactionEvent", transaction_event, true},
    {"MeterValues", meter_values, true},
    {"NotifyEVChargingNeeds", ev_charging_needs, true},
    {"NotifyEVChargingSchedule", status_accepted, true},
    {"NotifyChargingLimit", charging_limit, true},
    {"ClearedChargingLimit", cleared_charging_limit, true},
    {"ReportChargingProfiles", reported_profiles, true},
    {"NotifyReport", empty, true},
    {"SecurityEventNotification", empty, true},
    {"NotifyEvent", empty, true},
    {"FirmwareStatusNotification", empty, true},
    {"LogStatusNotification", empty, true},
    {"DataTransfer", data_transfer, false},
    {"SignCertificate", sign_certificate, true},
};

void depot_handle_call(struct conn *c, const struct ocpp_event *ev, uint64_t ticket)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(handlers[i].action, ev->action) != 0) continue;
        cJSON *reply = handlers[i].fn(c, ev->payload);
        depot_hold_reply(c, ev->id, ev->action, reply, handlers[i].durable ? ticket : 0);
        control_on_call(c->depot, c->station);
        return;
    }
    /* A 2.0.1 action a station may send, that depotd does not support (certificates, displays...). */
    char desc[128];
    snprintf(desc, sizeof desc, "%s is not supported by this CSMS", ev->action);
    ocpp_session_reply_error(c->session, ev->id, OCPP_E_NOT_SUPPORTED, desc);
    char *text = ocpp_frame_error(ev->id, OCPP_E_NOT_SUPPORTED, desc, NULL);
    depot_log_frame(c, STORE_EV_OCPP_OUT, OCPP_CALLERROR, ev->action, ev->id, "NotSupported", text);
    free(text);
    c->depot->counters.callerrors_out++;
}

/* ---- capabilities ---------------------------------------------------------------------------------- */

/* What a GetVariables of ours asked for: its answer is routed by the kind at the head of the connection's queue. */
enum gv_kind { GV_LIMIT, GV_STATION, GV_EVSE };

static void add_var(cJSON *arr, const char *component, int evse, const char *variable, const char *instance,
                    const char *attribute)
{
    cJSON *item = cJSON_CreateObject();
    cJSON *comp = cJSON_AddObjectToObject(item, "component");
    cJSON_AddStringToObject(comp, "name", component);
    if (evse > 0) cJSON_AddNumberToObject(cJSON_AddObjectToObject(comp, "evse"), "id", evse);
    cJSON *var = cJSON_AddObjectToObject(item, "variable");
    cJSON_AddStringToObject(var, "name", variable);
    if (instance) cJSON_AddStringToObject(var, "instance", instance);
    if (attribute) cJSON_AddStringToObject(item, "attributeType", attribute);
    cJSON_AddItemToArray(arr, item);
}

static int get_variables(struct conn *c, cJSON *items, int from, int n, enum gv_kind kind)
{
    if (c->gv_n == (int)sizeof c->gv_kind) return -1;
    cJSON *req = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(req, "getVariableData");
    for (int i = from; i < from + n; i++) cJSON_AddItemToArray(arr, cJSON_Duplicate(cJSON_GetArrayItem(items, i), 1));
    char err[256];
    int rc = depot_call(c, "GetVariables", req, err, sizeof err);
    cJSON_Delete(req);
    if (rc) {
        log_warn("ocpp", c->station->id, "cannot read capabilities: %s", err);
        return -1;
    }
    c->gv_kind[(c->gv_head + c->gv_n++) % (int)sizeof c->gv_kind] = (unsigned char)kind;
    return 0;
}

/* B06.FR.?: a station may refuse a GetVariables of more items than its DeviceDataCtrlr ItemsPerMessage
 * GetVariables (OccurrenceConstraintViolation), so the items go in requests of at most that many. Returns how
 * many requests went out, -1 when one could not. Takes items. */
static int get_variables_split(struct conn *c, cJSON *items, enum gv_kind kind)
{
    int n = cJSON_GetArraySize(items), per = c->station->items_per_get > 0 ? c->station->items_per_get : n, sent = 0;
    for (int from = 0; from < n; from += per, sent++)
        if (get_variables(c, items, from, from + per <= n ? per : n - from, kind)) {
            sent = -1;
            break;
        }
    cJSON_Delete(items);
    return sent;
}

/* What the planner needs to know before it sends a profile (K01, and Part 2 appendix: SmartChargingCtrlr). */
static void read_station_capabilities(struct conn *c)
{
    if (!c->station->items_per_get) {
        c->caps_after_limit = true; /* read once ItemsPerMessage is known */
        return;
    }
    cJSON *arr = cJSON_CreateArray();
    static const char *const vars[] = {"Enabled", "LimitChangeSignificance", "PeriodsPerSchedule", "ProfileStackLevel",
                                       "RateUnit"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) add_var(arr, "SmartChargingCtrlr", 0, vars[i], NULL, NULL);
    add_var(arr, "SmartChargingCtrlr", 0, "Entries", "ChargingProfiles", NULL);
    add_var(arr, "ChargingStation", 0, "SupplyPhases", NULL, NULL);
    /* The fail-safe waits for the last of them (it goes out in the rate unit the station takes); none sent: now. */
    if (get_variables_split(c, arr, GV_STATION) <= 0) control_on_capabilities_read(c->depot, c->station);
}

static void read_evse_capabilities(struct conn *c)
{
    struct station *st = c->station;
    uint64_t todo = st->evses_seen & ~st->evses_queried;
    if (!todo) return;
    if (!st->items_per_get) {
        c->evses_after_limit = true;
        return;
    }
    cJSON *arr = cJSON_CreateArray();
    for (int e = 1; e < 64; e++) {
        if (!(todo & (1ULL << e))) continue;
        add_var(arr, "EVSE", e, "Power", NULL, "MaxSet");
        add_var(arr, "EVSE", e, "SupplyPhases", NULL, NULL);
    }
    if (get_variables_split(c, arr, GV_EVSE) >= 0) st->evses_queried |= todo;
}

/* The first question after a boot: how many variables one GetVariables may ask for. */
static void read_items_limit(struct conn *c)
{
    cJSON *arr = cJSON_CreateArray();
    add_var(arr, "DeviceDataCtrlr", 0, "ItemsPerMessage", "GetVariables", NULL);
    c->station->items_per_get = 0;
    if (get_variables(c, arr, 0, 1, GV_LIMIT)) c->station->items_per_get = -1; /* read all at once */
    cJSON_Delete(arr);
}

static void read_capabilities(struct conn *c)
{
    if (!c->station->items_per_get) read_items_limit(c);
    read_station_capabilities(c);
}

void depot_after_reply(struct conn *c, const char *action, const cJSON *payload)
{
    if (!c->station) return;
    if (strcmp(action, "SignCertificate") == 0 && c->signed_chain) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "certificateChain", c->signed_chain);
        cJSON_AddStringToObject(req, "certificateType", "ChargingStationCertificate");
        char err[160];
        if (depot_call(c, "CertificateSigned", req, err, sizeof err))
            log_error("ocpp", c->station->id, "CertificateSigned not sent: %s", err);
        cJSON_Delete(req);
        free(c->signed_chain);
        c->signed_chain = NULL;
    }
    if (strcmp(action, "BootNotification") == 0) {
        /* What was answered, now that it has left: a reconnect without a boot is served in this state. */
        c->station->last_boot = ocpp_session_boot_state(c->session);
        c->station->caps_read = false;
        c->station->items_per_get = 0;
        c->caps_after_limit = c->evses_after_limit = false;
    }
    if (ocpp_session_boot_state(c->session) != OCPP_BOOT_ACCEPTED) return;
    bool boot_accepted = false;
    if (strcmp(action, "BootNotification") == 0) {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(payload, "status");
        boot_accepted = cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0;
    }
    /* Control first, told that capabilities are coming: its fail-safe waits for them (it goes out in the rate
     * unit the station takes), and a read that sends nothing reports back at once. */
    if (boot_accepted) control_on_boot_accepted(c->depot, c->station, c->depot->cfg.read_capabilities);
    if (boot_accepted && c->depot->cfg.read_capabilities) read_capabilities(c);
    if (c->depot->cfg.read_capabilities && strcmp(action, "StatusNotification") == 0) read_evse_capabilities(c);
}

void depot_resume_station(struct conn *c)
{
    struct station *st = c->station;
    struct depot *d = c->depot;
    /* Pending and Accepted stand while the registry still answers so (B02: a Pending station keeps sending
     * BootNotification and gets SecurityError for the rest); Rejected or a changed registry: it must boot. */
    bool accepted = st->last_boot == OCPP_BOOT_ACCEPTED && st->registry_boot == CFG_BOOT_ACCEPTED;
    bool pending = st->last_boot == OCPP_BOOT_PENDING && st->registry_boot == CFG_BOOT_PENDING;
    if (!accepted && !pending) return;
    ocpp_session_set_boot_state(c->session, accepted ? OCPP_BOOT_ACCEPTED : OCPP_BOOT_PENDING);
    c->caps_after_limit = c->evses_after_limit = false;
    char json[64];
    snprintf(json, sizeof json, "{\"boot_state\":\"%s\"}", accepted ? "Accepted" : "Pending");
    depot_log_station_event(d, STORE_EV_RESUME, st->id, json);
    log_info("ocpp", st->id, "reconnected without a boot: registration %s stands", accepted ? "Accepted" : "Pending");
    if (!accepted) return;
    /* Its state may have moved on while it was away: what the EVSEs are doing now (F06), the capabilities if
     * depotd does not know them (a restart of depotd), then control re-sends the fail-safe and the TxProfiles. */
    bool read = d->cfg.read_capabilities && !st->caps_read;
    control_on_reconnect(d, st, read);
    if (read) read_capabilities(c);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "requestedMessage", "StatusNotification");
    char err[256];
    if (depot_call(c, "TriggerMessage", req, err, sizeof err))
        log_warn("ocpp", st->id, "cannot ask for the EVSEs' status: %s", err);
    cJSON_Delete(req);
}

static enum gv_kind gv_pop(struct conn *c)
{
    if (!c->gv_n) return GV_EVSE; /* not ours to route (cannot happen: every cookie-less GetVariables is queued) */
    enum gv_kind k = c->gv_kind[c->gv_head];
    c->gv_head = (c->gv_head + 1) % (int)sizeof c->gv_kind;
    c->gv_n--;
    return k;
}

static bool gv_waiting(const struct conn *c, enum gv_kind kind)
{
    for (int i = 0; i < c->gv_n; i++)
        if (c->gv_kind[(c->gv_head + i) % (int)sizeof c->gv_kind] == kind) return true;
    return false;
}

/* ItemsPerMessage answered (limit > 0) or not (-1: ask for everything at once, as a station without the
 * variable gets): the reads that waited for it go out. */
static void on_items_limit(struct conn *c, int limit)
{
    c->station->items_per_get = limit;
    log_info("ocpp", c->station->id, "GetVariables: %s", limit > 0 ? "limit read" : "no ItemsPerMessage limit known");
    if (c->caps_after_limit) {
        c->caps_after_limit = false;
        read_station_capabilities(c);
    }
    if (c->evses_after_limit) {
        c->evses_after_limit = false;
        read_evse_capabilities(c);
    }
}

static int items_limit_of(const cJSON *payload)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(payload, "getVariableResult")) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "attributeStatus");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(r, "attributeValue");
        if (!cJSON_IsString(st) || strcmp(st->valuestring, "Accepted") != 0 || !cJSON_IsString(val)) continue;
        char *end;
        long v = strtol(val->valuestring, &end, 10);
        if (end != val->valuestring && !*end && v > 0) return v > 1000 ? 1000 : (int)v;
    }
    return -1;
}

void depot_handle_result(struct conn *c, const struct ocpp_event *ev)
{
    if (strcmp(ev->action, "GetVariables") != 0 || !c->station) return;
    enum gv_kind kind = gv_pop(c);
    if (kind == GV_LIMIT) {
        on_items_limit(c, items_limit_of(ev->payload));
        return;
    }
    control_on_variables(c->depot, c->station, ev->payload);
    if (kind == GV_STATION && !gv_waiting(c, GV_STATION)) {
        c->station->caps_read = true;
        control_on_capabilities_read(c->depot, c->station);
    }
    /* The values themselves are kept by the store (projection `capabilities`); here only a summary line. */
    int n = 0, ok = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ev->payload, "getVariableResult")) {
        n++;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "attributeStatus");
        if (cJSON_IsString(st) && strcmp(st->valuestring, "Accepted") == 0) ok++;
    }
    log_info("ocpp", c->station->id, "capabilities: %d of %d variables reported", ok, n);
}

void depot_handle_call_error(struct conn *c, const struct ocpp_event *ev)
{
    if (strcmp(ev->action, "GetVariables") != 0 || !c->station) return;
    enum gv_kind kind = gv_pop(c);
    if (ev->closed) return; /* the session is going: nothing may be sent on it */
    if (kind == GV_LIMIT) on_items_limit(c, -1);
    else if (kind == GV_STATION && !gv_waiting(c, GV_STATION)) control_on_capabilities_read(c->depot, c->station);
}
