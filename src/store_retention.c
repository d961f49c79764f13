/*
 * store_retention.c - keep_frames_days (store.h): frames that are not essential (store_event_essential: the
 * Heartbeats, MeterValues and periodic TransactionEvents that are most of a depot's log) are deleted once they are
 * older than that; boots, sessions' starts and ends, status, commands, plans, prices and API writes stay. The
 * writer thread prunes a few thousand events per transaction between its batches.
 *
 * What a pruned frame put in the projections stays there: its meter_values and transaction_events rows (keyed
 * by the frame's seq). --rebuild-projections keeps those rows and folds them into their transactions (events,
 * seq_max, times, first and last energy), so a rebuilt log gives the same projections as the live one.
 *
 * The log stays append-only for everyone else: the DELETE trigger lets a row go only inside a pruning step
 * (retention.pruning = 1, set and cleared in the same transaction) and only a frame older than the cutoff.
 */
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

#define PRUNE_SEQ_CHUNK 1000 /* events examined per transaction: ~8 ms (bench/ocpp/prune.py), what a batch may wait */

/* depotd_essential(type, msg_type, action, data): store_event_essential, so SQL and C agree. */
static void sql_essential(sqlite3_context *cx, int argc, sqlite3_value **v)
{
    (void)argc;
    struct store_event ev = {.type = (const char *)sqlite3_value_text(v[0]), .msg_type = sqlite3_value_int(v[1]),
                             .action = (const char *)sqlite3_value_text(v[2]),
                             .data = (const char *)sqlite3_value_text(v[3])};
    sqlite3_result_int(cx, store_event_essential(&ev));
}

int store_retention_register(sqlite3 *db)
{
    return sqlite3_create_function(db, "depotd_essential", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_essential,
                                   NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int64_t one_int(sqlite3 *db, const char *sql, int64_t arg, int64_t none)
{
    sqlite3_stmt *s;
    int64_t v = none;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return none;
    sqlite3_bind_int64(s, 1, arg);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* A statement with n integer parameters ?1..?n. */
static int run_ints(sqlite3 *db, const char *sql, int n, const int64_t *args)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return -1;
    for (int i = 0; i < n; i++) sqlite3_bind_int64(s, i + 1, args[i]);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

int store_retention_step(sqlite3 *db, int64_t cutoff_ms, int64_t *pruned)
{
    *pruned = 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
    int64_t from = one_int(db, "SELECT scanned_seq FROM retention WHERE id = ?1", 1, 0);
    /* Up to the first event at or after the cutoff (events_time), at most a chunk. */
    int64_t first_kept = one_int(db, "SELECT seq FROM events WHERE time_ms >= ?1 ORDER BY time_ms LIMIT 1", cutoff_ms, -1);
    if (first_kept < 0) /* every event is older than the cutoff */
        first_kept = one_int(db, "SELECT max(seq) + 1 FROM events WHERE seq > ?1", from, from + 1);
    int64_t to = first_kept - 1 < from + PRUNE_SEQ_CHUNK ? first_kept - 1 : from + PRUNE_SEQ_CHUNK;
    int more = to < first_kept - 1;
    if (to <= from) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return 0;
    }
    if (run_ints(db, "UPDATE retention SET pruning = 1, pruned_before_ms = ?1 WHERE id = 1", 1, (int64_t[]){cutoff_ms}) ||
        run_ints(db, "DELETE FROM events WHERE seq > ?1 AND seq <= ?2 AND time_ms < ?3 AND type IN ('ocpp_in', "
                     "'ocpp_out') AND NOT depotd_essential(type, msg_type, action, data)", 3,
                 (int64_t[]){from, to, cutoff_ms}))
        goto fail;
    *pruned = sqlite3_changes(db);
    if (run_ints(db, "UPDATE retention SET pruning = 0, scanned_seq = ?1, frames_pruned = frames_pruned + ?2 WHERE id = 1",
                 2, (int64_t[]){to, *pruned}) ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return more;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    *pruned = 0;
    return -1;
}

/* ---- the rebuild (store_rebuild_projections, inside its transaction) ---------------------------------------- */

int store_retention_keep(sqlite3 *db)
{
    return sqlite3_exec(db,
                        "DROP TABLE IF EXISTS temp.kept_mv; DROP TABLE IF EXISTS temp.kept_te;"
                        "CREATE TEMP TABLE kept_mv AS SELECT * FROM meter_values m"
                        "  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = m.event_seq);"
                        "CREATE TEMP TABLE kept_te AS SELECT * FROM transaction_events t"
                        "  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = t.event_seq);",
                        NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* The kept rows back, and folded into their transactions as their frames were (the projection's rules are
 * order-free: counts, extremes, and the reading with the latest or earliest time). A reading's multiplier is not
 * in meter_values: a pruned reading counts as its value in Wh or kWh. */
int store_retention_fold(sqlite3 *db)
{
#define OF_TX "k.station = transactions.station AND k.transaction_id = transactions.id"
#define READING                                                                                               \
    "(SELECT CASE k.unit WHEN 'kWh' THEN k.value * 1000 ELSE k.value END AS wh, k.time_ms FROM temp.kept_mv k"  \
    " WHERE " OF_TX " AND k.measurand = 'Energy.Active.Import.Register' AND k.phase IS NULL"                   \
    " AND (k.location IS NULL OR k.location = 'Outlet') AND (k.unit IS NULL OR k.unit IN ('Wh', 'kWh'))"
    static const char *const sql =
        "INSERT OR IGNORE INTO meter_values SELECT * FROM temp.kept_mv;"
        "INSERT OR IGNORE INTO transaction_events SELECT * FROM temp.kept_te;"
        "UPDATE transactions SET"
        "  events = events + (SELECT count(*) FROM temp.kept_te k WHERE " OF_TX "),"
        "  seq_max = max(seq_max, (SELECT max(seq_no) FROM temp.kept_te k WHERE " OF_TX ")),"
        "  last_event_ms = max(last_event_ms, (SELECT max(time_ms) FROM temp.kept_te k WHERE " OF_TX ")),"
        "  started_ms = min(started_ms, (SELECT min(time_ms) FROM temp.kept_te k WHERE " OF_TX "))"
        " WHERE EXISTS (SELECT 1 FROM temp.kept_te k WHERE " OF_TX ");"
        "UPDATE transactions SET (energy_last_wh, energy_last_ms) = " READING " ORDER BY k.time_ms DESC LIMIT 1)"
        " WHERE EXISTS " READING " AND (transactions.energy_last_ms IS NULL OR k.time_ms >= transactions.energy_last_ms));"
        "UPDATE transactions SET (energy_first_wh, energy_first_ms) = " READING " ORDER BY k.time_ms LIMIT 1)"
        " WHERE EXISTS " READING " AND (transactions.energy_first_ms IS NULL OR k.time_ms < transactions.energy_first_ms));"
        "DROP TABLE temp.kept_mv; DROP TABLE temp.kept_te;";
#undef READING
#undef OF_TX
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}
