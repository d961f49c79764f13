/*
 * opt_bench.c - solve-time benchmark of the optimizer on instances built from real data (not a test).
 * Sessions: ACN-Data arrivals, stays and energies (sampled with replacement, seeded); prices: Belgian
 * day-ahead 2022, hourly, spread over 15-minute slots. For each size: a cold solve, a warm re-plan after a
 * price update, after one more van and after that a site limit 20 % lower (a warm start that is only
 * dual feasible), GLPK's peak memory, and the LP exported as MPS for HiGHS.
 * Usage: opt_bench DATA_DIR OUT_DIR [SIZES...]   (prints one tab-separated line per instance)
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <optimizer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T 96
#define MAX_ACN 1000

struct acn { double arrive_h, stay_h, kwh; };

static struct acn acn[MAX_ACN];
static int n_acn;
static double hourly[8784];
static int n_hourly;

static uint64_t rng = 12345;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static time_t parse_gmt(const char *s)
{
    struct tm tm = { 0 };
    if (!s || !strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return 0;
    return timegm(&tm);
}

static int load_acn(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/acn-sessions-2021-05-06.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(buf);
        return -1;
    }
    buf[len] = 0;
    fclose(f);
    cJSON *arr = cJSON_Parse(buf);
    free(buf);
    cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (n_acn == MAX_ACN)
            break;
        time_t a = parse_gmt(cJSON_GetStringValue(cJSON_GetObjectItem(it, "connectionTime")));
        time_t d = parse_gmt(cJSON_GetStringValue(cJSON_GetObjectItem(it, "disconnectTime")));
        double kwh = cJSON_GetNumberValue(cJSON_GetObjectItem(it, "kWhDelivered"));
        cJSON *ui = cJSON_GetArrayItem(cJSON_GetObjectItem(it, "userInputs"), 0);
        double req = ui ? cJSON_GetNumberValue(cJSON_GetObjectItem(ui, "kWhRequested")) : NAN;
        if (!a || d <= a || !isfinite(kwh))
            continue;
        /* Pacific daylight time in May/June: UTC-7. */
        double local_h = fmod((double)(a - 7 * 3600) / 3600.0, 24.0);
        /* What was delivered, not the request: drivers often ask for more than their stay allows. */
        (void)req;
        acn[n_acn++] = (struct acn){ local_h, (double)(d - a) / 3600.0, kwh };
    }
    cJSON_Delete(arr);
    return n_acn ? 0 : -1;
}

static int load_prices(const char *dir)
{
    char path[4096], line[256];
    snprintf(path, sizeof(path), "%s/prices-be-dayahead-2022.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f) && n_hourly < 8784) {
        char *comma = strchr(line, ',');
        if (comma && line[0] != 't')
            hourly[n_hourly++] = strtod(comma + 1, NULL);
    }
    fclose(f);
    return n_hourly >= 48 ? 0 : -1;
}

struct instance {
    double price[T], limit[T];
    struct opt_session *s;
    struct opt_circuit *c;
    char (*ids)[24];
    struct opt_problem pb;
};

/* Horizon: 24 h from 06:00 local of `day`, first slot 10 minutes (planning starts mid-slot). */
static void build(struct instance *x, int n, int day, int circuits)
{
    memset(x, 0, sizeof(*x));
    x->s = calloc((size_t)n + 1, sizeof(*x->s));
    x->ids = calloc((size_t)n + 1, sizeof(*x->ids));
    int nfeed = circuits ? (n + 9) / 10 : 0, ntr = circuits ? (n + 99) / 100 : 0;
    x->c = calloc((size_t)(nfeed + ntr) + 1, sizeof(*x->c));
    for (int t = 0; t < T; t++) {
        x->price[t] = hourly[(day * 24 + 6 + t / 4) % n_hourly];
        double building = 0.4 + 0.3 * (t >= 44 && t < 64); /* busier 17:00-22:00 */
        x->limit[t] = n * 11.0 * (1.0 - building) * 0.5;
    }
    for (int k = 0; k < ntr; k++)
        x->c[k] = (struct opt_circuit){ .parent = -1, .limit_kw = 100 * 11 * 0.35 };
    for (int k = 0; k < nfeed; k++) /* 10 EVSEs behind a 16 A three-phase breaker per phase: 3.7 kW/phase */
        x->c[ntr + k] = (struct opt_circuit){ .parent = k / 10, .limit_kw = 3 * 3.68, .per_phase = 1 };
    rng = 777 + (uint64_t)n;
    for (int i = 0; i < n; i++) {
        const struct acn *a = &acn[(int)(urand() * n_acn)];
        double start = fmod(a->arrive_h - 6 + 24, 24) * 4; /* slots from 06:00 */
        int first = (int)start;
        int end = first + (int)ceil(a->stay_h * 4);
        snprintf(x->ids[i], sizeof(x->ids[i]), "ev%d", i);
        /* Site 0002 also has fast chargers: a stay too short for 11 kW AC gets a 50 kW DC EVSE. */
        int dc = a->kwh > a->stay_h * 11 * 0.92, one_phase = !dc && urand() < 0.3;
        x->s[i] = (struct opt_session){ .id = x->ids[i], .first_slot = first, .end_slot = end,
                                        .energy_kwh = fmin(a->kwh, 80), .efficiency = 0.92,
                                        .max_kw = dc ? 50 : one_phase ? 7.4 : 11, .priority = 1,
                                        .circuit = circuits ? ntr + i / 10 : -1,
                                        .phases = one_phase ? (enum opt_phases)(1 + i % 3) : OPT_THREE_PHASE };
    }
    x->pb = (struct opt_problem){ .slots = T, .slot_hours = 0.25, .first_slot_hours = 10.0 / 60,
                                  .epoch_slot = 100000, .price = x->price, .site_limit_kw = x->limit,
                                  .sessions = x->s, .n_sessions = n, .circuits = x->c,
                                  .n_circuits = nfeed + ntr };
}

