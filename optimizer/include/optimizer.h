/*
 * optimizer.h - the fleet charging plan: plain data in, a plan out, solved as an LP with GLPK.
 *
 * Given who is plugged in, when each vehicle leaves and how much energy it needs, the price per slot and
 * the depot's limits, opt_solve() computes each session's power per slot at the lowest cost.
 * The library does no I/O and reads no clock for planning (time is the slot grid the caller passes);
 * the only file it ever writes is through the separate debug function opt_export().
 *
 * ---- The model ---------------------------------------------------------------------------------------
 * Slots t = 0..T-1; slot 0 lasts first_slot_hours (so a plan can start "now"), the others slot_hours. Or the
 * first grid slot is cut into first_parts slots (first_part_hours, together first_slot_hours): a session that
 * leaves at a cut frees its power for the others from there (a constant power over a whole slot cannot).
 * h_t is the length of slot t. For session i, window [a_i, d_i) = [first_slot, min(end_slot, T)).
 *   variables  p_it >= 0 (kW, grid side), s_i >= 0 (kWh shortfall at the battery), x >= 0 (kW of peak
 *              above existing_peak_kw, only when demand_charge > 0)
 *   minimise   sum c_t p_it h_t  +  D x  +  sum M w_i s_i  +  sum e_t p_it h_t
 *   subject to sum_t eta_i p_it h_t + s_i  = E_i          (energy: never more than needed, see below)
 *              0 <= p_it <= P_it inside the window, p_it = 0 outside (no column exists outside)
 *              sum_i p_it <= L_t                          (site)
 *              sum over a circuit's sessions <= its limit (per phase or in total, nested circuits)
 *              sum_i p_it - x <= existing_peak_kw         (when D > 0)
 *  e_t = earliness * max|c| * t/(T-1) is the tie-break that prefers earlier charging among plans of
 *  (nearly) equal cost; it can cost at most `earliness` (relative, default 1e-4) of the energy bill.
 *  M_i = 10 * (max|c| + D/min h) / min eta * w_i/min w: more than any kWh can cost, so no energy is traded
 *  for money. The energy row is an equality (the ">=" plus "no more than needed"): with negative
 *  prices the LP would otherwise plan energy a full battery cannot take.
 *
 * ---- What a plan guarantees ----------------------------------------------------------------------------
 * Always (LP, MIP, repaired and fallback plans alike, checked on the final numbers after solving):
 *   - 0 <= kw[i][t] <= P_it, and kw[i][t] == 0 outside [first_slot, end_slot);
 *   - in every slot the site total is <= site_limit_kw[t] and every circuit (and each phase of a per-phase
 *     circuit) is <= its limit, exactly in double arithmetic (a final pass scales down any solver round-off);
 *   - delivered_kwh[i] <= energy_kwh (never planned beyond the need).
 * When the demand is feasible and the method is OPT_METHOD_LP or OPT_METHOD_MIP: every session gets its
 *   energy (shortfall <= 1e-6 kWh relative to the need) at minimum cost (within earliness).
 * When it is not feasible: the LP minimises sum w_i * shortfall_i first (priority-weighted; with equal
 *   priorities that is the most energy physically deliverable), and only then money.
 * Fallback (OPT_METHOD_FALLBACK: GLPK error, time limit, numerically degenerate input): slot by slot,
 *   earliest departure first (then higher priority), each session gets as much as its own maximum, its
 *   remaining need and the headroom of every limit above it allow. Limits and windows hold; cost is not
 *   optimised and a feasible demand may show shortfall.
 * Minimum power (min_kw > 0): every kw[i][t] is 0 or >= min_kw * (1 - 1e-6). Solved exactly (to a relative
 *   gap of 1e-4, the size of the earliness tie-break) with a MIP when the instance has at most
 *   max_mip_binaries on/off variables (time-limited; see min_power_method),
 *   else the LP is repaired: slots below the minimum go to 0 and the lost energy is moved to that
 *   session's cheapest slots that can take it within every limit. Repair can leave shortfall that an exact
 *   solution would avoid; plan->min_power_extra_cost says what the minimum cost compared with the LP.
 *
 * ---- Coarse grid (coarse_slot_hours > 0) ---------------------------------------------------------------
 * The caller still passes and gets everything per slot (the fine grid); only the LP is smaller: slots after
 * fine_hours are grouped into coarse LP slots, each with one power variable per session. What changes:
 *   - the plan is flat inside a coarse slot: kw[i][t] is the same for every slot t of the group that lies in
 *     the session's window (and 0 outside it, as always);
 *   - the LP uses, per coarse slot, the MIN of the group's site limits, circuit limits and the session's
 *     max_kw_slot, and the cost of the slots it covers (for a session present in the whole group: the
 *     time-weighted mean price times the group's length). Every fine-slot limit therefore holds;
 *   - conservative where windows cover part of a group: a limit row counts every session present in any
 *     slot of the group, so sessions arriving and leaving inside one coarse slot share its limit;
 *   - "minimum cost" and "minimum shortfall" are with respect to this coarser LP: a plan can cost more (or
 *     fall short where the fine LP would not) than the fine solve. Costs and energies in the plan are
 *     computed on the fine slots. The guarantees above hold unchanged; a min-power repair or the final
 *     round-off pass may make a coarse slot slightly uneven. A warm start needs the same grid (same
 *     epoch_slot and coarse layout), else the solve is cold. opt_export() writes the coarse LP.
 *
 * ---- Which simplex (opt_options.simplex = OPT_SIMPLEX_AUTO, the default) ------------------------------------
 *   - Warm start, carried basis primal feasible (only prices changed, or a van added): primal simplex.
 *   - Warm start, basis only dual feasible (needs, limits or windows changed): dual simplex, unless more than
 *     5 % of the nonbasic variables have a zero reduced cost (a dual degenerate basis): then primal.
 *   - Cold: dual simplex (presolved, long-step ratio test) for at most 2 iterations per row that can bind,
 *     then, if unfinished, the primal simplex from scratch in the time left (plan->note says so).
 *   - A solve that ends without an optimal LP (time limit, GLPK error) drops the kept basis: the next is cold.
 * Why (2026-11-26, 2-core VM; bench/optimizer/opt_bench and bench/optimizer/replay_plans on depotd's logs):
 * depotd's re-plans with one flat price and a binding site limit are massively dual degenerate (every
 * session costs the same in a slot; mostly 10-90 % of nonbasic reduced costs are 0, against 0.1-4 % with
 * hourly market prices). There the dual stalls: replaying 125 recorded plans at 500 EVSEs, warm dual p99 548 ms
 * (max 1.8 s) vs primal 27 ms; a set-up plan from 354 to 500 vans took 13,000 dual iterations and hit the
 * 5 s limit (primal: 835 iterations, 58 ms); cold, the dual hit 5 s on 51 of 125 plans (primal p99 135 ms,
 * this rule 302 ms); at 100 EVSEs cold dual 284 ms vs primal 7 ms (rule 14 ms). On the price-varying
 * ACN instances the dual stays ahead: cold 1.3-1.8x faster than the primal at 500-2000 vans (it needs
 * 1.3-1.5 iterations per row, under the budget, so those solves are unchanged), warm after a lower site
 * limit 1.2x. The primal is never far behind, the dual can be 20-60x behind: hence primal when in doubt.
 *
 * ---- Units ----------------------------------------------------------------------------------------------
 * Power kW, energy kWh, time hours, prices currency/kWh, demand charge currency/kW. Energies are at the
 * battery (after efficiency), powers at the grid (what the EVSE draws and what limits count).
 *
 * ---- Threads and GLPK -------------------------------------------------------------------------------------
 * A planner and everything it returns belong to one thread (in depotd the single planner worker): GLPK
 * keeps its environment per thread, and the planner keeps its last GLPK problem (for warm starts) in that
 * environment. Different threads may each own a planner. Before a thread that used opt_ functions exits,
 * call opt_thread_cleanup() (glp_free_env) after freeing its planners.
 * GLPK calls abort() on an internal error. The library installs glp_error_hook for the duration of each
 * call: the hook longjmp()s back, the library then frees the thread's whole GLPK environment (the only
 * safe recovery GLPK offers) and returns a fallback plan. Trade-off: any other GLPK object the same thread
 * owned is gone too, so do not share the planner thread with other GLPK users. GLPK terminal output is
 * switched off; the library never prints.
 *
 * ---- Ownership -------------------------------------------------------------------------------------------
 * Every pointer in the input structs is borrowed for the duration of the call only. A plan is allocated by
 * the library and freed by the caller with opt_plan_free(). Error strings go to the caller's buffer.
 */
