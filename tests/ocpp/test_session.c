/* test_session.c - one OCPP-J connection: boot states, our CALL queue, correlation, duplicates. */
#include "check.h"
#include "ocpp.h"

#include <stdlib.h>

#define MAX_EV 32
struct rec {
    int n;
    struct {
        enum ocpp_event_type type;
        char id[40], action[50];
        enum ocpp_error code;
        bool timed_out, closed;
        void *user;
        char payload[256];
    } ev[MAX_EV];
    ocpp_session *reply_in_callback; /* when set, answer Heartbeat CALLs inside the callback */
};

static void on_event(void *ctx, const struct ocpp_event *ev)
{
    struct rec *r = ctx;
    if (r->n >= MAX_EV)
        return;
    r->ev[r->n].type = ev->type;
    snprintf(r->ev[r->n].id, sizeof r->ev[r->n].id, "%s", ev->id ? ev->id : "");
    snprintf(r->ev[r->n].action, sizeof r->ev[r->n].action, "%s", ev->action ? ev->action : "");
    r->ev[r->n].code = ev->type == OCPP_EV_PROTOCOL ? ev->fault->code : ev->error_code;
    r->ev[r->n].timed_out = ev->timed_out;
    r->ev[r->n].closed = ev->closed;
    r->ev[r->n].user = ev->user;
    r->ev[r->n].payload[0] = '\0';
    if (ev->payload) {
        char *p = cJSON_PrintUnformatted(ev->payload);
        snprintf(r->ev[r->n].payload, sizeof r->ev[r->n].payload, "%s", p);
        free(p);
    }
    r->n++;
    if (r->reply_in_callback && ev->type == OCPP_EV_CALL && strcmp(ev->action, "Heartbeat") == 0) {
        cJSON *p = cJSON_Parse("{\"currentTime\":\"2026-11-26T10:00:00Z\"}");
        ocpp_session_reply(r->reply_in_callback, ev->id, p, NULL, 0);
        cJSON_Delete(p);
    }
}

/* Payloads written inline in calls; freed at the end of main. */
static cJSON *kept[64];
static int n_kept;
static cJSON *J(const char *text)
{
    cJSON *p = cJSON_Parse(text);
    if (n_kept < 64)
        kept[n_kept++] = p;
    return p;
}

static void feed(ocpp_session *s, const char *text, int64_t now, struct rec *r)
{
    ocpp_session_feed(s, text, strlen(text), now, on_event, r);
}

/* Takes all output; returns the number of frames and copies the last one into last. */
static int drain(ocpp_session *s, char *last, size_t last_len)
{
    int n = 0;
    char *f;
    if (last)
        last[0] = '\0';
    while ((f = ocpp_session_take_output(s))) {
        if (last)
            snprintf(last, last_len, "%s", f);
        free(f);
        n++;
    }
    return n;
}

static ocpp_session *csms(void)
{
    struct ocpp_session_config cfg = {.role = OCPP_ROLE_CSMS, .call_timeout_ms = 1000, .queue_max = 2,
                                      .id_prefix = "c", .validate_outgoing = true};
    return ocpp_session_new(&cfg);
}

#define BOOT_CALL(id) "[2,\"" id "\",\"BootNotification\",{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"m\",\"vendorName\":\"v\"}}]"
#define HB_CALL(id) "[2,\"" id "\",\"Heartbeat\",{}]"
#define STATUS_CALL(id) "[2,\"" id "\",\"StatusNotification\",{\"timestamp\":\"2026-11-26T10:00:00Z\"," \
                        "\"connectorStatus\":\"Available\",\"evseId\":1,\"connectorId\":1}]"

static void boot_reply(ocpp_session *s, const char *id, const char *status)
{
    char text[160];
    snprintf(text, sizeof text, "{\"currentTime\":\"2026-11-26T10:00:00Z\",\"interval\":300,\"status\":\"%s\"}", status);
    cJSON *p = cJSON_Parse(text);
    char err[256];
    int rc = ocpp_session_reply(s, id, p, err, sizeof err);
    CHECK(rc == 0, "boot reply %s sent (%s)", status, err);
    cJSON_Delete(p);
}

