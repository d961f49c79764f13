/* test_plans.c - small cases solved by hand: the exact plan and cost each requirement implies. */
#include "check.h"

#include <optimizer.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    double price[8], limit[8];
    struct opt_session s[4];
    struct opt_circuit c[4];
    struct opt_problem pb;
};

static void fx_init(struct fx *f, int T, double h, const double *price, double limit)
{
    memset(f, 0, sizeof(*f));
    for (int t = 0; t < T; t++)
        f->price[t] = price[t], f->limit[t] = limit;
    f->pb = (struct opt_problem){ .slots = T, .slot_hours = h, .price = f->price, .site_limit_kw = f->limit,
                                  .sessions = f->s, .circuits = f->c };
}

static struct opt_session *fx_add(struct fx *f, const char *id, int a, int d, double e, double pmax)
{
    struct opt_session *s = &f->s[f->pb.n_sessions++];
    *s = (struct opt_session){ .id = id, .first_slot = a, .end_slot = d, .energy_kwh = e, .max_kw = pmax,
                               .circuit = -1 };
    return s;
}

static struct opt_plan *fx_solve(struct fx *f, const struct opt_options *o)
{
    opt_planner *pl = opt_planner_new(o);
    struct opt_plan *p = NULL;
    char err[256] = "";
    int rc = opt_solve(pl, &f->pb, &p, err, sizeof(err));
    CHECK(rc == OPT_OK && p, "solve returns a plan (rc %d %s)", rc, err);
    opt_planner_free(pl);
    return p;
}

static void check_row(const struct opt_plan *p, int i, const double *want, const char *what)
{
    for (int t = 0; t < p->slots; t++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s: session %d slot %d kW", what, i, t);
        CHECK_NEAR(p->kw[i * p->slots + t], want[t], 1e-6, buf);
    }
}

static void test_cheapest_slot_first(void)
{
    struct fx f;
    fx_init(&f, 4, 1, (double[]){ 0.3, 0.1, 0.2, 0.4 }, 100);
    fx_add(&f, "van1", 0, 4, 15, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 0, 10, 5, 0 }, "cheapest slot first");
    CHECK_NEAR(p->cost, 2.0, 1e-6, "cheapest slot first: cost");
    CHECK(p->method == OPT_METHOD_LP, "cheapest slot first: method %s", p->method_name);
    opt_plan_free(p);
}

static void test_site_limit_binding(void)
{
    struct fx f;
    fx_init(&f, 4, 1, (double[]){ 0.3, 0.1, 0.2, 0.4 }, 100);
    f.limit[1] = 4;
    fx_add(&f, "van1", 0, 4, 15, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 1, 4, 10, 0 }, "site limit binding");
    CHECK_NEAR(p->cost, 2.7, 1e-6, "site limit binding: cost");
    opt_plan_free(p);
}

