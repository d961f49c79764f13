/*
 * mip.c - exact minimum power: the LP plus, for every window slot of a session with min_kw > 0, a binary
 * u_it with min_kw u_it <= p_it <= P_it u_it. Solved by GLPK's branch and cut under the time limit.
 */
#include "internal.h"
#include "guard.h"

#include <string.h>

/* Per LP column: with a coarse grid one binary switches the whole (flat) coarse slot. */
static int has_binary(const struct opt_model *m, int i, int u)
{
    double mn = m->pb->sessions[i].min_kw;
    return mn > 0 && opt_col_pmax(m, i, u) >= mn;
}

int opt_mip_binaries(const struct opt_model *m)
{
    int nb = 0;
    for (int i = 0; i < m->n; i++)
        for (int u = m->lfirst[i]; u < m->lend[i]; u++)
            nb += has_binary(m, i, u);
    return nb;
}

struct mip_run {
    glp_prob *lp;
    int rc, status, iterations;
};

static void run_mip(const struct opt_model *m, struct mip_run *r)
{
    r->lp = opt_model_build(m, 0, NULL);
    if (!r->lp) {
        r->rc = -1;
        return;
    }
    int nb = opt_mip_binaries(m);
    int col = glp_get_num_cols(r->lp) + 1, row = glp_get_num_rows(r->lp) + 1;
    if (nb) {
        glp_add_cols(r->lp, nb);
        glp_add_rows(r->lp, 2 * nb);
    }
    for (int i = 0; i < m->n; i++) {
        double mn = m->pb->sessions[i].min_kw;
        if (mn <= 0)
            continue;
        for (int u = m->lfirst[i]; u < m->lend[i]; u++) {
            int j = m->col0[i] + u - m->lfirst[i];
            if (!has_binary(m, i, u)) { /* below the minimum a vehicle cannot charge at all */
                glp_set_col_bnds(r->lp, j, GLP_FX, 0, 0);
                continue;
            }
            int ind[3] = { 0, j, col };
            double lo[3] = { 0, 1, -mn }, hi[3] = { 0, 1, -opt_col_pmax(m, i, u) };
            glp_set_col_kind(r->lp, col, GLP_BV);
            glp_set_row_bnds(r->lp, row, GLP_LO, 0, 0);
            glp_set_mat_row(r->lp, row++, 2, ind, lo);
            glp_set_row_bnds(r->lp, row, GLP_UP, 0, 0);
            glp_set_mat_row(r->lp, row++, 2, ind, hi);
            col++;
        }
    }
    glp_scale_prob(r->lp, GLP_SF_AUTO);
    glp_iocp io;
    glp_init_iocp(&io);
    io.msg_lev = GLP_MSG_OFF;
    io.presolve = GLP_ON;
    io.tm_lim = m->opt.time_limit_ms;
    /* Stop at a relative gap of 1e-4 (the size of the earliness tie-break), not at a proven optimum: two
     * identical vans under an 8 kW limit with a 4.14 kW minimum (depotd's first plan under the fail-safe
     * limit) have many equal-cost on/off patterns, and proving one optimal ran into the 5 s time limit. */
    io.mip_gap = 1e-4;
    r->rc = glp_intopt(r->lp, &io);
    r->status = glp_mip_status(r->lp);
    r->iterations = glp_get_it_cnt(r->lp);
}

static void guarded_mip(const struct opt_model *m, struct mip_run *r, jmp_buf *jb)
{
    if (setjmp(*jb)) {
        opt_guard_recover();
        r->lp = NULL;
        r->rc = -2;
        return;
    }
    opt_guard_install(jb);
    run_mip(m, r);
    opt_guard_remove();
}

int opt_mip_solve(const struct opt_model *m, double *kw, int *timelimit, int *iterations, char *note,
                  size_t notelen)
{
    struct mip_run r = { 0 };
    jmp_buf jb;
    guarded_mip(m, &r, &jb);
    if (r.rc == -2) {
        opt_errf(note, notelen, "GLPK error, environment reset");
        return -2;
    }
    int ok = r.lp && (r.status == GLP_OPT || ((r.rc == GLP_ETMLIM || r.rc == GLP_EMIPGAP) && r.status == GLP_FEAS));
    *timelimit = r.rc == GLP_ETMLIM;
    *iterations = r.iterations;
    if (ok) {
        memset(kw, 0, sizeof(double) * (size_t)m->n * (size_t)m->T);
        for (int i = 0; i < m->n; i++)
            for (int t = m->first[i]; t < m->end[i]; t++) {
                double v = glp_mip_col_val(r.lp, m->col0[i] + m->lp_of[t] - m->lfirst[i]);
                /* An "off" slot can come back as round-off (1.9e-13 kW seen), which the minimum-power check
                 * rejects; an "on" slot is >= min_kw (1 - 1e-5, GLPK's integrality tolerance). */
                kw[(size_t)i * m->T + t] = v < 0.5 * m->pb->sessions[i].min_kw ? 0 : v;
            }
    } else {
        opt_errf(note, notelen, "glp_intopt returned %d, status %d", r.rc, r.status);
    }
    if (r.lp)
        glp_delete_prob(r.lp);
    return ok ? 0 : -1;
}
