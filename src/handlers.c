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

static void add_now(cJSON *o, const char *key)
{
    char buf[32];
    cJSON_AddStringToObject(o, key, ocpp_time_format(depot_wall_ms(), buf));
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

/* C01. Precedence: an entry of the config's id_tokens answers with its status (default Accepted; a Blocked card
 * stays Blocked even when a registered vehicle lists it); then a token of a vehicle in the registry (the
 * config's control.vehicles and the vehicles registered through the JSON API, control_query.c) is Accepted;
 * any other is answered as unknown_id_token says. */
static const char *token_status(struct depot *d, const cJSON *id_token)
{
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(id_token, "idToken");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(id_token, "type");
    if (!cJSON_IsString(tok)) return d->cfg.unknown_id_token;
    bool listed = false;
    for (size_t i = 0; i < d->cfg.n_id_tokens; i++) {
        const struct cfg_id_token *t = &d->cfg.id_tokens[i];
        if (strcmp(t->id_token, tok->valuestring) != 0) continue;
        listed = true;
        if (!t->type[0] || (cJSON_IsString(type) && strcmp(t->type, type->valuestring) == 0))
            return t->status[0] ? t->status : "Accepted";
    }
    /* Vehicles' tokens carry no type (the text is what a dispatcher registers); a token the config lists with
     * another type is not made good by the vehicle it names there. */
    if (!listed && tok->valuestring[0] && control_vehicle_for_token(d, tok->valuestring)[0]) return "Accepted";
    return d->cfg.unknown_id_token;
}

static cJSON *id_token_info(struct depot *d, const cJSON *id_token)
{
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "status", token_status(d, id_token));
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
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    if (cJSON_IsNumber(evse) && evse->valueint > 0 && evse->valueint < 64)
        c->station->evses_seen |= 1ULL << evse->valueint;
    control_on_status(c->depot, c->station, p);
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
    {"NotifyChargingLimit", empty, true},
    {"ClearedChargingLimit", empty, true},
    {"ReportChargingProfiles", empty, true},
    {"NotifyReport", empty, true},
    {"SecurityEventNotification", empty, true},
    {"NotifyEvent", empty, true},
    {"FirmwareStatusNotification", empty, true},
    {"LogStatusNotification", empty, true},
    {"DataTransfer", data_transfer, false},
};

void depot_handle_call(struct conn *c, const struct ocpp_event *ev, uint64_t ticket)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(handlers[i].action, ev->action) != 0) continue;
        cJSON *reply = handlers[i].fn(c, ev->payload);
        depot_hold_reply(c, ev->id, ev->action, reply, handlers[i].durable ? ticket : 0);
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

/* What the planner needs to know before it sends a profile (K01, and Part 2 appendix: SmartChargingCtrlr). */
static void read_station_capabilities(struct conn *c)
{
    cJSON *req = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(req, "getVariableData");
    static const char *const vars[] = {"Enabled", "LimitChangeSignificance", "PeriodsPerSchedule", "ProfileStackLevel",
                                       "RateUnit"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) add_var(arr, "SmartChargingCtrlr", 0, vars[i], NULL, NULL);
    add_var(arr, "SmartChargingCtrlr", 0, "Entries", "ChargingProfiles", NULL);
    add_var(arr, "ChargingStation", 0, "SupplyPhases", NULL, NULL);
    char err[256];
    if (depot_call(c, "GetVariables", req, err, sizeof err))
        log_warn("ocpp", c->station->id, "cannot read capabilities: %s", err);
    cJSON_Delete(req);
}

static void read_evse_capabilities(struct conn *c)
{
    struct station *st = c->station;
    uint64_t todo = st->evses_seen & ~st->evses_queried;
    if (!todo) return;
    cJSON *req = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(req, "getVariableData");
    for (int e = 1; e < 64; e++) {
        if (!(todo & (1ULL << e))) continue;
        add_var(arr, "EVSE", e, "Power", NULL, "MaxSet");
        add_var(arr, "EVSE", e, "SupplyPhases", NULL, NULL);
    }
    char err[256];
    if (depot_call(c, "GetVariables", req, err, sizeof err) == 0) st->evses_queried |= todo;
    else log_warn("ocpp", st->id, "cannot read EVSE capabilities: %s", err);
    cJSON_Delete(req);
}

void depot_after_reply(struct conn *c, const char *action, const cJSON *payload)
{
    if (!c->station || ocpp_session_boot_state(c->session) != OCPP_BOOT_ACCEPTED) return;
    bool boot_accepted = false;
    if (strcmp(action, "BootNotification") == 0) {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(payload, "status");
        boot_accepted = cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0;
    }
    /* Capabilities are asked for first: the fail-safe profile goes out in the rate unit the station takes. */
    if (boot_accepted && c->depot->cfg.read_capabilities) read_station_capabilities(c);
    if (boot_accepted) control_on_boot_accepted(c->depot, c->station);
    if (c->depot->cfg.read_capabilities && strcmp(action, "StatusNotification") == 0) read_evse_capabilities(c);
}

void depot_handle_result(struct conn *c, const struct ocpp_event *ev)
{
    if (strcmp(ev->action, "GetVariables") != 0) return;
    if (c->station) control_on_variables(c->depot, c->station, ev->payload);
    /* The values themselves are kept by the store (projection `capabilities`); here only a summary line. */
    int n = 0, ok = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ev->payload, "getVariableResult")) {
        n++;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "attributeStatus");
        if (cJSON_IsString(st) && strcmp(st->valuestring, "Accepted") == 0) ok++;
    }
    log_info("ocpp", c->station ? c->station->id : NULL, "capabilities: %d of %d variables reported", ok, n);
}
