/*
 * store_read.c - the store's reads for start-up and control (store.h, "Reads for start-up"): the loop thread's own
 * read connection, never the writer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

int store_each_station(store *st, void (*fn)(void *, const struct store_station_row *), void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_rdb(st), "SELECT id, boot_status, password_hash FROM stations ORDER BY id", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct store_station_row row = {(const char *)sqlite3_column_text(s, 0),
                                        (const char *)sqlite3_column_text(s, 1),
                                        (const char *)sqlite3_column_text(s, 2)};
        fn(ctx, &row);
    }
    sqlite3_finalize(s);
    return 0;
}

int store_each_price(store *st, int64_t from_ms, int64_t to_ms,
                     void (*fn)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double price),
                     void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_rdb(st),
                           "SELECT provider, start_ms, end_ms, price FROM prices WHERE end_ms > ? AND start_ms < ?"
                           " ORDER BY provider, start_ms",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, from_ms);
    sqlite3_bind_int64(s, 2, to_ms);
    while (sqlite3_step(s) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
           sqlite3_column_double(s, 3));
    sqlite3_finalize(s);
    return 0;
}

int store_each_event_since(store *st, const char *type, int64_t from_ms, void (*fn)(void *ctx, const char *data),
                           void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_rdb(st), "SELECT data FROM events WHERE type = ? AND time_ms >= ? ORDER BY seq", -1,
                           &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, from_ms);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (sqlite3_column_text(s, 0)) fn(ctx, (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return 0;
}

int store_each_charging_limit(store *st,
                              void (*fn)(void *ctx, const char *station, const char *payload, int64_t received_ms),
                              void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_rdb(st),
                           "SELECT station, payload, updated_ms FROM charging_limits WHERE cleared = 0 ORDER BY updated_ms",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (sqlite3_column_text(s, 0) && sqlite3_column_text(s, 1))
            fn(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
               sqlite3_column_int64(s, 2));
    sqlite3_finalize(s);
    return 0;
}

int store_each_reported_profile(store *st,
                                void (*fn)(void *ctx, const char *station, const char *source, int evse_id,
                                           const char *profile, int64_t received_ms),
                                void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_rdb(st),
                           "SELECT station, source, evse_id, profile, updated_ms FROM reported_profiles"
                           " ORDER BY updated_ms",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (sqlite3_column_text(s, 0) && sqlite3_column_text(s, 1) && sqlite3_column_text(s, 3))
            fn(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
               sqlite3_column_int(s, 2), (const char *)sqlite3_column_text(s, 3), sqlite3_column_int64(s, 4));
    sqlite3_finalize(s);
    return 0;
}

char *store_last_event_data(store *st, const char *type)
{
    sqlite3_stmt *s;
    char *out = NULL;
    if (sqlite3_prepare_v2(store_rdb(st), "SELECT data FROM events WHERE type = ? ORDER BY seq DESC LIMIT 1", -1, &s,
                           NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) out = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

int store_each_station_event(store *st, const char *type, const char *station, int limit,
                             int (*fn)(void *ctx, const char *data), void *ctx)
{
    sqlite3_stmt *s;
    const char *sql = station ? "SELECT data FROM events WHERE station = ?1 AND type = ?2 ORDER BY seq DESC LIMIT ?3"
                              : "SELECT data FROM events WHERE type = ?2 ORDER BY seq DESC LIMIT ?3";
    if (sqlite3_prepare_v2(store_rdb(st), sql, -1, &s, NULL) != SQLITE_OK) return -1;
    if (station) sqlite3_bind_text(s, 1, station, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, limit);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (sqlite3_column_text(s, 0) && fn(ctx, (const char *)sqlite3_column_text(s, 0))) break;
    sqlite3_finalize(s);
    return 0;
}

int store_each_active_transaction(store *st, void (*fn)(void *ctx, const struct store_active_tx *row), void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_rdb(st),
                           "SELECT t.station, t.id, t.id_token, t.charging_state, t.evse_id, t.started_ms,"
                           " t.energy_first_wh, t.energy_last_wh, t.energy_last_ms, n.payload"
                           " FROM transactions t LEFT JOIN ev_needs n ON n.station = t.station AND"
                           " n.evse_id = t.evse_id"
                           " WHERE t.ended_ms IS NULL AND t.evse_id IS NOT NULL ORDER BY t.station, t.evse_id",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct store_active_tx row = {
            .station = (const char *)sqlite3_column_text(s, 0),
            .tx_id = (const char *)sqlite3_column_text(s, 1),
            .id_token = (const char *)sqlite3_column_text(s, 2),
            .charging_state = (const char *)sqlite3_column_text(s, 3),
            .evse_id = sqlite3_column_int(s, 4),
            .started_ms = sqlite3_column_int64(s, 5),
            .has_energy = sqlite3_column_type(s, 6) != SQLITE_NULL && sqlite3_column_type(s, 7) != SQLITE_NULL,
            .energy_first_wh = sqlite3_column_double(s, 6),
            .energy_last_wh = sqlite3_column_double(s, 7),
            .energy_last_ms = sqlite3_column_int64(s, 8),
            .needs_payload = (const char *)sqlite3_column_text(s, 9),
        };
        row.needs_base_wh = row.energy_first_wh;
        if (row.station && row.tx_id) fn(ctx, &row);
    }
    sqlite3_finalize(s);
    return 0;
}

int store_count_active_transactions(store *st)
{
    sqlite3_stmt *s;
    int n = -1;
    if (sqlite3_prepare_v2(store_rdb(st), "SELECT count(*) FROM transactions WHERE ended_ms IS NULL", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}
