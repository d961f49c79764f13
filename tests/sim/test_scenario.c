/* Depot file, scenario file, ACN-Data sessions, report buckets and prices. */
#include "check.h"
#include "report.h"
#include "scenario.h"
#include "simtime.h"

#include <stdlib.h>

static void test_depot(void)
{
    char err[256] = "";
    struct sim_depot *d = sim_depot_parse(
        "{\"gridLimitKw\":100,\"stations\":[{\"id\":\"AC\",\"count\":3,\"evses\":2,\"ac\":{\"phases\":3,"
        "\"maxCurrentA\":16,\"voltageV\":230},\"rateUnits\":[\"A\"],\"periodsPerSchedule\":12},"
        "{\"id\":\"DC1\",\"dc\":{\"maxPowerKw\":150},\"rateUnits\":[\"W\"]}]}", err, sizeof err);
    CHECK(d != NULL, "depot parses (%s)", err);
    if (!d)
        return;
    CHECK(d->n == 4, "count 3 expands to 3 stations plus 1 (%d)", d->n);
    CHECK(strcmp(d->stations[0].id, "AC0001") == 0 && strcmp(d->stations[2].id, "AC0003") == 0, "numbered ids");
    CHECK_NEAR(d->stations[0].spec.evse_max_w, 16 * 3 * 230, 1e-9, "AC EVSE max = 16 A x 3 x 230 V");
    CHECK(d->stations[0].spec.unit_a && !d->stations[0].spec.unit_w, "rate unit A only");
    CHECK(d->stations[0].spec.periods_per_schedule == 12, "PeriodsPerSchedule read");
    CHECK(d->stations[3].spec.dc && d->stations[3].spec.evse_max_w == 150000, "DC 150 kW");
    CHECK_NEAR(d->grid_limit_w, 100000, 1e-9, "grid limit");
    sim_depot_free(d);

    static const char *bad[] = {
        "{\"stations\":[{\"evses\":1}]}",
        "{\"stations\":[{\"id\":\"X\",\"evses\":0}]}",
        "{\"stations\":[{\"id\":\"X\",\"rateUnits\":[\"kW\"]}]}",
        "{\"stations\":[{\"id\":\"X\"},{\"id\":\"X\"}]}",
        "{\"stations\":[{\"id\":\"X\",\"ac\":{\"phases\":2}}]}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        d = sim_depot_parse(bad[i], err, sizeof err);
        CHECK(d == NULL && err[0], "bad depot refused with a reason: %s", err);
        sim_depot_free(d);
    }
}

static void test_scenario(void)
{
    char err[256] = "";
    struct sim_scenario *s = sim_scenario_parse(
        "{\"start\":\"2026-11-26T17:00:00Z\",\"evDefaults\":{\"capacityKwh\":50,\"efficiency\":0.9},\"visits\":["
        "{\"ev\":\"VAN-2\",\"station\":\"CS1\",\"evse\":2,\"arrival\":\"2026-11-26T19:00:00Z\",\"departure\":"
        "\"2026-11-27T06:00:00Z\",\"targetSoc\":0.8,\"arrivalSoc\":0.3},"
        "{\"ev\":\"VAN-1\",\"evse\":\"any\",\"arrival\":\"2026-11-26T18:00:00Z\",\"departure\":"
        "\"2026-11-27T05:00:00Z\",\"energyKwh\":18,\"iso15118\":true}]}", err, sizeof err);
    CHECK(s != NULL, "scenario parses (%s)", err);
    if (!s)
        return;
    CHECK(s->n == 2 && strcmp(s->visits[0].ev.id, "VAN-1") == 0, "visits sorted by arrival");
    /* 18 kWh grid x 0.9 into 50 kWh from 0.2: target 0.2 + 0.324 = 0.524. */
    CHECK_NEAR(s->visits[0].target_soc, 0.524, 1e-9, "energy need to target SoC");
    CHECK(s->visits[0].iso15118 && s->visits[0].evse == 0 && !s->visits[0].station[0], "any EVSE, ISO 15118");
    /* Target 0.8 from 0.3 of 50 kWh at 0.9: 0.5 x 50000 / 0.9 = 27777.8 Wh. */
    CHECK_NEAR(s->visits[1].requested_wh, 25000 / 0.9, 1e-6, "target SoC to energy need");
    CHECK(s->visits[1].evse == 2 && strcmp(s->visits[1].station, "CS1") == 0, "fixed EVSE");
    CHECK(s->end_ms > s->visits[1].departure_ms, "end after the last departure");
    sim_scenario_free(s);

    static const char *bad[] = {
        "{\"visits\":[{\"arrival\":\"2026-11-26T19:00:00Z\",\"departure\":\"2026-11-26T18:00:00Z\"}]}",
        "{\"visits\":[{\"arrival\":\"yesterday\",\"departure\":\"2026-11-26T18:00:00Z\"}]}",
        "{\"visits\":[{\"arrival\":\"2026-11-26T17:00:00Z\",\"departure\":\"2026-11-26T18:00:00Z\",\"energyKwh\":500}]}",
        "{\"visits\":[{\"evse\":1,\"arrival\":\"2026-11-26T17:00:00Z\",\"departure\":\"2026-11-26T18:00:00Z\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        s = sim_scenario_parse(bad[i], err, sizeof err);
        CHECK(s == NULL && err[0], "bad scenario refused: %s", err);
        sim_scenario_free(s);
    }
}

