/*
 * OCPP 2.0.1 smart charging as a station must apply it: K01 validation, stack levels, purposes,
 * Absolute / Relative / Recurring, validity, A <-> W, and the K08 composite schedule. Every expected
 * limit is worked out by hand in the comment next to it, for a 3-phase 230 V station with 32 A per
 * EVSE (32 x 3 x 230 = 22080 W) and 2 EVSEs.
 */
#include "check.h"
#include "profiles.h"
#include "simtime.h"

#include <stdlib.h>

#define MIN 60000LL
#define HOUR 3600000LL

static int64_t T0; /* 2026-11-26T00:00:00Z */

static struct sim_station_spec spec(void)
{
    struct sim_station_spec s = {
        .evse_count = 2, .dc = false, .phases = 3, .voltage_v = 230, .evse_max_w = 22080,
        .station_max_w = 44160, .unit_a = true, .unit_w = true, .periods_per_schedule = 5,
        .max_stack_level = 8, .entries_max = 20,
    };
    return s;
}

static struct sim_profile P(const char *json)
{
    struct sim_profile p;
    char err[128] = "";
    cJSON *j = cJSON_Parse(json);
    if (!j || sim_profile_from_json(j, &p, err, sizeof err) != 0) {
        printf("FAIL fixture does not parse: %s %s\n", json, err);
        exit(2);
    }
    cJSON_Delete(j);
    return p;
}

static int set(sim_profiles *s, int evse, const char *json, const struct sim_evse_tx *tx, struct sim_reject *why)
{
    struct sim_profile p = P(json);
    return sim_profiles_set(s, evse, &p, tx, why);
}

#define TXDEF_W(id, lvl, extra) \
    "{\"id\":" #id ",\"stackLevel\":" #lvl ",\"chargingProfilePurpose\":\"TxDefaultProfile\"," \
    "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":" \
    "\"2026-11-26T00:00:00Z\",\"chargingRateUnit\":\"W\"" extra "}]}"

static void test_no_profile_is_hardware_limit(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0, NULL), 22080, 1e-9, "no profile: EVSE gets its hardware 22080 W");
    CHECK_NEAR(sim_profiles_limit_w(s, 0, T0, NULL), 44160, 1e-9, "no profile: station gets 44160 W");
    sim_profiles_free(s);
}

static void test_absolute_periods_and_start(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    CHECK(set(s, 0, TXDEF_W(1, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":11000},"
                                  "{\"startPeriod\":3600,\"limit\":7000}]"), NULL, &why) == 0,
          "TxDefaultProfile on EVSE 0 accepted");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 - MIN, NULL), 22080, 1e-9, "before startSchedule nothing applies");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 10 * MIN, NULL), 11000, 1e-9, "first period on EVSE 1");
    CHECK_NEAR(sim_profiles_limit_w(s, 2, T0 + 10 * MIN, NULL), 11000, 1e-9, "EVSE 0 TxDefault applies to EVSE 2");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + HOUR, NULL), 7000, 1e-9, "second period from 3600 s");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 30 * HOUR, NULL), 7000, 1e-9, "last period holds without duration");
    sim_profiles_free(s);
}

static void test_stack_levels_and_duration(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    set(s, 0, TXDEF_W(1, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":11000}]"), NULL, &why);
    CHECK(set(s, 0, TXDEF_W(2, 1, ",\"duration\":1800,\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                                  "\"limit\":4000}]"), NULL, &why) == 0, "higher stack level accepted");
    /* The higher stack level wins even though it is lower; once its 1800 s are over, level 0 is back. */
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 10 * MIN, NULL), 4000, 1e-9, "stack level 1 wins while running");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 40 * MIN, NULL), 11000, 1e-9, "stack level 0 after level 1 ends");
    /* An EVSE-specific profile beats the EVSE 0 one at the same level (level 1, only on EVSE 2). */
    CHECK(set(s, 2, TXDEF_W(3, 1, ",\"duration\":1800,\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                                  "\"limit\":2500}]"), NULL, &why) == 0, "EVSE-specific TxDefault accepted");
    CHECK_NEAR(sim_profiles_limit_w(s, 2, T0 + 10 * MIN, NULL), 2500, 1e-9, "EVSE 2 profile beats EVSE 0 at level 1");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 10 * MIN, NULL), 4000, 1e-9, "EVSE 1 untouched by EVSE 2 profile");
    sim_profiles_free(s);
}

