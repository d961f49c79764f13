/*
 * control_query.c - what the JSON API asks of the control loop and tells it: the vehicle registry (the
 * config's control.vehicles, changed through the API), the dispatcher's needs with who set them, the plan in
 * force as a document, and, at start, the API's writes replayed from the event log on top of the config.
 *
 * One source of truth: the registry and the needs live in the control loop (struct ctl_vehicle); the API
 * keeps no copy. The event log is the only persistence: every API write is an "api" event carrying what it
 * changed, and control_query_restore() applies those events in order after the config's vehicles and needs.
 * Thread: the loop thread (control_query_restore runs in control_start, before the loop).
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"
#include "prices.h"

void (*control_plan_listener)(struct depot *d, uint64_t plan_id);

/* ---- the vehicle registry --------------------------------------------------------------------------------- */

static void vehicle_out(const struct ctl_vehicle *v, struct control_vehicle *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", v->id);
    snprintf(out->fleet, sizeof out->fleet, "%s", v->fleet);
    snprintf(out->group_id_token, sizeof out->group_id_token, "%s", v->group_id_token);
    out->battery_kwh = v->battery_kwh;
    out->max_kw = v->max_kw;
    out->max_dc_kw = v->max_dc_kw;
    for (int k = 0; k < v->n_id_tokens && k < CONTROL_TOKENS_MAX; k++)
        snprintf(out->id_tokens[out->n_id_tokens++], sizeof out->id_tokens[0], "%s", v->id_tokens[k]);
}

static void tokens_free(struct ctl_vehicle *v)
{
    for (int k = 0; k < v->n_id_tokens; k++) free(v->id_tokens[k]);
    free(v->id_tokens);
    v->id_tokens = NULL;
    v->n_id_tokens = 0;
}

static int vehicle_put(struct control *ctl, const struct control_vehicle *in, bool *created, char *err, size_t err_len)
{
    if (!in->id[0]) {
        snprintf(err, err_len, "id: required");
        return -1;
    }
    for (int i = 0; i < ctl->cfg.n_vehicles; i++) {
        const struct ctl_vehicle *o = &ctl->cfg.vehicles[i];
        if (strcmp(o->id, in->id) == 0) continue;
        for (int k = 0; k < o->n_id_tokens; k++)
            for (int t = 0; t < in->n_id_tokens; t++)
                if (strcmp(o->id_tokens[k], in->id_tokens[t]) == 0) {
                    snprintf(err, err_len, "id_tokens: \"%s\" already belongs to vehicle %s", in->id_tokens[t], o->id);
                    return -1;
                }
    }
    char **toks = calloc((size_t)in->n_id_tokens + 1, sizeof *toks);
    if (!toks) goto oom;
    for (int t = 0; t < in->n_id_tokens; t++)
        if (!(toks[t] = strdup(in->id_tokens[t]))) {
            for (int k = 0; k < t; k++) free(toks[k]);
            free(toks);
            goto oom;
        }
    struct ctl_vehicle *v = ctl_vehicle_find(ctl, in->id);
    *created = v == NULL;
    if (!v) {
        struct ctl_vehicle *nv = realloc(ctl->cfg.vehicles, ((size_t)ctl->cfg.n_vehicles + 1) * sizeof *nv);
        if (!nv) {
            for (int k = 0; k < in->n_id_tokens; k++) free(toks[k]);
            free(toks);
            goto oom;
        }
        ctl->cfg.vehicles = nv;
        v = &nv[ctl->cfg.n_vehicles++];
        memset(v, 0, sizeof *v);
        snprintf(v->id, sizeof v->id, "%s", in->id);
    }
    tokens_free(v);
    v->id_tokens = toks;
    v->n_id_tokens = in->n_id_tokens;
    snprintf(v->fleet, sizeof v->fleet, "%s", in->fleet);
    snprintf(v->group_id_token, sizeof v->group_id_token, "%s", in->group_id_token);
    v->battery_kwh = in->battery_kwh;
    v->max_kw = in->max_kw;
    v->max_dc_kw = in->max_dc_kw;
    return 0;
oom:
    snprintf(err, err_len, "out of memory");
    return -1;
}

