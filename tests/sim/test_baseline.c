/* Uncontrolled baseline: fair sharing of the site limit, hardware caps, plugging, exact visit windows; the
 * report helpers the live table uses; the shared clock (--clock-anchor); the "late" test. */
#include "baseline.h"
#include "check.h"
#include "report.h"
#include "scenario.h"
#include "simtime.h"

#include <stdlib.h>

#define T0 "2026-11-26T18:00:00Z"

static struct sim_depot *depot(const char *json)
{
    char err[256] = "";
    struct sim_depot *d = sim_depot_parse(json, err, sizeof err);
    CHECK(d != NULL, "depot parses (%s)", err);
    return d;
}

static struct sim_scenario *scenario(const char *json)
{
    char err[256] = "";
    struct sim_scenario *s = sim_scenario_parse(json, err, sizeof err);
    CHECK(s != NULL, "scenario parses (%s)", err);
    return s;
}

static const struct sim_vehicle_result *vehicle(const struct sim_report *r, const char *id)
{
    /* The report keeps vehicles in the order they left; find by name. */
    const struct sim_vehicle_result *v;
    for (int i = 0; (v = sim_report_vehicle_at(r, i)); i++)
        if (strcmp(v->ev, id) == 0)
            return v;
    return NULL;
}

static void test_share_fair(void)
{
    double out[3];
    sim_share_fair((double[]){11000, 11000}, 2, 15000, out);
    CHECK_NEAR(out[0], 7500, 1e-9, "two equal EVs over the limit: half each");
    CHECK_NEAR(out[1], 7500, 1e-9, "two equal EVs over the limit: half each (second)");
    sim_share_fair((double[]){3000, 11000}, 2, 10000, out);
    CHECK_NEAR(out[0], 3000, 1e-9, "the EV that wants less than its share gets what it wants");
    CHECK_NEAR(out[1], 7000, 1e-9, "and leaves the rest to the other");
    sim_share_fair((double[]){2, 4, 10}, 3, 12, out);
    CHECK(out[0] == 2 && out[1] == 4 && out[2] == 6, "water filling over three (%.1f %.1f %.1f)", out[0], out[1],
          out[2]);
    sim_share_fair((double[]){5, 6}, 2, 100, out);
    CHECK(out[0] == 5 && out[1] == 6, "under the limit: everyone gets what it wants");
    sim_share_fair((double[]){5, 6}, 2, -1, out);
    CHECK(out[0] == 5 && out[1] == 6, "no limit");
    sim_share_fair((double[]){0, 8, 8}, 3, 4, out);
    CHECK(out[0] == 0 && out[1] == 2 && out[2] == 2, "an EV that wants nothing takes no share");
}

/* Two 11 kW vans on a 15 kW site, both needing 10 kWh: 7.5 kW each, done after 80 minutes. */
static void test_two_share_the_site(void)
{
    struct sim_depot *d = depot("{\"gridLimitKw\":15,\"stations\":[{\"id\":\"S\",\"evses\":2,"
                                "\"ac\":{\"phases\":3,\"maxCurrentA\":32,\"voltageV\":230}}]}");
    struct sim_scenario *s = scenario(
        "{\"start\":\"" T0 "\",\"end\":\"2026-11-26T20:00:00Z\",\"evDefaults\":{\"capacityKwh\":100,\"maxPowerKw\":11,"
        "\"efficiency\":1,\"arrivalSoc\":0.1},\"visits\":["
        "{\"ev\":\"A\",\"arrival\":\"" T0 "\",\"departure\":\"2026-11-26T20:00:00Z\",\"energyKwh\":10},"
        "{\"ev\":\"B\",\"arrival\":\"" T0 "\",\"departure\":\"2026-11-26T20:00:00Z\",\"energyKwh\":10}]}");
    if (!d || !s)
        return;
    char err[256] = "";
    struct sim_baseline_options o = {.grid_limit_w = d->grid_limit_w};
    struct sim_report *r = sim_baseline_run(d, s, &o, err, sizeof err);
    CHECK(r != NULL, "baseline runs (%s)", err);
    if (r) {
        struct sim_site_summary sum;
        sim_report_summary(r, NULL, &sum);
        CHECK(sum.vehicles == 2 && sum.vehicles_met == 2, "both met (%d of %d)", sum.vehicles_met, sum.vehicles);
        CHECK_NEAR(sum.max_kw, 15, 1e-6, "the site at its limit, not above");
        CHECK(sum.minutes_above == 0, "no minute above the limit");
        CHECK_NEAR(sim_report_minute_kw(r, 0), 15, 1e-6, "minute 0: 7.5 + 7.5 kW");
        CHECK_NEAR(sim_report_minute_kw(r, 79), 15, 1e-6, "minute 79: still 15 kW");
        CHECK_NEAR(sim_report_minute_kw(r, 80), 0, 1e-6, "minute 80: both done (10 kWh at 7.5 kW = 80 min)");
        CHECK_NEAR(sim_report_average_kw(r, 1795716000000LL, 1795716000000LL + 60 * 60000), 15, 1e-6,
                   "average over the first hour");
        sim_report_free(r);
    }
    sim_scenario_free(s);
    sim_depot_free(d);
}