static void test_boot_none_pending_accepted(void)
{
    ocpp_session *s = csms();
    struct rec r = {0};
    char out[512], err[256];
    CHECK(ocpp_session_boot_state(s) == OCPP_BOOT_NONE, "boot_starts_none");
    CHECK(ocpp_session_call(s, "GetBaseReport", J("{}"), NULL, 0, NULL, err, sizeof err) == -1,
          "csms_sends_nothing_in_none (%s)", err);
    feed(s, HB_CALL("h1"), 0, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_PROTOCOL && r.ev[0].code == OCPP_E_SECURITY_ERROR,
          "heartbeat_before_boot_security_error");
    CHECK(drain(s, out, sizeof out) == 1 && strstr(out, "[4,\"h1\",\"SecurityError\"") == out, "security_error_sent: %s", out);
    r.n = 0;
    feed(s, BOOT_CALL("b1"), 0, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_CALL && strcmp(r.ev[0].action, "BootNotification") == 0,
          "boot_notification_delivered");
    boot_reply(s, "b1", "Pending");
    CHECK(ocpp_session_boot_state(s) == OCPP_BOOT_PENDING, "boot_pending_after_pending_reply");
    CHECK(drain(s, out, sizeof out) == 1 && strstr(out, "[3,\"b1\",{") == out, "boot_reply_sent: %s", out);
    r.n = 0;
    feed(s, STATUS_CALL("s1"), 0, &r);
    CHECK(r.n == 1 && r.ev[0].code == OCPP_E_SECURITY_ERROR, "status_in_pending_untriggered_security_error");
    drain(s, NULL, 0);
    cJSON *stop = cJSON_Parse("{\"transactionId\":\"t1\"}");
    CHECK(ocpp_session_call(s, "RequestStopTransaction", stop, NULL, 0, NULL, err, sizeof err) == -1,
          "request_stop_refused_in_pending (%s)", err);
    cJSON_Delete(stop);
    /* The CSMS triggers a StatusNotification: now the station may send it while Pending. */
    cJSON *trig = cJSON_Parse("{\"requestedMessage\":\"StatusNotification\"}");
    char id[OCPP_MSG_ID_MAX + 1];
    CHECK(ocpp_session_call(s, "TriggerMessage", trig, NULL, 0, id, err, sizeof err) == 0, "trigger_sent_in_pending (%s)",
          err);
    cJSON_Delete(trig);
    CHECK(drain(s, out, sizeof out) == 1 && strstr(out, "\"TriggerMessage\"") != NULL, "trigger_frame: %s", out);
    char resp[128];
    snprintf(resp, sizeof resp, "[3,\"%s\",{\"status\":\"Accepted\"}]", id);
    r.n = 0;
    feed(s, resp, 10, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_RESULT, "trigger_result_delivered");
    r.n = 0;
    feed(s, STATUS_CALL("s2"), 20, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_CALL, "triggered_status_allowed_in_pending");
    CHECK(ocpp_session_reply(s, "s2", J("{}"), err, sizeof err) == 0, "status_answered");
    r.n = 0;
    feed(s, HB_CALL("h2"), 20, &r);
    CHECK(r.n == 1 && r.ev[0].code == OCPP_E_SECURITY_ERROR, "untriggered_heartbeat_still_refused_in_pending");
    drain(s, NULL, 0);
    r.n = 0;
    feed(s, BOOT_CALL("b2"), 30, &r);
    boot_reply(s, "b2", "Accepted");
    CHECK(ocpp_session_boot_state(s) == OCPP_BOOT_ACCEPTED, "boot_accepted_after_accepted_reply");
    r.n = 0;
    feed(s, HB_CALL("h3"), 40, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_CALL, "heartbeat_allowed_when_accepted");
    ocpp_session_close(s, on_event, &r);
}

