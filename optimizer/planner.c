/*
 * planner.c - opt_solve(): validate, solve the LP with GLPK (warm from the last basis when it can), handle
 * minimum power, fall back when GLPK cannot give a plan, and always finish with the safety pass.
 * Thread: a planner and its GLPK problems belong to the thread that calls it (GLPK's environment is
 * per thread).
 */
#include "internal.h"
#include "guard.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* What one guarded GLPK run hands back (lives in the caller's frame, see guard.h). */
struct run {
    glp_prob *lp;
    int rc, status, warm, iterations, mapped, dropped;
    int switched; /* cold: the dual stopped after this many iterations and the primal took over; 0: not */
    double objective, build_ms, solve_ms;
    const char *cold_why; /* a kept basis existed but the solve started cold: why */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void forget(opt_planner *pl, int delete_prob)
{
    if (pl->last && delete_prob && pl->generation == opt_guard_generation())
        glp_delete_prob(pl->last);
    pl->last = NULL;
    for (int k = 0; k < pl->nkeys; k++)
        free(pl->keys[k].id);
    free(pl->keys);
    free(pl->last_gcircuit);
    free(pl->last_gphase);
    free(pl->last_end_ms);
    pl->keys = NULL;
    pl->last_gcircuit = pl->last_gphase = NULL;
    pl->last_end_ms = NULL;
    pl->nkeys = 0;
}

opt_planner *opt_planner_new(const struct opt_options *opts)
{
    opt_planner *pl = calloc(1, sizeof(*pl));
    if (pl)
        opt_resolve_options(opts, &pl->opt);
    return pl;
}

void opt_planner_reset(opt_planner *pl)
{
    if (pl)
        forget(pl, 1);
}

void opt_planner_free(opt_planner *pl)
{
    if (!pl)
        return;
    forget(pl, 1);
    free(pl);
}

void opt_thread_cleanup(void)
{
    opt_guard_free_env();
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct key *)a)->id, ((const struct key *)b)->id);
}

static const struct key *find_key(const opt_planner *pl, const char *id)
{
    struct key k = { .id = (char *)id };
    return bsearch(&k, pl->keys, (size_t)pl->nkeys, sizeof(k), cmp_key);
}

static void remember(opt_planner *pl, const struct opt_model *m, glp_prob *lp)
{
    forget(pl, 1);
    pl->keys = calloc((size_t)m->n + 1, sizeof(*pl->keys));
    pl->last_gcircuit = malloc(sizeof(int) * (size_t)m->ngroups);
    pl->last_gphase = malloc(sizeof(int) * (size_t)m->ngroups);
    pl->last_end_ms = malloc(sizeof(int64_t) * (size_t)m->L);
    if (!pl->keys || !pl->last_gcircuit || !pl->last_gphase || !pl->last_end_ms) {
        glp_delete_prob(lp);
        forget(pl, 0);
        return;
    }
    for (int i = 0; i < m->n; i++) {
        struct key *k = &pl->keys[pl->nkeys];
        k->id = strdup(m->pb->sessions[i].id);
        if (!k->id)
            continue;
        *k = (struct key){ k->id, m->lfirst[i], m->lend[i], m->col0[i], m->scol[i], 1 + i };
        pl->nkeys++;
    }
    qsort(pl->keys, (size_t)pl->nkeys, sizeof(*pl->keys), cmp_key);
    for (int g = 0; g < m->ngroups; g++)
        pl->last_gcircuit[g] = m->group[g].circuit, pl->last_gphase[g] = m->group[g].phase;
    pl->last_ngroups = m->ngroups;
    pl->last_L = m->L;
    pl->last_coarse = m->L != m->T;
    pl->last_row_group0 = m->row_group0;
    pl->last_row_peak0 = m->row_peak0;
    pl->last_peak_col = m->peak_col;
    memcpy(pl->last_end_ms, m->lp_end_ms, sizeof(int64_t) * (size_t)m->L);
    pl->generation = opt_guard_generation();
    pl->last = lp;
}

