/* departures.c - the departures kept, learned from ended sessions (the contract is in departures.h). */
#include "departures.h"

#include <stdlib.h>

bool departures_add(struct departures *d, int64_t started_ms, int64_t told_ms, int64_t ended_ms)
{
    if (told_ms - started_ms < DEPARTURES_MIN_STAY_MS) return false;
    double kept = (double)(ended_ms - started_ms) / (double)(told_ms - started_ms);
    if (kept < 0) kept = 0;
    if (kept > 1) kept = 1; /* staying longer says nothing more than staying */
    d->kept[d->next] = (float)kept;
    d->next = (d->next + 1) % DEPARTURES_KEEP;
    if (d->n < DEPARTURES_KEEP) d->n++;
    return true;
}

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double departures_hedge_pct(const struct departures *d, double max_pct, double new_pct)
{
    if (d->n < DEPARTURES_MIN_SEEN) return new_pct;
    float sorted[DEPARTURES_KEEP];
    for (int i = 0; i < d->n; i++) sorted[i] = d->kept[i];
    qsort(sorted, (size_t)d->n, sizeof sorted[0], by_value);
    /* The lower quantile: of 8 sessions the third shortest (two left before it). */
    int k = (int)(DEPARTURES_EARLY_SHARE * d->n);
    if (k >= d->n) k = d->n - 1;
    double pct = 100.0 * (1.0 - sorted[k]);
    if (pct < 0) pct = 0;
    return pct < max_pct ? pct : max_pct;
}
