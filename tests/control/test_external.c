/* Limits from outside depotd that a station reports (NotifyChargingLimit, src/control_external.c) through the
 * loop's seam (fake_port.h): the plan keeps the station's sessions under them and gives what they free to the
 * others, by hand-computed cases. Flat prices: sessions charge at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"

#define HOUR 3600000LL

/* Two stations of one 22 kW EVSE behind 30 kW; VAN-A (ST00) and VAN-B (ST01) need 40 kWh each by T0 + 6 h. */
#define VANS "\"site_limit_kw\": 30, \"horizon_h\": 8, \"departure_hedge_new_pct\": 0, \"vehicles\": [" \
    "{\"id\": \"VAN-A\", \"id_tokens\": [\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}], \"needs\": [" \
    "{\"vehicle\": \"VAN-A\", \"departure\": \"2027-01-01T06:00:00Z\", \"energy_kwh\": 40}, " \
    "{\"vehicle\": \"VAN-B\", \"departure\": \"2027-01-01T06:00:00Z\", \"energy_kwh\": 40}]"

static struct control *two_vans(void)
{
    struct control *ctl = loop_new(2, "{" VANS "}");
    if (!ctl) return NULL;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 1, 1, "Started", "TOK-B");
    settle(ctl);
    return ctl;
}

/* Planned kW of the session on station st in slot t (-1: none). */
static double planned(const struct ctl_plan *p, int st, int t)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->sessions[i].station, stations[st].id) == 0) return p->kw[(size_t)i * p->slots + t];
    return -1;
}

static int slot_at(const struct ctl_plan *p, int64_t t)
{
    for (int k = 0; k < p->slots; k++)
        if (p->at[k] <= t && t < p->at[k + 1]) return k;
    return -1;
}

static void limit(struct control *ctl, int st, const char *json)
{
    cJSON *p = cJSON_Parse(json);
    ctl_on_charging_limit(ctl, &stations[st], p, strstr(json, "chargingLimit\"") == NULL);
    cJSON_Delete(p);
    settle(ctl);
}

/* The EMS holds ST00 at 5 kW for two hours: VAN-A is planned at 5 kW there, VAN-B gets its 22, 27 of the 30 kW in
 * all; after the two hours VAN-A takes the rest again. Without the report they share the 30 kW (22 + 8). */
static void test_planned_with(void)
{
    struct control *ctl = two_vans();
    CHECK(ctl && ctl->plan, "planned");
    if (!ctl || !ctl->plan) return;
    double a0 = planned(ctl->plan, 0, 0), b0 = planned(ctl->plan, 1, 0);
    CHECK(fabs(a0 + b0 - 30) < 0.01, "without a report: both share the 30 kW at once (%.2f + %.2f)", a0, b0);
    limit(ctl, 0, "{\"chargingLimit\": {\"chargingLimitSource\": \"EMS\", \"isGridCritical\": false}, \"evseId\": 0, "
                  "\"chargingSchedule\": [{\"id\": 1, \"chargingRateUnit\": \"W\", \"startSchedule\": "
                  "\"2027-01-01T00:00:00Z\", \"duration\": 7200, \"chargingSchedulePeriod\": "
                  "[{\"startPeriod\": 0, \"limit\": 5000}]}]}");
    const struct ctl_plan *p = ctl->plan;
    int bad = 0;
    for (int t = 0; t < slot_at(p, T0 + 2 * HOUR); t++)
        if (planned(p, 0, t) > 5 + 1e-6 && bad++ < 3) CHECK(0, "slot %d: VAN-A %.3f kW above the EMS's 5", t, planned(p, 0, t));
    CHECK(!bad, "VAN-A under the EMS's 5 kW for its two hours");
    CHECK(fabs(planned(p, 1, 0) - 22) < 0.01, "VAN-B gets its 22 kW now (%.3f)", planned(p, 1, 0));
    int after = slot_at(p, T0 + 2 * HOUR);
    CHECK(after >= 0 && planned(p, 0, after) > 5.5, "after the two hours VAN-A charges above 5 kW again (%.3f)",
          after >= 0 ? planned(p, 0, after) : -1);
    limit(ctl, 0, "{\"chargingLimitSource\": \"EMS\", \"evseId\": 0}");
    CHECK(planned(ctl->plan, 0, 0) > 5.5, "cleared: VAN-A above 5 kW at once (%.3f)", planned(ctl->plan, 0, 0));
    ctl_free(ctl);
}

/* In A per phase: 10 A on 3 phases is 6.9 kW; a limit without a schedule says nothing to plan with. */
static void test_amps_and_empty(void)
{
    struct control *ctl = two_vans();
    if (!ctl) return;
    limit(ctl, 1, "{\"chargingLimit\": {\"chargingLimitSource\": \"SO\"}, \"evseId\": 1, \"chargingSchedule\": [{"
                  "\"id\": 2, \"chargingRateUnit\": \"A\", \"chargingSchedulePeriod\": [{\"startPeriod\": 0, "
                  "\"limit\": 10}]}]}");
    CHECK(fabs(planned(ctl->plan, 1, 0) - 6.9) < 0.01, "10 A x 3 x 230 V = 6.9 kW for VAN-B (%.3f)",
          planned(ctl->plan, 1, 0));
    CHECK(fabs(planned(ctl->plan, 0, 0) - 22) < 0.01, "VAN-A gets its 22 (%.3f)", planned(ctl->plan, 0, 0));
    uint64_t id = ctl->plan->id;
    limit(ctl, 0, "{\"chargingLimit\": {\"chargingLimitSource\": \"CSO\"}}");
    CHECK(ctl->plan->id == id, "a limit without a schedule: no re-plan");
    ctl_free(ctl);
}

