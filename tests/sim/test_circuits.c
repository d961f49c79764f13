/* The depot's feeder tree and phase wiring (circuits.h): the depot file's keys, where a draw lands per grid phase,
 * and the report's per-circuit and per-phase figures. */
#include "check.h"
#include "circuits.h"
#include "report.h"
#include "scenario.h"

#include <stdlib.h>

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

int main(void)
{
    test_depot_circuits();
    test_depot_circuit_errors();
    test_scenario_phases();
    return CHECK_DONE();
}
