/*
 * control_plan.c - the planner: the problem control_build.c made of the model goes to the worker thread, GLPK
 * solves it (twice when the stations' caps do not fit the first plan), and the plan comes back through the
 * port's post, logged as the plan event. One solve at a time: control.c coalesces requests while one runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"
#include "optimizer.h"
#include "plan_lp.h"
#include "prices.h"
struct ctl_planner {
    struct ctl_port port;        /* a copy: the worker calls post */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ctl_job *job;
    bool stop, started;
    struct opt_options opts;
};

void ctl_plan_free(struct ctl_plan *p)
{
    if (!p) return;
    free(p->sessions);
    free(p->kw);
    free(p->site_limit_kw);
    free(p->caps);
    free(p->cap_slots);
    free(p->at);
    free(p);
}

int ctl_plan_slot_at(const struct ctl_plan *p, int64_t t)
{
    if (t < p->at[1]) return 0;
    if (t >= p->at[p->slots]) return p->slots;
    if (t >= p->first_end_ms) return p->parts + (int)((t - p->first_end_ms) / p->slot_ms);
    int k = 1;
    while (k + 1 < p->parts && p->at[k + 1] <= t) k++;
    return k;
}

void ctl_job_free(struct ctl_job *j)
{
    if (!j) return;
    for (int i = 0; j->ids && i < j->pb.n_sessions; i++) free(j->ids[i]);
    free(j->ids);
    free(j->sessions);
    free(j->circuits);
    free(j->price);
    free(j->limit);
    free(j->max_slot);
    free(j->caps);
    free(j->cap_old);
    free(j->cap_feeder);
    free(j->feeder_w);
    free(j->caps_limit_w);
    free(j->cap_lim);
    ctl_plan_free(j->plan);
    cJSON_Delete(j->record);
    free(j);
}

/* ---- back on the loop thread -------------------------------------------------------------------------------- */

static void on_solved(struct control *ctl, void *arg)
{
    struct ctl_job *j = arg;
    struct ctl_plan *plan = j->plan;
    if (ctl != j->ctl) {
        /* Solved while control stopped: the worker handed it over just before control_stop joined it, and the
         * server runs what was handed over after every module stopped. Nothing is left to apply it to. */
        ctl_job_free(j); /* and its plan */
        return;
    }
    plan->solved_mono = ctl_mono(ctl);
    cJSON *res = cJSON_AddObjectToObject(j->record, "result");
    if (plan->failed) {
        cJSON_AddStringToObject(res, "error", plan->err);
    } else {
        cJSON_AddStringToObject(res, "method", plan->method);
        cJSON_AddNumberToObject(res, "cost", round(plan->cost * 1e4) / 1e4);
        /* Full precision: --replay-plan compares it (the LP optimum is unique; what the 6 A repair makes of it
         * depends on which optimal vertex the warm-started simplex stopped at). */
        if (isfinite(plan->lp_cost)) cJSON_AddNumberToObject(res, "lp_cost", plan->lp_cost);
        cJSON_AddNumberToObject(res, "shortfall_kwh", round(plan->shortfall_kwh * 1e3) / 1e3);
        cJSON_AddNumberToObject(res, "solve_ms", round(plan->solve_ms * 10) / 10);
        cJSON_AddStringToObject(res, "solver", plan->solver);
        cJSON *rows = cJSON_AddArrayToObject(res, "kw");
        for (int i = 0; i < plan->n; i++) {
            cJSON *row = cJSON_CreateArray();
            for (int t = 0; t < plan->slots; t++)
                cJSON_AddItemToArray(row, cJSON_CreateNumber(round(plan->kw[(size_t)i * plan->slots + t] * 1e3) / 1e3));
            cJSON_AddItemToArray(rows, row);
        }
        /* Per session, in the order of "sessions" and "kw": what the plan delivers by the session's end slot and
         * what it misses of the target it was given (the need plus control.energy_margin_pct). */
        cJSON *per = cJSON_AddArrayToObject(res, "sessions");
        for (int i = 0; i < plan->n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "transaction", plan->sessions[i].tx_id);
            cJSON_AddNumberToObject(o, "planned_kwh", round(plan->sessions[i].planned_kwh * 1e3) / 1e3);
            cJSON_AddNumberToObject(o, "shortfall_kwh", round(plan->sessions[i].shortfall_kwh * 1e3) / 1e3);
            cJSON_AddItemToArray(per, o);
        }
        if (plan->caps) {
            /* The station maxima this plan leaves room for (sent through the saga, decreases first). */
            cJSON_AddNumberToObject(res, "caps_pass", plan->caps_pass);
            cJSON *ca = cJSON_AddArrayToObject(res, "station_caps");
            for (int c = 1; c < plan->n_caps; c++) {
                if (!plan->caps[c].station[0]) continue; /* a feeder's placeholder */
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "station", plan->caps[c].station);
                cJSON_AddBoolToObject(o, "adjustable", plan->caps[c].adjustable);
                cJSON_AddNumberToObject(o, "want_kw", round(plan->caps[c].want_w) / 1000.0);
                cJSON_AddNumberToObject(o, "cap_kw", round(plan->caps[c].cap_w) / 1000.0);
                cJSON_AddItemToArray(ca, o);
            }
            if (plan->caps_pass == 2) {
                /* Re-planned within the caps: the problem solved last is the one --replay-plan must re-run. */
                cJSON_ReplaceItemInObjectCaseSensitive(j->record, "lp", plan_lp_to_json(&j->pb, ctl_planner_options(ctl->planner)));
                cJSON *circ = cJSON_GetObjectItemCaseSensitive(j->record, "circuits");
                cJSON *o;
                int c = 0;
                cJSON_ArrayForEach(o, circ) {
                    if (c < j->pb.n_circuits)
                        cJSON_ReplaceItemInObjectCaseSensitive(o, "limit_kw",
                                                               cJSON_CreateNumber(round(j->pb.circuits[c].limit_kw * 1e3) / 1e3));
                    c++;
                }
            }
        }
    }
    char *json = cJSON_PrintUnformatted(j->record);
    if (json) {
        ctl->port.log_event(ctl->port.ctx, "plan", NULL, json);
        cJSON_free(json);
    }
    j->plan = NULL;
    ctl_job_free(j);
    ctl_plan_ready(ctl, plan);
}

