/*
 * api_vehicles.c - the vehicle registry and the dispatcher's departures.
 *
 * The vehicle registry is the config's control.vehicles (with `fleet`, which the control loop ignores) until
 * vehicles get their own API. The control loop keeps the need in force; the API keeps the copy it last set
 * (or the config's control.needs) to answer GET and to compute the ETag for If-Match: nothing but the config
 * and this API sets a dispatcher's need.
 * Thread: the loop thread only.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "control.h"

#define DEPARTURE_MAX_AHEAD_MS (30LL * 86400 * 1000)   /* a departure further out is a typo */

/* ---- vehicles and departures ------------------------------------------------------------------------ */

static struct api_vehicle *vehicle_find(struct api *a, const char *id)
{
    for (int i = 0; i < a->n_vehicles; i++)
        if (strcmp(a->vehicles[i].id, id) == 0) return &a->vehicles[i];
    return NULL;
}

/* A strong ETag from the need's content: the same need gives the same tag, across restarts too. */
static void need_etag(const struct api_vehicle *v, char *out, size_t len)
{
    char text[256];
    int n = snprintf(text, sizeof text, "%s|%d|%lld|%.6f|%.6f|%.6f", v->id, v->has_need, (long long)v->departure_ms,
                     v->energy_kwh, v->target_soc, v->priority);
    unsigned char h[32];
    SHA256((const unsigned char *)text, (size_t)n, h);
    snprintf(out, len, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
}

static cJSON *departure_doc(const struct api_vehicle *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "vehicle_id", v->id);
    api_add_time(o, "departure", v->departure_ms);
    if (v->energy_kwh >= 0) cJSON_AddNumberToObject(o, "energy_kwh", v->energy_kwh);
    else cJSON_AddNullToObject(o, "energy_kwh");
    if (v->target_soc >= 0) cJSON_AddNumberToObject(o, "target_soc", v->target_soc);
    else cJSON_AddNullToObject(o, "target_soc");
    cJSON_AddNumberToObject(o, "priority", v->priority > 0 ? v->priority : 1);
    cJSON_AddStringToObject(o, "set_by", v->need_by);
    api_add_time(o, "set_at", v->need_set_ms);
    return o;
}

static cJSON *vehicle_doc(const struct api_vehicle *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", v->id);
    if (v->fleet[0]) cJSON_AddStringToObject(o, "fleet", v->fleet);
    else cJSON_AddNullToObject(o, "fleet");
    if (v->battery_kwh > 0) cJSON_AddNumberToObject(o, "battery_kwh", v->battery_kwh);
    else cJSON_AddNullToObject(o, "battery_kwh");
    if (v->max_kw > 0) cJSON_AddNumberToObject(o, "max_kw", v->max_kw);
    else cJSON_AddNullToObject(o, "max_kw");
    cJSON_AddItemToObject(o, "id_tokens", v->id_tokens ? cJSON_Duplicate(v->id_tokens, true) : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "departure", v->has_need ? departure_doc(v) : cJSON_CreateNull());
    return o;
}

void api_get_vehicles(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    char fleet[API_NAME_MAX + 1];
    bool by_fleet = api_arg(r, "fleet", fleet, sizeof fleet);
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (int i = 0; i < a->n_vehicles; i++)
        if (!by_fleet || strcmp(a->vehicles[i].fleet, fleet) == 0)
            cJSON_AddItemToArray(items, vehicle_doc(&a->vehicles[i]));
    cJSON_AddNullToObject(o, "next_cursor");
    api_reply(r, 200, o);
}

static struct api_vehicle *vehicle_or_404(struct api *a, struct api_req *r)
{
    struct api_vehicle *v = vehicle_find(a, r->params[0]);
    if (!v)
        api_problem(r, 404, "vehicle_id", "vehicle_id: no vehicle \"%s\" in the registry (control.vehicles)",
                    r->params[0]);
    return v;
}

void api_get_vehicle(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct api_vehicle *v = vehicle_or_404(a, r);
    if (v) api_reply(r, 200, vehicle_doc(v));
}

void api_get_departure(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct api_vehicle *v = vehicle_or_404(a, r);
    if (!v) return;
    if (!v->has_need) {
        api_problem(r, 404, "vehicle_id", "vehicle_id: \"%s\" has no departure set", v->id);
        return;
    }
    need_etag(v, r->etag, sizeof r->etag);
    api_reply(r, 200, departure_doc(v));
}

