/* Which idle EVSEs keep a fail-safe floor when they do not all fit (src/floors.c), by hand-computed cases: the
 * ACN depot at 60 kW (14 stations x 4 EVSEs, floors of 1.4 kW: 78.4 kW of floors), the same at 150 kW where they
 * all fit, a TxDefaultProfile depot granted by whole stations, and floors that stay where they were. */
#include <string.h>

#include "../store/check.h"
#include "floors.h"

static void depot(struct floor_ask *a, int stations, int evses, double w)
{
    for (int s = 0; s < stations; s++)
        for (int e = 0; e < evses; e++) a[s * evses + e] = (struct floor_ask){.station = s, .w = w};
}

static int granted(const struct floor_ask *a, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += a[i].granted;
    return k;
}

static void test_budget(void)
{
    /* 60 kW, 8 sessions of 6.6 kW (52.8 kW): 7.2 kW spare beats 10 % (6 kW). */
    CHECK(floors_budget(60000, 0, 52800, 78400, 10) == 7200, "spare 7.2 kW (%.0f)", floors_budget(60000, 0, 52800, 78400, 10));
    /* 20 sessions (132 kW) at 60 kW: nothing spare, the floors get 10 % of the limit. */
    CHECK(floors_budget(60000, 0, 132000, 78400, 10) == 6000, "10 %% of the limit when nothing is spare");
    /* 150 kW, 20 sessions: 150 - 132 = 18 kW spare beats 10 % (15 kW); with few sessions every floor fits. */
    CHECK(floors_budget(150000, 0, 132000, 78400, 10) == 18000, "150 kW, 20 sessions: 18 kW spare");
    CHECK(floors_budget(150000, 0, 20000, 78400, 10) == 78400, "few sessions: every floor");
    /* Committed reservations (a station without a fail-safe) come off first; never more than is left. */
    CHECK(floors_budget(60000, 58000, 0, 78400, 10) == 2000, "no more than the 2 kW left (%.0f)",
          floors_budget(60000, 58000, 0, 78400, 10));
    CHECK(floors_budget(60000, 70000, 0, 78400, 10) == 0, "nothing left: no floors");
    CHECK(floors_budget(60000, 0, 0, 0, 10) == 0, "no idle EVSE: nothing");
}

static void test_grant_round_robin(void)
{
    struct floor_ask a[56];
    depot(a, 14, 4, 1400);
    double w = floors_grant(a, 56, 7200, false);
    CHECK(w == 7000 && granted(a, 56) == 5, "7.2 kW: five floors of 1.4 kW (%.0f W, %d)", w, granted(a, 56));
    CHECK(a[0].granted && a[4].granted && a[8].granted && a[12].granted && a[16].granted && !a[1].granted &&
              !a[20].granted,
          "one EVSE of each of the first five stations, not two of one");
    w = floors_grant(a, 56, 30000, false);
    int second = 0;
    for (int s = 0; s < 14; s++) second += a[s * 4 + 1].granted;
    CHECK(w == 29400 && granted(a, 56) == 21 && second == 7, "30 kW: every station one, then seven a second (%d)",
          second);
    w = floors_grant(a, 56, 1e9, false);
    CHECK(granted(a, 56) == 56 && w == 78400, "room for all: all");
    CHECK(floors_grant(a, 56, 1000, false) == 0 && granted(a, 56) == 0, "less than one floor: none");
}

static void test_grant_keeps(void)
{
    struct floor_ask a[56];
    depot(a, 14, 4, 1400);
    a[55].had = a[54].had = true; /* the last station's two EVSEs had floors */
    floors_grant(a, 56, 4200, false);
    CHECK(a[55].granted && a[54].granted && a[0].granted && granted(a, 56) == 3,
          "floors stay where they were, then the round goes on");
}

static void test_grant_whole_station(void)
{
    /* Stations of 4, 2 and 1 idle EVSEs (TxDefaultProfile: one value per station). */
    struct floor_ask a[7];
    const int st[7] = {0, 0, 0, 0, 1, 1, 2};
    for (int i = 0; i < 7; i++) a[i] = (struct floor_ask){.station = st[i], .w = 1400};
    double w = floors_grant(a, 7, 5000, true);
    CHECK(w == 4200 && a[6].granted && a[4].granted && a[5].granted && !a[0].granted,
          "5 kW: the 1- and 2-EVSE stations (4.2 kW), not the 4-EVSE one (%.0f)", w);
    a[0].had = true;
    w = floors_grant(a, 7, 6000, true);
    CHECK(w == 5600 && a[0].granted && a[3].granted && !a[4].granted && !a[6].granted,
          "the station that had its floors keeps them first (%.0f)", w);
}

int main(void)
{
    test_budget();
    test_grant_round_robin();
    test_grant_keeps();
    test_grant_whole_station();
    return CHECK_DONE();
}