static int vehicle_delete(struct control *ctl, const char *id)
{
    for (int i = 0; i < ctl->cfg.n_vehicles; i++)
        if (strcmp(ctl->cfg.vehicles[i].id, id) == 0) {
            tokens_free(&ctl->cfg.vehicles[i]);
            memmove(&ctl->cfg.vehicles[i], &ctl->cfg.vehicles[i + 1],
                    (size_t)(ctl->cfg.n_vehicles - i - 1) * sizeof ctl->cfg.vehicles[0]);
            ctl->cfg.n_vehicles--;
            return 0;
        }
    return -1;
}

int control_vehicle_put(struct depot *d, const struct control_vehicle *v, bool *created, char *err, size_t err_len)
{
    struct control *ctl = d->control;
    if (!ctl) {
        snprintf(err, err_len, "the control loop is not running");
        return -1;
    }
    if (vehicle_put(ctl, v, created, err, err_len)) return -1;
    control_replan(d, "vehicles");
    return 0;
}

int control_vehicle_delete(struct depot *d, const char *id, char *err, size_t err_len)
{
    struct control *ctl = d->control;
    if (!ctl || vehicle_delete(ctl, id)) {
        snprintf(err, err_len, "vehicle_id: no vehicle \"%s\"", id);
        return -1;
    }
    control_replan(d, "vehicles");
    return 0;
}

bool control_vehicle_get(struct depot *d, const char *id, struct control_vehicle *out)
{
    struct ctl_vehicle *v = d->control ? ctl_vehicle_find(d->control, id) : NULL;
    if (v) vehicle_out(v, out);
    return v != NULL;
}

int control_vehicle_count(struct depot *d) { return d->control ? d->control->cfg.n_vehicles : 0; }

bool control_vehicle_at(struct depot *d, int i, struct control_vehicle *out)
{
    if (!d->control || i < 0 || i >= d->control->cfg.n_vehicles) return false;
    vehicle_out(&d->control->cfg.vehicles[i], out);
    return true;
}

const char *control_vehicle_for_token(struct depot *d, const char *token)
{
    return d->control ? ctl_vehicle_for_token(d->control, token) : "";
}

const char *control_group_for_token(struct depot *d, const char *token)
{
    struct ctl_vehicle *v = d->control ? ctl_vehicle_find(d->control, ctl_vehicle_for_token(d->control, token)) : NULL;
    return v ? v->group_id_token : "";
}

bool control_vehicle_session(struct depot *d, const char *vehicle, char *station, size_t station_len, int *evse,
                             char *tx, size_t tx_len)
{
    struct control *ctl = d->control;
    for (struct ctl_station *cs = ctl ? ctl->stations : NULL; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++) {
            const struct ctl_evse *e = &cs->evse[k];
            if (!e->active || strcmp(e->vehicle, vehicle) != 0) continue;
            if (station) snprintf(station, station_len, "%s", cs->st->id);
            if (evse) *evse = k;
            if (tx) snprintf(tx, tx_len, "%s", e->tx_id);
            return true;
        }
    return false;
}

/* ---- needs ------------------------------------------------------------------------------------------------ */

int control_put_need(struct depot *d, const char *vehicle, const struct control_need *need, const char *who,
                     int64_t set_ms, char *err, size_t err_len)
{
    if (control_set_need(d, vehicle, need, who, err, err_len)) return -1;
    struct ctl_vehicle *v = ctl_vehicle_find(d->control, vehicle);
    if (v) {
        snprintf(v->need_by, sizeof v->need_by, "%s", need && who ? who : "");
        v->need_set_ms = need ? (set_ms ? set_ms : depot_wall_ms()) : 0;
    }
    return 0;
}

bool control_get_need(struct depot *d, const char *vehicle, struct control_need *out, char *who, int64_t *set_ms)
{
    struct ctl_vehicle *v = d->control ? ctl_vehicle_find(d->control, vehicle) : NULL;
    if (!v || !v->has_need) return false;
    *out = v->need;
    if (who) snprintf(who, CONTROL_FLEET_MAX + 1, "%s", v->need_by[0] ? v->need_by : "config");
    if (set_ms) *set_ms = v->need_set_ms;
    return true;
}

/* ---- plans ------------------------------------------------------------------------------------------------ */

