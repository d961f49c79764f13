/* The depot's feeder tree and phase wiring (circuits.h): the depot file's keys, where a draw lands per grid phase,
 * and the report's per-circuit and per-phase figures. */
#include "baseline.h"
#include "check.h"
#include "circuits.h"
#include "report.h"
#include "scenario.h"

#include <stdlib.h>
#include <unistd.h>

#define MIN_MS 60000LL

static const char *TREE =
    "{\"gridLimitKw\":150,\"circuits\":["
    "{\"id\":\"F2\",\"parent\":\"T1\",\"limitA\":63},"
    "{\"id\":\"T1\",\"limitKw\":400},"
    "{\"id\":\"F1\",\"parent\":\"T1\",\"limitKw\":150},"
    "{\"id\":\"F3\",\"parent\":\"T1\",\"limitKw\":20,\"perPhase\":true}],"
    "\"stations\":["
    "{\"id\":\"A\",\"count\":4,\"circuit\":\"F2\",\"phaseRotations\":[\"L1L2L3\",\"L2L3L1\",\"L3L1L2\"]},"
    "{\"id\":\"B\",\"circuit\":\"F1\",\"phaseRotation\":\"L3L2L1\"},"
    "{\"id\":\"C\"}]}";

static void test_depot_circuits(void)
{
    char err[256] = "";
    struct sim_depot *d = sim_depot_parse(TREE, err, sizeof err);
    CHECK(d != NULL, "a depot with circuits parses (%s)", err);
    if (!d)
        return;
    CHECK(d->ncircuits == 4, "four circuits (%d)", d->ncircuits);
    const struct sim_circuit *f2 = &d->circuits[0], *t1 = &d->circuits[1], *f3 = &d->circuits[3];
    CHECK(strcmp(f2->id, "F2") == 0 && f2->parent == 2, "F2's parent named before it is declared: T1 (%d)",
          f2->parent);
    CHECK(t1->parent == 0 && !t1->per_phase, "T1 directly under the site, total limit");
    CHECK_NEAR(t1->limit_w, 400000, 1e-9, "T1 limitKw 400");
    CHECK(f2->per_phase, "limitA is per phase without saying so");
    CHECK_NEAR(f2->limit_w, 63 * 230.0, 1e-9, "F2 63 A at 230 V = 14490 W per phase");
    CHECK_NEAR(f2->limit_a, 63, 1e-9, "F2 keeps its 63 A");
    CHECK(f3->per_phase && f3->limit_a == 0, "F3 perPhase in kW");
    CHECK_NEAR(f3->limit_w, 20000, 1e-9, "F3 20 kW per phase");
    CHECK(d->n == 6, "4 + 1 + 1 stations (%d)", d->n);
    CHECK(d->stations[0].circuit == 1 && d->stations[3].circuit == 1, "count stations all on F2");
    CHECK(d->stations[0].rotation == sim_rotation_parse("L1L2L3") &&
              d->stations[1].rotation == sim_rotation_parse("L2L3L1") &&
              d->stations[2].rotation == sim_rotation_parse("L3L1L2") &&
              d->stations[3].rotation == sim_rotation_parse("L1L2L3"),
          "phaseRotations cycled over A0001..A0004");
    CHECK(d->stations[4].circuit == 3 && strcmp(sim_rotation_name(d->stations[4].rotation), "L3L2L1") == 0,
          "B on F1, rotation L3L2L1");
    CHECK(d->stations[5].circuit == 0 && d->stations[5].rotation == 0, "C: under the site, L1L2L3 by default");
    sim_depot_free(d);
}

