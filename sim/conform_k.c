/*
 * The catalogue's K (smart charging) test cases: the profiles a CSMS sets, clears, reads and composes when its
 * operator asks (run through conform_ops.c's machinery, each with the OCA test case's tool validations as checks),
 * and what it answers when the station reports limits and an ISO 15118 car's needs. A smart charging CSMS may
 * send some of these by itself (its own TxDefaultProfile, a TxProfile for a transaction): those count as long as
 * they pass the checks.
 */
#include "conform_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- the station reports --------------------------------------------------------------------------------------- */

static bool tx_profile_of(const cJSON *payload, const void *tx)
{
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(payload, "chargingProfile");
    return strcmp(cf_str(cp, "chargingProfilePurpose"), "TxProfile") == 0 && strcmp(cf_str(cp, "transactionId"), tx) == 0;
}

static cJSON *needs_payload(void)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject(), *n = cJSON_AddObjectToObject(p, "chargingNeeds");
    cJSON_AddNumberToObject(p, "evseId", 1);
    cJSON_AddStringToObject(n, "requestedEnergyTransfer", "AC_three_phase");
    cJSON_AddStringToObject(n, "departureTime", cf_now_text(tb, 4 * 3600000));
    cJSON *a = cJSON_AddObjectToObject(n, "acChargingParameters");
    cJSON_AddNumberToObject(a, "energyAmount", 30000);
    cJSON_AddNumberToObject(a, "evMinCurrent", 6);
    cJSON_AddNumberToObject(a, "evMaxCurrent", 16);
    cJSON_AddNumberToObject(a, "evMaxVoltage", 230);
    return p;
}

static cJSON *ev_schedule_payload(void)
{
    char tb[32];
    cJSON *p = cJSON_Parse("{\"evseId\": 1, \"chargingSchedule\": {\"id\": 1, \"chargingRateUnit\": \"W\", "
                           "\"chargingSchedulePeriod\": [{\"startPeriod\": 0, \"limit\": 7000}]}}");
    cJSON_AddStringToObject(p, "timeBase", cf_now_text(tb, 0));
    return p;
}

/* K15: the car's needs (ISO 15118) come in; the CSMS answers, sets a TxProfile for the transaction within what the
 * station declared, and accepts the car's own schedule. */
static void tc_k_53(const struct cf_options *o, struct verdict *r, const void *arg)
{
    (void)arg;
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    char id[40];
    cf_tx_id(id, "k53");
    cJSON *res = NULL;
    if (cf_simple_call(c, "StatusNotification", cf_status_payload(1, "Occupied"), r, NULL) == 0 &&
        cf_send_tx(c, cf_tx_payload("Started", "CablePluggedIn", 0, id, 0, 0, false, o->id_token), r) == 0 &&
        cf_simple_call(c, "NotifyEVChargingNeeds", needs_payload(), r, &res) == 0) {
        const char *st = cf_str(res, "status");
        struct cf_msg *m = NULL;
        for (double t = 0; !m && t < o->wait_s; t += 0.05) {
            m = cf_find_call(c, "SetChargingProfile", tx_profile_of, id);
            if (!m) cf_pump(c, 0.05);
        }
        const struct cf_sc_seen *sc = cf_sc(c);
        cJSON *sres = NULL;
        if (strcmp(st, "Accepted") != 0 && strcmp(st, "Processing") != 0)
            cf_set(r, CF_FAIL, c, "NotifyEVChargingNeeds answered %s, the test case wants Accepted or Processing", st);
        else if (!m)
            cf_set(r, CF_SKIP, NULL, "NotifyEVChargingNeeds %s; no TxProfile for the transaction within %.0f s", st,
                   o->wait_s);
        else if (cf_protocol_faults(c))
            cf_set(r, CF_FAIL, c, "SetChargingProfile invalid against the schema");
        else if (sc->set_profiles_bad)
            cf_set(r, CF_FAIL, c, "SetChargingProfile ignores what the station declared: %s", sc->bad_reason);
        else if (cf_simple_call(c, "NotifyEVChargingSchedule", ev_schedule_payload(), r, &sres) == 0) {
            if (strcmp(cf_str(sres, "status"), "Accepted") != 0)
                cf_set(r, CF_FAIL, c, "NotifyEVChargingSchedule answered %s", cf_str(sres, "status"));
            else
                cf_set(r, CF_PASS, NULL, "needs %s; a TxProfile for the transaction within PeriodsPerSchedule %d and "
                       "RateUnit %s; the car's schedule Accepted", st, o->periods_per_schedule,
                       o->rate_unit_w ? "W" : "A");
        }
        cJSON_Delete(sres);
    }
    cJSON_Delete(res);
    cf_send_tx(c, cf_tx_payload("Ended", "EVDeparted", 1, id, 0, 100, false, NULL), &(struct verdict){0});
    cf_close(c);
}

