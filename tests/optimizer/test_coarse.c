/*
 * test_coarse.c - the coarse LP grid (coarse_slot_hours after fine_hours): hand-solved cases (a coarse slot's
 * limit is the min of its slots', its price their mean, its power repeated in each slot) and random instances
 * where every per-slot limit must still hold to 1e-6 and the plan must be flat inside each coarse slot.
 */
#include "check.h"
#include "gen.h"

/* 8 slots of 15 min; slots 0-1 fine (fine_hours 0.5), 2-5 one 1-hour LP slot, 6-7 a shorter last one. */
struct fx {
    double price[8], limit[8];
    struct opt_session s[2];
    struct opt_problem pb;
};

static void fx_init(struct fx *f, const double *price, const double *limit)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->price, price, sizeof(f->price));
    memcpy(f->limit, limit, sizeof(f->limit));
    f->pb = (struct opt_problem){ .slots = 8, .slot_hours = 0.25, .price = f->price, .site_limit_kw = f->limit,
                                  .sessions = f->s, .fine_hours = 0.5, .coarse_slot_hours = 1.0 };
}

static void fx_add(struct fx *f, int a, int d, double e, double pmax)
{
    static const char *ids[] = { "van1", "van2" };
    f->s[f->pb.n_sessions] = (struct opt_session){ .id = ids[f->pb.n_sessions], .first_slot = a, .end_slot = d,
                                                   .energy_kwh = e, .max_kw = pmax, .circuit = -1 };
    f->pb.n_sessions++;
}

static struct opt_plan *fx_solve(struct fx *f)
{
    opt_planner *pl = opt_planner_new(NULL);
    struct opt_plan *p = NULL;
    char err[256] = "";
    int rc = opt_solve(pl, &f->pb, &p, err, sizeof(err));
    CHECK(rc == OPT_OK && p, "solve returns a plan (rc %d %s)", rc, err);
    opt_planner_free(pl);
    if (!p)
        exit(1);
    return p;
}

static void check_row(const struct opt_plan *p, int i, const double *want, const char *what)
{
    for (int t = 0; t < p->slots; t++) {
        char buf[160];
        snprintf(buf, sizeof(buf), "%s: slot %d kW", what, t);
        CHECK_NEAR(p->kw[i * p->slots + t], want[t], 1e-6, buf);
    }
}

static const double flat_limit[8] = { 100, 100, 100, 100, 100, 100, 100, 100 };

static void test_coarse_limit_is_the_min_of_its_slots(void)
{
    struct fx f;
    fx_init(&f, (double[]){ 1, 1, 0.1, 0.2, 0.3, 0.4, 1, 1 }, (double[]){ 100, 100, 10, 10, 4, 10, 100, 100 });
    fx_add(&f, 2, 6, 6, 11);
    struct opt_plan *p = fx_solve(&f);
    CHECK(p->lp_slots == 4, "coarse grid: 8 slots become 4 LP slots (got %d)", p->lp_slots);
    /* The fine LP would draw 10 kW in slot 2; the coarse slot 2-5 is capped by slot 4's 4 kW throughout. */
    check_row(p, 0, (double[]){ 0, 0, 4, 4, 4, 4, 0, 0 }, "coarse limit min-ed");
    CHECK_NEAR(p->shortfall_kwh[0], 2, 1e-6, "coarse limit min-ed: 4 kW x 1 h of the 6 kWh, 2 kWh short");
    opt_plan_free(p);
}

static void test_coarse_price_is_the_mean_and_power_repeats(void)
{
    struct fx f;
    /* Slot 1 costs 0.27; the coarse slot 2-5 averages 0.25 (though slot 2 alone is 0.05); 6-7 average 0.28. */
    fx_init(&f, (double[]){ 0.5, 0.27, 0.05, 0.6, 0.3, 0.05, 0.28, 0.28 }, flat_limit);
    fx_add(&f, 0, 8, 1, 4);
    struct opt_plan *p = fx_solve(&f);
    check_row(p, 0, (double[]){ 0, 0, 1, 1, 1, 1, 0, 0 }, "coarse price averaged, power repeated");
    CHECK_NEAR(p->cost, 0.25, 1e-6, "coarse price averaged: 1 kWh at the mean 0.25");
    opt_plan_free(p);
}