/* Each refusal names the key that is wrong. */
static void test_depot_circuit_errors(void)
{
    static const struct {
        const char *json, *key;
    } bad[] = {
        {"{\"circuits\":[{\"id\":\"A\",\"parent\":\"B\",\"limitKw\":1},{\"id\":\"B\",\"parent\":\"A\",\"limitKw\":1}],"
         "\"stations\":[{\"id\":\"X\"}]}", "circuits[0].parent"},
        {"{\"circuits\":[{\"id\":\"A\",\"parent\":\"A\",\"limitKw\":1}],\"stations\":[{\"id\":\"X\"}]}",
         "circuits[0].parent"},
        {"{\"circuits\":[{\"id\":\"A\",\"parent\":\"T9\",\"limitKw\":1}],\"stations\":[{\"id\":\"X\"}]}",
         "circuits[0].parent: no circuit \"T9\""},
        {"{\"circuits\":[{\"id\":\"A\",\"limitKw\":1},{\"id\":\"A\",\"limitKw\":2}],\"stations\":[{\"id\":\"X\"}]}",
         "circuits[1].id"},
        {"{\"circuits\":[{\"id\":\"A\",\"limitKw\":1,\"limitA\":16}],\"stations\":[{\"id\":\"X\"}]}",
         "exactly one of limitKw and limitA"},
        {"{\"circuits\":[{\"id\":\"A\"}],\"stations\":[{\"id\":\"X\"}]}", "exactly one of limitKw and limitA"},
        {"{\"circuits\":[{\"id\":\"A\",\"limitKw\":0}],\"stations\":[{\"id\":\"X\"}]}", "circuits[0].limitKw"},
        {"{\"circuits\":[{\"id\":\"A\",\"limitA\":16,\"perPhase\":false}],\"stations\":[{\"id\":\"X\"}]}",
         "circuits[0].limitA"},
        {"{\"circuits\":[{\"limitKw\":1}],\"stations\":[{\"id\":\"X\"}]}", "circuits[0].id"},
        {"{\"circuits\":{},\"stations\":[{\"id\":\"X\"}]}", "circuits:"},
        {"{\"circuits\":[{\"id\":\"A\",\"limitKw\":1}],\"stations\":[{\"id\":\"X\",\"circuit\":\"B\"}]}",
         "stations[0].circuit"},
        {"{\"stations\":[{\"id\":\"X\"},{\"id\":\"Y\",\"phaseRotation\":\"L1L1L2\"}]}", "stations[1].phaseRotation"},
        {"{\"stations\":[{\"id\":\"X\",\"phaseRotation\":\"l1l2l3\"}]}", "stations[0].phaseRotation"},
        {"{\"stations\":[{\"id\":\"X\",\"count\":2,\"phaseRotations\":[\"L1L2L3\",\"L2L1\"]}]}",
         "stations[0].phaseRotations[1]"},
        {"{\"stations\":[{\"id\":\"X\",\"phaseRotation\":\"L1L2L3\",\"phaseRotations\":[\"L1L2L3\"]}]}",
         "phaseRotation or phaseRotations"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        struct sim_depot *d = sim_depot_parse(bad[i].json, err, sizeof err);
        CHECK(d == NULL && strstr(err, bad[i].key), "refused, naming %s: %s", bad[i].key, err);
        sim_depot_free(d);
    }
}

static void test_scenario_phases(void)
{
    char err[256] = "";
    struct sim_scenario *s = sim_scenario_parse(
        "{\"evDefaults\":{\"phases\":1},\"visits\":["
        "{\"arrival\":\"2026-11-26T18:00:00Z\",\"departure\":\"2026-11-27T05:00:00Z\",\"energyKwh\":10},"
        "{\"arrival\":\"2026-11-26T19:00:00Z\",\"departure\":\"2026-11-27T05:00:00Z\",\"energyKwh\":10,"
        "\"phases\":3}]}", err, sizeof err);
    CHECK(s && s->visits[0].ev.phases == 1 && s->visits[1].ev.phases == 3, "phases from evDefaults, overridden (%s)",
          err);
    sim_scenario_free(s);
    s = sim_scenario_parse("{\"visits\":[{\"arrival\":\"2026-11-26T18:00:00Z\",\"departure\":\"2026-11-27T05:00:00Z\"}]}",
                           err, sizeof err);
    CHECK(s && s->visits[0].ev.phases == 0, "no phases key: the station's phases");
    sim_scenario_free(s);
    s = sim_scenario_parse("{\"visits\":[{\"arrival\":\"2026-11-26T18:00:00Z\",\"departure\":"
                           "\"2026-11-27T05:00:00Z\",\"phases\":2}]}", err, sizeof err);
    CHECK(!s && strstr(err, "visits[0].phases"), "phases 2 refused: %s", err);
    sim_scenario_free(s);
}

/* A 1-phase EV loads the grid phase its station's L1 is wired to; a 3-phase one, and DC, a third on each. */
static void test_phase_split(void)
{
    struct sim_station_spec ac3 = {.evse_count = 1, .phases = 3, .voltage_v = 230, .evse_max_w = 22080};
    struct sim_station_spec ac1 = {.evse_count = 1, .phases = 1, .voltage_v = 230, .evse_max_w = 7360};
    struct sim_station_spec dc = {.evse_count = 1, .dc = true, .phases = 1, .voltage_v = 400, .evse_max_w = 50000};
    static const char *rot[3] = {"L1L2L3", "L2L3L1", "L3L1L2"};
    for (int k = 0; k < 3; k++) {
        double out[3];
        sim_phase_split(900, &ac3, 1, sim_rotation_parse(rot[k]), out);
        CHECK(out[k] == 900 && out[0] + out[1] + out[2] == 900, "1-phase EV on a %s station loads grid L%d only",
              rot[k], k + 1);
        sim_phase_split(900, &ac1, 0, sim_rotation_parse(rot[k]), out);
        CHECK(out[k] == 900 && out[0] + out[1] + out[2] == 900, "a 1-phase %s station loads grid L%d only", rot[k],
              k + 1);
        sim_phase_split(900, &ac3, 0, sim_rotation_parse(rot[k]), out);
        CHECK(out[0] == 300 && out[1] == 300 && out[2] == 300, "3-phase EV on %s: P/3 each", rot[k]);
        sim_phase_split(900, &ac3, 3, sim_rotation_parse(rot[k]), out);
        CHECK(out[0] == 300 && out[1] == 300 && out[2] == 300, "\"phases\": 3 on %s: P/3 each", rot[k]);
        sim_phase_split(900, &dc, 1, sim_rotation_parse(rot[k]), out);
        CHECK(out[0] == 300 && out[1] == 300 && out[2] == 300, "DC is balanced whatever the wiring (%s)", rot[k]);
    }
    CHECK(sim_rotation_grid_phase(sim_rotation_parse("L2L3L1"), 2) == 0, "L2L3L1: the station's L3 is the grid's L1");
    CHECK_NEAR(sim_evse_max_w_for(&ac3, 1), 7360, 1e-9, "a 1-phase EV gets one phase of a 32 A EVSE");
    CHECK_NEAR(sim_evse_max_w_for(&ac3, 0), 22080, 1e-9, "a 3-phase EV all of it");
    CHECK_NEAR(sim_evse_max_w_for(&dc, 1), 50000, 1e-9, "DC: phases do not apply");
}

/* Three 1-phase vans, 7 kW each, for an hour on stations rotated L1L2L3 / L2L3L1 / L3L1L2 under one per-phase feeder,
 * through the baseline (which feeds the report as `run` does): 7 kW on each grid phase, and the feeder's draw counts
 * in the transformer above it and in the site. A fourth, 3-phase, on a station directly under the site. */
static void test_baseline_per_phase(void)
{
    char err[256] = "";
    struct sim_depot *d = sim_depot_parse(
        "{\"gridLimitKw\":100,\"circuits\":[{\"id\":\"T1\",\"limitKw\":20},"
        "{\"id\":\"F1\",\"parent\":\"T1\",\"limitA\":32},{\"id\":\"F2\",\"parent\":\"T1\",\"limitKw\":50}],"
        "\"stations\":[{\"id\":\"S\",\"count\":3,\"circuit\":\"F1\",\"phaseRotations\":[\"L1L2L3\",\"L2L3L1\","
        "\"L3L1L2\"]},{\"id\":\"X\"}]}", err, sizeof err);
    struct sim_scenario *sc = sim_scenario_parse(
        "{\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T02:00:00Z\",\"evDefaults\":{\"maxPowerKw\":7,"
        "\"phases\":1,\"capacityKwh\":100,\"arrivalSoc\":0.1,\"taperSoc\":1},\"visits\":["
        "{\"station\":\"S0001\",\"arrival\":\"2026-01-01T00:00:00Z\",\"departure\":\"2026-01-01T01:00:00Z\"},"
        "{\"station\":\"S0002\",\"arrival\":\"2026-01-01T00:00:00Z\",\"departure\":\"2026-01-01T01:00:00Z\"},"
        "{\"station\":\"S0003\",\"arrival\":\"2026-01-01T00:00:00Z\",\"departure\":\"2026-01-01T01:00:00Z\"},"
        "{\"station\":\"X\",\"arrival\":\"2026-01-01T00:00:00Z\",\"departure\":\"2026-01-01T01:00:00Z\","
        "\"phases\":3,\"maxPowerKw\":9}]}", err, sizeof err);
    CHECK(d && sc, "depot and scenario parse (%s)", err);
    if (!d || !sc)
        goto out;
    struct sim_baseline_options bo = {.grid_limit_w = d->grid_limit_w};
    struct sim_report *r = sim_baseline_run(d, sc, &bo, err, sizeof err);
    CHECK(r != NULL, "baseline runs (%s)", err);
    if (!r)
        goto out;
    struct sim_circuit_summary t1, f1, f2;
    sim_report_circuit_summary(r, 0, &t1);
    sim_report_circuit_summary(r, 1, &f1);
    sim_report_circuit_summary(r, 2, &f2);
    for (int p = 0; p < 3; p++)
        CHECK_NEAR(f1.phase_max_kw[p], 7, 1e-6, "F1: one van on each grid phase");
    CHECK_NEAR(f1.max_kw, 21, 1e-6, "F1: 21 kW in all");
    CHECK(f1.minutes_above == 0, "F1: 7 kW a phase is under 32 A x 230 V = 7.36 kW (%d)", f1.minutes_above);
    CHECK_NEAR(t1.max_kw, 21, 1e-6, "T1 carries F1's 21 kW");
    CHECK(t1.minutes_above == 60, "T1 (20 kW total) above for the hour (%d)", t1.minutes_above);
    CHECK_NEAR(t1.worst_exceed_kw, 1, 1e-6, "by 1 kW");
    CHECK_NEAR(f2.max_kw, 0, 1e-9, "F2, a sibling, carries nothing");
    struct sim_site_summary s;
    sim_report_summary(r, NULL, &s);
    CHECK_NEAR(s.max_kw, 30, 1e-6, "the site: 21 kW + the 3-phase van's 9");
    for (int p = 0; p < 3; p++)
        CHECK_NEAR(s.phase_max_kw[p], 10, 1e-6, "the site per phase: 7 + 9 / 3");
    sim_report_free(r);
out:
    sim_scenario_free(sc);
    sim_depot_free(d);
}

/* A 1-phase van that could take 11 kW, on a 32 A 3-phase EVSE: one phase's 32 A, 7.36 kW, all on the grid phase the
 * station's L1 is wired to (L3L1L2: the grid's L3). */
static void test_single_phase_van_on_three_phase_evse(void)
{
    char err[256] = "";
    struct sim_depot *d = sim_depot_parse("{\"stations\":[{\"id\":\"S\",\"phaseRotation\":\"L3L1L2\","
                                          "\"ac\":{\"phases\":3,\"maxCurrentA\":32}}]}", err, sizeof err);
    struct sim_scenario *sc = sim_scenario_parse(
        "{\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T01:00:00Z\",\"visits\":[{\"phases\":1,"
        "\"maxPowerKw\":11,\"capacityKwh\":100,\"arrivalSoc\":0.1,\"arrival\":\"2026-01-01T00:00:00Z\","
        "\"departure\":\"2026-01-01T01:00:00Z\"}]}", err, sizeof err);
    struct sim_baseline_options bo = {0};
    struct sim_report *r = d && sc ? sim_baseline_run(d, sc, &bo, err, sizeof err) : NULL;
    CHECK(r != NULL, "baseline runs (%s)", err);
    if (r) {
        struct sim_site_summary s;
        sim_report_summary(r, NULL, &s);
        CHECK_NEAR(s.max_kw, 7.36, 1e-6, "one phase of 32 A: 7.36 kW");
        CHECK_NEAR(s.phase_max_kw[2], 7.36, 1e-6, "on the grid's L3");
        CHECK(s.phase_max_kw[0] == 0 && s.phase_max_kw[1] == 0, "nothing on L1, L2");
        CHECK_NEAR(sim_report_vehicle_at(r, 0)->max_power_w, 7360, 1e-6, "the van's maximum as a plan may use it");
    }
    sim_report_free(r);
    sim_scenario_free(sc);
    sim_depot_free(d);
}

static void add_minute(struct sim_report *r, int circuit, int m, double l1, double l2, double l3)
{
    double wh[3] = {l1 * 1000 / 60, l2 * 1000 / 60, l3 * 1000 / 60}; /* kW for a minute */
    sim_report_energy_phases(r, circuit, m * MIN_MS, MIN_MS, wh);
}

/* By hand: a feeder limited to 10 kW per phase under a transformer limited to 20 kW in total.
 *   minute  L1      L2       L3    total  feeder (worst phase)     transformer
 *   0       12      3        3     18     above by 2 (L1)          under
 *   1       9       9        9     27     under                    above by 7
 *   2       0       10.0005  0     10.0   under (within a watt)    under
 *   3       10.5    0        11    21.5   above by 1 (L3)          above by 1.5 */
static void test_minutes_above_per_phase(void)
{
    struct sim_circuit c[2] = {{.id = "T", .limit_w = 20000}, {.id = "F", .parent = 1, .per_phase = true,
                                                                .limit_w = 10000}};
    struct sim_report *r = sim_report_new(0, 5 * MIN_MS, 0);
    CHECK(r && sim_report_set_circuits(r, c, 2) == 0, "report with two circuits");
    if (!r)
        return;
    add_minute(r, 2, 0, 12, 3, 3);
    add_minute(r, 2, 1, 9, 9, 9);
    add_minute(r, 2, 2, 0, 10.0005, 0);
    add_minute(r, 2, 3, 10.5, 0, 11);
    struct sim_circuit_summary f, t;
    sim_report_circuit_summary(r, 1, &f);
    sim_report_circuit_summary(r, 0, &t);
    CHECK(f.minutes_above == 2, "feeder: minutes 0 and 3 above on their worst phase (%d)", f.minutes_above);
    CHECK_NEAR(f.worst_exceed_kw, 2, 1e-9, "feeder: worst 2 kW over, on L1 in minute 0");
    CHECK_NEAR(f.max_kw, 27, 1e-9, "feeder: highest total 27 kW");
    CHECK_NEAR(f.phase_max_kw[0], 12, 1e-9, "feeder L1 peak 12");
    CHECK_NEAR(f.phase_max_kw[1], 10.0005, 1e-9, "feeder L2 peak 10.0005");
    CHECK_NEAR(f.phase_max_kw[2], 11, 1e-9, "feeder L3 peak 11");
    CHECK(t.minutes_above == 2, "transformer: minutes 1 and 3 above its total (%d)", t.minutes_above);
    CHECK_NEAR(t.worst_exceed_kw, 7, 1e-9, "transformer: worst 7 kW over");
    CHECK(sim_report_circuit_summary(r, 2, &t) == NULL, "no third circuit");
    sim_report_free(r);
}

/* The --json report: circuits with their limit as given, and the site's per-phase peaks. */
static void test_json(void)
{
    struct sim_circuit c[2] = {{.id = "T", .limit_w = 20000}, {.id = "F", .parent = 1, .per_phase = true,
                                                                .limit_w = 63 * 230.0, .limit_a = 63}};
    struct sim_report *r = sim_report_new(0, 2 * MIN_MS, 50000);
    sim_report_set_circuits(r, c, 2);
    add_minute(r, 2, 0, 15, 0, 0);
    char path[] = "/tmp/test_circuits_XXXXXX", err[128];
    int fd = mkstemp(path);
    CHECK(fd >= 0 && sim_report_write_json(r, r, NULL, path, err, sizeof err) == 0, "JSON written");
    char *text = sim_read_file(path, 1 << 20, err, sizeof err);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *cs = cJSON_GetObjectItem(root, "circuits");
    const cJSON *t = cJSON_GetArrayItem(cs, 0), *f = cJSON_GetArrayItem(cs, 1);
    CHECK(cJSON_GetArraySize(cs) == 2, "two circuits in \"circuits\"");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(t, "parent")) && cJSON_GetObjectItem(t, "limitKw")->valuedouble == 20,
          "T: parent null, limitKw 20");
    CHECK(strcmp(cJSON_GetObjectItem(f, "parent")->valuestring, "T") == 0 &&
              cJSON_GetObjectItem(f, "limitA")->valuedouble == 63 && !cJSON_GetObjectItem(f, "limitKw") &&
              cJSON_IsTrue(cJSON_GetObjectItem(f, "perPhase")),
          "F: parent T, limitA 63 only, perPhase");
    CHECK(cJSON_GetObjectItem(f, "minutesAboveLimit")->valueint == 1 &&
              fabs(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "phaseMaxKw"), 0)->valuedouble - 15) < 1e-9 &&
              fabs(cJSON_GetObjectItem(f, "maxKw")->valuedouble - 15) < 1e-9,
          "F: 15 kW on L1, one minute above 14.49 kW");
    const cJSON *site_ph = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "site"), "phaseMaxKw");
    CHECK(cJSON_GetArraySize(site_ph) == 3 && fabs(cJSON_GetArrayItem(site_ph, 0)->valuedouble - 15) < 1e-9 &&
              cJSON_GetArrayItem(site_ph, 1)->valuedouble == 0,
          "site.phaseMaxKw [15, 0, 0]");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "baseline"), "circuits")) == 2,
          "baseline.circuits too");
    cJSON_Delete(root);
    free(text);
    if (fd >= 0)
        close(fd);
    unlink(path);
    sim_report_free(r);
}