/* ReportChargingProfiles (after GetChargingProfiles): an EMS's ChargingStationExternalConstraints profile on EVSE 1
 * of ST00 (5 kW, above the 4.14 kW a 3-phase car needs at all) is planned with like a NotifyChargingLimit; the CSO's
 * own profiles are not someone else's limit. */
static void test_reported(void)
{
    struct control *ctl = two_vans();
    if (!ctl) return;
    uint64_t id = ctl->plan ? ctl->plan->id : 0;
    cJSON *p = cJSON_Parse("{\"requestId\": 1, \"chargingLimitSource\": \"CSO\", \"evseId\": 1, \"chargingProfile\": [{"
                           "\"id\": 9, \"stackLevel\": 0, \"chargingProfilePurpose\": \"ChargingStationExternalConstraints\", "
                           "\"chargingProfileKind\": \"Absolute\", \"chargingSchedule\": [{\"id\": 1, \"chargingRateUnit\": "
                           "\"W\", \"chargingSchedulePeriod\": [{\"startPeriod\": 0, \"limit\": 5000}]}]}]}");
    ctl_on_reported_profiles(ctl, &stations[0], p);
    settle(ctl);
    CHECK(ctl->plan->id == id && planned(ctl->plan, 0, 0) > 4.5, "the CSO's own: nothing changes (%.3f)",
          planned(ctl->plan, 0, 0));
    cJSON_ReplaceItemInObject(p, "chargingLimitSource", cJSON_CreateString("EMS"));
    ctl_on_reported_profiles(ctl, &stations[0], p);
    cJSON_Delete(p);
    settle(ctl);
    CHECK(fabs(planned(ctl->plan, 0, 0) - 5) < 0.01 && fabs(planned(ctl->plan, 1, 0) - 22) < 0.01,
          "the EMS's: VAN-A at 5 kW, VAN-B 22 (%.3f, %.3f)", planned(ctl->plan, 0, 0), planned(ctl->plan, 1, 0));
    ctl_free(ctl);
}

static void operator_profile(struct control *ctl, const char *action, const char *request, const char *status)
{
    cJSON *q = cJSON_Parse(request), *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "status", status);
    ctl_on_operator_profile(ctl, &stations[0], action, q, a);
    cJSON_Delete(q);
    cJSON_Delete(a);
    settle(ctl);
}

#define MAX_PROFILE(id, w) "{\"evseId\": 0, \"chargingProfile\": {\"id\": " #id ", \"stackLevel\": 3, " \
    "\"chargingProfilePurpose\": \"ChargingStationMaxProfile\", \"chargingProfileKind\": \"Absolute\", " \
    "\"chargingSchedule\": [{\"id\": 1, \"chargingRateUnit\": \"W\", \"chargingSchedulePeriod\": " \
    "[{\"startPeriod\": 0, \"limit\": " #w "}]}]}}"

/* An operator's profiles while depotd plans: its TxProfile and fail-safe purposes and its ids are refused; with the
 * TxDefaultProfile fail-safe a ChargingStationMaxProfile is allowed and, once the station accepts it, planned with
 * (VAN-A at its 6 kW, VAN-B the 22 kW it can take); cleared by id, VAN-A takes the rest again. A restart forgets it
 * until the station reports it (ReportChargingProfiles, source CSO); a profile under depotd's ids is not one. */
