/*
 * fuzz_frame.c - fuzz target: bytes through ocpp_frame_parse, the validator and two sessions (CSMS and
 * station, each with a CALL of ours in flight so answers correlate). Besides "no crash, no leak" it
 * checks one invariant: every frame a session emits parses back as a well-formed OCPP-J frame.
 * Built as a plain test with fuzz_driver.c (gcc) and, with clang, as a libFuzzer binary.
 */
#include "ocpp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_event(void *ctx, const struct ocpp_event *ev)
{
    ocpp_session *s = ctx;
    if (ev->type == OCPP_EV_CALL) {
        /* Answer every other call so both the reply path and the unanswered path are exercised. */
        if (ev->id[0] & 1)
            ocpp_session_reply_error(s, ev->id, OCPP_E_NOT_SUPPORTED, "fuzz");
        else
            ocpp_session_reply(s, ev->id, ev->payload, NULL, 0);
    }
}

static void drain_checked(ocpp_session *s)
{
    char *out;
    while ((out = ocpp_session_take_output(s))) {
        struct ocpp_frame f;
        struct ocpp_fault fault;
        /* ocpp_frame_parse also rejects text that is not UTF-8, so this checks our output is UTF-8 too. */
        if (ocpp_frame_parse(out, strlen(out), &f, &fault) != 0) {
            fprintf(stderr, "session emitted a broken frame: %s (%s)\n", out, fault.description);
            abort();
        }
        ocpp_frame_clear(&f);
        free(out);
    }
}

static void run_session(enum ocpp_role role, const uint8_t *data, size_t size)
{
    struct ocpp_session_config cfg = {.role = role, .call_timeout_ms = 100, .queue_max = 2, .id_prefix = "f"};
    ocpp_session *s = ocpp_session_new(&cfg);
    if (!s)
        return;
    if (size && (data[0] & 1))
        ocpp_session_set_boot_state(s, OCPP_BOOT_ACCEPTED);
    cJSON *p = cJSON_CreateObject();
    ocpp_session_call(s, role == OCPP_ROLE_CSMS ? "GetBaseReport" : "BootNotification", p, NULL, 0, NULL, NULL, 0);
    cJSON_Delete(p);
    /* The input twice: the second time exercises duplicate / retransmission / stray handling. */
    ocpp_session_feed(s, (const char *)data, size, 1, on_event, s);
    drain_checked(s);
    ocpp_session_feed(s, (const char *)data, size, 2, on_event, s);
    drain_checked(s);
    ocpp_session_tick(s, 1000, on_event, s);
    drain_checked(s);
    ocpp_session_close(s, on_event, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ocpp_frame f;
    struct ocpp_fault fault;
    if (ocpp_frame_parse((const char *)data, size, &f, &fault) == 0) {
        char desc[OCPP_ERROR_DESC_MAX + 1];
        if (f.type == OCPP_CALL) {
            ocpp_validate(f.action, false, f.payload, desc, sizeof desc);
            ocpp_validate(f.action, true, f.payload, desc, sizeof desc);
        }
        ocpp_frame_clear(&f);
    }
    run_session(OCPP_ROLE_CSMS, data, size);
    run_session(OCPP_ROLE_STATION, data, size);
    return 0;
}
