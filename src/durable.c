/*
 * durable.c - nothing is heard before the log has it: frames and events appended to the event log, answers to
 * a station's CALLs held until the events they depend on are durable (in the order the CALLs came; a failed
 * commit is answered InternalError), and work that must wait for a ticket (depot_after_durable). Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot.h"
#include "log.h"

/* ---- the event log ---------------------------------------------------------------------------------- */

uint64_t depot_log_frame(struct conn *c, const char *type, int msg_type, const char *action, const char *id,
                         const char *status, const char *text)
{
    struct store_event ev = {
        .time_ms = depot_wall_ms(),
        .type = type,
        .station = c->station ? c->station->id : NULL,
        .msg_type = msg_type,
        .action = action,
        .message_id = id,
        .status = status,
        .data = text,
    };
    struct depot_counters *k = &c->depot->counters;
    bool out = strcmp(type, STORE_EV_OCPP_IN) != 0;
    if (out) k->frames_out++;
    else k->frames_in++;
    /* By kind for /metrics: the last slot collects whatever does not fit (actions are station-chosen text). */
    const char *act = action ? action : "", *stat = status ? status : "";
    int i = 0;
    while (i < k->n_frames && !(k->frames[i].out == out && k->frames[i].msg_type == msg_type &&
                                strcmp(k->frames[i].action, act) == 0 && strcmp(k->frames[i].status, stat) == 0))
        i++;
    if (i == k->n_frames && i < DEPOT_FRAME_KINDS) {
        struct depot_frame_count *f = &k->frames[k->n_frames++];
        f->out = out;
        f->msg_type = msg_type;
        snprintf(f->action, sizeof f->action, "%s", i == DEPOT_FRAME_KINDS - 1 ? "other" : act);
        snprintf(f->status, sizeof f->status, "%s", i == DEPOT_FRAME_KINDS - 1 ? "other" : stat);
    }
    k->frames[i < DEPOT_FRAME_KINDS ? i : DEPOT_FRAME_KINDS - 1].n++;
    return store_append(c->depot->store, &ev);
}

uint64_t depot_log_station_event(struct depot *d, const char *type, const char *station, const char *json)
{
    struct store_event ev = {.time_ms = depot_wall_ms(), .type = type, .station = station, .data = json};
    return store_append(d->store, &ev);
}

/* ---- answers held until durable ------------------------------------------------------------------- */

static void send_reply(struct conn *c, struct held_reply *h, enum store_ticket_state state)
{
    char err[256];
    if (state == STORE_FAILED) {
        /* The event could not be stored: the station must not believe it was accepted; it will retry. */
        ocpp_session_reply_error(c->session, h->id, OCPP_E_INTERNAL_ERROR, "depotd could not store the message");
        char *text = ocpp_frame_error(h->id, OCPP_E_INTERNAL_ERROR, "depotd could not store the message", NULL);
        depot_log_frame(c, STORE_EV_OCPP_OUT, OCPP_CALLERROR, h->action, h->id, "InternalError", text);
        free(text);
        c->depot->counters.callerrors_out++;
        log_error("store", c->station ? c->station->id : NULL, "%s %s answered InternalError: commit failed",
                  h->action, h->id);
    } else if (ocpp_session_reply(c->session, h->id, h->payload, err, sizeof err) == 0) {
        char *text = ocpp_frame_result(h->id, h->payload);
        depot_log_frame(c, STORE_EV_OCPP_OUT, OCPP_CALLRESULT, h->action, h->id, "ok", text);
        free(text);
        depot_after_reply(c, h->action, h->payload);
    } else {
        /* Our own answer broke the schema: a bug in depotd. Tell the station plainly rather than send junk. */
        log_error("ocpp", c->station ? c->station->id : NULL, "invalid %s answer not sent: %s", h->action, err);
        ocpp_session_reply_error(c->session, h->id, OCPP_E_INTERNAL_ERROR, "depotd built an invalid answer");
        c->depot->counters.callerrors_out++;
    }
    depot_send_now(c);
}

void depot_hold_reply(struct conn *c, const char *id, const char *action, cJSON *payload, uint64_t ticket)
{
    struct held_reply *h = calloc(1, sizeof *h);
    if (!h) {
        cJSON_Delete(payload);
        return;
    }
    snprintf(h->id, sizeof h->id, "%s", id);
    snprintf(h->action, sizeof h->action, "%s", action);
    h->payload = payload;
    /* A lost event is answered InternalError, in its turn: it takes the ticket of the answer before it. */
    h->lost = ticket == STORE_TICKET_LOST;
    h->ticket = h->lost ? (c->held_tail ? c->held_tail->ticket : 0) : ticket;
    /* Answers leave in the order the CALLs came, so nothing may overtake a held one. */
    if (h->ticket == 0 && !c->held_head) {
        send_reply(c, h, h->lost ? STORE_FAILED : STORE_DURABLE);
        cJSON_Delete(h->payload);
        free(h);
        return;
    }
    if (c->held_tail) c->held_tail->next = h;
    else c->held_head = h;
    c->held_tail = h;
    if (!c->in_held_list) {
        c->in_held_list = true;
        c->next_held = c->depot->held_list;
        c->depot->held_list = c;
    }
}

