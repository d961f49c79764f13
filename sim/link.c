/*
 * A station's connection to the CSMS: what a new connection starts with (BootNotification, or resuming as
 * Accepted), the frames waiting for the socket, the offline queue (E12) and what a closed connection leaves
 * behind. What the station says and does is in station.c; net.c owns the socket and decides when to reconnect.
 * Thread: the lws event loop's, like everything in sim.h.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_station_flush(struct sim_station *st)
{
    if (!st->session)
        return;
    char *f;
    while (st->out_n < SIM_OUT_MAX && (f = ocpp_session_take_output(st->session))) {
        st->out[(st->out_head + st->out_n) % SIM_OUT_MAX] = f;
        st->out_n++;
    }
}

char *sim_station_next_out(struct sim_station *st)
{
    sim_station_flush(st);
    if (!st->out_n)
        return NULL;
    char *f = st->out[st->out_head];
    st->out_head = (st->out_head + 1) % SIM_OUT_MAX;
    st->out_n--;
    return f;
}

/* E: a TransactionEvent the CSMS has not answered is not delivered. The payload rides along as the call's
 * user pointer; when the connection dies first it comes back here (offline=true) and is sent again once the
 * station is Accepted on a new connection, so a drop loses nothing. */
void sim_station_keep_offline(struct sim_station *st, cJSON *p)
{
    if (st->offline_n < SIM_OFFLINE_MAX) {
        if (!cJSON_GetObjectItemCaseSensitive(p, "offline"))
            cJSON_AddBoolToObject(p, "offline", true);
        st->offline_q[st->offline_n++] = p;
    } else {
        cJSON_Delete(p); /* bounded: the oldest part of history is what a real station keeps */
    }
}

void sim_station_replay_offline(struct sim_station *st)
{
    /* E12: what happened while offline goes first, in order, before anything new. A payload the session
     * cannot take now goes back to the queue, so the queue is emptied first. Counted as replayed when the
     * CSMS answers it (station.c), so one refused and sent again is not counted twice. */
    int n = st->offline_n;
    cJSON **q = malloc((size_t)(n ? n : 1) * sizeof *q);
    if (!q)
        return;
    memcpy(q, st->offline_q, (size_t)n * sizeof *q);
    st->offline_n = 0;
    for (int i = 0; i < n; i++) {
        char err[256];
        if (ocpp_session_call(st->session, "TransactionEvent", q[i], q[i], sim_real_ms(), NULL, err, sizeof err))
            sim_station_keep_offline(st, q[i]);
    }
    free(q);
    sim_station_flush(st);
}

/* OCPP 2.0.1 sends BootNotification when a station boots (B01), not on every connection: a station that was
 * Accepted and has not rebooted since goes on as Accepted. First what it did while away (E12: offline=true, in
 * seqNo order), then every connector's status (B04: what changed while offline is told once back; telling all
 * is allowed and costs a few frames), then heartbeats, meter values and transactions as before. Its charging
 * profiles stay in force: nothing rebooted. */
static void resume(struct sim_station *st)
{
    ocpp_session_set_boot_state(st->session, OCPP_BOOT_ACCEPTED);
    st->booted = st->resumed = true;
    sim_report_counters(st->w->report)->resumed++;
    if (st->w->opt.progress)
        fprintf(stderr, "%s: reconnected, Accepted as before: no BootNotification\n", st->cfg->id);
    sim_station_replay_offline(st);
    for (int e = 1; e <= st->cfg->spec.evse_count; e++)
        sim_station_send_status(st, e);
}

void sim_station_connected(struct sim_station *st, int64_t now_real)
{
    char prefix[24];
    snprintf(prefix, sizeof prefix, "s%d-", st->index);
    struct ocpp_session_config c = {.role = OCPP_ROLE_STATION, .call_timeout_ms = 30000, .queue_max = 1024,
                                    .id_prefix = prefix, .validate_outgoing = true};
    st->session = ocpp_session_new(&c);
    st->connected = st->session != NULL;
    st->booted = st->boot_in_flight = st->resumed = false;
    if (!st->session)
        return;
    /* A drop or an offline period (net.c) leaves the station registered; a Reset or a station never Accepted
     * boots, and so does every connection with --reboot-on-reconnect (how depotsim behaved before). */
    if (st->registered && !st->w->opt.reboot_on_reconnect)
        resume(st);
    else
        sim_station_send_boot(st, st->boot_reason);
}

static void drop_session_output(struct sim_station *st)
{
    for (int i = 0; i < st->out_n; i++)
        free(st->out[(st->out_head + i) % SIM_OUT_MAX]);
    st->out_n = 0;
}

void sim_station_disconnected(struct sim_station *st, int64_t now_real)
{
    if (st->session)
        ocpp_session_close(st->session, sim_station_on_event, st);
    st->session = NULL;
    drop_session_output(st);
    /* Calls held back by the late fault belonged to that connection: they can never be answered now. */
    for (int i = 0; i < st->late_n; i++)
        cJSON_Delete(st->late[i].payload);
    st->late_n = 0;
    st->connected = st->booted = st->boot_in_flight = st->resumed = false;
    st->wsi = NULL;
}

bool sim_station_refused(struct sim_station *st, const struct ocpp_event *ev)
{
    if (!st->resumed || ev->error_code != OCPP_E_SECURITY_ERROR || ev->closed || ev->timed_out || !ev->action ||
        strcmp(ev->action, "BootNotification") == 0)
        return false;
    if (!st->booted)
        return true; /* queued behind the refused one: the session refused it itself, nothing reached the CSMS */
    /* The CSMS does not know the station any more (restarted without its state, a wiped database). A real
     * charger boots rather than retrying forever; so does this one, at most once per connection (resumed
     * is cleared by the boot's Accepted). No BootReason fits a station that did not restart: Unknown. */
    struct sim_counters *c = sim_report_counters(st->w->report);
    c->callerrors_in++;
    c->resume_refused++;
    fprintf(stderr, "depotsim: %s: %s refused with SecurityError after a reconnect without BootNotification: "
            "booting\n", st->cfg->id, ev->action);
    st->booted = st->registered = false;
    /* Queued CALLs now end with SecurityError from the session itself, in order, before the boot goes out. */
    ocpp_session_set_boot_state(st->session, OCPP_BOOT_NONE);
    sim_station_send_boot(st, "Unknown");
    return true;
}
