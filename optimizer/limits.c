/*
 * limits.c - the parts that keep any plan inside the limits without a solver: the final safety pass, the
 * earliest-departure fallback and the minimum-power repair. They only ever use headroom that is left, so
 * the guarantees in optimizer.h hold whatever GLPK returned.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_TOL 1e-6 /* relative tolerance on min_kw (round-off of the safety pass) */

static double *slot_loads(const struct opt_model *m, const double *kw, int t, double *load)
{
    memset(load, 0, sizeof(double) * (size_t)m->ngroups);
    for (int i = 0; i < m->n; i++) {
        double p = kw[(size_t)i * m->T + t];
        if (p != 0)
            for (int q = m->sg_start[i]; q < m->sg_start[i + 1]; q++)
                load[m->sg_group[q]] += m->sg_coef[q] * p;
    }
    return load;
}

/* kW session i could still add in slot t without any of its groups going over. */
static double headroom(const struct opt_model *m, const double *load, int i, int t)
{
    double room = INFINITY;
    for (int q = m->sg_start[i]; q < m->sg_start[i + 1]; q++) {
        int g = m->sg_group[q];
        double r = (opt_group_limit(m, g, t) - load[g]) / m->sg_coef[q];
        room = fmin(room, r);
    }
    return room > 0 ? room : 0;
}

static void add_power(const struct opt_model *m, double *load, int i, double dp)
{
    for (int q = m->sg_start[i]; q < m->sg_start[i + 1]; q++)
        load[m->sg_group[q]] += m->sg_coef[q] * dp;
}

void opt_enforce(const struct opt_model *m, double *kw)
{
    int T = m->T;
    for (int i = 0; i < m->n; i++) {
        double *row = kw + (size_t)i * T, e = 0;
        for (int t = 0; t < T; t++) {
            double p = opt_pmax(m, i, t);
            if (!(row[t] > 0))        /* also NaN */
                row[t] = 0;
            else if (row[t] > p)
                row[t] = p;
            e += m->eta[i] * row[t] * opt_hours(m, i, t);
        }
        double need = m->pb->sessions[i].energy_kwh;
        if (e > need) /* solver round-off: never plan more than the battery needs */
            for (int t = 0; t < T; t++)
                row[t] *= need > 0 ? need / e : 0;
    }
    /* Children before parents (a circuit's index is above its parent's; the site is group 0): scaling a
     * group down only lowers the groups above it, so one pass leaves every group within its limit. */
    for (int g = m->ngroups - 1; g >= 0; g--) {
        const struct opt_group *G = &m->group[g];
        for (int t = 0; t < T; t++) {
            double limit = opt_group_limit(m, g, t);
            for (int round = 0; round < 8; round++) {
                double sum = 0;
                for (int k = 0; k < G->n; k++)
                    sum += G->coef[k] * kw[(size_t)G->member[k] * T + t];
                if (sum <= limit)
                    break;
                double f = round < 7 && limit > 0 ? limit / sum * (1 - 1e-12) : 0;
                for (int k = 0; k < G->n; k++)
                    kw[(size_t)G->member[k] * T + t] *= f;
            }
        }
    }
}

struct order { int i, end; double w; };

static int cmp_edf(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return x->i - y->i;
}

void opt_fallback(const struct opt_model *m, double *kw)
{
    int n = m->n, T = m->T;
    memset(kw, 0, sizeof(double) * (size_t)n * (size_t)T);
    struct order *ord = malloc(sizeof(*ord) * (size_t)(n + 1));
    double *rem = malloc(sizeof(double) * (size_t)(n + 1));
    double *load = malloc(sizeof(double) * (size_t)m->ngroups);
    if (!ord || !rem || !load)
        goto out; /* an all-zero plan is within every limit */
    for (int i = 0; i < n; i++) {
        ord[i] = (struct order){ i, m->end[i], m->w[i] };
        rem[i] = m->pb->sessions[i].energy_kwh;
    }
    qsort(ord, (size_t)n, sizeof(*ord), cmp_edf);
    for (int t = 0; t < T; t++) {
        memset(load, 0, sizeof(double) * (size_t)m->ngroups);
        for (int k = 0; k < n; k++) {
            int i = ord[k].i;
            if (rem[i] <= 0 || t < m->first[i] || t >= m->end[i])
                continue;
            double p = fmin(opt_pmax(m, i, t), rem[i] / (m->eta[i] * opt_hours(m, i, t)));
            p = fmin(p, headroom(m, load, i, t));
            if (p < m->pb->sessions[i].min_kw)
                p = 0;
            if (p <= 0)
                continue;
            kw[(size_t)i * T + t] = p;
            add_power(m, load, i, p);
            rem[i] -= m->eta[i] * opt_hours(m, i, t) * p;
        }
    }
out:
    free(ord), free(rem), free(load);
    opt_enforce(m, kw);
}

