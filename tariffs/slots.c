/* The fallback chain, slot by slot: fresh market prices, then stored ones, then an hour-of-week forecast from
 * the last four weeks, then the static fallback tariff. A slot takes its whole price from one source, so the
 * plan record can say exactly which sources a plan used. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WEEK_MS (7 * TARIFF_MS_PER_DAY)
#define PIECE_MS (5 * TARIFF_MS_PER_MIN)

/* First interval with end > t (series sorted by start, intervals not overlapping). */
static size_t first_after(const struct tariff_series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].end_ms <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Time-weighted mean over [a, b) if the series covers all of it without a hole. */
static bool cover(const struct tariff_series *s, int64_t a, int64_t b, double *price)
{
    if (!s || s->n == 0)
        return false;
    double sum = 0;
    int64_t t = a;
    for (size_t i = first_after(s, a); i < s->n && t < b; i++) {
        const struct tariff_price *p = &s->v[i];
        if (p->start_ms > t)
            return false;
        int64_t e = p->end_ms < b ? p->end_ms : b;
        if (e <= t)
            continue;
        sum += p->price * (double)(e - t);
        t = e;
    }
    if (t < b)
        return false;
    *price = sum / (double)(b - a);
    return true;
}

struct how_stats {
    double sum[168], weight[168];
    unsigned weeks[168]; /* bit per week of the 4 that had data */
};

static int hour_of_week(const tariff_tz *tz, int64_t t)
{
    struct tariff_local lt;
    tariff_tz_to_local(tz, t, &lt);
    return ((lt.wday + 6) % 7) * 24 + lt.hour; /* Monday 00h = 0 */
}

static void build_forecast(const struct tariff_series *h, int64_t start, const tariff_tz *tz, struct how_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!h)
        return;
    int64_t from = start - 4 * WEEK_MS;
    for (size_t i = first_after(h, from); i < h->n && h->v[i].start_ms < start; i++) {
        const struct tariff_price *p = &h->v[i];
        if (!isfinite(p->price))
            continue;
        /* 5-minute pieces: an interval's local hour is decided piece by piece (30-minute-offset zones). */
        for (int64_t t = p->start_ms > from ? p->start_ms : from; t < p->end_ms && t < start; t += PIECE_MS) {
            int k = hour_of_week(tz, t);
            st->sum[k] += p->price;
            st->weight[k] += 1;
            st->weeks[k] |= 1u << (int)((t - from) / WEEK_MS);
        }
    }
}

static bool forecast(const struct how_stats *st, const tariff_tz *tz, int64_t a, int64_t b, double *price)
{
    double sum = 0;
    int n = 0;
    for (int64_t t = a; t < b; t += PIECE_MS) {
        int k = hour_of_week(tz, t);
        if (__builtin_popcount(st->weeks[k]) < 2) /* one week is an anecdote, not a pattern */
            return false;
        sum += st->sum[k] / st->weight[k];
        n++;
    }
    if (n == 0)
        return false;
    *price = sum / n;
    return true;
}

static double static_mean(const tariff_provider *p, int64_t a, int64_t b)
{
    double sum = 0, v;
    int n = 0;
    for (int64_t t = a; t < b; t += PIECE_MS, n++) {
        tariff_static_price(p, t, &v);
        sum += v;
    }
    return n ? sum / n : 0;
}

int tariff_slots(int64_t start_ms, int64_t slot_ms, size_t n_slots, const struct tariff_series *fresh,
                 const struct tariff_series *stored, const struct tariff_series *history,
                 const tariff_provider *fallback, const tariff_tz *tz, struct tariff_price *out, char *err,
                 size_t errlen)
{
    if (slot_ms < PIECE_MS || slot_ms % PIECE_MS != 0 || n_slots == 0 || !out)
        return tariff_err(err, errlen, "slots: slot length must be a positive multiple of 5 minutes"), -1;
    if (!fallback || !tariff_provider_is_static(fallback))
        return tariff_err(err, errlen, "slots: a static fallback tariff (tou or fixed) is required"), -1;
    static _Thread_local struct how_stats st; /* 4 KiB: not on small worker stacks */
    build_forecast(history, start_ms, tz, &st);
    for (size_t i = 0; i < n_slots; i++) {
        int64_t a = start_ms + (int64_t)i * slot_ms, b = a + slot_ms;
        struct tariff_price *o = &out[i];
        o->start_ms = a;
        o->end_ms = b;
        if (cover(fresh, a, b, &o->price))
            o->source = TARIFF_SRC_MARKET;
        else if (cover(stored, a, b, &o->price))
            o->source = TARIFF_SRC_CACHED;
        else if (forecast(&st, tz, a, b, &o->price))
            o->source = TARIFF_SRC_FORECAST;
        else {
            o->price = static_mean(fallback, a, b);
            o->source = TARIFF_SRC_FALLBACK;
        }
    }
    return 0;
}

unsigned tariff_sources_used(const struct tariff_price *slots, size_t n)
{
    unsigned m = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned)slots[i].source < TARIFF_SRC_COUNT)
            m |= 1u << slots[i].source;
    return m;
}

const char *tariff_sources_text(unsigned mask, char *buf, size_t len)
{
    size_t k = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (int s = 0; s < TARIFF_SRC_COUNT; s++)
        if (mask & (1u << s)) {
            int w = snprintf(buf + k, len - k, "%s%s", k ? "+" : "", tariff_source_name(s));
            if (w < 0 || (size_t)w >= len - k)
                break;
            k += (size_t)w;
        }
    return buf;
}
