/*
 * crosscheck_export.c - writes random instances as free MPS plus GLPK's optimal objective for each, so that
 * crosscheck_highs.py can solve the same LPs with another solver (HiGHS) and compare.
 * Usage: crosscheck_export OUTDIR COUNT
 */
#include "gen.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUTDIR COUNT\n", argv[0]);
        return 2;
    }
    int count = atoi(argv[2]), rc = 0;
    char path[4096], err[256];
    snprintf(path, sizeof(path), "%s/objectives.txt", argv[1]);
    FILE *list = fopen(path, "w");
    if (!list) {
        perror(path);
        return 2;
    }
    opt_planner *pl = opt_planner_new(NULL);
    struct opt_options fo = { .fault = 2 };
    opt_planner *fallback = opt_planner_new(&fo);
    for (int k = 0; k < count; k++) {
        struct inst x;
        gen_state = 4242 + k;
        int n = irand(1, 60), T = irand(4, 96);
        gen_instance(&x, 9000 + k, n, T, 4);
        if (k % 3 == 1) /* the coarse LP grid: HiGHS gets the same coarse LP */
            x.pb.fine_hours = 0.25 * (k % 8), x.pb.coarse_slot_hours = 0.25 * (2 + k % 4);
        struct opt_plan *p = NULL;
        if (k % 2 == 0 && opt_solve(fallback, &x.pb, &p, err, sizeof(err)) == OPT_OK) {
            /* Every other instance feasible (needs = what a fallback plan delivers), so that the money part
             * of the objective is compared, not only the shortfall penalty. */
            for (int i = 0; i < n; i++)
                x.s[i].energy_kwh = p->delivered_kwh[i];
            opt_plan_free(p);
            p = NULL;
        }
        snprintf(path, sizeof(path), "%s/instance%03d.mps", argv[1], k);
        if (opt_solve(pl, &x.pb, &p, err, sizeof(err)) || p->method != OPT_METHOD_LP ||
            opt_export(&x.pb, NULL, path, OPT_EXPORT_MPS, err, sizeof(err))) {
            fprintf(stderr, "instance %d: %s %s\n", k, err, p ? p->note : "");
            rc = 1;
        } else {
            fprintf(list, "instance%03d.mps %.17g %d %d/%d %d\n", k, p->solver_objective, n, p->lp_slots, T,
                    x.pb.n_circuits); /* LP slots / slots */
        }
        opt_plan_free(p);
        inst_free(&x);
        opt_planner_reset(pl); /* cold solves: the comparison is about the optimum, not the path */
    }
    opt_planner_free(pl);
    opt_planner_free(fallback);
    opt_thread_cleanup();
    fclose(list);
    return rc;
}