static void test_purposes_combine(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    struct sim_evse_tx tx[3] = {{"", 0}, {"TX1", T0}, {"", 0}};
    set(s, 0, TXDEF_W(1, 5, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":4000}]"), NULL, &why);
    CHECK(set(s, 1, "{\"id\":10,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\",\"transactionId\":\"TX1\","
                    "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"A\","
                    "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16}]}]}", tx, &why) == 0,
          "TxProfile for the running transaction accepted");
    /* TxProfile replaces TxDefaultProfile (even at a lower stack level): 16 A x 3 x 230 V = 11040 W. */
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + MIN, tx), 11040, 1e-9, "TxProfile overrides TxDefault, A to W");
    CHECK_NEAR(sim_profiles_limit_w(s, 2, T0 + MIN, tx), 4000, 1e-9, "other EVSE keeps TxDefault");
    CHECK(set(s, 0, "{\"id\":20,\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargingStationMaxProfile\","
                    "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":"
                    "\"2026-11-26T00:00:00Z\",\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":"
                    "[{\"startPeriod\":0,\"limit\":10}]}]}", tx, &why) == 0, "ChargingStationMaxProfile accepted");
    /* Station max 10 A x 690 = 6900 W caps the TxProfile's 11040 W. */
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + MIN, tx), 6900, 1e-9, "StationMax caps the EVSE (min)");
    CHECK_NEAR(sim_profiles_limit_w(s, 0, T0 + MIN, tx), 6900, 1e-9, "StationMax is the station limit");
    CHECK(set(s, 0, "{\"id\":30,\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargingStationExternalConstraints\","
                    "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":"
                    "\"2026-11-26T00:00:00Z\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":"
                    "[{\"startPeriod\":0,\"limit\":5000}]}]}", tx, &why) == 0, "ExternalConstraints accepted");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + MIN, tx), 5000, 1e-9, "ExternalConstraints 5000 W is the minimum");
    CHECK_NEAR(sim_profiles_limit_w(s, 2, T0 + MIN, tx), 4000, 1e-9, "EVSE 2: TxDefault 4000 below all caps");
    sim_profiles_transaction_ended(s, "TX1");
    CHECK(sim_profiles_count(s) == 3, "TxProfile removed when its transaction ends (count %d)", sim_profiles_count(s));
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + MIN, NULL), 4000, 1e-9, "after the transaction TxDefault again");
    sim_profiles_free(s);
}

static void test_number_phases_and_relative(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    struct sim_evse_tx tx[3] = {{"", 0}, {"TX7", T0 + HOUR}, {"", 0}};
    CHECK(set(s, 1, "{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\",\"transactionId\":\"TX7\","
                    "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"A\","
                    "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":10},{\"startPeriod\":600,\"limit\":20},"
                    "{\"startPeriod\":1200,\"limit\":16,\"numberPhases\":1}]}]}", tx, &why) == 0,
          "Relative TxProfile accepted");
    /* Relative: period 0 starts with the transaction at T0 + 1 h. */
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + HOUR + 5 * MIN, tx), 6900, 1e-9, "relative 5 min: 10 A = 6900 W");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + HOUR + 15 * MIN, tx), 13800, 1e-9, "relative 15 min: 20 A = 13800 W");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + HOUR + 25 * MIN, tx), 3680, 1e-9,
               "numberPhases 1: 16 A x 1 x 230 = 3680 W");
    sim_profiles_free(s);
}

static void test_recurring_daily_and_validity(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    /* Every day from 22:00: 3000 W for 8 h, then 11000 W. */
    CHECK(set(s, 0, "{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
                    "\"chargingProfileKind\":\"Recurring\",\"recurrencyKind\":\"Daily\",\"chargingSchedule\":[{\"id\":1,"
                    "\"startSchedule\":\"2026-11-26T22:00:00Z\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":"
                    "[{\"startPeriod\":0,\"limit\":3000},{\"startPeriod\":28800,\"limit\":11000}]}]}", NULL, &why) == 0,
          "Recurring Daily accepted");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 21 * HOUR, NULL), 22080, 1e-9, "recurring: nothing before first start");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 23 * HOUR, NULL), 3000, 1e-9, "recurring: day 1 23:00 is 3000 W");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 24 * HOUR + 7 * HOUR, NULL), 11000, 1e-9,
               "recurring: day 2 07:00 (9 h in) is 11000 W");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 48 * HOUR + 23 * HOUR, NULL), 3000, 1e-9,
               "recurring: day 3 23:00 is 3000 W again");
    /* validFrom in the future: a level-1 profile does nothing until then. */
    CHECK(set(s, 0, "{\"id\":2,\"stackLevel\":1,\"chargingProfilePurpose\":\"TxDefaultProfile\","
                    "\"chargingProfileKind\":\"Absolute\",\"validFrom\":\"2026-11-27T00:00:00Z\",\"validTo\":"
                    "\"2026-11-27T02:00:00Z\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":\"2026-11-26T00:00:00Z\","
                    "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]}]}",
              NULL, &why) == 0, "profile with validFrom/validTo accepted");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 23 * HOUR, NULL), 3000, 1e-9, "before validFrom the level-1 is ignored");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 25 * HOUR, NULL), 1000, 1e-9, "within validity level 1 wins");
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + 26 * HOUR, NULL), 3000, 1e-9, "after validTo level 0 again");
    sim_profiles_expire(s, T0 + 26 * HOUR);
    CHECK(sim_profiles_count(s) == 1, "expired profile dropped");
    sim_profiles_free(s);
}