int opt_min_power_ok(const struct opt_model *m, const double *kw)
{
    for (int i = 0; i < m->n; i++) {
        double lo = m->pb->sessions[i].min_kw * (1 - MIN_TOL);
        for (int t = m->first[i]; t < m->end[i]; t++) {
            double p = kw[(size_t)i * m->T + t];
            if (p > 0 && p < lo)
                return 0;
        }
    }
    return 1;
}

static _Thread_local const struct opt_model *sort_model; /* qsort has no context argument; one thread per planner */
static int cmp_price(const void *a, const void *b)
{
    int s = *(const int *)a, u = *(const int *)b;
    double ps = sort_model->pb->price[s], pu = sort_model->pb->price[u];
    if (ps != pu)
        return ps < pu ? -1 : 1;
    return s - u;
}

/* Moves `need` kWh of session i into its cheapest slots that take it: first raising slots already at or
 * above the minimum, then opening closed slots at >= min (trimming an open slot when that over-delivers). */
static void refill(const struct opt_model *m, double *kw, double *loads, int i, double need, int *slots)
{
    int T = m->T, ns = 0;
    double mn = m->pb->sessions[i].min_kw, eta = m->eta[i];
    double *row = kw + (size_t)i * T;
    for (int t = m->first[i]; t < m->end[i]; t++)
        slots[ns++] = t;
    sort_model = m;
    qsort(slots, (size_t)ns, sizeof(int), cmp_price);
    for (int pass = 0; pass < 2 && need > 1e-12; pass++)
        for (int k = 0; k < ns && need > 1e-12; k++) {
            int t = slots[k];
            double h = opt_hours(m, i, t), *load = loads + (size_t)t * m->ngroups;
            double cap = fmin(opt_pmax(m, i, t) - row[t], headroom(m, load, i, t));
            if (pass == 0 && row[t] > 0 && cap > 0) {
                double dp = fmin(cap, need / (eta * h));
                row[t] += dp, need -= dp * eta * h;
                add_power(m, load, i, dp);
            } else if (pass == 1 && row[t] == 0 && cap >= mn) {
                double dp = fmax(mn, fmin(cap, need / (eta * h)));
                double surplus = dp * eta * h - need;
                int trim = -1;
                for (int j = ns - 1; surplus > 1e-12 && j >= 0 && trim < 0; j--) {
                    int u = slots[j];
                    if (u != t && (row[u] - mn) * eta * opt_hours(m, i, u) >= surplus)
                        trim = u;
                }
                if (surplus > 1e-12 && trim < 0)
                    continue;
                if (trim >= 0) {
                    double dq = surplus / (eta * opt_hours(m, i, trim));
                    row[trim] -= dq;
                    add_power(m, loads + (size_t)trim * m->ngroups, i, -dq);
                    need += surplus;
                }
                row[t] = dp, need -= dp * eta * h;
                add_power(m, load, i, dp);
            }
        }
}

void opt_repair_min_power(const struct opt_model *m, double *kw)
{
    int n = m->n, T = m->T;
    double *lost = calloc((size_t)n + 1, sizeof(double));
    double *loads = malloc(sizeof(double) * (size_t)T * (size_t)m->ngroups);
    int *slots = malloc(sizeof(int) * (size_t)T);
    struct order *ord = malloc(sizeof(*ord) * (size_t)(n + 1));
    int ok = lost && loads && slots && ord;
    /* Closing every slot below the minimum first frees the headroom the refills need. */
    for (int i = 0; i < n; i++) {
        double mn = m->pb->sessions[i].min_kw * (1 - MIN_TOL);
        for (int t = m->first[i]; t < m->end[i]; t++) {
            double *p = &kw[(size_t)i * T + t];
            if (*p > 0 && *p < mn) {
                if (ok)
                    lost[i] += m->eta[i] * opt_hours(m, i, t) * *p;
                *p = 0;
            }
        }
    }
    if (ok) {
        for (int t = 0; t < T; t++)
            slot_loads(m, kw, t, loads + (size_t)t * m->ngroups);
        for (int i = 0; i < n; i++)
            ord[i] = (struct order){ i, m->end[i], m->w[i] };
        qsort(ord, (size_t)n, sizeof(*ord), cmp_edf);
        /* Higher priority refills first, then earlier departure. */
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < n; k++) {
                int i = ord[k].i;
                if (lost[i] > 0 && (pass == 0) == (m->w[i] > m->w_min))
                    refill(m, kw, loads, i, lost[i], slots);
            }
    }
    free(lost), free(loads), free(slots), free(ord);
    opt_enforce(m, kw);
}