#ifndef OPTIMIZER_H
#define OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

enum opt_error {
    OPT_OK = 0,
    OPT_EINVAL = -1, /* the problem or options are invalid; err says which field and why */
    OPT_ENOMEM = -2,
    OPT_EIO = -3,    /* opt_export() could not write the file */
};

/* How power splits over phases, as the vehicle draws it (a 3-phase EVSE charging a 1-phase car is 1-phase). */
enum opt_phases { OPT_THREE_PHASE = 0, OPT_PHASE_L1 = 1, OPT_PHASE_L2 = 2, OPT_PHASE_L3 = 3 };

/* One occupied EVSE. */
struct opt_session {
    const char *id;           /* unique, not NULL; also matches sessions across re-plans for warm starts */
    int first_slot;           /* a_i >= 0: first slot it may charge in (0 when already plugged in) */
    int end_slot;             /* d_i >= a_i: the slot it leaves at (exclusive); == a_i: nothing to plan.
                                 May exceed the horizon: then the energy is planned within the horizon. */
    double last_slot_hours;   /* 0: it stays all of slot end_slot - 1; else (0, that slot's hours]: it leaves
                                 this long into it (charging there is worth that many hours, while its power
                                 counts against the limits for the whole slot). Ignored past the horizon. */
    double energy_kwh;        /* E_i >= 0, still needed, at the battery */
    double efficiency;        /* eta_i in (0, 1]; 0 means 1 */
    double max_kw;            /* P_i >= 0 (min of EV and EVSE), used when max_kw_slot is NULL */
    const double *max_kw_slot;/* NULL, or [slots] per-slot maximum (>= 0) */
    double min_kw;            /* >= 0; when charging, at least this (IEC 61851: 6 A per phase); 0 = none */
    double priority;          /* w_i >= 0; 0 means 1. Shortfall of a priority-2 session weighs twice. */
    double earliness_weight;  /* >= 0; 0 means 1: how much more than the others this session prefers earlier slots
                                 (the earliness tie-break times this): between equal prices, the earliest slots
                                 go to the sessions with the larger weight. */
    int circuit;              /* index into opt_problem.circuits, or -1: only under the site limit */
    enum opt_phases phases;
};