struct reject_case {
    const char *name;
    int evse;
    const char *json;
    const char *reason;
};

#define TXP(extra) "{\"id\":50,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\"," extra \
    "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"A\"," \
    "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16}]}]}"

static const struct reject_case reject_cases[] = {
    {"K01.FR.31 first startPeriod not 0", 0,
     TXDEF_W(60, 3, ",\"chargingSchedulePeriod\":[{\"startPeriod\":60,\"limit\":1000}]"), "InvalidSchedule"},
    {"K01.FR.35 periods out of order", 0,
     TXDEF_W(60, 3, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1},{\"startPeriod\":900,\"limit\":2},"
                    "{\"startPeriod\":600,\"limit\":3}]"), "InvalidSchedule"},
    {"more periods than PeriodsPerSchedule (6 > 5)", 0,
     TXDEF_W(60, 3, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1},{\"startPeriod\":1,\"limit\":2},"
                    "{\"startPeriod\":2,\"limit\":3},{\"startPeriod\":3,\"limit\":4},{\"startPeriod\":4,\"limit\":5},"
                    "{\"startPeriod\":5,\"limit\":6}]"), "InvalidSchedule"},
    {"K01.FR.09 TxProfile without a transaction on the EVSE", 2, TXP("\"transactionId\":\"TX1\","), "TxNotFound"},
    {"K01.FR.33 TxProfile for another transaction", 1, TXP("\"transactionId\":\"TX9\","), "TxNotFound"},
    {"K01.FR.03 TxProfile without transactionId", 1, TXP(""), "TxNotFound"},
    {"K01.FR.16 TxProfile on EVSE 0", 0, TXP("\"transactionId\":\"TX1\","), "InvalidProfile"},
    {"K01.FR.06 stack level clash with profile 1", 0,
     TXDEF_W(61, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]"), "DuplicateProfile"},
    {"stackLevel above ProfileStackLevel", 0,
     TXDEF_W(62, 9, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]"), "InvalidStackLevel"},
    {"K01.FR.28 unknown EVSE", 3,
     TXDEF_W(63, 2, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]"), "UnknownEvse"},
    {"ChargingStationMaxProfile on EVSE 1", 1,
     "{\"id\":64,\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargingStationMaxProfile\",\"chargingProfileKind\":"
     "\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":\"2026-11-26T00:00:00Z\",\"chargingRateUnit\":"
     "\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]}]}", "InvalidProfile"},
    {"K01.FR.38 ChargingStationMaxProfile Relative", 0,
     "{\"id\":65,\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargingStationMaxProfile\",\"chargingProfileKind\":"
     "\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":"
     "[{\"startPeriod\":0,\"limit\":1000}]}]}", "InvalidProfile"},
    {"K01.FR.40 Absolute without startSchedule", 0,
     "{\"id\":66,\"stackLevel\":4,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
     "\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":"
     "[{\"startPeriod\":0,\"limit\":1000}]}]}", "InvalidSchedule"},
    {"K01.FR.41 Relative with startSchedule", 0,
     "{\"id\":67,\"stackLevel\":4,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
     "\"Relative\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":\"2026-11-26T00:00:00Z\",\"chargingRateUnit\":"
     "\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]}]}", "InvalidSchedule"},
};

static void test_k01_rejections(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    struct sim_evse_tx tx[3] = {{"", 0}, {"TX1", T0}, {"", 0}};
    set(s, 0, TXDEF_W(1, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":11000}]"), NULL, &why);
    for (size_t i = 0; i < sizeof reject_cases / sizeof reject_cases[0]; i++) {
        const struct reject_case *c = &reject_cases[i];
        memset(&why, 0, sizeof why);
        int rc = set(s, c->evse, c->json, tx, &why);
        CHECK(rc == -1 && strcmp(why.reason, c->reason) == 0, "rejected: %s -> %s (%s)", c->name, why.reason, why.info);
    }
    CHECK(sim_profiles_count(s) == 1, "no rejected profile was installed");

    /* A station that declared A only refuses W (K01.FR.26). */
    sp.unit_w = false;
    sim_profiles *a_only = sim_profiles_new(&sp);
    CHECK(set(a_only, 0, TXDEF_W(1, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1000}]"), NULL,
              &why) == -1 && strcmp(why.reason, "UnsupportedRateUnit") == 0,
          "K01.FR.26 W refused by an A-only station: %s", why.reason);
    sim_profiles_free(a_only);

    /* K01.FR.05: same id replaces; the same stack level with disjoint validity is no clash. */
    CHECK(set(s, 0, TXDEF_W(1, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":9000}]"), NULL, &why) == 0 &&
              sim_profiles_count(s) == 1, "K01.FR.05 same id replaces (count %d)", sim_profiles_count(s));
    CHECK_NEAR(sim_profiles_limit_w(s, 1, T0 + MIN, NULL), 9000, 1e-9, "replacement in force");
    sim_profiles_free(s);

    s = sim_profiles_new(&sp);
    CHECK(set(s, 0, "{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
                    "\"Relative\",\"validTo\":\"2026-11-27T00:00:00Z\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":"
                    "\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":8}]}]}", NULL, &why) == 0 &&
              set(s, 0, "{\"id\":2,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
                        "\"Relative\",\"validFrom\":\"2026-11-27T00:00:00Z\",\"chargingSchedule\":[{\"id\":1,"
                        "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":8}]}]}",
                  NULL, &why) == 0, "same stack level, disjoint validity: both accepted");
    sim_profiles_free(s);
}

