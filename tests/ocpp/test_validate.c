/* test_validate.c - payloads against the official OCPP 2.0.1 schemas: each keyword, its error code and path. */
#include "check.h"
#include "ocpp.h"

#include <stdlib.h>

#define SCP_HEAD "{\"evseId\":1,\"chargingProfile\":{\"id\":1,\"stackLevel\":0," \
                 "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\"," \
                 "\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":["
#define SCP_TAIL "]}]}}"
#define P(start, limit) "{\"startPeriod\":" #start ",\"limit\":" limit "}"
#define TE_HEAD "{\"eventType\":\"Updated\",\"timestamp\":\"2026-11-26T10:00:00Z\",\"triggerReason\":\"MeterValuePeriodic\"," \
                "\"seqNo\":3,\"transactionInfo\":{\"transactionId\":\"tx-1\"},\"meterValue\":"
#define NEEDS(soc) "{\"evseId\":1,\"chargingNeeds\":{\"requestedEnergyTransfer\":\"DC\"," \
                   "\"dcChargingParameters\":{\"evMaxCurrent\":200,\"evMaxVoltage\":800,\"stateOfCharge\":" soc "}}}"
#define BOOT_RESP(interval, time) "{\"currentTime\":\"" time "\",\"interval\":" interval ",\"status\":\"Accepted\"}"
#define BOOT(model) "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"" model "\",\"vendorName\":\"v\"}}"
/* U+00E9 é is 2 bytes, U+20AC € is 3 bytes in UTF-8. */
#define E20 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" \
            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"

struct vcase {
    const char *name;
    const char *action;
    bool response;
    const char *payload;
    enum ocpp_error code;
    const char *desc_prefix; /* the JSON path, then ": " */
};

static const struct vcase cases[] = {
    {"heartbeat_empty_ok", "Heartbeat", false, "{}", OCPP_OK, ""},
    {"additional_property_rejected", "Heartbeat", false, "{\"x\":1}", OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "x: "},
    {"custom_data_allows_extra_properties", "Heartbeat", false, "{\"customData\":{\"vendorId\":\"acme\",\"foo\":[1]}}",
     OCPP_OK, ""},
    {"custom_data_requires_vendor_id", "Heartbeat", false, "{\"customData\":{\"foo\":1}}",
     OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "customData.vendorId: "},
    {"boot_ok", "BootNotification", false, BOOT("m"), OCPP_OK, ""},
    {"required_missing", "BootNotification", false, "{\"reason\":\"PowerUp\"}", OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION,
     "chargingStation: "},
    {"nested_required_missing", "BootNotification", false, "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"m\"}}",
     OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "chargingStation.vendorName: "},
    {"enum_rejected", "BootNotification", false, "{\"reason\":\"Reboot\",\"chargingStation\":{\"model\":\"m\",\"vendorName\":\"v\"}}",
     OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "reason: "},
    {"string_type_rejected", "BootNotification", false, "{\"reason\":5,\"chargingStation\":{\"model\":\"m\",\"vendorName\":\"v\"}}",
     OCPP_E_TYPE_CONSTRAINT_VIOLATION, "reason: "},
    {"object_type_rejected", "BootNotification", false, "{\"reason\":\"PowerUp\",\"chargingStation\":[]}",
     OCPP_E_TYPE_CONSTRAINT_VIOLATION, "chargingStation: "},
    {"max_length_20_ascii_ok", "BootNotification", false, BOOT("abcdefghijklmnopqrst"), OCPP_OK, ""},
    {"max_length_21_ascii_rejected", "BootNotification", false, BOOT("abcdefghijklmnopqrstu"),
     OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "chargingStation.model: "},
    {"max_length_counts_code_points_20_two_byte_ok", "BootNotification", false, BOOT(E20), OCPP_OK, ""},
    {"max_length_counts_code_points_21_rejected", "BootNotification", false, BOOT(E20 "\xe2\x82\xac"),
     OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "chargingStation.model: "},
    {"max_length_escaped_unicode_counts_once", "BootNotification", false, BOOT("\\u20ac\\u20ac\\u20ac"), OCPP_OK, ""},
    {"integer_1_0_accepted", "BootNotificationResponse", true, BOOT_RESP("1.0", "2026-11-26T10:00:00Z"), OCPP_OK, ""},
    {"integer_1_5_type_violation", "BootNotification", true, BOOT_RESP("1.5", "2026-11-26T10:00:00Z"),
     OCPP_E_TYPE_CONSTRAINT_VIOLATION, "interval: "},
    {"integer_string_type_violation", "BootNotification", true, BOOT_RESP("\"300\"", "2026-11-26T10:00:00Z"),
     OCPP_E_TYPE_CONSTRAINT_VIOLATION, "interval: "},
    {"date_time_ok_with_offset", "BootNotification", true, BOOT_RESP("300", "2026-11-26T10:00:00.123+01:00"), OCPP_OK, ""},
    {"date_time_month_13_format_violation", "BootNotification", true, BOOT_RESP("300", "2026-13-26T10:00:00Z"),
     OCPP_E_FORMAT_VIOLATION, "currentTime: "},
    {"date_time_without_zone_format_violation", "BootNotification", true, BOOT_RESP("300", "2026-11-26T10:00:00"),
     OCPP_E_FORMAT_VIOLATION, "currentTime: "},
    {"set_charging_profile_decimal_limit_8_1", "SetChargingProfile", false, SCP_HEAD P(0, "8.1") SCP_TAIL, OCPP_OK, ""},
    {"set_charging_profile_limit_string_path", "SetChargingProfile", false,
     SCP_HEAD P(0, "8.1") "," P(60, "16") "," P(120, "\"8.1\"") SCP_TAIL, OCPP_E_TYPE_CONSTRAINT_VIOLATION,
     "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[2].limit: "},
    {"min_items_rejected", "SetChargingProfile", false, SCP_HEAD SCP_TAIL, OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION,
     "chargingProfile.chargingSchedule[0].chargingSchedulePeriod: "},
    {"max_items_rejected", "SetChargingProfile", false,
     "{\"evseId\":1,\"chargingProfile\":{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
     "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[1,2,3,4]}}",
     OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "chargingProfile.chargingSchedule: "},
    {"enum_in_nested_definition", "SetChargingProfile", false,
     "{\"evseId\":1,\"chargingProfile\":{\"id\":1,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
     "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"kW\","
     "\"chargingSchedulePeriod\":[" P(0, "1") "]}]}}",
     OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "chargingProfile.chargingSchedule[0].chargingRateUnit: "},
    {"transaction_event_meter_values_ok", "TransactionEvent", false,
     TE_HEAD "[{\"timestamp\":\"2026-11-26T10:00:00Z\",\"sampledValue\":[{\"value\":1234.5,"
     "\"measurand\":\"Energy.Active.Import.Register\",\"unitOfMeasure\":{\"unit\":\"Wh\"}},{\"value\":8.1}]}]}",
     OCPP_OK, ""},
    {"transaction_event_sampled_value_type", "TransactionEvent", false,
     TE_HEAD "[{\"timestamp\":\"2026-11-26T10:00:00Z\",\"sampledValue\":[{\"value\":1},{\"value\":\"2\"}]}]}",
     OCPP_E_TYPE_CONSTRAINT_VIOLATION, "meterValue[0].sampledValue[1].value: "},
    {"transaction_event_sampled_value_min_items", "TransactionEvent", false,
     TE_HEAD "[{\"timestamp\":\"2026-11-26T10:00:00Z\",\"sampledValue\":[]}]}",
     OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "meterValue[0].sampledValue: "},
    {"transaction_event_measurand_enum", "TransactionEvent", false,
     TE_HEAD "[{\"timestamp\":\"2026-11-26T10:00:00Z\",\"sampledValue\":[{\"value\":1,\"measurand\":\"Energy\"}]}]}",
     OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "meterValue[0].sampledValue[0].measurand: "},
    {"minimum_0_ok", "NotifyEVChargingNeeds", false, NEEDS("0"), OCPP_OK, ""},
    {"maximum_100_ok", "NotifyEVChargingNeeds", false, NEEDS("100"), OCPP_OK, ""},
    {"minimum_violated", "NotifyEVChargingNeeds", false, NEEDS("-1"), OCPP_E_PROPERTY_CONSTRAINT_VIOLATION,
     "chargingNeeds.dcChargingParameters.stateOfCharge: must be >= 0"},
    {"maximum_violated", "NotifyEVChargingNeeds", false, NEEDS("101"), OCPP_E_PROPERTY_CONSTRAINT_VIOLATION,
     "chargingNeeds.dcChargingParameters.stateOfCharge: must be <= 100"},
    {"huge_number_out_of_range", "NotifyEVChargingNeeds", false, NEEDS("1e999"), OCPP_E_TYPE_CONSTRAINT_VIOLATION,
     "chargingNeeds.dcChargingParameters.stateOfCharge: "},
    {"response_schema_used", "Heartbeat", true, "{}", OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "currentTime: "},
    {"root_not_object", "Heartbeat", false, "[]", OCPP_E_TYPE_CONSTRAINT_VIOLATION, "payload: "},
    {"unknown_action_not_implemented", "FooBar", false, "{}", OCPP_E_NOT_IMPLEMENTED, ""},
    {"ocpp16_action_not_implemented", "StartTransaction", false, "{}", OCPP_E_NOT_IMPLEMENTED, ""},
};

static void test_validate_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct vcase *c = &cases[i];
        cJSON *p = cJSON_Parse(c->payload);
        CHECK(p != NULL, "%s: test payload parses", c->name);
        char desc[OCPP_ERROR_DESC_MAX + 1];
        /* "BootNotificationResponse" written in the table means the BootNotification response schema. */
        char action[64];
        snprintf(action, sizeof action, "%s", c->action);
        char *resp = strstr(action, "Response");
        if (resp)
            *resp = '\0';
        enum ocpp_error e = ocpp_validate(action, c->response, p, desc, sizeof desc);
        CHECK(e == c->code, "%s: code %s want %s (%s)", c->name, ocpp_error_name(e), ocpp_error_name(c->code), desc);
        if (c->code != OCPP_OK)
            CHECK(strncmp(desc, c->desc_prefix, strlen(c->desc_prefix)) == 0 && strlen(desc) > strlen(c->desc_prefix),
                  "%s: description '%s' starts with '%s'", c->name, desc, c->desc_prefix);
        else
            CHECK(desc[0] == '\0', "%s: no description when valid", c->name);
        cJSON_Delete(p);
    }
}

