/*
 * gen.h - seeded random instances and an independent checker of every constraint, shared by the property
 * tests and the cross-check exporter. The checker re-derives circuit and phase loads from the problem
 * itself (it does not use the library's internal groups).
 */
#ifndef OPT_TEST_GEN_H
#define OPT_TEST_GEN_H

#include <math.h>
#include <optimizer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inst {
    struct opt_problem pb;
    double *price, *limit, *slot_max;
    struct opt_session *s;
    struct opt_circuit *c;
    char (*ids)[24];
};

static uint64_t gen_state;
static double urand(void) /* splitmix64: reproducible on every platform */
{
    uint64_t z = (gen_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
static int irand(int lo, int hi) { return lo + (int)(urand() * (hi - lo + 1)); } /* [lo, hi] */

static void inst_free(struct inst *x)
{
    free(x->price), free(x->limit), free(x->slot_max), free(x->s), free(x->c), free(x->ids);
    memset(x, 0, sizeof(*x));
}

/* n sessions, T slots of 15 min, up to max_circuits nested circuits. */
static void gen_instance(struct inst *x, uint64_t seed, int n, int T, int max_circuits)
{
    memset(x, 0, sizeof(*x));
    gen_state = seed;
    int nc = max_circuits ? irand(0, max_circuits) : 0;
    x->price = malloc(sizeof(double) * T);
    x->limit = malloc(sizeof(double) * T);
    x->slot_max = malloc(sizeof(double) * T);
    x->s = calloc(n + 1, sizeof(*x->s));
    x->c = calloc(nc + 1, sizeof(*x->c));
    x->ids = calloc(n + 1, sizeof(*x->ids));
    static const double pmax[] = { 3.7, 7.4, 11, 22 };
    double base = urand() * 0.3;
    for (int t = 0; t < T; t++) {
        x->price[t] = base + urand() * 0.4 - 0.05;
        x->limit[t] = urand() < 0.05 ? 0 : (0.2 + urand() * 0.8) * 8 * n;
        x->slot_max[t] = urand() < 0.1 ? 0 : 3 + urand() * 8;
    }
    for (int k = 0; k < nc; k++)
        x->c[k] = (struct opt_circuit){ .parent = irand(-1, k - 1), .limit_kw = (0.2 + urand()) * 4 * n,
                                         .per_phase = urand() < 0.5 };
    for (int i = 0; i < n; i++) {
        struct opt_session *s = &x->s[i];
        snprintf(x->ids[i], sizeof(x->ids[i]), "ev%d", i);
        int a = irand(0, T - 1);
        *s = (struct opt_session){ .id = x->ids[i], .first_slot = a, .end_slot = irand(a, T + 4),
                                   .energy_kwh = urand() * 60, .efficiency = 0.85 + urand() * 0.15,
                                   .max_kw = pmax[irand(0, 3)], .priority = irand(1, 3),
                                   .circuit = nc ? irand(-1, nc - 1) : -1,
                                   .phases = urand() < 0.6 ? OPT_THREE_PHASE : (enum opt_phases)irand(1, 3) };
        if (urand() < 0.1)
            s->max_kw_slot = x->slot_max;
    }
    x->pb = (struct opt_problem){ .slots = T, .slot_hours = 0.25, .first_slot_hours = 0.05 + urand() * 0.2,
                                  .price = x->price, .site_limit_kw = x->limit, .sessions = x->s,
                                  .n_sessions = n, .circuits = x->c, .n_circuits = nc };
    if (urand() < 0.3) {
        x->pb.demand_charge = urand() * 5;
        x->pb.existing_peak_kw = urand() * 2 * n;
    }
}

static double inst_pmax(const struct opt_problem *pb, int i, int t)
{
    const struct opt_session *s = &pb->sessions[i];
    if (t < s->first_slot || t >= s->end_slot)
        return 0;
    return s->max_kw_slot ? s->max_kw_slot[t] : s->max_kw;
}

/* Number of violated constraints (each printed with `what`). tol is absolute, in kW / kWh. */
static inline int check_plan(const struct opt_problem *pb, const struct opt_plan *p, double tol, const char *what)
{
    int T = pb->slots, bad = 0;
#define VIOL(...) do { if (bad++ < 5) { printf("     %s: ", what); printf(__VA_ARGS__); printf("\n"); } } while (0)
    for (int i = 0; i < pb->n_sessions; i++) {
        const struct opt_session *s = &pb->sessions[i];
        double e = 0, eta = s->efficiency > 0 ? s->efficiency : 1;
        for (int t = 0; t < T; t++) {
            double v = p->kw[i * T + t], h = t == 0 && pb->first_slot_hours > 0 ? pb->first_slot_hours
                                                                               : pb->slot_hours;
            if (pb->first_parts > 1 && t < pb->first_parts)
                h = pb->first_part_hours[t];
            if (s->last_slot_hours > 0 && t == s->end_slot - 1 && s->last_slot_hours < h)
                h = s->last_slot_hours;
            if (v < -tol || v > inst_pmax(pb, i, t) + tol)
                VIOL("session %d slot %d: %g kW outside [0, %g]", i, t, v, inst_pmax(pb, i, t));
            if (v > 1e-9 && v < s->min_kw * (1 - 1e-6))
                VIOL("session %d slot %d: %g kW below min %g", i, t, v, s->min_kw);
            e += eta * v * h;
        }
        if (fabs(e - p->delivered_kwh[i]) > tol || e > s->energy_kwh + tol)
            VIOL("session %d: delivered %g (plan says %g), need %g", i, e, p->delivered_kwh[i], s->energy_kwh);
    }
    for (int t = 0; t < T; t++) {
        double site = 0;
        for (int i = 0; i < pb->n_sessions; i++)
            site += p->kw[i * T + t];
        if (site > pb->site_limit_kw[t] + tol)
            VIOL("slot %d: site %g kW over %g", t, site, pb->site_limit_kw[t]);
        for (int c = 0; c < pb->n_circuits; c++) {
            double load[4] = { 0 }; /* [0] total, [1..3] phases */
            for (int i = 0; i < pb->n_sessions; i++) {
                int in = 0;
                for (int k = pb->sessions[i].circuit; k >= 0; k = pb->circuits[k].parent)
                    in |= k == c;
                if (!in)
                    continue;
                double v = p->kw[i * T + t];
                load[0] += v;
                for (int ph = 1; ph <= 3; ph++)
                    load[ph] += pb->sessions[i].phases == OPT_THREE_PHASE ? v / 3
                                : (int)pb->sessions[i].phases == ph   ? v : 0;
            }
            for (int ph = pb->circuits[c].per_phase ? 1 : 0; ph <= (pb->circuits[c].per_phase ? 3 : 0); ph++)
                if (load[ph] > pb->circuits[c].limit_kw + tol)
                    VIOL("slot %d circuit %d phase %d: %g kW over %g", t, c, ph, load[ph],
                         pb->circuits[c].limit_kw);
        }
    }
#undef VIOL
    return bad;
}

#endif