/* A 3 kW EV and an 11 kW EV on a 10 kW site for an hour: 3 and 7 kW. */
static void test_small_one_leaves_the_rest(void)
{
    struct sim_depot *d = depot("{\"gridLimitKw\":10,\"stations\":[{\"id\":\"S\",\"evses\":2,"
                                "\"ac\":{\"phases\":3,\"maxCurrentA\":32,\"voltageV\":230}}]}");
    struct sim_scenario *s = scenario(
        "{\"start\":\"" T0 "\",\"end\":\"2026-11-26T19:30:00Z\",\"evDefaults\":{\"capacityKwh\":100,"
        "\"efficiency\":1,\"arrivalSoc\":0.1},\"visits\":["
        "{\"ev\":\"SMALL\",\"maxPowerKw\":3,\"arrival\":\"" T0 "\",\"departure\":\"2026-11-26T19:00:00Z\","
        "\"energyKwh\":20},"
        "{\"ev\":\"BIG\",\"maxPowerKw\":11,\"arrival\":\"" T0 "\",\"departure\":\"2026-11-26T19:00:00Z\","
        "\"energyKwh\":20}]}");
    if (!d || !s)
        return;
    char err[256] = "";
    struct sim_baseline_options o = {.grid_limit_w = d->grid_limit_w, .step_ms = 10000};
    struct sim_report *r = sim_baseline_run(d, s, &o, err, sizeof err);
    CHECK(r != NULL, "baseline runs (%s)", err);
    if (r) {
        const struct sim_vehicle_result *small = vehicle(r, "SMALL"), *big = vehicle(r, "BIG");
        CHECK(small && big, "both reported");
        if (small && big) {
            CHECK_NEAR(small->delivered_wh, 3000, 1e-6, "SMALL: its own 3 kW for an hour");
            CHECK_NEAR(big->delivered_wh, 7000, 1e-6, "BIG: the 7 kW SMALL left");
            CHECK_NEAR(big->max_power_w, 11000, 1e-9, "max power = the EV's own (EVSE 22 kW)");
        }
        sim_report_free(r);
    }
    sim_scenario_free(s);
    sim_depot_free(d);
}

/* Hardware: a station connection of 11 kW shared by its two EVSEs; a 3-EVSE-visit rush on 2 EVSEs; exact
 * windows (arrival and departure mid-minute); taper above the knee; named station and EVSE. */
static void test_hardware_and_plugging(void)
{
    struct sim_depot *d = depot("{\"stations\":["
                                "{\"id\":\"A\",\"evses\":2,\"stationMaxKw\":11,\"ac\":{\"phases\":3,\"maxCurrentA\":32}},"
                                "{\"id\":\"B\",\"evses\":1,\"ac\":{\"phases\":1,\"maxCurrentA\":16,\"voltageV\":230}}]}");
    struct sim_scenario *s = scenario(
        "{\"start\":\"" T0 "\",\"end\":\"2026-11-26T20:00:00Z\",\"evDefaults\":{\"capacityKwh\":100,\"maxPowerKw\":11,"
        "\"efficiency\":1,\"arrivalSoc\":0.1},\"visits\":["
        "{\"ev\":\"A1\",\"arrival\":\"" T0 "\",\"departure\":\"2026-11-26T19:00:00Z\",\"energyKwh\":50},"
        "{\"ev\":\"A2\",\"arrival\":\"" T0 "\",\"departure\":\"2026-11-26T19:00:00Z\",\"energyKwh\":50},"
        "{\"ev\":\"B1\",\"arrival\":\"2026-11-26T18:00:30Z\",\"departure\":\"2026-11-26T18:01:30Z\",\"energyKwh\":5},"
        "{\"ev\":\"NONE\",\"arrival\":\"2026-11-26T18:01:00Z\",\"departure\":\"2026-11-26T18:30:00Z\",\"energyKwh\":5},"
        "{\"ev\":\"NAMED\",\"station\":\"A\",\"evse\":2,\"arrival\":\"2026-11-26T19:00:00Z\","
        "\"departure\":\"2026-11-26T19:30:00Z\",\"energyKwh\":50},"
        "{\"ev\":\"TAPER\",\"station\":\"A\",\"evse\":1,\"arrival\":\"2026-11-26T19:00:00Z\","
        "\"departure\":\"2026-11-26T20:00:00Z\",\"arrivalSoc\":0.9,\"targetSoc\":1.0}]}");
    if (!d || !s)
        return;
    char err[256] = "";
    struct sim_baseline_options o = {.step_ms = 60000};
    struct sim_report *r = sim_baseline_run(d, s, &o, err, sizeof err);
    CHECK(r != NULL, "baseline runs (%s)", err);
    if (r) {
        const struct sim_vehicle_result *a1 = vehicle(r, "A1"), *b1 = vehicle(r, "B1"), *none = vehicle(r, "NONE"),
                                        *named = vehicle(r, "NAMED"), *taper = vehicle(r, "TAPER");
        CHECK(a1 && b1 && none && named && taper, "all reported");
        if (a1 && b1 && none && named && taper) {
            CHECK_NEAR(a1->delivered_wh, 5500, 1e-6, "station connection 11 kW shared: 5.5 kW x 1 h");
            CHECK_NEAR(b1->delivered_wh, 3680.0 / 60, 1e-6, "B1: 3.68 kW EVSE for exactly its 60 s (mid-minute)");
            CHECK_NEAR(b1->max_power_w, 3680, 1e-9, "max power capped by the EVSE");
            CHECK(!none->plugged && none->delivered_wh == 0, "no free EVSE: not plugged, nothing delivered");
            CHECK(named->plugged && named->evse == 2 && strcmp(named->station, "A") == 0, "named station and EVSE");
            /* 30 min sharing 11 kW with NAMED (5.5 kW, under its taper limit of ~6 kW), then alone but tapering
             * (< 5 kW): well below the 2750 + 5500 Wh it would get without the taper. */
            CHECK(taper->delivered_wh > 2750 && taper->delivered_wh < 5500,
                  "taper above the knee slows it (%.0f Wh in the hour)", taper->delivered_wh);
        }
        /* B1's 61.33 Wh fall half in minute 0 and half in minute 1: nothing before 18:00:30. */
        CHECK_NEAR(sim_report_minute_kw(r, 0), 11 + 3.68 / 2, 1e-6, "minute 0: A's 11 kW + half a minute of B1");
        sim_report_free(r);
    }
    o.step_ms = 500;
    CHECK(sim_baseline_run(d, s, &o, err, sizeof err) == NULL && err[0], "a step below 1 s refused: %s", err);
    sim_scenario_free(s);
    sim_depot_free(d);
}

