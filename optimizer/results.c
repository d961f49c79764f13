/* results.c - a plan's numbers, always recomputed from the final powers (not from the solver's values). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

const char *opt_method_name(enum opt_method m)
{
    switch (m) {
    case OPT_METHOD_LP: return "lp";
    case OPT_METHOD_MIP: return "mip";
    case OPT_METHOD_MIP_TIMELIMIT: return "mip-timelimit";
    case OPT_METHOD_LP_REPAIR: return "lp-repair";
    case OPT_METHOD_FALLBACK: return "fallback-edf";
    }
    return "?";
}

struct opt_plan *opt_plan_alloc(int n, int T)
{
    struct opt_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->slots = T;
    p->n_sessions = n;
    p->kw = calloc((size_t)n * (size_t)T + 1, sizeof(double));
    p->site_kw = calloc((size_t)T + 1, sizeof(double));
    p->delivered_kwh = calloc((size_t)n + 1, sizeof(double));
    p->shortfall_kwh = calloc((size_t)n + 1, sizeof(double));
    p->solver_objective = NAN;
    if (!p->kw || !p->site_kw || !p->delivered_kwh || !p->shortfall_kwh) {
        opt_plan_free(p);
        return NULL;
    }
    return p;
}

void opt_plan_free(struct opt_plan *p)
{
    if (!p)
        return;
    free(p->kw);
    free(p->site_kw);
    free(p->delivered_kwh);
    free(p->shortfall_kwh);
    free(p);
}

void opt_plan_fill(const struct opt_model *m, struct opt_plan *p, const double *kw)
{
    const struct opt_problem *pb = m->pb;
    int T = m->T;
    p->energy_cost = p->earliness_cost = p->penalty = p->total_shortfall_kwh = 0;
    for (int t = 0; t < T; t++)
        p->site_kw[t] = 0;
    for (int i = 0; i < m->n; i++) {
        double e = 0;
        for (int t = 0; t < T; t++) {
            double v = kw[(size_t)i * T + t];
            p->kw[(size_t)i * T + t] = v;
            p->site_kw[t] += v;
            double h = opt_hours(m, i, t);
            e += m->eta[i] * v * h;
            p->energy_cost += pb->price[t] * v * h;
            p->earliness_cost += m->ew[i] * opt_eps(m, t) * v * h;
        }
        double need = pb->sessions[i].energy_kwh;
        p->delivered_kwh[i] = e;
        p->shortfall_kwh[i] = need > e ? need - e : 0;
        p->total_shortfall_kwh += p->shortfall_kwh[i];
        p->penalty += opt_penalty(m, i) * p->shortfall_kwh[i];
    }
    p->peak_kw = 0;
    for (int t = 0; t < T; t++)
        p->peak_kw = fmax(p->peak_kw, p->site_kw[t]);
    double excess = p->peak_kw - pb->existing_peak_kw;
    p->demand_cost = pb->demand_charge > 0 && excess > 0 ? pb->demand_charge * excess : 0;
    p->cost = p->energy_cost + p->demand_cost;
    p->objective = p->cost + p->penalty + p->earliness_cost;
}
