/*
 * prices.h - depotd's price feed: the configured provider fetched on a worker thread behind its circuit
 * breaker, every fetch stored in the event log, and the fallback chain (market -> cached -> forecast ->
 * static fallback) evaluated for the planner's slots.
 *
 * Threads: prices_start/prices_stop/prices_slots/prices_status on the loop thread. The worker thread owns the
 * provider's breaker and schedule; it hands each fetch result to the loop with depot_post(), and the loop
 * stores it and keeps the in-memory series the planner reads. The loop never waits for a fetch.
 */
#ifndef DEPOTD_PRICES_H
#define DEPOTD_PRICES_H

#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "tariffs.h"

struct depot;

/* Builds the provider, the fallback tariff and the zone from the config, loads stored prices, starts the
 * worker. Returns 0, or -1 with err naming the config key. */
int prices_start(struct depot *d, char *err, size_t err_len);
/* Stops and joins the worker (a fetch in progress ends at its own timeout), frees everything. */
void prices_stop(struct depot *d);

/* Prices for n slots of slot_ms from start_ms, each with its source. Always fills every slot (the static
 * fallback is the last link). Returns 0, or -1 with err. */
int prices_slots(struct depot *d, int64_t start_ms, int64_t slot_ms, size_t n, struct tariff_price *out,
                 char *err, size_t err_len);

/* The feed's provider, breaker and last fetch (feed.h). */
void prices_status(struct depot *d, struct feed_status *out);

/* Set by src/ parts that want to know when new prices arrived (the planner): called on the loop thread. */
extern void (*prices_on_update)(struct depot *d);

#endif