static void test_composite_schedule(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    struct sim_schedule out;
    set(s, 0, TXDEF_W(1, 0, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":11000},"
                            "{\"startPeriod\":3600,\"limit\":7000}]"), NULL, &why);
    set(s, 0, "{\"id\":2,\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargingStationMaxProfile\","
              "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":"
              "\"2026-11-26T00:30:00Z\",\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":"
              "[{\"startPeriod\":0,\"limit\":13}]}]}", NULL, &why);
    /* EVSE 1 in W over 2 h: 11000 until 30 min, then station max 13 A x 690 = 8970, from 60 min 7000. */
    CHECK(sim_profiles_composite(s, 1, T0, 7200, SIM_UNIT_W, NULL, &out, &why) == 0, "composite EVSE 1 in W");
    CHECK(out.nperiods == 3, "three periods (got %d)", out.nperiods);
    if (out.nperiods == 3) {
        CHECK(out.periods[0].start_s == 0 && out.periods[1].start_s == 1800 && out.periods[2].start_s == 3600,
              "period starts 0 / 1800 / 3600");
        CHECK_NEAR(out.periods[0].limit, 11000, 1e-9, "composite 0 s");
        CHECK_NEAR(out.periods[1].limit, 8970, 1e-9, "composite 1800 s");
        CHECK_NEAR(out.periods[2].limit, 7000, 1e-9, "composite 3600 s");
    }
    /* Same in A: divide by 3 x 230. */
    CHECK(sim_profiles_composite(s, 1, T0, 7200, SIM_UNIT_A, NULL, &out, &why) == 0 && out.nperiods == 3,
          "composite EVSE 1 in A");
    CHECK_NEAR(out.periods[0].limit, 11000.0 / 690, 1e-9, "composite A 0 s = 15.94 A");
    CHECK_NEAR(out.periods[1].limit, 13, 1e-9, "composite A 1800 s = 13 A");
    /* Station (EVSE 0): 44160 W hardware until the station max starts. */
    CHECK(sim_profiles_composite(s, 0, T0, 7200, SIM_UNIT_W, NULL, &out, &why) == 0 && out.nperiods == 2,
          "composite station has 2 periods");
    CHECK_NEAR(out.periods[0].limit, 44160, 1e-9, "station composite 0 s");
    CHECK_NEAR(out.periods[1].limit, 8970, 1e-9, "station composite 1800 s");
    /* Window starting mid-schedule: 45 min in, periods relative to the request. */
    CHECK(sim_profiles_composite(s, 1, T0 + 45 * MIN, 1800, SIM_UNIT_W, NULL, &out, &why) == 0 &&
              out.nperiods == 2 && out.periods[1].start_s == 900, "window from 45 min: change at +900 s");
    CHECK(sim_profiles_composite(s, 5, T0, 60, SIM_UNIT_W, NULL, &out, &why) == -1 &&
              strcmp(why.reason, "UnknownEvse") == 0, "composite for unknown EVSE refused");

    /* K10 clear by purpose; ExternalConstraints stay. */
    set(s, 0, "{\"id\":3,\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargingStationExternalConstraints\","
              "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":"
              "\"2026-11-26T00:00:00Z\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":"
              "[{\"startPeriod\":0,\"limit\":20000}]}]}", NULL, &why);
    struct sim_clear_criteria c = {.has_purpose = true, .purpose = SIM_PURPOSE_TX_DEFAULT};
    CHECK(sim_profiles_clear(s, &c) == 1, "clear TxDefaultProfile removes one");
    CHECK(sim_profiles_clear(s, &c) == 0, "clearing again finds none (Unknown)");
    CHECK(sim_profiles_clear(s, NULL) == 1 && sim_profiles_count(s) == 1, "clear all keeps ExternalConstraints");
    struct sim_profile got[4];
    int evse[4];
    CHECK(sim_profiles_select(s, NULL, 0, NULL, got, evse, 4) == 1 && got[0].id == 3 && evse[0] == 0,
          "K09 select reports the remaining profile on EVSE 0");
    sim_profiles_free(s);
}

