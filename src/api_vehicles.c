/*
 * api_vehicles.c - vehicles (their departures: api_departures.c).
 *
 * The registry and the needs live in the control loop (control_query.c): the config's control.vehicles and
 * control.needs, with the API's writes on top, replayed from the event log at start. This file keeps no copy:
 * GET answers from the control loop, so what the API shows is what the planner uses.
 *
 * Optimistic concurrency: vehicles and departures carry a strong ETag computed from their content (the same
 * content gives the same tag, across restarts too); a write with a stale If-Match is 412.
 *
 * Thread: the loop thread only.
 */
#include <ctype.h>
#include <math.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "control.h"

/* ---- documents -------------------------------------------------------------------------------------------- */

void api_etag_of(const char *text, size_t n, char *out, size_t len)
{
    unsigned char h[32];
    SHA256((const unsigned char *)text, n, h);
    snprintf(out, len, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
}

static void vehicle_etag(const struct control_vehicle *v, char *out, size_t len)
{
    char text[1024];
    int k = snprintf(text, sizeof text, "%s|%s|%.6f|%.6f|%.6f", v->id, v->fleet, v->battery_kwh, v->max_kw, v->max_dc_kw);
    for (int t = 0; t < v->n_id_tokens && k < (int)sizeof text - 40; t++)
        k += snprintf(text + k, sizeof text - (size_t)k, "|%s", v->id_tokens[t]);
    /* Only when set: a vehicle without a group keeps the tag it had before vehicles had groups. */
    if (v->group_id_token[0]) k += snprintf(text + k, sizeof text - (size_t)k, "|group=%s", v->group_id_token);
    api_etag_of(text, (size_t)k, out, len);
}

static void add_num_or_null(cJSON *o, const char *name, double v)
{
    if (v > 0) cJSON_AddNumberToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

/* The registry's part of a vehicle (what an "api" event carries and the restore replays). */
static cJSON *registry_doc(const struct control_vehicle *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", v->id);
    if (v->fleet[0]) cJSON_AddStringToObject(o, "fleet", v->fleet);
    else cJSON_AddNullToObject(o, "fleet");
    add_num_or_null(o, "battery_kwh", v->battery_kwh);
    add_num_or_null(o, "max_kw", v->max_kw);
    add_num_or_null(o, "max_dc_kw", v->max_dc_kw);
    cJSON *toks = cJSON_AddArrayToObject(o, "id_tokens");
    for (int t = 0; t < v->n_id_tokens; t++) cJSON_AddItemToArray(toks, cJSON_CreateString(v->id_tokens[t]));
    /* Absent rather than null when there is none: the documents of vehicles without a group stay as they were. */
    if (v->group_id_token[0]) cJSON_AddStringToObject(o, "group_id_token", v->group_id_token);
    return o;
}

static cJSON *vehicle_doc(struct api *a, const struct control_vehicle *v)
{
    cJSON *o = registry_doc(v);
    struct control_need n;
    char who[CONTROL_FLEET_MAX + 1];
    int64_t set_ms = 0;
    bool has = control_get_need(a->d, v->id, &n, who, &set_ms);
    cJSON_AddItemToObject(o, "departure", has ? api_departure_doc(v->id, &n, who, set_ms) : cJSON_CreateNull());
    char station[64], tx[40];
    int evse = 0;
    if (control_vehicle_session(a->d, v->id, station, sizeof station, &evse, tx, sizeof tx)) {
        cJSON *s = cJSON_AddObjectToObject(o, "session");
        cJSON_AddStringToObject(s, "station_id", station);
        cJSON_AddNumberToObject(s, "evse_id", evse);
        cJSON_AddStringToObject(s, "transaction_id", tx);
    } else {
        cJSON_AddNullToObject(o, "session");
    }
    char etag[72];
    vehicle_etag(v, etag, sizeof etag);
    cJSON_AddStringToObject(o, "etag", etag);
    return o;
}

cJSON *api_token_vehicles(struct api *a)
{
    cJSON *o = cJSON_CreateObject();
    struct control_vehicle v;
    for (int i = 0; control_vehicle_at(a->d, i, &v); i++)
        for (int t = 0; t < v.n_id_tokens; t++)
            if (!cJSON_GetObjectItemCaseSensitive(o, v.id_tokens[t])) cJSON_AddStringToObject(o, v.id_tokens[t], v.id);
    const struct config *c = &a->d->cfg;
    for (size_t i = 0; i < c->n_id_tokens; i++)
        if (c->id_tokens[i].vehicle[0] && !cJSON_GetObjectItemCaseSensitive(o, c->id_tokens[i].id_token))
            cJSON_AddStringToObject(o, c->id_tokens[i].id_token, c->id_tokens[i].vehicle);
    return o;
}

cJSON *api_fleet_scope(struct api *a, const struct api_req *r, bool tokens)
{
    if (!r->token || !r->token->fleet[0]) return NULL;
    cJSON *arr = cJSON_CreateArray();
    struct control_vehicle v;
    for (int i = 0; control_vehicle_at(a->d, i, &v); i++) {
        if (strcmp(v.fleet, r->token->fleet) != 0) continue;
        if (!tokens) {
            cJSON_AddItemToArray(arr, cJSON_CreateString(v.id));
            continue;
        }
        for (int t = 0; t < v.n_id_tokens; t++) cJSON_AddItemToArray(arr, cJSON_CreateString(v.id_tokens[t]));
        const struct config *c = &a->d->cfg;
        for (size_t k = 0; k < c->n_id_tokens; k++)
            if (strcmp(c->id_tokens[k].vehicle, v.id) == 0)
                cJSON_AddItemToArray(arr, cJSON_CreateString(c->id_tokens[k].id_token));
    }
    return arr;
}

/* A vehicle of another fleet is, to a fleet-scoped reader, a vehicle that does not exist. */
static bool fleet_sees(const struct api_req *r, const struct control_vehicle *v)
{
    return !r->token || !r->token->fleet[0] || strcmp(r->token->fleet, v->fleet) == 0;
}

/* ---- vehicles --------------------------------------------------------------------------------------------- */

struct vehicle_key {
    char id[CONTROL_VEHICLE_ID_MAX + 1];
    int index;
};

static int cmp_vehicle_key(const void *x, const void *y)
{
    return strcmp(((const struct vehicle_key *)x)->id, ((const struct vehicle_key *)y)->id);
}

/* In id order, paged like stations (the cursor is the last id of the page): the registry is in memory and holds
 * the few thousand vehicles a depot has, so sorting per request is cheap. */
void api_get_vehicles(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    int limit = api_arg_limit(r);
    if (limit < 0) return;
    char fleet[API_NAME_MAX + 1], cursor[API_PARAM_MAX] = "";
    bool by_fleet = api_arg(r, "fleet", fleet, sizeof fleet);
    bool scoped = r->token && r->token->fleet[0];
    api_arg(r, "cursor", cursor, sizeof cursor);
    int total = control_vehicle_count(a->d);
    struct vehicle_key *keys = malloc((total > 0 ? (size_t)total : 1) * sizeof *keys);
    if (!keys) {
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    int n = 0;
    struct control_vehicle v;
    for (int i = 0; i < total && control_vehicle_at(a->d, i, &v); i++)
        if ((!by_fleet || strcmp(v.fleet, fleet) == 0) && (!scoped || fleet_sees(r, &v)) && strcmp(v.id, cursor) > 0) {
            snprintf(keys[n].id, sizeof keys[n].id, "%s", v.id);
            keys[n++].index = i;
        }
    qsort(keys, (size_t)n, sizeof *keys, cmp_vehicle_key);
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (int k = 0; k < n && k < limit; k++)
        if (control_vehicle_at(a->d, keys[k].index, &v)) cJSON_AddItemToArray(items, vehicle_doc(a, &v));
    if (n > limit) cJSON_AddStringToObject(o, "next_cursor", keys[limit - 1].id);
    else cJSON_AddNullToObject(o, "next_cursor");
    free(keys);
    api_reply(r, 200, o);
}

bool api_vehicle_or_404(struct api *a, struct api_req *r, struct control_vehicle *v)
{
    if (control_vehicle_get(a->d, r->params[0], v)) return true;
    api_problem(r, 404, "vehicle_id", "vehicle_id: no vehicle \"%s\" in the registry", r->params[0]);
    return false;
}

/* For reads: also 404 for a vehicle of another fleet (writes answer 403 instead: fleet_allows). */
bool api_vehicle_visible(struct api *a, struct api_req *r, struct control_vehicle *v)
{
    if (control_vehicle_get(a->d, r->params[0], v) && fleet_sees(r, v)) return true;
    api_problem(r, 404, "vehicle_id", "vehicle_id: no vehicle \"%s\" in the registry%s", r->params[0],
                r->token && r->token->fleet[0] ? " of this token's fleet" : "");
    return false;
}

void api_get_vehicle(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct control_vehicle v;
    if (!api_vehicle_visible(a, r, &v)) return;
    vehicle_etag(&v, r->etag, sizeof r->etag);
    api_reply(r, 200, vehicle_doc(a, &v));
}

/* Fleet scope: a fleet-scoped token changes only its fleet's vehicles (and creates only in its fleet). */
static bool fleet_allows(struct api_req *r, const char *vehicle, const char *fleet)
{
    if (!r->token->fleet[0] || strcmp(r->token->fleet, fleet) == 0) return true;
    api_problem(r, 403, "fleet", "fleet: token \"%s\" may change vehicles of fleet \"%s\" only; %s is in %s%s%s",
                r->token->name, r->token->fleet, vehicle, fleet[0] ? "fleet \"" : "no fleet", fleet, fleet[0] ? "\"" : "");
    return false;
}

/* If-Match against the current ETag (none: the resource does not exist); answers 412 itself. */
bool api_if_match(struct api_req *r, bool exists, const char *have, const char *what, const char *id)
{
    char want[128];
    if (lws_hdr_copy(r->wsi, want, sizeof want, WSI_TOKEN_HTTP_IF_MATCH) <= 0) return true;
    bool match = strcmp(want, "*") == 0 ? exists : exists && strstr(want, have) != NULL;
    if (match) return true;
    snprintf(r->etag, sizeof r->etag, "%s", exists ? have : "");
    api_problem(r, 412, "If-Match", "If-Match: the %s of %s changed since you read it (now %s); GET it again", what, id,
                exists ? have : "none");
    return false;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > CONTROL_VEHICLE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i])) return false;
    return true;
}

