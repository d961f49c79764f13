/* depotsim: command line. `run` simulates a depot against a CSMS; `load` and `conform` are listed
 * in --help with their state. */
#include "baseline.h"
#include "conform.h"
#include "probe.h"
#include "load.h"
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

static void usage(FILE *o)
{
    fprintf(o,
            "usage: depotsim run --csms ws://127.0.0.1:PORT/ocpp --depot FILE (--scenario FILE | --acn FILE)\n"
            "                    [--from RFC3339 --hours H] [--speed X] [--meter-interval S] [--json FILE]\n"
            "                    [--prices CSV] [--grid-limit-kw KW] [--progress] [--seed N] [--max-real-seconds S]\n"
            "                    [--fault-reject-profiles F] [--fault-drop F] [--fault-offline F]\n"
            "                    [--offline-minutes M] [--drop-delay-ms MS] [--fault-silent F] [--fault-malformed F]\n"
            "                    (a dropped or offline station reconnects WITHOUT BootNotification: it did not\n"
            "                    reboot; it goes on Accepted, sends its offline TransactionEvents, keeps its\n"
            "                    profiles, and boots only if the CSMS answers SecurityError)\n"
            "                    [--reboot-on-reconnect] BootNotification on every connection instead\n"
            "                    [--fault-skew F --skew-seconds S] [--fault-clock-offset S] [--fault-late F --late-ms MS]\n"
            "                    [--fault-ignore-profiles F] accept profiles, draw at full power anyway\n"
            "                    [--fault-wrong-composite F] GetCompositeSchedule answers the hardware maximum\n"
            "                    (F: fraction of the stations, chosen by --seed; the chosen ones are named on\n"
            "                    stderr at start)\n"
            "                    [--clock-anchor UNIX_MS] simulated time = scenario start + (wall clock now in\n"
            "                    Unix ms - UNIX_MS) x speed, the formula depotd gets too; before the anchor the\n"
            "                    stations connect and boot but the scenario waits\n"
            "                    [--baseline] after the run, compare with uncontrolled charging (table, --json)\n"
            "                    [--table] [--table-minutes N] a row per N (15) simulated minutes: stations, EVs\n"
            "                    plugged / charging, site kW, limit, price, EVs that can no longer make it, cost\n"
            "                    [--tick-ms MS] real ms per simulation step (default: a simulated minute, 10..100)\n"
            "                    [--site-load CSV] the building's load on the same connection (time,kW rows):\n"
            "                    counted with the chargers against the limit; the baseline shares what it leaves\n"
            "       depotsim baseline --depot FILE (--scenario FILE | --acn FILE [--from RFC3339 --hours H])\n"
            "                    [--prices CSV] [--grid-limit-kw KW] [--step-seconds S] [--json FILE] [--site-load CSV]\n"
            "                    uncontrolled charging, offline: every EV at full power from arrival, the site\n"
            "                    limit shared equally; prints the same summary as run\n"
            "       depotsim load --csms URL [--stations K] [--rate R] [--seconds S] [--message Heartbeat|MeterValues]\n"
            "                    [--id-prefix P] [--password PW] [--connect-batch N] [--connect-timeout S]\n"
            "                    [--call-timeout S] [--no-validate] [--json]\n"
            "                    K stations (ids P00001..) send R messages/s each for S s; exit 1 on any failure\n"
            "       depotsim conform --csms URL --id ID [--password PW] [--pending-id ID --pending-password PW]\n"
            "                    [--rejected-id ID --rejected-password PW] [--id-token T] [--wait S]\n"
            "                    [--periods-per-schedule N] [--rate-unit A|W] [--only NAME] [--json FILE]\n"
            "                    [--junit FILE] (JUnit XML: a testcase per scenario, for CI systems)\n"
            "                    [--trigger PROGRAM] (the operator's part of a test case: run as PROGRAM TC STATION\n"
            "                    ACTION REQUEST_JSON; exit 0 when the CSMS took the request)\n"
            "                    the conformance catalogue; exit 1 on any FAIL (SKIPs say why)\n"
            "       depotsim probe --listen ws://127.0.0.1:PORT/ocpp/ [--station ID] [--password PW] [--wait S]\n"
            "                    [--tolerance PCT] [--reaction S] [--offline S] [--id-token T] [--json FILE]\n"
            "                    [--junit FILE]\n"
            "                    depotsim as a CSMS test bench: waits for a charger (PORT 0: any, said on stderr)\n"
            "                    and walks it through boot, device model, a remote start, profiles, its\n"
            "                    composite schedule, the limit followed, offline, stop, availability and reset;\n"
            "                    exit 1 on any FAIL\n"
            "TLS (run, load, conform): a wss:// URL, [--ca PEM] the CA the CSMS certificate must chain to\n"
            "                    (default: the system's), [--cert PEM --key PEM] a client certificate (security\n"
            "                    profile 3; its subject CN is the station id)\n"
            "Simulated time: --speed 60 runs one simulated minute per real second; every timestamp the\n"
            "stations send and every schedule they apply uses the simulated clock.\n");
}

