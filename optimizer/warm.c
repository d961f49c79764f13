/* warm.c - warm starts from the last solve's basis (the contract is in warm.h). */
#include "warm.h"
#include "guard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void opt_warm_forget(opt_planner *pl, int delete_prob)
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

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct key *)a)->id, ((const struct key *)b)->id);
}

static const struct key *find_key(const opt_planner *pl, const char *id)
{
    struct key k = { .id = (char *)id };
    return bsearch(&k, pl->keys, (size_t)pl->nkeys, sizeof(k), cmp_key);
}

void opt_warm_remember(opt_planner *pl, const struct opt_model *m, glp_prob *lp)
{
    opt_warm_forget(pl, 1);
    pl->keys = calloc((size_t)m->n + 1, sizeof(*pl->keys));
    pl->last_gcircuit = malloc(sizeof(int) * (size_t)m->ngroups);
    pl->last_gphase = malloc(sizeof(int) * (size_t)m->ngroups);
    pl->last_end_ms = malloc(sizeof(int64_t) * (size_t)m->L);
    if (!pl->keys || !pl->last_gcircuit || !pl->last_gphase || !pl->last_end_ms) {
        glp_delete_prob(lp);
        opt_warm_forget(pl, 0);
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
int opt_warm_transfer(const opt_planner *pl, const struct opt_model *m, glp_prob *lp)
{
    int *old_of = malloc(sizeof(int) * (size_t)m->L), *new_of = malloc(sizeof(int) * ((size_t)pl->last_L + 1));
    int rc = -1;
    if (old_of && new_of && match_slots(pl, m, old_of, new_of) > 0)
        rc = carry_basis(pl, m, lp, old_of, new_of);
    free(old_of), free(new_of);
    return rc;
}
