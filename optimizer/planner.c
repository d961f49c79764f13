/*
 * planner.c - opt_solve(): validate, solve the LP with GLPK (warm from the last basis when it can: warm.c), handle
 * minimum power, fall back when GLPK cannot give a plan, and always finish with the safety pass.
 * Thread: a planner and its GLPK problems belong to the thread that calls it (GLPK's environment is
 * per thread).
 */
#include "internal.h"
#include "guard.h"
#include "warm.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        opt_warm_forget(pl, 1);
}

void opt_planner_free(opt_planner *pl)
{
    if (!pl)
        return;
    opt_warm_forget(pl, 1);
    free(pl);
}

void opt_thread_cleanup(void)
{
    opt_guard_free_env();
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
        opt_warm_forget(pl, 0); /* a GLPK error or opt_thread_cleanup() freed it */
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
        r->mapped = opt_warm_transfer(pl, m, r->lp);
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
        opt_warm_forget(pl, 0);
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
            opt_warm_forget(pl, 0); /* the GLPK environment was freed, with the kept problem */
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
                opt_warm_remember(pl, &m, r.lp);
            else
                glp_delete_prob(r.lp);
        }
    }
    /* No optimal LP (time limit, GLPK error or status, degenerate input): the kept basis is stale, and was
     * pivoted for this problem already. Warm-starting every later re-plan from it again kept depotd at the
     * 5 s time limit plan after plan; the next solve is cold instead. */
    if (!ok && pl->last) {
        opt_warm_forget(pl, 1);
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