/* ws://host:port/path or wss://...: host and path buffers of 128 and 256 bytes. */
int sim_parse_url(const char *url, char *host, int *port, char *path, bool *tls)
{
    const char *p = url;
    *tls = strncmp(p, "wss://", 6) == 0;
    if (!*tls && strncmp(p, "ws://", 5) != 0)
        return -1;
    p += *tls ? 6 : 5;
    const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
    if (!colon || (slash && slash < colon) || colon - p >= 128)
        return -1;
    snprintf(host, 128, "%.*s", (int)(colon - p), p);
    *port = atoi(colon + 1);
    snprintf(path, 256, "%s", slash ? slash : "");
    size_t l = strlen(path);
    if (l && path[l - 1] == '/')
        path[l - 1] = '\0';
    return *port > 0 && *port < 65536 ? 0 : -1;
}

static int parse_url(const char *url, struct sim_options *o)
{
    return sim_parse_url(url, o->host, &o->port, o->path, &o->tls.on) || sim_tls_check(&o->tls);
}

static int cmd_load(int argc, char **argv)
{
    struct sim_load_options o = {.rate = 1, .seconds = 10, .connect_batch = 200, .connect_timeout_s = 120,
                                 .call_timeout_s = 10, .validate = true, .stations = 100};
    snprintf(o.id_prefix, sizeof o.id_prefix, "LOAD");
    const char *url = NULL;
    bool json = false;
    static const struct option lo[] = {
        {"csms", 1, 0, 'c'}, {"stations", 1, 0, 'k'}, {"rate", 1, 0, 'r'}, {"seconds", 1, 0, 's'},
        {"message", 1, 0, 'm'}, {"id-prefix", 1, 0, 'i'}, {"password", 1, 0, 'p'}, {"connect-batch", 1, 0, 'b'},
        {"connect-timeout", 1, 0, 'T'}, {"call-timeout", 1, 0, 't'}, {"no-validate", 0, 0, 'n'},
        {"json", 0, 0, 'j'}, SIM_TLS_OPTIONS, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'c': url = optarg; break;
        case 'k': o.stations = atoi(optarg); break;
        case 'r': o.rate = atof(optarg); break;
        case 's': o.seconds = atof(optarg); break;
        case 'm':
            if (strcmp(optarg, "Heartbeat") && strcmp(optarg, "MeterValues")) {
                fprintf(stderr, "depotsim load: --message is Heartbeat or MeterValues\n");
                return 2;
            }
            o.meter_values = strcmp(optarg, "MeterValues") == 0;
            break;
        case 'i': snprintf(o.id_prefix, sizeof o.id_prefix, "%s", optarg); break;
        case 'p': snprintf(o.password, sizeof o.password, "%s", optarg); break;
        case 'b': o.connect_batch = atoi(optarg); break;
        case 'T': o.connect_timeout_s = atof(optarg); break;
        case 't': o.call_timeout_s = atof(optarg); break;
        case 'n': o.validate = false; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default:
            if (sim_tls_option(c, optarg, &o.tls))
                break;
            usage(stderr);
            return 2;
        }
    }
    if (!url || sim_parse_url(url, o.host, &o.port, o.path, &o.tls.on) || sim_tls_check(&o.tls)) {
        usage(stderr);
        return 2;
    }
    struct sim_load_result r;
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    if (sim_load_run(&o, &r, err, sizeof err) != 0) {
        fprintf(stderr, "depotsim load: %s\n", err);
        return 2;
    }
    sim_load_print(&o, &r, json, stdout);
    return r.callerrors + r.timeouts + r.invalid + r.not_sent ? 1 : 0;
}

