/* model.c - the index layout of a problem and the GLPK LP built from it (tight: columns only in windows). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double opt_pmax(const struct opt_model *m, int i, int t)
{
    if (t < m->first[i] || t >= m->end[i])
        return 0;
    const struct opt_session *s = &m->pb->sessions[i];
    return s->max_kw_slot ? s->max_kw_slot[t] : s->max_kw;
}

double opt_hours(const struct opt_model *m, int i, int t)
{
    const struct opt_session *s = &m->pb->sessions[i];
    if (s->last_slot_hours > 0 && t == s->end_slot - 1 && s->end_slot <= m->T && s->last_slot_hours < m->hours[t])
        return s->last_slot_hours;
    return m->hours[t];
}

double opt_group_limit(const struct opt_model *m, int g, int t)
{
    const struct opt_group *gr = &m->group[g];
    if (gr->circuit < 0) return m->pb->site_limit_kw[t];
    const double *slot = m->pb->circuits[gr->circuit].limit_kw_slot;
    return slot && slot[t] < gr->limit ? slot[t] : gr->limit;
}

static int win_lo(const struct opt_model *m, int i, int u)
{
    return m->lp_t0[u] > m->first[i] ? m->lp_t0[u] : m->first[i];
}

static int win_hi(const struct opt_model *m, int i, int u)
{
    return m->lp_t0[u + 1] < m->end[i] ? m->lp_t0[u + 1] : m->end[i];
}

double opt_col_pmax(const struct opt_model *m, int i, int u)
{
    double p = INFINITY;
    for (int t = win_lo(m, i, u); t < win_hi(m, i, u); t++)
        p = fmin(p, opt_pmax(m, i, t));
    return isinf(p) ? 0 : p;
}

double opt_col_hours(const struct opt_model *m, int i, int u)
{
    double h = 0;
    for (int t = win_lo(m, i, u); t < win_hi(m, i, u); t++)
        h += opt_hours(m, i, t);
    return h;
}

double opt_lp_limit(const struct opt_model *m, int g, int u)
{
    double l = INFINITY;
    for (int t = m->lp_t0[u]; t < m->lp_t0[u + 1]; t++)
        l = fmin(l, opt_group_limit(m, g, t));
    return l;
}

double opt_eps(const struct opt_model *m, int t)
{
    return m->T > 1 ? m->max_eps * t / (m->T - 1) : 0;
}

double opt_penalty(const struct opt_model *m, int i)
{
    return m->m_unit * m->w[i] / m->w_min;
}

void opt_model_free(struct opt_model *m)
{
    if (m->group)
        for (int g = 0; g < m->ngroups; g++) {
            free(m->group[g].member);
            free(m->group[g].coef);
        }
    free(m->group);
    free(m->hours);
    free(m->first);
    free(m->end);
    free(m->eta);
    free(m->w);
    free(m->ew);
    free(m->col0);
    free(m->scol);
    free(m->lp_of);
    free(m->lp_t0);
    free(m->lfirst);
    free(m->lend);
    free(m->lp_end_ms);
    free(m->sg_start);
    free(m->sg_group);
    free(m->sg_coef);
    memset(m, 0, sizeof(*m));
}

/* Groups: 0 = site, then each circuit (one group, or three for a per-phase circuit), parents first. */
static int init_groups(struct opt_model *m)
{
    const struct opt_problem *pb = m->pb;
    int *gidx = malloc(sizeof(int) * (size_t)(pb->n_circuits + 1));
    if (!gidx)
        return -1;
    m->ngroups = 1;
    for (int c = 0; c < pb->n_circuits; c++) {
        gidx[c] = m->ngroups;
        m->ngroups += pb->circuits[c].per_phase ? 3 : 1;
    }
    m->group = calloc((size_t)m->ngroups, sizeof(*m->group));
    m->sg_start = calloc((size_t)m->n + 1, sizeof(int));
    if (!m->group || !m->sg_start)
        goto fail;
    m->group[0].circuit = -1;
    for (int c = 0; c < pb->n_circuits; c++)
        for (int k = 0; k < (pb->circuits[c].per_phase ? 3 : 1); k++) {
            struct opt_group *g = &m->group[gidx[c] + k];
            g->circuit = c;
            g->phase = pb->circuits[c].per_phase ? k + 1 : 0;
            g->limit = pb->circuits[c].limit_kw;
        }
    /* Two passes over each session's ancestor chain: count, then fill. */
    for (int pass = 0; pass < 2; pass++) {
        int k = 0;
        for (int i = 0; i < m->n; i++) {
            const struct opt_session *s = &pb->sessions[i];
            m->sg_start[i] = k;
            if (pass)
                m->sg_group[k] = 0, m->sg_coef[k] = 1;
            k++;
            for (int c = s->circuit; c >= 0; c = pb->circuits[c].parent) {
                int first = gidx[c], count = 1;
                double coef = 1;
                if (pb->circuits[c].per_phase) {
                    if (s->phases == OPT_THREE_PHASE)
                        count = 3, coef = OPT_PHASE_COEF;
                    else
                        first += (int)s->phases - 1;
                }
                for (int j = 0; j < count; j++, k++)
                    if (pass)
                        m->sg_group[k] = first + j, m->sg_coef[k] = coef;
            }
        }
        m->sg_start[m->n] = k;
        if (!pass) {
            m->sg_group = malloc(sizeof(int) * (size_t)(k + 1));
            m->sg_coef = malloc(sizeof(double) * (size_t)(k + 1));
            if (!m->sg_group || !m->sg_coef)
                goto fail;
        }
    }
    for (int k = 0; k < m->sg_start[m->n]; k++)
        m->group[m->sg_group[k]].n++;
    for (int g = 0; g < m->ngroups; g++) {
        m->group[g].member = malloc(sizeof(int) * (size_t)(m->group[g].n + 1));
        m->group[g].coef = malloc(sizeof(double) * (size_t)(m->group[g].n + 1));
        if (!m->group[g].member || !m->group[g].coef)
            goto fail;
        m->group[g].n = 0;
    }
    for (int i = 0; i < m->n; i++)
        for (int k = m->sg_start[i]; k < m->sg_start[i + 1]; k++) {
            struct opt_group *g = &m->group[m->sg_group[k]];
            g->member[g->n] = i;
            g->coef[g->n++] = m->sg_coef[k];
        }
    free(gidx);
    return 0;
fail:
    free(gidx);
    return -1;
}

