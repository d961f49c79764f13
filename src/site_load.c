/*
 * site_load.c - the building's load as a feed, and what control reads of it. See site_load.h.
 */
#include "site_load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "depot.h"
#include "log.h"

/* What else on the connection produces (PV) or discharges (a battery by its own EMS): each its own feed. */
enum { SUPPLY_PV, SUPPLY_BATTERY, SUPPLIES };
static const char *const supply_key[SUPPLIES] = {"pv", "battery"};

struct site_load {
    struct feed *feed;
    struct feed *supply[SUPPLIES];  /* NULL when not configured */
    double margin_kw;
    int64_t persist_ms;             /* how long a reading above the forecast is taken to last */
    double reading_kw;              /* NAN: none yet */
    int64_t reading_at_ms, reading_end_ms;
};

struct stored_ctx {
    void (*push)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v);
    void *ctx;
};

static void on_stored_event(void *ctx, const char *data)
{
    struct stored_ctx *sc = ctx;
    cJSON *o = cJSON_Parse(data);
    const cJSON *provider = cJSON_GetObjectItemCaseSensitive(o, "provider"), *row;
    if (cJSON_IsString(provider))
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(o, "prices")) {
            if (cJSON_GetArraySize(row) != 3) continue;
            sc->push(sc->ctx, provider->valuestring, (int64_t)cJSON_GetArrayItem(row, 0)->valuedouble,
                     (int64_t)cJSON_GetArrayItem(row, 1)->valuedouble, cJSON_GetArrayItem(row, 2)->valuedouble);
        }
    cJSON_Delete(o);
}

/* A fetch holds the hours ahead of it too: from a day before the history on, every interval is seen. */
static int stored_of(struct depot *d, const char *type, int64_t from_ms,
                     void (*push)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v), void *ctx)
{
    struct stored_ctx sc = {push, ctx};
    return store_each_event_since(d->store, type, from_ms - TARIFF_MS_PER_DAY, on_stored_event, &sc);
}

static int load_stored(struct depot *d, int64_t from_ms,
                       void (*push)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v),
                       void *ctx)
{
    return stored_of(d, STORE_EV_SITE_LOAD, from_ms, push, ctx);
}

static int supply_stored(struct depot *d, int64_t from_ms,
                         void (*push)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v),
                         void *ctx)
{
    return stored_of(d, STORE_EV_SITE_SUPPLY, from_ms, push, ctx);
}

static void on_supply_fetch(struct depot *d, const struct tariff_series *fresh, int64_t fetched_ms)
{
    (void)fetched_ms;
    if (d->site_load && fresh) control_site_load_changed(d);
}

static void on_fetch(struct depot *d, const struct tariff_series *fresh, int64_t fetched_ms)
{
    struct site_load *s = d->site_load;
    if (!s || !fresh) return;
    /* The reading is the interval the source was in when it answered: by the time the loop runs this, the next
     * interval may have begun, and what the source said of it then was its forecast, not a reading (a meter whose
     * defrost reading gave way to the forecast's 30 kW at a quarter's turn put the site 25 kW over for 5 minutes). */
    int64_t at = fetched_ms;
    for (size_t i = 0; i < fresh->n; i++)
        if (fresh->v[i].start_ms <= at && at < fresh->v[i].end_ms) {
            s->reading_kw = fresh->v[i].price;
            s->reading_at_ms = fresh->v[i].start_ms;
            s->reading_end_ms = fresh->v[i].end_ms;
        }
    control_site_load_changed(d);
}

static const char *const extra_keys[] = {"margin_kw", "persist_min", "pv", "battery", NULL};

static const struct feed_spec site_load_spec = {
    .key = "site_load",
    .tag = "site_load",
    .what = "kW values",
    .event_type = STORE_EV_SITE_LOAD,
    /* Without a fallback the unknown building is taken as drawing nothing: say one (a fixed kW) in the config. */
    .default_fallback = "{\"type\":\"fixed\",\"name\":\"no building load\",\"value\":0}",
    .extra_keys = extra_keys,
    .history_ms = 29 * TARIFF_MS_PER_DAY, /* the four weeks of the hour-of-week forecast */
    .load_stored = load_stored,
    .on_fetch = on_fetch,
    .quiet = true,
};

/* PV's forecast and a battery's planned discharge (kW, 0 when unknown): they raise what the plan gives charging,
 * never what the fail-safe counts on. */
static const struct feed_spec supply_spec[SUPPLIES] = {
    {.key = "site_load.pv", .tag = "site_load", .what = "kW of PV", .event_type = STORE_EV_SITE_SUPPLY,
     .default_fallback = "{\"type\":\"fixed\",\"name\":\"no pv\",\"value\":0}",
     .history_ms = 29 * TARIFF_MS_PER_DAY, .load_stored = supply_stored, .on_fetch = on_supply_fetch, .quiet = true},
    {.key = "site_load.battery", .tag = "site_load", .what = "kW of battery discharge",
     .event_type = STORE_EV_SITE_SUPPLY, .default_fallback = "{\"type\":\"fixed\",\"name\":\"no battery\",\"value\":0}",
     .history_ms = 29 * TARIFF_MS_PER_DAY, .load_stored = supply_stored, .on_fetch = on_supply_fetch, .quiet = true},
};