static void test_rejected(void)
{
    ocpp_session *s = csms();
    struct rec r = {0};
    char err[256];
    feed(s, BOOT_CALL("b1"), 0, &r);
    boot_reply(s, "b1", "Rejected");
    CHECK(ocpp_session_boot_state(s) == OCPP_BOOT_REJECTED, "boot_rejected_after_rejected_reply");
    cJSON *trig = cJSON_Parse("{\"requestedMessage\":\"StatusNotification\"}");
    CHECK(ocpp_session_call(s, "TriggerMessage", trig, NULL, 0, NULL, err, sizeof err) == -1,
          "csms_sends_nothing_when_rejected (%s)", err);
    cJSON_Delete(trig);
    r.n = 0;
    feed(s, STATUS_CALL("s1"), 0, &r);
    CHECK(r.n == 1 && r.ev[0].code == OCPP_E_SECURITY_ERROR, "status_when_rejected_security_error");
    ocpp_session_close(s, NULL, NULL);
}

static void test_incoming_errors(void)
{
    ocpp_session *s = csms();
    ocpp_session_set_boot_state(s, OCPP_BOOT_ACCEPTED);
    struct rec r = {0};
    char out[512];
    static const struct {
        const char *name, *text, *frame_prefix;
        enum ocpp_error code;
    } cases[] = {
        {"unknown_action_not_implemented", "[2,\"u1\",\"StartTransaction\",{}]", "[4,\"u1\",\"NotImplemented\"",
         OCPP_E_NOT_IMPLEMENTED},
        {"csms_action_from_station_not_supported", "[2,\"u2\",\"SetChargingProfile\",{}]", "[4,\"u2\",\"NotSupported\"",
         OCPP_E_NOT_SUPPORTED},
        {"schema_invalid_call_answered_with_validator_code", "[2,\"u3\",\"Heartbeat\",{\"x\":1}]",
         "[4,\"u3\",\"OccurrenceConstraintViolation\",\"x: property not allowed\"", OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION},
        {"broken_frame_answered", "[2,\"u4\",\"Heartbeat\",[]]", "[4,\"u4\",\"ProtocolError\"", OCPP_E_PROTOCOL_ERROR},
        {"not_json_answered_with_id_minus_1", "nope", "[4,\"-1\",\"RpcFrameworkError\"", OCPP_E_RPC_FRAMEWORK_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.n = 0;
        feed(s, cases[i].text, 0, &r);
        CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_PROTOCOL && r.ev[0].code == cases[i].code, "%s: event", cases[i].name);
        CHECK(drain(s, out, sizeof out) == 1 && strncmp(out, cases[i].frame_prefix, strlen(cases[i].frame_prefix)) == 0,
              "%s: answer %s", cases[i].name, out);
    }
    r.n = 0;
    feed(s, "[3,\"zz\",[]]", 0, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_PROTOCOL && drain(s, NULL, 0) == 0, "broken_callresult_never_answered");
    struct ocpp_session_stats st;
    ocpp_session_stats(s, &st);
    CHECK(st.faults == 6 && st.errors_out == 5 && st.calls_in == 3, "stats_count_faults (%llu faults, %llu errors out)",
          (unsigned long long)st.faults, (unsigned long long)st.errors_out);
    ocpp_session_close(s, NULL, NULL);
}