static void test_json_roundtrip(void)
{
    struct sim_profile p = P(TXDEF_W(5, 2, ",\"duration\":600,\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                                           "\"limit\":11.5,\"numberPhases\":1}]"));
    cJSON *j = sim_profile_to_json(&p);
    struct sim_profile q;
    char err[64];
    CHECK(sim_profile_from_json(j, &q, err, sizeof err) == 0 && q.id == 5 && q.stack_level == 2 &&
              q.schedule.duration_s == 600 && q.schedule.periods[0].limit == 11.5 && q.schedule.periods[0].phases == 1 &&
              q.schedule.start_ms == T0, "profile JSON round trip");
    cJSON_Delete(j);
}

/* A 1-phase EV on this 3-phase station: a current is per phase, so it gets an A limit on one phase; W stays W; the
 * hardware gives it one phase: 32 A x 230 V = 7360 W of the EVSE, 44160 / 3 = 14720 W of the station. */
static void test_single_phase_ev(void)
{
    struct sim_station_spec sp = spec();
    sim_profiles *s = sim_profiles_new(&sp);
    struct sim_reject why;
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0, NULL, 1), 7360, 1e-9, "1-phase EV, no profile: 32 A x 230 V");
    CHECK_NEAR(sim_profiles_limit_w_on(s, 0, T0, NULL, 1), 14720, 1e-9, "1-phase: a third of the station");
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0, NULL, 3), 22080, 1e-9, "3-phase EV: the whole EVSE");
    set(s, 0, "{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
              "\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":\"2026-11-26T00:00:00Z\","
              "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16},"
              "{\"startPeriod\":3600,\"limit\":16,\"numberPhases\":1}]}]}", NULL, &why);
    /* 16 A: 16 x 230 = 3680 W on one phase, 16 x 3 x 230 = 11040 W on three. */
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0 + MIN, NULL, 1), 3680, 1e-9, "16 A for a 1-phase EV: 3680 W");
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0 + MIN, NULL, 0), 11040, 1e-9, "16 A for a 3-phase EV: 11040 W");
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0 + HOUR + MIN, NULL, 1), 3680, 1e-9, "numberPhases 1, 1-phase EV");
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0 + HOUR + MIN, NULL, 3), 3680, 1e-9, "numberPhases 1, 3-phase EV");
    set(s, 0, TXDEF_W(2, 1, ",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":5000}]"), NULL, &why);
    CHECK_NEAR(sim_profiles_limit_w_on(s, 1, T0 + MIN, NULL, 1), 5000, 1e-9, "5000 W stays 5000 W on one phase");
    sim_profiles_free(s);
}

int main(void)
{
    sim_time_parse("2026-11-26T00:00:00Z", &T0);
    test_no_profile_is_hardware_limit();
    test_absolute_periods_and_start();
    test_stack_levels_and_duration();
    test_purposes_combine();
    test_number_phases_and_relative();
    test_recurring_daily_and_validity();
    test_k01_rejections();
    test_composite_schedule();
    test_json_roundtrip();
    test_single_phase_ev();
    return CHECK_DONE();
}