static void test_window_covering_part_of_a_coarse_slot(void)
{
    struct fx f;
    fx_init(&f, (double[]){ 0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.3, 0.3 }, flat_limit);
    fx_add(&f, 3, 6, 1.5, 11);  /* arrives in the middle of the coarse slot: 0.75 h of it */
    fx_add(&f, 0, 3, 0.5, 11);  /* leaves in the middle: slot 2 only, with the two fine slots before */
    struct opt_plan *p = fx_solve(&f);
    check_row(p, 0, (double[]){ 0, 0, 0, 2, 2, 2, 0, 0 }, "partial window: flat over the slots it covers");
    check_row(p, 1, (double[]){ 0, 0, 2, 0, 0, 0, 0, 0 }, "partial window: leaves inside the coarse slot");
    opt_plan_free(p);
}

static void test_coarse_must_be_a_multiple_of_the_slot(void)
{
    struct fx f;
    fx_init(&f, flat_limit, flat_limit);
    fx_add(&f, 0, 8, 1, 4);
    char err[256] = "";
    f.pb.coarse_slot_hours = 0.3;
    CHECK(opt_validate(&f.pb, NULL, err, sizeof(err)) == OPT_EINVAL && strstr(err, "coarse_slot_hours"),
          "coarse_slot_hours 0.3 with 15-min slots is refused (%s)", err);
    f.pb.coarse_slot_hours = 1, f.pb.fine_hours = -1;
    CHECK(opt_validate(&f.pb, NULL, err, sizeof(err)) == OPT_EINVAL && strstr(err, "fine_hours"),
          "negative fine_hours is refused (%s)", err);
}

/* Inside each coarse LP slot, a session's power is the same in every slot of its window (LP plans). */
static int flat_inside_coarse(const struct opt_problem *pb, const struct opt_plan *p)
{
    int T = pb->slots, k = (int)lround(pb->coarse_slot_hours / pb->slot_hours), bad = 0, t0 = 0;
    double start = 0;
    while (t0 < T && start < pb->fine_hours - 1e-9)
        start += t0 == 0 && pb->first_slot_hours > 0 ? pb->first_slot_hours : pb->slot_hours, t0++;
    for (int i = 0; i < pb->n_sessions; i++)
        for (int g = t0; g < T; g += k) {
            double ref = NAN;
            for (int t = g; t < g + k && t < T; t++) {
                if (t < pb->sessions[i].first_slot || t >= pb->sessions[i].end_slot)
                    continue;
                double v = p->kw[i * T + t];
                if (isnan(ref))
                    ref = v;
                else if (fabs(v - ref) > 1e-6 * fmax(1, ref))
                    bad++;
            }
        }
    return bad;
}

static void test_random_coarse_plans_keep_every_slot_limit(void)
{
    opt_planner *pl = opt_planner_new(NULL);
    int bad = 0, uneven = 0, nonlp = 0, warm = 0;
    for (uint64_t seed = 1; seed <= 120; seed++) {
        gen_state = seed * 104729;
        int n = irand(1, 25), T = irand(4, 96);
        struct inst x;
        gen_instance(&x, seed + 50000, n, T, 3);
        gen_state = seed;
        x.pb.fine_hours = urand() * 4;
        x.pb.coarse_slot_hours = 0.25 * irand(1, 6);
        for (int round = 0; round < 2; round++) { /* cold, then a warm re-plan with new prices */
            char err[256] = "";
            struct opt_plan *p = NULL;
            if (opt_solve(pl, &x.pb, &p, err, sizeof(err)) != OPT_OK || check_plan(&x.pb, p, 1e-6, "coarse")) {
                bad++;
                printf("     seed %llu round %d failed %s\n", (unsigned long long)seed, round, err);
            } else {
                nonlp += p->method != OPT_METHOD_LP;
                uneven += p->method == OPT_METHOD_LP && flat_inside_coarse(&x.pb, p);
                warm += p->warm_start;
            }
            opt_plan_free(p);
            for (int t = 0; t < T; t++)
                x.price[t] = urand() * 0.4;
        }
        inst_free(&x);
    }
    CHECK(bad == 0, "random coarse instances: every per-slot limit, window and cap holds to 1e-6 (%d bad)", bad);
    CHECK(uneven == 0, "random coarse instances: LP plans are flat inside each coarse slot (%d not)", uneven);
    CHECK(nonlp == 0, "random coarse instances: all solved by the LP (%d not)", nonlp);
    CHECK(warm > 0, "random coarse instances: re-plans on the same grid start warm (%d did)", warm);
    opt_planner_free(pl);
    opt_thread_cleanup();
}

int main(void)
{
    test_coarse_limit_is_the_min_of_its_slots();
    test_coarse_price_is_the_mean_and_power_repeats();
    test_window_covering_part_of_a_coarse_slot();
    test_coarse_must_be_a_multiple_of_the_slot();
    test_random_coarse_plans_keep_every_slot_limit();
    return check_done("test_coarse");
}
