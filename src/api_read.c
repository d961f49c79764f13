/*
 * api_read.c - GET stations, sessions and events: the loop side takes the query apart and captures what only
 * the loop knows (the registry, who is connected right now, which id tokens belong to which vehicle); the
 * SQL runs on the reader thread (api_reader.c) against the projections and the event log.
 *
 * Every page is bounded: at most `limit` rows (API_PAGE_MAX), events also by bytes and by how many log rows
 * one request may scan, so no query can run for long even on a log of millions of events.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define EVENTS_WINDOW 20000        /* log rows per scan step */
#define EVENTS_SCAN_MAX 400000     /* log rows one request may scan; past it the page ends with a cursor */
#define EVENTS_PAGE_BYTES (1 << 20)
#define METER_PAGE_DEFAULT 500
#define METER_PAGE_MAX 5000

static const char *col_text(sqlite3_stmt *s, int i) { return (const char *)sqlite3_column_text(s, i); }

/* ---- sessions: shared shape ------------------------------------------------------------------------- */

#define TX_COLUMNS                                                                                             \
    "rowid, station, id, evse_id, connector_id, id_token, id_token_type, started_ms, ended_ms, last_event_ms,"  \
    " charging_state, stopped_reason, energy_first_wh, energy_last_wh, energy_last_ms"

static cJSON *session_from_row(sqlite3_stmt *s, const cJSON *token_vehicle)
{
    cJSON *o = cJSON_CreateObject();
    char id[API_PARAM_MAX];
    snprintf(id, sizeof id, "%s:%s", col_text(s, 1) ? col_text(s, 1) : "", col_text(s, 2) ? col_text(s, 2) : "");
    cJSON_AddStringToObject(o, "id", id);
    api_col_str(o, "station", s, 1);
    api_col_str(o, "transaction_id", s, 2);
    api_col_num(o, "evse_id", s, 3, 1);
    api_col_num(o, "connector_id", s, 4, 1);
    api_col_str(o, "id_token", s, 5);
    api_col_str(o, "id_token_type", s, 6);
    const cJSON *veh = col_text(s, 5) ? cJSON_GetObjectItemCaseSensitive(token_vehicle, col_text(s, 5)) : NULL;
    if (cJSON_IsString(veh)) cJSON_AddStringToObject(o, "vehicle", veh->valuestring);
    else cJSON_AddNullToObject(o, "vehicle");
    cJSON_AddBoolToObject(o, "active", sqlite3_column_type(s, 8) == SQLITE_NULL);
    api_col_time(o, "started_at", s, 7);
    api_col_time(o, "ended_at", s, 8);
    api_col_time(o, "last_event_at", s, 9);
    api_col_str(o, "charging_state", s, 10);
    api_col_str(o, "stopped_reason", s, 11);
    if (sqlite3_column_type(s, 12) != SQLITE_NULL && sqlite3_column_type(s, 13) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, "energy_kwh", (sqlite3_column_double(s, 13) - sqlite3_column_double(s, 12)) / 1000.0);
    else cJSON_AddNullToObject(o, "energy_kwh");
    api_col_num(o, "meter_kwh", s, 13, 0.001);
    api_col_time(o, "meter_at", s, 14);
    return o;
}

/* ---- stations --------------------------------------------------------------------------------------- */

/* The EVSEs of a station from the connectors projection, each with its session in progress. */
static cJSON *station_evses(sqlite3 *db, const char *station, const cJSON *token_vehicle)
{
    cJSON *evses = cJSON_CreateArray();
    sqlite3_stmt *s = NULL, *t = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT evse_id, connector_id, status, updated_ms FROM connectors WHERE station = ?"
                       " ORDER BY evse_id, connector_id",
                       -1, &s, NULL);
    sqlite3_prepare_v2(db,
                       "SELECT " TX_COLUMNS " FROM transactions WHERE station = ? AND evse_id = ? AND ended_ms IS NULL"
                       " ORDER BY started_ms DESC LIMIT 1",
                       -1, &t, NULL);
    if (!s || !t) goto out;
    sqlite3_bind_text(s, 1, station, -1, SQLITE_STATIC);
    cJSON *evse = NULL;
    int evse_id = -1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int e = sqlite3_column_int(s, 0);
        if (!evse || e != evse_id) {
            evse_id = e;
            evse = cJSON_CreateObject();
            cJSON_AddNumberToObject(evse, "id", e);
            cJSON_AddItemToObject(evse, "connectors", cJSON_CreateArray());
            sqlite3_reset(t);
            sqlite3_bind_text(t, 1, station, -1, SQLITE_STATIC);
            sqlite3_bind_int(t, 2, e);
            cJSON_AddItemToObject(evse, "session",
                                  sqlite3_step(t) == SQLITE_ROW ? session_from_row(t, token_vehicle) : cJSON_CreateNull());
            cJSON_AddItemToArray(evses, evse);
        }
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", sqlite3_column_int(s, 1));
        api_col_str(c, "status", s, 2);
        api_col_time(c, "updated_at", s, 3);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(evse, "connectors"), c);
    }