static void release_after_durable(struct depot *d, uint64_t settled);

void depot_release_durable(struct depot *d)
{
    uint64_t settled = store_settled(d->store);
    struct conn **pp = &d->held_list;
    while (*pp) {
        struct conn *c = *pp;
        while (c->held_head && c->held_head->ticket <= settled) {
            struct held_reply *h = c->held_head;
            c->held_head = h->next;
            if (!c->held_head) c->held_tail = NULL;
            send_reply(c, h, h->lost ? STORE_FAILED : h->ticket ? store_ticket_state(d->store, h->ticket) : STORE_DURABLE);
            cJSON_Delete(h->payload);
            free(h);
        }
        if (!c->held_head) {
            c->in_held_list = false;
            *pp = c->next_held;
        } else {
            pp = &c->next_held;
        }
    }
    release_after_durable(d, settled);
    if (settled != d->settled_seen) {
        /* A failed commit's error text goes to the log (the API and /readyz say only that it failed). */
        d->settled_seen = settled;
        struct store_health h;
        store_health(d->store, &h);
        if (h.commits_failed != d->commits_failed_seen) {
            d->commits_failed_seen = h.commits_failed;
            log_error("store", NULL, "a commit to the event log failed: %s", h.last_error);
        }
        depot_log_disk(d);
    }
}

void depot_log_disk(struct depot *d)
{
    struct store_disk_state s;
    store_disk(d->store, &s);
    if (s.prune_errors != d->prune_errors_seen) {
        d->prune_errors_seen = s.prune_errors;
        log_error("store", NULL, "pruning old frames (keep_frames_days) failed; retried in an hour (%llu failures)",
                  (unsigned long long)s.prune_errors);
    }
    if (s.low == d->disk_low_seen && s.lean == d->disk_lean_seen) return;
    long long mib = s.free_bytes >> 20;
    if (s.lean && !d->disk_lean_seen)
        log_error("store", NULL, "%lld MiB free on the database's disk, below disk_min_free_mb: not writing Heartbeat, "
                  "MeterValues and periodic TransactionEvent frames until %d MiB are free", mib,
                  d->cfg.disk_min_free_mb + d->cfg.disk_min_free_mb / 4);
    else if (!s.lean && d->disk_lean_seen)
        log_warn("store", NULL, "%lld MiB free on the database's disk: writing every frame again (%llu not written)",
                 mib, (unsigned long long)s.dropped);
    else if (s.low && !d->disk_low_seen)
        log_warn("store", NULL, "%lld MiB free on the database's disk, below disk_warn_free_mb", mib);
    else if (!s.low && d->disk_low_seen)
        log_info("store", NULL, "%lld MiB free on the database's disk, above disk_warn_free_mb again", mib);
    d->disk_low_seen = s.low;
    d->disk_lean_seen = s.lean;
}

int depot_after_durable(struct depot *d, uint64_t ticket, void (*fn)(struct depot *d, void *arg, enum store_ticket_state state),
                        void *arg)
{
    struct after_durable *a = calloc(1, sizeof *a);
    if (!a) return -1;
    /* The list stays in ticket order: a lost ticket takes its place behind the last one. */
    bool lost = ticket == STORE_TICKET_LOST;
    *a = (struct after_durable){.ticket = lost ? (d->after_tail ? d->after_tail->ticket : 0) : ticket, .lost = lost,
                                .fn = fn, .arg = arg};
    if (d->after_tail) d->after_tail->next = a;
    else d->after_head = a;
    d->after_tail = a;
    return 0;
}

static void release_after_durable(struct depot *d, uint64_t settled)
{
    /* Tickets only grow, so the list is in ticket order. Unlinked before fn runs: fn may queue more. */
    while (d->after_head && d->after_head->ticket <= settled) {
        struct after_durable *a = d->after_head;
        d->after_head = a->next;
        if (!d->after_head) d->after_tail = NULL;
        a->fn(d, a->arg, a->lost ? STORE_FAILED : store_ticket_state(d->store, a->ticket));
        free(a);
    }
}

void depot_drop_held(struct conn *c)
{
    for (struct conn **pp = &c->depot->held_list; *pp; pp = &(*pp)->next_held)
        if (*pp == c) {
            *pp = c->next_held;
            break;
        }
    c->in_held_list = false;
    while (c->held_head) {
        struct held_reply *h = c->held_head;
        c->held_head = h->next;
        cJSON_Delete(h->payload);
        free(h);
    }
    c->held_tail = NULL;
}

