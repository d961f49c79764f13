/*
 * control_replay.c - `depotd --replay-plan N`: every plan event carries the optimizer problem exactly as it
 * was solved ("lp": full-precision prices, the limits after reservations, each session's energy target and
 * bounds, the circuits, the solver options). Re-running it from the log alone answers "would the same inputs
 * give the same plan?" and shows what a plan was made of. Main thread, before the loop exists.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "optimizer.h"

/* The same plan: every kW within the logged rounding (1e-3). An equivalent plan: every session gets the same
 * energy and the cost is within 0.5 %. GLPK is deterministic, but the live planner starts each simplex from
 * the previous plan's basis, which the log does not hold: where an LP has several optimal schedules (slots of
 * equal price) a cold re-run may find another one. The LP optimum's cost is the same for all of them, but the
 * 6 A repair (a heuristic on top of the LP) rounds each vertex differently, and its cost has no bound: under
 * ASan, control_faults saw a repaired plan 0.6 % apart. So for a repaired plan whose event carries result.lp_cost
 * the cost compared is the LP relaxation's; the repaired costs are printed, not judged. */
#define REPLAY_KW_TOL 0.01
#define REPLAY_KWH_TOL 0.05
#define REPLAY_COST_ABS 0.01
#define REPLAY_COST_REL 0.005

static cJSON *num_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    /* INFINITY is not JSON: null means unlimited. */
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

cJSON *ctl_lp_to_json(const struct opt_problem *pb, const struct opt_options *o)
{
    cJSON *lp = cJSON_CreateObject();
    cJSON_AddNumberToObject(lp, "slots", pb->slots);
    cJSON_AddNumberToObject(lp, "slot_hours", pb->slot_hours);
    cJSON_AddNumberToObject(lp, "first_slot_hours", pb->first_slot_hours);
    cJSON_AddNumberToObject(lp, "epoch_slot", (double)pb->epoch_slot);
    cJSON_AddItemToObject(lp, "price", num_array(pb->price, pb->slots));
    cJSON_AddItemToObject(lp, "site_limit_kw", num_array(pb->site_limit_kw, pb->slots));
    cJSON_AddNumberToObject(lp, "demand_charge", pb->demand_charge);
    cJSON_AddNumberToObject(lp, "existing_peak_kw", pb->existing_peak_kw);
    cJSON *ss = cJSON_AddArrayToObject(lp, "sessions");
    for (int i = 0; i < pb->n_sessions; i++) {
        const struct opt_session *s = &pb->sessions[i];
        cJSON *o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "id", s->id);
        cJSON_AddNumberToObject(o2, "first_slot", s->first_slot);
        cJSON_AddNumberToObject(o2, "end_slot", s->end_slot);
        cJSON_AddNumberToObject(o2, "energy_kwh", s->energy_kwh);
        cJSON_AddNumberToObject(o2, "efficiency", s->efficiency);
        cJSON_AddNumberToObject(o2, "max_kw", s->max_kw);
        if (s->max_kw_slot) cJSON_AddItemToObject(o2, "max_kw_slot", num_array(s->max_kw_slot, pb->slots));
        cJSON_AddNumberToObject(o2, "min_kw", s->min_kw);
        cJSON_AddNumberToObject(o2, "priority", s->priority);
        cJSON_AddNumberToObject(o2, "circuit", s->circuit);
        cJSON_AddNumberToObject(o2, "phases", s->phases);
        cJSON_AddItemToArray(ss, o2);
    }
    cJSON *cs = cJSON_AddArrayToObject(lp, "circuits");
    for (int c = 0; c < pb->n_circuits; c++) {
        const struct opt_circuit *ci = &pb->circuits[c];
        cJSON *o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "id", ci->id ? ci->id : "");
        cJSON_AddNumberToObject(o2, "parent", ci->parent);
        if (isfinite(ci->limit_kw)) cJSON_AddNumberToObject(o2, "limit_kw", ci->limit_kw);
        else cJSON_AddNullToObject(o2, "limit_kw");
        cJSON_AddNumberToObject(o2, "per_phase", ci->per_phase);
        cJSON_AddItemToArray(cs, o2);
    }
    cJSON_AddNumberToObject(lp, "coarse_slot_hours", pb->coarse_slot_hours);
    cJSON_AddNumberToObject(lp, "fine_hours", pb->fine_hours);
    cJSON *op = cJSON_AddObjectToObject(lp, "options");
    cJSON_AddNumberToObject(op, "time_limit_ms", o->time_limit_ms);
    cJSON_AddNumberToObject(op, "max_mip_binaries", o->max_mip_binaries);
    cJSON_AddNumberToObject(op, "earliness", o->earliness);
    return lp;
}

/* ---- reading it back ---------------------------------------------------------------------------------------- */

struct lp_data {
    struct opt_problem pb;
    struct opt_options opts;
    double *price, *limit, *max_slot;
    struct opt_session *sessions;
    struct opt_circuit *circuits;
};

static void lp_data_free(struct lp_data *l)
{
    free(l->price);
    free(l->limit);
    free(l->max_slot);
    free(l->sessions);
    free(l->circuits);
}