static void test_two_vehicles_competing(void)
{
    struct fx f;
    fx_init(&f, 4, 1, (double[]){ 0.1, 0.2, 0.3, 0.4 }, 10);
    fx_add(&f, "early", 0, 2, 15, 10);
    fx_add(&f, "late", 0, 4, 15, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    CHECK_NEAR(p->delivered_kwh[0], 15, 1e-6, "competing: the early leaver gets all it needs");
    CHECK_NEAR(p->delivered_kwh[1], 15, 1e-6, "competing: the late leaver gets all it needs");
    check_row(p, 1, (double[]){ p->kw[4], p->kw[5], 10, 0 }, "competing: late leaver takes slot 2 whole");
    for (int t = 0; t < 4; t++)
        CHECK_NEAR(p->site_kw[t], t < 3 ? 10 : 0, 1e-6, "competing: site total");
    CHECK_NEAR(p->cost, 6.0, 1e-6, "competing: cost");
    opt_plan_free(p);
}

static void test_infeasible_by_priority(void)
{
    struct fx f;
    fx_init(&f, 2, 1, (double[]){ 0.1, 0.2 }, 10);
    fx_add(&f, "low", 0, 2, 15, 10)->priority = 1;
    fx_add(&f, "high", 0, 2, 15, 10)->priority = 2;
    struct opt_plan *p = fx_solve(&f, NULL);
    CHECK_NEAR(p->shortfall_kwh[1], 0, 1e-6, "infeasible: high priority has no shortfall");
    CHECK_NEAR(p->shortfall_kwh[0], 10, 1e-6, "infeasible: low priority short by 10 kWh");
    CHECK_NEAR(p->total_shortfall_kwh, 10, 1e-6, "infeasible: everything deliverable is delivered");
    CHECK_NEAR(p->cost, 3.0, 1e-6, "infeasible: cost");
    opt_plan_free(p);
}

static void test_circuit_limit(void)
{
    struct fx f;
    fx_init(&f, 2, 1, (double[]){ 0.1, 0.5 }, 100);
    f.c[0] = (struct opt_circuit){ .id = "feeder", .parent = -1, .limit_kw = 10 };
    f.pb.n_circuits = 1;
    fx_add(&f, "a", 0, 2, 8, 11)->circuit = 0;
    fx_add(&f, "b", 0, 2, 8, 11)->circuit = 0;
    fx_add(&f, "c", 0, 2, 11, 11);
    struct opt_plan *p = fx_solve(&f, NULL);
    CHECK_NEAR(p->kw[0] + p->kw[2], 10, 1e-6, "circuit: slot 0 fills the feeder");
    CHECK_NEAR(p->kw[1] + p->kw[3], 6, 1e-6, "circuit: the rest waits for slot 1");
    check_row(p, 2, (double[]){ 11, 0 }, "circuit: session outside the feeder unaffected");
    CHECK_NEAR(p->cost, 5.1, 1e-6, "circuit: cost");
    opt_plan_free(p);
}

static void test_nested_circuit(void)
{
    struct fx f;
    fx_init(&f, 1, 1, (double[]){ 0.1 }, 100);
    f.c[0] = (struct opt_circuit){ .id = "transformer", .parent = -1, .limit_kw = 15 };
    f.c[1] = (struct opt_circuit){ .id = "feeder", .parent = 0, .limit_kw = 8 };
    f.pb.n_circuits = 2;
    fx_add(&f, "a", 0, 1, 20, 11)->circuit = 1;
    fx_add(&f, "b", 0, 1, 20, 11)->circuit = 0;
    struct opt_plan *p = fx_solve(&f, NULL);
    CHECK(p->kw[0] <= 8 + 1e-9, "nested: feeder holds (%g)", p->kw[0]);
    CHECK_NEAR(p->kw[0] + p->kw[1], 15, 1e-6, "nested: transformer full and holds");
    opt_plan_free(p);
}

/* A circuit whose limit changes per slot (a station cap that follows an earlier plan): the cheap slot is only as
 * cheap as the room it leaves. */
static void test_circuit_limit_per_slot(void)
{
    struct fx f;
    fx_init(&f, 3, 1, (double[]){ 0.1, 0.2, 0.3 }, 100);
    f.c[0] = (struct opt_circuit){ .id = "station", .parent = -1, .limit_kw = 11,
                                   .limit_kw_slot = (double[]){ 2, 20, 4 } };
    f.pb.n_circuits = 1;
    fx_add(&f, "a", 0, 3, 15, 11)->circuit = 0;
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 2, 11, 2 }, "per-slot circuit: 2 kW, then the scalar 11 kW binds, the rest last");
    CHECK_NEAR(p->cost, 0.2 + 2.2 + 0.6, 1e-6, "per-slot circuit: cost");
    opt_plan_free(p);
}

static void test_phase_limits(void)
{
    struct fx f;
    fx_init(&f, 1, 1, (double[]){ 0.1 }, 100);
    f.c[0] = (struct opt_circuit){ .id = "breaker", .parent = -1, .limit_kw = 5, .per_phase = 1 };
    f.pb.n_circuits = 1;
    fx_add(&f, "three", 0, 1, 100, 11)->circuit = 0;
    struct opt_session *one = fx_add(&f, "single", 0, 1, 100, 7.4);
    one->circuit = 0;
    one->phases = OPT_PHASE_L1;
    struct opt_plan *p = fx_solve(&f, NULL);
    /* L1 carries 11/3 of the three-phase car, so only 5 - 11/3 is left for the single-phase one. */
    CHECK_NEAR(p->kw[0], 11, 1e-6, "phases: three-phase session at its max (3.67 kW per phase)");
    CHECK_NEAR(p->kw[1], 5 - 11.0 / 3, 1e-6, "phases: single-phase session gets what L1 has left");
    opt_plan_free(p);
}

static void test_demand_charge(void)
{
    struct fx f;
    fx_init(&f, 2, 1, (double[]){ 0.1, 0.2 }, 100);
    f.pb.demand_charge = 1;
    fx_add(&f, "van", 0, 2, 20, 20);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 10, 10 }, "demand charge: spread to lower the peak");
    CHECK_NEAR(p->peak_kw, 10, 1e-6, "demand charge: peak");
    CHECK_NEAR(p->cost, 13, 1e-6, "demand charge: energy 3 + demand 10");
    opt_plan_free(p);
    f.pb.existing_peak_kw = 15;
    p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 15, 5 }, "demand charge: free up to the existing peak");
    CHECK_NEAR(p->demand_cost, 0, 1e-6, "demand charge: nothing above existing peak");
    CHECK_NEAR(p->cost, 2.5, 1e-6, "demand charge with existing peak: cost");
    opt_plan_free(p);
}

