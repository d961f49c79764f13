/*
 * One libwebsockets 4.1.6 client context drives every station. Rules kept (DEVELOPERS/STYLE): write
 * only in CLIENT_WRITEABLE, one lws_write per callback, LWS_PRE headroom and a fresh buffer per send
 * (the client masks in place), fragments reassembled, the simulation stepped by an lws_sul timer.
 */
#include "sim.h"
#include "wsauth.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t sim_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sim_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sim_world *g_world; /* the loop's world: lws sul callbacks carry no user pointer */
static lws_sorted_usec_list_t g_tick;

static void connect_station(struct sim_world *w, struct sim_station *st)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", w->opt.path, st->cfg->id);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = w->ctx;
    i.address = w->opt.host;
    i.port = w->opt.port;
    i.path = path;
    i.host = w->opt.host;
    i.origin = w->opt.host;
    i.protocol = "ocpp2.0.1";
    i.userdata = st;
    i.pwsi = &st->wsi;
    sim_tls_connect(&i, &w->opt.tls);
    st->reconnect_at_real = 0;
    if (!lws_client_connect_via_info(&i)) {
        st->wsi = NULL;
        st->reconnect_at_real = sim_real_ms() + 2000;
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct sim_station *st = user;
    struct sim_world *w = g_world;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        /* Security Profile 1: HTTP Basic, username = station id. */
        if (st && sim_ws_basic_auth(wsi, st->cfg->id, st->password, in, len))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        st->wsi = wsi;
        sim_station_connected(st, sim_real_ms());
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (st->rx_len + len > sizeof st->rx - 1) {
            sim_report_counters(w->report)->invalid_frames++;
            st->rx_len = 0;
            return -1; /* a frame bigger than any OCPP message we accept: drop the connection */
        }
        memcpy(st->rx + st->rx_len, in, len);
        st->rx_len += len;
        if (lws_is_final_fragment(wsi)) {
            st->rx[st->rx_len] = '\0';
            sim_station_receive(st, st->rx, st->rx_len, sim_real_ms());
            st->rx_len = 0;
            if (st->out_n)
                lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        char *f = sim_station_next_out(st);
        if (!f)
            return 0;
        size_t n = strlen(f);
        unsigned char *buf = malloc(LWS_PRE + n);
        if (!buf) {
            free(f);
            return -1;
        }
        memcpy(buf + LWS_PRE, f, n);
        free(f);
        int rc = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
        free(buf);
        if (rc < (int)n)
            return -1;
        sim_report_counters(w->report)->sent++;
        if (st->out_n || (st->session && ocpp_session_has_output(st->session)))
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!st)
            break;
        if (w->opt.progress)
            fprintf(stderr, "%s: connection %s%s%s\n", st->cfg->id,
                    reason == LWS_CALLBACK_CLIENT_CLOSED ? "closed" : "failed", in ? ": " : "",
                    in && reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR ? (const char *)in : "");
        sim_station_disconnected(st, sim_real_ms());
        st->rx_len = 0;
        if (!w->stop) {
            sim_report_counters(w->report)->reconnects++;
            st->reconnect_at_real = sim_real_ms() + (st->fault_drop ? w->opt.drop_delay_ms : 2000);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ocpp2.0.1", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct sim_station *find_station(struct sim_world *w, const char *id)
{
    for (int i = 0; i < w->nstations; i++)
        if (strcmp(w->stations[i].cfg->id, id) == 0)
            return &w->stations[i];
    return NULL;
}

static void arrive(struct sim_world *w, int vi, int64_t t, int64_t now_real)
{
    const struct sim_visit *v = &w->scenario->visits[vi];
    for (int i = 0; i < w->nstations; i++) {
        struct sim_station *st = v->station[0] ? find_station(w, v->station) : &w->stations[i];
        if (!st)
            break;
        for (int e = 1; e <= st->cfg->spec.evse_count; e++)
            if ((v->evse == 0 || v->evse == e) && sim_station_plug(st, e, vi, t, now_real))
                return;
        if (v->station[0])
            break;
    }
    /* No free EVSE: the vehicle leaves with nothing, and the report says so. */
    struct sim_vehicle_result *r = sim_report_vehicle(w->report);
    if (r) {
        snprintf(r->ev, sizeof r->ev, "%s", v->ev.id);
        r->arrival_ms = v->arrival_ms;
        r->departure_ms = v->departure_ms;
        r->requested_wh = v->requested_wh;
        r->max_power_w = v->ev.max_power_w;
    }
}

static void progress(struct sim_world *w, int64_t t)
{
    static int64_t last;
    if (!w->opt.progress || t - last < 15 * 60000)
        return;
    last = t;
    char tb[32];
    int plugged = 0;
    for (int i = 0; i < w->nstations; i++)
        for (int e = 1; e <= w->stations[i].cfg->spec.evse_count; e++)
            plugged += w->stations[i].evse[e].visit >= 0;
    int m = (int)((t - w->scenario->start_ms) / 60000) - 1;
    const struct sim_counters *c = sim_report_counters(w->report);
    fprintf(stderr, "[%s] plugged %d, site %.1f kW, sent %llu, received %llu, invalid %llu\n",
            sim_time_format(t, tb), plugged, sim_report_minute_kw(w->report, m), (unsigned long long)c->sent,
            (unsigned long long)c->received, (unsigned long long)c->invalid_frames);
}

static void faults(struct sim_world *w, struct sim_station *st, int64_t t)
{
    int64_t span = w->scenario->end_ms - w->scenario->start_ms;
    int64_t at = w->scenario->start_ms + span / 3;
    if (st->fault_done || t < at)
        return;
    /* Neither fault is a reboot: a drop is a network blip or a CSMS restart, and offline is a station that
     * lost its network (modem, backhaul) but kept power, its transactions and its profiles. Both come back
     * without a BootNotification (link.c), which is what a CSMS must handle; --reboot-on-reconnect makes
     * every reconnect a reboot instead. */
    if (st->fault_drop || st->fault_offline) {
        st->fault_done = true;
        if (st->fault_offline)
            st->offline_until_sim = t + w->opt.offline_sim_ms;
        if (st->wsi)
            lws_set_timeout(st->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
}

/* Real ms to the next step: a step's length, or sooner where a van arrives or leaves, so that it plugs in (and its
 * station tells the CSMS) at its time and not up to a step later (a simulated minute at 3000x, which the exact
 * baseline does not lose). */
static int64_t next_tick_ms(struct sim_world *w, int64_t now_real)
{
    int64_t next = INT64_MAX;
    if (w->next_visit < w->scenario->n)
        next = w->scenario->visits[w->next_visit].arrival_ms;
    for (int i = 0; i < w->nstations; i++)
        for (int e = 1; e <= w->stations[i].cfg->spec.evse_count; e++) {
            int vi = w->stations[i].evse[e].visit;
            if (vi >= 0 && sim_visit_at(w, vi)->departure_ms < next)
                next = sim_visit_at(w, vi)->departure_ms;
        }
    int64_t ms = w->opt.tick_ms;
    if (next != INT64_MAX) {
        int64_t d = sim_clock_real_delay(&w->clock, now_real, next);
        if (d < ms)
            ms = d < 1 ? 1 : d;
    }
    return ms;
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct sim_world *w = g_world;
    int64_t now_real = sim_real_ms();
    int64_t t = sim_clock_now(&w->clock, now_real);
    if (t > w->opt.run_until_sim)
        t = w->opt.run_until_sim;
    /* Before a --clock-anchor in the future the clock reads earlier than the scenario's start: stations are
     * connected and booted (their messages carry that earlier time, as depotd's clock does), nothing else moves. */
    if (t < w->clock.sim_start_ms)
        t = w->clock.sim_start_ms;
    int64_t dt = t - w->last_step_sim;
    w->last_step_sim = t;
    /* Charge [t - dt, t) for the EVs already plugged, let those due leave, then plug the arrivals: an EV is
     * charged from the first tick after it arrives (never before), and a van leaving frees its EVSE for one
     * arriving in the same tick. */
    for (int i = 0; i < w->nstations; i++) {
        struct sim_station *st = &w->stations[i];
        sim_station_step(st, t, dt, now_real);
        for (int e = 1; e <= st->cfg->spec.evse_count; e++) {
            int vi = st->evse[e].visit;
            if (vi >= 0 && (sim_visit_at(w, vi)->departure_ms <= t || t >= w->opt.run_until_sim))
                sim_station_unplug(st, e, t, now_real);
        }
    }
    while (w->next_visit < w->scenario->n && w->scenario->visits[w->next_visit].arrival_ms <= t)
        arrive(w, w->next_visit++, t, now_real);
    for (int i = 0; i < w->nstations; i++) {
        struct sim_station *st = &w->stations[i];
        /* Plugged at the run's last moment, or came and went within this tick: leaves at once. */
        for (int e = 1; e <= st->cfg->spec.evse_count; e++) {
            int vi = st->evse[e].visit;
            if (vi >= 0 && (sim_visit_at(w, vi)->departure_ms <= t || t >= w->opt.run_until_sim))
                sim_station_unplug(st, e, t, now_real);
        }
        faults(w, st, t);
        if (st->reset_at_real && now_real >= st->reset_at_real && st->wsi && !st->out_n &&
            !(st->session && ocpp_session_has_output(st->session))) {
            /* Reset: the answer and the Ended events have left; the reboot drops the connection, and the
             * usual reconnect brings a BootNotification (reason RemoteReset: the reset left it unregistered). */
            st->reset_at_real = 0;
            lws_set_timeout(st->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        }
        sim_station_answer_late(st, now_real);
        if (!st->wsi && st->reconnect_at_real && now_real >= st->reconnect_at_real && t >= st->offline_until_sim &&
            !w->stop)
            connect_station(w, st);
        if (st->wsi && (st->out_n || (st->session && ocpp_session_has_output(st->session))))
            lws_callback_on_writable(st->wsi);
    }
    progress(w, t);
    if (w->opt.table_minutes > 0)
        sim_table_tick(w, t);
    if (t >= w->opt.run_until_sim || now_real - w->start_real > w->opt.max_real_ms) {
        /* Give the last frames a moment to leave, then stop. */
        if (!w->stop)
            w->stop_at_real = now_real + 500;
        w->stop = true;
        if (now_real >= w->stop_at_real)
            w->done = true;
    }
    if (!w->done)
        lws_sul_schedule(w->ctx, 0, &g_tick, tick, (lws_usec_t)next_tick_ms(w, now_real) * 1000);
    else
        /* lws 4.1 runs ripe timers before it polls, so without this the poll that follows waits for
         * lws's own next timer (up to ~20 s later) before sim_run's loop sees done. */
        lws_cancel_service(w->ctx);
}

int sim_run(struct sim_world *w)
{
    g_world = w;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned int)(w->nstations + 64);
    sim_tls_context(&info, &w->opt.tls);
    w->ctx = lws_create_context(&info);
    if (!w->ctx)
        return -1;
    w->start_real = sim_real_ms();
    w->clock.real_start_ms = w->start_real;
    if (w->opt.has_anchor) {
        sim_clock_anchor(&w->clock, w->clock.sim_start_ms, w->clock.speed, w->opt.anchor_unix_ms, sim_wall_ms(),
                         w->start_real);
        /* --max-real-seconds counts from when the scenario starts moving, not from the wait before it. */
        if (w->clock.real_start_ms > w->start_real)
            w->start_real = w->clock.real_start_ms;
    }
    /* An anchor in the past starts the scenario part-way: nothing is charged for the time before this. */
    int64_t t0 = sim_clock_now(&w->clock, sim_real_ms());
    w->last_step_sim = t0 > w->clock.sim_start_ms ? t0 : w->clock.sim_start_ms;
    for (int i = 0; i < w->nstations; i++)
        connect_station(w, &w->stations[i]);
    lws_sul_schedule(w->ctx, 0, &g_tick, tick, (lws_usec_t)w->opt.tick_ms * 1000);
    while (!w->done)
        if (lws_service(w->ctx, 0) < 0)
            break;
    lws_context_destroy(w->ctx);
    w->ctx = NULL;
    return 0;
}