/* ---- the worker -------------------------------------------------------------------------------------------- */

/* Each station's cap per slot from a plan: what its sessions take together in the slot, plus its floor, shared out under the site limit slot by slot; after the horizon its floor alone.
 * Returns 1 when in some slot the wants did not fit (sched_caps_share). */
static int caps_from(struct ctl_job *j, const struct opt_plan *out)
{
    int T = out->slots, rc = 0, n = j->n_caps;
    struct ctl_plan *plan = j->plan;
    struct sched_cap *row = calloc((size_t)n + 1, sizeof *row);
    if (!row) return 1;
    for (int t = 0; t <= T; t++) {
        for (int c = 0; c < n; c++) {
            row[c] = j->caps[c];
            row[c].old_w = row[c].cap_w = j->cap_old[(size_t)c * (T + 1) + t];
            double sum = 0;
            for (int i = 0; t < T && i < out->n_sessions; i++)
                if (j->sessions[i].circuit == c) sum += out->kw[(size_t)i * T + t];
            /* No slack for the unit: a cap rounded down may hold its EVSEs a step (0.1 A) under their profiles,
             * which costs a car a few W and the site nothing. */
            row[c].want_w = row[c].floor_w + sum * 1000.0;
        }
        rc |= sched_caps_share(row, n, j->caps_limit_w[t], j->caps_other_w);
        if (j->cap_feeder) rc |= ctl_caps_fit_feeders(j, row, n, t, T);
        for (int c = 0; c < n; c++) {
            plan->caps[c].want_slot_w[t] = row[c].want_w;
            plan->caps[c].cap_slot_w[t] = row[c].cap_w;
        }
    }
    for (int c = 0; c < n; c++) {
        plan->caps[c].want_w = plan->caps[c].want_slot_w[0];
        plan->caps[c].cap_w = plan->caps[c].cap_slot_w[0];
    }
    free(row);
    return rc;
}

/* For the plan event: how each solve went (an operator asking why a plan was a fallback reads it here). */
static void solver_said(struct ctl_plan *plan, const struct opt_plan *out)
{
    if (!out) return;
    size_t used = strlen(plan->solver);
    snprintf(plan->solver + used, sizeof plan->solver - used, "%s%s, %d iterations, %.1f ms%s%s", used ? "; " : "",
             out->warm_start ? "warm" : "cold", out->iterations, out->solve_ms, out->note[0] ? ": " : "", out->note);
}

