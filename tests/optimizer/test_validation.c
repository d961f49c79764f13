/* test_validation.c - each invalid input gets OPT_EINVAL, no plan, and an error naming the field. */
#include "check.h"

#include <optimizer.h>
#include <string.h>

struct base {
    double price[4], limit[4], slot_max[4];
    struct opt_session s[2];
    struct opt_circuit c[2];
    struct opt_problem pb;
};

static void base_init(struct base *b)
{
    memset(b, 0, sizeof(*b));
    for (int t = 0; t < 4; t++)
        b->price[t] = 0.2, b->limit[t] = 50, b->slot_max[t] = 11;
    b->s[0] = (struct opt_session){ .id = "van1", .first_slot = 0, .end_slot = 4, .energy_kwh = 10,
                                    .max_kw = 11, .circuit = 0 };
    b->s[1] = (struct opt_session){ .id = "van2", .first_slot = 1, .end_slot = 3, .energy_kwh = 5,
                                    .max_kw = 7.4, .circuit = -1 };
    b->c[0] = (struct opt_circuit){ .id = "feeder", .parent = -1, .limit_kw = 30 };
    b->c[1] = (struct opt_circuit){ .id = "sub", .parent = 0, .limit_kw = 20 };
    b->pb = (struct opt_problem){ .slots = 4, .slot_hours = 0.25, .price = b->price, .site_limit_kw = b->limit,
                                  .sessions = b->s, .n_sessions = 2, .circuits = b->c, .n_circuits = 2 };
}

static void mut_neg_energy(struct base *b) { b->s[0].energy_kwh = -1; }
static void mut_departure(struct base *b) { b->s[1].end_slot = 0; }
static void mut_nan_price(struct base *b) { b->price[2] = NAN; }
static void mut_inf_price(struct base *b) { b->price[1] = INFINITY; }
static void mut_neg_limit(struct base *b) { b->limit[3] = -5; }
static void mut_nan_limit(struct base *b) { b->limit[0] = NAN; }
static void mut_neg_circuit(struct base *b) { b->c[1].limit_kw = -1; }
static void mut_parent(struct base *b) { b->c[0].parent = 1; }
static void mut_circuit_idx(struct base *b) { b->s[1].circuit = 2; }
static void mut_eff(struct base *b) { b->s[0].efficiency = 1.5; }
static void mut_neg_pmax(struct base *b) { b->s[0].max_kw = -3; }
static void mut_slot_pmax(struct base *b) { b->slot_max[2] = NAN; b->s[1].max_kw_slot = b->slot_max; }
static void mut_min(struct base *b) { b->s[0].min_kw = -1; }
static void mut_prio(struct base *b) { b->s[0].priority = -2; }
static void mut_phase(struct base *b) { b->s[0].phases = 4; }
static void mut_dup(struct base *b) { b->s[1].id = "van1"; }
static void mut_noid(struct base *b) { b->s[1].id = NULL; }
static void mut_first(struct base *b) { b->s[0].first_slot = -1; }
static void mut_slots(struct base *b) { b->pb.slots = 0; }
static void mut_hours(struct base *b) { b->pb.slot_hours = 0; }
static void mut_first_hours(struct base *b) { b->pb.first_slot_hours = 0.5; }
static void mut_demand(struct base *b) { b->pb.demand_charge = -1; }
static void mut_noprice(struct base *b) { b->pb.price = NULL; }
static void mut_nolimit(struct base *b) { b->pb.site_limit_kw = NULL; }

static const struct {
    const char *name;
    void (*mutate)(struct base *);
    const char *mention; /* the error must say this */
} cases[] = {
    { "negative energy", mut_neg_energy, "energy_kwh" },
    { "departure before arrival", mut_departure, "departure" },
    { "NaN price", mut_nan_price, "price[2]" },
    { "infinite price", mut_inf_price, "price[1]" },
    { "site limit below zero", mut_neg_limit, "site_limit_kw[3]" },
    { "NaN site limit", mut_nan_limit, "site_limit_kw[0]" },
    { "circuit limit below zero", mut_neg_circuit, "limit_kw" },
    { "circuit parent not earlier", mut_parent, "parent" },
    { "unknown circuit", mut_circuit_idx, "circuit 2" },
    { "efficiency above 1", mut_eff, "efficiency" },
    { "negative max power", mut_neg_pmax, "max_kw" },
    { "NaN per-slot max power", mut_slot_pmax, "max_kw_slot[2]" },
    { "negative min power", mut_min, "min_kw" },
    { "negative priority", mut_prio, "priority" },
    { "unknown phase", mut_phase, "phases" },
    { "duplicate session id", mut_dup, "twice" },
    { "missing session id", mut_noid, "sessions[1].id" },
    { "negative first slot", mut_first, "first_slot" },
    { "no slots", mut_slots, "slots" },
    { "zero slot length", mut_hours, "slot_hours" },
    { "first slot longer than a slot", mut_first_hours, "first_slot_hours" },
    { "negative demand charge", mut_demand, "demand_charge" },
    { "missing prices", mut_noprice, "price" },
    { "missing site limits", mut_nolimit, "site_limit_kw" },
};

int main(void)
{
    opt_planner *pl = opt_planner_new(NULL);
    struct base b;
    char err[256];
    struct opt_plan *p = NULL;

    base_init(&b);
    int rc = opt_solve(pl, &b.pb, &p, err, sizeof(err));
    CHECK(rc == OPT_OK && p, "the valid base problem solves");
    opt_plan_free(p);

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        base_init(&b);
        cases[k].mutate(&b);
        err[0] = 0;
        p = (struct opt_plan *)1;
        rc = opt_solve(pl, &b.pb, &p, err, sizeof(err));
        CHECK(rc == OPT_EINVAL && p == NULL && strstr(err, cases[k].mention),
              "%s: rejected with \"%s\"", cases[k].name, err);
    }

    /* More sessions than configured. */
    struct opt_options o = { .max_sessions = 1 };
    opt_planner *small = opt_planner_new(&o);
    base_init(&b);
    rc = opt_solve(small, &b.pb, &p, err, sizeof(err));
    CHECK(rc == OPT_EINVAL && strstr(err, "maximum"), "more sessions than max_sessions: \"%s\"", err);
    opt_planner_free(small);

    struct opt_options bad_simplex = { .simplex = 3 };
    base_init(&b);
    rc = opt_validate(&b.pb, &bad_simplex, err, sizeof(err));
    CHECK(rc == OPT_EINVAL && strstr(err, "options.simplex"), "an unknown simplex option: \"%s\"", err);
    err[0] = 0;

    base_init(&b);
    b.limit[1] = INFINITY;
    b.pb.first_slot_hours = 0.1;
    b.s[1].end_slot = 9; /* leaves after the horizon: planned within it */
    CHECK(opt_validate(&b.pb, NULL, err, sizeof(err)) == OPT_OK, "infinite limit, partial slot, late departure "
          "are valid (%s)", err);
    opt_planner_free(pl);
    opt_thread_cleanup();
    return check_done("test_validation");
}
