/* Private to store*.c: shared between the writer (live projections) and the rebuild. */
#ifndef DEPOTD_STORE_INTERNAL_H
#define DEPOTD_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdatomic.h>

#include "store.h"

/* Applies one event to the projections, inside the caller's transaction. */
int store_project(sqlite3 *db, int64_t seq, const struct store_event *ev);
/* Creates the projection tables (IF NOT EXISTS); used by migrations and by the rebuild. */
extern const char *const store_projection_schema;
extern const char *const store_projection_tables[];

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