bool control_planning(struct depot *d) { return d->control && d->control->cfg.enabled && d->control->planner; }

double control_at_risk_kwh(struct depot *d) { return d->control ? d->control->cfg.at_risk_kwh : 0; }

uint64_t control_next_plan_id(struct depot *d) { return d->control ? d->control->next_plan_id + 1 : 0; }

/* The newest solved plan: the one waiting for the running transition, else the one in force. */
static const struct ctl_plan *newest_plan(const struct control *ctl)
{
    return ctl->waiting ? ctl->waiting : ctl->plan;
}

void control_query_plan_done(struct depot *d)
{
    if (control_plan_listener && d->control) control_plan_listener(d, d->control->stats.last_plan_id);
}

/* The expected miss of a planned session beyond its planning margin and what the departure hedge leaves for after
 * the earlier time, and whether it raises an alarm (the same rule as control.c's departure_at_risk events). */
static double session_short(const struct control *ctl, const struct ctl_plan_session *ps, bool *at_risk)
{
    double s = fmax(0, ps->shortfall_kwh - ps->margin_kwh - ps->hedge_kwh);
    *at_risk = !ps->need.best_effort && s > ctl->cfg.at_risk_kwh;
    return s;
}

int control_plan_for_vehicle(struct depot *d, const char *vehicle, struct control_vehicle_plan *out)
{
    memset(out, 0, sizeof *out);
    const struct ctl_plan *p = d->control ? newest_plan(d->control) : NULL;
    if (!p) return -1;
    out->plan_id = p->id;
    for (int i = 0; i < p->n; i++) {
        const struct ctl_plan_session *ps = &p->sessions[i];
        if (strcmp(ps->vehicle, vehicle) != 0) continue;
        bool risk;
        out->shortfall_kwh = session_short(d->control, ps, &risk);
        out->feasible = !risk;
        out->best_effort = ps->need.best_effort;
        out->need_kwh = ps->need.need_kwh;
        out->remaining_kwh = ps->need.remaining_kwh;
        out->planned_kwh = ps->planned_kwh;
        out->departure_ms = ps->need.departure_ms;
        out->need_source = ps->need.source;
        return 1;
    }
    return 0;
}

static double r3(double x) { return round(x * 1000) / 1000; }

static void add_time(cJSON *o, const char *name, int64_t ms)
{
    char buf[40];
    if (ms) cJSON_AddStringToObject(o, name, ocpp_time_format(ms, buf));
    else cJSON_AddNullToObject(o, name);
}