int opt_model_init(struct opt_model *m, const struct opt_problem *pb, const struct opt_options *o)
{
    memset(m, 0, sizeof(*m));
    m->pb = pb;
    m->opt = *o;
    m->n = pb->n_sessions;
    m->T = pb->slots;
    size_t n = (size_t)m->n + 1, T = (size_t)m->T;
    m->hours = malloc(sizeof(double) * T);
    m->first = malloc(sizeof(int) * n);
    m->end = malloc(sizeof(int) * n);
    m->eta = malloc(sizeof(double) * n);
    m->w = malloc(sizeof(double) * n);
    m->ew = malloc(sizeof(double) * n);
    m->col0 = malloc(sizeof(int) * n);
    m->scol = malloc(sizeof(int) * n);
    m->lp_of = malloc(sizeof(int) * T);
    m->lp_t0 = malloc(sizeof(int) * (T + 1));
    m->lfirst = malloc(sizeof(int) * n);
    m->lend = malloc(sizeof(int) * n);
    m->lp_end_ms = malloc(sizeof(int64_t) * T);
    if (!m->hours || !m->first || !m->end || !m->eta || !m->w || !m->ew || !m->col0 || !m->scol || !m->lp_of ||
        !m->lp_t0 || !m->lfirst || !m->lend || !m->lp_end_ms)
        goto fail;
    for (int t = 0; t < m->T; t++)
        m->hours[t] = pb->slot_hours;
    if (pb->first_slot_hours > 0)
        m->hours[0] = pb->first_slot_hours;
    for (int t = 0; pb->first_parts > 1 && t < pb->first_parts && t < m->T; t++)
        m->hours[t] = pb->first_part_hours[t];
    /* The LP grid: slots starting before fine_hours stay alone, later ones are grouped k at a time. */
    int k = pb->coarse_slot_hours > 0 ? (int)round(pb->coarse_slot_hours / pb->slot_hours) : 1;
    double start = 0;
    m->L = 0;
    for (int t = 0, left = 0; t < m->T; start += m->hours[t], t++) {
        if (left == 0) {
            m->lp_t0[m->L++] = t;
            left = k > 1 && start >= pb->fine_hours - 1e-9 * pb->slot_hours ? k : 1;
        }
        m->lp_of[t] = m->L - 1;
        left--;
    }
    m->lp_t0[m->L] = m->T;
    /* Where each LP slot ends (ms from the epoch's grid): what a warm start matches slots by. */
    double first = pb->first_slot_hours > 0 ? pb->first_slot_hours : pb->slot_hours;
    double end_h = (double)(pb->epoch_slot + 1) * pb->slot_hours - first, hmin = INFINITY;
    for (int t = 0, u = 0; t < m->T; t++) {
        end_h += m->hours[t];
        hmin = fmin(hmin, m->hours[t]);
        if (t + 1 == m->lp_t0[u + 1])
            m->lp_end_ms[u++] = llround(end_h * 3.6e6);
    }

    double eta_min = 1, ew_max = 1;
    m->w_min = INFINITY;
    int col = 1;
    for (int i = 0; i < m->n; i++) {
        const struct opt_session *s = &pb->sessions[i];
        m->first[i] = s->first_slot < m->T ? s->first_slot : m->T;
        m->end[i] = s->end_slot < m->T ? s->end_slot : m->T;
        m->eta[i] = s->efficiency > 0 ? s->efficiency : 1;
        m->w[i] = s->priority > 0 ? s->priority : 1;
        m->ew[i] = s->earliness_weight > 0 ? s->earliness_weight : 1;
        ew_max = fmax(ew_max, m->ew[i]);
        eta_min = fmin(eta_min, m->eta[i]);
        m->w_min = fmin(m->w_min, m->w[i]);
        m->lfirst[i] = m->first[i] < m->T ? m->lp_of[m->first[i]] : m->L;
        m->lend[i] = m->end[i] > m->first[i] ? m->lp_of[m->end[i] - 1] + 1 : m->lfirst[i];
        m->col0[i] = col;
        col += m->lend[i] - m->lfirst[i];
        m->scol[i] = col++;
    }
    if (!(m->w_min > 0))
        m->w_min = 1;
    m->peak_col = pb->demand_charge > 0 ? col++ : 0;
    m->ncols = col - 1;

    m->ref_price = 0;
    for (int t = 0; t < m->T; t++)
        m->ref_price = fmax(m->ref_price, fabs(pb->price[t]));
    if (m->ref_price == 0)
        m->ref_price = 1;
    m->max_eps = m->opt.earliness * m->ref_price;
    /* Above what any battery kWh can cost (its price, tie-break and the peak it may raise), with margin. */
    m->m_unit = 10 * (m->ref_price + ew_max * m->max_eps + pb->demand_charge / hmin) / eta_min;

    if (init_groups(m))
        goto fail;
    m->row_group0 = m->n + 1;
    m->row_peak0 = m->peak_col ? m->row_group0 + m->ngroups * m->L : 0;
    m->nrows = m->n + m->ngroups * m->L + (m->peak_col ? m->L : 0);
    return 0;
fail:
    opt_model_free(m);
    return -1;
}

