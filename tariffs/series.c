/* Price series, their plausibility rules, names for the enums, and price composition. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tariff_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *tariff_source_name(enum tariff_source s)
{
    static const char *const n[] = {"market", "cached", "forecast", "fallback"};
    return (unsigned)s < TARIFF_SRC_COUNT ? n[s] : "unknown";
}

const char *tariff_outcome_name(enum tariff_outcome o)
{
    static const char *const n[] = {"ok",    "timeout",    "transport", "http_error", "rate_limited", "too_large",
                                    "parse", "empty",      "implausible", "config"};
    return (unsigned)o < TARIFF_OUTCOME_COUNT ? n[o] : "unknown";
}

const char *tariff_kind_name(enum tariff_kind k)
{
    static const char *const n[] = {"awattar", "entsoe", "energy-charts", "octopus", "tibber",
                                    "elering", "json",   "csv",           "tou",     "fixed"};
    return (unsigned)k < TARIFF_KIND_COUNT ? n[k] : "unknown";
}

int tariff_series_push(struct tariff_series *s, int64_t start_ms, int64_t end_ms, double price,
                       enum tariff_source src)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap > (size_t)1 << 24) /* a year of 1-minute prices is 525k; refuse absurd series */
            return -1;
        struct tariff_price *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (struct tariff_price){start_ms, end_ms, price, src};
    return 0;
}

void tariff_series_clear(struct tariff_series *s) { s->n = 0; }

void tariff_series_free(struct tariff_series *s)
{
    free(s->v);
    *s = (struct tariff_series){0};
}

static void fmt_utc(int64_t ms, char *buf, size_t len)
{
    int y, m, d;
    int64_t sec = tariff_floor_div(ms, 1000), days = tariff_floor_div(sec, 86400), sod = sec - days * 86400;
    tariff_civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02dZ", y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60));
}

int tariff_series_validate(const struct tariff_series *s, double min_price, double max_price, bool any_res,
                           char *err, size_t errlen)
{
    if (s->n == 0)
        return tariff_err(err, errlen, "empty series"), -TARIFF_ERR_EMPTY;
    char when[32];
    for (size_t i = 0; i < s->n; i++) {
        const struct tariff_price *p = &s->v[i];
        int64_t len = p->end_ms - p->start_ms;
        fmt_utc(p->start_ms, when, sizeof when);
        bool res_ok = any_res ? (len > 0 && len % (5 * TARIFF_MS_PER_MIN) == 0 && len <= TARIFF_MS_PER_DAY)
                              : (len == 15 * TARIFF_MS_PER_MIN || len == 30 * TARIFF_MS_PER_MIN ||
                                 len == 60 * TARIFF_MS_PER_MIN);
        if (!res_ok)
            return tariff_err(err, errlen, "interval at %s lasts %lld min, not 15, 30 or 60", when,
                              (long long)(len / TARIFF_MS_PER_MIN)),
                   -TARIFF_ERR_IMPLAUSIBLE;
        if (p->start_ms % (5 * TARIFF_MS_PER_MIN) != 0)
            return tariff_err(err, errlen, "interval at %s does not start on a 5-minute boundary", when),
                   -TARIFF_ERR_IMPLAUSIBLE;
        if (!isfinite(p->price) || p->price < min_price || p->price > max_price)
            return tariff_err(err, errlen, "price %g per kWh at %s outside plausible band [%g, %g] (wrong unit?)",
                              p->price, when, min_price, max_price),
                   -TARIFF_ERR_IMPLAUSIBLE;
        if (i > 0 && p->start_ms != s->v[i - 1].end_ms)
            return tariff_err(err, errlen, "%s at %s", p->start_ms > s->v[i - 1].end_ms ? "gap" : "overlap", when),
                   -TARIFF_ERR_IMPLAUSIBLE;
    }
    return 0;
}

static int cmp_start(const void *a, const void *b)
{
    const struct tariff_price *x = a, *y = b;
    return (x->start_ms > y->start_ms) - (x->start_ms < y->start_ms);
}

/* Providers answer newest first (Octopus) or per day; everything downstream wants ascending order. */
void tariff_series_sort(struct tariff_series *s, size_t from)
{
    if (s->n > from)
        qsort(s->v + from, s->n - from, sizeof *s->v, cmp_start);
}

double tariff_compose(const tariff_provider *p, int64_t at_ms, double market)
{
    double v = market + p->comp.adders;
    if (p->comp.has_grid_fee)
        v += tariff_tou_at(&p->comp.grid_fee, p->tz, at_ms);
    return v * (1.0 + p->comp.vat_percent / 100.0);
}

int tariff_json_keys(const cJSON *obj, const char *where, const char *const *allowed, char *err, size_t errlen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = it->string && strcmp(it->string, *a) == 0;
        if (!ok)
            return tariff_err(err, errlen, "%s: unknown key '%s'", where, it->string ? it->string : "?"), -1;
    }
    return 0;
}
