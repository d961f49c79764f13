/* floors.c - the floor grant (floors.h). Loop thread in depotd; pure. */
#include <stdlib.h>

#include "floors.h"

double floors_budget(double limit_w, double committed_w, double demand_w, double floors_w, double reserve_pct)
{
    double left = limit_w - committed_w;
    if (left <= 0) return 0;
    double spare = left - demand_w;      /* what the sessions could not use anyway */
    double b = reserve_pct / 100.0 * limit_w;
    if (spare > b) b = spare;
    if (b > floors_w) b = floors_w;
    return b < left ? b : left;
}

struct order {
    int i, rank, station;
    bool had;
    double w;
};

static int by_order(const void *pa, const void *pb)
{
    const struct order *a = pa, *b = pb;
    if (a->had != b->had) return a->had ? -1 : 1;
    if (a->rank != b->rank) return a->rank - b->rank;
    if (a->w != b->w) return a->w < b->w ? -1 : 1; /* whole stations: the smaller first, more of them fit */
    return a->station != b->station ? a->station - b->station : a->i - b->i;
}

/* One entry per ask, or per station (its first ask's index, the sum of its floors) when whole_station. */
static int collect(const struct floor_ask *a, int n, bool whole_station, struct order *o)
{
    int m = 0, rank = 0;
    for (int i = 0; i < n; i++) {
        bool first = i == 0 || a[i].station != a[i - 1].station;
        rank = first ? 0 : rank + 1;
        if (whole_station && !first) {
            o[m - 1].w += a[i].w;
            o[m - 1].had |= a[i].had;
            continue;
        }
        o[m++] = (struct order){.i = i, .rank = whole_station ? 0 : rank, .station = a[i].station, .had = a[i].had,
                                .w = a[i].w};
    }
    return m;
}

double floors_grant(struct floor_ask *a, int n, double budget_w, bool whole_station)
{
    for (int i = 0; i < n; i++) a[i].granted = false;
    if (n <= 0) return 0;
    struct order *o = calloc((size_t)n, sizeof *o);
    if (!o) return 0; /* no floors: the sessions keep the limit, the guarantee holds without them */
    int m = collect(a, n, whole_station, o);
    qsort(o, (size_t)m, sizeof *o, by_order);
    double used = 0;
    for (int k = 0; k < m; k++) {
        if (used + o[k].w > budget_w + 1e-6) continue;
        used += o[k].w;
        for (int i = o[k].i; i < n && a[i].station == o[k].station; i++) {
            a[i].granted = true;
            if (!whole_station) break;
        }
    }
    free(o);
    return used;
}
