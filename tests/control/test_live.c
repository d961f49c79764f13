/* The depot now as control sees it (control_live_json, src/control_live.c), through the loop's seam (fake_port.h):
 * stations boot, sessions start, meters report, profiles are answered by hand, and the document says what each
 * EVSE draws against the limit in force, by hand-computed cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static double num(const cJSON *o, const char *k) { return cJSON_IsNumber(item(o, k)) ? item(o, k)->valuedouble : NAN; }
static bool is_null(const cJSON *o, const char *k) { return cJSON_IsNull(item(o, k)); }
static const char *str(const cJSON *o, const char *k)
{
    return cJSON_IsString(item(o, k)) ? item(o, k)->valuestring : "(not a string)";
}
static bool is(const cJSON *o, const char *k, const char *want) { return strcmp(str(o, k), want) == 0; }

static const cJSON *station_of(const cJSON *doc, const char *id)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, item(doc, "stations")) if (is(s, "id", id)) return s;
    return NULL;
}

static const cJSON *evse_of(const cJSON *doc, const char *station, int id)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, item(station_of(doc, station), "evses")) if (num(e, "id") == id) return e;
    return NULL;
}

/* A station's MeterValues for an EVSE, stamped now: sampled is the sampledValue array. */
static void meter(struct control *ctl, int st, int evse, const char *sampled)
{
    char buf[1024], ts[40];
    snprintf(buf, sizeof buf, "{\"evseId\": %d, \"meterValue\": [{\"timestamp\": \"%s\", \"sampledValue\": %s}]}", evse,
             ocpp_time_format(F.now, ts), sampled);
    cJSON *p = cJSON_Parse(buf);
    ctl_on_meter_values(ctl, &stations[st], p);
    cJSON_Delete(p);
}

static void status(struct control *ctl, int st, int evse, const char *s)
{
    char buf[200];
    snprintf(buf, sizeof buf, "{\"evseId\": %d, \"connectorId\": 1, \"connectorStatus\": \"%s\"}", evse, s);
    cJSON *p = cJSON_Parse(buf);
    ctl_on_status(ctl, &stations[st], p);
    cJSON_Delete(p);
}

static bool at_now(const cJSON *o, const char *k)
{
    char ts[40];
    return is(o, k, ocpp_time_format(F.now, ts));
}

/* Station maxima, 22 kW, two stations of one 22 kW EVSE (test_loop.c's test_raise_waits). VAN-A (charge to full)
 * alone on ST00 takes all 22 kW: its TxProfile and its station's cap are 22 kW, ST01's cap 0 (its idle floor does
 * not fit). A minute later ST00 reports 21.5 kW, 4 kWh, SoC 55 %: the EVSE draws 21.5 of its 22 kW, planned 22. */
#define TWO_VANS "{\"site_limit_kw\": 22, \"horizon_h\": 4, \"vehicles\": [{\"id\": \"VAN-A\", \"id_tokens\": " \
    "[\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"], \"max_kw\": 11}]}"

