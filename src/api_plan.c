/*
 * api_plan.c - GET /api/v1/plan: the plan in force, from the control loop's memory (control_plan_json), or with
 * ?at=TIME the plan that was in force then and the inputs it was computed from, read from the event log's
 * "plan" events (the audit trail) on the reader thread. Both answers have the same shape (schemas/openapi.json,
 * Plan); the one from the log adds `inputs`, the plan event as recorded.
 * Thread: the loop thread, except run_plan_at (reader thread).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "control.h"

#define PLAN_SCAN_MAX 200   /* plan events looked at before the time, to skip failed ones */

static double r3(double x) { return round(x * 1000) / 1000; }

static double num_at(const cJSON *arr, int i)
{
    const cJSON *x = cJSON_GetArrayItem(arr, i);
    return cJSON_IsNumber(x) ? x->valuedouble : 0;
}

/* Where slot t of a recorded plan starts: slot 0 may be cut in parts (first_part_s, where sessions leave). */
static int64_t slot_start(int64_t start_ms, int64_t first_end, int64_t slot_ms, const cJSON *parts, int t)
{
    int n = cJSON_GetArraySize(parts) > 1 ? cJSON_GetArraySize(parts) : 1;
    if (t >= n) return first_end + (int64_t)(t - n) * slot_ms;
    int64_t at = start_ms;
    for (int k = 0; k < t; k++) at += (int64_t)llround(num_at(parts, k) * 1000);
    return at;
}

/* When a plan's slots start: the first is cut short (first_slot_s) or in parts (first_part_s). */
struct plan_time {
    int64_t start_ms, first_end, slot_ms;
    const cJSON *parts;
    int n;
};

static int64_t slot_at(const struct plan_time *pt, int t)
{
    return slot_start(pt->start_ms, pt->first_end, pt->slot_ms, pt->parts, t);
}

/* Per slot: its times, the site's planned kW against the limit, the price and where it came from. */
static cJSON *plan_slots(const struct plan_time *pt, const cJSON *rec, const cJSON *kw)
{
    const cJSON *prices = cJSON_GetObjectItemCaseSensitive(rec, "prices");
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(rec, "price_sources");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(rec, "site_limit_kw");
    const cJSON *lp_limit = cJSON_GetObjectItemCaseSensitive(rec, "lp_site_limit_kw");
    cJSON *slots = cJSON_CreateArray();
    for (int t = 0; t < pt->n; t++) {
        cJSON *s = cJSON_CreateObject();
        api_add_time(s, "start", slot_at(pt, t));
        api_add_time(s, "end", slot_at(pt, t + 1));
        double site = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, kw) site += num_at(row, t);
        cJSON_AddNumberToObject(s, "site_kw", r3(site));
        cJSON_AddNumberToObject(s, "site_limit_kw", num_at(limit, t));
        cJSON_AddNumberToObject(s, "planned_limit_kw", num_at(lp_limit ? lp_limit : limit, t));
        const cJSON *src = cJSON_GetArrayItem(sources, t);
        if (cJSON_GetArrayItem(prices, t)) cJSON_AddNumberToObject(s, "price", num_at(prices, t));
        else cJSON_AddNullToObject(s, "price");
        cJSON_AddStringToObject(s, "price_source", cJSON_IsString(src) ? src->valuestring : "none");
        cJSON_AddItemToArray(slots, s);
    }
    return slots;
}

