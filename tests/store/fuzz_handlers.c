/*
 * fuzz_handlers.c - fuzz target: bytes as frames from a booted, Accepted station, through depotd's own OCPP
 * handlers (handlers.c) with a real store (SQLite in a temp directory, its writer thread) and no sockets: the
 * session parses and validates, every CALL is logged and handled (transactions, meter values, needs, status,
 * certificates...), answers wait for their ticket as in server.c. Smart charging off. No crash, no leak.
 * Runs as a test with tests/ocpp/fuzz_driver.c (gcc) and, with clang, as a libFuzzer binary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "depot.h"
#include "log.h"

static struct depot D;
static struct station *ST;
static char *frame; /* the frame being fed, as server.c logs it (the projections read it) */

static void on_event(void *ctx, const struct ocpp_event *ev)
{
    struct conn *c = ctx;
    if (ev->type == OCPP_EV_CALL) {
        uint64_t t = depot_log_frame(c, STORE_EV_OCPP_IN, OCPP_CALL, ev->action, ev->id, "ok", frame);
        depot_handle_call(c, ev, t);
    } else if (ev->type == OCPP_EV_RESULT) {
        depot_handle_result(c, ev);
    } else if (ev->type == OCPP_EV_ERROR) {
        depot_handle_call_error(c, ev);
    }
}

static char dir[] = "/tmp/depotd-fuzz-XXXXXX";

/* The store's writer finishes what is queued (a leak check sees everything freed), then the files go. */
static void teardown(void)
{
    store_close(D.store);
    doors_free(D.doors);
    char path[sizeof D.cfg.database + 8];
    static const char *const tails[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", D.cfg.database, tails[i]);
        unlink(path);
    }
    rmdir(dir);
    config_free(&D.cfg);
}

static void setup(void)
{
    char err[256], path[sizeof D.cfg.database];
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    config_defaults(&D.cfg);
    D.cfg.read_capabilities = false;
    snprintf(D.cfg.database, sizeof D.cfg.database, "%s", path);
    log_set_level(LOG_ERROR);
    pthread_mutex_init(&D.post_mu, NULL);
    D.store = store_open(path, NULL, NULL, err, sizeof err);
    D.doors = doors_new();
    if (!D.store || !D.doors || depot_load_stations(&D, err, sizeof err)) abort();
    ST = depot_station_add(&D, "FUZZ-1", CFG_BOOT_ACCEPTED, NULL);
    ST->last_boot = OCPP_BOOT_ACCEPTED;
    atexit(teardown);
}

/* A fresh database every so many inputs: an hour of fuzzing would otherwise fill the disk with events. */
static void fresh_store(void)
{
    char err[256], path[sizeof D.cfg.database + 8];
    store_close(D.store);
    static const char *const tails[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", D.cfg.database, tails[i]);
        unlink(path);
    }
    D.store = store_open(D.cfg.database, NULL, NULL, err, sizeof err);
    if (!D.store) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long inputs;
    if (!D.store) setup();
    if (++inputs % 5000 == 0) fresh_store();
    struct ocpp_session_config sc = {.role = OCPP_ROLE_CSMS, .call_timeout_ms = 1000, .queue_max = 8,
                                     .id_prefix = "fz-", .validate_outgoing = true};
    struct conn c = {.depot = &D, .station = ST, .session = ocpp_session_new(&sc)};
    if (!c.session) return 0;
    ocpp_session_set_boot_state(c.session, OCPP_BOOT_ACCEPTED);
    ST->conn = &c;
    /* Frames separated by newlines, so one input can be a short conversation. */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        frame = strndup(p, n);
        if (frame) ocpp_session_feed(c.session, frame, n, 0, on_event, &c);
        free(frame);
        frame = NULL;
        for (char *out; (out = ocpp_session_take_output(c.session));) free(out);
        p += n + 1;
    }
    store_flush(D.store);
    depot_drop_held(&c);
    ocpp_session_close(c.session, on_event, &c);
    ST->conn = NULL;
    free(c.signed_chain);
    return 0;
}
