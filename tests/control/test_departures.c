/* The departures kept (src/departures.c), by hand-computed cases: nothing learned from fewer than eight sessions,
 * a depot whose vehicles keep their departures gets no hedge, one whose drivers leave early gets the stay a
 * quarter of them left before, capped; what does not count (short stays told); only the last 64 count. */
#include <string.h>

#include "../store/check.h"
#include "departures.h"

#define H (3600 * 1000LL)

/* A session told to stay `told_h` hours that stayed `stayed_h`. */
static void add(struct departures *d, double told_h, double stayed_h)
{
    departures_add(d, 10 * H, 10 * H + (int64_t)(told_h * H), 10 * H + (int64_t)(stayed_h * H));
}

static void test_nothing_learned_yet(void)
{
    struct departures d;
    memset(&d, 0, sizeof d);
    for (int i = 0; i < 7; i++) add(&d, 8, 1);
    CHECK(departures_hedge_pct(&d, 90, 0) == 0, "seven sessions: no hedge yet (%.1f)", departures_hedge_pct(&d, 90, 0));
    CHECK(departures_hedge_pct(&d, 90, 90) == 90, "seven sessions, a new depot's 90 %%: 90 %%");
    add(&d, 8, 1);
    /* Eight sessions that each stayed 1 of 8 hours told: the hedge is 87.5 %. */
    CHECK(departures_hedge_pct(&d, 90, 0) == 87.5, "eight sessions at 1/8: 87.5 %% (%.2f)", departures_hedge_pct(&d, 90, 0));
    CHECK(departures_hedge_pct(&d, 90, 90) == 87.5, "eight sessions: the new depot's value no longer counts");
}

static void test_departures_kept(void)
{
    struct departures d;
    memset(&d, 0, sizeof d);
    /* Twelve vans: ten left on time, one stayed an hour longer, one left at half its stay. */
    for (int i = 0; i < 10; i++) add(&d, 9, 9);
    add(&d, 9, 10);
    add(&d, 9, 4.5);
    /* Sorted shares: 0.5, then eleven 1.0; the quantile is index 3 (12 / 4): 1.0, no hedge. */
    CHECK(departures_hedge_pct(&d, 90, 90) == 0, "departures kept: no hedge (%.2f)", departures_hedge_pct(&d, 90, 90));
}

static void test_early_leavers(void)
{
    struct departures d;
    memset(&d, 0, sizeof d);
    /* Shares 0.1, 0.2, ..., 0.8 (told 10 h, stayed 1..8 h). 8 / 4 = index 2: 0.3 -> 70 %. */
    for (int i = 1; i <= 8; i++) add(&d, 10, i);
    double pct = departures_hedge_pct(&d, 90, 0);
    CHECK(pct > 69.99 && pct < 70.01, "a quarter left before 30 %% of the stay: hedge 70 %% (%.3f)", pct);
    CHECK(departures_hedge_pct(&d, 50, 0) == 50, "capped at max_pct");
    /* Shares 0.05 x 8: 95 % asked, 90 allowed. */
    struct departures e;
    memset(&e, 0, sizeof e);
    for (int i = 0; i < 8; i++) add(&e, 20, 1);
    CHECK(departures_hedge_pct(&e, 90, 0) == 90, "95 %% asked, 90 %% the most (%.2f)", departures_hedge_pct(&e, 90, 0));
}

static void test_what_does_not_count(void)
{
    struct departures d;
    memset(&d, 0, sizeof d);
    /* Told 10 minutes: not a stay to learn from. */
    for (int i = 0; i < 20; i++) add(&d, 10.0 / 60, 0.01);
    CHECK(d.n == 0, "stays told under 15 minutes are ignored (%d)", d.n);
    CHECK(!departures_add(&d, 10 * H, 10 * H + 14 * 60000, 11 * H), "and the caller hears so (nothing logged)");
    /* Ended before it started (a clock jump): counts as leaving at once, not as a negative share. */
    CHECK(departures_add(&d, 10 * H, 12 * H, 9 * H), "a stay told two hours counts");
    CHECK(d.n == 1 && d.kept[0] == 0, "a negative stay counts as 0 (%f)", d.kept[0]);
}

static void test_only_the_last_count(void)
{
    struct departures d;
    memset(&d, 0, sizeof d);
    /* 64 early leavers (1 of 16 h: 93.75 % asked, 90 allowed), then 63 that keep their departures: the early
     * ones are forgotten. */
    for (int i = 0; i < DEPARTURES_KEEP; i++) add(&d, 16, 1);
    CHECK(departures_hedge_pct(&d, 90, 0) == 90, "64 at 1/16: 90 %% (%.2f)", departures_hedge_pct(&d, 90, 0));
    for (int i = 0; i < DEPARTURES_KEEP - 1; i++) add(&d, 10, 10);
    CHECK(departures_hedge_pct(&d, 90, 0) == 0, "63 kept of the last 64: no hedge (%.2f)", departures_hedge_pct(&d, 90, 0));
    CHECK(d.n == DEPARTURES_KEEP, "the ring holds 64 (%d)", d.n);
}

int main(void)
{
    test_nothing_learned_yet();
    test_departures_kept();
    test_early_leavers();
    test_what_does_not_count();
    test_only_the_last_count();
    return CHECK_DONE();
}