/* The nonbasic status a variable of type `type` takes at value v (its nearer bound). */
static int bound_stat(int type, double lb, double ub, double v)
{
    switch (type) {
    case GLP_FR: return GLP_NF;
    case GLP_LO: return GLP_NL;
    case GLP_UP: return GLP_NU;
    case GLP_FX: return GLP_NS;
    default: return v - lb <= ub - v ? GLP_NL : GLP_NU;
    }
}

/* Variable k of a GLPK problem in GLPK's numbering: rows 1..m, then columns m+1..m+n. */
static int var_stat(glp_prob *lp, int m, int k)
{
    return k <= m ? glp_get_row_stat(lp, k) : glp_get_col_stat(lp, k - m);
}

static void var_leave(glp_prob *lp, int m, int k)
{
    if (k <= m)
        glp_set_row_stat(lp, k, bound_stat(glp_get_row_type(lp, k), glp_get_row_lb(lp, k), glp_get_row_ub(lp, k),
                                           glp_get_row_prim(lp, k)));
    else
        glp_set_col_stat(lp, k - m, bound_stat(glp_get_col_type(lp, k - m), glp_get_col_lb(lp, k - m),
                                               glp_get_col_ub(lp, k - m), glp_get_col_prim(lp, k - m)));
}

static void var_enter(glp_prob *lp, int m, int k)
{
    if (k <= m)
        glp_set_row_stat(lp, k, GLP_BS);
    else
        glp_set_col_stat(lp, k - m, GLP_BS);
}

/*
 * LP slots of the new problem matched with the kept one's by where they end (both ascending): a slot that passed
 * has no match, nor the parts of a first slot cut elsewhere. new_of[u] for each kept LP slot, old_of[t] for each
 * new one, -1 where none. Returns how many matched.
 */
static int match_slots(const opt_planner *pl, const struct opt_model *m, int *old_of, int *new_of)
{
    int matched = 0;
    for (int u = 0; u < pl->last_L; u++)
        new_of[u] = -1;
    for (int t = 0, u = 0; t < m->L; t++) {
        while (u < pl->last_L && pl->last_end_ms[u] < m->lp_end_ms[t])
            u++;
        old_of[t] = u < pl->last_L && pl->last_end_ms[u] == m->lp_end_ms[t] ? u : -1;
        if (old_of[t] >= 0)
            new_of[u] = t, matched++;
    }
    return matched;
}

/*
 * Marks which variables of the kept problem have a counterpart in the new one (the same mapping as
 * transfer_basis: sessions by id, slots by where they end, limit rows by circuit and phase).
 */
static void mark_kept(const opt_planner *pl, const struct opt_model *m, const int *new_of, char *keep, int rows)
{
    for (int i = 0; i < m->n; i++) {
        const struct key *k = find_key(pl, m->pb->sessions[i].id);
        if (!k)
            continue;
        keep[k->row] = keep[rows + k->scol] = 1;
        for (int u = k->first; u < k->end; u++)
            if (new_of[u] >= m->lfirst[i] && new_of[u] < m->lend[i])
                keep[rows + k->col0 + u - k->first] = 1;
    }
    for (int g = 0; g < pl->last_ngroups; g++)
        if (g < m->ngroups && pl->last_gcircuit[g] == m->group[g].circuit && pl->last_gphase[g] == m->group[g].phase)
            for (int u = 0; u < pl->last_L; u++)
                if (new_of[u] >= 0)
                    keep[pl->last_row_group0 + g * pl->last_L + u] = 1;
    if (m->peak_col && pl->last_peak_col) {
        keep[rows + pl->last_peak_col] = 1;
        for (int u = 0; u < pl->last_L; u++)
            if (new_of[u] >= 0)
                keep[pl->last_row_peak0 + u] = 1;
    }
}

/*
 * Before the basis is carried over, pivots the kept problem so that what the new problem loses leaves the
 * basis square and nonsingular: a lost row whose auxiliary is nonbasic (a binding limit of a slot that is
 * gone, the energy row of a van that left) enters the basis, preferably in place of a lost basic variable;
 * every other lost basic variable (a column of a slot that is gone or outside a shortened window) leaves in
 * favour of a kept nonbasic one. Each choice uses the simplex tableau (a nonzero pivot, the largest one), so
 * the kept basis stays nonsingular; dropping lost rows whose auxiliaries are basic keeps it so.
 * Without this one lost basic column (a van whose departure moved earlier, a slot that passed) made the
 * carried basis one short and the solve cold: 200-300 ms instead of a few at 100 vans x 96 slots.
 * Returns 0, or -1 (then the solve is cold). Runs under the error guard.
 */