out:
    sqlite3_finalize(s);
    sqlite3_finalize(t);
    return evses;
}

/* The station's projection row over what the loop captured (registry boot, connected). */
static void station_fill(sqlite3 *db, cJSON *o, const char *id, const cJSON *token_vehicle)
{
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT boot_status, vendor, model, serial_number, firmware_version, boot_reason, last_boot_ms,"
                       " connected_ms, disconnected_ms, last_seen_ms FROM stations WHERE id = ?",
                       -1, &s, NULL);
    bool row = false;
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        row = sqlite3_step(s) == SQLITE_ROW;
    }
    static const char *const text_cols[] = {"boot_status", "vendor", "model", "serial_number", "firmware_version",
                                            "boot_reason"};
    static const char *const time_cols[] = {"last_boot_at", "connected_at", "disconnected_at", "last_seen_at"};
    for (int i = 0; i < 6; i++) {
        if (row) api_col_str(o, text_cols[i], s, i);
        else cJSON_AddNullToObject(o, text_cols[i]);
    }
    for (int i = 0; i < 4; i++) {
        if (row) api_col_time(o, time_cols[i], s, 6 + i);
        else cJSON_AddNullToObject(o, time_cols[i]);
    }
    sqlite3_finalize(s);
    cJSON_AddItemToObject(o, "evses", station_evses(db, id, token_vehicle));
}

static int run_stations(sqlite3 *db, struct api_job *job)
{
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(job->in, "items");
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(job->in, "token_vehicle");
    cJSON *st;
    cJSON_ArrayForEach(st, items) station_fill(db, st, cJSON_GetObjectItemCaseSensitive(st, "id")->valuestring, tv);
    job->out = cJSON_CreateObject();
    cJSON_AddItemToObject(job->out, "items", items);
    cJSON *next = cJSON_DetachItemFromObjectCaseSensitive(job->in, "next_cursor");
    cJSON_AddItemToObject(job->out, "next_cursor", next ? next : cJSON_CreateNull());
    return 200;
}

