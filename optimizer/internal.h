/* internal.h - shared between the optimizer's .c files; not part of the contract. */
#ifndef OPT_INTERNAL_H
#define OPT_INTERNAL_H

#include "optimizer.h"

#include <glpk.h>
#include <stdarg.h>

#define OPT_PHASE_COEF (1.0 / 3.0)

/* One limit row per slot: the site, a circuit's total, or one phase of a per-phase circuit. */
struct opt_group {
    int circuit;    /* -1: the site */
    int phase;      /* 0: total; 1..3: that phase */
    double limit;   /* circuits; the site's limit is per slot */
    int n;
    int *member;    /* session indices */
    double *coef;   /* kW the group counts per kW the session draws: 1 or 1/3 */
};

/* The index layout of one validated problem, shared by the LP, the MIP, the fallback and the checks. */
struct opt_model {
    const struct opt_problem *pb;
    struct opt_options opt;  /* defaults resolved */
    int n, T;
    double *hours;           /* [T] */
    int *first, *end;        /* [n] windows clamped to the horizon */
    double *eta, *w, *ew;    /* [n] defaults resolved (ew: earliness weight) */
    int L;                   /* LP slots: T, or fewer with a coarse grid */
    int *lp_of;              /* [T] LP slot of each slot */
    int *lp_t0;              /* [L+1] LP slot u covers slots lp_t0[u] .. lp_t0[u+1]-1 */
    int64_t *lp_end_ms;      /* [L] where LP slot u ends, ms on the epoch_slot grid (warm starts match by it) */
    int *lfirst, *lend;      /* [n] the window in LP slots (every LP slot it touches) */
    int *col0;               /* [n] GLPK column of (i, lfirst[i]); LP slot u is col0[i] + u - lfirst[i] */
    int *scol;               /* [n] shortfall column */
    int peak_col;            /* 0 without a demand charge */
    int ncols;
    int ngroups;             /* group 0 is the site, then circuits in index order (parents first) */
    struct opt_group *group;
    int row_group0;          /* row of (group g, LP slot u) = row_group0 + g*L + u; energy rows are 1..n */
    int row_peak0;           /* 0 without a demand charge */
    int nrows;
    int *sg_start;           /* [n+1] session i's groups are sg_group/sg_coef[sg_start[i] .. sg_start[i+1]) */
    int *sg_group;
    double *sg_coef;
    double ref_price;        /* max |c_t| (1 if all zero): the objective is divided by it inside GLPK */
    double max_eps;          /* tie-break per kWh at the last slot, currency */
    double m_unit;           /* shortfall penalty per kWh for priority 1, currency */
    double w_min;
};

void opt_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void opt_resolve_options(const struct opt_options *in, struct opt_options *out);

/* validate.c */
int opt_validate_resolved(const struct opt_problem *pb, const struct opt_options *o, char *err, size_t errlen);
const char *opt_degenerate(const struct opt_problem *pb); /* NULL, or why the LP is numerically unsafe */

/* model.c */
int opt_model_init(struct opt_model *m, const struct opt_problem *pb, const struct opt_options *o);
void opt_model_free(struct opt_model *m);
double opt_pmax(const struct opt_model *m, int i, int t);
double opt_hours(const struct opt_model *m, int i, int t); /* what an hour of slot t is worth to session i */
double opt_group_limit(const struct opt_model *m, int g, int t);
double opt_eps(const struct opt_model *m, int t);       /* tie-break, currency per kWh */
double opt_penalty(const struct opt_model *m, int i);   /* M_i, currency per kWh */
/* LP columns (session i, LP slot u in [lfirst, lend)): the slots of u inside i's window share one power */
double opt_col_pmax(const struct opt_model *m, int i, int u);  /* min of the slots' maxima */
double opt_col_hours(const struct opt_model *m, int i, int u); /* hours of u inside the window */
double opt_lp_limit(const struct opt_model *m, int g, int u);  /* min of the slots' limits */
/* Must run under the error guard. *dropped (may be NULL): limit rows left free because they cannot bind. */
glp_prob *opt_model_build(const struct opt_model *m, int names, int *dropped);

/* limits.c: everything that keeps a plan inside the limits; kw is [n*T] */
void opt_enforce(const struct opt_model *m, double *kw);
void opt_fallback(const struct opt_model *m, double *kw);
void opt_repair_min_power(const struct opt_model *m, double *kw);
int opt_min_power_ok(const struct opt_model *m, const double *kw);

/* results.c */
struct opt_plan *opt_plan_alloc(int n, int T);
void opt_plan_fill(const struct opt_model *m, struct opt_plan *plan, const double *kw);
const char *opt_method_name(enum opt_method m);

/* mip.c: 0 and kw filled (optimal or time-limited, *timelimit says), or -1 (no integer plan) */
int opt_mip_binaries(const struct opt_model *m);
int opt_mip_solve(const struct opt_model *m, double *kw, int *timelimit, int *iterations, char *note,
                  size_t notelen);

#endif
