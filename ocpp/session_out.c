/*
 * session_out.c - what a session sends: our CALLs (one in flight, a bounded FIFO behind it, a response
 * timeout), our answers to the peer's CALLs, and the output queue the transport drains.
 */
#include "session_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ocpp_ses_push(ocpp_session *s, char *frame)
{
    struct out_frame *o = malloc(sizeof *o);
    if (!o) {
        free(frame);
        return -1;
    }
    o->text = frame;
    o->next = NULL;
    if (s->out_tail)
        s->out_tail->next = o;
    else
        s->out_head = o;
    s->out_tail = o;
    return 0;
}

char *ocpp_session_take_output(ocpp_session *s)
{
    struct out_frame *o = s->out_head;
    if (!o)
        return NULL;
    s->out_head = o->next;
    if (!s->out_head)
        s->out_tail = NULL;
    char *text = o->text;
    free(o);
    return text;
}

bool ocpp_session_has_output(const ocpp_session *s)
{
    return s->out_head != NULL;
}

void ocpp_ses_free_call(struct our_call *c)
{
    if (c) {
        free(c->frame);
        free(c);
    }
}

void ocpp_ses_fail_call(struct our_call *c, enum ocpp_error code, const char *desc, bool timed_out, bool closed,
                        ocpp_event_fn fn, void *ctx)
{
    if (fn) {
        struct ocpp_event ev = {.type = OCPP_EV_ERROR, .id = c->id, .action = c->action, .error_code = code,
                                .error_description = desc, .timed_out = timed_out, .closed = closed,
                                .user = c->user};
        fn(ctx, &ev);
    }
    ocpp_ses_free_call(c);
}

static void send_call(ocpp_session *s, struct our_call *c, int64_t now_ms)
{
    char *frame = c->frame;
    c->frame = NULL;
    ocpp_ses_push(s, frame);
    s->st.calls_out++;
    s->inflight = c;
    s->deadline = now_ms + s->call_timeout_ms;
}

void ocpp_ses_pump(ocpp_session *s, int64_t now_ms, ocpp_event_fn fn, void *ctx)
{
    while (!s->inflight && s->q_head) {
        struct our_call *c = s->q_head;
        s->q_head = c->next;
        if (!s->q_head)
            s->q_tail = NULL;
        s->q_len--;
        c->next = NULL;
        /* The boot state may have changed while it waited (a station rebooting into Pending). */
        char err[OCPP_ERROR_DESC_MAX + 1];
        if (!ocpp_ses_may_send(s, c->action, err, sizeof err)) {
            ocpp_ses_fail_call(c, OCPP_E_SECURITY_ERROR, err, false, false, fn, ctx);
            continue;
        }
        send_call(s, c, now_ms);
    }
}