static int run_station(sqlite3 *db, struct api_job *job)
{
    cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(job->in, "station");
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(job->in, "token_vehicle");
    const char *id = cJSON_GetObjectItemCaseSensitive(o, "id")->valuestring;
    station_fill(db, o, id, tv);
    /* What the station told about itself (GetVariables), and limits set on it by others (grid operator, EMS). */
    cJSON *caps = cJSON_AddArrayToObject(o, "capabilities");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT " API_VARIABLE_COLUMNS " FROM capabilities WHERE station = ?"
                           " ORDER BY component, evse_id, variable LIMIT 500",
                           -1, &s, NULL) != SQLITE_OK) {
        cJSON_Delete(o);
        return api_db_error(job, db);
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON_AddItemToArray(caps, api_variable_from_row(s, 0));
    }
    sqlite3_finalize(s);
    cJSON *limits = cJSON_AddArrayToObject(o, "charging_limits");
    if (sqlite3_prepare_v2(db,
                           "SELECT evse_id, source, grid_critical, updated_ms, payload FROM charging_limits"
                           " WHERE station = ? AND cleared = 0 ORDER BY evse_id, source",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "evse_id", sqlite3_column_int(s, 0));
            api_col_str(c, "source", s, 1);
            if (sqlite3_column_type(s, 2) == SQLITE_NULL) cJSON_AddNullToObject(c, "grid_critical");
            else cJSON_AddBoolToObject(c, "grid_critical", sqlite3_column_int(s, 2) != 0);
            api_col_time(c, "updated_at", s, 3);
            cJSON_AddItemToObject(c, "notification", api_json_or_string(col_text(s, 4)));
            cJSON_AddItemToArray(limits, c);
        }
        sqlite3_finalize(s);
    }
    cJSON *profiles = cJSON_AddArrayToObject(o, "reported_profiles");
    if (sqlite3_prepare_v2(db,
                           "SELECT evse_id, source, profile_id, request_id, purpose, stack_level, updated_ms, profile"
                           " FROM reported_profiles WHERE station = ? ORDER BY evse_id, purpose, stack_level",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "evse_id", sqlite3_column_int(s, 0));
            api_col_str(c, "source", s, 1);
            cJSON_AddNumberToObject(c, "id", (double)sqlite3_column_int64(s, 2));
            cJSON_AddNumberToObject(c, "request_id", (double)sqlite3_column_int64(s, 3));
            api_col_str(c, "purpose", s, 4);
            cJSON_AddNumberToObject(c, "stack_level", sqlite3_column_int(s, 5));
            api_col_time(c, "reported_at", s, 6);
            cJSON_AddItemToObject(c, "profile", api_json_or_string(col_text(s, 7)));
            cJSON_AddItemToArray(profiles, c);
        }
        sqlite3_finalize(s);
    }
    job->out = o;
    return 200;
}

static cJSON *station_live(const struct station *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", st->id);
    cJSON_AddStringToObject(o, "registry_boot", cfg_boot_name(st->registry_boot));
    cJSON_AddBoolToObject(o, "connected", st->conn != NULL);
    if (st->clock.known) cJSON_AddNumberToObject(o, "clock_offset_s", round((double)st->clock.offset_ms / 100.0) / 10.0);
    else cJSON_AddNullToObject(o, "clock_offset_s");
    return o;
}

static int cmp_station(const void *x, const void *y)
{
    return strcmp((*(const struct station *const *)x)->id, (*(const struct station *const *)y)->id);
}