static int pivot_out_lost(const opt_planner *pl, const struct opt_model *m, const int *new_of)
{
    glp_prob *old = pl->last;
    int rows = glp_get_num_rows(old), cols = glp_get_num_cols(old), nv = rows + cols, rc = -1;
    char *keep = calloc((size_t)nv + 1, 1);
    int *ind = malloc(sizeof(int) * ((size_t)nv + 1));
    double *val = malloc(sizeof(double) * ((size_t)nv + 1));
    if (!keep || !ind || !val)
        goto out;
    mark_kept(pl, m, new_of, keep, rows);
    int lost_basic = 0, lost_row = 0;
    for (int k = 1; k <= nv; k++)
        if (!keep[k]) {
            int st = var_stat(old, rows, k);
            lost_basic += st == GLP_BS;
            lost_row += k <= rows && st != GLP_BS;
        }
    if (lost_basic == 0 && lost_row == 0) {
        rc = 0;
        goto out;
    }
    /* Each pivot refactorizes the (small) kept basis; past this many a cold solve is the better bet. */
    if (lost_basic + lost_row > 64 + rows / 4)
        goto out;
    if (!glp_bf_exists(old) && glp_factorize(old) != 0)
        goto out;
    /* Lost rows with a nonbasic auxiliary enter: a lost basic leaves if the pivot allows, else a kept one. */
    for (int r = 1; r <= rows; r++) {
        if (keep[r] || glp_get_row_stat(old, r) == GLP_BS)
            continue;
        int len = glp_eval_tab_col(old, r, ind, val), best = 0;
        double top = 0, big = 0;
        for (int q = 1; q <= len; q++)
            top = fmax(top, fabs(val[q]));
        for (int q = 1; q <= len; q++) { /* a lost one first, if its pivot is not small */
            double a = fabs(val[q]) * (keep[ind[q]] ? 1 : 1e3);
            if (fabs(val[q]) > 1e-3 * top && fabs(val[q]) > 1e-9 && a > big)
                big = a, best = ind[q];
        }
        if (!best)
            goto out;
        var_leave(old, rows, best);
        var_enter(old, rows, r);
        if (glp_factorize(old) != 0)
            goto out;
    }
    /* Lost basic variables that are left leave; a kept nonbasic variable takes their place. */
    for (int k = 1; k <= nv; k++) {
        if (keep[k] || var_stat(old, rows, k) != GLP_BS || k <= rows) /* a lost row's basic auxiliary goes with it */
            continue;
        int len = glp_eval_tab_row(old, k, ind, val), best = 0;
        double big = 1e-7;
        for (int q = 1; q <= len; q++)
            if (keep[ind[q]] && fabs(val[q]) > big)
                big = fabs(val[q]), best = ind[q];
        if (!best)
            goto out;
        var_leave(old, rows, k);
        var_enter(old, rows, best);
        if (glp_factorize(old) != 0)
            goto out;
    }
    rc = 0;
out:
    free(keep), free(ind), free(val);
    return rc;
}