/* A vehicle's id_tokens and their group_id_token from a POST or PUT body. Answers 422. */
static bool tokens_from_body(struct api_req *r, const cJSON *body, struct control_vehicle *v)
{
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(body, "id_tokens");
    if (toks) {
        if (!cJSON_IsArray(toks) || cJSON_GetArraySize(toks) > CONTROL_TOKENS_MAX) {
            api_problem(r, 422, "id_tokens", "id_tokens: an array of at most %d strings", CONTROL_TOKENS_MAX);
            return false;
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, toks) {
            if (!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) > 36) {
                api_problem(r, 422, "id_tokens", "id_tokens: each a string of 1 to 36 characters (an OCPP idToken)");
                return false;
            }
            for (int k = 0; k < v->n_id_tokens; k++)
                if (strcmp(v->id_tokens[k], t->valuestring) == 0) {
                    api_problem(r, 422, "id_tokens", "id_tokens: \"%s\" is listed twice", t->valuestring);
                    return false;
                }
            snprintf(v->id_tokens[v->n_id_tokens++], sizeof v->id_tokens[0], "%s", t->valuestring);
        }
    }
    /* Answered to stations as groupIdToken.idToken: what the official schema would refuse is refused here. */
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(body, "group_id_token");
    if (group && !cJSON_IsNull(group)) {
        if (!cJSON_IsString(group) || !group->valuestring[0] || strlen(group->valuestring) >= sizeof v->group_id_token) {
            api_problem(r, 422, "group_id_token", "group_id_token: a string of 1 to %zu characters (an OCPP idToken), "
                        "or null", sizeof v->group_id_token - 1);
            return false;
        }
        snprintf(v->group_id_token, sizeof v->group_id_token, "%s", group->valuestring);
    }
    return true;
}