void api_get_stations(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    int limit = api_arg_limit(r);
    int connected = api_arg_bool(r, "connected");
    if (limit < 0 || connected < 0) return;
    char cursor[API_PARAM_MAX] = "";
    api_arg(r, "cursor", cursor, sizeof cursor);
    struct depot *d = a->d;
    /* The registry is the list of stations depotd knows (config and auto-registered), in id order. Sorting it
     * per request is fine for the thousands of stations a depot has (max_stations). */
    struct station **v = malloc((d->n_stations ? d->n_stations : 1) * sizeof *v);
    if (!v) {
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    size_t n = 0;
    for (size_t b = 0; b < d->n_buckets; b++)
        for (struct station *s = d->buckets[b]; s; s = s->next)
            if (strcmp(s->id, cursor) > 0 && (connected == 2 || (s->conn != NULL) == (connected == 1)) &&
                n < d->n_stations)
                v[n++] = s;
    qsort(v, n, sizeof *v, cmp_station);
    cJSON *in = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(in, "items");
    for (size_t i = 0; i < n && i < (size_t)limit; i++) cJSON_AddItemToArray(items, station_live(v[i]));
    if (n > (size_t)limit) cJSON_AddStringToObject(in, "next_cursor", v[limit - 1]->id);
    free(v);
    cJSON_AddItemToObject(in, "token_vehicle", api_token_vehicles(a));
    api_reader_submit(a, r, run_stations, in);
}

void api_get_station(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct station *st = depot_station_find(a->d, r->params[0]);
    if (!st) {
        api_problem(r, 404, "station_id", "station_id: no station \"%s\" is known", r->params[0]);
        return;
    }
    cJSON *in = cJSON_CreateObject();
    cJSON_AddItemToObject(in, "station", station_live(st));
    cJSON_AddItemToObject(in, "token_vehicle", api_token_vehicles(a));
    api_reader_submit(a, r, run_station, in);
}

/* ---- sessions --------------------------------------------------------------------------------------- */

static int run_sessions(sqlite3 *db, struct api_job *job)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT " TX_COLUMNS " FROM transactions WHERE rowid < ?1"
             " AND (?2 IS NULL OR (?2 = 1) = (ended_ms IS NULL))"
             " AND (?3 IS NULL OR station = ?3)"
             " AND (?4 IS NULL OR id_token IN (SELECT value FROM json_each(?4)))"
             " AND (?5 IS NULL OR ended_ms IS NULL OR ended_ms >= ?5)"
             " AND (?6 IS NULL OR started_ms < ?6)"
             " AND (?8 IS NULL OR id_token IN (SELECT value FROM json_each(?8)))"
             " ORDER BY rowid DESC LIMIT ?7");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return api_db_error(job, db);
    int limit = (int)api_in_num(job, "limit", API_PAGE_DEFAULT);
    sqlite3_bind_int64(s, 1, (sqlite3_int64)api_in_num(job, "cursor", 9.2e18));
    double active = api_in_num(job, "active", -1);
    if (active >= 0) sqlite3_bind_int(s, 2, (int)active);
    if (api_in_str(job, "station")) sqlite3_bind_text(s, 3, api_in_str(job, "station"), -1, SQLITE_STATIC);
    char *tokens = NULL;
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(job->in, "tokens");
    if (tk) {
        tokens = cJSON_PrintUnformatted(tk);
        sqlite3_bind_text(s, 4, tokens, -1, SQLITE_STATIC);
    }
    if (api_in_num(job, "since", 0)) sqlite3_bind_int64(s, 5, (sqlite3_int64)api_in_num(job, "since", 0));
    if (api_in_num(job, "until", 0)) sqlite3_bind_int64(s, 6, (sqlite3_int64)api_in_num(job, "until", 0));
    sqlite3_bind_int(s, 7, limit + 1);
    char *scope = NULL; /* a fleet-scoped token: the sessions of its vehicles' id tokens only */
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(job->in, "fleet_tokens");
    if (fs) {
        scope = cJSON_PrintUnformatted(fs);
        sqlite3_bind_text(s, 8, scope, -1, SQLITE_STATIC);
    }
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(job->in, "token_vehicle");
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
    int n = 0, rc;
    sqlite3_int64 last = 0;
    bool more = false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(items, session_from_row(s, tv));
        last = sqlite3_column_int64(s, 0);
        n++;
    }
    sqlite3_finalize(s);
    cJSON_free(tokens);
    cJSON_free(scope);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cJSON_Delete(out);
        return api_db_error(job, db);
    }
    api_add_cursor(out, more, last);
    job->out = out;
    return 200;
}

/* Which id tokens belong to a vehicle: id_tokens[].vehicle and control.vehicles[].id_tokens. */
static cJSON *vehicle_tokens(struct api *a, const char *vehicle)
{
    cJSON *arr = cJSON_CreateArray(), *map = api_token_vehicles(a);
    const cJSON *it;
    cJSON_ArrayForEach(it, map)
        if (cJSON_IsString(it) && strcmp(it->valuestring, vehicle) == 0)
            cJSON_AddItemToArray(arr, cJSON_CreateString(it->string));
    cJSON_Delete(map);
    return arr;
}

void api_get_sessions(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    int limit = api_arg_limit(r);
    int active = limit < 0 ? 0 : api_arg_bool(r, "active");
    int64_t since = 0, until = 0;
    long long cursor = -1;
    if (limit < 0 || active < 0 || api_arg_time(r, "since", &since) < 0 || api_arg_time(r, "until", &until) < 0 ||
        !api_arg_cursor(r, &cursor))
        return;
    cJSON *in = cJSON_CreateObject();
    cJSON_AddNumberToObject(in, "limit", limit);
    if (cursor >= 0) cJSON_AddNumberToObject(in, "cursor", (double)cursor);
    if (active != 2) cJSON_AddNumberToObject(in, "active", active);
    char station[API_PARAM_MAX], vehicle[API_PARAM_MAX];
    if (api_arg(r, "station", station, sizeof station)) cJSON_AddStringToObject(in, "station", station);
    if (api_arg(r, "vehicle", vehicle, sizeof vehicle)) cJSON_AddItemToObject(in, "tokens", vehicle_tokens(a, vehicle));
    if (since) cJSON_AddNumberToObject(in, "since", (double)since);
    if (until) cJSON_AddNumberToObject(in, "until", (double)until);
    cJSON_AddItemToObject(in, "token_vehicle", api_token_vehicles(a));
    cJSON *scope = api_fleet_scope(a, r, true);
    if (scope) cJSON_AddItemToObject(in, "fleet_tokens", scope);
    api_reader_submit(a, r, run_sessions, in);
}