/* examples/sim/depot-feeders.json with scenario-feeders.json, uncontrolled: every need met and the site within its
 * 150 kW, while the baseline, which shares only the site's limit, overloads the feeders (README's table). */
static void test_example(const char *dir)
{
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/depot-feeders.json", dir);
    struct sim_depot *d = sim_depot_load(path, err, sizeof err);
    snprintf(path, sizeof path, "%s/scenario-feeders.json", dir);
    struct sim_scenario *sc = d ? sim_scenario_load(path, err, sizeof err) : NULL;
    struct sim_baseline_options bo = {.grid_limit_w = d ? d->grid_limit_w : 0};
    struct sim_report *r = sc ? sim_baseline_run(d, sc, &bo, err, sizeof err) : NULL;
    CHECK(r != NULL, "the feeders example loads and runs (%s)", err);
    if (r) {
        struct sim_site_summary s;
        struct sim_circuit_summary sd1, f2;
        sim_report_summary(r, NULL, &s);
        CHECK(d->ncircuits == 4 && d->n == 10 && s.vehicles_met == 30 && s.minutes_above == 0,
              "4 circuits, 10 stations, 30/30 met, the site never above");
        CHECK(strcmp(sim_report_circuit_summary(r, 2, &sd1)->id, "SD1") == 0 && sd1.minutes_above > 0,
              "SD1 (63 A a phase) above uncontrolled (%d min)", sd1.minutes_above);
        CHECK(sim_report_circuit_summary(r, 3, &f2) && f2.minutes_above > 0, "F2 (80 A a phase) too (%d min)",
              f2.minutes_above);
        CHECK(fabs(s.phase_max_kw[0] - s.phase_max_kw[2]) > 1, "single-phase vans unbalance the phases");
    }
    sim_report_free(r);
    sim_scenario_free(sc);
    sim_depot_free(d);
}

int main(int argc, char **argv)
{
    test_depot_circuits();
    test_depot_circuit_errors();
    test_scenario_phases();
    test_phase_split();
    test_baseline_per_phase();
    test_single_phase_van_on_three_phase_evse();
    test_minutes_above_per_phase();
    test_json();
    if (argc > 1)
        test_example(argv[1]);
    else
        CHECK(0, "examples/sim dir argument missing");
    return CHECK_DONE();
}