/* transfer_basis' work once slots are matched. */
static int carry_basis(const opt_planner *pl, const struct opt_model *m, glp_prob *lp, const int *old_of,
                       const int *new_of)
{
    glp_prob *old = pl->last;
    /* A coarse grid moves with slot 0: only the same grid (same start, same layout) maps LP slot to LP slot. */
    if (m->L != m->T || pl->last_coarse) {
        if (m->L != pl->last_L)
            return -1;
        for (int t = 0; t < m->L; t++)
            if (old_of[t] != t)
                return -1;
    }
    if (pivot_out_lost(pl, m, new_of))
        return -1;
    int basic = 0, carried = 0;
    for (int i = 0; i < m->n; i++) {
        const struct key *k = find_key(pl, m->pb->sessions[i].id);
        int row = 1 + i;
        if (!k) {
            glp_set_row_stat(lp, row, GLP_NS);
            glp_set_col_stat(lp, m->scol[i], GLP_BS);
            basic++;
        } else {
            int rs = glp_get_row_stat(old, k->row), ss = glp_get_col_stat(old, k->scol);
            glp_set_row_stat(lp, row, rs == GLP_BS ? GLP_BS : GLP_NS);
            glp_set_col_stat(lp, m->scol[i], ss);
            basic += (rs == GLP_BS) + (ss == GLP_BS);
            carried += 2;
        }
        for (int t = m->lfirst[i]; t < m->lend[i]; t++) {
            int j = m->col0[i] + t - m->lfirst[i], u = old_of[t], st = GLP_NL;
            if (k && u >= k->first && u < k->end) {
                st = glp_get_col_stat(old, k->col0 + u - k->first);
                carried++;
            }
            glp_set_col_stat(lp, j, st);
            basic += st == GLP_BS;
        }
    }
    for (int g = 0; g < m->ngroups; g++)
        for (int t = 0; t < m->L; t++) {
            int u = old_of[t], st = GLP_BS;
            if (g < pl->last_ngroups && pl->last_gcircuit[g] == m->group[g].circuit &&
                pl->last_gphase[g] == m->group[g].phase && u >= 0 && u < pl->last_L) {
                st = glp_get_row_stat(old, pl->last_row_group0 + g * pl->last_L + u);
                carried++;
            }
            glp_set_row_stat(lp, m->row_group0 + g * m->L + t, st);
            basic += st == GLP_BS;
        }
    if (m->peak_col) {
        int st = pl->last_peak_col ? glp_get_col_stat(old, pl->last_peak_col) : GLP_NL;
        glp_set_col_stat(lp, m->peak_col, st);
        basic += st == GLP_BS;
        for (int t = 0; t < m->L; t++) {
            int u = old_of[t];
            st = pl->last_row_peak0 && u >= 0 && u < pl->last_L ?
                     glp_get_row_stat(old, pl->last_row_peak0 + u) : GLP_BS;
            glp_set_row_stat(lp, m->row_peak0 + t, st);
            basic += st == GLP_BS;
        }
    }
    return basic == m->nrows ? carried : -1;
}

/*
 * Carries the last basis over by meaning, not by index: sessions by id, slots by where they end (match_slots),
 * limit rows by circuit and phase. A new session starts with its shortfall basic and its
 * energy row at its bound (s_i = E_i: primal feasible, and the basis stays square). Returns the number of
 * statuses carried, or -1 when the result is not a square basis (then the solve is cold).
 */
static int transfer_basis(const opt_planner *pl, const struct opt_model *m, glp_prob *lp)
{
    int *old_of = malloc(sizeof(int) * (size_t)m->L), *new_of = malloc(sizeof(int) * ((size_t)pl->last_L + 1));
    int rc = -1;
    if (old_of && new_of && match_slots(pl, m, old_of, new_of) > 0)
        rc = carry_basis(pl, m, lp, old_of, new_of);
    free(old_of), free(new_of);
    return rc;
}

/*
 * A cold solve: the dual simplex (presolved) for at most `budget` iterations; if it has not finished by then,
 * the primal simplex (presolved, from scratch: GLPK keeps no basis of a presolved run that stopped) in the
 * time that is left. See "Which simplex" in optimizer.h for why and the figures.
 */
static int dual_then_primal(glp_prob *lp, glp_smcp *sm, int budget, double t0, int *switched)
{
    int lim = sm->tm_lim;
    sm->meth = GLP_DUALP;
    sm->it_lim = budget;
    int rc = glp_simplex(lp, sm);
    sm->it_lim = INT_MAX;
    if (rc != GLP_EITLIM)
        return rc;
    *switched = glp_get_it_cnt(lp);
    sm->meth = GLP_PRIMAL;
    sm->tm_lim = lim - (int)(now_ms() - t0);
    if (sm->tm_lim < 1)
        return GLP_ETMLIM;
    rc = glp_simplex(lp, sm);
    sm->tm_lim = lim;
    return rc;
}

/*
 * The share of nonbasic variables (not fixed, not free) with a zero reduced cost in a warm-started basis: how
 * dual degenerate it is. One flat price with a binding site limit: mostly 0.1-0.9 (each session costs the same in
 * a slot); hourly market prices (bench/optimizer): 0.001-0.04.
 */