static void test_controlled_and_idle(void)
{
    struct control *ctl = loop_new(2, TWO_VANS);
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    settle(ctl);
    CHECK(tx_w(0, 1, T0) == 22000 && cap_w(0, T0) == 22000 && cap_w(1, T0) == 0, "set up: 22 kW, caps 22 and 0 kW "
          "(%.0f, %.0f, %.0f W)", tx_w(0, 1, T0), cap_w(0, T0), cap_w(1, T0));
    F.now += 60000;
    status(ctl, 0, 1, "Occupied");
    meter(ctl, 0, 1, "[{\"value\": 4, \"unitOfMeasure\": {\"unit\": \"kWh\"}}, {\"value\": 21.5, \"measurand\": "
          "\"Power.Active.Import\", \"unitOfMeasure\": {\"unit\": \"kW\"}}, {\"value\": 55, \"measurand\": \"SoC\", "
          "\"unitOfMeasure\": {\"unit\": \"Percent\"}}]");
    cJSON *doc = ctl_live_json(ctl, NULL);
    CHECK(doc && at_now(doc, "at") && is(doc, "failsafe", "ChargingStationMaxProfile") && ctl->plan &&
              num(doc, "plan_id") == (double)ctl->plan->id,
          "at now, station maxima, the plan in force (%s, plan %g)", str(doc, "at"), num(doc, "plan_id"));
    const cJSON *sts = item(doc, "stations");
    CHECK(cJSON_GetArraySize(sts) == 2 && is(cJSON_GetArrayItem(sts, 0), "id", "ST00") &&
              is(cJSON_GetArrayItem(sts, 1), "id", "ST01"),
          "two stations in id order (control keeps them newest first)");
    const cJSON *s0 = station_of(doc, "ST00"), *fs0 = item(s0, "failsafe");
    CHECK(cJSON_IsTrue(item(s0, "connected")) && is_null(s0, "clock_offset_s") &&
              cJSON_IsFalse(item(s0, "noncompliant")),
          "ST00 connected, its clock not measured, compliant");
    CHECK(is(fs0, "profile", "ChargingStationMaxProfile") && is(fs0, "state", "accepted") && num(fs0, "kw") == 22 &&
              num(s0, "cap_kw") == 22,
          "ST00: its 22 kW cap accepted, in force (%s, %g, cap %g kW)", str(fs0, "state"), num(fs0, "kw"),
          num(s0, "cap_kw"));
    const cJSON *e = evse_of(doc, "ST00", 1);
    CHECK(e && is(e, "status", "Occupied") && is(e, "transaction_id", "TX-0-1") && is(e, "vehicle", "VAN-A") &&
              is(e, "mode", "controlled"),
          "VAN-A's session, controlled (%s, %s)", str(e, "vehicle"), str(e, "mode"));
    CHECK(num(e, "power_kw") == 21.5 && at_now(e, "power_at"), "draws 21.5 kW, read now (%g at %s)", num(e, "power_kw"),
          str(e, "power_at"));
    CHECK(num(e, "limit_kw") == 22 && num(e, "planned_kw") == 22, "its TxProfile's 22 kW in force, 22 planned (%g, %g)",
          num(e, "limit_kw"), num(e, "planned_kw"));
    CHECK(num(e, "soc_pct") == 55 && cJSON_IsFalse(item(e, "at_risk")) && num(e, "short_kwh") == 0,
          "SoC 55 %%, charging to full: no alarm (%g, %g kWh)", num(e, "soc_pct"), num(e, "short_kwh"));
    const cJSON *s1 = station_of(doc, "ST01"), *idle = evse_of(doc, "ST01", 1);
    CHECK(num(s1, "cap_kw") == 0 && num(item(s1, "failsafe"), "kw") == 0, "ST01: a 0 kW cap (%g, %g)",
          num(s1, "cap_kw"), num(item(s1, "failsafe"), "kw"));
    CHECK(idle && is(idle, "mode", "idle") && is(idle, "status", "Available") && is_null(idle, "vehicle") &&
              is_null(idle, "transaction_id") && is_null(idle, "power_kw") && is_null(idle, "power_at") &&
              is_null(idle, "planned_kw") && is_null(idle, "soc_pct") && cJSON_IsFalse(item(idle, "at_risk")),
          "ST01's EVSE idle: nobody, no reading, nothing planned");
    CHECK(num(idle, "limit_kw") == 0, "a car plugging in there may draw its station's cap, 0 kW (%g)",
          num(idle, "limit_kw"));
    cJSON_Delete(doc);

    /* ST01 goes away; ST00's clock was measured 120.4 s behind. */
    F.offline[1] = true;
    ctl_on_disconnect(ctl, &stations[1]);
    stations[0].clock.known = true;
    stations[0].clock.offset_ms = -120400;
    doc = ctl_live_json(ctl, NULL);
    s0 = station_of(doc, "ST00"), s1 = station_of(doc, "ST01");
    CHECK(cJSON_IsFalse(item(s1, "connected")) && cJSON_IsTrue(item(s0, "connected")), "ST01 disconnected, ST00 not");
    CHECK(num(s1, "cap_kw") == 0 && is(evse_of(doc, "ST01", 1), "status", "Available"),
          "ST01 still counted at the cap it holds, its last status kept (%g)", num(s1, "cap_kw"));
    CHECK(num(s0, "clock_offset_s") == -120.4, "ST00's clock -120.4 s (%g)", num(s0, "clock_offset_s"));
    cJSON_Delete(doc);
    stations[0].clock = (struct clock_offset){0};
    ctl_free(ctl);
}