static double num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsNull(v) ? INFINITY : def;
}

static int read_array(const cJSON *a, double *out, int n, char *err, size_t err_len, const char *what)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) {
        snprintf(err, err_len, "lp.%s: an array of %d numbers", what, n);
        return -1;
    }
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) out[i++] = cJSON_IsNumber(v) ? v->valuedouble : INFINITY;
    return 0;
}

/* The problem from the plan event's "lp" (strings stay borrowed from the JSON). 0, or -1 with err. */
static int lp_from_json(const cJSON *lp, struct lp_data *l, char *err, size_t err_len)
{
    memset(l, 0, sizeof *l);
    int T = (int)num(lp, "slots", 0);
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(lp, "sessions");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(lp, "circuits");
    if (T < 1 || T > 100000 || !cJSON_IsArray(ss) || !cJSON_IsArray(cs)) {
        snprintf(err, err_len, "lp: slots, sessions and circuits are required");
        return -1;
    }
    int n = cJSON_GetArraySize(ss), nc = cJSON_GetArraySize(cs);
    l->price = calloc((size_t)T, sizeof(double));
    l->limit = calloc((size_t)T, sizeof(double));
    l->max_slot = calloc((size_t)T * (size_t)(n + 1), sizeof(double));
    l->sessions = calloc((size_t)n + 1, sizeof *l->sessions);
    l->circuits = calloc((size_t)nc + 1, sizeof *l->circuits);
    if (!l->price || !l->limit || !l->max_slot || !l->sessions || !l->circuits) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (read_array(cJSON_GetObjectItemCaseSensitive(lp, "price"), l->price, T, err, err_len, "price") ||
        read_array(cJSON_GetObjectItemCaseSensitive(lp, "site_limit_kw"), l->limit, T, err, err_len, "site_limit_kw"))
        return -1;
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, ss) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
        const cJSON *mks = cJSON_GetObjectItemCaseSensitive(s, "max_kw_slot");
        struct opt_session *o = &l->sessions[i];
        *o = (struct opt_session){
            .id = cJSON_IsString(id) ? id->valuestring : "?",
            .first_slot = (int)num(s, "first_slot", 0),
            .end_slot = (int)num(s, "end_slot", 0),
            .energy_kwh = num(s, "energy_kwh", 0),
            .efficiency = num(s, "efficiency", 1),
            .max_kw = num(s, "max_kw", 0),
            .min_kw = num(s, "min_kw", 0),
            .priority = num(s, "priority", 1),
            .circuit = (int)num(s, "circuit", -1),
            .phases = (enum opt_phases)(int)num(s, "phases", 0),
        };
        if (mks) {
            if (read_array(mks, &l->max_slot[(size_t)i * T], T, err, err_len, "sessions[].max_kw_slot")) return -1;
            o->max_kw_slot = &l->max_slot[(size_t)i * T];
        }
        i++;
    }
    int c = 0;
    cJSON_ArrayForEach(s, cs) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
        l->circuits[c++] = (struct opt_circuit){.id = cJSON_IsString(id) ? id->valuestring : NULL,
                                                .parent = (int)num(s, "parent", -1),
                                                .limit_kw = num(s, "limit_kw", INFINITY),
                                                .per_phase = (int)num(s, "per_phase", 0)};
    }
    l->pb = (struct opt_problem){
        .slots = T,
        .slot_hours = num(lp, "slot_hours", 0.25),
        .first_slot_hours = num(lp, "first_slot_hours", 0),
        .epoch_slot = (int64_t)num(lp, "epoch_slot", 0),
        .price = l->price,
        .site_limit_kw = l->limit,
        .demand_charge = num(lp, "demand_charge", 0),
        .existing_peak_kw = num(lp, "existing_peak_kw", 0),
        .sessions = l->sessions,
        .n_sessions = n,
        .circuits = nc ? l->circuits : NULL,
        .n_circuits = nc,
        .coarse_slot_hours = num(lp, "coarse_slot_hours", 0),
        .fine_hours = num(lp, "fine_hours", 0),
    };
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(lp, "options");
    l->opts.time_limit_ms = (int)num(op, "time_limit_ms", 0);
    l->opts.max_mip_binaries = (int)num(op, "max_mip_binaries", 0);
    l->opts.earliness = num(op, "earliness", 0);
    /* A cold solve: the live planner may have started from the previous plan's basis, which the log does not
     * hold; an LP optimum does not depend on where the simplex started. */
    l->opts.no_warm_start = 1;
    return 0;
}

/* The plan event's text for plan n (the latest, should the number repeat across restarts), malloc'd. */
static char *plan_event(const char *db_path, uint64_t n, int *count, char *err, size_t err_len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    *count = 0;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", db_path, db ? sqlite3_errmsg(db) : "cannot open");
        goto done;
    }
    if (sqlite3_prepare_v2(db, "SELECT data FROM events WHERE type = 'plan' AND json_extract(data, '$.plan') = ?1 "
                               "ORDER BY seq DESC", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", db_path, sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            out = t ? strdup(t) : NULL;
        }
        (*count)++;
    }
    if (rc != SQLITE_DONE) snprintf(err, err_len, "%s: %s", db_path, sqlite3_errmsg(db));
    else if (!out) snprintf(err, err_len, "%s: no plan %llu in the event log", db_path, (unsigned long long)n);
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

