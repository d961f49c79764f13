/*
 * replay.c - `depotsim run` and `depotsim baseline`: a depot's visits (a scenario or the ACN data) replayed, against a
 * CSMS or with nobody in control, and the report of what the cars got.
 */
#include "baseline.h"
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, seeded, reproducible. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* true with probability p. */
static bool draw(uint64_t *seed, double p)
{
    return (double)(rnd(seed) >> 11) / 9007199254740992.0 < p;
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
        sim_usage(stderr);
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

int sim_cmd_baseline(int argc, char **argv)
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
        case 'h': sim_usage(stdout); return 0;
        default: sim_usage(stderr); return 2;
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

/* What `depotsim run` was asked for, beside the world's options. */
struct run_args {
    struct inputs in;
    const char *url, *json;
    double grid_kw;
    bool baseline, table;
    int table_minutes;
};

/* The options of `run` into w->opt and args: 0, 1 for --help (said), or 2 after saying what is wrong. */
static int run_options(int argc, char **argv, struct sim_world *w, struct run_args *ra)
{
    w->opt.speed = 60;
    w->opt.meter_interval_s = 300;
    w->opt.tick_ms = 0; /* after the options: from the speed */
    w->opt.late_ms = 2000;
    w->opt.seed = 1;
    w->opt.max_real_ms = 3600 * 1000;
    w->opt.drop_delay_ms = 3000;
    w->opt.offline_sim_ms = 30 * 60000;
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
        case 'c': ra->url = optarg; break;
        case 'd': ra->in.depot_path = optarg; break;
        case 's': ra->in.scenario_path = optarg; break;
        case 'a': ra->in.acn_path = optarg; break;
        case 'F': ra->in.from = optarg; break;
        case 'H': ra->in.hours = atof(optarg); break;
        case 'x': w->opt.speed = atof(optarg); break;
        case 'm': w->opt.meter_interval_s = atoi(optarg); break;
        case 'j': ra->json = optarg; break;
        case 'p': ra->in.prices_path = optarg; break;
        case 'b': ra->in.site_load_path = optarg; break;
        case 'g': ra->grid_kw = atof(optarg); break;
        case 'P': w->opt.progress = true; break;
        case 'S': w->opt.seed = strtoull(optarg, NULL, 10); break;
        case 'M': w->opt.max_real_ms = (int64_t)(atof(optarg) * 1000); break;
        case 'r': w->opt.f_reject_profiles = atof(optarg); break;
        case 'D': w->opt.f_drop = atof(optarg); break;
        case 'O': w->opt.f_offline = atof(optarg); break;
        case 'o': w->opt.offline_sim_ms = (int64_t)(atof(optarg) * 60000); break;
        case 'y': w->opt.drop_delay_ms = atoll(optarg); break;
        case 'R': w->opt.reboot_on_reconnect = true; break;
        case 'q': w->opt.f_silent = atof(optarg); break;
        case 'f': w->opt.f_malformed = atof(optarg); break;
        case 'k': w->opt.f_skew = atof(optarg); break;
        case 'K': w->opt.skew_ms = (int64_t)(atof(optarg) * 1000); break;
        case 'C':
            /* --fault-clock-offset S: the stations chosen by --fault-skew (all without it) run S seconds off,
             * signed as given (--skew-seconds alternates the sign). */
            w->opt.clock_offset_ms = (int64_t)(atof(optarg) * 1000);
            w->opt.has_clock_offset = true;
            break;
        case 'L': w->opt.f_late = atof(optarg); break;
        case 'l': w->opt.late_ms = atoll(optarg); break;
        case 'I': w->opt.f_ignore_profiles = atof(optarg); break;
        case 'W': w->opt.f_wrong_composite = atof(optarg); break;
        case 'A':
            errno = 0;
            w->opt.anchor_unix_ms = strtoll(optarg, &end, 10);
            /* Milliseconds, not seconds: a 10-digit value is a mistake that would put the anchor in 1970. */
            if (end == optarg || *end || errno || w->opt.anchor_unix_ms < 100000000000LL) {
                fprintf(stderr, "depotsim: --clock-anchor is Unix time in milliseconds (13 digits), got %s\n", optarg);
                return 2;
            }
            w->opt.has_anchor = true;
            break;
        case 'i':
            w->opt.tick_ms = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || w->opt.tick_ms < 1 || w->opt.tick_ms > 1000) {
                fprintf(stderr, "depotsim: --tick-ms is 1..1000\n");
                return 2;
            }
            break;
        case 'B': ra->baseline = true; break;
        case 't': ra->table = true; break;
        case 'T':
            ra->table = true;
            ra->table_minutes = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || ra->table_minutes < 1 || ra->table_minutes > 1440) {
                fprintf(stderr, "depotsim: --table-minutes is 1..1440\n");
                return 2;
            }
            break;
        case 'h': sim_usage(stdout); return 1;
        default:
            if (sim_tls_option(c, optarg, &w->opt.tls))
                break;
            sim_usage(stderr);
            return 2;
        }
    }
    if (!ra->url || sim_parse_options_url(ra->url, &w->opt) || w->opt.speed <= 0 || w->opt.speed > 100000 ||
        w->opt.meter_interval_s < 1) {
        sim_usage(stderr);
        return 2;
    }
    /* A step of at most a simulated minute (10..100 real ms): at high speed an EV still plugs in, and a new
     * profile still takes effect, within a minute of when it should, as the baseline's 1-minute steps assume. */
    if (!w->opt.tick_ms) {
        double ms = 60000.0 / w->opt.speed;
        w->opt.tick_ms = ms > 100 ? 100 : ms < 10 ? 10 : (int)ms;
    }
    return 0;
}

