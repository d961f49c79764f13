/* test_frame.c - OCPP-J envelope parsing: every error-code path, and the serializers. */
#include "check.h"
#include "ocpp.h"

#include <stdlib.h>

#define ID36 "abcdefghijklmnopqrstuvwxyz0123456789"
#define ID37 ID36 "X"

struct frame_case {
    const char *name;
    const char *text;
    int rc;                 /* 0: parses */
    enum ocpp_msg_type type; /* rc == 0 */
    enum ocpp_error code;   /* rc == -1 */
    const char *id;         /* the parsed id, or the fault's id */
    bool reply;             /* rc == -1 */
};

static const struct frame_case cases[] = {
    {"call_parses", "[2,\"a1\",\"Heartbeat\",{}]", 0, OCPP_CALL, 0, "a1", false},
    {"call_with_whitespace_parses", " [ 2 , \"a1\" , \"Heartbeat\" , { } ] ", 0, OCPP_CALL, 0, "a1", false},
    {"callresult_parses", "[3,\"a1\",{\"currentTime\":\"2024-01-01T00:00:00Z\"}]", 0, OCPP_CALLRESULT, 0, "a1", false},
    {"callerror_parses", "[4,\"a1\",\"NotImplemented\",\"no\",{}]", 0, OCPP_CALLERROR, 0, "a1", false},
    {"id_of_36_chars_ok", "[2,\"" ID36 "\",\"Heartbeat\",{}]", 0, OCPP_CALL, 0, ID36, false},
    {"type_id_2_0_is_integer", "[2.0,\"a1\",\"Heartbeat\",{}]", 0, OCPP_CALL, 0, "a1", false},
    {"not_json", "[2,\"a1\",", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"trailing_garbage_not_json", "[2,\"a1\",\"Heartbeat\",{}] x", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"empty_text", "", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"invalid_utf8_rejected", "[2,\"a\xff\",\"Heartbeat\",{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"overlong_utf8_rejected", "[2,\"a\xc0\xaf\",\"Heartbeat\",{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"surrogate_utf8_rejected", "[2,\"a\xed\xa0\x80\",\"Heartbeat\",{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"multibyte_id_ok", "[2,\"\xe2\x82\xac\xf0\x9f\x94\x8c\",\"Heartbeat\",{}]", 0, OCPP_CALL, 0, "\xe2\x82\xac\xf0\x9f\x94\x8c", false},
    {"not_array", "{\"a\":1}", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"empty_array", "[]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"type_id_5", "[5,\"a1\",\"Heartbeat\",{}]", -1, 0, OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED, "a1", true},
    {"type_id_string", "[\"2\",\"a1\",\"Heartbeat\",{}]", -1, 0, OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED, "a1", true},
    {"type_id_2_5", "[2.5,\"a1\",\"Heartbeat\",{}]", -1, 0, OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED, "a1", true},
    {"type_id_wrong_id_unreadable", "[7,17]", -1, 0, OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED, "-1", true},
    {"id_missing", "[2]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"id_not_string", "[2,17,\"Heartbeat\",{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"id_empty", "[2,\"\",\"Heartbeat\",{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"id_of_37_chars_rejected", "[2,\"" ID37 "\",\"Heartbeat\",{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", true},
    {"call_action_not_string", "[2,\"a1\",7,{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "a1", true},
    {"call_too_few_elements", "[2,\"a1\",\"Heartbeat\"]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "a1", true},
    {"call_too_many_elements", "[2,\"a1\",\"Heartbeat\",{},{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "a1", true},
    {"call_payload_array", "[2,\"a1\",\"Heartbeat\",[]]", -1, 0, OCPP_E_PROTOCOL_ERROR, "a1", true},
    {"call_payload_string", "[2,\"a1\",\"Heartbeat\",\"{}\"]", -1, 0, OCPP_E_PROTOCOL_ERROR, "a1", true},
    {"call_action_too_long", "[2,\"a1\",\"" ID36 ID36 "\",{}]", -1, 0, OCPP_E_NOT_IMPLEMENTED, "a1", true},
    {"callresult_payload_array_not_answered", "[3,\"a1\",[]]", -1, 0, OCPP_E_PROTOCOL_ERROR, "a1", false},
    {"callresult_too_many_not_answered", "[3,\"a1\",{},{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "a1", false},
    {"callresult_bad_id_not_answered", "[3,1,{}]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "-1", false},
    {"callerror_short_not_answered", "[4,\"a1\",\"GenericError\",\"x\"]", -1, 0, OCPP_E_RPC_FRAMEWORK_ERROR, "a1", false},
    {"callerror_details_not_object_not_answered", "[4,\"a1\",\"GenericError\",\"x\",[]]", -1, 0,
     OCPP_E_RPC_FRAMEWORK_ERROR, "a1", false},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct frame_case *c = &cases[i];
        struct ocpp_frame f;
        struct ocpp_fault fault;
        int rc = ocpp_frame_parse(c->text, strlen(c->text), &f, &fault);
        CHECK(rc == c->rc, "%s: rc %d", c->name, rc);
        if (rc == 0 && c->rc == 0) {
            CHECK(f.type == c->type, "%s: type %d", c->name, f.type);
            CHECK_STR(f.id, c->id, c->name);
            CHECK(f.payload != NULL, "%s: payload kept", c->name);
        } else if (rc != 0 && c->rc != 0) {
            CHECK(fault.code == c->code, "%s: code %s want %s", c->name, ocpp_error_name(fault.code),
                  ocpp_error_name(c->code));
            CHECK_STR(fault.id, c->id, c->name);
            CHECK(fault.reply == c->reply, "%s: reply %d", c->name, fault.reply);
            CHECK(fault.description[0] != '\0', "%s: description '%s'", c->name, fault.description);
            CHECK(f.payload == NULL, "%s: frame left empty", c->name);
        }
        ocpp_frame_clear(&f);
    }
}

static void test_parse_not_nul_terminated(void)
{
    const char text[] = "[2,\"a1\",\"Heartbeat\",{}]GARBAGE";
    struct ocpp_frame f;
    struct ocpp_fault fault;
    int rc = ocpp_frame_parse(text, strlen("[2,\"a1\",\"Heartbeat\",{}]"), &f, &fault);
    CHECK(rc == 0 && strcmp(f.action, "Heartbeat") == 0, "frame_parse_uses_len_not_nul");
    ocpp_frame_clear(&f);
    const char with_nul[] = "[2,\"a1\",\"Heartbeat\",{}]\0x";
    rc = ocpp_frame_parse(with_nul, sizeof with_nul - 1, &f, &fault);
    CHECK(rc == -1 && fault.code == OCPP_E_RPC_FRAMEWORK_ERROR, "frame_with_embedded_nul_rejected");
}

static void test_callerror_fields(void)
{
    struct ocpp_frame f;
    struct ocpp_fault fault;
    const char *t = "[4,\"x9\",\"OccurrenceConstraintViolation\",\"idToken missing\",{\"k\":1}]";
    CHECK(ocpp_frame_parse(t, strlen(t), &f, &fault) == 0, "callerror_parsed");
    CHECK(f.error_code == OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "callerror_code_from_wire_name");
    CHECK_STR(f.error_description, "idToken missing", "callerror_description");
    CHECK(cJSON_GetObjectItem(f.payload, "k") != NULL, "callerror_details_kept");
    ocpp_frame_clear(&f);
    t = "[4,\"x9\",\"FormationViolation\",\"1.6 name\",{}]";
    CHECK(ocpp_frame_parse(t, strlen(t), &f, &fault) == 0 && f.error_code == OCPP_E_GENERIC_ERROR,
          "callerror_unknown_code_kept_as_generic_error");
    ocpp_frame_clear(&f);
}

static void test_error_names(void)
{
    static const char *const names[] = {"FormatViolation", "GenericError", "InternalError",
        "MessageTypeNotSupported", "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
        "TypeConstraintViolation"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int code = ocpp_error_from_name(names[i]);
        CHECK(code > 0 && strcmp(ocpp_error_name((enum ocpp_error)code), names[i]) == 0, "error_name_round_trip %s",
              names[i]);
    }
    CHECK(ocpp_error_from_name("FormationViolation") == -1, "error_from_name_rejects_1_6_name");
    CHECK(ocpp_error_from_name("NoError") == -1, "error_from_name_rejects_non_wire_name");
}

static void test_serializers(void)
{
    cJSON *p = cJSON_Parse("{\"reason\":\"PowerUp\",\"n\":8.1}");
    char *s = ocpp_frame_call("m1", "BootNotification", p);
    CHECK_STR(s, "[2,\"m1\",\"BootNotification\",{\"reason\":\"PowerUp\",\"n\":8.1}]", "frame_call_compact");
    free(s);
    s = ocpp_frame_result("m\"1", NULL);
    CHECK_STR(s, "[3,\"m\\\"1\",{}]", "frame_result_escapes_id_and_defaults_payload");
    free(s);
    s = ocpp_frame_error("m1", OCPP_E_SECURITY_ERROR, "not accepted", NULL);
    CHECK_STR(s, "[4,\"m1\",\"SecurityError\",\"not accepted\",{}]", "frame_error_details_default");
    free(s);
    cJSON_Delete(p);

    /* 300 characters of which the 255th is a 2-byte character: cut before it, stay valid UTF-8. */
    char desc[400];
    memset(desc, 'a', 254);
    memcpy(desc + 254, "\xc3\xa9", 2);
    memset(desc + 256, 'b', 50);
    desc[306] = '\0';
    s = ocpp_frame_error("m1", OCPP_E_GENERIC_ERROR, desc, NULL);
    struct ocpp_frame f;
    struct ocpp_fault fault;
    CHECK(s && ocpp_frame_parse(s, strlen(s), &f, &fault) == 0, "frame_error_long_description_parses");
    size_t n = strlen(f.error_description);
    CHECK(n <= 255 && n == 254, "frame_error_description_truncated_utf8_safe (len %zu)", n);
    ocpp_frame_clear(&f);
    free(s);
}

int main(void)
{
    test_parse_table();
    test_parse_not_nul_terminated();
    test_callerror_fields();
    test_error_names();
    test_serializers();
    return check_done();
}