static double dual_degenerate_share(glp_prob *lp, const struct opt_model *m)
{
    double cmax = 1;
    for (int t = 0; t < m->T; t++)
        cmax = fmax(cmax, fabs(m->pb->price[t]));
    double tol = 1e-9 * cmax;
    int nonbasic = 0, zero = 0, rows = glp_get_num_rows(lp), cols = glp_get_num_cols(lp);
    for (int j = 1; j <= cols; j++)
        if (glp_get_col_stat(lp, j) != GLP_BS && glp_get_col_type(lp, j) != GLP_FX) {
            nonbasic++;
            zero += fabs(glp_get_col_dual(lp, j)) <= tol;
        }
    for (int i = 1; i <= rows; i++) {
        int type = glp_get_row_type(lp, i);
        if (glp_get_row_stat(lp, i) != GLP_BS && type != GLP_FX && type != GLP_FR) {
            nonbasic++;
            zero += fabs(glp_get_row_dual(lp, i)) <= tol;
        }
    }
    return nonbasic ? (double)zero / nonbasic : 0;
}

static int run_glpk(opt_planner *pl, const struct opt_model *m, struct run *r)
{
    if (pl->last && pl->generation != opt_guard_generation())
        forget(pl, 0); /* a GLPK error or opt_thread_cleanup() freed it */
    pl->solves++;
    double t0 = now_ms();
    r->lp = opt_model_build(m, 0, &r->dropped);
    if (!r->lp)
        return r->rc = -1;
    r->build_ms = now_ms() - t0;
    if (pl->opt.fault == 1)
        glp_set_col_bnds(r->lp, 0, GLP_FX, 0, 0); /* column 0 does not exist: GLPK raises an error */
    glp_scale_prob(r->lp, GLP_SF_AUTO);
    glp_smcp sm;
    glp_init_smcp(&sm);
    sm.msg_lev = GLP_MSG_OFF;
    sm.tm_lim = pl->opt.time_limit_ms;
    sm.meth = GLP_DUALP;
    /* Long-step ("flip") ratio test: the p_it are boxed, and a dual step may flip many of them to the other
     * bound at once. Measured (docs/benchmarks.md): 2.7-4x fewer ms than the Harris test on cold solves. */
    sm.r_test = GLP_RT_FLIP;
    t0 = now_ms();
    if (pl->last && !pl->opt.no_warm_start && !pl->opt.use_interior) {
        r->mapped = transfer_basis(pl, m, r->lp);
        int wu = r->mapped >= 0 ? glp_warm_up(r->lp) : -1;
        if (wu != 0)
            r->cold_why = r->mapped < 0 ? "last basis not carried over (other grid, or too much changed)"
                                        : "carried basis singular";
        if (wu == 0) {
            r->warm = 1;
            /* Primal feasible (only costs changed): the primal goes on from it (measured: with circuits
             * that price-only warm solve is slower than a cold one, see docs/benchmarks.md). Only dual
             * feasible (needs, limits, windows changed): the dual, unless the basis is dual degenerate
             * (optimizer.h, "Which simplex"): there the dual stalled for seconds, the primal takes ms. */
            if (pl->opt.simplex == OPT_SIMPLEX_PRIMAL || glp_get_prim_stat(r->lp) == GLP_FEAS)
                sm.meth = GLP_PRIMAL;
            else if (pl->opt.simplex == OPT_SIMPLEX_DUAL)
                sm.meth = GLP_DUALP;
            else
                sm.meth = dual_degenerate_share(r->lp, m) < 0.05 ? GLP_DUALP : GLP_PRIMAL;
            r->rc = glp_simplex(r->lp, &sm);
        }
    }
    if (!r->warm) {
        if (pl->opt.use_interior && m->ncols > 0) {
            glp_iptcp ip;
            glp_init_iptcp(&ip);
            ip.msg_lev = GLP_MSG_OFF;
            r->rc = glp_interior(r->lp, &ip);
            r->status = glp_ipt_status(r->lp);
            r->objective = glp_ipt_obj_val(r->lp);
            r->solve_ms = now_ms() - t0;
            return r->rc;
        }
        sm.presolve = GLP_ON;
        if (pl->opt.simplex == OPT_SIMPLEX_AUTO) {
            /* Cold: the dual, unless it takes more than 2 iterations per row that can bind (the bench
             * instances need <= 1.5: they keep the dual's 1.3-1.8x lead), then the primal. */
            int rows = m->nrows - r->dropped;
            r->rc = dual_then_primal(r->lp, &sm, 2 * (rows > 0 ? rows : 1), t0, &r->switched);
        } else {
            sm.meth = pl->opt.simplex == OPT_SIMPLEX_PRIMAL ? GLP_PRIMAL : GLP_DUALP;
            r->rc = glp_simplex(r->lp, &sm);
        }
    }
    if (r->rc == GLP_EBADB || r->rc == GLP_ESING || r->rc == GLP_ECOND) { /* a basis GLPK cannot use */
        if (r->warm)
            r->cold_why = "simplex rejected the carried basis";
        r->warm = 0;
        glp_adv_basis(r->lp, 0);
        sm.presolve = GLP_OFF;
        r->rc = glp_simplex(r->lp, &sm);
    }
    if (pl->opt.fault == 2 || (pl->opt.fault == 3 && pl->solves == 2))
        r->rc = GLP_ETMLIM;
    r->solve_ms = now_ms() - t0;
    r->status = glp_get_status(r->lp);
    r->objective = glp_get_obj_val(r->lp);
    r->iterations = glp_get_it_cnt(r->lp);
    return r->rc;
}