/* K12 / K13: a limit from an EMS set and released, without a transaction. */
static void limit_case(const struct cf_options *o, struct verdict *r, const void *arg)
{
    bool clear = arg != NULL;
    cf_conn *c = cf_boot(o->id, o->password, "Accepted", r);
    if (!c)
        return;
    cJSON *set = cJSON_Parse("{\"evseId\": 0, \"chargingLimit\": {\"chargingLimitSource\": \"EMS\", \"isGridCritical\": "
                             "false}, \"chargingSchedule\": [{\"id\": 1, \"chargingRateUnit\": \"W\", "
                             "\"chargingSchedulePeriod\": [{\"startPeriod\": 0, \"limit\": 11000}]}]}");
    if (cf_simple_call(c, "NotifyChargingLimit", set, r, NULL) == 0) {
        if (!clear)
            cf_set(r, CF_PASS, NULL, "NotifyChargingLimit (EMS, 11 kW on the station) answered");
        else if (cf_simple_call(c, "ClearedChargingLimit",
                                cJSON_Parse("{\"chargingLimitSource\": \"EMS\", \"evseId\": 0}"), r, NULL) == 0)
            cf_set(r, CF_PASS, NULL, "NotifyChargingLimit, then ClearedChargingLimit (EMS) answered");
    }
    cf_close(c);
}

/* ---- the operator's profiles ----------------------------------------------------------------------------------- */