/* splitmix64: small, seeded, reproducible. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* What run and baseline both read: depot, visits (scenario or ACN), prices. */
struct inputs {
    const char *depot_path, *scenario_path, *acn_path, *from, *prices_path, *site_load_path;
    double hours;
    struct sim_depot *depot;
    struct sim_scenario *sc;
    struct sim_prices prices;
    struct sim_prices site_load; /* the building's kW (--site-load), n = 0 without */
};

static void inputs_free(struct inputs *in)
{
    sim_prices_free(&in->prices);
    sim_prices_free(&in->site_load);
    sim_scenario_free(in->sc);
    sim_depot_free(in->depot);
    in->sc = NULL;
    in->depot = NULL;
}

/* 0, or 2 (the usage exit code) after saying what is wrong on stderr. */
static int inputs_load(struct inputs *in)
{
    char err[512] = "";
    if (!in->depot_path || !in->scenario_path == !in->acn_path || in->hours <= 0) {
        usage(stderr);
        return 2;
    }
    int64_t f = 0;
    if (in->from && sim_time_parse(in->from, &f)) {
        fprintf(stderr, "depotsim: --from is not an RFC 3339 date-time\n");
        return 2;
    }
    in->depot = sim_depot_load(in->depot_path, err, sizeof err);
    if (in->depot && in->scenario_path)
        in->sc = sim_scenario_load(in->scenario_path, err, sizeof err);
    if (in->depot && in->acn_path)
        in->sc = sim_scenario_load_acn(in->acn_path, f, f ? f + (int64_t)(in->hours * 3600000) : 0, err, sizeof err);
    if (in->sc && in->sc->end_ms <= in->sc->start_ms) {
        snprintf(err, sizeof err, "the scenario has no visits and no start and end");
        sim_scenario_free(in->sc);
        in->sc = NULL;
    }
    if (in->depot && in->sc && in->prices_path && sim_prices_load(in->prices_path, &in->prices, err, sizeof err))
        in->sc = (sim_scenario_free(in->sc), NULL);
    if (in->depot && in->sc && in->site_load_path &&
        sim_prices_load(in->site_load_path, &in->site_load, err, sizeof err))
        in->sc = (sim_scenario_free(in->sc), NULL);
    if (!in->depot || !in->sc) {
        fprintf(stderr, "depotsim: %s\n", err);
        inputs_free(in);
        return 2;
    }
    return 0;
}