/* Fleet scope and If-Match, shared by PUT and DELETE; answers 403 / 412 itself. */
static bool departure_may_change(struct api_req *r, struct api_vehicle *v)
{
    if (r->token->fleet[0] && strcmp(r->token->fleet, v->fleet) != 0) {
        api_problem(r, 403, "vehicle_id",
                    "vehicle_id: token \"%s\" may change vehicles of fleet \"%s\" only; %s is in %s%s%s",
                    r->token->name, r->token->fleet, v->id, v->fleet[0] ? "fleet \"" : "no fleet", v->fleet,
                    v->fleet[0] ? "\"" : "");
        return false;
    }
    char want[128], have[72];
    if (lws_hdr_copy(r->wsi, want, sizeof want, WSI_TOKEN_HTTP_IF_MATCH) > 0) {
        need_etag(v, have, sizeof have);
        bool match = strcmp(want, "*") == 0 ? v->has_need : strstr(want, have) != NULL;
        if (!match) {
            snprintf(r->etag, sizeof r->etag, "%s", v->has_need ? have : "");
            api_problem(r, 412, "If-Match", "If-Match: the departure of %s changed since you read it (now %s); "
                        "GET it again", v->id, v->has_need ? have : "none");
            return false;
        }
    }
    return true;
}

void api_put_departure(struct api *a, struct api_req *r, const cJSON *body)
{
    struct api_vehicle *v = vehicle_or_404(a, r);
    if (!v) return;
    r->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(r->audit, "vehicle", v->id);
    if (!departure_may_change(r, v)) return;
    static const char *const allowed[] = {"departure", "energy_kwh", "target_soc", "priority", NULL};
    if (!api_body_only(r, body, allowed)) return;
    struct control_need need = {.energy_kwh = -1, .target_soc = -1, .priority = 0};
    int64_t now = depot_now_ms();
    if (!api_body_time(r, body, "departure", &need.departure_ms)) return;
    char buf[40];
    if (need.departure_ms <= now) {
        api_problem(r, 422, "departure", "departure: is in the past (depotd's clock reads %s)", ocpp_time_format(now, buf));
        return;
    }
    if (need.departure_ms > now + DEPARTURE_MAX_AHEAD_MS) {
        api_problem(r, 422, "departure", "departure: more than 30 days ahead");
        return;
    }
    bool has_e = cJSON_GetObjectItemCaseSensitive(body, "energy_kwh") != NULL;
    bool has_soc = cJSON_GetObjectItemCaseSensitive(body, "target_soc") != NULL;
    if (has_e == has_soc) {
        api_problem(r, 422, has_e ? "target_soc" : "energy_kwh", "%s",
                    has_e ? "target_soc: give energy_kwh or target_soc, not both"
                          : "energy_kwh: required (or target_soc), the energy to add before departure");
        return;
    }
    if (!api_body_number(r, body, "energy_kwh", 0, 10000, &need.energy_kwh) ||
        !api_body_number(r, body, "target_soc", 0, 1, &need.target_soc) ||
        !api_body_number(r, body, "priority", 0, 100, &need.priority))
        return;
    if (has_e && v->battery_kwh > 0 && need.energy_kwh > v->battery_kwh) {
        api_problem(r, 422, "energy_kwh", "energy_kwh: %g kWh is more than the battery of %s holds (%g kWh)",
                    need.energy_kwh, v->id, v->battery_kwh);
        return;
    }
    if (has_soc && !(v->battery_kwh > 0)) {
        api_problem(r, 422, "target_soc", "target_soc: the battery capacity of %s is not known; give energy_kwh", v->id);
        return;
    }
    char err[256];
    if (control_set_need(a->d, v->id, &need, r->token->name, err, sizeof err)) {
        api_problem(r, 409, NULL, "the need cannot be set: %s", err);
        return;
    }
    v->has_need = true;
    v->departure_ms = need.departure_ms;
    v->energy_kwh = need.energy_kwh;
    v->target_soc = need.target_soc;
    v->priority = need.priority;
    snprintf(v->need_by, sizeof v->need_by, "%s", r->token->name);
    v->need_set_ms = depot_wall_ms();
    need_etag(v, r->etag, sizeof r->etag);
    cJSON *o = departure_doc(v);
    /* The plan follows asynchronously (control_replan coalesces); GET /vehicles/{id} and the plan show it. */
    cJSON_AddBoolToObject(o, "replan_requested", true);
    api_reply(r, 200, o);
}

void api_delete_departure(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct api_vehicle *v = vehicle_or_404(a, r);
    if (!v) return;
    r->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(r->audit, "vehicle", v->id);
    if (!departure_may_change(r, v)) return;
    if (!v->has_need) {
        api_problem(r, 404, "vehicle_id", "vehicle_id: \"%s\" has no departure set", v->id);
        return;
    }
    char err[256];
    if (control_set_need(a->d, v->id, NULL, r->token->name, err, sizeof err)) {
        api_problem(r, 409, NULL, "the need cannot be cleared: %s", err);
        return;
    }
    v->has_need = false;
    v->need_by[0] = 0;
    api_reply(r, 204, NULL);
}

