/*
 * prices.c - the price feed worker and the loop-side price cache. See prices.h for the threads.
 */
#include "prices.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "depot.h"
#include "log.h"

#define HISTORY_MS (35 * TARIFF_MS_PER_DAY) /* 4 weeks of history for the forecast, and a week of margin */

void (*prices_on_update)(struct depot *d);

struct price_feed {
    tariff_provider *provider;  /* NULL: the fallback tariff alone */
    tariff_provider *fallback;
    tariff_tz *tz;
    int64_t horizon_ms;

    /* worker thread */
    pthread_t thread;
    bool thread_started;
    struct tariff_breaker breaker;
    struct tariff_schedule schedule;
    int64_t last_attempt_ms, last_success_ms, covered_until_ms;

    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    atomic_int cancel;          /* set by prices_stop: ends a fetch in progress */
    struct prices_status status;

    /* loop thread */
    struct tariff_series stored;  /* composed prices from the store and every fetch, sorted, no overlaps */
    struct tariff_series fresh;   /* the latest successful fetch */
};

/* The result of one fetch, handed from the worker to the loop. */
struct fetch_done {
    struct tariff_series series;
    struct tariff_fetch_result res;
    enum tariff_breaker_state breaker;
    int64_t at_ms;
};

static struct price_feed *feed_of(struct depot *d) { return d->prices; }

/* The planning clock: prices are fetched for the hours the planner plans (simulated in a demo). */
static int64_t now_ms(void) { return depot_now_ms(); }

/* ---- loop side ---------------------------------------------------------------------------------------- */

/* Replaces what `stored` says of [fresh.first.start, fresh.last.end) by `fresh`, keeps the order, and drops
 * what is older than the history the forecast needs. */
static void merge_into_stored(struct price_feed *f, const struct tariff_series *fresh, int64_t now)
{
    if (!fresh->n) return;
    int64_t from = fresh->v[0].start_ms, to = fresh->v[fresh->n - 1].end_ms;
    struct tariff_series out = {0};
    size_t i = 0;
    for (; i < f->stored.n && f->stored.v[i].start_ms < from; i++)
        if (f->stored.v[i].end_ms > now - HISTORY_MS && f->stored.v[i].end_ms <= from)
            tariff_series_push(&out, f->stored.v[i].start_ms, f->stored.v[i].end_ms, f->stored.v[i].price,
                               TARIFF_SRC_CACHED);
    for (size_t j = 0; j < fresh->n; j++)
        tariff_series_push(&out, fresh->v[j].start_ms, fresh->v[j].end_ms, fresh->v[j].price, TARIFF_SRC_CACHED);
    for (; i < f->stored.n; i++)
        if (f->stored.v[i].start_ms >= to)
            tariff_series_push(&out, f->stored.v[i].start_ms, f->stored.v[i].end_ms, f->stored.v[i].price,
                               TARIFF_SRC_CACHED);
    tariff_series_free(&f->stored);
    f->stored = out;
}

static void store_fetch(struct depot *d, const struct fetch_done *done)
{
    struct price_feed *f = feed_of(d);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "provider", tariff_provider_name(f->provider));
    cJSON_AddStringToObject(o, "outcome", tariff_outcome_name(done->res.outcome));
    cJSON_AddStringToObject(o, "breaker", tariff_breaker_state_name(done->breaker));
    if (done->res.http_status) cJSON_AddNumberToObject(o, "http_status", (double)done->res.http_status);
    if (done->res.error[0]) cJSON_AddStringToObject(o, "error", done->res.error);
    cJSON_AddNumberToObject(o, "duration_ms", (double)done->res.duration_ms);
    cJSON *arr = cJSON_AddArrayToObject(o, "prices");
    for (size_t i = 0; i < done->series.n; i++) {
        const struct tariff_price *p = &done->series.v[i];
        double row[3] = {(double)p->start_ms, (double)p->end_ms, p->price};
        cJSON_AddItemToArray(arr, cJSON_CreateDoubleArray(row, 3));
    }
    char *json = cJSON_PrintUnformatted(o);
    struct store_event ev = {.time_ms = done->at_ms, .type = STORE_EV_PRICES, .data = json};
    store_append(d->store, &ev);
    cJSON_free(json);
    cJSON_Delete(o);
}