static void test_operator_profile(void)
{
    char why[600];
    struct control *ctl = two_vans(); /* the station maxima fail-safe: ChargingStationMaxProfile is depotd's */
    if (!ctl) return;
    cJSON *q = cJSON_Parse(MAX_PROFILE(7, 6000));
    CHECK(ctl_operator_profile_refused(ctl, "SetChargingProfile", q, why, sizeof why) == 409,
          "station maxima fail-safe: an operator's ChargingStationMaxProfile refused");
    cJSON_Delete(q);
    ctl_free(ctl);
    ctl = loop_new(2, "{" VANS ", \"failsafe\": \"TxDefaultProfile\"}");
    if (!ctl) return;
    boot(ctl, 0, 1), boot(ctl, 1, 1), settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A"), tx_event(ctl, 1, 1, "Started", "TOK-B"), settle(ctl);
    static const char *const refused[] = {
        "{\"evseId\": 1, \"chargingProfile\": {\"id\": 5, \"stackLevel\": 9, \"chargingProfilePurpose\": \"TxProfile\"}}",
        "{\"evseId\": 0, \"chargingProfile\": {\"id\": 5, \"stackLevel\": 9, \"chargingProfilePurpose\": \"TxDefaultProfile\"}}",
        MAX_PROFILE(1001, 6000), MAX_PROFILE(1, 6000)};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        q = cJSON_Parse(refused[i]);
        CHECK(ctl_operator_profile_refused(ctl, "SetChargingProfile", q, why, sizeof why) == 409, "refused: %s", refused[i]);
        cJSON_Delete(q);
    }
    q = cJSON_Parse("{\"chargingProfileCriteria\": {\"chargingProfilePurpose\": \"TxProfile\"}}");
    CHECK(ctl_operator_profile_refused(ctl, "ClearChargingProfile", q, why, sizeof why) == 409, "clearing TxProfiles refused");
    cJSON_Delete(q);
    q = cJSON_Parse(MAX_PROFILE(7, 6000));
    CHECK(ctl_operator_profile_refused(ctl, "SetChargingProfile", q, why, sizeof why) == 0, "a maximum of id 7 may go");
    cJSON_Delete(q);
    operator_profile(ctl, "SetChargingProfile", MAX_PROFILE(7, 6000), "Rejected");
    CHECK(planned(ctl->plan, 0, 0) > 6.5, "rejected by the station: not planned with (%.3f)", planned(ctl->plan, 0, 0));
    operator_profile(ctl, "SetChargingProfile", MAX_PROFILE(7, 6000), "Accepted");
    CHECK(fabs(planned(ctl->plan, 0, 0) - 6) < 0.01 && fabs(planned(ctl->plan, 1, 0) - 22) < 0.01,
          "accepted: VAN-A at 6 kW, VAN-B 22 (%.3f, %.3f)", planned(ctl->plan, 0, 0), planned(ctl->plan, 1, 0));
    operator_profile(ctl, "ClearChargingProfile", "{\"chargingProfileId\": 7}", "Accepted");
    CHECK(planned(ctl->plan, 0, 0) > 6.5, "cleared: VAN-A above 6 kW again (%.3f)", planned(ctl->plan, 0, 0));
    q = cJSON_Parse("{\"requestId\": 2, \"chargingLimitSource\": \"CSO\", \"evseId\": 0, \"chargingProfile\": ["
                    MAX_PROFILE(1, 5000) "]}");
    cJSON *list = cJSON_GetObjectItem(q, "chargingProfile"), *inner = cJSON_DetachItemFromArray(list, 0);
    cJSON_AddItemToArray(list, cJSON_DetachItemFromObject(inner, "chargingProfile"));
    cJSON_Delete(inner);
    ctl_on_reported_profiles(ctl, &stations[0], q), settle(ctl);
    CHECK(planned(ctl->plan, 0, 0) > 6.5, "reported under depotd's id 1: not an operator's (%.3f)", planned(ctl->plan, 0, 0));
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(list, 0), "id", cJSON_CreateNumber(7));
    ctl_on_reported_profiles(ctl, &stations[0], q), settle(ctl);
    cJSON_Delete(q);
    CHECK(fabs(planned(ctl->plan, 0, 0) - 5) < 0.01,
          "reported as id 7 after a restart: planned with again (%.3f)", planned(ctl->plan, 0, 0));
    ctl_free(ctl);
}

/* A limit without a startSchedule runs from when the station told it: restored after a restart an hour later, the
 * EMS's two hours at 5 kW have one hour left (counted from the restart they would hold VAN-A for two more). */
static void test_restored_from_when_told(void)
{
    struct control *ctl = two_vans();
    if (!ctl) return;
    cJSON *p = cJSON_Parse("{\"chargingLimit\": {\"chargingLimitSource\": \"EMS\"}, \"evseId\": 0, \"chargingSchedule\": "
                           "[{\"id\": 1, \"chargingRateUnit\": \"W\", \"duration\": 7200, \"chargingSchedulePeriod\": "
                           "[{\"startPeriod\": 0, \"limit\": 5000}]}]}");
    ctl_restore_charging_limit(ctl, &stations[0], p, T0 - HOUR);
    cJSON_Delete(p);
    ctl_replan(ctl, "test");
    settle(ctl);
    const struct ctl_plan *pl = ctl->plan;
    int one = slot_at(pl, T0 + HOUR - 1), after = slot_at(pl, T0 + HOUR);
    CHECK(fabs(planned(pl, 0, 0) - 5) < 0.01, "told an hour ago: VAN-A at 5 kW now (%.3f)", planned(pl, 0, 0));
    CHECK(one >= 0 && planned(pl, 0, one) <= 5 + 1e-6, "and until its second hour ends (%.3f)",
          one >= 0 ? planned(pl, 0, one) : -1);
    CHECK(after >= 0 && planned(pl, 0, after) > 5.5, "then free: VAN-A above 5 kW from T0 + 1 h (%.3f), not T0 + 2 h",
          after >= 0 ? planned(pl, 0, after) : -1);
    ctl_free(ctl);
}

int main(void)
{
    test_planned_with();
    test_restored_from_when_told();
    test_amps_and_empty();
    test_reported();
    test_operator_profile();
    loop_free();
    return CHECK_DONE();
}
