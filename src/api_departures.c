/*
 * api_departures.c - the dispatcher's departures: when a vehicle leaves and what it needs (ETag, If-Match and
 * fleet scope as vehicles have, api_vehicles.c).
 *
 * A departure's answer waits for the first plan solved after the change (bounded: API_DEPARTURE_WAIT_MS real)
 * and says whether the need is feasible under it; a vehicle that is not plugged in is answered at once, since
 * plans only cover sessions.
 * Thread: the loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "control.h"

#define DEPARTURE_MAX_AHEAD_MS (30LL * 86400 * 1000)   /* a departure further out is a typo */
#define API_DEPARTURE_WAIT_MS 5000                      /* real ms a departure's answer waits for its plan */

struct api_dep_wait {
    uint64_t serial;             /* the request */
    uint64_t min_plan;           /* the first plan id that includes the change */
    int64_t deadline_mono;
    char vehicle[API_VEHICLE_MAX + 1];
    char etag[72];
    cJSON *doc;                  /* the departure, without "plan" yet */
    struct api_dep_wait *next;
};

void api_need_etag(const char *vehicle, bool has, const struct control_need *n, char *out, size_t len)
{
    char text[256];
    int k = snprintf(text, sizeof text, "%s|%d|%lld|%.6f|%.6f|%.6f", vehicle, has, has ? (long long)n->departure_ms : 0LL,
                     has ? n->energy_kwh : -1, has ? n->target_soc : -1, has ? n->priority : 0);
    api_etag_of(text, (size_t)k, out, len);
}

cJSON *api_departure_doc(const char *vehicle, const struct control_need *n, const char *who, int64_t set_ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "vehicle_id", vehicle);
    api_add_time(o, "departure", n->departure_ms);
    if (n->energy_kwh >= 0) cJSON_AddNumberToObject(o, "energy_kwh", n->energy_kwh);
    else cJSON_AddNullToObject(o, "energy_kwh");
    if (n->target_soc >= 0) cJSON_AddNumberToObject(o, "target_soc", n->target_soc);
    else cJSON_AddNullToObject(o, "target_soc");
    cJSON_AddNumberToObject(o, "priority", n->priority > 0 ? n->priority : 1);
    cJSON_AddStringToObject(o, "set_by", who);
    api_add_time(o, "set_at", set_ms);
    return o;
}

void api_get_departure(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct control_vehicle v;
    if (!api_vehicle_visible(a, r, &v)) return;
    struct control_need n;
    char who[CONTROL_FLEET_MAX + 1];
    int64_t set_ms = 0;
    if (!control_get_need(a->d, v.id, &n, who, &set_ms)) {
        api_problem(r, 404, "vehicle_id", "vehicle_id: \"%s\" has no departure set", v.id);
        return;
    }
    api_need_etag(v.id, true, &n, r->etag, sizeof r->etag);
    api_reply(r, 200, api_departure_doc(v.id, &n, who, set_ms));
}

/* Fleet scope and If-Match, shared by PUT and DELETE; answers 403 / 412 itself. */
static bool departure_may_change(struct api *a, struct api_req *r, const struct control_vehicle *v)
{
    if (r->token->fleet[0] && strcmp(r->token->fleet, v->fleet) != 0) {
        api_problem(r, 403, "vehicle_id",
                    "vehicle_id: token \"%s\" may change vehicles of fleet \"%s\" only; %s is in %s%s%s",
                    r->token->name, r->token->fleet, v->id, v->fleet[0] ? "fleet \"" : "no fleet", v->fleet,
                    v->fleet[0] ? "\"" : "");
        return false;
    }
    struct control_need n;
    bool has = control_get_need(a->d, v->id, &n, NULL, NULL);
    char have[72] = "";
    if (has) api_need_etag(v->id, true, &n, have, sizeof have);
    return api_if_match(r, has, have, "departure", v->id);
}