/* A provider's plausible band defaults to a price's (-1 to 5 per kWh): kW need their own. The copy is the caller's. */
static cJSON *with_kw_band(const cJSON *section)
{
    cJSON *sec = cJSON_Duplicate(section, true);
    cJSON *prov = cJSON_GetObjectItemCaseSensitive(sec, "provider");
    if (cJSON_IsObject(prov) && !cJSON_GetObjectItemCaseSensitive(prov, "plausible"))
        cJSON_AddItemToObject(prov, "plausible", cJSON_Parse("{\"min\": -100000, \"max\": 100000}"));
    return sec;
}

static void site_load_free(struct site_load *s)
{
    if (!s) return;
    for (int i = 0; i < SUPPLIES; i++) feed_stop(s->supply[i]);
    feed_stop(s->feed);
    free(s);
}

int site_load_start(struct depot *d, char *err, size_t err_len)
{
    const cJSON *section = d->cfg.site_load;
    if (!section) return 0;
    struct site_load *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->reading_kw = NAN;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(section, "margin_kw");
    if (m && (!cJSON_IsNumber(m) || !(m->valuedouble >= 0) || m->valuedouble > 1e5)) {
        snprintf(err, err_len, "site_load.margin_kw: kW from 0 up, added to every value of the building's load");
        free(s);
        return -1;
    }
    s->margin_kw = m ? m->valuedouble : 0;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(section, "persist_min");
    if (p && (!cJSON_IsNumber(p) || !(p->valuedouble >= 0) || p->valuedouble > 1440)) {
        snprintf(err, err_len, "site_load.persist_min: minutes from 0 to 1440 a reading above the forecast is taken "
                 "to last");
        free(s);
        return -1;
    }
    s->persist_ms = (int64_t)((p ? p->valuedouble : 60) * 60000);
    d->site_load = s;
    cJSON *sec = with_kw_band(section);
    bool ok = feed_start(d, &s->feed, sec, &site_load_spec, 48 * TARIFF_MS_PER_HOUR, err, err_len) != NULL;
    cJSON_Delete(sec);
    for (int i = 0; ok && i < SUPPLIES; i++) {
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(section, supply_key[i]);
        if (!sub) continue;
        if (!cJSON_IsObject(sub)) {
            snprintf(err, err_len, "site_load.%s: an object like site_load's (provider, fallback, breaker, schedule)",
                     supply_key[i]);
            ok = false;
            break;
        }
        sec = with_kw_band(sub);
        ok = feed_start(d, &s->supply[i], sec, &supply_spec[i], 48 * TARIFF_MS_PER_HOUR, err, err_len) != NULL;
        cJSON_Delete(sec);
    }
    if (!ok) {
        d->site_load = NULL;
        site_load_free(s);
        return -1;
    }
    return 0;
}

void site_load_stop(struct depot *d)
{
    struct site_load *s = d->site_load;
    if (!s) return;
    d->site_load = NULL;
    site_load_free(s);
}

int site_load_slots(struct depot *d, int64_t slot0, int64_t slot_ms, size_t n, double *kw, double *building)
{
    struct site_load *s = d->site_load;
    if (!s || !n) return -1;
    struct tariff_price *v = calloc(n, sizeof *v);
    char err[160];
    if (!v || feed_slots(s->feed, slot0, slot_ms, n, v, err, sizeof err)) {
        free(v);
        return -1;
    }
    int64_t now = depot_now_ms();
    for (size_t k = 0; k < n; k++) {
        building[k] = v[k].price + s->margin_kw;
        int64_t a = slot0 + (int64_t)k * slot_ms;
        /* The slot we are in and those of the next persist_min: at least what the source says of now, while
         * that is fresh. A load above its forecast (a defrost, a compressor) is taken to last until a reading
         * says otherwise; the slots beyond keep the forecast. */
        bool fresh = !isnan(s->reading_kw) && now < s->reading_end_ms + slot_ms;
        if (fresh && a + slot_ms > now && a < now + s->persist_ms)
            building[k] = fmax(building[k], s->reading_kw + s->margin_kw);
        kw[k] = building[k];
    }
    /* PV and a battery's discharge lower what the plan counts, never below what the building's meter would say
     * with them gone (the fail-safe reads `building`). */
    for (int i = 0; i < SUPPLIES; i++)
        if (s->supply[i] && feed_slots(s->supply[i], slot0, slot_ms, n, v, err, sizeof err) == 0)
            for (size_t k = 0; k < n; k++) kw[k] -= fmax(0, v[k].price);
    free(v);
    return 0;
}

void site_load_status(struct depot *d, struct site_load_status *out)
{
    struct site_load *s = d->site_load;
    memset(out, 0, sizeof *out);
    out->reading_kw = NAN;
    if (!s) return;
    out->configured = true;
    feed_status(s->feed, &out->feed);
    out->margin_kw = s->margin_kw;
    out->reading_kw = s->reading_kw;
    out->reading_at_ms = s->reading_at_ms;
}