/* ---- the registry from the config ------------------------------------------------------------------- */

int api_vehicles_load(struct api *a, char *err, size_t err_len)
{
    struct depot *d = a->d;
    a->token_vehicle = cJSON_CreateObject();
    if (!a->token_vehicle) return -1;
    for (size_t i = 0; i < d->cfg.n_id_tokens; i++)
        if (d->cfg.id_tokens[i].vehicle[0] &&
            !cJSON_GetObjectItemCaseSensitive(a->token_vehicle, d->cfg.id_tokens[i].id_token))
            cJSON_AddStringToObject(a->token_vehicle, d->cfg.id_tokens[i].id_token, d->cfg.id_tokens[i].vehicle);
    const cJSON *vs = d->cfg.control ? cJSON_GetObjectItemCaseSensitive(d->cfg.control, "vehicles") : NULL;
    int n = cJSON_GetArraySize(vs);
    a->vehicles = calloc((size_t)(n ? n : 1), sizeof *a->vehicles);
    if (!a->vehicles) return -1;
    const cJSON *v;
    /* control_start validated ids, capacities and tokens; only `fleet` is ours to check. */
    cJSON_ArrayForEach(v, vs) {
        struct api_vehicle *x = &a->vehicles[a->n_vehicles];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
        const cJSON *fleet = cJSON_GetObjectItemCaseSensitive(v, "fleet");
        if (!cJSON_IsString(id)) continue;
        if (fleet && (!cJSON_IsString(fleet) || strlen(fleet->valuestring) > API_NAME_MAX)) {
            snprintf(err, err_len, "control.vehicles[%d].fleet: a string of at most %d characters", a->n_vehicles,
                     API_NAME_MAX);
            return -1;
        }
        snprintf(x->id, sizeof x->id, "%s", id->valuestring);
        if (fleet) snprintf(x->fleet, sizeof x->fleet, "%s", fleet->valuestring);
        const cJSON *bat = cJSON_GetObjectItemCaseSensitive(v, "battery_kwh");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(v, "max_kw");
        x->battery_kwh = cJSON_IsNumber(bat) ? bat->valuedouble : 0;
        x->max_kw = cJSON_IsNumber(mx) ? mx->valuedouble : 0;
        const cJSON *toks = cJSON_GetObjectItemCaseSensitive(v, "id_tokens");
        x->id_tokens = cJSON_IsArray(toks) ? cJSON_Duplicate(toks, true) : cJSON_CreateArray();
        const cJSON *t;
        cJSON_ArrayForEach(t, toks)
            if (cJSON_IsString(t) && !cJSON_GetObjectItemCaseSensitive(a->token_vehicle, t->valuestring))
                cJSON_AddStringToObject(a->token_vehicle, t->valuestring, x->id);
        x->energy_kwh = x->target_soc = -1;
        a->n_vehicles++;
    }
    const cJSON *needs = d->cfg.control ? cJSON_GetObjectItemCaseSensitive(d->cfg.control, "needs") : NULL;
    cJSON_ArrayForEach(v, needs) {
        const cJSON *veh = cJSON_GetObjectItemCaseSensitive(v, "vehicle");
        const cJSON *dep = cJSON_GetObjectItemCaseSensitive(v, "departure");
        struct api_vehicle *x = cJSON_IsString(veh) ? vehicle_find(a, veh->valuestring) : NULL;
        int64_t ms;
        if (!x || !cJSON_IsString(dep) || ocpp_time_parse(dep->valuestring, &ms)) continue;
        x->has_need = true;
        x->departure_ms = ms;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "energy_kwh");
        const cJSON *soc = cJSON_GetObjectItemCaseSensitive(v, "target_soc");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(v, "priority");
        x->energy_kwh = cJSON_IsNumber(e) ? e->valuedouble : -1;
        x->target_soc = cJSON_IsNumber(soc) ? soc->valuedouble : -1;
        x->priority = cJSON_IsNumber(pr) ? pr->valuedouble : 0;
        snprintf(x->need_by, sizeof x->need_by, "config");
    }
    return 0;
}

void api_vehicles_free(struct api *a)
{
    for (int i = 0; i < a->n_vehicles; i++) cJSON_Delete(a->vehicles[i].id_tokens);
    free(a->vehicles);
    cJSON_Delete(a->token_vehicle);
    a->vehicles = NULL;
    a->token_vehicle = NULL;
    a->n_vehicles = 0;
}