cJSON *control_plan_json(struct depot *d)
{
    const struct control *ctl = d->control;
    const struct ctl_plan *p = ctl ? ctl->plan : NULL;
    if (!p) return NULL;
    int T = p->slots;
    int64_t slot0 = p->first_end_ms - p->slot_ms;
    struct tariff_price *prices = calloc((size_t)T + 1, sizeof *prices);
    char err[200];
    int T_grid = ctl_plan_grid_slot(p, T - 1) + 1; /* the parts of slot 0 share its price */
    bool have_prices = prices && prices_slots(d, slot0, p->slot_ms, (size_t)T_grid, prices, err, sizeof err) == 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "plan_id", (double)p->id);
    cJSON_AddStringToObject(o, "source", "memory");
    cJSON_AddStringToObject(o, "reasons", p->reasons);
    cJSON_AddStringToObject(o, "method", p->method ? p->method : "");
    add_time(o, "start", p->start_ms);
    cJSON_AddNumberToObject(o, "slot_minutes", (double)(p->slot_ms / 60000));
    cJSON_AddNumberToObject(o, "expected_cost", round(p->cost * 1e4) / 1e4);
    cJSON_AddNumberToObject(o, "shortfall_kwh", r3(p->shortfall_kwh));
    cJSON_AddNumberToObject(o, "solve_ms", round(p->solve_ms * 10) / 10);
    cJSON *slots = cJSON_AddArrayToObject(o, "slots");
    for (int t = 0; t < T; t++) {
        cJSON *s = cJSON_CreateObject();
        int64_t ts = p->at[t];
        add_time(s, "start", ts);
        add_time(s, "end", p->at[t + 1]);
        const struct tariff_price *pr = have_prices ? &prices[ctl_plan_grid_slot(p, t)] : NULL;
        double site = 0;
        for (int i = 0; i < p->n; i++) site += p->kw[(size_t)i * T + t];
        cJSON_AddNumberToObject(s, "site_kw", r3(site));
        cJSON_AddNumberToObject(s, "site_limit_kw", r3(ctl_site_limit_kw(ctl, ts)));
        /* What the planned sessions shared: the limit less what EVSEs outside the plan may draw. */
        cJSON_AddNumberToObject(s, "planned_limit_kw", r3(p->site_limit_kw[t]));
        if (pr) {
            cJSON_AddNumberToObject(s, "price", round(pr->price * 1e5) / 1e5);
            cJSON_AddStringToObject(s, "price_source", tariff_source_name(pr->source));
        } else {
            cJSON_AddNullToObject(s, "price");
            cJSON_AddStringToObject(s, "price_source", "none");
        }
        cJSON_AddItemToArray(slots, s);
    }
    free(prices);
    cJSON_AddItemToObject(o, "demand", ctl_demand_json(ctl, ctl_plan_peak_kw(p)));
    cJSON *circuits = ctl_circuits_plan_json((struct control *)ctl, p);
    if (circuits) cJSON_AddItemToObject(o, "circuits", circuits);
    cJSON *evses = cJSON_AddArrayToObject(o, "evses");
    cJSON *risk = cJSON_AddArrayToObject(o, "sessions_at_risk");
    for (int i = 0; i < p->n; i++) {
        const struct ctl_plan_session *ps = &p->sessions[i];
        bool at_risk;
        double short_kwh = session_short(ctl, ps, &at_risk);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "station_id", ps->station);
        cJSON_AddNumberToObject(e, "evse_id", ps->evse);
        cJSON_AddStringToObject(e, "transaction_id", ps->tx_id);
        if (ps->vehicle[0]) cJSON_AddStringToObject(e, "vehicle_id", ps->vehicle);
        else cJSON_AddNullToObject(e, "vehicle_id");
        cJSON_AddStringToObject(e, "need_source", ps->need.source ? ps->need.source : "");
        add_time(e, "departure", ps->need.departure_ms);
        cJSON_AddNumberToObject(e, "need_kwh", r3(ps->need.need_kwh));
        cJSON_AddNumberToObject(e, "remaining_kwh", r3(ps->need.remaining_kwh));
        cJSON_AddNumberToObject(e, "planned_kwh", r3(ps->planned_kwh));
        cJSON_AddNumberToObject(e, "shortfall_kwh", r3(short_kwh));
        cJSON_AddBoolToObject(e, "at_risk", at_risk);
        cJSON *kw = cJSON_AddArrayToObject(e, "kw");
        for (int t = 0; t < T; t++) cJSON_AddItemToArray(kw, cJSON_CreateNumber(r3(p->kw[(size_t)i * T + t])));
        cJSON_AddItemToArray(evses, e);
        if (at_risk) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "station_id", ps->station);
            cJSON_AddNumberToObject(x, "evse_id", ps->evse);
            if (ps->vehicle[0]) cJSON_AddStringToObject(x, "vehicle_id", ps->vehicle);
            else cJSON_AddNullToObject(x, "vehicle_id");
            add_time(x, "departure", ps->need.departure_ms);
            cJSON_AddNumberToObject(x, "shortfall_kwh", r3(short_kwh));
            cJSON_AddItemToArray(risk, x);
        }
    }
    return o;
}

/* ---- restore: the API's writes from the event log on top of the config --------------------------------------- */