/* --clock-anchor: says when the scenario starts against the wall clock; -1 when it would already be over. */
static int run_say_anchor(const struct sim_world *w, const struct sim_scenario *sc)
{
    int64_t wall = sim_wall_ms();
    double late_s = (double)(wall - w->opt.anchor_unix_ms) / 1000.0;
    char tb[32];
    if (sc->start_ms + late_s * 1000.0 * w->opt.speed >= (double)sc->end_ms) {
        fprintf(stderr, "depotsim: --clock-anchor is %.1f s in the past: the scenario would already be over\n",
                late_s);
        return -1;
    }
    fprintf(stderr, "depotsim: clock: %s at Unix ms %lld, speed %g (%s %.1f s)\n",
            sim_time_format(sc->start_ms, tb), (long long)w->opt.anchor_unix_ms, w->opt.speed,
            late_s <= 0 ? "starts in" : "started", late_s <= 0 ? -late_s : late_s);
    if (late_s > 1.0)
        fprintf(stderr, "depotsim: the anchor is in the past: visits before %s arrive late\n",
                sim_time_format(sc->start_ms + (int64_t)(late_s * 1000.0 * w->opt.speed), tb));
    return 0;
}

/* Each station's faults, drawn from the seed in a fixed order (so the seeds of earlier runs keep their fleet). */
static void run_draw_faults(struct sim_world *w, const struct sim_depot *depot)
{
    uint64_t seed = w->opt.seed;
    for (int i = 0; i < depot->n; i++) {
        struct sim_station *st = &w->stations[i];
        sim_station_init(st, w, i, &depot->stations[i]);
        st->fault_reject_profiles = draw(&seed, w->opt.f_reject_profiles);
        st->fault_drop = draw(&seed, w->opt.f_drop);
        st->fault_offline = draw(&seed, w->opt.f_offline);
        st->fault_silent = draw(&seed, w->opt.f_silent);
        st->fault_malformed = draw(&seed, w->opt.f_malformed);
        bool skewed = draw(&seed, w->opt.f_skew);
        if (skewed)
            st->skew_ms = rnd(&seed) & 1 ? w->opt.skew_ms : -w->opt.skew_ms;
        if (w->opt.has_clock_offset && (w->opt.f_skew == 0 || skewed))
            st->skew_ms = w->opt.clock_offset_ms;
        /* Drawn only when asked for, so the seeds of earlier runs keep giving the same fleet. */
        if (w->opt.f_late > 0)
            st->fault_late = draw(&seed, w->opt.f_late);
        if (w->opt.f_ignore_profiles > 0)
            st->fault_ignore_profiles = draw(&seed, w->opt.f_ignore_profiles);
        if (w->opt.f_wrong_composite > 0)
            st->fault_wrong_composite = draw(&seed, w->opt.f_wrong_composite);
        /* Named, so a test can check that depotd singled out the right stations. */
        if (st->fault_ignore_profiles)
            fprintf(stderr, "depotsim: fault: %s ignores charging profiles\n", st->cfg->id);
        if (st->fault_wrong_composite)
            fprintf(stderr, "depotsim: fault: %s answers a wrong composite schedule\n", st->cfg->id);
        if (st->skew_ms)
            fprintf(stderr, "depotsim: fault: %s clock %+lld s\n", st->cfg->id, (long long)(st->skew_ms / 1000));
    }
}

int sim_cmd_run(int argc, char **argv)
{
    struct sim_world w;
    memset(&w, 0, sizeof w);
    struct run_args ra = {.in = {.hours = 24}, .grid_kw = -1, .table_minutes = 15};
    int rc = run_options(argc, argv, &w, &ra);
    if (rc)
        return rc == 1 ? 0 : rc;
    struct inputs in = ra.in;
    double grid_kw = ra.grid_kw;
    const char *json = ra.json;
    rc = inputs_load(&in);
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
    w.opt.table_minutes = ra.table ? ra.table_minutes : 0;
    w.opt.table_out = stdout;
    if (w.opt.has_anchor && run_say_anchor(&w, sc))
        goto out;
    w.report = sim_report_new(sc->start_ms, sc->end_ms, w.opt.grid_limit_w);
    w.nstations = depot->n;
    w.stations = calloc((size_t)depot->n, sizeof *w.stations);
    if (w.report) sim_report_set_site_load(w.report, in.site_load.n ? &in.site_load : NULL);
    if (!w.report || !w.stations || sim_report_set_circuits(w.report, depot->circuits, depot->ncircuits)) {
        fprintf(stderr, "depotsim: scenario too long or out of memory\n");
        goto out;
    }
    run_draw_faults(&w, depot);
    signal(SIGPIPE, SIG_IGN);
    if (sim_run(&w) != 0) {
        fprintf(stderr, "depotsim: cannot create the websocket context\n");
        goto out;
    }
    if (w.opt.table_minutes)
        printf("\n");
    sim_report_print(w.report, prices, stdout);
    struct sim_report *base = NULL;
    if (ra.baseline) {
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

