/* Private to store*.c: shared between the writer (live projections) and the rebuild. */
#ifndef DEPOTD_STORE_INTERNAL_H
#define DEPOTD_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdatomic.h>

#include "store.h"

/* The loop thread's read connection (store_read.c). */
sqlite3 *store_rdb(store *st);
/* Applies one event to the projections, inside the caller's transaction. */
int store_project(sqlite3 *db, int64_t seq, const struct store_event *ev);
/* Finalizes the statements store_project kept for db on this thread: before db is closed. */
void store_project_done(sqlite3 *db);
/* Creates the projection tables (IF NOT EXISTS); used by migrations and by the rebuild. */
extern const char *const store_projection_schema;
extern const char *const store_projection_tables[];

/* keep_frames_days (store_retention.c). Migration 5: the retention bookkeeping, and the DELETE trigger that lets
 * a frame go only inside a pruning step (retention.pruning = 1) and only when older than its cutoff. */
#define STORE_RETENTION_SCHEMA                                                                                \
    "CREATE TABLE IF NOT EXISTS retention ("                                                                  \
    "  id INTEGER PRIMARY KEY CHECK (id = 1), pruned_before_ms INTEGER NOT NULL DEFAULT 0,"                    \
    "  scanned_seq INTEGER NOT NULL DEFAULT 0, frames_pruned INTEGER NOT NULL DEFAULT 0,"                      \
    "  pruning INTEGER NOT NULL DEFAULT 0);"                                                                  \
    "INSERT OR IGNORE INTO retention(id) VALUES(1);"                                                          \
    "DROP TRIGGER IF EXISTS events_append_only_d;"                                                            \
    "CREATE TRIGGER events_append_only_d BEFORE DELETE ON events"                                             \
    "  WHEN NOT EXISTS (SELECT 1 FROM retention WHERE pruning = 1 AND old.time_ms < pruned_before_ms"          \
    "                   AND old.type IN ('ocpp_in', 'ocpp_out'))"                                             \
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
/* Registers depotd_essential() (store_event_essential) on a connection that prunes. */
int store_retention_register(sqlite3 *db);
/* One pruning transaction over the next few thousand events older than cutoff_ms: 1 when more is left now, 0
 * when caught up, -1 on an error (sqlite3_errmsg). *pruned: frames deleted. */
int store_retention_step(sqlite3 *db, int64_t cutoff_ms, int64_t *pruned);
/* The rebuild: keep the rows of pruned frames before the projections are dropped, fold them back after. */
int store_retention_keep(sqlite3 *db);
int store_retention_fold(sqlite3 *db);

/* The disk watermarks (store_disk.c). The writer measures, the loop reads: atomics. */
struct store_disk {
    char dir[4096];                  /* the database's directory */
    _Atomic int64_t warn_bytes, min_bytes; /* 0: off */
    _Atomic int64_t free_bytes;      /* the last measurement; -1: unknown */
    atomic_bool low, lean;           /* below warn; below min (until min + 1/4) */
    atomic_uint_fast64_t dropped;    /* events not written while lean */
    _Atomic int64_t measured_mono_ms; /* the writer measures, and the loop when the marks are set */
};
void store_disk_init(struct store_disk *dk, const char *db_path);
/* The verdict for this many free bytes (-1: unknown, nothing changes). The seam the tests drive. */
void store_disk_update(struct store_disk *dk, int64_t free_bytes);
/* statvfs on the directory, at most once a second unless now. */
void store_disk_measure(struct store_disk *dk, bool now);

#endif