static void test_report_cost(void)
{
    struct sim_report *r = sim_report_new(0, 3 * 3600000LL, 0);
    sim_report_energy(r, 0, 3 * 3600000LL, 30000); /* 10 kW for 3 h */
    int64_t t[] = {0, 3600000};
    double p[] = {0.10, 0.30};
    struct sim_prices prices = {.n = 2, .t_ms = t, .eur_kwh = p};
    CHECK_NEAR(sim_report_cost_until(r, &prices, 3600000), 1.0, 1e-9, "first hour at 0.10");
    CHECK_NEAR(sim_report_cost_until(r, &prices, 3 * 3600000LL), 7.0, 1e-9, "three hours: 1 + 3 + 3");
    CHECK_NEAR(sim_report_average_kw(r, 0, 7200000), 10, 1e-9, "average kW");
    sim_report_free(r);
}

static void test_clock_anchor(void)
{
    struct sim_clock c;
    int64_t start = 1795716000000LL, anchor = 1795705773824LL;
    /* Wall clock 1 s after the anchor, monotonic clock at 5000 ms: one real second at 600x = 10 simulated min. */
    sim_clock_anchor(&c, start, 600, anchor, anchor + 1000, 5000);
    CHECK(sim_clock_now(&c, 5000) == start + 600000, "1 s after the anchor: start + 10 min");
    CHECK(sim_clock_now(&c, 5010) == start + 606000, "runs on the monotonic clock");
    sim_clock_anchor(&c, start, 600, anchor, anchor - 2000, 5000);
    CHECK(sim_clock_now(&c, 5000) == start - 1200000, "2 s before the anchor: 20 simulated min before the start");
    CHECK(sim_clock_real_delay(&c, 5000, start) == 2001, "the scenario starts at the anchor (%lld ms)",
          (long long)sim_clock_real_delay(&c, 5000, start));
}

static void test_shortfall(void)
{
    struct sim_ev ev;
    struct sim_ev_spec spec = {.capacity_wh = 100000, .max_power_w = 11000, .taper_soc = 0.8, .taper_floor = 0.1,
                               .efficiency = 1};
    sim_ev_init(&ev, &spec, 0.1, 0.2); /* 10 kWh to go */
    CHECK_NEAR(sim_ev_shortfall_wh(&ev, 11000, 1800), 4500, 1e-6, "30 min at 11 kW leaves 4.5 kWh missing");
    CHECK(sim_ev_shortfall_wh(&ev, 11000, 3600) == 0, "an hour is enough");
    CHECK_NEAR(sim_ev_shortfall_wh(&ev, 11000, -60), 10000, 1e-6, "past departure: all of it");
}

int main(void)
{
    test_share_fair();
    test_two_share_the_site();
    test_small_one_leaves_the_rest();
    test_hardware_and_plugging();
    test_report_cost();
    test_clock_anchor();
    test_shortfall();
    return CHECK_DONE();
}
