/*
 * api_variables.c - GET /api/v1/stations/{id}/variables: the station's device model as depotd keeps it (what
 * GetVariables read and what NotifyReport parts said after GetBaseReport or GetReport), a page at a time.
 * A charger's FullInventory runs to a thousand variables and more, past what the station document carries.
 *
 * Pages follow the row's place in the projection: a variable reported again moves to the end, so a walk
 * started before a report misses nothing (it may see the newer value a second time, later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

cJSON *api_variable_from_row(sqlite3_stmt *s, int i)
{
    cJSON *c = cJSON_CreateObject();
    api_col_str(c, "component", s, i);
    api_col_str(c, "component_instance", s, i + 1);
    cJSON_AddNumberToObject(c, "evse_id", sqlite3_column_int(s, i + 2));
    api_col_str(c, "variable", s, i + 3);
    api_col_str(c, "variable_instance", s, i + 4);
    api_col_str(c, "attribute_type", s, i + 5);
    api_col_str(c, "value", s, i + 6);
    api_col_str(c, "status", s, i + 7);
    api_col_time(c, "updated_at", s, i + 8);
    return c;
}

static int run_variables(sqlite3 *db, struct api_job *job)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid, " API_VARIABLE_COLUMNS " FROM capabilities"
                           " WHERE station = ?1 AND rowid > ?2 AND (?3 IS NULL OR component = ?3)"
                           " AND (?4 IS NULL OR variable = ?4) AND (?5 IS NULL OR evse_id = ?5)"
                           " ORDER BY rowid LIMIT ?6",
                           -1, &s, NULL) != SQLITE_OK)
        return api_db_error(job, db);
    int limit = (int)api_in_num(job, "limit", API_PAGE_DEFAULT);
    sqlite3_bind_text(s, 1, api_in_str(job, "station"), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)api_in_num(job, "cursor", 0));
    if (api_in_str(job, "component")) sqlite3_bind_text(s, 3, api_in_str(job, "component"), -1, SQLITE_STATIC);
    if (api_in_str(job, "variable")) sqlite3_bind_text(s, 4, api_in_str(job, "variable"), -1, SQLITE_STATIC);
    if (api_in_num(job, "evse_id", -1) >= 0) sqlite3_bind_int(s, 5, (int)api_in_num(job, "evse_id", -1));
    sqlite3_bind_int(s, 6, limit + 1);
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
    int n = 0, rc;
    sqlite3_int64 last = 0;
    bool more = false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(items, api_variable_from_row(s, 1));
        last = sqlite3_column_int64(s, 0);
        n++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cJSON_Delete(out);
        return api_db_error(job, db);
    }
    api_add_cursor(out, more, last);
    job->out = out;
    return 200;
}

void api_get_station_variables(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    if (!depot_station_find(a->d, r->params[0])) {
        api_problem(r, 404, "station_id", "station_id: no station \"%s\" is known", r->params[0]);
        return;
    }
    int limit = api_arg_limit(r);
    long long cursor = 0;
    if (limit < 0 || !api_arg_cursor(r, &cursor)) return;
    char evse[API_PARAM_MAX];
    long evse_id = -1;
    if (api_arg(r, "evse_id", evse, sizeof evse)) {
        char *end;
        evse_id = strtol(evse, &end, 10);
        if (*end || end == evse || evse_id < 0 || evse_id > 1000000) {
            api_problem(r, 400, "evse_id", "evse_id: an EVSE id (0 for the station's own components)");
            return;
        }
    }
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "station", r->params[0]);
    cJSON_AddNumberToObject(in, "limit", limit);
    cJSON_AddNumberToObject(in, "cursor", (double)cursor);
    if (evse_id >= 0) cJSON_AddNumberToObject(in, "evse_id", (double)evse_id);
    static const char *const names[] = {"component", "variable"};
    for (int i = 0; i < 2; i++) {
        char v[API_PARAM_MAX];
        if (api_arg(r, names[i], v, sizeof v)) cJSON_AddStringToObject(in, names[i], v);
    }
    api_reader_submit(a, r, run_variables, in);
}