int control_replay_plan(const char *db_path, uint64_t n, FILE *out)
{
    char err[300] = "";
    int count = 0, rc = 2;
    char *text = plan_event(db_path, n, &count, err, sizeof err);
    cJSON *ev = text ? cJSON_Parse(text) : NULL;
    struct lp_data l = {0};
    opt_planner *pl = NULL;
    struct opt_plan *plan = NULL;
    if (!text) goto fail;
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(ev, "lp");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(ev, "result");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(res, "kw");
    if (!lp) {
        snprintf(err, sizeof err, "plan %llu was logged without its problem (\"lp\": depotd before --replay-plan)",
                 (unsigned long long)n);
        goto fail;
    }
    if (!cJSON_IsArray(rows)) {
        snprintf(err, sizeof err, "plan %llu has no result to compare with (the solve failed or never came back)",
                 (unsigned long long)n);
        goto fail;
    }
    if (lp_from_json(lp, &l, err, sizeof err)) goto fail;
    if (cJSON_GetArraySize(rows) != l.pb.n_sessions) {
        snprintf(err, sizeof err, "plan %llu: %d result rows for %d sessions", (unsigned long long)n,
                 cJSON_GetArraySize(rows), l.pb.n_sessions);
        goto fail;
    }
    pl = opt_planner_new(&l.opts);
    if (!pl || opt_solve(pl, &l.pb, &plan, err, sizeof err) != OPT_OK) {
        if (!err[0]) snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    double logged_cost = num(res, "cost", NAN);
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(ev, "reasons");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(ev, "start");
    fprintf(out, "plan %llu (%s, start %s)%s: %d sessions x %d slots, re-run by %s\n", (unsigned long long)n,
            cJSON_IsString(reasons) ? reasons->valuestring : "?", cJSON_IsString(start) ? start->valuestring : "?",
            count > 1 ? " [the latest of several with this number]" : "", l.pb.n_sessions, l.pb.slots,
            plan->method_name);
    fprintf(out, "%-40s %12s %12s %12s\n", "session", "logged kWh", "re-run kWh", "max |dkW|");
    double worst = 0, worst_kwh = 0;
    int i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        double logged_kwh = 0, rerun_kwh = 0, dmax = 0;
        int t = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, row) {
            if (t >= l.pb.slots) break;
            double h = t == 0 && l.pb.first_slot_hours > 0 ? l.pb.first_slot_hours : l.pb.slot_hours;
            double a = cJSON_IsNumber(v) ? v->valuedouble : 0, b = plan->kw[(size_t)i * plan->slots + t];
            logged_kwh += a * h;
            rerun_kwh += b * h;
            if (fabs(a - b) > dmax) dmax = fabs(a - b);
            t++;
        }
        if (dmax > worst) worst = dmax;
        if (fabs(logged_kwh - rerun_kwh) > worst_kwh) worst_kwh = fabs(logged_kwh - rerun_kwh);
        fprintf(out, "%-40.40s %12.3f %12.3f %12.3f\n", l.sessions[i].id, logged_kwh, rerun_kwh, dmax);
        i++;
    }
    double dcost = fabs(plan->cost - logged_cost);
    bool cost_ok = dcost <= REPLAY_COST_ABS || dcost <= REPLAY_COST_REL * fabs(logged_cost);
    double logged_lp = num(res, "lp_cost", NAN);
    if (plan->method == OPT_METHOD_LP_REPAIR && isfinite(logged_lp) && isfinite(plan->lp_cost)) {
        double dlp = fabs(plan->lp_cost - logged_lp);
        cost_ok = dlp <= REPLAY_COST_ABS || dlp <= REPLAY_COST_REL * fabs(logged_lp);
        fprintf(out, "LP relaxation cost: logged %.4f, re-run %.4f (compared: the 6 A repair's cost depends on the LP "
                     "vertex)\n", logged_lp, plan->lp_cost);
    }
    bool same = cost_ok && worst <= REPLAY_KW_TOL;
    bool equivalent = cost_ok && worst_kwh <= REPLAY_KWH_TOL;
    fprintf(out, "cost: logged %.4f, re-run %.4f; largest energy difference %.3f kWh, largest kW difference %.3f: %s\n",
            logged_cost, plan->cost, worst_kwh, worst,
            same ? "the same plan" : equivalent ? "an equivalent plan (same energy per session, cost within 0.5 %; of the LP relaxation for a repaired plan)"
                                                : "DIFFERENT");
    rc = same || equivalent ? 0 : 1;
    goto done;
fail:
    fprintf(stderr, "depotd: --replay-plan: %s\n", err);
done:
    opt_plan_free(plan);
    opt_planner_free(pl);
    opt_thread_cleanup();
    lp_data_free(&l);
    cJSON_Delete(ev);
    free(text);
    return rc;
}