/* The only frame with setjmp: everything it changes after setjmp lives in *pl and *r (see guard.h). */
static int guarded_lp(opt_planner *pl, const struct opt_model *m, struct run *r)
{
    if (setjmp(pl->jb)) {
        opt_guard_recover();          /* frees every GLPK object of this thread */
        forget(pl, 0);
        r->lp = NULL;
        return r->rc = -2;
    }
    opt_guard_install(&pl->jb);
    int rc = run_glpk(pl, m, r);
    opt_guard_remove();
    return rc;
}

static void lp_values(const struct opt_model *m, glp_prob *lp, int interior, double *kw)
{
    for (int i = 0; i < m->n; i++)
        for (int t = m->first[i]; t < m->end[i]; t++) {
            int j = m->col0[i] + m->lp_of[t] - m->lfirst[i]; /* a coarse slot's power in each of its slots */
            kw[(size_t)i * m->T + t] = interior ? glp_ipt_col_prim(lp, j) : glp_get_col_prim(lp, j);
        }
}

static void note(struct opt_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct opt_plan *p, const char *fmt, ...)
{
    size_t used = strlen(p->note);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->note + used, sizeof(p->note) - used, fmt, ap);
    va_end(ap);
}

static int any_min_power(const struct opt_model *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->pb->sessions[i].min_kw > 0)
            return 1;
    return 0;
}

/* Minimum power on top of an LP plan: keep it if it already complies, else MIP or repair. */
static void min_power(opt_planner *pl, const struct opt_model *m, double *kw, struct opt_plan *plan)
{
    if (opt_min_power_ok(m, kw))
        return;
    int nb = opt_mip_binaries(m);
    if (pl->opt.max_mip_binaries >= 0 && nb <= pl->opt.max_mip_binaries) {
        double *mk = malloc(sizeof(double) * (size_t)m->n * (size_t)m->T + 1);
        int timelimit = 0, it = 0, mrc = -1;
        char buf[96] = "";
        if (mk)
            mrc = opt_mip_solve(m, mk, &timelimit, &it, buf, sizeof(buf));
        if (mrc == -2)
            forget(pl, 0); /* the GLPK environment was freed, with the kept problem */
        if (mrc == 0) {
            opt_enforce(m, mk);
            if (opt_min_power_ok(m, mk)) {
                memcpy(kw, mk, sizeof(double) * (size_t)m->n * (size_t)m->T);
                plan->method = timelimit ? OPT_METHOD_MIP_TIMELIMIT : OPT_METHOD_MIP;
                plan->iterations += it;
                note(plan, "mip with %d binaries; ", nb);
                free(mk);
                return;
            }
        }
        free(mk);
        note(plan, "mip with %d binaries gave no plan (%s), repaired; ", nb, buf);
    } else {
        note(plan, "%d binaries over max_mip_binaries, repaired; ", nb);
    }
    opt_repair_min_power(m, kw);
    plan->method = OPT_METHOD_LP_REPAIR;
}

