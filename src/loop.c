/*
 * loop.c - the event loop depotd runs on: lws on libuv (or lws's own poll() loop), work other threads post to
 * it, and one turn of it: serve what is ready, run the posted work, hand this turn's events to the store
 * writer as one batch, release the answers whose events are durable.
 *
 * Thread: the loop thread, except depot_post, depot_post_node and depot_wake_loop (any thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "depot.h"
#include "log.h"

void depot_wake_loop(void *ctx)
{
    struct depot *d = ctx;
    if (d->lws) lws_cancel_service(d->lws);
}

/*
 * lws's own loop calls poll() over every socket on every turn: at 10,000 connections that scan was most of the
 * loop's time (a reconnect storm, issue 16). lws joins a libuv (epoll) loop we own instead, through the evlib
 * plugin Debian ships with lws 4.1.6, as depotsim load does; only when that cannot load does depotd fall back
 * to poll(), and says so.
 */
/* No lws validity pings: lws 4.1 re-inserts a connection's validity timer into one sorted list on every frame
 * it receives, O(connections) each (a quarter of the loop in a 10,000-station storm). A silent station is
 * found by TCP keepalive (server.c) and by its missing Heartbeats instead. */
const lws_retry_bo_t depot_no_validity = {.secs_since_valid_ping = 0, .secs_since_valid_hangup = 0};

int depot_loop_create(struct depot *d, struct lws_context_creation_info *info)
{
    info->retry_and_idle_policy = &depot_no_validity;
    d->uv = malloc(sizeof *d->uv);
    if (d->uv && uv_loop_init(d->uv) == 0) {
        void *foreign[1] = {d->uv};
        info->options |= LWS_SERVER_OPTION_LIBUV;
        info->foreign_loops = foreign;
        info->pcontext = &d->lws; /* lws writes NULL here when its asynchronous destroy has completed */
        d->lws = lws_create_context(info);
        info->foreign_loops = NULL;
        info->pcontext = NULL;
        if (d->lws) return 0;
        uv_loop_close(d->uv);
        log_warn("ocpp", NULL, "lws cannot run on libuv (evlib plugin missing?): poll() loop, slow with many stations");
    }
    free(d->uv);
    d->uv = NULL;
    info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBUV;
    d->lws = lws_create_context(info);
    return d->lws ? 0 : -1;
}

/* Destroys the context (and the libuv loop, whose handles lws closes asynchronously: bounded). */
void depot_loop_destroy(struct depot *d)
{
    if (d->lws) lws_context_destroy(d->lws);
    if (d->uv) {
        for (int i = 0; i < 1000 && d->lws; i++) uv_run(d->uv, UV_RUN_NOWAIT);
        if (d->lws) lws_context_destroy(d->lws);
        for (int i = 0; i < 1000 && uv_loop_close(d->uv) == UV_EBUSY; i++) uv_run(d->uv, UV_RUN_NOWAIT);
        free(d->uv);
        d->uv = NULL;
    }
    d->lws = NULL;
}

int depot_post(struct depot *d, void (*fn)(struct depot *, void *), void *arg)
{
    struct posted *p = calloc(1, sizeof *p);
    if (!p) return -1;
    p->fn = fn;
    p->arg = arg;
    depot_post_node(d, p);
    return 0;
}

void depot_post_node(struct depot *d, struct posted *p)
{
    p->next = NULL;
    pthread_mutex_lock(&d->post_mu);
    if (d->posted_tail) d->posted_tail->next = p;
    else d->posted_head = p;
    d->posted_tail = p;
    pthread_mutex_unlock(&d->post_mu);
    depot_wake_loop(d);
}

static void run_posted(struct depot *d)
{
    pthread_mutex_lock(&d->post_mu);
    struct posted *list = d->posted_head;
    d->posted_head = d->posted_tail = NULL;
    pthread_mutex_unlock(&d->post_mu);
    while (list) {
        struct posted *next = list->next;
        bool own = !list->embedded; /* an embedded node goes with what fn frees */
        list->fn(d, list->arg);
        if (own) free(list);
        list = next;
    }
}

static void reload_tls(struct depot *d)
{
    d->reload_tls = 0;
    char err[320];
    if (!d->tls_ctx && !d->api_tls_ctx) log_info("tls", NULL, "SIGHUP: no TLS listener, nothing to reload");
    else if (depot_tls_reload(d, err, sizeof err)) log_error("tls", NULL, "SIGHUP: %s; the previous ones stay in force", err);
    else log_info("tls", NULL, "SIGHUP: TLS certificate, key and CA reloaded; open connections kept");
}

int depot_server_turn(struct depot *d)
{
    if (d->uv) uv_run(d->uv, UV_RUN_ONCE); /* returns after what woke it: a socket, a timer, lws_cancel_service */
    else if (lws_service(d->lws, 0) < 0) return -1;
    if (d->reload_tls) reload_tls(d);
    run_posted(d);
    /* Group commit: whatever this loop turn appended goes to the writer as one batch. */
    store_flush(d->store);
    depot_release_durable(d);
    return 0;
}

void depot_server_run(struct depot *d)
{
    while (!d->stop && !depot_server_turn(d)) {
    }
}

void depot_server_stop(struct depot *d)
{
    /* Answers already committed still go out before the sockets close. */
    for (int i = 0; i < 100; i++) {
        run_posted(d); /* workers are stopped: what they handed over is still stored */
        store_flush(d->store);
        depot_release_durable(d);
        if (!d->held_list && i > 2) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        lws_cancel_service(d->lws); /* the service below returns at once after doing what is ready */
        if (d->uv) uv_run(d->uv, UV_RUN_NOWAIT);
        else lws_service(d->lws, 0);
    }
    while (d->after_head) { /* never settled: dropped (depot_after_durable) */
        struct after_durable *a = d->after_head;
        d->after_head = a->next;
        free(a);
    }
    d->after_tail = NULL;
    depot_loop_destroy(d);
}