static void name_rows_cols(const struct opt_model *m, glp_prob *lp)
{
    char name[64];
    for (int i = 0; i < m->n; i++) {
        snprintf(name, sizeof(name), "energy_%d", i);
        glp_set_row_name(lp, 1 + i, name);
        for (int u = m->lfirst[i]; u < m->lend[i]; u++) {
            snprintf(name, sizeof(name), "p_%d_%d", i, u);
            glp_set_col_name(lp, m->col0[i] + u - m->lfirst[i], name);
        }
        snprintf(name, sizeof(name), "s_%d", i);
        glp_set_col_name(lp, m->scol[i], name);
    }
    for (int g = 0; g < m->ngroups; g++)
        for (int u = 0; u < m->L; u++) {
            if (g == 0)
                snprintf(name, sizeof(name), "site_%d", u);
            else
                snprintf(name, sizeof(name), "c%d_%d_%d", m->group[g].circuit, m->group[g].phase, u);
            glp_set_row_name(lp, m->row_group0 + g * m->L + u, name);
        }
    if (m->peak_col) {
        glp_set_col_name(lp, m->peak_col, "peak_excess");
        for (int u = 0; u < m->L; u++) {
            snprintf(name, sizeof(name), "peak_%d", u);
            glp_set_row_name(lp, m->row_peak0 + u, name);
        }
    }
}

/*
 * The most each limit row can carry: its members' column bounds weighted by their coefficients. A row whose
 * most is within its limit can never bind; it is left free (GLPK then ignores it) instead of making every
 * basis one row larger. The final pass (opt_enforce) still checks every limit on the plan.
 */
static double *max_loads(const struct opt_model *m)
{
    double *load = calloc((size_t)m->ngroups * (size_t)m->L + 1, sizeof(double));
    if (!load)
        return NULL;
    for (int i = 0; i < m->n; i++)
        for (int u = m->lfirst[i]; u < m->lend[i]; u++) {
            double p = opt_col_pmax(m, i, u);
            for (int q = m->sg_start[i]; q < m->sg_start[i + 1]; q++)
                load[(size_t)m->sg_group[q] * m->L + u] += m->sg_coef[q] * p;
        }
    return load;
}

