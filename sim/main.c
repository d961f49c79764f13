/* depotsim: command line. `run` simulates a depot against a CSMS; `load` and `conform` are listed
 * in --help with their state. */
#include "baseline.h"
#include "conform.h"
#include "probe.h"
#include "load.h"
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

void sim_usage(FILE *o)
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
            "       depotsim probe --listen ws://IPV4:PORT/ocpp/ [--station ID] [--password PW] [--wait S]\n"
            "                    [--tolerance PCT] [--reaction S] [--offline S] [--id-token T] [--json FILE]\n"
            "                    [--junit FILE]; wss://IPV4:PORT/ocpp/ --cert PEM --key PEM (the probe's\n"
            "                    certificate) [--ca PEM] (stations must show a certificate of this CA)\n"
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

int sim_parse_options_url(const char *url, struct sim_options *o)
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
        case 'h': sim_usage(stdout); return 0;
        default:
            if (sim_tls_option(c, optarg, &o.tls))
                break;
            sim_usage(stderr);
            return 2;
        }
    }
    if (!url || sim_parse_url(url, o.host, &o.port, o.path, &o.tls.on) || sim_tls_check(&o.tls)) {
        sim_usage(stderr);
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
        case 'h': sim_usage(stdout); return 0;
        default:
            if (sim_tls_option(c, optarg, &o.tls))
                break;
            sim_usage(stderr);
            return 2;
        }
    }
    if (!url || !o.id[0] || o.wait_s <= 0 || o.wait_s > 600 || o.periods_per_schedule < 1 ||
        sim_parse_url(url, o.host, &o.port, o.path, &o.tls.on) || sim_tls_check(&o.tls)) {
        sim_usage(stderr);
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
        {"json", 1, 0, 'j'}, {"junit", 1, 0, 'J'}, SIM_TLS_OPTIONS, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
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
        case 'h': sim_usage(stdout); return 0;
        default:
            if (sim_tls_option(c, optarg, &o.tls))
                break;
            sim_usage(stderr);
            return 2;
        }
    }
    /* ws[s]://IPV4:PORT/PATH/, port 0 for any free one; wss:// needs the probe's certificate and key. */
    char path[256] = "";
    int end = 0;
    struct in_addr addr;
    o.tls.on = url && strncmp(url, "wss://", 6) == 0;
    const char *hp = url ? url + (o.tls.on ? 6 : 5) : NULL;
    if (!url || (!o.tls.on && strncmp(url, "ws://", 5) != 0) ||
        sscanf(hp, "%63[0-9.]:%d%n", o.host, &o.port, &end) != 2 || inet_pton(AF_INET, o.host, &addr) != 1 ||
        o.port < 0 || o.port > 65535 || (hp[end] && hp[end] != '/') ||
        snprintf(path, sizeof path, "%s", hp + end) >= (int)sizeof o.path - 1 || o.wait_s <= 0 || o.wait_s > 600 ||
        o.tolerance_pct < 0 || o.reaction_s < 0 || o.offline_s < 1 || sim_tls_check(&o.tls) ||
        (o.tls.on && !o.tls.cert[0])) {
        fprintf(stderr, "depotsim probe: --listen ws[s]://IPV4:PORT/PATH/ (wss:// with --cert and --key, --ca to "
                        "ask stations for a certificate), --wait 0..600 s\n");
        sim_usage(stderr);
        return 2;
    }
    snprintf(o.path, sizeof o.path, "%s%s", path[0] ? path : "/", path[0] && path[strlen(path) - 1] == '/' ? "" : "/");
    signal(SIGPIPE, SIG_IGN);
    return sim_probe_run(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        sim_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return sim_cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "baseline") == 0)
        return sim_cmd_baseline(argc - 1, argv + 1);
    if (strcmp(argv[1], "load") == 0)
        return cmd_load(argc - 1, argv + 1);
    if (strcmp(argv[1], "conform") == 0)
        return cmd_conform(argc - 1, argv + 1);
    if (strcmp(argv[1], "probe") == 0)
        return cmd_probe(argc - 1, argv + 1);
    sim_usage(stderr);
    return 2;
}