static void on_fetch_done(struct depot *d, void *arg)
{
    struct fetch_done *done = arg;
    struct price_feed *f = feed_of(d);
    if (f) {
        store_fetch(d, done);
        char until[32] = "-";
        if (done->res.outcome == TARIFF_OK) {
            merge_into_stored(f, &done->series, done->at_ms);
            tariff_series_free(&f->fresh);
            f->fresh = done->series;
            done->series = (struct tariff_series){0};
            ocpp_time_format(f->fresh.v[f->fresh.n - 1].end_ms, until);
            log_info("prices", NULL, "%s: %zu prices until %s, breaker %s", tariff_provider_name(f->provider),
                     f->fresh.n, until, tariff_breaker_state_name(done->breaker));
        } else {
            struct prices_status st;
            prices_status(d, &st);
            char last[32] = "never";
            if (st.last_success_ms) ocpp_time_format(st.last_success_ms, last);
            log_warn("prices", NULL, "%s: fetch failed (%s): %s; breaker %s, last success %s",
                     tariff_provider_name(f->provider), tariff_outcome_name(done->res.outcome), done->res.error,
                     tariff_breaker_state_name(done->breaker), last);
        }
        /* Which link of the fallback chain the next day of slots comes from, for the operator's log. */
        int64_t start = done->at_ms / (15 * TARIFF_MS_PER_MIN) * (15 * TARIFF_MS_PER_MIN);
        struct tariff_price slots[96];
        char err[128], text[64];
        if (prices_slots(d, start, 15 * TARIFF_MS_PER_MIN, 96, slots, err, sizeof err) == 0)
            log_info("prices", NULL, "next 24 h priced from %s",
                     tariff_sources_text(tariff_sources_used(slots, 96), text, sizeof text));
        if (done->res.outcome == TARIFF_OK && prices_on_update) prices_on_update(d);
    }
    tariff_series_free(&done->series);
    free(done);
}

int prices_slots(struct depot *d, int64_t start_ms, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
                 size_t err_len)
{
    struct price_feed *f = feed_of(d);
    if (!f) {
        snprintf(err, err_len, "no price feed");
        return -1;
    }
    return tariff_slots(start_ms, slot_ms, n, f->fresh.n ? &f->fresh : NULL, f->stored.n ? &f->stored : NULL,
                        f->stored.n ? &f->stored : NULL, f->fallback, f->tz, out, err, err_len);
}

void prices_status(struct depot *d, struct prices_status *out)
{
    struct price_feed *f = feed_of(d);
    memset(out, 0, sizeof *out);
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    *out = f->status;
    pthread_mutex_unlock(&f->mu);
}

/* ---- worker side -------------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct depot *d = arg;
    struct price_feed *f = feed_of(d);
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        int64_t now = now_ms();
        int64_t next = tariff_next_fetch(&f->schedule, now, f->last_attempt_ms, f->last_success_ms,
                                         f->covered_until_ms, &f->breaker);
        if (next > now) {
            /* `next` is on the planning clock (maybe simulated); the wait is on the real clock. */
            int64_t wake = depot_wall_ms() + depot_clock_real_delay_ms(next);
            struct timespec ts = {.tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000};
            pthread_cond_timedwait(&f->cv, &f->mu, &ts);
            continue; /* re-evaluate: stop, or the time has come */
        }
        pthread_mutex_unlock(&f->mu);

        struct fetch_done *done = calloc(1, sizeof *done);
        now = now_ms();
        f->last_attempt_ms = now;
        if (done && tariff_breaker_allow(&f->breaker, now)) {
            /* From the start of the current hour, so the slot we are in is priced too. */
            int64_t from = now / TARIFF_MS_PER_HOUR * TARIFF_MS_PER_HOUR;
            tariff_fetch_cancellable(f->provider, from, from + f->horizon_ms, &done->series, &done->res, &f->cancel);
            int64_t end = now_ms();
            tariff_breaker_record(&f->breaker, end, done->res.outcome, done->res.duration_ms,
                                  done->res.retry_after_ms);
            if (done->res.outcome == TARIFF_OK) {
                f->last_success_ms = end;
                if (done->series.n && done->series.v[done->series.n - 1].end_ms > f->covered_until_ms)
                    f->covered_until_ms = done->series.v[done->series.n - 1].end_ms;
            }
            done->breaker = f->breaker.state;
            done->at_ms = end;
            pthread_mutex_lock(&f->mu);
            f->status.fetches++;
            if (done->res.outcome != TARIFF_OK) f->status.failures++;
            f->status.last_outcome = tariff_outcome_name(done->res.outcome);
            f->status.breaker = tariff_breaker_state_name(f->breaker.state);
            f->status.last_success_ms = f->last_success_ms == INT64_MIN ? 0 : f->last_success_ms;
            f->status.covered_until_ms = f->covered_until_ms == INT64_MIN ? 0 : f->covered_until_ms;
            pthread_mutex_unlock(&f->mu);
            if (depot_post(d, on_fetch_done, done)) {
                tariff_series_free(&done->series);
                free(done);
            }
        } else {
            free(done);
        }
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------------------- */

static void on_stored_price(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double price)
{
    struct price_feed *f = ctx;
    if (!f->provider || strcmp(provider, tariff_provider_name(f->provider)) != 0) return;
    tariff_series_push(&f->stored, start_ms, end_ms, price, TARIFF_SRC_CACHED);
    if (end_ms > f->covered_until_ms) f->covered_until_ms = end_ms;
}