static void test_partial_first_slot(void)
{
    struct fx f;
    fx_init(&f, 3, 1, (double[]){ 0.1, 0.2, 0.3 }, 100);
    f.pb.first_slot_hours = 0.25;
    fx_add(&f, "van", 0, 3, 10, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 10, 7.5, 0 }, "partial first slot: only 15 minutes of slot 0");
    CHECK_NEAR(p->cost, 0.25 + 1.5, 1e-6, "partial first slot: cost");
    opt_plan_free(p);
}

/* It leaves 30 minutes into its last slot: there a kW is worth half a kWh, while it counts whole against the site
 * limit. Slot 1 is cheap (0.1) and 12 kW; the van that stays gets all it needs there (moving a kW of slot 1 to
 * the one leaving saves 0.5 kWh x 0.2 at slot 0's price but costs the other 1 kWh x 0.15 at slot 2's), the one
 * leaving takes the 6 kW left: 3 kWh, and the other 9 in slot 0. */
static void test_partial_last_slot(void)
{
    struct fx f;
    fx_init(&f, 3, 1, (double[]){ 0.3, 0.1, 0.25 }, 12);
    fx_add(&f, "leaves", 0, 2, 12, 10)->last_slot_hours = 0.5;
    fx_add(&f, "stays", 1, 3, 6, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 9, 6, 0 }, "partial last slot: 6 kW for half of slot 1 is 3 kWh");
    check_row(p, 1, (double[]){ 0, 6, 0 }, "partial last slot: the van that stays gets its 6 kWh at 0.1");
    CHECK_NEAR(p->cost, 9 * 0.3 + 3 * 0.1 + 6 * 0.1, 1e-6, "partial last slot: cost");
    CHECK_NEAR(p->total_shortfall_kwh, 0, 1e-6, "partial last slot: no shortfall");
    opt_plan_free(p);
    /* Past the horizon the hours are ignored: the last slot in the horizon is whole. */
    fx_init(&f, 2, 1, (double[]){ 0.3, 0.1 }, 100);
    fx_add(&f, "beyond", 0, 3, 12, 10)->last_slot_hours = 0.5;
    p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 2, 10 }, "partial last slot past the horizon: slot 1 whole");
    opt_plan_free(p);
}

/* A 10 kW site, slot 0 (15 minutes) cut at 5 minutes: the van leaving there takes all 10 kW until then, the one
 * that stays gets them from the cut on. Uncut, the one leaving holds its kW for the whole slot (it counts against the
 * limit while it is gone): together they fall 0.56 kWh short. */
static void test_first_slot_parts(void)
{
    struct fx f;
    fx_init(&f, 4, 0.25, (double[]){ 0.2, 0.2, 0.2, 0.2 }, 10);
    f.pb.first_parts = 2;
    f.pb.first_part_hours = (double[]){ 5.0 / 60, 10.0 / 60 };
    fx_add(&f, "leaves", 0, 1, 10 * 5.0 / 60, 10);
    fx_add(&f, "stays", 0, 4, 10 * (10.0 / 60 + 0.5), 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 10, 0, 0, 0 }, "first slot parts: the one leaving, until the cut");
    check_row(p, 1, (double[]){ 0, 10, 10, 10 }, "first slot parts: the one staying, from the cut on");
    CHECK_NEAR(p->total_shortfall_kwh, 0, 1e-6, "first slot parts: no shortfall");
    CHECK_NEAR(p->cost, 0.2 * (10 * 5.0 / 60 + 10 * (10.0 / 60 + 0.5)), 1e-6, "first slot parts: cost");
    opt_plan_free(p);
    fx_init(&f, 3, 0.25, (double[]){ 0.2, 0.2, 0.2 }, 10);
    fx_add(&f, "leaves", 0, 1, 10 * 5.0 / 60, 10)->last_slot_hours = 5.0 / 60;
    fx_add(&f, "stays", 0, 3, 10 * (10.0 / 60 + 0.5), 10);
    p = fx_solve(&f, NULL);
    /* "stays" needs 1.67 kWh of slot 0 (6.67 kW over 15 minutes); "leaves" gets the 3.33 kW left: 0.28 of 0.83. */
    CHECK_NEAR(p->total_shortfall_kwh, 10 * 5.0 / 60 - (10 - (10 * 10.0 / 60) / 0.25) * 5.0 / 60, 1e-6,
               "uncut: the van leaving holds its kW for the whole slot, and falls short");
    opt_plan_free(p);
    /* Parts that do not add up to the first slot are refused, naming the field. */
    fx_init(&f, 3, 0.25, (double[]){ 0.2, 0.2, 0.2 }, 10);
    f.pb.first_parts = 2;
    f.pb.first_part_hours = (double[]){ 5.0 / 60, 5.0 / 60 };
    char err[200] = "";
    CHECK(opt_validate(&f.pb, NULL, err, sizeof err) == OPT_EINVAL && strstr(err, "first_part_hours"),
          "first slot parts that do not sum up are refused (%s)", err);
}

