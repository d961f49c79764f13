/*
 * session.c - one OCPP-J connection: what the peer sends (CALLs to answer, answers to our CALLs) and the
 * boot state rules of OCPP 2.0.1 B01-B03. Outgoing CALLs, answers and the output queue: session_out.c.
 *
 * Events may call back into the session (reply, call) but must not close it.
 */
#include "session_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a station may send before it is Accepted when the CSMS asked for it (B02: in Pending the
 * CSMS may trigger messages; F06 TriggerMessage requestedMessage -> the action that answers it), plus
 * NotifyReport, the answer to a GetBaseReport / GetReport sent while Pending (B02 lets the CSMS read the
 * station's configuration before accepting it). Bit i of ocpp_session.granted allows trigger_actions[i]. */
static const char *const trigger_actions[] = {
    "BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues",
    "SignCertificate", "StatusNotification", "TransactionEvent", "PublishFirmwareStatusNotification",
    "NotifyReport",
};
static const struct {
    const char *requested;
    const char *action;
} trigger_map[] = {
    {"BootNotification", "BootNotification"},
    {"LogStatusNotification", "LogStatusNotification"},
    {"FirmwareStatusNotification", "FirmwareStatusNotification"},
    {"Heartbeat", "Heartbeat"},
    {"MeterValues", "MeterValues"},
    {"SignChargingStationCertificate", "SignCertificate"},
    {"SignV2GCertificate", "SignCertificate"},
    {"StatusNotification", "StatusNotification"},
    {"TransactionEvent", "TransactionEvent"},
    {"SignCombinedCertificate", "SignCertificate"},
    {"PublishFirmwareStatusNotification", "PublishFirmwareStatusNotification"},
};

static int trigger_bit(const char *action)
{
    for (size_t i = 0; i < sizeof trigger_actions / sizeof trigger_actions[0]; i++)
        if (strcmp(trigger_actions[i], action) == 0)
            return (int)i;
    return -1;
}

static bool granted(const ocpp_session *s, const char *action)
{
    int bit = trigger_bit(action);
    return bit >= 0 && (s->granted & (1u << bit));
}

void ocpp_ses_grant(ocpp_session *s, const char *action, const cJSON *payload)
{
    const char *allow = NULL;
    if (strcmp(action, "TriggerMessage") == 0) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(payload, "requestedMessage");
        for (size_t i = 0; cJSON_IsString(req) && i < sizeof trigger_map / sizeof trigger_map[0]; i++)
            if (strcmp(trigger_map[i].requested, req->valuestring) == 0)
                allow = trigger_map[i].action;
    } else if (strcmp(action, "GetBaseReport") == 0 || strcmp(action, "GetReport") == 0) {
        allow = "NotifyReport";
    }
    int bit = allow ? trigger_bit(allow) : -1;
    if (bit >= 0)
        s->granted |= 1u << bit;
}

const char *ocpp_boot_state_name(enum ocpp_boot_state state)
{
    switch (state) {
    case OCPP_BOOT_NONE: return "None";
    case OCPP_BOOT_PENDING: return "Pending";
    case OCPP_BOOT_ACCEPTED: return "Accepted";
    case OCPP_BOOT_REJECTED: return "Rejected";
    }
    return "Unknown";
}

void ocpp_ses_set_boot(ocpp_session *s, enum ocpp_boot_state state)
{
    if (state != s->boot)
        s->granted = 0; /* a trigger asked for in one boot state does not carry over to the next */
    s->boot = state;
}

enum ocpp_boot_state ocpp_session_boot_state(const ocpp_session *s)
{
    return s->boot;
}

void ocpp_session_set_boot_state(ocpp_session *s, enum ocpp_boot_state state)
{
    ocpp_ses_set_boot(s, state);
}

/* Whether we may send a CALL of `action` now (role and boot state). */
bool ocpp_ses_may_send(const ocpp_session *s, const char *action, char *err, size_t err_len)
{
    if (!ocpp_action_known(action)) {
        snprintf(err, err_len, "%s is not an OCPP 2.0.1 action", action);
        return false;
    }
    if (!ocpp_action_sent_by(action, s->role)) {
        snprintf(err, err_len, "a %s does not send %s", s->role == OCPP_ROLE_CSMS ? "CSMS" : "charging station",
                 action);
        return false;
    }
    if (s->boot == OCPP_BOOT_ACCEPTED)
        return true;
    bool ok;
    if (s->role == OCPP_ROLE_STATION) {
        /* B02 / B03: before Accepted a station sends only BootNotification, and what the CSMS asked for. */
        ok = strcmp(action, "BootNotification") == 0 || granted(s, action);
    } else if (s->boot == OCPP_BOOT_PENDING) {
        /* B02 (Pending): no transactions may be started or stopped remotely while Pending. */
        ok = strcmp(action, "RequestStartTransaction") != 0 && strcmp(action, "RequestStopTransaction") != 0;
    } else {
        /* NONE: nothing is known of the station yet; REJECTED: B03, the CSMS shall not initiate. */
        ok = false;
    }
    if (!ok)
        snprintf(err, err_len, "%s may not be sent while the boot state is %s", action, ocpp_boot_state_name(s->boot));
    return ok;
}