static void drop(struct instance *x)
{
    free(x->s), free(x->c), free(x->ids);
}

static struct opt_plan *run(opt_planner *pl, const struct opt_problem *pb)
{
    struct opt_plan *p = NULL;
    char err[256];
    if (opt_solve(pl, pb, &p, err, sizeof(err)) != OPT_OK) {
        fprintf(stderr, "solve: %s\n", err);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR OUT_DIR [SIZES...]\n", argv[0]);
        return 2;
    }
    if (load_acn(argv[1]) || load_prices(argv[1])) {
        fprintf(stderr, "cannot read the data in %s\n", argv[1]);
        return 1;
    }
    int sizes[16] = { 10, 100, 500, 1000, 2000 }, ns = 5;
    if (argc > 3)
        for (ns = 0; ns < argc - 3 && ns < 16; ns++)
            sizes[ns] = atoi(argv[3 + ns]);
    /* "interior": GLPK's interior point; "keeprows": limit rows that cannot bind kept (as before);
     * "coarse": 15-minute slots for the first 6 h, then 1-hour LP slots to the end of the horizon. */
    const char *variant = getenv("OPT_BENCH_VARIANT");
    int coarse = variant && !strcmp(variant, "coarse");
    struct opt_options o = { .max_sessions = 5000, .time_limit_ms = 20000,
                             .use_interior = variant && !strcmp(variant, "interior"),
                             .keep_redundant_rows = variant && !strcmp(variant, "keeprows") };
    /* OPT_BENCH_SIMPLEX=dual|primal: one simplex for every solve instead of the planner's rule. */
    const char *sx = getenv("OPT_BENCH_SIMPLEX");
    o.simplex = !sx ? OPT_SIMPLEX_AUTO : !strcmp(sx, "dual") ? OPT_SIMPLEX_DUAL : !strcmp(sx, "primal") ? OPT_SIMPLEX_PRIMAL
                                                                                                          : OPT_SIMPLEX_AUTO;
    printf("n\tcircuits\tvariant\tmethod\tcold_ms\tcold_build_ms\tcold_iter\twarm_price_ms\twarm_price_iter"
           "\twarm_van_ms\twarm_van_iter\tglpk_mb\tobjective\tshortfall_kwh\tcost\tlp_slots\trows_dropped"
           "\twarm_limit_ms\twarm_limit_iter\tmps\tnote\n");
    for (int k = 0; k < ns; k++)
        for (int circuits = 0; circuits < 2; circuits++) {
            int n = sizes[k];
            struct instance x;
            build(&x, n + 1, 100, circuits); /* one spare van for the "one more van" re-plan */
            x.pb.n_sessions = n;
            if (coarse)
                x.pb.fine_hours = 6, x.pb.coarse_slot_hours = 1;
            opt_thread_cleanup(); /* fresh GLPK environment: its peak memory is this instance's */
            opt_planner *pl = opt_planner_new(&o);
            struct opt_plan *cold = run(pl, &x.pb);
            for (int t = 0; t < T; t++) /* the next day's prices arrive */
                x.price[t] = hourly[(101 * 24 + 6 + t / 4) % n_hourly];
            struct opt_plan *wp = run(pl, &x.pb);
            x.pb.n_sessions = n + 1;
            struct opt_plan *wv = run(pl, &x.pb);
            /* a new building-load forecast: the site limit 20 % lower in every slot. The carried basis is no
             * longer primal feasible, only dual feasible (a need that changes does the same, on one row). */
            double saved[T];
            memcpy(saved, x.limit, sizeof(saved));
            for (int t = 0; t < T; t++)
                x.limit[t] *= 0.8;
            struct opt_plan *wn = run(pl, &x.pb);
            memcpy(x.limit, saved, sizeof(saved));
            x.pb.n_sessions = n;
            for (int t = 0; t < T; t++)
                x.price[t] = hourly[(100 * 24 + 6 + t / 4) % n_hourly];
            char mps[4096], err[256];
            snprintf(mps, sizeof(mps), "%s/bench_%d_%s.mps", argv[2], n, circuits ? "circuits" : "site");
            if (opt_export(&x.pb, &o, mps, OPT_EXPORT_MPS, err, sizeof(err)))
                fprintf(stderr, "export: %s\n", err);
            printf("%d\t%s\t%s\t%s\t%.1f\t%.1f\t%d\t%.1f\t%d\t%.1f\t%d\t%.1f\t%.10g\t%.3f\t%.2f\t%d\t%d\t%.1f\t%d\t%s\t%s\n", n,
                   circuits ? "yes" : "no", variant ? variant : "simplex", cold->method_name, cold->total_ms,
                   cold->build_ms, cold->iterations, wp->warm_start ? wp->total_ms : -wp->total_ms,
                   wp->iterations, wv->warm_start ? wv->total_ms : -wv->total_ms, wv->iterations,
                   cold->glpk_peak_bytes / 1048576.0, cold->solver_objective, cold->total_shortfall_kwh,
                   cold->cost, cold->lp_slots, cold->lp_rows_dropped, wn->warm_start ? wn->total_ms : -wn->total_ms,
                   wn->iterations, mps, cold->note);
            fflush(stdout);
            opt_plan_free(cold), opt_plan_free(wp), opt_plan_free(wv), opt_plan_free(wn);
            opt_planner_free(pl);
            drop(&x);
        }
    opt_thread_cleanup();
    return 0;
}