/* A feeder, transformer or phase group. Nested: a session counts in its circuit and all its ancestors. */
struct opt_circuit {
    const char *id;           /* for error messages; may be NULL */
    int parent;               /* -1 (directly under the site) or an index < this circuit's own index */
    double limit_kw;          /* >= 0; INFINITY allowed */
    const double *limit_kw_slot; /* NULL, or [slots] per-slot limits (>= 0); the lower of it and limit_kw holds */
    int per_phase;            /* 0: limit_kw bounds the total; 1: limit_kw bounds each phase L1, L2, L3
                                 (a 3-phase session loads each by p/3, a 1-phase one loads its phase by p) */
};

struct opt_problem {
    int slots;                /* T >= 1 (e.g. 96 for 24 h of 15 min) */
    double slot_hours;        /* > 0 (0.25 for 15 min) */
    double first_slot_hours;  /* (0, slot_hours]; 0 means slot_hours */
    int first_parts;          /* 0 or 1: slot 0 is the first grid slot; k > 1: the first k slots are its parts */
    const double *first_part_hours; /* [first_parts] each > 0, summing to first_slot_hours (k > 1 only) */
    int64_t epoch_slot;       /* absolute number of the first grid slot (e.g. unix time / slot seconds). Only
                                 used to match slots with the previous solve for a warm start (by where each
                                 slot ends); 0 if unknown. */
    const double *price;      /* [slots] currency/kWh, finite, may be negative */
    const double *site_limit_kw; /* [slots] >= 0 (connection minus building load, or curtailment);
                                    INFINITY allowed */
    double demand_charge;     /* D >= 0, currency per kW of the horizon's peak above existing_peak_kw */
    double existing_peak_kw;  /* >= 0: the peak already billed this period */
    const struct opt_session *sessions;
    int n_sessions;
    const struct opt_circuit *circuits; /* may be NULL when n_circuits == 0 */
    int n_circuits;
    /* Coarse grid (optional, smaller LP): 0 = off, every slot is its own LP slot. Otherwise > 0 and a whole
     * multiple k of slot_hours: the slots starting at least fine_hours (>= 0) after the start of slot 0 are
     * grouped k at a time (the last group may be shorter) into one LP slot each. See "Coarse grid" above. */
    double coarse_slot_hours;
    double fine_hours;
};