static void test_outgoing_queue(void)
{
    ocpp_session *s = csms();
    ocpp_session_set_boot_state(s, OCPP_BOOT_ACCEPTED);
    struct rec r = {0};
    char out[512], err[256], id1[40], id2[40], id3[40];
    cJSON *p = cJSON_Parse("{\"requestedMessage\":\"Heartbeat\"}");
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)1, 0, id1, err, sizeof err) == 0, "call_1_accepted");
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)2, 0, id2, err, sizeof err) == 0, "call_2_queued");
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)3, 0, id3, err, sizeof err) == 0, "call_3_queued");
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)4, 0, NULL, err, sizeof err) == -1, "queue_full_refused (%s)",
          err);
    CHECK(strcmp(id1, "c1") == 0 && strcmp(id2, "c2") == 0 && strcmp(id3, "c3") == 0, "ids_prefix_counter %s %s %s", id1,
          id2, id3);
    CHECK(drain(s, out, sizeof out) == 1 && strstr(out, "\"c1\""), "one_call_in_flight: %s", out);
    CHECK(ocpp_session_next_deadline(s) == 1000, "deadline_is_send_time_plus_timeout");
    CHECK(ocpp_session_call(s, "SetChargingProfile", J("{}"), NULL, 0, NULL, err, sizeof err) == -1,
          "invalid_outgoing_payload_refused (%s)", err);
    CHECK(ocpp_session_call(s, "BootNotification", NULL, NULL, 0, NULL, err, sizeof err) == -1,
          "csms_cannot_send_station_action (%s)", err);
    feed(s, "[3,\"c1\",{\"status\":\"Accepted\"}]", 100, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_RESULT && r.ev[0].user == (void *)1, "result_carries_user");
    CHECK(drain(s, out, sizeof out) == 1 && strstr(out, "\"c2\""), "next_call_sent_after_result: %s", out);
    CHECK(ocpp_session_next_deadline(s) == 1100, "deadline_restarts_when_next_sent");
    r.n = 0;
    feed(s, "[3,\"c1\",{\"status\":\"Accepted\"}]", 200, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_PROTOCOL && drain(s, NULL, 0) == 0, "late_response_dropped_unanswered");
    r.n = 0;
    ocpp_session_tick(s, 1099, on_event, &r);
    CHECK(r.n == 0, "no_timeout_before_deadline");
    ocpp_session_tick(s, 1100, on_event, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_ERROR && r.ev[0].timed_out && r.ev[0].user == (void *)2,
          "timeout_fails_call_2");
    CHECK(drain(s, out, sizeof out) == 1 && strstr(out, "\"c3\""), "next_call_sent_after_timeout: %s", out);
    r.n = 0;
    feed(s, "[3,\"c2\",{\"status\":\"Accepted\"}]", 1200, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_PROTOCOL, "response_after_timeout_is_stray");
    r.n = 0;
    feed(s, "[3,\"c3\",{\"status\":\"Maybe\"}]", 1300, &r);
    CHECK(r.n == 2 && r.ev[0].type == OCPP_EV_PROTOCOL && r.ev[1].type == OCPP_EV_ERROR &&
              r.ev[1].code == OCPP_E_PROPERTY_CONSTRAINT_VIOLATION && r.ev[1].user == (void *)3,
          "invalid_result_fails_call_with_code");
    CHECK(drain(s, NULL, 0) == 0 && ocpp_session_next_deadline(s) == INT64_MAX, "nothing_waiting");
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)5, 1400, NULL, err, sizeof err) == 0, "call_5");
    drain(s, NULL, 0);
    r.n = 0;
    feed(s, "[4,\"c4\",\"NotSupported\",\"nope\",{\"a\":1}]", 1500, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_ERROR && r.ev[0].code == OCPP_E_NOT_SUPPORTED && !r.ev[0].timed_out &&
              strcmp(r.ev[0].payload, "{\"a\":1}") == 0,
          "callerror_fails_call_with_details");
    struct ocpp_session_stats st;
    ocpp_session_stats(s, &st);
    CHECK(st.calls_out == 4 && st.results_in == 2 && st.errors_in == 1 && st.timeouts == 1 && st.stray_responses == 2,
          "stats_outgoing (out %llu res %llu err %llu to %llu stray %llu)", (unsigned long long)st.calls_out,
          (unsigned long long)st.results_in, (unsigned long long)st.errors_in, (unsigned long long)st.timeouts,
          (unsigned long long)st.stray_responses);
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)6, 1600, NULL, err, sizeof err) == 0, "call_6");
    CHECK(ocpp_session_call(s, "TriggerMessage", p, (void *)7, 1600, NULL, err, sizeof err) == 0, "call_7");
    r.n = 0;
    ocpp_session_close(s, on_event, &r);
    CHECK(r.n == 2 && r.ev[0].closed && r.ev[0].user == (void *)6 && r.ev[1].closed && r.ev[1].user == (void *)7,
          "close_fails_in_flight_then_queued");
    cJSON_Delete(p);
}

