/* The building's load (site_load.h) through the loop's seam (fake_port.h): the plan keeps charging under the
 * connection's limit less the load in every slot, and the fail-safe under the limit less the horizon's highest
 * load, by hand-computed cases. Prices are flat (0.25): without a load both vans charge at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"

#define HOUR 3600000LL

/* One station of two 22 kW EVSEs behind 44 kW; VAN-A and VAN-B need 20 kWh each by T0 + 4 h. */
#define VANS "\"site_limit_kw\": 44, \"horizon_h\": 6, \"departure_hedge_new_pct\": 0, \"vehicles\": [" \
    "{\"id\": \"VAN-A\", \"id_tokens\": [\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}], \"needs\": [" \
    "{\"vehicle\": \"VAN-A\", \"departure\": \"2027-01-01T04:00:00Z\", \"energy_kwh\": 20}, " \
    "{\"vehicle\": \"VAN-B\", \"departure\": \"2027-01-01T04:00:00Z\", \"energy_kwh\": 20}]"

/* The workshop: 30 kW in the first hour, 4 kW after. */
static double workshop(int64_t t) { return t < T0 + HOUR ? 30 : 4; }
/* A cold store that starts at T0 + 6 h: 0 kW before, 16 kW after. */
static double cold_store(int64_t t) { return t < T0 + 6 * HOUR ? 0 : 16; }
static double flat(int64_t t) { return (void)t, 10; }

static struct control *two_vans(const char *failsafe)
{
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{" VANS ", \"failsafe\": \"%s\"}", failsafe);
    struct control *ctl = loop_new(1, cfg);
    if (!ctl) return NULL;
    boot(ctl, 0, 2);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 0, 2, "Started", "TOK-B");
    settle(ctl);
    return ctl;
}

static double slot_kw(const struct ctl_plan *p, int t)
{
    double kw = 0;
    for (int i = 0; i < p->n; i++) kw += p->kw[(size_t)i * p->slots + t];
    return kw;
}

/* 44 - 30 = 14 kW in the first hour, 44 - 4 = 40 after: the 41.2 kWh planned (20 each and the 3 % margin) take
 * 14 kWh in the first hour and the other 27.2 after, so the plan's peak is 40 kW, never 44. */
static void test_plan_under_load(const char *failsafe)
{
    F.site_load = workshop;
    struct control *ctl = two_vans(failsafe);
    CHECK(ctl && ctl->plan, "%s: planned", failsafe);
    if (!ctl || !ctl->plan) return;
    const struct ctl_plan *p = ctl->plan;
    int bad = 0;
    double first_hour = 0, total = 0;
    for (int t = 0; t < p->slots; t++) {
        double want = p->at[t] < T0 + HOUR ? 14 : 40, kw = slot_kw(p, t);
        double h = (double)(p->at[t + 1] - p->at[t]) / HOUR;
        /* After the vans leave (T0 + 4 h) their EVSEs' fail-safe is reserved out of it. */
        bool exact = p->at[t] < T0 + 4 * HOUR;
        if ((exact ? fabs(p->site_limit_kw[t] - want) > 1e-6 : p->site_limit_kw[t] > want + 1e-6) && bad++ < 3)
            CHECK(0, "%s: slot %d's limit %.3f kW, want %.0f", failsafe, t, p->site_limit_kw[t], want);
        if (kw > want + 1e-6 && bad++ < 3) CHECK(0, "%s: slot %d plans %.3f kW above %.0f", failsafe, t, kw, want);
        if (p->at[t] < T0 + HOUR) first_hour += kw * h;
        total += kw * h;
    }
    CHECK(!bad, "%s: every slot's limit is 44 kW less the workshop (less reservations after the departure), and the "
                "plan under it", failsafe);
    CHECK(fabs(first_hour - 14) < 0.05, "%s: 14 kWh in the workshop's hour (%.3f)", failsafe, first_hour);
    CHECK(fabs(total - 41.2) < 0.1, "%s: all 41.2 kWh still planned (%.3f)", failsafe, total);
    CHECK(fabs(ctl_failsafe_limit_kw(ctl, F.now) - 14) < 1e-9, "%s: the fail-safe keeps under 44 - 30 = 14 kW (%.3f)",
          failsafe, ctl_failsafe_limit_kw(ctl, F.now));
    ctl_free(ctl);
    F.site_load = NULL;
}

/* Eight idle single-EVSE stations, 1 kW floors, 20 kW connection. The cold store's 16 kW starts in 6 hours: the
 * floors, which hold while depotd is down, get 20 - 16 = 4 kW now already, so 4 of the 8 keep one. Without the
 * load all 8 do. */
static int floors_kept(double (*load)(int64_t))
{
    F.site_load = load;
    struct control *ctl = loop_new(8, "{\"site_limit_kw\": 20, \"failsafe\": \"TxDefaultProfile\", "
                                      "\"failsafe_evse_kw\": 1}");
    int kept = -1;
    if (ctl) {
        for (int s = 0; s < 8; s++) boot(ctl, s, 1);
        settle(ctl);
        ctl_replan(ctl, "test");
        settle(ctl);
        kept = 0;
        for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) kept += cs->evse[1].floor;
        ctl_free(ctl);
    }
    F.site_load = NULL;
    return kept;
}