/* The vehicle a POST or PUT body describes (a whole vehicle: members absent are unknown). Answers 422. */
static bool vehicle_from_body(struct api_req *r, const cJSON *body, const char *path_id, struct control_vehicle *v)
{
    static const char *const allowed[] = {"id",        "fleet",     "battery_kwh",    "max_kw",
                                          "max_dc_kw", "id_tokens", "group_id_token", NULL};
    if (!api_body_only(r, body, allowed)) return false;
    memset(v, 0, sizeof *v);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
    if (path_id) {
        if (id && (!cJSON_IsString(id) || strcmp(id->valuestring, path_id) != 0)) {
            api_problem(r, 422, "id", "id: \"%s\" in the body is not the vehicle of the path (%s)",
                        cJSON_IsString(id) ? id->valuestring : "?", path_id);
            return false;
        }
        id = NULL;
    } else if (!id) {
        api_problem(r, 422, "id", "id: required (1 to %d letters, digits, '-', '_' or '.')", CONTROL_VEHICLE_ID_MAX);
        return false;
    }
    const char *ids = path_id ? path_id : cJSON_IsString(id) ? id->valuestring : "";
    if (!id_ok(ids)) {
        api_problem(r, 422, "id", "id: 1 to %d letters, digits, '-', '_' or '.'", CONTROL_VEHICLE_ID_MAX);
        return false;
    }
    snprintf(v->id, sizeof v->id, "%s", ids);
    const cJSON *fleet = cJSON_GetObjectItemCaseSensitive(body, "fleet");
    if (fleet && !cJSON_IsNull(fleet)) {
        if (!cJSON_IsString(fleet) || !fleet->valuestring[0] || strlen(fleet->valuestring) > CONTROL_FLEET_MAX) {
            api_problem(r, 422, "fleet", "fleet: a string of 1 to %d characters, or null", CONTROL_FLEET_MAX);
            return false;
        }
        snprintf(v->fleet, sizeof v->fleet, "%s", fleet->valuestring);
    } else if (!fleet && r->token->fleet[0]) {
        /* A fleet-scoped dispatcher registers vehicles of its own fleet. */
        snprintf(v->fleet, sizeof v->fleet, "%s", r->token->fleet);
    }
    const char *nums[] = {"battery_kwh", "max_kw", "max_dc_kw"};
    double *dst[] = {&v->battery_kwh, &v->max_kw, &v->max_dc_kw};
    for (int k = 0; k < 3; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(body, nums[k]);
        if (!x || cJSON_IsNull(x)) continue;
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble <= 0 || x->valuedouble > 10000) {
            api_problem(r, 422, nums[k], "%s: must be a number above 0 and at most 10000, or null (unknown)", nums[k]);
            return false;
        }
        *dst[k] = x->valuedouble;
    }
    return tokens_from_body(r, body, v);
}