static void replay_vehicle(struct control *ctl, const cJSON *reg)
{
    struct control_vehicle v;
    memset(&v, 0, sizeof v);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(reg, "id");
    const cJSON *fleet = cJSON_GetObjectItemCaseSensitive(reg, "fleet");
    if (!cJSON_IsString(id)) return;
    snprintf(v.id, sizeof v.id, "%s", id->valuestring);
    if (cJSON_IsString(fleet)) snprintf(v.fleet, sizeof v.fleet, "%s", fleet->valuestring);
    /* Absent in events written before vehicles had groups: no group. */
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(reg, "group_id_token");
    if (cJSON_IsString(group)) snprintf(v.group_id_token, sizeof v.group_id_token, "%s", group->valuestring);
    const char *nums[] = {"battery_kwh", "max_kw", "max_dc_kw"};
    double *dst[] = {&v.battery_kwh, &v.max_kw, &v.max_dc_kw};
    for (int k = 0; k < 3; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(reg, nums[k]);
        if (cJSON_IsNumber(x)) *dst[k] = x->valuedouble;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(reg, "id_tokens"))
        if (cJSON_IsString(t) && v.n_id_tokens < CONTROL_TOKENS_MAX)
            snprintf(v.id_tokens[v.n_id_tokens++], sizeof v.id_tokens[0], "%s", t->valuestring);
    bool created;
    char err[160];
    if (vehicle_put(ctl, &v, &created, err, sizeof err))
        log_warn("control", NULL, "replaying vehicle %s from the event log: %s", v.id, err);
}

static void replay_need(struct control *ctl, const char *vehicle, const cJSON *req, const char *by, int64_t time_ms)
{
    struct ctl_vehicle *v = ctl_vehicle_find(ctl, vehicle);
    if (!v) return;
    if (!req) {
        v->has_need = false;
        v->need_by[0] = 0;
        return;
    }
    const cJSON *dep = cJSON_GetObjectItemCaseSensitive(req, "departure");
    int64_t ms;
    if (!cJSON_IsString(dep) || ocpp_time_parse(dep->valuestring, &ms)) return;
    struct control_need n = {.departure_ms = ms, .energy_kwh = -1, .target_soc = -1, .priority = 0};
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(req, "energy_kwh");
    const cJSON *soc = cJSON_GetObjectItemCaseSensitive(req, "target_soc");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(req, "priority");
    if (cJSON_IsNumber(e)) n.energy_kwh = e->valuedouble;
    if (cJSON_IsNumber(soc)) n.target_soc = soc->valuedouble;
    if (cJSON_IsNumber(pr)) n.priority = pr->valuedouble;
    v->has_need = true;
    v->need = n;
    snprintf(v->need_by, sizeof v->need_by, "%s", by ? by : "");
    v->need_set_ms = time_ms;
}

/* One "api" event: only successful writes to vehicles and departures change anything. */
static int replay_event(struct control *ctl, const char *data, int64_t time_ms)
{
    cJSON *o = cJSON_Parse(data);
    if (!o) return 0;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "by");
    int applied = 0;
    if (cJSON_IsString(method) && cJSON_IsString(path) && cJSON_IsNumber(status) && status->valueint >= 200 &&
        status->valueint < 300) {
        const char *m = method->valuestring, *p = path->valuestring;
        const char *prefix = "/api/v1/vehicles";
        size_t pl = strlen(prefix);
        char id[CONTROL_VEHICLE_ID_MAX + 1] = "";
        bool departure = false;
        if (strncmp(p, prefix, pl) == 0 && (p[pl] == 0 || p[pl] == '/')) {
            if (p[pl] == '/') {
                const char *s = p + pl + 1, *slash = strchr(s, '/');
                size_t n = slash ? (size_t)(slash - s) : strlen(s);
                if (n && n < sizeof id) {
                    memcpy(id, s, n);
                    id[n] = 0;
                }
                departure = slash && strcmp(slash, "/departure") == 0;
                if (slash && !departure) id[0] = 0;
            }
            const cJSON *reg = cJSON_GetObjectItemCaseSensitive(o, "registry");
            const char *who = cJSON_IsString(by) ? by->valuestring : "";
            if (!departure && (strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0) && cJSON_IsObject(reg)) {
                replay_vehicle(ctl, reg);
                applied = 1;
            } else if (!departure && strcmp(m, "DELETE") == 0 && id[0]) {
                applied = vehicle_delete(ctl, id) == 0;
            } else if (departure && id[0] && strcmp(m, "PUT") == 0) {
                const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, "set_ms");
                replay_need(ctl, id, cJSON_GetObjectItemCaseSensitive(o, "request"), who,
                            cJSON_IsNumber(set) ? (int64_t)set->valuedouble : time_ms);
                applied = 1;
            } else if (departure && id[0] && strcmp(m, "DELETE") == 0) {
                replay_need(ctl, id, NULL, who, time_ms);
                applied = 1;
            }
        }
    }
    cJSON_Delete(o);
    return applied;
}