/* Catalogue rows name only the fields they use; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define OP(name, what, ...) {name, what, cf_op_run, &(const struct cf_op){__VA_ARGS__}}
#define ACCEPTED "{\"status\": \"Accepted\"}"
#define SCHEDULE(limit) "\"chargingSchedule\": [{\"id\": 1, \"startSchedule\": \"$NOW\", \"chargingRateUnit\": \"$UNIT\", " \
    "\"chargingSchedulePeriod\": [{\"startPeriod\": 0, \"limit\": " limit "}]}]"
#define PROFILE(evse, id, purpose, kind, extra, limit) "{\"evseId\": " #evse ", \"chargingProfile\": {\"id\": " #id ", " \
    "\"stackLevel\": 1, \"chargingProfilePurpose\": \"" purpose "\", \"chargingProfileKind\": \"" kind "\", " extra \
    SCHEDULE(limit) "}}"
#define FIRST_PERIOD_0 "chargingProfile.chargingSchedule.0.chargingSchedulePeriod.0.startPeriod=0"
#define COMPOSITE(evse) "{\"status\": \"Accepted\", \"schedule\": {\"evseId\": " #evse ", \"duration\": 300, " \
    "\"scheduleStart\": \"$NOW\", \"chargingRateUnit\": \"$UNIT\", \"chargingSchedulePeriod\": [{\"startPeriod\": 0, " \
    "\"limit\": $L16}]}}"
#define CLEAR_TXDEFAULT "{\"chargingProfileCriteria\": {\"evseId\": 1, \"chargingProfilePurpose\": \"TxDefaultProfile\", " \
    "\"stackLevel\": 1}}"
#define CLEAR_CHECKS "chargingProfileCriteria.chargingProfilePurpose=TxDefaultProfile;" \
    "chargingProfileCriteria.stackLevel=1;!chargingProfileId"

const struct cf_scenario cf_smart[] = {
    OP("TC_K_01_CSMS", "TxDefaultProfile on one EVSE", "SetChargingProfile",
       PROFILE(1, 101, "TxDefaultProfile", "Absolute", "", "$L6"),
       "evseId=1;chargingProfile.chargingProfilePurpose=TxDefaultProfile;" FIRST_PERIOD_0),
    OP("TC_K_02_CSMS", "TxProfile without a transaction, Rejected", "SetChargingProfile",
       PROFILE(1, 102, "TxProfile", "Absolute", "\"transactionId\": \"cf-no-such-tx\", ", "$L6"),
       "evseId=1;chargingProfile.chargingProfilePurpose=TxProfile;" FIRST_PERIOD_0, "{\"status\": \"Rejected\"}",
       CF_IDLE, cf_follow_heartbeat),
    OP("TC_K_03_CSMS", "ChargingStationMaxProfile", "SetChargingProfile",
       PROFILE(0, 103, "ChargingStationMaxProfile", "Absolute", "", "$L8"),
       "evseId=0;chargingProfile.chargingProfilePurpose=ChargingStationMaxProfile;"
       "chargingProfile.chargingProfileKind!=Relative;" FIRST_PERIOD_0),
    OP("TC_K_04_CSMS", "a profile replaced under the same id", "SetChargingProfile",
       PROFILE(0, 104, "ChargingStationMaxProfile", "Absolute", "", "$L8"),
       "chargingProfile.id=104;chargingProfile.chargingProfilePurpose=ChargingStationMaxProfile;"
       "chargingProfile.stackLevel=1;chargingProfile.chargingSchedule.0.chargingSchedulePeriod.0.limit=$L8",
       NULL, CF_IDLE, NULL, PROFILE(0, 104, "ChargingStationMaxProfile", "Absolute", "", "$L6"),
       "chargingProfile.id=104;chargingProfile.chargingProfilePurpose=ChargingStationMaxProfile;"
       "chargingProfile.stackLevel=1;chargingProfile.chargingSchedule.0.chargingSchedulePeriod.0.limit=$L6"),
    OP("TC_K_05_CSMS", "ClearChargingProfile by chargingProfileId", "ClearChargingProfile",
       "{\"chargingProfileId\": 103}", "chargingProfileId=103;!chargingProfileCriteria", ACCEPTED),
    OP("TC_K_06_CSMS", "ClearChargingProfile by purpose and stackLevel", "ClearChargingProfile", CLEAR_TXDEFAULT,
       CLEAR_CHECKS, ACCEPTED),
    OP("TC_K_08_CSMS", "ClearChargingProfile of nothing, Unknown", "ClearChargingProfile", CLEAR_TXDEFAULT,
       CLEAR_CHECKS, "{\"status\": \"Unknown\"}", CF_IDLE, cf_follow_heartbeat),
    OP("TC_K_10_CSMS", "TxDefaultProfile on every EVSE (evseId 0)", "SetChargingProfile",
       PROFILE(0, 110, "TxDefaultProfile", "Absolute", "", "$L6"),
       "evseId=0;chargingProfile.chargingProfilePurpose=TxDefaultProfile;" FIRST_PERIOD_0),
    OP("TC_K_15_CSMS", "SetChargingProfile answered NotSupported", "SetChargingProfile",
       PROFILE(0, 115, "TxDefaultProfile", "Absolute", "", "$L6"),
       "chargingProfile.chargingProfilePurpose=TxDefaultProfile;" FIRST_PERIOD_0, "!NotSupported", CF_IDLE,
       cf_follow_heartbeat),
    OP("TC_K_19_CSMS", "a Recurring TxDefaultProfile", "SetChargingProfile",
       PROFILE(0, 119, "TxDefaultProfile", "Recurring", "\"recurrencyKind\": \"Daily\", ", "$L6"),
       "chargingProfile.chargingProfileKind=Recurring;chargingProfile.recurrencyKind;" FIRST_PERIOD_0),
    OP("TC_K_29_CSMS", "GetChargingProfiles of evseId 0, report answered", "GetChargingProfiles",
       "{\"requestId\": 29, \"evseId\": 0, \"chargingProfile\": {\"chargingProfilePurpose\": \"TxDefaultProfile\"}}",
       "requestId;evseId=0;chargingProfile.chargingProfilePurpose", ACCEPTED, CF_CHARGING, cf_follow_report_profiles),
    OP("TC_K_30_CSMS", "GetChargingProfiles of one EVSE, report answered", "GetChargingProfiles",
       "{\"requestId\": 30, \"evseId\": 1, \"chargingProfile\": {\"chargingProfilePurpose\": \"TxDefaultProfile\"}}",
       "requestId;evseId=1;chargingProfile.chargingProfilePurpose", ACCEPTED, CF_IDLE, cf_follow_report_profiles),
    OP("TC_K_32_CSMS", "GetChargingProfiles by chargingProfileId", "GetChargingProfiles",
       "{\"requestId\": 32, \"chargingProfile\": {\"chargingProfileId\": [103]}}",
       "requestId;chargingProfile.chargingProfileId.0=103", ACCEPTED, CF_IDLE, cf_follow_report_profiles),
    OP("TC_K_43_CSMS", "GetCompositeSchedule of one EVSE", "GetCompositeSchedule",
       "{\"evseId\": 1, \"duration\": 300, \"chargingRateUnit\": \"$UNIT\"}", "evseId=1;duration", COMPOSITE(1)),
    OP("TC_K_44_CSMS", "GetCompositeSchedule of the station", "GetCompositeSchedule",
       "{\"evseId\": 0, \"duration\": 300, \"chargingRateUnit\": \"$UNIT\"}", "evseId=0;duration", COMPOSITE(0)),
    {"TC_K_48_CSMS", "NotifyChargingLimit answered", limit_case, NULL},
    {"TC_K_50_CSMS", "ClearedChargingLimit answered", limit_case, "clear"},
    OP("TC_K_52_CSMS", "external constraints in a ReportChargingProfiles", "GetChargingProfiles",
       "{\"requestId\": 52, \"chargingProfile\": {\"chargingProfilePurpose\": \"ChargingStationExternalConstraints\"}}",
       "requestId;chargingProfile.chargingProfilePurpose=ChargingStationExternalConstraints", ACCEPTED, CF_IDLE,
       cf_follow_report_external),
    {"TC_K_53_CSMS", "ISO 15118 needs -> a TxProfile within the declared limits", tc_k_53, NULL},
    OP("TC_K_60_CSMS", "TxProfile for an ongoing transaction", "SetChargingProfile",
       PROFILE(1, 160, "TxProfile", "Absolute", "\"transactionId\": \"$TX\", ", "$L10"),
       "evseId=1;chargingProfile.chargingProfilePurpose=TxProfile;chargingProfile.transactionId=$TX;" FIRST_PERIOD_0,
       NULL, CF_CHARGING),
    OP("TC_K_70_CSMS", "TxDefaultProfile, then a ChargingStationMaxProfile", "SetChargingProfile",
       PROFILE(0, 170, "TxDefaultProfile", "Absolute", "", "$L10"),
       "chargingProfile.chargingProfilePurpose=TxDefaultProfile;" FIRST_PERIOD_0, NULL, CF_CHARGING, NULL,
       PROFILE(0, 171, "ChargingStationMaxProfile", "Absolute", "", "$L16"),
       "evseId=0;chargingProfile.chargingProfilePurpose=ChargingStationMaxProfile;"
       "chargingProfile.chargingSchedule.0.startSchedule;" FIRST_PERIOD_0),
};
const int cf_n_smart = (int)(sizeof cf_smart / sizeof cf_smart[0]);