static bool has_token(const struct control_vehicle *v, const char *t)
{
    for (int k = 0; v && k < v->n_id_tokens; k++)
        if (strcmp(v->id_tokens[k], t) == 0) return true;
    return false;
}

/* Id tokens decide who may charge. Adding one is a right of its own (manage_tokens); a token the
 * config maps to a vehicle stays with it; and a token of another fleet's vehicle is refused without naming it. */
static bool tokens_allowed(struct api *a, struct api_req *r, const struct control_vehicle *v,
                           const struct control_vehicle *old)
{
    bool added = false; /* removing one only takes a right away: anyone who may change the vehicle may */
    for (int t = 0; !added && t < v->n_id_tokens; t++) added = !has_token(old, v->id_tokens[t]);
    if (added && !r->token->manage_tokens) {
        api_problem(r, 403, "id_tokens", "id_tokens: token \"%s\" may not give a vehicle new id tokens (api_tokens[]."
                    "manage_tokens)", r->token->name);
        return false;
    }
    const struct config *c = &a->d->cfg;
    for (int t = 0; t < v->n_id_tokens; t++) {
        const char *tok = v->id_tokens[t];
        if (has_token(old, tok)) continue;
        for (size_t i = 0; i < c->n_id_tokens; i++)
            if (strcmp(c->id_tokens[i].id_token, tok) == 0 && c->id_tokens[i].vehicle[0] &&
                strcmp(c->id_tokens[i].vehicle, v->id) != 0) {
                api_problem(r, 409, "id_tokens", "id_tokens: \"%s\" is given to another vehicle by the config "
                            "(id_tokens[%zu].vehicle); change it there", tok, i);
                return false;
            }
        const char *owner = control_vehicle_for_token(a->d, tok);
        struct control_vehicle o;
        if (owner[0] && strcmp(owner, v->id) != 0) {
            bool visible = !r->token->fleet[0] ||
                           (control_vehicle_get(a->d, owner, &o) && strcmp(o.fleet, r->token->fleet) == 0);
            if (visible) api_problem(r, 409, "id_tokens", "id_tokens: \"%s\" already belongs to vehicle %s", tok, owner);
            else api_problem(r, 409, "id_tokens", "id_tokens: \"%s\" already belongs to a vehicle of another fleet", tok);
            return false;
        }
    }
    return true;
}