/* The config's vehicles: `fleet`, `max_dc_kw` and `group_id_token` are the API's keys (control_model.c does not
 * read them). v: control.vehicles[i] of the config, the i-th vehicle of the registry. */
static int config_vehicle_keys(struct ctl_vehicle *veh, const cJSON *v, int i, char *err, size_t err_len)
{
    const cJSON *fleet = cJSON_GetObjectItemCaseSensitive(v, "fleet");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(v, "max_dc_kw");
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(v, "group_id_token");
    if (fleet && (!cJSON_IsString(fleet) || strlen(fleet->valuestring) > CONTROL_FLEET_MAX)) {
        snprintf(err, err_len, "control.vehicles[%d].fleet: a string of at most %d characters", i, CONTROL_FLEET_MAX);
        return -1;
    }
    if (dc && (!cJSON_IsNumber(dc) || dc->valuedouble <= 0 || dc->valuedouble > 10000)) {
        snprintf(err, err_len, "control.vehicles[%d].max_dc_kw: a number in (0, 10000]", i);
        return -1;
    }
    /* Sent to stations as groupIdToken.idToken (the official schema: at most 36 characters). */
    if (group && (!cJSON_IsString(group) || !group->valuestring[0] ||
                  strlen(group->valuestring) >= sizeof veh->group_id_token)) {
        snprintf(err, err_len, "control.vehicles[%d].group_id_token: a string of 1 to %zu characters (an OCPP idToken)",
                 i, sizeof veh->group_id_token - 1);
        return -1;
    }
    if (fleet) snprintf(veh->fleet, sizeof veh->fleet, "%s", fleet->valuestring);
    if (dc) veh->max_dc_kw = dc->valuedouble;
    if (group) snprintf(veh->group_id_token, sizeof veh->group_id_token, "%s", group->valuestring);
    return 0;
}

int control_query_restore(struct depot *d, char *err, size_t err_len)
{
    struct control *ctl = d->control;
    const cJSON *vs = d->cfg.control ? cJSON_GetObjectItemCaseSensitive(d->cfg.control, "vehicles") : NULL;
    for (int i = 0; i < ctl->cfg.n_vehicles; i++) {
        const cJSON *v;
        cJSON_ArrayForEach(v, vs) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
            if (!cJSON_IsString(id) || strcmp(id->valuestring, ctl->cfg.vehicles[i].id) != 0) continue;
            if (config_vehicle_keys(&ctl->cfg.vehicles[i], v, i, err, err_len)) return -1;
        }
        if (ctl->cfg.vehicles[i].has_need) snprintf(ctl->cfg.vehicles[i].need_by, sizeof ctl->cfg.vehicles[i].need_by, "config");
    }
    if (!d->cfg.database[0]) return 0;
    /* Its own read-only connection: the store's writer owns the other one, and this runs once at start. */
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(d->cfg.database, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "cannot read the event log %s: %s", d->cfg.database, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *s = NULL;
    /* Index events_type (store.c): the api events only, not the whole log. */
    int rc = sqlite3_prepare_v2(db, STORE_SQL_API_EVENTS, -1, &s, NULL);
    int applied = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *data = (const char *)sqlite3_column_text(s, 2);
        if (data) applied += replay_event(ctl, data, sqlite3_column_int64(s, 1));
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, err_len, "reading the API's writes from the event log: %s", sqlite3_errmsg(db));
        sqlite3_finalize(s);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    /* A departure that has passed was for a session that is over (or missed it): not a need any more. */
    int64_t now = depot_now_ms();
    int dropped = 0;
    for (int i = 0; i < ctl->cfg.n_vehicles; i++) {
        struct ctl_vehicle *v = &ctl->cfg.vehicles[i];
        if (v->has_need && v->need.departure_ms <= now && strcmp(v->need_by, "config") != 0) {
            v->has_need = false;
            v->need_by[0] = 0;
            dropped++;
        }
    }
    if (applied)
        log_info("control", NULL, "replayed %d vehicle and departure writes of the API from the event log (%d vehicles, "
                 "%d past departures dropped)", applied, ctl->cfg.n_vehicles, dropped);
    return 0;
}