static void feed_free(struct price_feed *f)
{
    if (!f) return;
    tariff_provider_free(f->provider);
    tariff_provider_free(f->fallback);
    tariff_tz_free(f->tz);
    tariff_series_free(&f->stored);
    tariff_series_free(&f->fresh);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

int prices_start(struct depot *d, char *err, size_t err_len)
{
    struct price_feed *f = calloc(1, sizeof *f);
    if (!f) return -1;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    char inner[256] = "";
    f->tz = tariff_tz_load(d->cfg.timezone, NULL, inner, sizeof inner);
    if (!f->tz) {
        snprintf(err, err_len, "timezone: %s", inner);
        goto fail;
    }
    const cJSON *section = d->cfg.tariff, *item;
    cJSON_ArrayForEach(item, section) {
        static const char *const known[] = {"provider", "fallback", "breaker", "schedule", NULL};
        bool ok = item->string[0] == '_';
        for (int i = 0; known[i] && !ok; i++) ok = strcmp(item->string, known[i]) == 0;
        if (!ok) {
            snprintf(err, err_len, "tariff.%s: unknown key (provider, fallback, breaker, schedule)", item->string);
            goto fail;
        }
    }
    const cJSON *provider_cfg = cJSON_GetObjectItemCaseSensitive(section, "provider");
    const cJSON *breaker_cfg = cJSON_GetObjectItemCaseSensitive(section, "breaker");
    const cJSON *schedule_cfg = cJSON_GetObjectItemCaseSensitive(section, "schedule");
    const cJSON *fallback_cfg = cJSON_GetObjectItemCaseSensitive(section, "fallback");
    cJSON *dflt = NULL;
    if (!fallback_cfg) fallback_cfg = dflt = cJSON_Parse("{\"type\":\"fixed\",\"name\":\"fallback\",\"price\":0.30}");
    f->fallback = tariff_provider_from_json(fallback_cfg, inner, sizeof inner);
    cJSON_Delete(dflt);
    if (!f->fallback || !tariff_provider_is_static(f->fallback)) {
        snprintf(err, err_len, "tariff.fallback: %s", f->fallback ? "must be a static tariff (tou or fixed)" : inner);
        goto fail;
    }
    f->horizon_ms = (int64_t)d->cfg.price_horizon_h * TARIFF_MS_PER_HOUR;
    f->last_attempt_ms = f->last_success_ms = f->covered_until_ms = INT64_MIN;
    snprintf(f->status.provider, sizeof f->status.provider, "%s", "none");
    f->status.breaker = "none";
    f->status.last_outcome = "none";
    if (provider_cfg) {
        f->provider = tariff_provider_from_json(provider_cfg, inner, sizeof inner);
        if (!f->provider) {
            snprintf(err, err_len, "tariff.provider: %s", inner);
            goto fail;
        }
        struct tariff_breaker_config bc;
        tariff_breaker_config_default(&bc);
        if (breaker_cfg && tariff_breaker_config_from_json(breaker_cfg, &bc, inner, sizeof inner)) {
            snprintf(err, err_len, "tariff.breaker: %s", inner);
            goto fail;
        }
        tariff_breaker_init(&f->breaker, &bc);
        tariff_schedule_for(f->provider, &f->schedule);
        if (schedule_cfg && tariff_schedule_from_json(schedule_cfg, &f->schedule, inner, sizeof inner)) {
            snprintf(err, err_len, "tariff.schedule: %s", inner);
            goto fail;
        }
        snprintf(f->status.provider, sizeof f->status.provider, "%s", tariff_provider_name(f->provider));
        f->status.breaker = tariff_breaker_state_name(f->breaker.state);
    }
    d->prices = f;
    int64_t now = now_ms();
    if (store_each_price(d->store, now - HISTORY_MS, INT64_MAX, on_stored_price, f)) {
        snprintf(err, err_len, "cannot read stored prices");
        d->prices = NULL;
        goto fail;
    }
    f->status.covered_until_ms = f->covered_until_ms == INT64_MIN ? 0 : f->covered_until_ms;
    if (f->provider) {
        if (pthread_create(&f->thread, NULL, worker_main, d)) {
            snprintf(err, err_len, "cannot start the price worker thread");
            d->prices = NULL;
            goto fail;
        }
        f->thread_started = true;
        log_info("prices", NULL, "provider %s (%s), %zu stored prices, fallback %s, zone %s",
                 tariff_provider_name(f->provider), tariff_kind_name(tariff_provider_kind(f->provider)),
                 f->stored.n, tariff_provider_name(f->fallback), d->cfg.timezone);
    } else {
        log_info("prices", NULL, "no price provider configured: the fallback tariff %s prices every slot",
                 tariff_provider_name(f->fallback));
    }
    return 0;
fail:
    feed_free(f);
    return -1;
}

void prices_stop(struct depot *d)
{
    struct price_feed *f = feed_of(d);
    if (!f) return;
    if (f->thread_started) {
        atomic_store(&f->cancel, 1);
        pthread_mutex_lock(&f->mu);
        f->stop = true;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->thread, NULL);
    }
    d->prices = NULL;
    feed_free(f);
}
