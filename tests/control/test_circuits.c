/* The feeder tree (control.circuits, control.phase_rotation; src/control_circuits.c) through the loop's seam
 * (fake_port.h): what the config refuses and why, a feeder that binds before the site, single-phase cars on a
 * per-phase breaker with and without rotated wiring, and the fail-safe floors kept per circuit. Hand-computed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"

#define TXD "\"failsafe\": \"TxDefaultProfile\", \"horizon_h\": 4, \"departure_hedge_new_pct\": 0"

static void test_refused(void)
{
    static const struct {
        const char *circuits, *why;
    } bad[] = {
        {"[{\"id\": \"F1\", \"parent\": \"T9\", \"limit_kw\": 10}]", "an unknown parent"},
        {"[{\"id\": \"A\", \"parent\": \"B\", \"limit_kw\": 10}, {\"id\": \"B\", \"parent\": \"A\", \"limit_kw\": 10}]", "a cycle"},
        {"[{\"id\": \"A\", \"limit_kw\": 10}, {\"id\": \"A\", \"limit_kw\": 20}]", "a duplicate id"},
        {"[{\"id\": \"A\", \"limit_kw\": 10, \"limit_a\": 16}]", "two limits"},
        {"[{\"id\": \"A\"}]", "no limit"},
        {"[{\"id\": \"A\", \"limit_kw\": 10, \"stations\": [\"ST00\"]}, {\"id\": \"B\", \"limit_kw\": 10, \"stations\": "
         "[\"ST00/1\"]}]", "a station on two circuits"},
        {"[{\"id\": \"A\", \"limit_kw\": 10, \"breaker\": 3}]", "an unknown key"},
        {"[{\"id\": \"A\", \"limit_kw\": 10, \"stations\": [\"ST00/x\"]}]", "a bad EVSE"},
    };
    char cfg[600];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cfg, sizeof cfg, "{\"site_limit_kw\": 50, " TXD ", \"circuits\": %s}", bad[i].circuits);
        CHECK(!loop_new(1, cfg), "refused: %s", bad[i].why);
    }
    CHECK(!loop_new(1, "{\"site_limit_kw\": 50, " TXD ", \"phase_rotation\": {\"ST00\": \"L1L1L2\"}}"), "a bad rotation");
    CHECK(!loop_new(1, "{\"site_limit_kw\": 50, \"circuits\": [{\"id\": \"A\", \"limit_a\": 16}]}"),
          "a per-phase circuit with station maxima (a cap in W does not bound one phase)");
    CHECK(!loop_new(1, "{\"site_limit_kw\": 50, \"circuits\": [{\"id\": \"A\", \"limit_kw\": 10, \"stations\": "
                       "[\"ST00/1\"]}]}"), "an EVSE on a circuit with station maxima (a cap holds a whole station)");
    /* A child listed before its parent: ordered parents first, as the optimizer needs. */
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 50, " TXD ", \"circuits\": [{\"id\": \"F1\", \"parent\": \"T1\", "
                                      "\"limit_a\": 16, \"stations\": [\"ST00\"]}, {\"id\": \"T1\", \"limit_kw\": 40}]}");
    CHECK(ctl && ctl->cfg.n_circuits == 2 && strcmp(ctl->cfg.circuits[0].id, "T1") == 0 &&
              ctl->cfg.circuits[1].parent == 0 && ctl->cfg.circuits[1].per_phase &&
              fabs(ctl->cfg.circuits[1].limit_kw - 3.68) < 1e-9 && ctl_circuit_of(&ctl->cfg, "ST00", 1) == 1,
          "parents first; 16 A is 3.68 kW per phase; ST00 on F1");
    ctl_free(ctl);
}

static int session_of(const struct ctl_plan *p, const char *station)
{
    for (int i = 0; p && i < p->n; i++)
        if (strcmp(p->sessions[i].station, station) == 0) return i;
    return -1;
}

static double kw_at(const struct control *ctl, const char *station, int t)
{
    int i = session_of(ctl->plan, station);
    return i < 0 ? -1 : ctl->plan->kw[(size_t)i * ctl->plan->slots + t];
}

/* Three 22 kW stations, each a van charging to full; site 100 kW. ST00 and ST01 hang off a 20 kW feeder: they share
 * 20 kW in every slot while ST02 takes its 22. */