/* A session's TransactionEvents, in seqNo order. */
static cJSON *session_events(sqlite3 *db, const char *station, const char *tx)
{
    sqlite3_stmt *s;
    cJSON *evs = cJSON_CreateArray();
    if (sqlite3_prepare_v2(db,
                           "SELECT seq_no, event_type, time_ms, offline, trigger_reason FROM transaction_events"
                           " WHERE station = ? AND transaction_id = ? ORDER BY seq_no LIMIT 1000",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, station, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, tx, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "seq_no", sqlite3_column_int(s, 0));
            api_col_str(e, "event_type", s, 1);
            api_col_time(e, "time", s, 2);
            cJSON_AddBoolToObject(e, "offline", sqlite3_column_int(s, 3) != 0);
            api_col_str(e, "trigger_reason", s, 4);
            cJSON_AddItemToArray(evs, e);
        }
        sqlite3_finalize(s);
    }
    return evs;
}

/* The EV's own needs (NotifyEVChargingNeeds) on the EVSE of a running session, or null. */
static cJSON *session_needs(sqlite3 *db, const char *station, int evse)
{
    sqlite3_stmt *s;
    cJSON *needs = cJSON_CreateNull();
    if (sqlite3_prepare_v2(db,
                                     "SELECT departure_ms, energy_wh, requested_transfer, ev_max_power_w,"
                                     " state_of_charge, updated_ms FROM ev_needs WHERE station = ? AND evse_id = ?",
                                     -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, station, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, evse);
        if (sqlite3_step(s) == SQLITE_ROW) {
            cJSON_Delete(needs);
            needs = cJSON_CreateObject();
            api_col_time(needs, "departure_at", s, 0);
            api_col_num(needs, "energy_kwh", s, 1, 0.001);
            api_col_str(needs, "requested_transfer", s, 2);
            api_col_num(needs, "ev_max_power_kw", s, 3, 0.001);
            api_col_num(needs, "state_of_charge", s, 4, 1);
            api_col_time(needs, "updated_at", s, 5);
        }
        sqlite3_finalize(s);
    }
    return needs;
}

/* The session's meter values in time order, a page at a time (keyset: time, event, index), into o. */
static int session_meter_values(sqlite3 *db, const struct api_job *job, cJSON *o)
{
    const char *station = api_in_str(job, "station"), *tx = api_in_str(job, "transaction_id");
    sqlite3_stmt *s;
    int limit = (int)api_in_num(job, "meter_limit", METER_PAGE_DEFAULT);
    if (sqlite3_prepare_v2(db,
                           "SELECT time_ms, event_seq, idx, measurand, phase, location, context, value, unit"
                           " FROM meter_values WHERE station = ?1 AND transaction_id = ?2"
                           " AND (time_ms, event_seq, idx) > (?3, ?4, ?5)"
                           " ORDER BY time_ms, event_seq, idx LIMIT ?6",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, station, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, tx, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)api_in_num(job, "mc_time", -9.2e18));
    sqlite3_bind_int64(s, 4, (sqlite3_int64)api_in_num(job, "mc_seq", 0));
    sqlite3_bind_int64(s, 5, (sqlite3_int64)api_in_num(job, "mc_idx", 0));
    sqlite3_bind_int(s, 6, limit + 1);
    cJSON *mv = cJSON_AddArrayToObject(o, "meter_values");
    int n = 0;
    char next[64] = "";
    bool more = false;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == limit) {
            more = true;
            break;
        }
        cJSON *m = cJSON_CreateObject();
        api_col_time(m, "time", s, 0);
        api_col_str(m, "measurand", s, 3);
        api_col_str(m, "phase", s, 4);
        api_col_str(m, "location", s, 5);
        api_col_str(m, "context", s, 6);
        api_col_num(m, "value", s, 7, 1);
        api_col_str(m, "unit", s, 8);
        cJSON_AddItemToArray(mv, m);
        snprintf(next, sizeof next, "%lld.%lld.%lld", (long long)sqlite3_column_int64(s, 0),
                 (long long)sqlite3_column_int64(s, 1), (long long)sqlite3_column_int64(s, 2));
        n++;
    }
    sqlite3_finalize(s);
    if (more) cJSON_AddStringToObject(o, "meter_values_next_cursor", next);
    else cJSON_AddNullToObject(o, "meter_values_next_cursor");
    return 0;
}