/* A number or a clear refusal: these options decide what a run measures. */
static int parse_double(const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v)) {
        fprintf(stderr, "depotsim: %s: not a number: %s\n", opt, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int cmd_baseline(int argc, char **argv)
{
    struct inputs in = {.hours = 24};
    const char *json = NULL;
    double grid_kw = -1, step_s = 60;
    static const struct option lo[] = {
        {"depot", 1, 0, 'd'}, {"scenario", 1, 0, 's'}, {"acn", 1, 0, 'a'}, {"from", 1, 0, 'F'},
        {"hours", 1, 0, 'H'}, {"prices", 1, 0, 'p'}, {"grid-limit-kw", 1, 0, 'g'}, {"step-seconds", 1, 0, 't'},
        {"json", 1, 0, 'j'}, {"site-load", 1, 0, 'b'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'd': in.depot_path = optarg; break;
        case 's': in.scenario_path = optarg; break;
        case 'a': in.acn_path = optarg; break;
        case 'F': in.from = optarg; break;
        case 'H': if (parse_double("--hours", optarg, &in.hours)) return 2; break;
        case 'p': in.prices_path = optarg; break;
        case 'b': in.site_load_path = optarg; break;
        case 'g': if (parse_double("--grid-limit-kw", optarg, &grid_kw)) return 2; break;
        case 't': if (parse_double("--step-seconds", optarg, &step_s)) return 2; break;
        case 'j': json = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || step_s < 1 || step_s > 900) {
        fprintf(stderr, "depotsim baseline: %s\n", optind < argc ? "unexpected argument" : "--step-seconds is 1..900");
        return 2;
    }
    int rc = inputs_load(&in);
    if (rc)
        return rc;
    char err[256];
    struct sim_baseline_options bo = {.grid_limit_w = grid_kw >= 0 ? grid_kw * 1000 : in.depot->grid_limit_w,
                                      .step_ms = (int64_t)(step_s * 1000),
                                      .site_load = in.site_load.n ? &in.site_load : NULL};
    struct sim_report *r = sim_baseline_run(in.depot, in.sc, &bo, err, sizeof err);
    if (!r) {
        fprintf(stderr, "depotsim: %s\n", err);
        inputs_free(&in);
        return 2;
    }
    const struct sim_prices *prices = in.prices.n ? &in.prices : NULL;
    printf("uncontrolled baseline: every EV at full power from arrival, the site limit shared equally\n");
    sim_report_print(r, prices, stdout);
    rc = 0;
    if (json && sim_report_write_json(r, NULL, prices, json, err, sizeof err)) {
        fprintf(stderr, "depotsim: %s\n", err);
        rc = 1;
    }
    sim_report_free(r);
    inputs_free(&in);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    struct sim_world w;
    memset(&w, 0, sizeof w);
    w.opt.speed = 60;
    w.opt.meter_interval_s = 300;
    w.opt.tick_ms = 0; /* after the options: from the speed */
    w.opt.late_ms = 2000;
    w.opt.seed = 1;
    w.opt.max_real_ms = 3600 * 1000;
    w.opt.drop_delay_ms = 3000;
    w.opt.offline_sim_ms = 30 * 60000;
    struct inputs in = {.hours = 24};
    const char *url = NULL, *json = NULL;
    double grid_kw = -1;
    bool baseline = false, table = false;
    int table_minutes = 15;
    static const struct option lo[] = {
        {"csms", 1, 0, 'c'}, {"depot", 1, 0, 'd'}, {"scenario", 1, 0, 's'}, {"acn", 1, 0, 'a'},
        {"from", 1, 0, 'F'}, {"hours", 1, 0, 'H'}, {"speed", 1, 0, 'x'}, {"meter-interval", 1, 0, 'm'},
        {"json", 1, 0, 'j'}, {"prices", 1, 0, 'p'}, {"grid-limit-kw", 1, 0, 'g'}, {"progress", 0, 0, 'P'},
        {"seed", 1, 0, 'S'}, {"max-real-seconds", 1, 0, 'M'}, {"fault-reject-profiles", 1, 0, 'r'},
        {"fault-drop", 1, 0, 'D'}, {"fault-offline", 1, 0, 'O'}, {"offline-minutes", 1, 0, 'o'},
        {"drop-delay-ms", 1, 0, 'y'}, {"fault-silent", 1, 0, 'q'}, {"fault-malformed", 1, 0, 'f'},
        {"fault-skew", 1, 0, 'k'}, {"skew-seconds", 1, 0, 'K'}, {"fault-clock-offset", 1, 0, 'C'}, {"fault-late", 1, 0, 'L'}, {"late-ms", 1, 0, 'l'},
        {"fault-ignore-profiles", 1, 0, 'I'}, {"fault-wrong-composite", 1, 0, 'W'},
        {"clock-anchor", 1, 0, 'A'}, {"baseline", 0, 0, 'B'}, {"table", 0, 0, 't'}, {"table-minutes", 1, 0, 'T'},
        {"tick-ms", 1, 0, 'i'}, {"reboot-on-reconnect", 0, 0, 'R'}, {"site-load", 1, 0, 'b'}, SIM_TLS_OPTIONS,
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'c': url = optarg; break;
        case 'd': in.depot_path = optarg; break;
        case 's': in.scenario_path = optarg; break;
        case 'a': in.acn_path = optarg; break;
        case 'F': in.from = optarg; break;
        case 'H': in.hours = atof(optarg); break;
        case 'x': w.opt.speed = atof(optarg); break;
        case 'm': w.opt.meter_interval_s = atoi(optarg); break;
        case 'j': json = optarg; break;
        case 'p': in.prices_path = optarg; break;
        case 'b': in.site_load_path = optarg; break;
        case 'g': grid_kw = atof(optarg); break;
        case 'P': w.opt.progress = true; break;
        case 'S': w.opt.seed = strtoull(optarg, NULL, 10); break;
        case 'M': w.opt.max_real_ms = (int64_t)(atof(optarg) * 1000); break;
        case 'r': w.opt.f_reject_profiles = atof(optarg); break;
        case 'D': w.opt.f_drop = atof(optarg); break;
        case 'O': w.opt.f_offline = atof(optarg); break;
        case 'o': w.opt.offline_sim_ms = (int64_t)(atof(optarg) * 60000); break;
        case 'y': w.opt.drop_delay_ms = atoll(optarg); break;
        case 'R': w.opt.reboot_on_reconnect = true; break;
        case 'q': w.opt.f_silent = atof(optarg); break;
        case 'f': w.opt.f_malformed = atof(optarg); break;
        case 'k': w.opt.f_skew = atof(optarg); break;
        case 'K': w.opt.skew_ms = (int64_t)(atof(optarg) * 1000); break;
        case 'C':
            /* --fault-clock-offset S: the stations chosen by --fault-skew (all without it) run S seconds off,
             * signed as given (--skew-seconds alternates the sign). */
            w.opt.clock_offset_ms = (int64_t)(atof(optarg) * 1000);
            w.opt.has_clock_offset = true;
            break;
        case 'L': w.opt.f_late = atof(optarg); break;
        case 'l': w.opt.late_ms = atoll(optarg); break;
        case 'I': w.opt.f_ignore_profiles = atof(optarg); break;
        case 'W': w.opt.f_wrong_composite = atof(optarg); break;
        case 'A':
            errno = 0;
            w.opt.anchor_unix_ms = strtoll(optarg, &end, 10);
            /* Milliseconds, not seconds: a 10-digit value is a mistake that would put the anchor in 1970. */
            if (end == optarg || *end || errno || w.opt.anchor_unix_ms < 100000000000LL) {
                fprintf(stderr, "depotsim: --clock-anchor is Unix time in milliseconds (13 digits), got %s\n", optarg);
                return 2;
            }
            w.opt.has_anchor = true;
            break;
        case 'i':
            w.opt.tick_ms = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || w.opt.tick_ms < 1 || w.opt.tick_ms > 1000) {
                fprintf(stderr, "depotsim: --tick-ms is 1..1000\n");
                return 2;
            }
            break;
        case 'B': baseline = true; break;
        case 't': table = true; break;
        case 'T':
            table = true;
            table_minutes = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || table_minutes < 1 || table_minutes > 1440) {
                fprintf(stderr, "depotsim: --table-minutes is 1..1440\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default:
            if (sim_tls_option(c, optarg, &w.opt.tls))
                break;
            usage(stderr);
            return 2;
        }
    }
    if (!url || parse_url(url, &w.opt) || w.opt.speed <= 0 || w.opt.speed > 100000 || w.opt.meter_interval_s < 1) {
        usage(stderr);
        return 2;
    }
    /* A step of at most a simulated minute (10..100 real ms): at high speed an EV still plugs in, and a new
     * profile still takes effect, within a minute of when it should, as the baseline's 1-minute steps assume. */
    if (!w.opt.tick_ms) {
        double ms = 60000.0 / w.opt.speed;
        w.opt.tick_ms = ms > 100 ? 100 : ms < 10 ? 10 : (int)ms;
    }
    int rc = inputs_load(&in);
    if (rc)
        return rc;
    const struct sim_depot *depot = in.depot;
    const struct sim_scenario *sc = in.sc;
    const struct sim_prices *prices = in.prices.n ? &in.prices : NULL;
    char err[512] = "";
    rc = 2;
    w.depot = depot;
    w.scenario = sc;
    w.prices = prices;
    w.clock.sim_start_ms = sc->start_ms;
    w.clock.speed = w.opt.speed;
    w.opt.run_until_sim = sc->end_ms;
    w.opt.grid_limit_w = grid_kw >= 0 ? grid_kw * 1000 : depot->grid_limit_w;
    w.opt.table_minutes = table ? table_minutes : 0;
    w.opt.table_out = stdout;
    if (w.opt.has_anchor) {
        int64_t wall = sim_wall_ms();
        double late_s = (double)(wall - w.opt.anchor_unix_ms) / 1000.0;
        char tb[32];
        if (sc->start_ms + late_s * 1000.0 * w.opt.speed >= (double)sc->end_ms) {
            fprintf(stderr, "depotsim: --clock-anchor is %.1f s in the past: the scenario would already be over\n",
                    late_s);
            goto out;
        }
        fprintf(stderr, "depotsim: clock: %s at Unix ms %lld, speed %g (%s %.1f s)\n",
                sim_time_format(sc->start_ms, tb), (long long)w.opt.anchor_unix_ms, w.opt.speed,
                late_s <= 0 ? "starts in" : "started", late_s <= 0 ? -late_s : late_s);
        if (late_s > 1.0)
            fprintf(stderr, "depotsim: the anchor is in the past: visits before %s arrive late\n",
                    sim_time_format(sc->start_ms + (int64_t)(late_s * 1000.0 * w.opt.speed), tb));
    }
    w.report = sim_report_new(sc->start_ms, sc->end_ms, w.opt.grid_limit_w);
    w.nstations = depot->n;
    w.stations = calloc((size_t)depot->n, sizeof *w.stations);
    if (w.report) sim_report_set_site_load(w.report, in.site_load.n ? &in.site_load : NULL);
    if (!w.report || !w.stations || sim_report_set_circuits(w.report, depot->circuits, depot->ncircuits)) {
        fprintf(stderr, "depotsim: scenario too long or out of memory\n");
        goto out;
    }
    uint64_t seed = w.opt.seed;
    for (int i = 0; i < depot->n; i++) {
        struct sim_station *st = &w.stations[i];
        sim_station_init(st, &w, i, &depot->stations[i]);
        st->fault_reject_profiles = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_reject_profiles;
        st->fault_drop = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_drop;
        st->fault_offline = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_offline;
        st->fault_silent = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_silent;
        st->fault_malformed = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_malformed;
        bool skewed = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_skew;
        if (skewed)
            st->skew_ms = rnd(&seed) & 1 ? w.opt.skew_ms : -w.opt.skew_ms;
        if (w.opt.has_clock_offset && (w.opt.f_skew == 0 || skewed))
            st->skew_ms = w.opt.clock_offset_ms;
        /* Drawn only when asked for, so the seeds of earlier runs keep giving the same fleet. */
        if (w.opt.f_late > 0)
            st->fault_late = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_late;
        if (w.opt.f_ignore_profiles > 0)
            st->fault_ignore_profiles = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_ignore_profiles;
        if (w.opt.f_wrong_composite > 0)
            st->fault_wrong_composite = (double)(rnd(&seed) >> 11) / 9007199254740992.0 < w.opt.f_wrong_composite;
        /* Named, so a test can check that depotd singled out the right stations. */
        if (st->fault_ignore_profiles)
            fprintf(stderr, "depotsim: fault: %s ignores charging profiles\n", st->cfg->id);
        if (st->fault_wrong_composite)
            fprintf(stderr, "depotsim: fault: %s answers a wrong composite schedule\n", st->cfg->id);
        if (st->skew_ms)
            fprintf(stderr, "depotsim: fault: %s clock %+lld s\n", st->cfg->id, (long long)(st->skew_ms / 1000));
    }
    signal(SIGPIPE, SIG_IGN);
    if (sim_run(&w) != 0) {
        fprintf(stderr, "depotsim: cannot create the websocket context\n");
        goto out;
    }
    if (w.opt.table_minutes)
        printf("\n");
    sim_report_print(w.report, prices, stdout);
    struct sim_report *base = NULL;
    if (baseline) {
        /* The same depot, visits, prices and limit, with nobody in control. */
        struct sim_baseline_options bo = {.grid_limit_w = w.opt.grid_limit_w, .step_ms = 60000,
                                          .site_load = in.site_load.n ? &in.site_load : NULL};
        base = sim_baseline_run(depot, sc, &bo, err, sizeof err);
        if (!base) {
            fprintf(stderr, "depotsim: %s\n", err);
            goto out;
        }
        sim_report_print_comparison(w.report, base, prices, stdout);
    }
    rc = 0;
    if (json && sim_report_write_json(w.report, base, prices, json, err, sizeof err)) {
        fprintf(stderr, "depotsim: %s\n", err);
        rc = 1;
    }
    sim_report_free(base);
out:
    for (int i = 0; w.stations && i < w.nstations; i++)
        sim_station_free(&w.stations[i]);
    free(w.stations);
    sim_report_free(w.report);
    inputs_free(&in);
    return rc;
}

static int cmd_conform(int argc, char **argv)
{
    struct cf_options o = {.wait_s = 5, .periods_per_schedule = 24};
    snprintf(o.id_token, sizeof o.id_token, "CONFORM-TOKEN");
    const char *url = NULL;
    static const struct option lo[] = {
        {"csms", 1, 0, 'c'}, {"id", 1, 0, 'i'}, {"password", 1, 0, 'p'}, {"pending-id", 1, 0, 'I'},
        {"pending-password", 1, 0, 'P'}, {"rejected-id", 1, 0, 'r'}, {"rejected-password", 1, 0, 'R'},
        {"id-token", 1, 0, 't'}, {"wait", 1, 0, 'w'}, {"periods-per-schedule", 1, 0, 'n'},
        {"rate-unit", 1, 0, 'u'}, {"only", 1, 0, 'o'}, {"json", 1, 0, 'j'}, {"junit", 1, 0, 'J'}, {"trigger", 1, 0, 'T'}, SIM_TLS_OPTIONS,
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'c': url = optarg; break;
        case 'i': snprintf(o.id, sizeof o.id, "%s", optarg); break;
        case 'p': snprintf(o.password, sizeof o.password, "%s", optarg); break;
        case 'I': snprintf(o.pending_id, sizeof o.pending_id, "%s", optarg); break;
        case 'P': snprintf(o.pending_password, sizeof o.pending_password, "%s", optarg); break;
        case 'r': snprintf(o.rejected_id, sizeof o.rejected_id, "%s", optarg); break;
        case 'R': snprintf(o.rejected_password, sizeof o.rejected_password, "%s", optarg); break;
        case 't': snprintf(o.id_token, sizeof o.id_token, "%s", optarg); break;
        case 'w': o.wait_s = atof(optarg); break;
        case 'n': o.periods_per_schedule = atoi(optarg); break;
        case 'u': o.rate_unit_w = strcmp(optarg, "W") == 0; break;
        case 'o': o.only = optarg; break;
        case 'j': o.json_path = optarg; break;
        case 'J': o.junit_path = optarg; break;
        case 'T': o.trigger = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            if (sim_tls_option(c, optarg, &o.tls))
                break;
            usage(stderr);
            return 2;
        }
    }
    if (!url || !o.id[0] || o.wait_s <= 0 || o.wait_s > 600 || o.periods_per_schedule < 1 ||
        sim_parse_url(url, o.host, &o.port, o.path, &o.tls.on) || sim_tls_check(&o.tls)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return sim_conform_run(&o);
}

static int cmd_probe(int argc, char **argv)
{
    struct pr_options o = {.wait_s = 10, .tolerance_pct = 5, .reaction_s = 10, .offline_s = 5};
    snprintf(o.id_token, sizeof o.id_token, "PROBE-TOKEN");
    const char *url = NULL;
    static const struct option lo[] = {
        {"listen", 1, 0, 'l'}, {"station", 1, 0, 's'}, {"password", 1, 0, 'p'}, {"id-token", 1, 0, 't'},
        {"wait", 1, 0, 'w'}, {"tolerance", 1, 0, 'T'}, {"reaction", 1, 0, 'r'}, {"offline", 1, 0, 'o'},
        {"json", 1, 0, 'j'}, {"junit", 1, 0, 'J'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'l': url = optarg; break;
        case 's': snprintf(o.station, sizeof o.station, "%s", optarg); break;
        case 'p': snprintf(o.password, sizeof o.password, "%s", optarg); break;
        case 't': snprintf(o.id_token, sizeof o.id_token, "%s", optarg); break;
        case 'w': o.wait_s = atof(optarg); break;
        case 'T': o.tolerance_pct = atof(optarg); break;
        case 'r': o.reaction_s = atof(optarg); break;
        case 'o': o.offline_s = atof(optarg); break;
        case 'j': o.json_path = optarg; break;
        case 'J': o.junit_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    /* Loopback only, plain ws://, port 0 for any free one. */
    char path[256] = "";
    int end = 0;
    if (!url || sscanf(url, "ws://127.0.0.1:%d%n", &o.port, &end) != 1 || o.port < 0 || o.port > 65535 ||
        (url[end] && url[end] != '/') || snprintf(path, sizeof path, "%s", url + end) >= (int)sizeof o.path - 1 ||
        o.wait_s <= 0 || o.wait_s > 600 || o.tolerance_pct < 0 || o.reaction_s < 0 || o.offline_s < 1) {
        fprintf(stderr, "depotsim probe: --listen ws://127.0.0.1:PORT/PATH/ (loopback, no TLS), --wait 0..600 s\n");
        usage(stderr);
        return 2;
    }
    snprintf(o.path, sizeof o.path, "%s%s", path[0] ? path : "/", path[0] && path[strlen(path) - 1] == '/' ? "" : "/");
    signal(SIGPIPE, SIG_IGN);
    return sim_probe_run(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "baseline") == 0)
        return cmd_baseline(argc - 1, argv + 1);
    if (strcmp(argv[1], "load") == 0)
        return cmd_load(argc - 1, argv + 1);
    if (strcmp(argv[1], "conform") == 0)
        return cmd_conform(argc - 1, argv + 1);
    if (strcmp(argv[1], "probe") == 0)
        return cmd_probe(argc - 1, argv + 1);
    usage(stderr);
    return 2;
}
