/*
 * fuzz_api.c - fuzz target: bytes as what an HTTP client sends to depotd's JSON API. A whole depotd runs in this
 * process (store, reader thread, control loop with vehicles, the lws loop and the API vhost, as main.c starts
 * them); each input is written raw into one end of a socketpair whose other end the API vhost adopts as an
 * accepted connection, so lws' HTTP parser, the routes, auth, query arguments, bodies and the handlers all see
 * it. The loop is turned here until the answers stop coming. Tokens of every role are configured (the seeds use
 * them), so mutations reach the handlers behind auth. No crash, no leak, and the API still answers afterwards.
 * Runs as a test with tests/ocpp/fuzz_driver.c (gcc) and, with clang, as a libFuzzer binary.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api_internal.h"
#include "control.h"
#include "depot.h"
#include "log.h"
#include "prices.h"

static struct depot D;
static char dir[] = "/tmp/depotd-fuzz-api-XXXXXX";
static char cfg_path[64], db_path[64];

/* The seeds' tokens (tests/store/corpus-api): admin, dispatcher of every fleet, dispatcher of fleet north,
 * viewer. */
static const char *const tokens[][3] = {
    {"fuzz-admin", "admin", "fuzz-admin-token-0123456789abcdefghijklmn"},
    {"fuzz-dispatch", "dispatcher", "fuzz-dispatch-token-0123456789abcdefghijk"},
    {"fuzz-north", "dispatcher", "fuzz-north-token-0123456789abcdefghijklmn"},
    {"fuzz-viewer", "viewer", "fuzz-viewer-token-0123456789abcdefghijklm"},
};

static int write_config(void)
{
    FILE *f = fopen(cfg_path, "w");
    if (!f) return -1;
    fprintf(f, "{\"listen_address\":\"127.0.0.1\",\"port\":0,\"api_port\":0,\"call_timeout_s\":1,"
               "\"read_capabilities\":false,\"unauthenticated_stations\":true,\"log_level\":\"error\",\"api_tokens\":[");
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        unsigned char h[32];
        SHA256((const unsigned char *)tokens[i][2], strlen(tokens[i][2]), h);
        fprintf(f, "%s{\"name\":\"%s\",\"role\":\"%s\",%s\"token_hash\":\"sha256$", i ? "," : "", tokens[i][0],
                tokens[i][1], i == 1 ? "\"manage_tokens\":true," : i == 2 ? "\"fleet\":\"north\"," : "");
        for (int k = 0; k < 32; k++) fprintf(f, "%02x", h[k]);
        fprintf(f, "\"}");
    }
    fprintf(f, "],\"stations\":[{\"id\":\"CS1\"},{\"id\":\"CS2\"}],"
               "\"id_tokens\":[{\"id_token\":\"VAN-1\",\"type\":\"ISO14443\",\"vehicle\":\"van-1\"}],"
               "\"control\":{\"site_limit_kw\":100,\"departure_hedge_new_pct\":0,\"vehicles\":["
               "{\"id\":\"van-1\",\"battery_kwh\":60,\"max_kw\":11,\"fleet\":\"north\",\"id_tokens\":[\"VAN-1\"]},"
               "{\"id\":\"van-2\",\"battery_kwh\":80,\"fleet\":\"south\"},{\"id\":\"van-3\"}]}}\n");
    return fclose(f);
}

static void teardown(void)
{
    /* Evidence that the inputs get past lws and auth to the handlers, not only to 400s. */
    const uint64_t *st = D.api->by_status;
    fprintf(stderr, "fuzz_api: %llu requests dispatched; answers 2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu\n",
            (unsigned long long)D.api->requests, (unsigned long long)st[2], (unsigned long long)st[3],
            (unsigned long long)st[4], (unsigned long long)st[5]);
    struct store_event stop = {.time_ms = depot_wall_ms(), .type = STORE_EV_STOP, .data = "{}"};
    store_append(D.store, &stop);
    api_stop(&D);
    control_stop(&D);
    prices_stop(&D);
    depot_pw_stop(&D);
    depot_server_stop(&D);
    doors_free(D.doors);
    store_close(D.store);
    static const char *const tails[] = {"", "-wal", "-shm"};
    char path[sizeof db_path + 8];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", db_path, tails[i]);
        unlink(path);
    }
    unlink(cfg_path);
    rmdir(dir);
    config_free(&D.cfg);
    xmlCleanupParser();
    curl_global_cleanup();
}

