/*
 * site_load.h - the building's load: everything on the grid connection that is not a charger (workshop, offices,
 * cold stores), less what PV on the same connection produces. Configured by the `site_load` section as a feed
 * (feed.h) of kW per interval: a JSON or CSV source over HTTP, or a local meter's JSON endpoint polled every
 * minute, behind the same circuit breaker and fallback chain as prices (fresh -> stored -> the hour-of-week mean
 * of the last four weeks -> the static fallback). `margin_kw` is added to every value. The latest reading is a
 * floor for the slot now and those of the next `persist_min` (60): a load above its forecast is taken to last
 * until a reading says otherwise.
 *
 * Optional `pv` and `battery` sections (each a feed of the same shape: PV's production forecast, a battery's
 * planned discharge by its own EMS, kW) lower the load the plan counts, not the one the fail-safe does.
 *
 * Control plans charging under the connection's limit less this load, slot by slot, and keeps its fail-safe
 * under the limit less the horizon's highest building load (control_site.c). A reading above what the plan
 * assumed for now re-plans at once (control_site_load_changed).
 *
 * Threads: loop thread; the feed's worker fetches (feed.h).
 */
#ifndef DEPOTD_SITE_LOAD_H
#define DEPOTD_SITE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "feed.h"

struct depot;

/* Starts the feed when the config has a site_load section (else nothing). 0, or -1 with err naming the key. */
int site_load_start(struct depot *d, char *err, size_t err_len);
void site_load_stop(struct depot *d);

/* The load in n slots of slot_ms from slot0: `building` (kW, margin included; from now to persist_min on, at least
 * the latest reading) and `kw`, what the plan counts: the building less PV and a battery's discharge (pv, battery).
 * -1 without a site_load section. */
int site_load_slots(struct depot *d, int64_t slot0, int64_t slot_ms, size_t n, double *kw, double *building);

struct site_load_status {
    bool configured;
    struct feed_status feed;
    double margin_kw;
    double reading_kw;          /* the value covering now in the latest fetch (NAN: none) */
    int64_t reading_at_ms;      /* its interval's start (0: none) */
};
void site_load_status(struct depot *d, struct site_load_status *out);

#endif