static int bindable(const struct opt_model *m, const double *load, int g, int u, double limit)
{
    /* Margin: a row that could bind by round-off only stays in. */
    return !load || m->opt.keep_redundant_rows || load[(size_t)g * m->L + u] > limit * (1 - 1e-9);
}

glp_prob *opt_model_build(const struct opt_model *m, int names, int *dropped)
{
    const struct opt_problem *pb = m->pb;
    double *load = max_loads(m);
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    if (m->nrows)
        glp_add_rows(lp, m->nrows);
    if (m->ncols)
        glp_add_cols(lp, m->ncols);
    double scale = 1 / m->ref_price;

    int ndrop = 0;
    for (int i = 0; i < m->n; i++)
        glp_set_row_bnds(lp, 1 + i, GLP_FX, pb->sessions[i].energy_kwh, pb->sessions[i].energy_kwh);
    for (int g = 0; g < m->ngroups; g++)
        for (int u = 0; u < m->L; u++) {
            double limit = opt_lp_limit(m, g, u);
            int r = m->row_group0 + g * m->L + u;
            if (isinf(limit) || !bindable(m, load, g, u, limit)) {
                ndrop += !isinf(limit);
                glp_set_row_bnds(lp, r, GLP_FR, 0, 0);
            } else {
                glp_set_row_bnds(lp, r, GLP_UP, 0, limit);
            }
        }
    for (int u = 0; m->peak_col && u < m->L; u++) {
        int r = m->row_peak0 + u;
        if (bindable(m, load, 0, u, pb->existing_peak_kw))
            glp_set_row_bnds(lp, r, GLP_UP, 0, pb->existing_peak_kw);
        else
            glp_set_row_bnds(lp, r, GLP_FR, 0, 0), ndrop++;
    }
    free(load);
    if (dropped)
        *dropped = ndrop;

    size_t nz = 0;
    for (int i = 0; i < m->n; i++)
        nz += (size_t)(m->lend[i] - m->lfirst[i]) * (size_t)(1 + m->sg_start[i + 1] - m->sg_start[i] +
                                                             (m->peak_col ? 1 : 0)) + 1;
    nz += (size_t)m->L;
    int *ia = malloc(sizeof(int) * (nz + 1));
    int *ja = malloc(sizeof(int) * (nz + 1));
    double *ar = malloc(sizeof(double) * (nz + 1));
    if (!ia || !ja || !ar) {
        free(ia), free(ja), free(ar);
        glp_delete_prob(lp);
        return NULL;
    }
    int k = 0;
#define NZ(r, c, v) (++k, ia[k] = (r), ja[k] = (c), ar[k] = (v))
    for (int i = 0; i < m->n; i++) {
        for (int u = m->lfirst[i]; u < m->lend[i]; u++) {
            int j = m->col0[i] + u - m->lfirst[i];
            double p = opt_col_pmax(m, i, u), cost = 0, h = 0;
            /* Exact on the slots it covers: the power is flat, so cost and energy add up slot by slot. */
            for (int t = m->lp_t0[u] > m->first[i] ? m->lp_t0[u] : m->first[i];
                 t < m->lp_t0[u + 1] && t < m->end[i]; t++) {
                cost += (pb->price[t] + m->ew[i] * opt_eps(m, t)) * opt_hours(m, i, t);
                h += opt_hours(m, i, t);
            }
            if (p > 0)
                glp_set_col_bnds(lp, j, GLP_DB, 0, p);
            else
                glp_set_col_bnds(lp, j, GLP_FX, 0, 0);
            glp_set_obj_coef(lp, j, cost * scale);
            NZ(1 + i, j, m->eta[i] * h);
            for (int q = m->sg_start[i]; q < m->sg_start[i + 1]; q++)
                NZ(m->row_group0 + m->sg_group[q] * m->L + u, j, m->sg_coef[q]);
            if (m->peak_col)
                NZ(m->row_peak0 + u, j, 1.0);
        }
        glp_set_col_bnds(lp, m->scol[i], GLP_LO, 0, 0);
        glp_set_obj_coef(lp, m->scol[i], opt_penalty(m, i) * scale);
        NZ(1 + i, m->scol[i], 1.0);
    }
    if (m->peak_col) {
        glp_set_col_bnds(lp, m->peak_col, GLP_LO, 0, 0);
        glp_set_obj_coef(lp, m->peak_col, pb->demand_charge * scale);
        for (int u = 0; u < m->L; u++)
            NZ(m->row_peak0 + u, m->peak_col, -1.0);
    }
#undef NZ
    if (k)
        glp_load_matrix(lp, k, ia, ja, ar);
    free(ia), free(ja), free(ar);
    if (names)
        name_rows_cols(m, lp);
    return lp;
}