/* One session of a plan into evses (what it plans, what it leaves short) and, when at risk, into risk. */
static void plan_session(const struct plan_time *pt, const cJSON *in, const cJSON *row, double at_risk_kwh,
                         cJSON *evses, cJSON *risk)
{
    const char *names[] = {"station", "transaction", "vehicle", "need_source", "departure"};
    const char *str[5];
    for (int k = 0; k < 5; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(in, names[k]);
        str[k] = cJSON_IsString(x) ? x->valuestring : "";
    }
    double planned = 0;
    for (int t = 0; t < pt->n; t++) {
        double h = (double)(slot_at(pt, t + 1) - slot_at(pt, t)) / 3600000.0;
        planned += num_at(row, t) * h;
    }
    double remaining = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "remaining_kwh"));
    bool best_effort = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "best_effort"));
    /* What the departure hedge leaves for after its earlier time (hedge_kwh) is no shortfall (control.c). */
    double hedge = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "hedge_kwh"));
    double short_kwh = fmax(0, remaining - planned - (isnan(hedge) ? 0 : hedge));
    bool at_risk = !best_effort && short_kwh > at_risk_kwh;
    int64_t dep_ms = 0;
    if (str[4][0]) ocpp_time_parse(str[4], &dep_ms);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "station_id", str[0]);
    cJSON_AddNumberToObject(e, "evse_id", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "evse")));
    cJSON_AddStringToObject(e, "transaction_id", str[1]);
    if (str[2][0]) cJSON_AddStringToObject(e, "vehicle_id", str[2]);
    else cJSON_AddNullToObject(e, "vehicle_id");
    cJSON_AddStringToObject(e, "need_source", str[3]);
    api_add_time(e, "departure", dep_ms);
    cJSON_AddNumberToObject(e, "need_kwh", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "need_kwh")));
    cJSON_AddNumberToObject(e, "remaining_kwh", remaining);
    cJSON_AddNumberToObject(e, "planned_kwh", r3(planned));
    cJSON_AddNumberToObject(e, "shortfall_kwh", r3(short_kwh));
    cJSON_AddBoolToObject(e, "at_risk", at_risk);
    cJSON_AddItemToObject(e, "kw", row ? cJSON_Duplicate(row, true) : cJSON_CreateArray());
    cJSON_AddItemToArray(evses, e);
    if (at_risk) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "station_id", str[0]);
        cJSON_AddNumberToObject(x, "evse_id", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "evse")));
        if (str[2][0]) cJSON_AddStringToObject(x, "vehicle_id", str[2]);
        else cJSON_AddNullToObject(x, "vehicle_id");
        api_add_time(x, "departure", dep_ms);
        cJSON_AddNumberToObject(x, "shortfall_kwh", r3(short_kwh));
        cJSON_AddItemToArray(risk, x);
    }
}

/* A "plan" event's record (inputs and result) as a Plan document. */
static cJSON *plan_from_record(cJSON *rec, long long seq, int64_t time_ms, double at_risk_kwh)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(rec, "start");
    int64_t start_ms = 0;
    if (!cJSON_IsString(start) || ocpp_time_parse(start->valuestring, &start_ms)) return NULL;
    int T = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "slots"));
    double slot_min = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "slot_minutes"));
    double first_s = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "first_slot_s"));
    if (T <= 0 || T > 10000 || !(slot_min > 0) || isnan(first_s)) return NULL;
    int64_t slot_ms = (int64_t)(slot_min * 60000), first_end = start_ms + (int64_t)llround(first_s * 1000);
    const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(rec, "sessions");
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(res, "kw");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(rec, "first_part_s");

    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "plan_id", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "plan")));
    cJSON_AddStringToObject(o, "source", "event_log");
    cJSON_AddNumberToObject(o, "event_seq", (double)seq);
    api_add_time(o, "recorded_at", time_ms);
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(rec, "reasons");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(res, "method");
    cJSON_AddStringToObject(o, "reasons", cJSON_IsString(reasons) ? reasons->valuestring : "");
    cJSON_AddStringToObject(o, "method", cJSON_IsString(method) ? method->valuestring : "");
    api_add_time(o, "start", start_ms);
    cJSON_AddNumberToObject(o, "slot_minutes", slot_min);
    cJSON_AddNumberToObject(o, "expected_cost", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "cost")));
    cJSON_AddNumberToObject(o, "shortfall_kwh",
                            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "shortfall_kwh")));
    cJSON_AddNumberToObject(o, "solve_ms", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "solve_ms")));
    const struct plan_time pt = {start_ms, first_end, slot_ms, parts, T};
    cJSON_AddItemToObject(o, "slots", plan_slots(&pt, rec, kw));
    cJSON *evses = cJSON_AddArrayToObject(o, "evses");
    cJSON *risk = cJSON_AddArrayToObject(o, "sessions_at_risk");
    int i = 0;
    const cJSON *in;
    cJSON_ArrayForEach(in, sessions) plan_session(&pt, in, cJSON_GetArrayItem(kw, i++), at_risk_kwh, evses, risk);
    cJSON *inputs = cJSON_Duplicate(rec, true);
    cJSON_DeleteItemFromObjectCaseSensitive(inputs, "result");
    cJSON_AddItemToObject(o, "inputs", inputs);
    return o;
}