static void test_actions(void)
{
    CHECK(ocpp_action_known("SetChargingProfile"), "action_known_set_charging_profile");
    CHECK(!ocpp_action_known("StartTransaction"), "action_unknown_16_action");
    CHECK(!ocpp_action_known("heartbeat"), "action_names_case_sensitive");
    CHECK(ocpp_action_sent_by("BootNotification", OCPP_ROLE_STATION), "boot_sent_by_station");
    CHECK(!ocpp_action_sent_by("BootNotification", OCPP_ROLE_CSMS), "boot_not_sent_by_csms");
    CHECK(ocpp_action_sent_by("SetChargingProfile", OCPP_ROLE_CSMS), "set_charging_profile_sent_by_csms");
    CHECK(!ocpp_action_sent_by("SetChargingProfile", OCPP_ROLE_STATION), "set_charging_profile_not_by_station");
    CHECK(ocpp_action_sent_by("DataTransfer", OCPP_ROLE_STATION) && ocpp_action_sent_by("DataTransfer", OCPP_ROLE_CSMS),
          "data_transfer_sent_by_both");
    CHECK(ocpp_action_sent_by("NotifyEVChargingNeeds", OCPP_ROLE_STATION), "needs_sent_by_station");
    CHECK(ocpp_action_sent_by("TriggerMessage", OCPP_ROLE_CSMS) && !ocpp_action_sent_by("TriggerMessage", OCPP_ROLE_STATION),
          "trigger_message_sent_by_csms_only");
    static const char *const all[] = {"Authorize", "BootNotification", "CancelReservation", "CertificateSigned",
        "ChangeAvailability", "ClearCache", "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring",
        "ClearedChargingLimit", "CostUpdated", "CustomerInformation", "DataTransfer", "DeleteCertificate",
        "FirmwareStatusNotification", "Get15118EVCertificate", "GetBaseReport", "GetCertificateStatus",
        "GetChargingProfiles", "GetCompositeSchedule", "GetDisplayMessages", "GetInstalledCertificateIds",
        "GetLocalListVersion", "GetLog", "GetMonitoringReport", "GetReport", "GetTransactionStatus", "GetVariables",
        "Heartbeat", "InstallCertificate", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
        "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule",
        "NotifyEvent", "NotifyMonitoringReport", "NotifyReport", "PublishFirmware", "PublishFirmwareStatusNotification",
        "ReportChargingProfiles", "RequestStartTransaction", "RequestStopTransaction", "ReservationStatusUpdate",
        "ReserveNow", "Reset", "SecurityEventNotification", "SendLocalList", "SetChargingProfile", "SetDisplayMessage",
        "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile", "SetVariableMonitoring", "SetVariables",
        "SignCertificate", "StatusNotification", "TransactionEvent", "TriggerMessage", "UnlockConnector",
        "UnpublishFirmware", "UpdateFirmware"};
    int known = 0, station = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        known += ocpp_action_known(all[i]);
        station += ocpp_action_sent_by(all[i], OCPP_ROLE_STATION);
    }
    CHECK(known == 64, "all_64_actions_known (%d)", known);
    CHECK(station == 25, "25_actions_sent_by_station (%d)", station);
}

static void test_long_description_truncated(void)
{
    /* A 300-character property name that must not occur: the description stays within 255 bytes. */
    char payload[400] = "{\"";
    memset(payload + 2, 'k', 300);
    strcpy(payload + 302, "\":1}");
    cJSON *p = cJSON_Parse(payload);
    char desc[1024];
    enum ocpp_error e = ocpp_validate("Heartbeat", false, p, desc, sizeof desc);
    CHECK(e == OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION && strlen(desc) <= 255, "description_truncated_to_255 (%zu)",
          strlen(desc));
    CHECK(ocpp_validate("Heartbeat", false, p, NULL, 0) == OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION,
          "validate_accepts_null_description");
    cJSON_Delete(p);
}

int main(void)
{
    test_validate_table();
    test_actions();
    test_long_description_truncated();
    return check_done();
}