static void vehicle_write(struct api *a, struct api_req *r, const cJSON *body, const char *path_id)
{
    struct control_vehicle v, old;
    r->audit = cJSON_CreateObject();
    if (path_id) cJSON_AddStringToObject(r->audit, "vehicle", path_id);
    if (!vehicle_from_body(r, body, path_id, &v)) return;
    if (!path_id) cJSON_AddStringToObject(r->audit, "vehicle", v.id);
    bool exists = control_vehicle_get(a->d, v.id, &old);
    if (!path_id && exists) {
        api_problem(r, 409, "id", "id: vehicle %s exists already (PUT /api/v1/vehicles/%s changes it)", v.id, v.id);
        return;
    }
    if (exists && !fleet_allows(r, old.id, old.fleet)) return;
    if (!fleet_allows(r, v.id, v.fleet) || !tokens_allowed(a, r, &v, exists ? &old : NULL)) return;
    char have[72] = "";
    if (exists) vehicle_etag(&old, have, sizeof have);
    if (!api_if_match(r, exists, have, "vehicle", v.id)) return;
    /* A smaller battery makes a need in energy impossible: say so rather than plan for it. */
    struct control_need n;
    if (v.battery_kwh > 0 && control_get_need(a->d, v.id, &n, NULL, NULL) && n.energy_kwh > v.battery_kwh) {
        api_problem(r, 422, "battery_kwh", "battery_kwh: %g kWh is less than the %g kWh its departure asks for; "
                    "change the departure first", v.battery_kwh, n.energy_kwh);
        return;
    }
    bool created;
    char err[256];
    if (control_vehicle_put(a->d, &v, &created, err, sizeof err)) {
        bool tokens = strncmp(err, "id_tokens", 9) == 0;
        api_problem(r, tokens ? 409 : 500, tokens ? "id_tokens" : NULL, "%s", err);
        return;
    }
    cJSON_AddItemToObject(r->audit, "registry", registry_doc(&v));
    vehicle_etag(&v, r->etag, sizeof r->etag);
    api_reply(r, created ? 201 : 200, vehicle_doc(a, &v));
}

void api_post_vehicle(struct api *a, struct api_req *r, const cJSON *body) { vehicle_write(a, r, body, NULL); }

void api_put_vehicle(struct api *a, struct api_req *r, const cJSON *body) { vehicle_write(a, r, body, r->params[0]); }

void api_delete_vehicle(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct control_vehicle v;
    r->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(r->audit, "vehicle", r->params[0]);
    if (!api_vehicle_or_404(a, r, &v) || !fleet_allows(r, v.id, v.fleet)) return;
    char have[72];
    vehicle_etag(&v, have, sizeof have);
    if (!api_if_match(r, true, have, "vehicle", v.id)) return;
    /* A plugged-in vehicle stays: its session is planned with the vehicle's need, and deleting it under the
     * session would silently change that need to the EV's own or the default. */
    char station[64], tx[40];
    int evse = 0;
    if (control_vehicle_session(a->d, v.id, station, sizeof station, &evse, tx, sizeof tx)) {
        api_problem(r, 409, "vehicle_id", "vehicle_id: %s is plugged in at %s EVSE %d (transaction %s); delete it once "
                    "the session has ended", v.id, station, evse, tx);
        return;
    }
    char err[256];
    if (control_vehicle_delete(a->d, v.id, err, sizeof err)) {
        api_problem(r, 404, "vehicle_id", "%s", err);
        return;
    }
    api_reply(r, 204, NULL);
}

