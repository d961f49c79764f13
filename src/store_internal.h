/* Private to store*.c: shared between the writer (live projections) and the rebuild. */
#ifndef DEPOTD_STORE_INTERNAL_H
#define DEPOTD_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* Applies one event to the projections, inside the caller's transaction. */
int store_project(sqlite3 *db, int64_t seq, const struct store_event *ev);
/* Creates the projection tables (IF NOT EXISTS); used by migrations and by the rebuild. */
extern const char *const store_projection_schema;
extern const char *const store_projection_tables[];

#endif
