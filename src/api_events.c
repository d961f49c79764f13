/*
 * api_events.c - GET /api/v1/events: the event log, a page at a time, filtered by type, station, vehicle and
 * time. The scan walks the log in windows of seq numbers, so a filter that matches rarely still costs a bounded
 * number of rows per request: past EVENTS_SCAN_MAX rows the page ends early with a cursor to go on from.
 * The SQL runs on the reader thread (api_reader.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define EVENTS_WINDOW 20000        /* log rows per scan step */
#define EVENTS_SCAN_MAX 400000     /* log rows one request may scan; past it the page ends with a cursor */
#define EVENTS_PAGE_BYTES (1 << 20)

static const char *col_text(sqlite3_stmt *s, int i) { return (const char *)sqlite3_column_text(s, i); }

/* ---- events ----------------------------------------------------------------------------------------- */

/* One row of the log as the API shows it. */
static cJSON *event_from_row(sqlite3_stmt *s)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "seq", (double)sqlite3_column_int64(s, 0));
    api_col_time(e, "time", s, 1);
    api_col_str(e, "type", s, 2);
    api_col_str(e, "station", s, 3);
    if (sqlite3_column_type(s, 4) == SQLITE_NULL) cJSON_AddNullToObject(e, "message_type");
    else cJSON_AddNumberToObject(e, "message_type", sqlite3_column_int(s, 4));
    api_col_str(e, "action", s, 5);
    api_col_str(e, "message_id", s, 6);
    api_col_str(e, "status", s, 7);
    cJSON *data = api_json_or_string(col_text(s, 8));
    /* A registry event keeps the station's password hash for the projection; nobody reads it back. */
    if (cJSON_GetObjectItemCaseSensitive(data, "password_hash"))
        cJSON_ReplaceItemInObjectCaseSensitive(data, "password_hash", cJSON_CreateString("(redacted)"));
    cJSON_AddItemToObject(e, "data", data);
    return e;
}