static void *worker(void *arg)
{
    struct ctl_planner *p = arg;
    /* Two planners, each warm-starting from its own last solve: the caps pass (stations as circuits) started
     * from the first pass's basis took 1,200-14,000 iterations and up to the time limit where a cold start
     * takes ~200 and 5 ms; the first pass then started from a caps-pass basis, slower too (docs/benchmarks.md,
     * "Warm starts across the caps pass"). */
    opt_planner *pl = opt_planner_new(&p->opts);
    opt_planner *pl_caps = opt_planner_new(&p->opts);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !p->job) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop) break;
        struct ctl_job *j = p->job;
        p->job = NULL;
        pthread_mutex_unlock(&p->mu);

        struct ctl_plan *plan = j->plan;
        struct opt_plan *out = NULL;
        char err[200] = "";
        int rc = pl ? opt_solve(pl, &j->pb, &out, err, sizeof err) : OPT_ENOMEM;
        plan->caps_pass = 1;
        solver_said(plan, out);
        if (rc == OPT_OK && out && j->n_caps && caps_from(j, out) != 0 && j->pb.n_sessions > 0) {
            /* In some slot the stations' wants do not fit under the site limit together (caps that cannot move
             * count for more than the plan gave them): plan again with each station a circuit of the cap it can
             * have in each slot. */
            for (int c = 0; c < j->n_caps; c++)
                for (int t = 0; j->caps[c].adjustable && t < j->pb.slots; t++)
                    j->cap_lim[(size_t)c * j->pb.slots + t] =
                        fmax(0, plan->caps[c].cap_slot_w[t] - j->caps[c].floor_w) / 1000.0;
            struct opt_plan *out2 = NULL;
            rc = pl_caps ? opt_solve(pl_caps, &j->pb, &out2, err, sizeof err) : OPT_ENOMEM;
            opt_plan_free(out);
            out = out2;
            plan->caps_pass = 2;
            solver_said(plan, out);
            if (rc == OPT_OK && out) caps_from(j, out);
        }
        if (rc != OPT_OK || !out) {
            plan->failed = true;
            snprintf(plan->err, sizeof plan->err, "%s", err[0] ? err : "out of memory");
        } else {
            size_t cells = (size_t)out->n_sessions * (size_t)out->slots;
            plan->kw = malloc((cells ? cells : 1) * sizeof(double));
            if (!plan->kw) {
                plan->failed = true;
                snprintf(plan->err, sizeof plan->err, "out of memory");
            } else {
                memcpy(plan->kw, out->kw, cells * sizeof(double));
                for (int i = 0; i < plan->n; i++) {
                    plan->sessions[i].planned_kwh = out->delivered_kwh[i];
                    plan->sessions[i].shortfall_kwh = out->shortfall_kwh[i];
                }
                plan->cost = out->cost;
                plan->lp_cost = out->lp_cost;
                plan->shortfall_kwh = out->total_shortfall_kwh;
                plan->solve_ms = out->total_ms;
                plan->method = out->method_name;
            }
            opt_plan_free(out);
        }
        if (p->port.post(p->port.ctx, on_solved, j)) ctl_job_free(j); /* out of memory: the next trigger plans again */
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    opt_planner_free(pl);
    opt_planner_free(pl_caps);
    opt_thread_cleanup();
    return NULL;
}

struct ctl_planner *ctl_planner_start(struct control *ctl, char *err, size_t err_len)
{
    struct ctl_planner *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->port = ctl->port;
    p->opts.time_limit_ms = ctl->cfg.solver_time_limit_ms;
    p->opts.earliness = ctl->cfg.earliness_pct > 0 ? ctl->cfg.earliness_pct / 100.0 : -1;
    /* Exact minimum-current MIPs only for small fleets: a branch-and-bound that runs to its time limit would
     * hold every re-plan back; larger ones get the LP repaired to 0-or-minimum (optimizer.h). */
    p->opts.max_mip_binaries = ctl->cfg.mip_max_binaries > 0 ? ctl->cfg.mip_max_binaries : -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, worker, p)) {
        snprintf(err, err_len, "cannot start the planner thread");
        free(p);
        return NULL;
    }
    p->started = true;
    return p;
}

void ctl_planner_stop(struct ctl_planner *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->started) pthread_join(p->thread, NULL);
    ctl_job_free(p->job);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
int ctl_planner_submit(struct control *ctl, const char *reasons)
{
    struct ctl_job *j = ctl_job_build(ctl, reasons);
    if (!j) return -1;
    struct ctl_planner *p = ctl->planner;
    pthread_mutex_lock(&p->mu);
    ctl_job_free(p->job); /* cannot happen: control.c submits one at a time */
    p->job = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

const struct opt_options *ctl_planner_options(const struct ctl_planner *p) { return &p->opts; }
