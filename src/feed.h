/*
 * feed.h - a series fetched from a provider (tariffs/) on a worker thread behind its circuit breaker, every fetch
 * stored in the event log, and the fallback chain (fresh -> stored -> hour-of-week forecast of the last weeks ->
 * static fallback) evaluated for slots. depotd runs two: prices (prices.c) and the building's load (site_load.c).
 * The series' values are the provider's `price` numbers: currency per kWh for prices, kW for the load.
 *
 * Threads: feed_start/feed_stop/feed_slots/feed_status on the loop thread. The worker owns the breaker and the
 * schedule and hands each fetch to the loop with depot_post(); the loop stores it, keeps the series and calls
 * spec->on_update. The loop never waits for a fetch.
 */
#ifndef DEPOTD_FEED_H
#define DEPOTD_FEED_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tariffs.h"

struct depot;
struct feed;

/* What a feed is for: fixed per kind of feed (prices, site load). Borrowed for the feed's life. */
struct feed_spec {
    const char *key;                /* the config section, in errors: "tariff", "site_load" */
    const char *tag;                /* log tag */
    const char *what;               /* what the values are, in the log: "prices" */
    const char *event_type;         /* STORE_EV_PRICES, STORE_EV_SITE_LOAD */
    const char *default_fallback;   /* a static provider's JSON for a section without "fallback" */
    const char *const *extra_keys;  /* keys of the section the feed's owner reads (NULL-terminated), or NULL */
    int64_t history_ms;             /* what is kept for the forecast */
    /* Calls push(ctx, provider, start, end, value) for each stored value ending after from_ms. */
    int (*load_stored)(struct depot *d, int64_t from_ms,
                       void (*push)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v),
                       void *ctx);
    /* After every fetch, on the loop thread: the new series (NULL when it failed) and when it was fetched (planning
     * clock; the loop may run it a little later). May be NULL. */
    void (*on_fetch)(struct depot *d, const struct tariff_series *fresh, int64_t fetched_ms);
    bool quiet;                     /* a good fetch is logged at debug (a meter polled every minute), else info */
};

/* Builds the provider, fallback and zone from `section` (NULL: the fallback alone), loads what is stored and
 * starts the worker. horizon_ms: how far ahead a fetch asks. *slot is where the depot keeps the feed (d->prices):
 * a fetch that arrives after the feed was stopped is dropped. NULL with err naming the key. */
struct feed *feed_start(struct depot *d, struct feed **slot, const cJSON *section, const struct feed_spec *spec,
                        int64_t horizon_ms, char *err, size_t err_len);
/* Stops and joins the worker (a fetch in progress is cancelled), frees everything, clears *slot. NULL is fine. */
void feed_stop(struct feed *f);

/* n slots of slot_ms from start_ms, each with its value and source. Every slot is filled (the static fallback is
 * the last link). 0, or -1 with err. */
int feed_slots(struct feed *f, int64_t start_ms, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
               size_t err_len);

struct feed_status {
    char provider[64];
    const char *breaker;             /* "closed", "open", "half_open"; "none" without a provider */
    const char *last_outcome;        /* tariff_outcome_name of the last fetch, "none" before the first */
    int64_t last_success_ms;         /* 0: never */
    int64_t covered_until_ms;        /* end of the stored values, 0: none */
    uint64_t fetches, failures;
};
void feed_status(struct feed *f, struct feed_status *out);  /* zeros for NULL */

/* The fallback provider (static). */
const tariff_provider *feed_fallback(const struct feed *f);

#endif
