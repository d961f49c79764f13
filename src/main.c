/* depotd: the depot's OCPP 2.0.1 central system. Start-up, signals, shutdown. */
#include <curl/curl.h>
#include <getopt.h>
#include <libxml/parser.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "api.h"
#include "control.h"
#include "depot.h"
#include "log.h"
#include "prices.h"
#include "site_load.h"

#ifndef DEPOTD_VERSION
#define DEPOTD_VERSION "dev"
#endif

static struct depot depot;

static void on_signal(int sig)
{
    (void)sig;
    /* Only a flag and a wake-up: lws_cancel_service() writes to the loop's event pipe, which is safe here. */
    depot.stop = 1;
    if (depot.lws) lws_cancel_service(depot.lws);
}

static void on_hangup(int sig)
{
    (void)sig;
    depot.reload_tls = 1;
    if (depot.lws) lws_cancel_service(depot.lws);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: depotd [options]\n"
            "  -c, --config FILE          JSON config (see examples/depotd.json, `--config-doc`)\n"
            "  -d, --database FILE        SQLite database (overrides the config's `database`)\n"
            "  -l, --log-level LEVEL      error, warn, info or debug (overrides the config)\n"
            "  -p, --port N               OCPP port (overrides the config; 0 picks a free port)\n"
            "      --rebuild-projections  rebuild every projection from the event log, then exit\n"
            "      --hash-password        read a password on stdin, print its hash for the config, exit\n"
            "      --config-doc           print every config key with its default and meaning, exit\n"
            "      --replay-plan N        re-solve plan N from the event log (-d) and compare, exit 0 if the same\n"
            "  -V, --version              print the version, exit\n"
            "  -h, --help                 this text\n");
}

/* The config in force goes into the event log whenever it differs from the last one recorded, so every
 * later decision can be traced to the settings it was made under. Credentials are left out (config_redact). */
static void record_config(struct depot *d, const char *path)
{
    char *text = NULL;
    FILE *f = path ? fopen(path, "rb") : NULL;
    cJSON *cfg = NULL;
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = n > 0 ? malloc((size_t)n + 1) : NULL;
        if (text && fread(text, 1, (size_t)n, f) == (size_t)n) {
            text[n] = 0;
            cfg = cJSON_Parse(text);
        }
        free(text);
        fclose(f);
    }
    if (!cfg) cfg = cJSON_CreateObject();
    config_redact(cfg);
    cJSON_AddStringToObject(cfg, "_database", d->cfg.database);
    char *json = cJSON_PrintUnformatted(cfg);
    char *last = store_last_event_data(d->store, STORE_EV_CONFIG);
    if (json && (!last || strcmp(last, json) != 0)) {
        struct store_event ev = {.time_ms = depot_wall_ms(), .type = STORE_EV_CONFIG, .data = json};
        store_append(d->store, &ev);
        log_info("main", NULL, "configuration changed since the last start: recorded in the event log");
    }
    free(last);
    cJSON_free(json);
    cJSON_Delete(cfg);
}

static int hash_password(const struct config *cfg)
{
    char pw[256];
    if (isatty(STDIN_FILENO)) fprintf(stderr, "password: ");
    if (!fgets(pw, sizeof pw, stdin)) return 1;
    pw[strcspn(pw, "\r\n")] = 0;
    /* OCPP 2.0.1 A00.FR.205 (security profile 1): 16 to 40 characters. */
    if (strlen(pw) < 16 || strlen(pw) > 40) fprintf(stderr, "warning: OCPP asks for passwords of 16 to 40 characters\n");
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(pw, cfg->pbkdf2_iterations, hash, sizeof hash)) return 1;
    printf("%s\n", hash);
    return 0;
}

/* What the command line asked for. */
struct args {
    const char *config_path, *db_path, *level, *port, *replay;
    bool rebuild, hash;
};

