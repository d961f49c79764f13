/*
 * test_properties.c - seeded random instances: every constraint holds to 1e-6 (LP, fallback, min power),
 * feasible demand is fully met, nothing is charged outside [a_i, d_i).
 */
#include "check.h"
#include "gen.h"

#define INSTANCES 150

static struct opt_plan *solve(opt_planner *pl, const struct opt_problem *pb)
{
    struct opt_plan *p = NULL;
    char err[256] = "";
    if (opt_solve(pl, pb, &p, err, sizeof(err)) != OPT_OK)
        printf("     solve failed: %s\n", err);
    return p;
}

static void sizes(uint64_t seed, int *n, int *T)
{
    gen_state = seed * 7919;
    *n = irand(1, 25);
    *T = irand(4, 48);
}

static void test_lp_plans_hold_every_constraint(void)
{
    opt_planner *pl = opt_planner_new(NULL);
    int bad = 0, nonlp = 0;
    for (uint64_t seed = 1; seed <= INSTANCES; seed++) {
        int n, T;
        sizes(seed, &n, &T);
        struct inst x;
        gen_instance(&x, seed, n, T, 3);
        struct opt_plan *p = solve(pl, &x.pb);
        if (!p || check_plan(&x.pb, p, 1e-6, "lp")) {
            bad++;
            printf("     seed %llu failed\n", (unsigned long long)seed);
        }
        nonlp += p && p->method != OPT_METHOD_LP;
        opt_plan_free(p);
        inst_free(&x);
    }
    CHECK(bad == 0, "random instances: LP plans keep limits, windows and energy caps (%d of %d bad)", bad,
          INSTANCES);
    CHECK(nonlp == 0, "random instances: all solved by the LP (%d not)", nonlp);
    opt_planner_free(pl);
}

/* Demand made feasible by construction: each need is what a forced fallback plan delivered. */
static void test_feasible_demand_is_met(void)
{
    struct opt_options fo = { .fault = 2 };
    opt_planner *fallback = opt_planner_new(&fo), *pl = opt_planner_new(NULL);
    int bad = 0, checked = 0;
    for (uint64_t seed = 1000; seed < 1000 + INSTANCES; seed++) {
        int n, T;
        sizes(seed, &n, &T);
        struct inst x;
        gen_instance(&x, seed, n, T, 3);
        struct opt_plan *f = solve(fallback, &x.pb);
        if (!f)
            continue;
        for (int i = 0; i < n; i++)
            x.s[i].energy_kwh = f->delivered_kwh[i] * 0.999;
        struct opt_plan *p = solve(pl, &x.pb);
        checked++;
        if (!p || p->total_shortfall_kwh > 1e-6 * (1 + n) || check_plan(&x.pb, p, 1e-6, "feasible")) {
            bad++;
            printf("     seed %llu: shortfall %g\n", (unsigned long long)seed, p ? p->total_shortfall_kwh : -1);
        }
        /* The fallback plan is feasible for these needs, so the optimum costs no more than it. */
        double grid_kwh = 0, pmax = 0;
        for (int t = 0; p && t < T; t++)
            grid_kwh += p->site_kw[t] * x.pb.slot_hours, pmax = fmax(pmax, fabs(x.price[t]));
        /* (plus what the earliness tie-break may cost: 1e-4 of the highest price per kWh) */
        if (p && f && p->cost > f->cost + 1e-6 * (1 + fabs(f->cost)) + 1e-4 * pmax * grid_kwh) {
            bad++;
            printf("     seed %llu: LP cost %g above fallback %g\n", (unsigned long long)seed, p->cost, f->cost);
        }
        opt_plan_free(f);
        opt_plan_free(p);
        inst_free(&x);
    }
    CHECK(bad == 0 && checked == INSTANCES, "feasible demand fully met on %d instances (%d bad)", checked, bad);
    opt_planner_free(fallback);
    opt_planner_free(pl);
}

static void test_fallback_holds_every_constraint(void)
{
    struct opt_options fo = { .fault = 2 };
    opt_planner *pl = opt_planner_new(&fo);
    int bad = 0, method = 0;
    for (uint64_t seed = 2000; seed < 2000 + INSTANCES; seed++) {
        int n, T;
        sizes(seed, &n, &T);
        struct inst x;
        gen_instance(&x, seed, n, T, 3);
        for (int i = 0; i < n; i += 3)
            x.s[i].min_kw = 4.14; /* 6 A x 3 x 230 V */
        struct opt_plan *p = solve(pl, &x.pb);
        bad += !p || check_plan(&x.pb, p, 1e-6, "fallback");
        method += p && p->method == OPT_METHOD_FALLBACK;
        opt_plan_free(p);
        inst_free(&x);
    }
    CHECK(method == INSTANCES, "time limit hit: the plan says fallback (%d of %d)", method, INSTANCES);
    CHECK(bad == 0, "fallback plans keep every limit, window and minimum power (%d bad)", bad);
    opt_planner_free(pl);
}

static void test_min_power_plans(int mip)
{
    struct opt_options o = { .max_mip_binaries = mip ? 400 : -1, .time_limit_ms = 2000 };
    opt_planner *pl = opt_planner_new(&o);
    int bad = 0, methods[5] = { 0 };
    double worst_extra = 0;
    for (uint64_t seed = 3000; seed < 3000 + INSTANCES / 3; seed++) {
        int n, T;
        sizes(seed, &n, &T);
        if (mip)
            n = n % 6 + 1, T = T % 16 + 4;
        struct inst x;
        gen_instance(&x, seed, n, T, 2);
        for (int i = 0; i < n; i++)
            x.s[i].min_kw = i % 2 ? 4.14 : 1.38;
        struct opt_plan *p = solve(pl, &x.pb);
        bad += !p || check_plan(&x.pb, p, 1e-6, mip ? "min power mip" : "min power repair");
        if (p) {
            methods[p->method]++;
            if (p->total_shortfall_kwh <= p->lp_shortfall_kwh + 1e-6)
                worst_extra = fmax(worst_extra, p->min_power_extra_cost);
            /* With the same shortfall, an exact MIP cannot cost less than its relaxation (within earliness). */
            if (p->method == OPT_METHOD_MIP && fabs(p->total_shortfall_kwh - p->lp_shortfall_kwh) < 1e-6 &&
                p->min_power_extra_cost < -1e-4 * (1 + fabs(p->lp_cost))) {
                bad++;
                printf("     seed %llu: MIP cost %g below LP %g\n", (unsigned long long)seed, p->cost, p->lp_cost);
            }
        }
        opt_plan_free(p);
        inst_free(&x);
    }
    CHECK(bad == 0, "min power (%s): limits hold and every slot is 0 or >= min (%d bad; lp %d mip %d "
          "mip-timelimit %d repair %d fallback %d; worst extra cost %.4g)", mip ? "mip" : "repair", bad,
          methods[0], methods[1], methods[2], methods[3], methods[4], worst_extra);
    if (mip)
        CHECK(methods[OPT_METHOD_MIP] + methods[OPT_METHOD_MIP_TIMELIMIT] > 0, "min power: the MIP was used");
    else
        CHECK(methods[OPT_METHOD_MIP] == 0, "min power: no MIP when max_mip_binaries = -1");
    opt_planner_free(pl);
}

int main(void)
{
    test_lp_plans_hold_every_constraint();
    test_feasible_demand_is_met();
    test_fallback_holds_every_constraint();
    test_min_power_plans(1);
    test_min_power_plans(0);
    opt_thread_cleanup();
    return check_done("test_properties");
}