static void test_duplicates(void)
{
    ocpp_session *s = csms();
    ocpp_session_set_boot_state(s, OCPP_BOOT_ACCEPTED);
    struct rec r = {0};
    char out[512], again[512], err[256];
    feed(s, HB_CALL("d1"), 0, &r);
    feed(s, HB_CALL("d1"), 0, &r);
    CHECK(r.n == 2 && r.ev[0].type == OCPP_EV_CALL && r.ev[1].type == OCPP_EV_PROTOCOL,
          "duplicate_id_while_unanswered_dropped");
    CHECK(drain(s, NULL, 0) == 0, "duplicate_not_answered");
    CHECK(ocpp_session_reply(s, "d1", J("{\"currentTime\":\"2026-11-26T10:00:00Z\"}"), err, sizeof err) == 0,
          "reply_once");
    CHECK(ocpp_session_reply(s, "d1", J("{\"currentTime\":\"2026-11-26T10:00:00Z\"}"), err, sizeof err) == -1,
          "second_reply_refused (%s)", err);
    drain(s, out, sizeof out);
    r.n = 0;
    feed(s, HB_CALL("d1"), 10, &r);
    CHECK(r.n == 0, "retransmission_no_new_event");
    CHECK(drain(s, again, sizeof again) == 1 && strcmp(out, again) == 0, "retransmission_re_answered: %s", again);
    r.n = 0;
    feed(s, "[2,\"d1\",\"Heartbeat\",{\"customData\":{\"vendorId\":\"x\"}}]", 20, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_CALL, "reused_id_with_other_content_is_a_new_call");
    CHECK(ocpp_session_reply(s, "nope", NULL, err, sizeof err) == -1 && strstr(err, "nope"), "reply_unknown_id (%s)", err);
    CHECK(ocpp_session_reply_error(s, "nope", OCPP_E_GENERIC_ERROR, "x") == -1, "reply_error_unknown_id");
    CHECK(ocpp_session_reply(s, "d1", J("{}"), err, sizeof err) == -1, "invalid_reply_refused (%s)", err);
    CHECK(ocpp_session_reply_error(s, "d1", OCPP_E_INTERNAL_ERROR, "boom") == 0, "reply_error_after_invalid_reply");
    CHECK(drain(s, out, sizeof out) == 1 && strcmp(out, "[4,\"d1\",\"InternalError\",\"boom\",{}]") == 0, "error_frame %s",
          out);
    struct ocpp_session_stats st;
    ocpp_session_stats(s, &st);
    CHECK(st.duplicate_calls == 2 && st.calls_in == 4, "stats_duplicates (%llu)", (unsigned long long)st.duplicate_calls);
    /* Answering inside the event callback. */
    r.reply_in_callback = s;
    r.n = 0;
    feed(s, HB_CALL("d2"), 30, &r);
    CHECK(r.n == 1 && drain(s, out, sizeof out) == 1 && strncmp(out, "[3,\"d2\"", 7) == 0, "reply_inside_callback: %s", out);
    ocpp_session_close(s, NULL, NULL);
}