/* What the newest plan says about the vehicle's need: {"status", "plan_id", "feasible", ...}. */
static cJSON *plan_status(struct api *a, const char *vehicle, bool timed_out)
{
    cJSON *o = cJSON_CreateObject();
    struct control_vehicle_plan vp;
    int found = control_plan_for_vehicle(a->d, vehicle, &vp);
    const char *status, *detail;
    if (timed_out) {
        status = "pending";
        detail = "no plan including this departure was solved within 5 s; GET /api/v1/plan shows it when it is";
    } else if (found == 1) {
        status = vp.feasible ? "feasible" : "at_risk";
        detail = vp.feasible ? "the plan delivers the need by the departure"
                             : "the plan cannot deliver the whole need by the departure (shortfall_kwh)";
    } else {
        status = "not_planned";
        detail = "the vehicle's session is not in the plan (it may have just ended)";
    }
    cJSON_AddStringToObject(o, "status", status);
    if (found >= 0 && !timed_out) cJSON_AddNumberToObject(o, "plan_id", (double)vp.plan_id);
    else cJSON_AddNullToObject(o, "plan_id");
    if (found == 1 && !timed_out) {
        cJSON_AddBoolToObject(o, "feasible", vp.feasible);
        cJSON_AddNumberToObject(o, "remaining_kwh", round(vp.remaining_kwh * 1000) / 1000);
        cJSON_AddNumberToObject(o, "planned_kwh", round(fmin(vp.planned_kwh, vp.remaining_kwh) * 1000) / 1000);
        cJSON_AddNumberToObject(o, "shortfall_kwh", round(vp.shortfall_kwh * 1000) / 1000);
    } else {
        cJSON_AddNullToObject(o, "feasible");
        cJSON_AddNullToObject(o, "remaining_kwh");
        cJSON_AddNullToObject(o, "planned_kwh");
        cJSON_AddNullToObject(o, "shortfall_kwh");
    }
    cJSON_AddStringToObject(o, "detail", detail);
    return o;
}

static cJSON *plan_status_simple(const char *status, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", status);
    const char *nulls[] = {"plan_id", "feasible", "remaining_kwh", "planned_kwh", "shortfall_kwh"};
    for (int i = 0; i < 5; i++) cJSON_AddNullToObject(o, nulls[i]);
    cJSON_AddStringToObject(o, "detail", detail);
    return o;
}

static void dep_wait_finish(struct api *a, struct api_dep_wait *w, bool timed_out)
{
    struct api_req *r = api_resume(a, w->serial);
    if (r) {
        cJSON_AddItemToObject(w->doc, "plan", plan_status(a, w->vehicle, timed_out));
        snprintf(r->etag, sizeof r->etag, "%s", w->etag);
        api_reply(r, 200, w->doc);
    } else {
        cJSON_Delete(w->doc);
    }
    free(w);
}

static void arm_dep_timer(struct api *a);

static void on_dep_timer(lws_sorted_usec_list_t *sul)
{
    struct api *a = lws_container_of(sul, struct api, dep_timer);
    int64_t now = depot_mono_ms();
    for (struct api_dep_wait **pp = &a->dep_waits; *pp;) {
        struct api_dep_wait *w = *pp;
        if (w->deadline_mono <= now) {
            *pp = w->next;
            dep_wait_finish(a, w, true);
        } else {
            pp = &w->next;
        }
    }
    arm_dep_timer(a);
}

static void arm_dep_timer(struct api *a)
{
    int64_t first = 0;
    for (struct api_dep_wait *w = a->dep_waits; w; w = w->next)
        if (!first || w->deadline_mono < first) first = w->deadline_mono;
    if (!first) return;
    int64_t in = first - depot_mono_ms();
    lws_sul_schedule(a->d->lws, 0, &a->dep_timer, on_dep_timer, (in > 0 ? in : 0) * LWS_US_PER_MS);
}

/* control_plan_listener: a plan was solved (or failed); answer the departures it includes. */
static void on_plan(struct depot *d, uint64_t plan_id)
{
    struct api *a = d->api;
    if (!a) return;
    api_count_plan(a);
    for (struct api_dep_wait **pp = &a->dep_waits; *pp;) {
        struct api_dep_wait *w = *pp;
        if (plan_id >= w->min_plan) {
            *pp = w->next;
            dep_wait_finish(a, w, false);
        } else {
            pp = &w->next;
        }
    }
}

