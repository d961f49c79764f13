/* clock_offset.c - a station's clock offset from its timestamps (the contract is in clock_offset.h). */
#include "clock_offset.h"

#include <stdlib.h>

void clock_offset_sample(struct clock_offset *c, int64_t station_ms, int64_t now_ms, double noise_ms)
{
    int cap = (int)(sizeof c->samples / sizeof c->samples[0]);
    c->samples[c->next] = station_ms - now_ms;
    if (station_ms % 1000) c->sub_second = true;
    c->next = (c->next + 1) % cap;
    if (c->n < cap) c->n++;
    int64_t hi = c->samples[0];
    for (int i = 1; i < c->n; i++)
        if (c->samples[i] > hi) hi = c->samples[i];
    /* The largest climbs as fresher stamps come after older ones: it counts once it holds still. */
    if (c->known && (double)llabs(hi - c->offset_ms) <= noise_ms) {
        c->stable++;
    } else {
        c->stable = 0;
        c->stable_since_ms = now_ms;
    }
    /* Three before it is known: the largest of a few is the fresh one. */
    if (c->n < 3) return;
    c->known = true;
    c->offset_ms = hi;
    if (clock_offset_settled(c, now_ms)) {
        c->settled_ms = hi;
        c->has_settled = true;
    }
}

bool clock_offset_settled(const struct clock_offset *c, int64_t now_ms)
{
    return c->known && c->stable >= 2 && now_ms - c->stable_since_ms >= CLOCK_OFFSET_SETTLE_MS;
}

int64_t clock_offset_in_force(const struct clock_offset *c, int64_t now_ms, double noise_ms, int64_t tolerance_ms)
{
    int64_t est;
    if (clock_offset_settled(c, now_ms)) est = c->offset_ms;
    else if (c->has_settled) est = c->settled_ms;
    else return 0;
    int64_t off = llabs(est);
    return (double)off > noise_ms && off <= tolerance_ms ? est : 0;
}

void clock_offset_window(const struct clock_offset *c, int64_t now_ms, double noise_ms, int64_t tolerance_ms,
                         int64_t transit_ms, int64_t *offset_ms, int64_t *uncertainty_ms)
{
    int64_t est = clock_offset_in_force(c, now_ms, noise_ms, tolerance_ms);
    int64_t width = est == 0 ? 0 : (transit_ms > 0 ? transit_ms : 0) + (c->sub_second ? 1 : 1000);
    *offset_ms = est + width / 2;
    *uncertainty_ms = width - width / 2;
}

bool clock_offset_fresh(int64_t rx_us, int64_t answered_us, int64_t rtt_us)
{
    int64_t rtt = rtt_us > 0 ? rtt_us : 10000; /* a slow link on loopback */
    return rx_us - answered_us > 2 * rtt + 1000;
}