int opt_solve(opt_planner *pl, const struct opt_problem *pb, struct opt_plan **out, char *err, size_t errlen)
{
    *out = NULL;
    double t_start = now_ms();
    int rc = opt_validate_resolved(pb, &pl->opt, err, errlen);
    if (rc)
        return rc;
    struct opt_model m;
    if (opt_model_init(&m, pb, &pl->opt)) {
        opt_errf(err, errlen, "out of memory");
        return OPT_ENOMEM;
    }
    struct opt_plan *plan = opt_plan_alloc(m.n, m.T);
    double *kw = calloc((size_t)m.n * (size_t)m.T + 1, sizeof(double));
    if (!plan || !kw) {
        opt_plan_free(plan);
        free(kw);
        opt_model_free(&m);
        opt_errf(err, errlen, "out of memory");
        return OPT_ENOMEM;
    }
    const char *degenerate = opt_degenerate(pb);
    struct run r = { 0 };
    int ok = 0;
    if (degenerate) {
        note(plan, "fallback: degenerate input (%s); ", degenerate);
    } else {
        guarded_lp(pl, &m, &r);
        if (r.cold_why)
            note(plan, "cold start: %s; ", r.cold_why);
        if (r.switched)
            note(plan, "dual simplex stopped at %d iterations, primal; ", r.switched);
        int interior = pl->opt.use_interior && !r.warm;
        int optimal = r.rc == 0 && r.status == GLP_OPT;
        if (r.rc == -2)
            note(plan, "fallback: GLPK error (environment reset): %s; ", opt_guard_last_error());
        else if (r.rc == GLP_ETMLIM)
            note(plan, "fallback: GLPK time limit %d ms hit; ", pl->opt.time_limit_ms);
        else if (!optimal)
            note(plan, "fallback: GLPK returned %d, status %d; ", r.rc, r.status);
        if (optimal) {
            ok = 1;
            lp_values(&m, r.lp, interior, kw);
            plan->solver_objective = r.objective;
        }
        if (r.lp) {
            if (optimal && !interior)
                remember(pl, &m, r.lp);
            else
                glp_delete_prob(r.lp);
        }
    }
    /* No optimal LP (time limit, GLPK error or status, degenerate input): the kept basis is stale, and was
     * pivoted for this problem already. Warm-starting every later re-plan from it again kept depotd at the
     * 5 s time limit plan after plan; the next solve is cold instead. */
    if (!ok && pl->last) {
        forget(pl, 1);
        note(plan, "kept basis dropped; ");
    }
    plan->lp_slots = m.L;
    plan->lp_rows_dropped = r.dropped;
    plan->warm_start = r.warm;
    plan->iterations = r.iterations;
    plan->build_ms = r.build_ms;
    plan->solve_ms = r.solve_ms;
    if (ok) {
        plan->method = OPT_METHOD_LP;
        opt_enforce(&m, kw);
        opt_plan_fill(&m, plan, kw);
        plan->lp_cost = plan->cost;
        plan->lp_shortfall_kwh = plan->total_shortfall_kwh;
        plan->min_power_active = any_min_power(&m);
        if (plan->min_power_active)
            min_power(pl, &m, kw, plan);
    } else {
        plan->method = OPT_METHOD_FALLBACK;
        opt_fallback(&m, kw);
    }
    opt_plan_fill(&m, plan, kw);
    if (!ok) {
        plan->lp_cost = plan->cost;
        plan->lp_shortfall_kwh = plan->total_shortfall_kwh;
        plan->min_power_active = any_min_power(&m);
    }
    plan->min_power_extra_cost = plan->cost - plan->lp_cost;
    plan->method_name = opt_method_name(plan->method);
    size_t total = 0;
    int count, cpeak;
    size_t tpeak = 0;
    glp_mem_usage(&count, &cpeak, &total, &tpeak);
    plan->glpk_peak_bytes = tpeak;
    plan->total_ms = now_ms() - t_start;
    free(kw);
    opt_model_free(&m);
    *out = plan;
    return OPT_OK;
}