static bool listed(const cJSON *ids, const cJSON *id)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, ids) if (cJSON_IsString(id) && cJSON_IsString(x) && strcmp(x->valuestring, id->valuestring) == 0)
        return true;
    return false;
}

void api_plan_scope(cJSON *plan, const cJSON *vehicles)
{
    static const char *const arrays[] = {"evses", "sessions_at_risk"};
    for (int k = 0; k < 2; k++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(plan, arrays[k]), *next;
        for (cJSON *e = arr ? arr->child : NULL; e; e = next) {
            next = e->next;
            if (!listed(vehicles, cJSON_GetObjectItemCaseSensitive(e, "vehicle_id")))
                cJSON_Delete(cJSON_DetachItemViaPointer(arr, e));
        }
    }
    /* The inputs hold every fleet's sessions: the slots (limits, prices) above say what a fleet needs of them. */
    cJSON_DeleteItemFromObjectCaseSensitive(plan, "inputs");
}

/* Reader thread: the solved plan in force at `at`, a time on depotd's planning clock like every other time of
 * the API: the one with the latest planning-clock start (the record's "start") at or before it. Not the time
 * the event was recorded: that is the real clock, hours or days away from a simulated planning clock. */
static int run_plan_at(sqlite3 *db, struct api_job *job)
{
    int64_t at = (int64_t)api_in_num(job, "at", 0);
    double at_risk_kwh = api_in_num(job, "at_risk_kwh", 0);
    char at_text[40];
    ocpp_time_format(at, at_text);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, STORE_SQL_PLANS_AT, -1, &s, NULL) != SQLITE_OK) return api_db_error(job, db);
    sqlite3_bind_text(s, 1, at_text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, PLAN_SCAN_MAX);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *rec = cJSON_Parse((const char *)sqlite3_column_text(s, 2));
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
        if (res && !cJSON_GetObjectItemCaseSensitive(res, "error")) {
            job->out = plan_from_record(rec, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), at_risk_kwh);
            const cJSON *fv = cJSON_GetObjectItemCaseSensitive(job->in, "fleet_vehicles");
            if (job->out && fv) api_plan_scope(job->out, fv);
            cJSON_Delete(rec);
            if (job->out) break;
            continue;
        }
        cJSON_Delete(rec);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize(s);
        return api_db_error(job, db);
    }
    sqlite3_finalize(s);
    if (!job->out) return api_job_problem(job, 404, "at", "at: no plan was solved at or before that time");
    return 200;
}

void api_get_plan(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    int64_t at = 0;
    int has_at = api_arg_time(r, "at", &at);
    if (has_at < 0) return;
    if (has_at) {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddNumberToObject(in, "at", (double)at);
        cJSON_AddNumberToObject(in, "at_risk_kwh", control_at_risk_kwh(a->d));
        cJSON *scope = api_fleet_scope(a, r, false);
        if (scope) cJSON_AddItemToObject(in, "fleet_vehicles", scope);
        api_reader_submit(a, r, run_plan_at, in);
        return;
    }
    cJSON *o = control_plan_json(a->d);
    if (!o) {
        api_problem(r, 404, NULL, "no plan in force yet%s", control_planning(a->d) ? " (the first one is being solved)"
                                                                                  : ": smart charging is off");
        return;
    }
    cJSON *scope = api_fleet_scope(a, r, false);
    if (scope) api_plan_scope(o, scope);
    cJSON_Delete(scope);
    api_reply(r, 200, o);
}