static void test_acn(const char *data_dir)
{
    char err[256] = "", path[1024];
    snprintf(path, sizeof path, "%s/acn-sessions-2021-05-06.json", data_dir);
    struct sim_scenario *all = sim_scenario_load_acn(path, 0, 0, err, sizeof err);
    CHECK(all != NULL, "ACN file loads (%s)", err);
    if (!all)
        return;
    /* The README says 775 sessions; a session without duration would be dropped. */
    CHECK(all->n > 700 && all->n <= 775, "ACN sessions: %d", all->n);
    int64_t from, to;
    sim_time_parse("2021-05-03T00:00:00Z", &from);
    sim_time_parse("2021-05-04T00:00:00Z", &to);
    struct sim_scenario *day = sim_scenario_load_acn(path, from, to, err, sizeof err);
    CHECK(day && day->n > 0 && day->n < all->n, "one day selected: %d visits", day ? day->n : -1);
    bool inside = true, fits = true;
    for (int i = 0; day && i < day->n; i++) {
        inside = inside && day->visits[i].arrival_ms >= from && day->visits[i].arrival_ms < to;
        fits = fits && day->visits[i].target_soc <= 1.0 && day->visits[i].requested_wh > 0;
    }
    CHECK(inside, "every selected arrival within the day");
    CHECK(fits, "every need fits its battery");
    sim_scenario_free(day);
    sim_scenario_free(all);

    /* The fields as documented, in a hand-made session. */
    struct sim_scenario *one = sim_scenario_parse_acn(
        "[{\"connectionTime\":\"Sat, 01 May 2021 20:42:47 GMT\",\"disconnectTime\":\"Sat, 01 May 2021 21:32:12 GMT\","
        "\"kWhDelivered\":3.5,\"userInputs\":[{\"kWhRequested\":7.5,\"requestedDeparture\":"
        "\"Sat, 01 May 2021 22:00:00 GMT\"}]}]", 0, 0, err, sizeof err);
    int64_t arr, rd;
    sim_time_parse("2021-05-01T20:42:47Z", &arr);
    sim_time_parse("2021-05-01T22:00:00Z", &rd);
    CHECK(one && one->n == 1 && one->visits[0].arrival_ms == arr && one->visits[0].requested_departure_ms == rd &&
              fabs(one->visits[0].requested_wh - 7500) < 1e-6, "ACN fields: time, kWhRequested, requestedDeparture");
    sim_scenario_free(one);
}

static void test_report(void)
{
    int64_t t0;
    sim_time_parse("2026-11-26T00:00:00Z", &t0);
    struct sim_report *r = sim_report_new(t0, t0 + 10 * 60000, 50000);
    /* 60 kW for 90 s from 00:00:30: minute 0 gets 30 s (500 Wh), minute 1 all 60 s (1000 Wh). */
    sim_report_energy(r, t0 + 30000, 90000, 1500);
    CHECK_NEAR(sim_report_minute_kw(r, 0), 30, 1e-9, "minute 0 average 30 kW");
    CHECK_NEAR(sim_report_minute_kw(r, 1), 60, 1e-9, "minute 1 average 60 kW");
    struct sim_vehicle_result *v = sim_report_vehicle(r);
    v->requested_wh = 1000;
    v->delivered_wh = 995;
    v = sim_report_vehicle(r);
    v->requested_wh = 1000;
    v->delivered_wh = 500;
    struct sim_prices p = {0};
    int64_t tp[2] = {t0, t0 + 60000};
    double pr[2] = {0.10, 0.30};
    p.n = 2;
    p.t_ms = tp;
    p.eur_kwh = pr;
    struct sim_site_summary s;
    sim_report_summary(r, &p, &s);
    CHECK_NEAR(s.max_kw, 60, 1e-9, "max minute power");
    CHECK(s.minutes_above == 1, "one minute above 50 kW");
    CHECK_NEAR(s.worst_exceed_kw, 10, 1e-9, "worst exceedance 10 kW");
    CHECK_NEAR(s.cost_eur, 0.5 * 0.10 + 1.0 * 0.30, 1e-9, "cost 0.35 EUR");
    CHECK(s.vehicles == 2 && s.vehicles_met == 1, "one of two vehicles met its need");
    CHECK(isnan(sim_prices_at(&p, t0 - 1)), "no price before the first row");
    sim_report_free(r);
}

int main(int argc, char **argv)
{
    test_depot();
    test_scenario();
    if (argc > 1)
        test_acn(argv[1]);
    else
        CHECK(0, "data dir argument missing");
    test_report();
    return CHECK_DONE();
}