void api_vehicles_start(struct api *a) { control_plan_listener = on_plan; }

void api_vehicles_stop(struct api *a)
{
    control_plan_listener = NULL;
    if (a->d->lws) lws_sul_cancel(&a->dep_timer);
    while (a->dep_waits) {
        struct api_dep_wait *w = a->dep_waits;
        a->dep_waits = w->next;
        cJSON_Delete(w->doc);
        free(w);
    }
}

void api_put_departure(struct api *a, struct api_req *r, const cJSON *body)
{
    struct control_vehicle v;
    if (!api_vehicle_or_404(a, r, &v)) return;
    r->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(r->audit, "vehicle", v.id);
    if (!departure_may_change(a, r, &v)) return;
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
    if (has_e && v.battery_kwh > 0 && need.energy_kwh > v.battery_kwh) {
        api_problem(r, 422, "energy_kwh", "energy_kwh: %g kWh is more than the battery of %s holds (%g kWh)",
                    need.energy_kwh, v.id, v.battery_kwh);
        return;
    }
    if (has_soc && !(v.battery_kwh > 0)) {
        api_problem(r, 422, "target_soc", "target_soc: the battery capacity of %s is not known; give energy_kwh", v.id);
        return;
    }
    uint64_t min_plan = control_next_plan_id(a->d);
    char err[256];
    if (control_put_need(a->d, v.id, &need, r->token->name, 0, err, sizeof err)) {
        api_problem(r, 409, NULL, "the need cannot be set: %s", err);
        return;
    }
    struct control_need n;
    char who[CONTROL_FLEET_MAX + 1];
    int64_t set_ms = 0;
    control_get_need(a->d, v.id, &n, who, &set_ms);
    /* The replay at start gives the need this time back (the event's own time is a moment later). */
    cJSON_AddNumberToObject(r->audit, "set_ms", (double)set_ms);
    api_need_etag(v.id, true, &n, r->etag, sizeof r->etag);
    cJSON *o = api_departure_doc(v.id, &n, who, set_ms);
    if (!control_planning(a->d)) {
        cJSON_AddItemToObject(o, "plan", plan_status_simple("not_planned", "smart charging is off (control.enabled)"));
        api_reply(r, 200, o);
        return;
    }
    if (!control_vehicle_session(a->d, v.id, NULL, 0, NULL, NULL, 0)) {
        cJSON_AddItemToObject(o, "plan", plan_status_simple("not_plugged_in",
            "plans cover plugged-in vehicles; depotd plans this need when the vehicle's session starts"));
        api_reply(r, 200, o);
        return;
    }
    /* Recorded now (the change is in force); the answer waits for the plan that includes it. */
    api_log_write(a, r, 200, r->audit);
    struct api_dep_wait *w = calloc(1, sizeof *w);
    if (!w) {
        cJSON_AddItemToObject(o, "plan", plan_status(a, v.id, true));
        api_reply(r, 200, o);
        return;
    }
    w->serial = api_wait(a, r);
    w->min_plan = min_plan;
    w->deadline_mono = depot_mono_ms() + API_DEPARTURE_WAIT_MS;
    snprintf(w->vehicle, sizeof w->vehicle, "%s", v.id);
    snprintf(w->etag, sizeof w->etag, "%s", r->etag);
    w->doc = o;
    w->next = a->dep_waits;
    a->dep_waits = w;
    arm_dep_timer(a);
}

void api_delete_departure(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct control_vehicle v;
    if (!api_vehicle_or_404(a, r, &v)) return;
    r->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(r->audit, "vehicle", v.id);
    if (!departure_may_change(a, r, &v)) return;
    struct control_need n;
    if (!control_get_need(a->d, v.id, &n, NULL, NULL)) {
        api_problem(r, 404, "vehicle_id", "vehicle_id: \"%s\" has no departure set", v.id);
        return;
    }
    char err[256];
    if (control_put_need(a->d, v.id, NULL, r->token->name, 0, err, sizeof err)) {
        api_problem(r, 409, NULL, "the need cannot be cleared: %s", err);
        return;
    }
    api_reply(r, 204, NULL);
}