/* TxDefaultProfile, 30 kW, two stations of one 22 kW EVSE, floors of 4.2 kW (test_txdefault_shares_spare): empty,
 * each station's default is 4.2 kW plus half of the 21.6 left, 15 kW. A car on ST00 gets a plan of 22 kW; ST01's
 * default comes down to 8 kW (4.2 + the 3.8 left) in phase 1, with the car's first TxProfile at what it may draw
 * already (15 kW: it lowers the end of the plan); 22 kW in phase 2. Until its first TxProfile is accepted the car is
 * in fail-safe mode, held by the 15 kW default ST00 has; ST01 holds 15 kW until it answers its decrease. */
static void test_before_txprofile(void)
{
    struct control *ctl = loop_new(2, "{\"site_limit_kw\": 30, \"failsafe\": \"TxDefaultProfile\", \"evse_max_kw\": 22,"
                                      " \"failsafe_evse_kw\": 4.2, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    cJSON *doc = ctl_live_json(ctl, NULL);
    CHECK(doc && is_null(doc, "plan_id") && cJSON_GetArraySize(item(doc, "stations")) == 0,
          "before any station or plan: no plan, no stations");
    cJSON_Delete(doc);
    for (int s = 0; s < 2; s++) boot(ctl, s, 1);
    doc = ctl_live_json(ctl, NULL);
    const cJSON *fs = item(station_of(doc, "ST00"), "failsafe");
    CHECK(is(fs, "state", "sent") && is_null(fs, "kw") && is_null(evse_of(doc, "ST00", 1), "limit_kw"),
          "booted, its first default in flight: what it holds is not known (%s)", str(fs, "state"));
    cJSON_Delete(doc);
    settle(ctl);
    doc = ctl_live_json(ctl, NULL);
    fs = item(station_of(doc, "ST00"), "failsafe");
    CHECK(is(doc, "failsafe", "TxDefaultProfile") && is(fs, "profile", "TxDefaultProfile") &&
              is(fs, "state", "accepted") && num(fs, "kw") == 15 && is_null(station_of(doc, "ST00"), "cap_kw"),
          "empty: ST00 holds a 15 kW default, no station cap (%s %g)", str(fs, "state"), num(fs, "kw"));
    CHECK(num(evse_of(doc, "ST00", 1), "limit_kw") == 15, "an idle EVSE may draw its default (%g)",
          num(evse_of(doc, "ST00", 1), "limit_kw"));
    cJSON_Delete(doc);

    tx_event(ctl, 0, 1, "Started", "TOK");
    int from = F.n_sent;
    CHECK(plan(ctl), "a plan for the car");
    int dec = last_sent(1, "TxDefaultProfile", -1), step = last_sent(0, "TxProfile", 1);
    CHECK(dec >= from && limit_at(dec, F.now) == 8000 && step >= from && limit_at(step, F.now) == 15000,
          "phase 1: ST01's default down to 8 kW, the car's first TxProfile at the 15 kW it may already draw "
          "(%.0f, %.0f W)",
          limit_at(dec, F.now), limit_at(step, F.now));
    doc = ctl_live_json(ctl, NULL);
    const cJSON *e = evse_of(doc, "ST00", 1), *fs1 = item(station_of(doc, "ST01"), "failsafe");
    CHECK(is(e, "mode", "failsafe") && is(e, "transaction_id", "TX-0-1") && is_null(e, "vehicle") &&
              num(e, "limit_kw") == 15 && num(e, "planned_kw") == 22,
          "the car: fail-safe, held by ST00's 15 kW default, 22 kW planned (%s, %g, %g)", str(e, "mode"),
          num(e, "limit_kw"), num(e, "planned_kw"));
    CHECK(is_null(e, "power_kw") && is_null(e, "soc_pct"), "no reading yet in this session");
    CHECK(num(fs1, "kw") == 15, "ST01 holds 15 kW while its decrease is in flight (%g)", num(fs1, "kw"));
    cJSON_Delete(doc);
    answer(ctl, dec, "Accepted");
    doc = ctl_live_json(ctl, NULL);
    e = evse_of(doc, "ST00", 1);
    CHECK(num(item(station_of(doc, "ST01"), "failsafe"), "kw") == 8, "ST01 holds 8 kW once it accepted (%g)",
          num(item(station_of(doc, "ST01"), "failsafe"), "kw"));
    CHECK(is(e, "mode", "failsafe") && num(e, "limit_kw") == 15,
          "the car's TxProfile not answered yet: still the fail-safe's 15 kW (%s, %g)", str(e, "mode"),
          num(e, "limit_kw"));
    cJSON_Delete(doc);
    answer(ctl, step, "Accepted");
    int raise = last_sent(0, "TxProfile", 1);
    doc = ctl_live_json(ctl, NULL);
    e = evse_of(doc, "ST00", 1);
    CHECK(raise > step && is(e, "mode", "controlled") && num(e, "limit_kw") == 15,
          "accepted: controlled at its TxProfile's 15 kW; the raise to 22 kW in flight (%s, %g)", str(e, "mode"),
          num(e, "limit_kw"));
    cJSON_Delete(doc);
    if (raise > step) answer(ctl, raise, "Accepted");
    doc = ctl_live_json(ctl, NULL);
    e = evse_of(doc, "ST00", 1);
    CHECK(is(e, "mode", "controlled") && num(e, "limit_kw") == 22, "the raise accepted: 22 kW (%g)",
          num(e, "limit_kw"));
    cJSON_Delete(doc);
    ctl_free(ctl);
}

/* One station of two 22 kW EVSEs behind 44 kW: VAN-A of fleet north on EVSE 1, VAN-B of fleet south on EVSE 2,
 * drawing 11 kW. A north reader sees VAN-A and its transaction, not VAN-B's, but sees EVSE 2's draw and limit. */
static void test_fleet_scope(void)
{
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 44, \"horizon_h\": 4, \"vehicles\": [{\"id\": \"VAN-A\", "
                                      "\"id_tokens\": [\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}]}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    snprintf(ctl_vehicle_find(ctl, "VAN-A")->fleet, CONTROL_FLEET_MAX + 1, "north");
    snprintf(ctl_vehicle_find(ctl, "VAN-B")->fleet, CONTROL_FLEET_MAX + 1, "south");
    boot(ctl, 0, 2);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 0, 2, "Started", "TOK-B");
    settle(ctl);
    meter(ctl, 0, 2, "[{\"value\": 11000, \"measurand\": \"Power.Active.Import\"}]");
    cJSON *all = ctl_live_json(ctl, NULL), *every = ctl_live_json(ctl, ""), *north = ctl_live_json(ctl, "north"),
          *west = ctl_live_json(ctl, "west");
    const cJSON *a = evse_of(north, "ST00", 1), *b = evse_of(north, "ST00", 2), *b_all = evse_of(all, "ST00", 2);
    CHECK(is(a, "vehicle", "VAN-A") && is(a, "transaction_id", "TX-0-1"), "north sees its VAN-A (%s)",
          str(a, "vehicle"));
    CHECK(is_null(b, "vehicle") && is_null(b, "transaction_id"), "north does not see who is on EVSE 2 (%s)",
          str(b, "vehicle"));
    CHECK(num(b, "power_kw") == 11 && num(b, "limit_kw") == num(b_all, "limit_kw") && num(b, "limit_kw") > 0 &&
              is(b, "mode", str(b_all, "mode")) && is(b, "status", "Available"),
          "but its draw, limit, mode and status (%g kW of %g, %s)", num(b, "power_kw"), num(b, "limit_kw"),
          str(b, "mode"));
    CHECK(is(b_all, "vehicle", "VAN-B") && is(b_all, "transaction_id", "TX-0-2") &&
              is(evse_of(every, "ST00", 2), "vehicle", "VAN-B"),
          "a reader of every fleet (NULL or \"\") sees VAN-B");
    CHECK(is_null(evse_of(west, "ST00", 1), "vehicle") && is_null(evse_of(west, "ST00", 2), "vehicle"),
          "a fleet with no vehicle here sees nobody");
    cJSON_Delete(all);
    cJSON_Delete(every);
    cJSON_Delete(north);
    cJSON_Delete(west);
    ctl_free(ctl);
}