static void test_equal_prices_prefer_earlier(void)
{
    struct fx f;
    fx_init(&f, 4, 1, (double[]){ 0.2, 0.2, 0.2, 0.2 }, 100);
    fx_add(&f, "van", 0, 4, 15, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 10, 5, 0, 0 }, "equal prices: earlier first");
    opt_plan_free(p);
}

/* Two vans share a 10 kW limit at flat prices, each 10 kWh in 4 one-hour slots: 20 kWh in 40 kWh of room, so any
 * order is optimal at the same cost. The earliness tie-break alone cannot choose (it costs the same whoever goes
 * first); a van with the larger earliness weight (it may leave early) gets the first slots, whichever is listed first. */
static void test_earliness_weight(void)
{
    for (int first = 0; first < 2; first++) {
        struct fx f;
        fx_init(&f, 4, 1, (double[]){ 0.2, 0.2, 0.2, 0.2 }, 10);
        fx_add(&f, first ? "late" : "early", 0, 4, 10, 10);
        fx_add(&f, first ? "early" : "late", 0, 4, 10, 10);
        f.s[first ? 1 : 0].earliness_weight = 4;
        struct opt_plan *p = fx_solve(&f, NULL);
        check_row(p, first ? 1 : 0, (double[]){ 10, 0, 0, 0 }, "the weighted van first");
        check_row(p, first ? 0 : 1, (double[]){ 0, 10, 0, 0 }, "the other after it");
        CHECK_NEAR(p->cost, 4.0, 1e-6, "earliness weight: the same cost");
        opt_plan_free(p);
    }
}

static void test_efficiency_and_negative_price(void)
{
    struct fx f;
    fx_init(&f, 2, 1, (double[]){ -0.1, 0.2 }, 100);
    fx_add(&f, "van", 0, 2, 9, 20)->efficiency = 0.9;
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 10, 0 }, "efficiency: 9 kWh at the battery is 10 kWh from the grid");
    CHECK_NEAR(p->delivered_kwh[0], 9, 1e-6, "negative price: never more than needed");
    CHECK_NEAR(p->cost, -1.0, 1e-6, "negative price: cost");
    opt_plan_free(p);
}

static void test_window_respected(void)
{
    struct fx f;
    fx_init(&f, 4, 1, (double[]){ 0.1, 0.5, 0.5, 0.1 }, 100);
    fx_add(&f, "van", 1, 3, 5, 10);
    struct opt_plan *p = fx_solve(&f, NULL);
    check_row(p, 0, (double[]){ 0, 5, 0, 0 }, "window: cheap slots outside [a, d) unused");
    opt_plan_free(p);
}

static void test_min_power(int mip)
{
    struct fx f;
    fx_init(&f, 2, 1, (double[]){ 0.1, 0.2 }, 100);
    f.limit[0] = 2;
    fx_add(&f, "car", 0, 2, 5, 11)->min_kw = 4;
    struct opt_options o = { .max_mip_binaries = mip ? 0 : -1 };
    struct opt_plan *p = fx_solve(&f, &o);
    const char *what = mip ? "min power (MIP)" : "min power (repair)";
    check_row(p, 0, (double[]){ 0, 5 }, what);
    CHECK(p->method == (mip ? OPT_METHOD_MIP : OPT_METHOD_LP_REPAIR), "%s: method %s", what, p->method_name);
    CHECK_NEAR(p->lp_cost, 0.8, 1e-6, "min power: LP relaxation cost");
    CHECK_NEAR(p->min_power_extra_cost, 0.2, 1e-6, "min power: extra cost reported");
    opt_plan_free(p);
}

int main(void)
{
    test_cheapest_slot_first();
    test_site_limit_binding();
    test_two_vehicles_competing();
    test_infeasible_by_priority();
    test_circuit_limit();
    test_nested_circuit();
    test_circuit_limit_per_slot();
    test_phase_limits();
    test_demand_charge();
    test_partial_first_slot();
    test_partial_last_slot();
    test_first_slot_parts();
    test_equal_prices_prefer_earlier();
    test_earliness_weight();
    test_efficiency_and_negative_price();
    test_window_respected();
    test_min_power(1);
    test_min_power(0);
    opt_thread_cleanup();
    return check_done("test_plans");
}