static int run_session(sqlite3 *db, struct api_job *job)
{
    const char *station = api_in_str(job, "station"), *tx = api_in_str(job, "transaction_id");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT " TX_COLUMNS " FROM transactions WHERE station = ? AND id = ?", -1, &s, NULL) !=
        SQLITE_OK)
        return api_db_error(job, db);
    sqlite3_bind_text(s, 1, station, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, tx, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return api_job_problem(job, 404, "session_id", "session_id: no session \"%s:%s\"", station, tx);
    }
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(job->in, "fleet_tokens"), *t;
    bool seen = !fs;
    const char *tok = (const char *)sqlite3_column_text(s, 5);
    cJSON_ArrayForEach(t, fs) seen |= tok && cJSON_IsString(t) && strcmp(t->valuestring, tok) == 0;
    if (!seen) { /* another fleet's session does not exist for this token */
        sqlite3_finalize(s);
        return api_job_problem(job, 404, "session_id", "session_id: no session \"%s:%s\" of this token's fleet",
                               station, tx);
    }
    cJSON *o = session_from_row(s, cJSON_GetObjectItemCaseSensitive(job->in, "token_vehicle"));
    int evse = sqlite3_column_int(s, 3);
    bool active = sqlite3_column_type(s, 8) == SQLITE_NULL;
    sqlite3_finalize(s);

    cJSON_AddItemToObject(o, "transaction_events", session_events(db, station, tx));
    cJSON_AddItemToObject(o, "ev_needs", active ? session_needs(db, station, evse) : cJSON_CreateNull());
    if (session_meter_values(db, job, o)) {
        cJSON_Delete(o);
        return api_db_error(job, db);
    }
    job->out = o;
    return 200;
}

void api_get_session(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    /* Session ids are "<station>:<transactionId>": station ids cannot contain ':' (config.c), so the first ':'
     * splits them, and transaction ids are only unique per station. */
    char *colon = strchr(r->params[0], ':');
    if (!colon || colon == r->params[0] || !colon[1]) {
        api_problem(r, 404, "session_id", "session_id: \"%s\" is not <station>:<transaction id>", r->params[0]);
        return;
    }
    cJSON *in = cJSON_CreateObject();
    *colon = 0;
    cJSON_AddStringToObject(in, "station", r->params[0]);
    cJSON_AddStringToObject(in, "transaction_id", colon + 1);
    *colon = ':';
    char buf[64];
    if (api_arg(r, "meter_limit", buf, sizeof buf)) {
        char *end;
        long v = strtol(buf, &end, 10);
        if (*end || end == buf || v < 1 || v > METER_PAGE_MAX) {
            cJSON_Delete(in);
            api_problem(r, 400, "meter_limit", "meter_limit: must be an integer from 1 to %d", METER_PAGE_MAX);
            return;
        }
        cJSON_AddNumberToObject(in, "meter_limit", (double)v);
    }
    if (api_arg(r, "meter_cursor", buf, sizeof buf)) {
        long long t, s, i;
        char tail;
        if (sscanf(buf, "%lld.%lld.%lld%c", &t, &s, &i, &tail) != 3) {
            cJSON_Delete(in);
            api_problem(r, 400, "meter_cursor", "meter_cursor: not a cursor this API gave out");
            return;
        }
        cJSON_AddNumberToObject(in, "mc_time", (double)t);
        cJSON_AddNumberToObject(in, "mc_seq", (double)s);
        cJSON_AddNumberToObject(in, "mc_idx", (double)i);
    }
    cJSON_AddItemToObject(in, "token_vehicle", api_token_vehicles(a));
    cJSON *scope = api_fleet_scope(a, r, true);
    if (scope) cJSON_AddItemToObject(in, "fleet_tokens", scope);
    api_reader_submit(a, r, run_session, in);
}
