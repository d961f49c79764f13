/* warm.h - the optimizer's warm starts: what a planner keeps of its last solve, and carrying that basis over to
 * the next problem by meaning (sessions by id, slots by where they end, limit rows by circuit and phase).
 * Internal to the optimizer; planner.c calls it. */
#ifndef OPT_WARM_H
#define OPT_WARM_H

#include <setjmp.h>
#include <stdint.h>

#include "internal.h"

struct key {          /* where a session of the last solve lives in the kept GLPK problem */
    char *id;
    int first, end, col0, scol, row;
};

struct opt_planner {
    struct opt_options opt;
    glp_prob *last;   /* LP of the last solve, with its final basis; NULL: next solve is cold */
    struct key *keys; /* sorted by id */
    int nkeys, last_L, last_coarse, last_ngroups, last_row_group0, last_row_peak0, last_peak_col;
    int *last_gcircuit, *last_gphase;
    int64_t *last_end_ms; /* [last_L] where each LP slot of the kept problem ends */
    int solves;          /* opt_solve() calls with a GLPK run (for the tests' fault 3) */
    unsigned generation; /* opt_guard_generation() when `last` was kept */
    jmp_buf jb;
};

/* Drops what was kept (delete_prob: the GLPK problem too, when it still belongs to this thread's environment). */
void opt_warm_forget(opt_planner *pl, int delete_prob);
/* Keeps lp (the solved problem of m, with its final basis) for the next solve; takes it. */
void opt_warm_remember(opt_planner *pl, const struct opt_model *m, glp_prob *lp);
/* Sets lp's basis from the kept one; the number of statuses carried, or -1 (then the solve is cold). */
int opt_warm_transfer(const opt_planner *pl, const struct opt_model *m, glp_prob *lp);

#endif