static void setup(void)
{
    char err[512];
    if (!mkdtemp(dir)) abort();
    snprintf(cfg_path, sizeof cfg_path, "%s/depotd.json", dir);
    snprintf(db_path, sizeof db_path, "%s/depotd.db", dir);
    if (write_config()) abort();
    pthread_mutex_init(&D.post_mu, NULL);
    config_defaults(&D.cfg);
    if (config_load(&D.cfg, cfg_path, err, sizeof err)) {
        fprintf(stderr, "fuzz_api: %s\n", err);
        abort();
    }
    snprintf(D.cfg.database, sizeof D.cfg.database, "%s", db_path);
    log_set_level(LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    D.store = store_open(db_path, depot_wake_loop, &D, err, sizeof err);
    D.doors = doors_new();
    if (!D.store || !D.doors || depot_load_stations(&D, err, sizeof err) ||
        depot_clock_configure(D.cfg.clock, err, sizeof err) || prices_start(&D, err, sizeof err) ||
        control_start(&D, err, sizeof err) || depot_pw_start(&D, err, sizeof err) ||
        depot_server_start(&D, err, sizeof err) || api_start(&D, err, sizeof err)) {
        fprintf(stderr, "fuzz_api: %s\n", err);
        abort();
    }
    control_loop_started(&D);
    atexit(teardown);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One loop turn that does not wait for lws' next timer. */
static void turn(void)
{
    lws_cancel_service(D.lws);
    if (depot_server_turn(&D)) abort();
}

/* Work the API has started and not answered yet: a reader job, a station's answer, a plan, a commit. */
static bool api_busy(void)
{
    struct api *a = D.api;
    return a->waiting || a->held || a->dep_waits || D.posted_head;
}

/* Reads what the API answered; true while bytes come. */
static bool drain(int fd, size_t *got, bool *eof)
{
    char buf[16384];
    bool any = false;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            *got += (size_t)n;
            any = true;
            continue;
        }
        if (n == 0) *eof = true;
        return any;
    }
}

/* The input reaches lws as one accepted connection's bytes; the loop turns until the API closes the connection
 * (it does after every answer), or 3 s pass (a command waits call_timeout_s for a station that is not there),
 * or, unless until_close, the API is idle and quiet for a few milliseconds (an incomplete request waits for
 * bytes that never come: on a loaded machine this may cut an answer short, which costs coverage, not
 * correctness). Then the client hangs up. */
static size_t serve(const uint8_t *data, size_t size, bool until_close)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) abort();
    if (!lws_adopt_socket_vhost(D.api->vhost, sv[0])) abort(); /* lws owns sv[0] now */
    size_t off = 0, got = 0;
    bool eof = false;
    int64_t start = now_ms(), quiet_since = start;
    while (!eof && now_ms() - start < 3000) {
        if (off < size) {
            ssize_t n = write(sv[1], data + off, size - off);
            if (n > 0) off += (size_t)n;
            else if (errno != EAGAIN) break;
        }
        turn();
        if (drain(sv[1], &got, &eof) || api_busy() || off < size) quiet_since = now_ms();
        else if (!until_close && now_ms() - quiet_since >= 3) break;
        else usleep(200);
    }
    close(sv[1]);
    /* lws closes the connection when it sees the hang-up, or (a half-closed client may still read) once the
     * answer parked for its commit or the reader is written; after that nothing of it may stay on the API's
     * lists, where a late result would find freed memory. 30 s: after an hour of fuzzing the event log is large
     * and a filtered events scan on the reader took over 5 s. */
    int64_t closing = now_ms();
    for (int i = 0; i < 4 || ((D.api->waiting || D.api->held) && now_ms() - closing < 30000); i++) {
        turn();
        if (i >= 4) usleep(200);
    }
    if (D.api->waiting || D.api->held) {
        fprintf(stderr, "fuzz_api: a request of a closed connection is still %s\n", D.api->waiting ? "waiting" : "held");
        abort();
    }
    return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long inputs;
    if (!D.store) setup();
    if (getenv("FUZZ_API_TRACE")) fprintf(stderr, "input %lu: %.*s\n---\n", inputs, (int)size, (const char *)data);
    serve(data, size, false);
    /* Whatever came before, the API still answers a plain request. */
    if (++inputs % 64 == 0) {
        static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        if (!serve((const uint8_t *)probe, sizeof probe - 1, true)) {
            fprintf(stderr, "fuzz_api: the API stopped answering after input %lu\n", inputs);
            abort();
        }
    }
    return 0;
}
