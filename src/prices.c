/*
 * prices.c - the price feed: the `tariff` section as a feed (feed.h) whose fetches are projected into the store's
 * prices table, and the fallback chain for the planner's slots.
 */
#include "prices.h"

#include <stdio.h>
#include <string.h>

#include "control.h"
#include "depot.h"
#include "feed.h"
#include "log.h"

void (*prices_on_update)(struct depot *d);

static int load_stored(struct depot *d, int64_t from_ms,
                       void (*push)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v),
                       void *ctx)
{
    return store_each_price(d->store, from_ms, INT64_MAX, push, ctx);
}

static void on_fetch(struct depot *d, const struct tariff_series *fresh, int64_t fetched_ms)
{
    (void)fetched_ms;
    /* Which link of the fallback chain the next day of slots comes from, for the operator's log. */
    int64_t start = depot_now_ms() / (15 * TARIFF_MS_PER_MIN) * (15 * TARIFF_MS_PER_MIN);
    struct tariff_price slots[96];
    char err[128], text[64];
    if (prices_slots(d, start, 15 * TARIFF_MS_PER_MIN, 96, slots, err, sizeof err) == 0)
        log_info("prices", NULL, "next 24 h priced from %s",
                 tariff_sources_text(tariff_sources_used(slots, 96), text, sizeof text));
    if (fresh && prices_on_update) prices_on_update(d);
}

static const struct feed_spec price_spec = {
    .key = "tariff",
    .tag = "prices",
    .what = "prices",
    .event_type = STORE_EV_PRICES,
    .default_fallback = "{\"type\":\"fixed\",\"name\":\"fallback\",\"price\":0.30}",
    .history_ms = 35 * TARIFF_MS_PER_DAY, /* 4 weeks for the forecast, and a week of margin */
    .load_stored = load_stored,
    .on_fetch = on_fetch,
};

int prices_start(struct depot *d, char *err, size_t err_len)
{
    struct feed *f = feed_start(d, &d->prices, d->cfg.tariff, &price_spec,
                                (int64_t)d->cfg.price_horizon_h * TARIFF_MS_PER_HOUR, err, err_len);
    if (!f) return -1;
    struct feed_status st;
    feed_status(f, &st);
    if (!st.last_outcome || strcmp(st.provider, "none") == 0)
        log_info("prices", NULL, "no price provider configured: the fallback tariff %s prices every slot",
                 tariff_provider_name(feed_fallback(f)));
    return 0;
}

void prices_stop(struct depot *d) { feed_stop(d->prices); }

int prices_slots(struct depot *d, int64_t start_ms, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
                 size_t err_len)
{
    if (!d->prices) {
        snprintf(err, err_len, "no price feed");
        return -1;
    }
    return feed_slots(d->prices, start_ms, slot_ms, n, out, err, err_len);
}

void prices_status(struct depot *d, struct feed_status *out) { feed_status(d->prices, out); }