/* The log's bounds (lo, hi) and where a page starts: after the cursor, or at the first event of the time range. */
static int scan_start(sqlite3 *db, const struct api_job *job, sqlite3_int64 *lo, sqlite3_int64 *hi,
                      sqlite3_int64 *pos)
{
    bool desc = api_in_num(job, "desc", 0) != 0;
    int64_t since = (int64_t)api_in_num(job, "since", 0), until = (int64_t)api_in_num(job, "until", 0);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT min(seq), max(seq) FROM events", -1, &s, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(s) == SQLITE_ROW) *lo = sqlite3_column_int64(s, 0), *hi = sqlite3_column_int64(s, 1);
    sqlite3_finalize(s);
    double cursor = api_in_num(job, "cursor", -1);
    if (cursor >= 0) {
        *pos = desc ? (sqlite3_int64)cursor - 1 : (sqlite3_int64)cursor + 1;
        return 0;
    }
    if (!(desc ? until : since)) {
        *pos = desc ? *hi : *lo;
        return 0;
    }
    /* A start, not a filter (the filter stays exact even if the wall clock once went back). */
    *pos = desc ? *lo - 1 : *hi + 1;
    if (sqlite3_prepare_v2(db,
                           desc ? "SELECT seq FROM events WHERE time_ms < ? ORDER BY time_ms DESC LIMIT 1"
                                : "SELECT seq FROM events WHERE time_ms >= ? ORDER BY time_ms LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, desc ? until : since);
    if (sqlite3_step(s) == SQLITE_ROW) *pos = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

static int run_events(sqlite3 *db, struct api_job *job)
{
    bool desc = api_in_num(job, "desc", 0) != 0;
    int limit = (int)api_in_num(job, "limit", API_PAGE_DEFAULT);
    int64_t since = (int64_t)api_in_num(job, "since", 0), until = (int64_t)api_in_num(job, "until", 0);
    const char *type = api_in_str(job, "type"), *station = api_in_str(job, "station");
    const char *vehicle = api_in_str(job, "vehicle");
    /* The configuration and the station registry are the admin's: they name files, providers and stations. */
    bool admin = api_in_num(job, "admin", 0) != 0;
    /* A fleet-scoped token reads the events about its fleet's vehicles only. */
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(job->in, "fleet_vehicles");
    char *scope = fv ? cJSON_PrintUnformatted(fv) : NULL;
    sqlite3_stmt *s = NULL;
    int rc = -1;
    cJSON *out = NULL;
    /* The log's bounds, and where to start. */
    sqlite3_int64 lo = 0, hi = 0, pos;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK || scan_start(db, job, &lo, &hi, &pos)) goto fail;
    char sql[900];
    snprintf(sql, sizeof sql,
             "SELECT seq, time_ms, type, station, msg_type, action, message_id, status, data FROM events"
             " WHERE seq BETWEEN ?1 AND ?2"
             " AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR station = ?4)"
             " AND (?5 IS NULL OR time_ms >= ?5) AND (?6 IS NULL OR time_ms < ?6)"
             " AND (?7 IS NULL OR (json_valid(data) AND json_type(data) = 'object'"
             "      AND json_extract(data, '$.vehicle') = ?7))"
             " AND (?9 OR type NOT IN ('" STORE_EV_CONFIG "', '" STORE_EV_REGISTRY "'))"
             " AND (?10 IS NULL OR (json_valid(data) AND json_type(data) = 'object'"
             "      AND json_extract(data, '$.vehicle') IN (SELECT value FROM json_each(?10))))"
             " ORDER BY seq %s LIMIT ?8",
             desc ? "DESC" : "ASC");
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) goto fail;
    out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    int n = 0;
    size_t bytes = 0;
    sqlite3_int64 scanned = 0, last = -1;
    bool full = false;
    while (!full && scanned < EVENTS_SCAN_MAX && (desc ? pos >= lo : pos <= hi) && hi > 0) {
        sqlite3_int64 a = desc ? pos - EVENTS_WINDOW + 1 : pos, b = desc ? pos : pos + EVENTS_WINDOW - 1;
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, a);
        sqlite3_bind_int64(s, 2, b);
        if (type) sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
        if (station) sqlite3_bind_text(s, 4, station, -1, SQLITE_STATIC);
        if (since) sqlite3_bind_int64(s, 5, since);
        if (until) sqlite3_bind_int64(s, 6, until);
        if (vehicle) sqlite3_bind_text(s, 7, vehicle, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 8, limit - n);
        sqlite3_bind_int(s, 9, admin);
        if (scope) sqlite3_bind_text(s, 10, scope, -1, SQLITE_STATIC);
        int step;
        while ((step = sqlite3_step(s)) == SQLITE_ROW) {
            cJSON *e = event_from_row(s);
            cJSON_AddItemToArray(items, e);
            bytes += (size_t)sqlite3_column_bytes(s, 8) + 128;
            last = sqlite3_column_int64(s, 0);
            if (++n >= limit || bytes >= EVENTS_PAGE_BYTES) {
                full = true;
                break;
            }
        }
        if (step != SQLITE_ROW && step != SQLITE_DONE) goto fail;
        if (!full) {
            /* The whole window was examined without filling the page: go on from its far end. */
            last = desc ? a : b;
            pos = desc ? a - 1 : b + 1;
            scanned += EVENTS_WINDOW;
        }
    }
    sqlite3_finalize(s);
    s = NULL;
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    /* More may follow unless the scan ran off the end of the log. */
    bool end = full ? (desc ? last <= lo : last >= hi) : (desc ? pos < lo : pos > hi) || hi == 0;
    api_add_cursor(out, !end && last >= 0, last);
    job->out = out;
    cJSON_free(scope);
    return 200;
fail:
    rc = api_db_error(job, db);
    sqlite3_finalize(s);
    cJSON_Delete(out);
    cJSON_free(scope);
    return rc;
}

void api_get_events(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    (void)a;
    int limit = api_arg_limit(r);
    int64_t since = 0, until = 0;
    long long cursor = -1;
    if (limit < 0 || api_arg_time(r, "since", &since) < 0 || api_arg_time(r, "until", &until) < 0 ||
        !api_arg_cursor(r, &cursor))
        return;
    char order[8] = "asc";
    api_arg(r, "order", order, sizeof order);
    if (strcmp(order, "asc") && strcmp(order, "desc")) {
        api_problem(r, 400, "order", "order: must be asc or desc");
        return;
    }
    cJSON *in = cJSON_CreateObject();
    cJSON_AddNumberToObject(in, "limit", limit);
    cJSON_AddNumberToObject(in, "desc", order[0] == 'd');
    cJSON_AddNumberToObject(in, "admin", r->token && r->token->role == API_ADMIN);
    cJSON *scope = api_fleet_scope(a, r, false);
    if (scope) cJSON_AddItemToObject(in, "fleet_vehicles", scope);
    if (cursor >= 0) cJSON_AddNumberToObject(in, "cursor", (double)cursor);
    if (since) cJSON_AddNumberToObject(in, "since", (double)since);
    if (until) cJSON_AddNumberToObject(in, "until", (double)until);
    static const char *const filters[] = {"type", "station", "vehicle"};
    for (int i = 0; i < 3; i++) {
        char buf[API_PARAM_MAX];
        if (api_arg(r, filters[i], buf, sizeof buf)) cJSON_AddStringToObject(in, filters[i], buf);
    }
    api_reader_submit(a, r, run_events, in);
}