static void test_station_role(void)
{
    struct ocpp_session_config cfg = {.role = OCPP_ROLE_STATION, .validate_outgoing = true};
    ocpp_session *s = ocpp_session_new(&cfg);
    struct rec r = {0};
    char out[512], err[256], id[40];
    CHECK(ocpp_session_call(s, "Heartbeat", NULL, NULL, 0, NULL, err, sizeof err) == -1,
          "station_heartbeat_before_boot_refused (%s)", err);
    cJSON *boot = cJSON_Parse("{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"m\",\"vendorName\":\"v\"}}");
    CHECK(ocpp_session_call(s, "BootNotification", boot, NULL, 0, id, err, sizeof err) == 0 && strcmp(id, "m1") == 0,
          "station_boot_sent_default_prefix (%s)", id);
    cJSON_Delete(boot);
    drain(s, NULL, 0);
    feed(s, "[3,\"m1\",{\"currentTime\":\"2026-11-26T10:00:00Z\",\"interval\":300,\"status\":\"Pending\"}]", 5, &r);
    CHECK(ocpp_session_boot_state(s) == OCPP_BOOT_PENDING, "station_pending_from_result");
    r.n = 0;
    feed(s, "[2,\"t1\",\"TriggerMessage\",{\"requestedMessage\":\"Heartbeat\"}]", 6, &r);
    CHECK(r.n == 1 && r.ev[0].type == OCPP_EV_CALL, "station_answers_csms_call_in_pending");
    CHECK(ocpp_session_call(s, "Heartbeat", NULL, NULL, 7, NULL, err, sizeof err) == 0,
          "station_triggered_heartbeat_allowed_in_pending (%s)", err);
    CHECK(ocpp_session_call(s, "StatusNotification", NULL, NULL, 7, NULL, err, sizeof err) == -1,
          "station_untriggered_refused_in_pending");
    r.n = 0;
    feed(s, "[2,\"t2\",\"BootNotification\",{}]", 8, &r);
    CHECK(r.n == 1 && r.ev[0].code == OCPP_E_NOT_SUPPORTED && drain(s, out, sizeof out) >= 1,
          "station_refuses_boot_from_csms");
    ocpp_session_close(s, NULL, NULL);
}

static void test_limits_and_rechecks(void)
{
    ocpp_session *s = csms();
    ocpp_session_set_boot_state(s, OCPP_BOOT_ACCEPTED);
    struct rec r = {0};
    char text[64], out[512], err[256];
    for (int i = 0; i < 16; i++) {
        snprintf(text, sizeof text, "[2,\"u%d\",\"Heartbeat\",{}]", i);
        feed(s, text, 0, &r);
    }
    CHECK(r.n == 16 && drain(s, NULL, 0) == 0, "sixteen_unanswered_calls_delivered");
    r.n = 0;
    feed(s, HB_CALL("u16"), 0, &r);
    CHECK(r.n == 1 && r.ev[0].code == OCPP_E_GENERIC_ERROR && drain(s, out, sizeof out) == 1 &&
              strncmp(out, "[4,\"u16\",\"GenericError\"", 23) == 0,
          "seventeenth_unanswered_call_refused: %s", out);
    /* A queued CALL that the boot state no longer allows when its turn comes ends with SecurityError. */
    CHECK(ocpp_session_call(s, "GetBaseReport", J("{\"requestId\":1,\"reportBase\":\"FullInventory\"}"), (void *)1,
                            0, NULL, err, sizeof err) == 0, "get_base_report_sent (%s)", err);
    CHECK(ocpp_session_call(s, "RequestStopTransaction", J("{\"transactionId\":\"t1\"}"), (void *)2, 0, NULL, err,
                            sizeof err) == 0, "request_stop_queued (%s)", err);
    ocpp_session_set_boot_state(s, OCPP_BOOT_PENDING);
    drain(s, NULL, 0);
    r.n = 0;
    /* A broken answer to the CALL in flight ends it at once (and is not answered). */
    feed(s, "[3,\"c1\",[]]", 10, &r);
    CHECK(r.n == 3 && r.ev[0].type == OCPP_EV_PROTOCOL && r.ev[1].type == OCPP_EV_ERROR && r.ev[1].user == (void *)1 &&
              r.ev[2].type == OCPP_EV_ERROR && r.ev[2].code == OCPP_E_SECURITY_ERROR && r.ev[2].user == (void *)2,
          "broken_answer_ends_call_and_queued_call_rechecked (%d events)", r.n);
    CHECK(drain(s, NULL, 0) == 0, "nothing_sent_for_refused_queued_call");
    ocpp_session_close(s, NULL, NULL);
}

int main(void)
{
    test_boot_none_pending_accepted();
    test_rejected();
    test_incoming_errors();
    test_outgoing_queue();
    test_duplicates();
    test_station_role();
    test_limits_and_rechecks();
    for (int i = 0; i < n_kept; i++)
        cJSON_Delete(kept[i]);
    return check_done();
}