enum opt_simplex {
    OPT_SIMPLEX_AUTO = 0,     /* the rule in "Which simplex" above */
    OPT_SIMPLEX_DUAL = 1,     /* the rule before: dual, except primal for a warm start from a primal feasible
                                 basis (no budget, no degeneracy check) */
    OPT_SIMPLEX_PRIMAL = 2,   /* primal simplex, cold and warm */
};

struct opt_options {          /* zero-initialised fields take the defaults in brackets */
    int max_sessions;         /* [2000] more is OPT_EINVAL */
    int max_slots;            /* [2880] */
    int time_limit_ms;        /* [5000] per GLPK call (simplex, MIP) */
    double earliness;         /* [1e-4] relative cost allowed to prefer earlier charging; < 0 disables */
    int max_mip_binaries;     /* [2000] on/off variables up to which min power is solved exactly; -1 never */
    int no_warm_start;        /* 1: always solve from scratch (for measuring what warm starts save) */
    int use_interior;         /* 1: cold solves use GLPK's interior-point method (then a simplex cleanup) */
    int keep_redundant_rows;  /* 1: keep limit rows that cannot bind (their members' maxima fit under the
                                 limit); by default they are left free. For measuring what dropping saves. */
    int simplex;              /* [OPT_SIMPLEX_AUTO] see enum opt_simplex; the others are for measuring */
    int fault;                /* tests only: 1 = raise a GLPK error inside the solve, 2 = pretend the time
                                 limit was hit, 3 = pretend so on the planner's second solve only. 0 in
                                 production. */
};

enum opt_method {
    OPT_METHOD_LP = 0,        /* optimal LP (no minimum power, or every slot already respected it) */
    OPT_METHOD_MIP,           /* MIP with on/off variables, optimal within a relative gap of 1e-4 */
    OPT_METHOD_MIP_TIMELIMIT, /* MIP stopped by the time limit with an integer plan: feasible, maybe not best */
    OPT_METHOD_LP_REPAIR,     /* LP, then slots rounded to 0 or >= min_kw within every limit */
    OPT_METHOD_FALLBACK,      /* earliest departure first; see fallback_reason */
};

struct opt_plan {
    int slots, n_sessions;
    double *kw;               /* [n_sessions * slots]: kw[i * slots + t], grid side */
    double *site_kw;          /* [slots] */
    double *delivered_kwh;    /* [n_sessions] at the battery */
    double *shortfall_kwh;    /* [n_sessions] energy_kwh - delivered_kwh (>= 0) */
    double total_shortfall_kwh;