/* -1 to go on, or the exit code (--help, --version, --config-doc, a wrong option). */
static int parse_args(int argc, char **argv, struct args *a)
{
    enum { OPT_REBUILD = 1000, OPT_HASH, OPT_DOC, OPT_REPLAY };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"database", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'l'}, {"port", required_argument, NULL, 'p'},
        {"rebuild-projections", no_argument, NULL, OPT_REBUILD},
        {"hash-password", no_argument, NULL, OPT_HASH}, {"config-doc", no_argument, NULL, OPT_DOC},
        {"replay-plan", required_argument, NULL, OPT_REPLAY},
        {"version", no_argument, NULL, 'V'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:d:l:p:Vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': a->config_path = optarg; break;
        case 'd': a->db_path = optarg; break;
        case 'l': a->level = optarg; break;
        case 'p': a->port = optarg; break;
        case OPT_REBUILD: a->rebuild = true; break;
        case OPT_HASH: a->hash = true; break;
        case OPT_DOC: config_print_doc(); control_print_doc(); return 0;
        case OPT_REPLAY: a->replay = optarg; break;
        case 'V': printf("depotd %s\n", DEPOTD_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "depotd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The config file with the command line's overrides into d->cfg; 0, or 2 after saying what is wrong. */
static int configure(struct depot *d, const struct args *a)
{
    char err[512];
    config_defaults(&d->cfg);
    if (a->config_path && config_load(&d->cfg, a->config_path, err, sizeof err)) {
        fprintf(stderr, "depotd: config error: %s\n", err);
        return 2;
    }
    if (a->db_path) snprintf(d->cfg.database, sizeof d->cfg.database, "%s", a->db_path);
    if (a->level) snprintf(d->cfg.log_level, sizeof d->cfg.log_level, "%s", a->level);
    if (a->port) {
        char *end;
        long p = strtol(a->port, &end, 10);
        if (*end || p < 0 || p > 65535) {
            fprintf(stderr, "depotd: --port: not a port number: %s\n", a->port);
            return 2;
        }
        d->cfg.port = (int)p;
    }
    enum log_level ll;
    if (log_level_parse(d->cfg.log_level, &ll)) {
        fprintf(stderr, "depotd: log_level: unknown level \"%s\" (error, warn, info, debug)\n", d->cfg.log_level);
        return 2;
    }
    log_set_level(ll);
    return 0;
}

/* The one-shot commands that work on the database and leave: --replay-plan, --rebuild-projections. */
static int run_offline(struct depot *d, const struct args *a)
{
    if (a->replay) {
        char *end;
        unsigned long long n = strtoull(a->replay, &end, 10);
        if (*end || !n) {
            fprintf(stderr, "depotd: --replay-plan: a plan number, got '%s'\n", a->replay);
            return 2;
        }
        return control_replay_plan(d->cfg.database, n, stdout);
    }
    char err[512];
    if (store_rebuild_projections(d->cfg.database, err, sizeof err)) {
        log_error("store", NULL, "rebuild failed: %s", err);
        return 1;
    }
    log_info("store", NULL, "projections rebuilt from the event log of %s", d->cfg.database);
    return 0;
}

/* Opens the store, starts every part in order, serves until a signal, and stops them; the exit code. */
static int serve(struct depot *d, const char *config_path)
{
    char err[512];
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hangup;
    sigaction(SIGHUP, &sa, NULL);
    /* Global library state, set up before any worker thread exists (tariffs.h). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();

    int rc = 1;
    d->store = store_open(d->cfg.database, depot_wake_loop, d, err, sizeof err);
    if (!d->store) {
        log_error("store", NULL, "cannot open the store: %s", err);
        goto out;
    }
    store_set_watermarks(d->store, (int64_t)d->cfg.disk_warn_free_mb << 20, (int64_t)d->cfg.disk_min_free_mb << 20);
    store_set_retention(d->store, (int64_t)d->cfg.keep_frames_days * 86400000);
    depot_log_disk(d);
    if (depot_load_stations(d, err, sizeof err)) {
        log_error("main", NULL, "%s", err);
        goto out;
    }
    for (size_t i = 0; i < d->cfg.n_stations; i++)
        if (!d->cfg.stations[i].password_hash[0] && config_station_profile(&d->cfg, &d->cfg.stations[i]) < 3)
            log_warn("main", d->cfg.stations[i].id, "no password_hash: this station connects without authentication");
    record_config(d, config_path);
    struct store_event start = {.time_ms = depot_wall_ms(), .type = STORE_EV_START, .data = "{\"version\":\"" DEPOTD_VERSION "\"}"};
    store_append(d->store, &start);
    log_info("main", NULL, "depotd %s: %zu stations known, %d transactions active, database %s (schema v%d)",
             DEPOTD_VERSION, d->n_stations, store_count_active_transactions(d->store), d->cfg.database,
             store_schema_version());
    if (depot_clock_configure(d->cfg.clock, err, sizeof err) || prices_start(d, err, sizeof err) ||
        site_load_start(d, err, sizeof err) || control_start(d, err, sizeof err)) {
        log_error("main", NULL, "config error: %s", err);
        goto out;
    }
    d->doors = doors_new();
    if (!d->doors || depot_pw_start(d, err, sizeof err)) {
        log_error("main", NULL, "cannot start the password workers: %s", d->doors ? err : "out of memory");
        goto out;
    }
    if (depot_server_start(d, err, sizeof err)) {
        log_error("main", NULL, "%s", err);
        goto out;
    }
    if (api_start(d, err, sizeof err)) {
        log_error("main", NULL, "config error: %s", err);
        depot_server_stop(d);
        goto out;
    }
    control_loop_started(d);
    depot_server_run(d);
    log_info("main", NULL, "shutting down");
    struct store_event stop = {.time_ms = depot_wall_ms(), .type = STORE_EV_STOP, .data = "{}"};
    store_append(d->store, &stop);
    api_stop(d);
    control_stop(d);
    site_load_stop(d);
    prices_stop(d);
    depot_pw_stop(d); /* its last verdicts are run by depot_server_stop with the other posted work */
    depot_server_stop(d);
    rc = 0;
out:
    api_stop(d);
    control_stop(d);
    site_load_stop(d);
    prices_stop(d);
    depot_pw_stop(d);
    doors_free(d->doors);
    d->doors = NULL;
    if (d->store && store_close(d->store)) {
        log_error("store", NULL, "some events could not be committed");
        rc = 1;
    }
    config_free(&d->cfg);
    xmlCleanupParser();
    curl_global_cleanup();
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    struct depot *d = &depot;
    pthread_mutex_init(&d->post_mu, NULL);
    if ((rc = configure(d, &a))) return rc;
    if (a.hash) return hash_password(&d->cfg);
    if (a.replay || a.rebuild) return run_offline(d, &a);
    return serve(d, a.config_path);
}