/* A TransactionEvent carrying a SoC of 40 %; the session ends; the next session on the EVSE has no SoC until its
 * MeterValues say 12 %; 140 % is no SoC. */
static void test_soc_per_session(void)
{
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 22, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-X");
    char buf[700], ts[40];
    snprintf(buf, sizeof buf,
             "{\"eventType\": \"Updated\", \"timestamp\": \"%s\", \"triggerReason\": \"MeterValuePeriodic\", "
             "\"seqNo\": 1, \"transactionInfo\": {\"transactionId\": \"TX-0-1\", \"chargingState\": \"Charging\"}, "
             "\"evse\": {\"id\": 1}, "
             "\"meterValue\": [{\"timestamp\": \"%s\", \"sampledValue\": [{\"value\": 40, \"measurand\": \"SoC\", "
             "\"unitOfMeasure\": {\"unit\": \"Percent\"}}, {\"value\": 3, \"measurand\": \"SoC\", "
             "\"phase\": \"L1\"}]}]}",
             ocpp_time_format(F.now, ts), ts);
    cJSON *p = cJSON_Parse(buf);
    ctl_on_transaction_event(ctl, &stations[0], p);
    cJSON_Delete(p);
    cJSON *doc = ctl_live_json(ctl, NULL);
    CHECK(num(evse_of(doc, "ST00", 1), "soc_pct") == 40, "SoC 40 %% from the TransactionEvent (%g)",
          num(evse_of(doc, "ST00", 1), "soc_pct"));
    cJSON_Delete(doc);
    tx_event(ctl, 0, 1, "Ended", "TOK-X");
    doc = ctl_live_json(ctl, NULL);
    CHECK(is(evse_of(doc, "ST00", 1), "mode", "idle") && is_null(evse_of(doc, "ST00", 1), "soc_pct"),
          "ended: idle, no SoC");
    cJSON_Delete(doc);
    F.now += 60000;
    tx_event(ctl, 0, 1, "Started", "TOK-Y");
    doc = ctl_live_json(ctl, NULL);
    CHECK(is_null(evse_of(doc, "ST00", 1), "soc_pct") && !is(evse_of(doc, "ST00", 1), "mode", "idle"),
          "a new session: no SoC yet (%g)", num(evse_of(doc, "ST00", 1), "soc_pct"));
    cJSON_Delete(doc);
    meter(ctl, 0, 1, "[{\"value\": 12, \"measurand\": \"SoC\"}]");
    meter(ctl, 0, 1, "[{\"value\": 140, \"measurand\": \"SoC\"}]");
    struct ctl_evse *e = ctl_evse(ctl_station(ctl, &stations[0]), 1);
    doc = ctl_live_json(ctl, NULL);
    CHECK(num(evse_of(doc, "ST00", 1), "soc_pct") == 12 && e->soc_pct == 12, "then 12 %%, and 140 %% is none (%g)",
          num(evse_of(doc, "ST00", 1), "soc_pct"));
    cJSON_Delete(doc);
    ctl_free(ctl);
}

/* control.enabled false: no profiles, no limits: nothing to show (the API answers from the server alone). */
static void test_control_off(void)
{
    struct control *ctl = loop_new(1, "{\"enabled\": false}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    cJSON *doc = ctl_live_json(ctl, NULL);
    CHECK(doc == NULL, "control off: NULL");
    cJSON_Delete(doc);
    ctl_free(ctl);
}

int main(void)
{
    test_controlled_and_idle();
    test_before_txprofile();
    test_fleet_scope();
    test_soc_per_session();
    test_control_off();
    loop_free();
    return CHECK_DONE();
}