    double energy_cost;       /* sum c_t p_it h_t */
    double demand_cost;       /* D * max(0, peak_kw - existing_peak_kw) */
    double cost;              /* energy_cost + demand_cost: the money */
    double peak_kw;           /* max site total over the horizon */
    double penalty;           /* sum M_i s_i (the objective's shortfall part, currency units) */
    double earliness_cost;    /* the objective's tie-break part */
    double objective;         /* cost + penalty + earliness_cost of this plan */
    double solver_objective;  /* GLPK's objective in the LP's own (scaled) units, as in opt_export(); NAN
                                 without an LP solution. For comparing with another solver. */

    enum opt_method method;
    const char *method_name;  /* static string */
    char note[200];           /* why a fallback/repair happened, GLPK's return and status codes */
    int warm_start;           /* 1 when the LP started from the previous solve's basis: sessions matched by
                                 id, slots by where they end; what the new problem no longer has (a van that left,
                                 slots past a moved-up departure, a slot that passed) is first pivoted out of
                                 that basis, so such re-plans stay warm. Cold despite a previous solve: note
                                 says why. */
    int iterations;           /* simplex iterations of this solve (GLPK counter, all phases) */
    double build_ms, solve_ms, total_ms; /* wall time (monotonic clock: instrumentation, not planning) */
    size_t glpk_peak_bytes;   /* GLPK's peak memory in this thread's environment so far */
    int lp_slots;             /* slots of the LP (fewer than slots with a coarse grid) */
    int lp_rows_dropped;      /* limit rows left out because they cannot bind (0 with keep_redundant_rows) */

    int min_power_active;     /* some session has min_kw > 0 */
    double lp_cost;           /* cost (money) of the LP relaxation; equals cost when no min power */
    double lp_shortfall_kwh;  /* total shortfall of the LP relaxation */
    double min_power_extra_cost; /* cost - lp_cost */
};

typedef struct opt_planner opt_planner;

/* Returns NULL on allocation failure. opts may be NULL (all defaults); it is copied. */
opt_planner *opt_planner_new(const struct opt_options *opts);
void opt_planner_free(opt_planner *pl);

/*
 * Checks the problem and plans. On success returns OPT_OK and *out (free with opt_plan_free): there is
 * always a plan for a valid problem, a fallback one when the solver cannot give one (plan->method says).
 * On invalid input returns OPT_EINVAL with a message naming the field, and *out = NULL.
 */
int opt_solve(opt_planner *pl, const struct opt_problem *pb, struct opt_plan **out, char *err, size_t errlen);

/* Only validation, as opt_solve() does it (opts may be NULL). */
int opt_validate(const struct opt_problem *pb, const struct opt_options *opts, char *err, size_t errlen);

void opt_plan_free(struct opt_plan *plan);

/* Forget the basis kept for warm starts (the next solve is cold). */
void opt_planner_reset(opt_planner *pl);

/* Frees this thread's GLPK environment. Call after the thread's last planner is freed. */
void opt_thread_cleanup(void);

/* ---- Debugging ---------------------------------------------------------------------------------------- */
enum opt_export_format { OPT_EXPORT_LP = 0 /* CPLEX LP */, OPT_EXPORT_MPS = 1 /* free MPS */ };

/*
 * Writes the LP that opt_solve() would solve (without min-power on/off variables) to `path`, with names
 * p_<i>_<t>, s_<i>, energy_<i>, site_<t>, c<c>_<phase>_<t>, peak_<t> (i = session index, t = slot, or LP slot
 * with a coarse grid). Limit rows that cannot bind (or have no limit) are left out of the file, as the solve
 * leaves them free. The objective is in the LP's internal scaled units (compare with plan->solver_objective). The only function that
 * touches a file. Returns OPT_OK, OPT_EINVAL or OPT_EIO.
 */
int opt_export(const struct opt_problem *pb, const struct opt_options *opts, const char *path,
               enum opt_export_format format, char *err, size_t errlen);

#endif
