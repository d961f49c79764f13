/*
 * feed.c - a provider's series fetched on a worker thread, stored, and evaluated for slots. See feed.h.
 */
#include "feed.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "depot.h"
#include "log.h"

struct feed {
    struct depot *d;
    struct feed **slot;
    const struct feed_spec *spec;
    tariff_provider *provider;  /* NULL: the fallback alone */
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
    atomic_int cancel;          /* set by feed_stop: ends a fetch in progress */
    struct feed_status status;

    /* loop thread */
    struct tariff_series stored;  /* every fetch and what was stored, sorted, no overlaps */
    struct tariff_series fresh;   /* the latest successful fetch */
};

/* The result of one fetch, handed from the worker to the loop. */
struct fetch_done {
    struct feed *f;
    struct tariff_series series;
    struct tariff_fetch_result res;
    enum tariff_breaker_state breaker;
    int64_t at_ms;
};

/* The planning clock: a feed covers the hours the planner plans (simulated in a demo). */
static int64_t now_ms(void) { return depot_now_ms(); }

/* ---- loop side ---------------------------------------------------------------------------------------- */

/* Replaces what `stored` says of [fresh.first.start, fresh.last.end) by `fresh`, keeps the order, and drops
 * what is older than the history the forecast needs. */
static void merge_into_stored(struct feed *f, const struct tariff_series *fresh, int64_t now)
{
    if (!fresh->n) return;
    int64_t from = fresh->v[0].start_ms, to = fresh->v[fresh->n - 1].end_ms;
    struct tariff_series out = {0};
    size_t i = 0;
    for (; i < f->stored.n && f->stored.v[i].start_ms < from; i++)
        if (f->stored.v[i].end_ms > now - f->spec->history_ms && f->stored.v[i].end_ms <= from)
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

static void store_fetch(struct feed *f, const struct fetch_done *done)
{
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
    struct store_event ev = {.time_ms = done->at_ms, .type = f->spec->event_type, .data = json};
    store_append(f->d->store, &ev);
    cJSON_free(json);
    cJSON_Delete(o);
}

static void on_fetch_done(struct depot *d, void *arg)
{
    struct fetch_done *done = arg;
    struct feed *f = done->f;
    (void)d;
    /* Posted just before feed_stop joined the worker: the feed is gone. */
    if (f && *f->slot == f) {
        const char *tag = f->spec->tag;
        store_fetch(f, done);
        if (done->res.outcome == TARIFF_OK) {
            char until[32] = "-";
            merge_into_stored(f, &done->series, done->at_ms);
            tariff_series_free(&f->fresh);
            f->fresh = done->series;
            done->series = (struct tariff_series){0};
            ocpp_time_format(f->fresh.v[f->fresh.n - 1].end_ms, until);
            log_msg(f->spec->quiet ? LOG_DEBUG : LOG_INFO, tag, NULL, "%s: %zu %s until %s, breaker %s",
                    tariff_provider_name(f->provider), f->fresh.n, f->spec->what, until, tariff_breaker_state_name(done->breaker));
        } else {
            struct feed_status st;
            feed_status(f, &st);
            char last[32] = "never";
            if (st.last_success_ms) ocpp_time_format(st.last_success_ms, last);
            log_warn(tag, NULL, "%s: fetch failed (%s): %s; breaker %s, last success %s",
                     tariff_provider_name(f->provider), tariff_outcome_name(done->res.outcome), done->res.error,
                     tariff_breaker_state_name(done->breaker), last);
        }
        if (f->spec->on_fetch) f->spec->on_fetch(f->d, done->res.outcome == TARIFF_OK ? &f->fresh : NULL, done->at_ms);
    }
    tariff_series_free(&done->series);
    free(done);
}

int feed_slots(struct feed *f, int64_t start_ms, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
               size_t err_len)
{
    if (!f) {
        snprintf(err, err_len, "no feed");
        return -1;
    }
    return tariff_slots(start_ms, slot_ms, n, f->fresh.n ? &f->fresh : NULL, f->stored.n ? &f->stored : NULL,
                        f->stored.n ? &f->stored : NULL, f->fallback, f->tz, out, err, err_len);
}

void feed_status(struct feed *f, struct feed_status *out)
{
    memset(out, 0, sizeof *out);
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    *out = f->status;
    pthread_mutex_unlock(&f->mu);
}

const tariff_provider *feed_fallback(const struct feed *f) { return f ? f->fallback : NULL; }

/* ---- worker side -------------------------------------------------------------------------------------- */

/* One fetch, from the start of the current hour so the slot we are in is covered too. */
static void fetch_once(struct feed *f)
{
    struct fetch_done *done = calloc(1, sizeof *done);
    int64_t now = now_ms();
    f->last_attempt_ms = now;
    if (!done || !tariff_breaker_allow(&f->breaker, now)) {
        free(done);
        return;
    }
    done->f = f;
    int64_t from = now / TARIFF_MS_PER_HOUR * TARIFF_MS_PER_HOUR;
    tariff_fetch_cancellable(f->provider, from, from + f->horizon_ms, &done->series, &done->res, &f->cancel);
    int64_t end = now_ms();
    tariff_breaker_record(&f->breaker, end, done->res.outcome, done->res.duration_ms, done->res.retry_after_ms);
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
    if (depot_post(f->d, on_fetch_done, done)) {
        tariff_series_free(&done->series);
        free(done);
    }
}

static void *worker_main(void *arg)
{
    struct feed *f = arg;
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
        fetch_once(f);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------------------- */

static void on_stored(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double v)
{
    struct feed *f = ctx;
    if (!f->provider || strcmp(provider, tariff_provider_name(f->provider)) != 0) return;
    tariff_series_push(&f->stored, start_ms, end_ms, v, TARIFF_SRC_CACHED);
    if (end_ms > f->covered_until_ms) f->covered_until_ms = end_ms;
}

static void feed_free(struct feed *f)
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

static bool known_key(const struct feed_spec *spec, const char *k)
{
    static const char *const common[] = {"provider", "fallback", "breaker", "schedule", NULL};
    if (k[0] == '_') return true;
    for (int i = 0; common[i]; i++)
        if (strcmp(k, common[i]) == 0) return true;
    for (int i = 0; spec->extra_keys && spec->extra_keys[i]; i++)
        if (strcmp(k, spec->extra_keys[i]) == 0) return true;
    return false;
}

/* The provider with its breaker and schedule, from the section's keys. */
static int configure_provider(struct feed *f, const cJSON *section, char *err, size_t err_len)
{
    const char *key = f->spec->key;
    char inner[256] = "";
    f->provider = tariff_provider_from_json(cJSON_GetObjectItemCaseSensitive(section, "provider"), inner, sizeof inner);
    if (!f->provider) {
        snprintf(err, err_len, "%s.provider: %s", key, inner);
        return -1;
    }
    struct tariff_breaker_config bc;
    tariff_breaker_config_default(&bc);
    const cJSON *breaker_cfg = cJSON_GetObjectItemCaseSensitive(section, "breaker");
    if (breaker_cfg && tariff_breaker_config_from_json(breaker_cfg, &bc, inner, sizeof inner)) {
        snprintf(err, err_len, "%s.breaker: %s", key, inner);
        return -1;
    }
    tariff_breaker_init(&f->breaker, &bc);
    tariff_schedule_for(f->provider, &f->schedule);
    const cJSON *schedule_cfg = cJSON_GetObjectItemCaseSensitive(section, "schedule");
    if (schedule_cfg && tariff_schedule_from_json(schedule_cfg, &f->schedule, inner, sizeof inner)) {
        snprintf(err, err_len, "%s.schedule: %s", key, inner);
        return -1;
    }
    snprintf(f->status.provider, sizeof f->status.provider, "%s", tariff_provider_name(f->provider));
    f->status.breaker = tariff_breaker_state_name(f->breaker.state);
    return 0;
}

struct feed *feed_start(struct depot *d, struct feed **slot, const cJSON *section, const struct feed_spec *spec,
                        int64_t horizon_ms, char *err, size_t err_len)
{
    struct feed *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->d = d, f->slot = slot, f->spec = spec, f->horizon_ms = horizon_ms;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    char inner[256] = "";
    f->tz = tariff_tz_load(d->cfg.timezone, NULL, inner, sizeof inner);
    if (!f->tz) {
        snprintf(err, err_len, "timezone: %s", inner);
        goto fail;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, section) {
        if (!known_key(spec, item->string)) {
            snprintf(err, err_len, "%s.%s: unknown key", spec->key, item->string);
            goto fail;
        }
    }
    const cJSON *fallback_cfg = cJSON_GetObjectItemCaseSensitive(section, "fallback");
    cJSON *dflt = NULL;
    if (!fallback_cfg) fallback_cfg = dflt = cJSON_Parse(spec->default_fallback);
    f->fallback = tariff_provider_from_json(fallback_cfg, inner, sizeof inner);
    cJSON_Delete(dflt);
    if (!f->fallback || !tariff_provider_is_static(f->fallback)) {
        snprintf(err, err_len, "%s.fallback: %s", spec->key, f->fallback ? "must be static (tou or fixed)" : inner);
        goto fail;
    }
    f->last_attempt_ms = f->last_success_ms = f->covered_until_ms = INT64_MIN;
    snprintf(f->status.provider, sizeof f->status.provider, "%s", "none");
    f->status.breaker = "none";
    f->status.last_outcome = "none";
    if (cJSON_GetObjectItemCaseSensitive(section, "provider") && configure_provider(f, section, err, err_len))
        goto fail;
    if (spec->load_stored(d, now_ms() - spec->history_ms, on_stored, f)) {
        snprintf(err, err_len, "%s: cannot read what was stored", spec->key);
        goto fail;
    }
    f->status.covered_until_ms = f->covered_until_ms == INT64_MIN ? 0 : f->covered_until_ms;
    *slot = f;
    if (f->provider) {
        if (pthread_create(&f->thread, NULL, worker_main, f)) {
            snprintf(err, err_len, "%s: cannot start the worker thread", spec->key);
            *slot = NULL;
            goto fail;
        }
        f->thread_started = true;
        log_info(spec->tag, NULL, "provider %s (%s), %zu stored values, fallback %s, zone %s",
                 tariff_provider_name(f->provider), tariff_kind_name(tariff_provider_kind(f->provider)),
                 f->stored.n, tariff_provider_name(f->fallback), d->cfg.timezone);
    }
    return f;
fail:
    feed_free(f);
    return NULL;
}

void feed_stop(struct feed *f)
{
    if (!f) return;
    if (f->thread_started) {
        atomic_store(&f->cancel, 1);
        pthread_mutex_lock(&f->mu);
        f->stop = true;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->thread, NULL);
    }
    *f->slot = NULL;
    feed_free(f);
}
