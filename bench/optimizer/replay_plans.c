/*
 * replay_plans.c - re-solves depotd's recorded plans through ONE planner, in log order, as depotd's planner
 * worker did (warm starts from plan to plan), from the event log alone: every plan event carries the exact
 * optimizer problem under "lp" (src/plan_lp.h, read here with the code that wrote it). A benchmark, not a
 * test: it prints one line per plan and a summary, to compare solver settings on real re-plan sequences.
 *
 * Usage: replay_plans DEPOTD_DB [FIRST_PLAN [LAST_PLAN]]
 * env:   REPLAY_SIMPLEX=auto|dual|primal   (opt_options.simplex; default auto, depotd's rule)
 *        REPLAY_COLD=1                      (no warm starts)
 *        REPLAY_TIME_LIMIT_MS=N             (default: the logged option, depotd's 5000)
 *        REPLAY_QUIET=1                     (only the summary)
 * Get a log: KEEP_DB=/tmp/dir node bench/control/replan_latency.mjs 500 (or any depotd -d FILE).
 * Plans of a restarted depotd (plan numbers start again) are replayed in log order all the same.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <optimizer.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_lp.h"

static double num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsNull(v) ? INFINITY : def;
}

static const char *str(const cJSON *o, const char *k, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : def;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DEPOTD_DB [FIRST_PLAN [LAST_PLAN]]\n", argv[0]);
        return 2;
    }
    long first = argc > 2 ? atol(argv[2]) : 0, last = argc > 3 ? atol(argv[3]) : -1;
    const char *e = getenv("REPLAY_SIMPLEX");
    int simplex = !e || !strcmp(e, "auto") ? OPT_SIMPLEX_AUTO : !strcmp(e, "dual") ? OPT_SIMPLEX_DUAL
                : !strcmp(e, "primal") ? OPT_SIMPLEX_PRIMAL : -1;
    if (simplex < 0) {
        fprintf(stderr, "REPLAY_SIMPLEX: auto, dual or primal\n");
        return 2;
    }
    int cold = getenv("REPLAY_COLD") && atoi(getenv("REPLAY_COLD"));
    int quiet = getenv("REPLAY_QUIET") && atoi(getenv("REPLAY_QUIET"));
    int tlim = getenv("REPLAY_TIME_LIMIT_MS") ? atoi(getenv("REPLAY_TIME_LIMIT_MS")) : 0;

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT data FROM events WHERE type = 'plan' ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return 1;
    }
    opt_planner *pl = NULL;
    int count = 0, fallbacks = 0, warm = 0, cap = 0, no_lp = 0;
    long iters = 0;
    double *ms = NULL, sum = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        cJSON *ev = text ? cJSON_Parse(text) : NULL;
        const cJSON *lpj = cJSON_GetObjectItemCaseSensitive(ev, "lp");
        long plan = (long)num(ev, "plan", 0);
        struct plan_lp l = {0};
        char lp_err[200];
        if (!lpj || plan < first || (last >= 0 && plan > last) || plan_lp_read(lpj, &l, lp_err, sizeof lp_err)) {
            no_lp += ev && !lpj;
            plan_lp_free(&l);
            cJSON_Delete(ev);
            continue;
        }
        if (!pl) { /* depotd's options, as logged, with this tool's overrides */
            struct opt_options o = l.opts;
            o.simplex = simplex;
            o.no_warm_start = cold;
            if (tlim > 0)
                o.time_limit_ms = tlim;
            pl = opt_planner_new(&o);
            if (!pl)
                return 1;
        }
        struct opt_plan *p = NULL;
        char err[256];
        if (opt_solve(pl, &l.pb, &p, err, sizeof(err)) != OPT_OK) {
            fprintf(stderr, "plan %ld: %s\n", plan, err);
            plan_lp_free(&l);
            cJSON_Delete(ev);
            continue;
        }
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(ev, "result");
        if (!quiet)
            printf("plan %4ld n %4d %-9s warm %d it %6d solve %8.1f total %8.1f lp_cost %12.4f | logged %-9s "
                   "%8.1f | %s\n", plan, l.pb.n_sessions, p->method_name, p->warm_start, p->iterations,
                   p->solve_ms, p->total_ms, p->lp_cost, str(res, "method", "?"), num(res, "solve_ms", NAN), p->note);
        if (count == cap) {
            cap = cap ? 2 * cap : 256;
            ms = realloc(ms, sizeof(double) * (size_t)cap);
            if (!ms)
                return 1;
        }
        ms[count++] = p->total_ms;
        sum += p->total_ms;
        fallbacks += p->method == OPT_METHOD_FALLBACK;
        warm += p->warm_start;
        iters += p->iterations;
        opt_plan_free(p);
        plan_lp_free(&l);
        cJSON_Delete(ev);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (count) {
        qsort(ms, (size_t)count, sizeof(double), cmp_double);
        printf("%s simplex=%s%s: %d plans, %d warm, %d fallback, %ld iterations; total ms p50 %.1f p90 %.1f p99 %.1f "
               "max %.1f sum %.0f\n", argv[1], e ? e : "auto", cold ? " cold" : "", count, warm, fallbacks, iters,
               ms[count / 2], ms[(int)(0.9 * count)], ms[(int)(0.99 * count)], ms[count - 1], sum);
    } else {
        printf("%s: no plan event with an lp key%s\n", argv[1], no_lp ? " (a log older than the lp key?)" : "");
    }
    free(ms);
    opt_planner_free(pl);
    opt_thread_cleanup();
    return count ? 0 : 1;
}