static void test_feeder_binds(void)
{
    struct control *ctl = loop_new(3, "{\"site_limit_kw\": 100, " TXD ", \"failsafe_evse_kw\": 1.4, \"circuits\": "
                                      "[{\"id\": \"F1\", \"limit_kw\": 20, \"stations\": [\"ST00\", \"ST01\"]}]}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    for (int s = 0; s < 3; s++) boot(ctl, s, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "A");
    tx_event(ctl, 1, 1, "Started", "B");
    tx_event(ctl, 2, 1, "Started", "C");
    settle(ctl);
    CHECK(ctl->plan && ctl->plan->n == 3, "three sessions planned");
    double worst = 0;
    for (int t = 0; ctl->plan && t < ctl->plan->slots; t++) worst = fmax(worst, kw_at(ctl, "ST00", t) + kw_at(ctl, "ST01", t));
    CHECK(worst <= 20.001 && worst >= 19.9, "ST00 + ST01 at most the feeder's 20 kW in every slot (%.3f)", worst);
    CHECK(fabs(kw_at(ctl, "ST02", 0) - 22) < 0.01, "ST02, outside it, at its 22 kW (%.3f)", kw_at(ctl, "ST02", 0));
    cJSON *rep = ctl_circuits_plan_json(ctl, ctl->plan);
    const cJSON *f1 = cJSON_GetArrayItem(rep, 0);
    CHECK(cJSON_GetArraySize(rep) == 1 && fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(f1, "planned_peak_kw")) - 20) < 0.01 &&
              fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(f1, "headroom_kw"))) < 0.01,
          "the report: F1's planned peak 20 kW, no headroom left");
    cJSON_Delete(rep);
    ctl_free(ctl);
}

/* Two single-phase 7.36 kW stations on a 16 A per-phase breaker (3.68 kW a phase). Wired alike, both cars load L1:
 * 3.68 kW together. With ST01 rotated (its L1 on the grid's L2) each has a phase: 3.68 kW each. */
static double one_phase_pair(const char *rotation)
{
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"site_limit_kw\": 100, " TXD ", \"failsafe_evse_kw\": 0.5, \"circuits\": [{\"id\": \"P\", "
             "\"limit_a\": 16, \"stations\": [\"ST00\", \"ST01\"]}]%s}", rotation);
    struct control *ctl = loop_new(2, cfg);
    if (!ctl) return -1;
    for (int s = 0; s < 2; s++) {
        boot(ctl, s, 1);
        struct ctl_station *cs = ctl_station(ctl, &stations[s]);
        cs->supply_phases = 1;
        cs->rate_known = cs->rate_w = cs->rate_a = true; /* takes W and A */
        ctl_evse(cs, 1)->phases = 1;
        ctl_evse(cs, 1)->max_w = 7360;
    }
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "A");
    tx_event(ctl, 1, 1, "Started", "B");
    settle(ctl);
    int i = last_sent(0, "TxProfile", 1);
    const cJSON *sch = i < 0 ? NULL : cJSON_GetArrayItem(cJSON_GetObjectItem(profile(i), "chargingSchedule"), 0);
    CHECK(sch && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(sch, "chargingRateUnit")), "A") == 0,
          "under a per-phase breaker its TxProfile is in A, though the station takes W");
    cJSON *rep = ctl_circuits_plan_json(ctl, ctl->plan);
    double worst = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rep, 0), "planned_peak_kw"));
    cJSON_Delete(rep);
    CHECK(worst <= 3.681, "the report's worst phase within 3.68 kW (%.3f)", worst);
    double both = ctl->plan ? kw_at(ctl, "ST00", 0) + kw_at(ctl, "ST01", 0) : -1;
    ctl_free(ctl);
    return both;
}

static void test_phases(void)
{
    double same = one_phase_pair("");
    CHECK(same <= 3.681 && same >= 3.0, "wired alike: both on L1, 3.68 kW together (%.3f)", same);
    double rotated = one_phase_pair(", \"phase_rotation\": {\"ST01\": \"L2L3L1\"}");
    CHECK(rotated <= 7.361 && rotated >= 7.0, "ST01 rotated: L1 and L2, 3.68 kW each (%.3f)", rotated);
}

/* Floors per circuit: four idle stations on a 10 kW feeder, each asking a 4.14 kW floor (6 A x 3 x 230 V); the
 * site's 100 kW would keep all four, the feeder two (8.28 kW). A fifth station outside keeps its floor. */