static void test_floors(void)
{
    int without = floors_kept(NULL), with = floors_kept(cold_store);
    CHECK(without == 8, "no building: every idle EVSE keeps its 1 kW floor (%d)", without);
    CHECK(with == 4, "the cold store's 16 kW in 6 h: 4 floors of 1 kW fit in 20 - 16 (%d)", with);
}

/* Station maxima: each station's cap holds while depotd is down. Eight stations share 20 - 16 = 4 kW (500 W each)
 * as their fail-safe, and every cap sent adds up under 20 kW less the load at each moment, also past the horizon
 * (where the load is taken at its highest). */
static void test_station_caps(void)
{
    F.site_load = cold_store;
    struct control *ctl = loop_new(8, "{\"site_limit_kw\": 20, \"failsafe\": \"ChargingStationMaxProfile\", "
                                      "\"horizon_h\": 12}");
    CHECK(ctl != NULL, "built");
    if (!ctl) return;
    for (int s = 0; s < 8; s++) boot(ctl, s, 1);
    settle(ctl);
    ctl_replan(ctl, "test");
    settle(ctl);
    CHECK(fabs(ctl_failsafe_station_w(ctl) - 500) < 1e-6, "the fail-safe share: (20 - 16) / 8 = 500 W (%.1f)",
          ctl_failsafe_station_w(ctl));
    int64_t at[] = {F.now, T0 + 5 * HOUR, T0 + 7 * HOUR, T0 + 40 * HOUR};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        double sum = 0;
        for (int s = 0; s < 8; s++) sum += cap_w(s, at[k]);
        double room = (20 - cold_store(at[k])) * 1000 + 1;
        CHECK(sum <= room, "caps at T0 + %.0f h add up to %.0f W, within %.0f", (double)(at[k] - T0) / HOUR, sum, room);
    }
    ctl_free(ctl);
    F.site_load = NULL;
}

/* A fetch that changes the load by more than half a kW anywhere re-plans; the same load again does not. */
static void test_refresh(void)
{
    F.site_load = flat;
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 20}");
    CHECK(ctl != NULL, "built");
    if (!ctl) return;
    CHECK(ctl_site_load_refresh(ctl), "the first load is news");
    CHECK(!ctl_site_load_refresh(ctl), "the same load again is not");
    CHECK(fabs(ctl_site_limit_kw(ctl, F.now) - 10) < 1e-9 && fabs(ctl_site_load_kw(ctl, T0 + 500 * HOUR) - 10) < 1e-9,
          "20 - 10 now; beyond the horizon the horizon's highest");
    F.site_load = workshop;
    CHECK(ctl_site_load_refresh(ctl), "a workshop that starts is");
    CHECK(fabs(ctl_site_limit_kw(ctl, F.now) - 0) < 1e-9, "30 kW of load leaves nothing of 20, not less than nothing");
    F.site_load = NULL;
    CHECK(ctl_site_load_refresh(ctl) && fabs(ctl_site_limit_kw(ctl, F.now) - 20) < 1e-9, "no feed: the connection's 20");
    ctl_free(ctl);
}

/* PV making 20 kW for the first two hours beside the workshop: with TxDefaultProfile the plan counts it (44 - 30 +
 * 20 = 34 kW for charging in the first hour), the fail-safe does not (still 44 - 30 = 14: clouds may come while
 * depotd is down). With station maxima the caps are that fail-safe: they keep to 14 kW in the first hour. */
static double pv(int64_t t) { return t < T0 + 2 * HOUR ? 20 : 0; }

static void test_pv(void)
{
    F.site_load = workshop;
    F.site_supply = pv;
    struct control *ctl = two_vans("TxDefaultProfile");
    CHECK(ctl && ctl->plan, "planned with PV");
    if (ctl && ctl->plan) {
        CHECK(fabs(ctl->plan->site_limit_kw[0] - 34) < 1e-6, "TxDefaultProfile: charging gets 44 - 30 + 20 = 34 kW now "
              "(%.3f)", ctl->plan->site_limit_kw[0]);
        CHECK(fabs(slot_kw(ctl->plan, 0) - 34) < 0.01, "and the vans take it (%.3f)", slot_kw(ctl->plan, 0));
        CHECK(fabs(ctl_failsafe_limit_kw(ctl, F.now) - 14) < 1e-9, "the fail-safe still keeps under 14 kW (%.3f)",
              ctl_failsafe_limit_kw(ctl, F.now));
    }
    ctl_free(ctl);
    ctl = two_vans("ChargingStationMaxProfile");
    CHECK(ctl && ctl->plan, "station maxima with PV: planned");
    if (ctl && ctl->plan) {
        CHECK(cap_w(0, F.now) <= 14000.5, "the station's cap, its fail-safe, keeps to 14 kW now (%.0f W)", cap_w(0, F.now));
        CHECK(slot_kw(ctl->plan, 0) <= 14.001, "and the plan within it (%.3f)", slot_kw(ctl->plan, 0));
    }
    ctl_free(ctl);
    F.site_load = NULL;
    F.site_supply = NULL;
}

int main(void)
{
    test_plan_under_load("TxDefaultProfile");
    test_plan_under_load("ChargingStationMaxProfile");
    test_floors();
    test_station_caps();
    test_refresh();
    test_pv();
    loop_free();
    return CHECK_DONE();
}