int ocpp_session_call(ocpp_session *s, const char *action, const cJSON *payload, void *user, int64_t now_ms,
                      char *id_out, char *err, size_t err_len)
{
    char scratch[OCPP_ERROR_DESC_MAX + 1];
    if (!err || err_len == 0) {
        err = scratch;
        err_len = sizeof scratch;
    }
    err[0] = '\0';
    if (!action) {
        snprintf(err, err_len, "no action");
        return -1;
    }
    if (!ocpp_ses_may_send(s, action, err, err_len))
        return -1;
    if (s->q_len >= s->queue_max && (s->inflight || s->q_head)) {
        snprintf(err, err_len, "queue full: %zu CALLs wait behind the one in flight", s->q_len);
        return -1;
    }
    cJSON *empty = NULL;
    if (!payload)
        payload = empty = cJSON_CreateObject();
    if (s->validate_outgoing) {
        char desc[OCPP_ERROR_DESC_MAX + 1];
        enum ocpp_error e = ocpp_validate(action, false, payload, desc, sizeof desc);
        if (e != OCPP_OK) {
            snprintf(err, err_len, "%s: %s", ocpp_error_name(e), desc);
            cJSON_Delete(empty);
            return -1;
        }
    }
    struct our_call *c = calloc(1, sizeof *c);
    if (!c) {
        cJSON_Delete(empty);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(c->id, sizeof c->id, "%s%llu", s->prefix, (unsigned long long)++s->counter);
    snprintf(c->action, sizeof c->action, "%s", action);
    c->user = user;
    c->frame = ocpp_frame_call(c->id, action, payload);
    if (s->role == OCPP_ROLE_CSMS)
        ocpp_ses_grant(s, action, payload);
    cJSON_Delete(empty);
    if (!c->frame) {
        free(c);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (id_out)
        memcpy(id_out, c->id, sizeof c->id);
    if (!s->inflight && !s->q_head) {
        send_call(s, c, now_ms);
    } else {
        if (s->q_tail)
            s->q_tail->next = c;
        else
            s->q_head = c;
        s->q_tail = c;
        s->q_len++;
    }
    return 0;
}

void ocpp_session_tick(ocpp_session *s, int64_t now_ms, ocpp_event_fn fn, void *ctx)
{
    if (s->inflight && now_ms >= s->deadline) {
        struct our_call *c = s->inflight;
        s->inflight = NULL;
        s->st.timeouts++;
        char desc[64];
        snprintf(desc, sizeof desc, "no answer within %lld ms", (long long)s->call_timeout_ms);
        ocpp_ses_fail_call(c, OCPP_E_GENERIC_ERROR, desc, true, false, fn, ctx);
    }
    ocpp_ses_pump(s, now_ms, fn, ctx);
}

int64_t ocpp_session_next_deadline(const ocpp_session *s)
{
    return s->inflight ? s->deadline : INT64_MAX;
}

void ocpp_ses_answer(ocpp_session *s, const char *id, const char *action, uint64_t hash, char *frame, bool error)
{
    char *copy = strdup(frame);
    if (ocpp_ses_push(s, frame) != 0) {
        free(copy);
        return;
    }
    if (error)
        s->st.errors_out++;
    else
        s->st.results_out++;
    if (copy) {
        free(s->last_answer);
        s->last_answer = copy;
        snprintf(s->last_id, sizeof s->last_id, "%s", id);
        snprintf(s->last_action, sizeof s->last_action, "%s", action);
        s->last_hash = hash;
    }
}

static struct peer_call *unanswered(ocpp_session *s, const char *id)
{
    for (int i = 0; id && i < OCPP_SESSION_MAX_UNANSWERED; i++)
        if (s->unanswered[i].used && strcmp(s->unanswered[i].id, id) == 0)
            return &s->unanswered[i];
    return NULL;
}

int ocpp_session_reply(ocpp_session *s, const char *id, const cJSON *payload, char *err, size_t err_len)
{
    char scratch[OCPP_ERROR_DESC_MAX + 1];
    if (!err || err_len == 0) {
        err = scratch;
        err_len = sizeof scratch;
    }
    err[0] = '\0';
    struct peer_call *p = unanswered(s, id);
    if (!p) {
        snprintf(err, err_len, "no CALL with id %s awaits an answer", id ? id : "(null)");
        return -1;
    }
    cJSON *empty = NULL;
    if (!payload)
        payload = empty = cJSON_CreateObject();
    if (s->validate_outgoing) {
        char desc[OCPP_ERROR_DESC_MAX + 1];
        enum ocpp_error e = ocpp_validate(p->action, true, payload, desc, sizeof desc);
        if (e != OCPP_OK) {
            snprintf(err, err_len, "%s: %s", ocpp_error_name(e), desc);
            cJSON_Delete(empty);
            return -1;
        }
    }
    char *frame = ocpp_frame_result(p->id, payload);
    if (!frame) {
        cJSON_Delete(empty);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (s->role == OCPP_ROLE_CSMS && strcmp(p->action, "BootNotification") == 0) {
        /* B01-B03: the CSMS's answer decides the station's boot state. */
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(payload, "status");
        if (cJSON_IsString(st))
            ocpp_ses_set_boot(s, strcmp(st->valuestring, "Accepted") == 0  ? OCPP_BOOT_ACCEPTED
                                 : strcmp(st->valuestring, "Pending") == 0 ? OCPP_BOOT_PENDING
                                                                           : OCPP_BOOT_REJECTED);
    }
    cJSON_Delete(empty);
    ocpp_ses_answer(s, p->id, p->action, p->hash, frame, false);
    p->used = false;
    return 0;
}

int ocpp_session_reply_error(ocpp_session *s, const char *id, enum ocpp_error code, const char *description)
{
    struct peer_call *p = unanswered(s, id);
    if (!p)
        return -1;
    char *frame = ocpp_frame_error(p->id, code, description, NULL);
    if (!frame)
        return -1;
    ocpp_ses_answer(s, p->id, p->action, p->hash, frame, true);
    p->used = false;
    return 0;
}

void ocpp_session_stats(const ocpp_session *s, struct ocpp_session_stats *out)
{
    *out = s->st;
}