ocpp_session *ocpp_session_new(const struct ocpp_session_config *cfg)
{
    ocpp_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->role = cfg ? cfg->role : OCPP_ROLE_CSMS;
    s->call_timeout_ms = cfg && cfg->call_timeout_ms > 0 ? cfg->call_timeout_ms : 30000;
    s->queue_max = cfg && cfg->queue_max > 0 ? cfg->queue_max : 64;
    s->validate_outgoing = cfg ? cfg->validate_outgoing : false;
    ocpp_utf8_copy(s->prefix, sizeof s->prefix, cfg && cfg->id_prefix ? cfg->id_prefix : "m");
    s->boot = OCPP_BOOT_NONE;
    return s;
}

void ocpp_session_close(ocpp_session *s, ocpp_event_fn fn, void *ctx)
{
    if (!s)
        return;
    struct our_call *c = s->inflight;
    s->inflight = NULL;
    if (c)
        ocpp_ses_fail_call(c, OCPP_E_GENERIC_ERROR, "session closed before an answer came", false, true, fn, ctx);
    while ((c = s->q_head)) {
        s->q_head = c->next;
        ocpp_ses_fail_call(c, OCPP_E_GENERIC_ERROR, "session closed before the CALL was sent", false, true, fn, ctx);
    }
    for (struct out_frame *o = s->out_head, *next; o; o = next) {
        next = o->next;
        free(o->text);
        free(o);
    }
    free(s->last_answer);
    free(s);
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void protocol_event(ocpp_session *s, const struct ocpp_fault *f, const char *action, ocpp_event_fn fn,
                           void *ctx)
{
    s->st.faults++;
    if (!fn)
        return;
    struct ocpp_event ev = {.type = OCPP_EV_PROTOCOL, .id = f->id, .action = action, .fault = f,
                            .error_code = f->code, .error_description = f->description};
    fn(ctx, &ev);
}

static void make_fault(struct ocpp_fault *f, enum ocpp_error code, const char *id, bool reply, const char *fmt,
                       const char *arg)
{
    memset(f, 0, sizeof *f);
    f->code = code;
    ocpp_utf8_copy(f->id, sizeof f->id, id);
    f->reply = reply;
    char desc[OCPP_ERROR_DESC_MAX * 2];
    snprintf(desc, sizeof desc, fmt, arg);
    ocpp_utf8_copy(f->description, sizeof f->description, desc);
}

/* Answer a CALL we refuse, remember the answer (a retransmission gets the same), report it. */
static void refuse_call(ocpp_session *s, const struct ocpp_frame *f, uint64_t hash, const struct ocpp_fault *fault,
                        ocpp_event_fn fn, void *ctx)
{
    char *frame = ocpp_frame_error(f->id, fault->code, fault->description, NULL);
    if (frame)
        ocpp_ses_answer(s, f->id, f->action, hash, frame, true);
    protocol_event(s, fault, f->action, fn, ctx);
}

static void on_call(ocpp_session *s, struct ocpp_frame *f, uint64_t hash, ocpp_event_fn fn, void *ctx)
{
    struct ocpp_fault fault;
    s->st.calls_in++;
    struct peer_call *slot = NULL;
    for (int i = 0; i < OCPP_SESSION_MAX_UNANSWERED; i++) {
        struct peer_call *p = &s->unanswered[i];
        if (p->used && strcmp(p->id, f->id) == 0) {
            /* The same id while we still work on it: answering twice would break correlation at the peer. */
            s->st.duplicate_calls++;
            make_fault(&fault, OCPP_E_RPC_FRAMEWORK_ERROR, f->id, false,
                       "duplicate message id %s: that CALL is still being answered; dropped", f->id);
            protocol_event(s, &fault, f->action, fn, ctx);
            return;
        }
        if (!p->used && !slot)
            slot = p;
    }
    if (s->last_answer && strcmp(s->last_id, f->id) == 0 && strcmp(s->last_action, f->action) == 0 &&
        s->last_hash == hash) {
        /* The peer missed our answer and sent the CALL again: answer the same, do not apply it twice. */
        s->st.duplicate_calls++;
        char *again = strdup(s->last_answer);
        if (again)
            ocpp_ses_push(s, again);
        return;
    }
    const char *sender = s->role == OCPP_ROLE_CSMS ? "charging station" : "CSMS";
    if (!ocpp_action_known(f->action)) {
        make_fault(&fault, OCPP_E_NOT_IMPLEMENTED, f->id, true, "%s is not an OCPP 2.0.1 action", f->action);
    } else if (!ocpp_action_sent_by(f->action, s->role == OCPP_ROLE_CSMS ? OCPP_ROLE_STATION : OCPP_ROLE_CSMS)) {
        char what[96];
        snprintf(what, sizeof what, "%s is not sent by a %s", f->action, sender);
        make_fault(&fault, OCPP_E_NOT_SUPPORTED, f->id, true, "%s", what);
    } else if (s->role == OCPP_ROLE_CSMS && s->boot != OCPP_BOOT_ACCEPTED && strcmp(f->action, "BootNotification") != 0 &&
               !(s->boot == OCPP_BOOT_PENDING && granted(s, f->action))) {
        /* B02.FR.09 / B03: before Accepted, anything but BootNotification (and what we triggered)
         * is answered with SecurityError. */
        make_fault(&fault, OCPP_E_SECURITY_ERROR, f->id, true, "station not accepted (boot state %s)",
                   ocpp_boot_state_name(s->boot));
    } else {
        char desc[OCPP_ERROR_DESC_MAX + 1];
        enum ocpp_error e = ocpp_validate(f->action, false, f->payload, desc, sizeof desc);
        if (e != OCPP_OK)
            make_fault(&fault, e, f->id, true, "%s", desc);
        else if (!slot)
            make_fault(&fault, OCPP_E_GENERIC_ERROR, f->id, true, "%s",
                       "too many unanswered CALLs: send one at a time");
        else
            fault.code = OCPP_OK;
    }
    if (fault.code != OCPP_OK) {
        refuse_call(s, f, hash, &fault, fn, ctx);
        return;
    }
    slot->used = true;
    strcpy(slot->id, f->id);
    strcpy(slot->action, f->action);
    slot->hash = hash;
    if (s->role == OCPP_ROLE_STATION)
        ocpp_ses_grant(s, f->action, f->payload);
    if (fn) {
        struct ocpp_event ev = {.type = OCPP_EV_CALL, .id = f->id, .action = f->action, .payload = f->payload};
        fn(ctx, &ev);
    }
}

static void on_response(ocpp_session *s, struct ocpp_frame *f, ocpp_event_fn fn, void *ctx)
{
    struct ocpp_fault fault;
    struct our_call *c = s->inflight;
    if (!c || strcmp(c->id, f->id) != 0) {
        /* Unknown, or late after its timeout: the peer must not get an answer to an answer. */
        s->st.stray_responses++;
        make_fault(&fault, OCPP_E_RPC_FRAMEWORK_ERROR, f->id, false,
                   "no CALL of ours awaits an answer with id %s; dropped", f->id);
        protocol_event(s, &fault, NULL, fn, ctx);
        return;
    }
    s->inflight = NULL;
    if (f->type == OCPP_CALLERROR) {
        s->st.errors_in++;
        if (fn) {
            struct ocpp_event ev = {.type = OCPP_EV_ERROR, .id = c->id, .action = c->action, .payload = f->payload,
                                    .error_code = f->error_code, .error_description = f->error_description,
                                    .user = c->user};
            fn(ctx, &ev);
        }
        ocpp_ses_free_call(c);
        return;
    }
    s->st.results_in++;
    char desc[OCPP_ERROR_DESC_MAX + 1];
    enum ocpp_error e = ocpp_validate(c->action, true, f->payload, desc, sizeof desc);
    if (e != OCPP_OK) {
        make_fault(&fault, e, f->id, false, "%s", desc);
        protocol_event(s, &fault, c->action, fn, ctx);
        ocpp_ses_fail_call(c, e, fault.description, false, false, fn, ctx);
        return;
    }
    if (s->role == OCPP_ROLE_STATION && strcmp(c->action, "BootNotification") == 0) {
        /* B01-B03: the station's boot state follows the status the CSMS answered. */
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(f->payload, "status");
        if (cJSON_IsString(st))
            ocpp_ses_set_boot(s, strcmp(st->valuestring, "Accepted") == 0  ? OCPP_BOOT_ACCEPTED
                                 : strcmp(st->valuestring, "Pending") == 0 ? OCPP_BOOT_PENDING
                                                                           : OCPP_BOOT_REJECTED);
    }
    if (fn) {
        struct ocpp_event ev = {.type = OCPP_EV_RESULT, .id = c->id, .action = c->action, .payload = f->payload,
                                .user = c->user};
        fn(ctx, &ev);
    }
    ocpp_ses_free_call(c);
}

void ocpp_session_feed(ocpp_session *s, const char *msg, size_t len, int64_t now_ms, ocpp_event_fn fn, void *ctx)
{
    struct ocpp_frame f;
    struct ocpp_fault fault;
    if (ocpp_frame_parse(msg, len, &f, &fault) != 0) {
        if (fault.reply) {
            char *frame = ocpp_frame_error(fault.id, fault.code, fault.description, NULL);
            if (frame && ocpp_ses_push(s, frame) == 0)
                s->st.errors_out++;
        }
        protocol_event(s, &fault, NULL, fn, ctx);
        /* A broken answer to the CALL in flight still ends it: waiting for the timeout would only delay. */
        if (!fault.reply && s->inflight && strcmp(s->inflight->id, fault.id) == 0) {
            struct our_call *c = s->inflight;
            s->inflight = NULL;
            ocpp_ses_fail_call(c, fault.code, fault.description, false, false, fn, ctx);
        }
    } else if (f.type == OCPP_CALL) {
        on_call(s, &f, fnv1a(msg, len), fn, ctx);
    } else {
        on_response(s, &f, fn, ctx);
    }
    ocpp_frame_clear(&f);
    ocpp_ses_pump(s, now_ms, fn, ctx);
}