static void test_floors(void)
{
    struct control *ctl = loop_new(5, "{\"site_limit_kw\": 100, " TXD ", \"circuits\": [{\"id\": \"F\", \"limit_kw\": 10, "
                                      "\"stations\": [\"ST00\", \"ST01\", \"ST02\", \"ST03\"]}]}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    for (int s = 0; s < 5; s++) boot(ctl, s, 1);
    settle(ctl);
    ctl_replan(ctl, "test");
    settle(ctl);
    int kept = 0;
    double sum = 0;
    for (int s = 0; s < 4; s++) {
        double w = ctl_station(ctl, &stations[s])->txdefault_w;
        kept += w > 0;
        sum += w;
    }
    CHECK(kept == 2, "two of the feeder's four stations keep a floor (%d)", kept);
    CHECK(sum <= 10000, "their defaults fit the feeder: %.0f W of 10000", sum);
    CHECK(ctl_station(ctl, &stations[4])->txdefault_w >= 4140, "the station outside keeps its own (%.0f W)",
          ctl_station(ctl, &stations[4])->txdefault_w);
    ctl_free(ctl);
}

/* On how many phases a car draws, from a reading (ctl_phases_measured). */
static void test_phases_measured(void)
{
    struct ctl_reading r = {.w = 7000, .has_w = true, .amps = 30.4};
    CHECK(ctl_phases_measured(0, &r, 230) == 1, "7 kW at 30.4 A: one phase");
    r.amps = 10.1;
    CHECK(ctl_phases_measured(0, &r, 230) == 3, "7 kW at 10.1 A: three");
    r.amps = 1;
    CHECK(ctl_phases_measured(3, &r, 230) == 3, "1 A says nothing: what was known stays");
    r = (struct ctl_reading){.w = 500, .has_w = true, .amps = 2.2};
    CHECK(ctl_phases_measured(0, &r, 230) == 0, "0.5 kW says nothing");
    cJSON *mv = cJSON_Parse("[{\"timestamp\": \"2027-01-01T00:00:00Z\", \"sampledValue\": ["
                            "{\"value\": 16, \"measurand\": \"Current.Import\", \"phase\": \"L2\"}, "
                            "{\"value\": 0.2, \"measurand\": \"Current.Import\", \"phase\": \"L1\"}, "
                            "{\"value\": 0, \"measurand\": \"Current.Import\", \"phase\": \"L3\"}, "
                            "{\"value\": 230, \"measurand\": \"Voltage\", \"phase\": \"L1-N\"}]}]");
    ctl_read_meter(mv, &r);
    cJSON_Delete(mv);
    CHECK(r.phases_drawing == 1 && r.amps == 16 && ctl_phases_measured(3, &r, 230) == 1,
          "per-phase currents: only L2 above 1 A, one phase (%d, %.1f A)", r.phases_drawing, r.amps);
}

/* Station maxima under a feeder: four 22 kW stations each charging a van to full, site 100 kW; ST00 and ST01 on a
 * 20 kW feeder. Their fail-safe caps: 20 / 2 = 10 kW each (the site's share is 25). The plan keeps the two under 20
 * in every slot, the others take their 22; the caps sent to ST00 and ST01 add up under 20 kW at every moment and
 * after the horizon, and all four under 100. */
static void test_station_maxima(void)
{
    struct control *ctl = loop_new(4, "{\"site_limit_kw\": 100, \"failsafe\": \"ChargingStationMaxProfile\", "
                                      "\"horizon_h\": 4, \"departure_hedge_new_pct\": 0, \"circuits\": "
                                      "[{\"id\": \"F1\", \"limit_kw\": 20, \"stations\": [\"ST00\", \"ST01\"]}]}");
    CHECK(ctl, "station maxima with a kW feeder: built");
    if (!ctl) return;
    for (int s = 0; s < 4; s++) boot(ctl, s, 1);
    settle(ctl);
    struct ctl_station *st0 = ctl_station_find(ctl, "ST00"), *st2 = ctl_station_find(ctl, "ST02");
    CHECK(st0 && st2 && fabs(ctl_failsafe_cap_w(ctl, st0) - 10000) < 1 && fabs(ctl_failsafe_cap_w(ctl, st2) - 25000) < 1,
          "fail-safe caps: 10 kW under F1, the site's 25 elsewhere (%.0f, %.0f W)",
          st0 ? ctl_failsafe_cap_w(ctl, st0) : -1, st2 ? ctl_failsafe_cap_w(ctl, st2) : -1);
    double boot_sum = cap_w(0, F.now) + cap_w(1, F.now);
    CHECK(boot_sum <= 20000.5, "the caps at boot: ST00 + ST01 = %.0f W, within F1's 20 kW", boot_sum);
    const char *tok[] = {"A", "B", "C", "D"};
    for (int s = 0; s < 4; s++) tx_event(ctl, s, 1, "Started", tok[s]);
    settle(ctl);
    CHECK(ctl->plan && ctl->plan->n == 4, "four sessions planned");
    /* Caps the plan shares out over F1 would be refused by its own check and re-planned again and again. */
    CHECK(ctl->plan && ctl->plan->id <= 8, "the plan's caps fit F1 at once: %llu plans in all",
          ctl->plan ? (unsigned long long)ctl->plan->id : 0ULL);
    double worst = 0;
    for (int t = 0; ctl->plan && t < ctl->plan->slots; t++) worst = fmax(worst, kw_at(ctl, "ST00", t) + kw_at(ctl, "ST01", t));
    CHECK(worst <= 20.001 && worst >= 19.9, "ST00 + ST01 at most F1's 20 kW in every slot (%.3f)", worst);
    CHECK(fabs(kw_at(ctl, "ST02", 0) - 22) < 0.01 && fabs(kw_at(ctl, "ST03", 0) - 22) < 0.01, "ST02 and ST03 at 22 kW");
    int bad = 0;
    for (int64_t t = F.now; t <= F.now + 30 * 3600000LL; t += 15 * 60000) {
        double f1 = cap_w(0, t) + cap_w(1, t), all = f1 + cap_w(2, t) + cap_w(3, t);
        if ((f1 > 20000.5 || all > 100000.5) && bad++ < 3)
            CHECK(0, "caps at T0 + %.2f h: F1 %.0f W, all %.0f W", (double)(t - T0) / 3600000, f1, all);
    }
    CHECK(!bad, "the caps sent keep F1 under 20 kW and the site under 100 at every moment, past the horizon too");
    CHECK(cap_w(2, F.now) >= 22000 - 1, "ST02's cap lets its van draw its 22 kW (%.0f W)", cap_w(2, F.now));
    ctl_free(ctl);
}

/* The same with ST02 listed under F1 too but never seen: when it comes it gets its fail-safe cap, 20 / 3 kW (6666 W,
 * whole W down), so ST00 and ST01 share what is left of F1, 13.334 kW, in the plan and in their caps. */
static void test_station_maxima_unseen(void)
{
    struct control *ctl = loop_new(3, "{\"site_limit_kw\": 100, \"failsafe\": \"ChargingStationMaxProfile\", "
                                      "\"horizon_h\": 4, \"departure_hedge_new_pct\": 0, \"circuits\": "
                                      "[{\"id\": \"F1\", \"limit_kw\": 20, \"stations\": [\"ST00\", \"ST01\", \"ST02\"]}]}");
    CHECK(ctl, "built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "A");
    tx_event(ctl, 1, 1, "Started", "B");
    settle(ctl);
    double worst = 0, caps = 0;
    for (int t = 0; ctl->plan && t < ctl->plan->slots; t++) worst = fmax(worst, kw_at(ctl, "ST00", t) + kw_at(ctl, "ST01", t));
    for (int64_t t = F.now; t <= F.now + 30 * 3600000LL; t += 15 * 60000) caps = fmax(caps, cap_w(0, t) + cap_w(1, t));
    CHECK(worst <= 13.334 && worst >= 13.2, "ST00 + ST01 planned under 20 - 6.666 = 13.334 kW (%.3f)", worst);
    CHECK(caps <= 13334, "their caps under 13.334 kW at every moment (%.0f W)", caps);
    CHECK(ctl->plan && ctl->plan->id <= 8, "%llu plans", ctl->plan ? (unsigned long long)ctl->plan->id : 0ULL);
    ctl_free(ctl);
}

int main(void)
{
    test_station_maxima();
    test_station_maxima_unseen();
    test_phases_measured();
    test_refused();
    test_feeder_binds();
    test_phases();
    test_floors();
    loop_free();
    return CHECK_DONE();
}
