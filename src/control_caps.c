/*
 * control_caps.c - ChargingStationMaxProfile station maxima that follow the plan (README "Smart charging"): how
 * each station is counted against the site limit, the plan's caps in the saga (decreases in phase 1, raises in
 * phase 2 only if they fit), the write-ahead of raises, the answers, the station_cap events and, after a restart,
 * the caps restored from the newest one. The caps themselves come from the planner (control_plan.c) and
 * sched_caps_keep (schedule.c). Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

/* ---- counting ----------------------------------------------------------------------------------------------- */

double ctl_cap_counted_w(const struct control *ctl, const struct ctl_station *cs)
{
    if (cs->failsafe_rejected) return ctl_station_hw_w(ctl, cs);
    double w = cs->cap_known ? cs->cap_w : ctl_failsafe_station_w(ctl);
    if (cs->cap_inflight && cs->cap_inflight_w > w) w = cs->cap_inflight_w;
    return w;
}

double ctl_caps_unseen_w(const struct control *ctl)
{
    size_t n = ctl->d->n_stations, known = 0;
    if ((size_t)ctl->cfg.failsafe_stations > n) n = (size_t)ctl->cfg.failsafe_stations;
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next) known++;
    return n > known ? (double)(n - known) * ctl_failsafe_station_w(ctl) : 0;
}

double ctl_caps_limit_w(const struct control *ctl, int64_t now)
{
    return ctl_site_limit_kw(ctl, now) * 1000.0;
}

double ctl_caps_sum_w(const struct control *ctl)
{
    double w = ctl_caps_unseen_w(ctl);
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next) w += ctl_cap_counted_w(ctl, cs);
    return w;
}

bool ctl_cap_adjustable(const struct ctl_station *cs)
{
    return cs->st->conn && cs->cap_known && !cs->cap_inflight && !cs->cap_stuck && !cs->failsafe_rejected;
}

double ctl_idle_floor_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    /* failsafe_evse_kw when set, else the least a car can charge with at all (min_current_a on its phases). */
    struct sched_unit u;
    ctl_unit(ctl, cs, e, &u);
    double w = ctl->cfg.failsafe_evse_kw > 0 ? ctl->cfg.failsafe_evse_kw * 1000.0 : u.min_w;
    double m = ctl_evse_max_w(ctl, cs, e);
    return w < m ? w : m;
}

/* ---- the log ------------------------------------------------------------------------------------------------ */

/* Every change of a station maximum, sent or answered, with every station's counted cap: the log shows the sum in
 * force at each step, and a restarted depotd takes the caps from the newest one (ctl_caps_restore). */
uint64_t ctl_caps_log(struct control *ctl, struct ctl_station *cs, const char *what, double w, uint64_t plan_id,
                      int phase)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "what", what);
    cJSON_AddNumberToObject(o, "kw", round(w) / 1000.0);
    if (plan_id) cJSON_AddNumberToObject(o, "plan", (double)plan_id);
    cJSON_AddNumberToObject(o, "phase", phase);
    cJSON *m = cJSON_AddObjectToObject(o, "caps");
    for (struct ctl_station *x = ctl->stations; x; x = x->next)
        cJSON_AddNumberToObject(m, x->st->id, round(ctl_cap_counted_w(ctl, x)) / 1000.0);
    cJSON_AddNumberToObject(o, "unseen_kw", round(ctl_caps_unseen_w(ctl)) / 1000.0);
    cJSON_AddNumberToObject(o, "sum_kw", round(ctl_caps_sum_w(ctl)) / 1000.0);
    cJSON_AddNumberToObject(o, "limit_kw", round(ctl_caps_limit_w(ctl, depot_now_ms())) / 1000.0);
    return ctl_log_event(ctl, "station_cap", cs->st->id, o);
}

/* After a restart the stations still hold the caps of the last run, which need not be equal shares: each counts
 * at what the newest station_cap event says (a cap in flight then counted at the higher one), so a station that
 * reconnects first cannot be given room another one still uses. */
void ctl_caps_restore(struct control *ctl)
{
    char *data = store_last_event_data(ctl->d->store, "station_cap");
    cJSON *o = data ? cJSON_Parse(data) : NULL;
    free(data);
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "caps")) {
        struct station *st = depot_station_find(ctl->d, it->string);
        struct ctl_station *cs = st && cJSON_IsNumber(it) ? ctl_station(ctl, st) : NULL;
        if (!cs) continue;
        cs->cap_known = true;
        cs->cap_w = ceil(it->valuedouble * 1000.0 - 1e-6);
        n++;
    }
    cJSON_Delete(o);
    if (n) log_info("control", NULL, "station caps of %d stations restored from the event log (%.1f kW of %.1f kW)", n,
                    ctl_caps_sum_w(ctl) / 1000.0, ctl_caps_limit_w(ctl, depot_now_ms()) / 1000.0);
}

/* ---- raises, written ahead ------------------------------------------------------------------------------ */

/* Write-ahead for a cap raise. A raise gives a station room the others may no longer use, and a restarted depotd
 * counts each station from the newest station_cap event; so the station must never hold a cap the log has not seen.
 * The frame and the event would otherwise both be queued (the frame written at the next writable callback, the
 * event committed by the store's writer whenever it gets to it), and a kill between the two leaves the station
 * raised behind the log's back. Hence the order: count the raise (cap_inflight), append its "sending" event, and
 * only when that event is durable (depot_after_durable) queue the SetChargingProfile. If the commit fails, or the
 * station went away meanwhile, the raise is withheld: not sent, uncounted again, and re-planned. Decreases need no
 * write-ahead: a lost event of a decrease only counts the station higher than it is. */
static void on_cap_raise_durable(struct depot *d, void *arg, enum store_ticket_state state);
static void cap_raise_withheld(struct control *ctl, struct ctl_call *c, const char *why, bool in_saga);

void ctl_caps_hold_raise(struct control *ctl, struct ctl_station *cs, struct ctl_call *c, cJSON *req)
{
    c->held_req = req;
    cs->cap_inflight = true;
    cs->cap_inflight_w = c->sched.w[0];
    cs->failsafe_sent = true;
    cs->failsafe_due = false;
    uint64_t ticket = ctl_caps_log(ctl, cs, "sending", c->sched.w[0], c->plan_id, c->phase);
    if (!ticket || depot_after_durable(ctl->d, ticket, on_cap_raise_durable, (void *)(uintptr_t)c->cookie)) {
        cap_raise_withheld(ctl, c, "out of memory", false); /* not counted in the saga yet */
        return;
    }
    if (c->phase != 0) ctl->saga_in_flight++;
    ctl->caps_held++;
}

/* The raise did not leave: the station keeps the cap it has, counted as such again (the "sending" event, if it
 * was stored, only counts it higher). The saga goes on without it; the next plan tries again. */
static void cap_raise_withheld(struct control *ctl, struct ctl_call *c, const char *why, bool in_saga)
{
    struct ctl_station *cs = ctl_station_find(ctl, c->station);
    uint64_t plan_id = c->plan_id;
    int phase = c->phase;
    if (cs) {
        cs->cap_inflight = false;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "plan", (double)plan_id);
        cJSON_AddStringToObject(o, "action", "station cap raise withheld");
        cJSON_AddStringToObject(o, "why", why);
        cJSON_AddNumberToObject(o, "kw", round(c->sched.w[0]) / 1000.0);
        ctl_log_event(ctl, "compensation", cs->st->id, o);
        ctl_caps_log(ctl, cs, "withheld", c->sched.w[0], plan_id, phase);
        log_warn("control", cs->st->id, "station cap raise to %.1f kW withheld: %s", c->sched.w[0] / 1000.0, why);
    }
    ctl_call_drop(ctl, c);
    control_replan(ctl->d, "failsafe");
    if (in_saga && phase != 0) ctl_saga_call_done(ctl, plan_id);
}

static void on_cap_raise_durable(struct depot *d, void *arg, enum store_ticket_state state)
{
    struct control *ctl = d->control;
    if (!ctl) return;
    uint64_t cookie = (uint64_t)(uintptr_t)arg;
    struct ctl_call *c = ctl->calls;
    while (c && c->cookie != cookie) c = c->next;
    if (!c || !c->held_req) return; /* withheld already (the station went away) */
    ctl->caps_held--;
    struct ctl_station *cs = ctl_station_find(ctl, c->station);
    char err[200] = "the station is not connected, or refused its fail-safe";
    cJSON *req = c->held_req;
    c->held_req = NULL;
    bool sent = false;
    if (state == STORE_DURABLE && cs && cs->st->conn && !cs->failsafe_rejected) {
        if (depot_call_user(cs->st->conn, "SetChargingProfile", req, arg, err, sizeof err) == 0) {
            sent = true;
            ctl->stats.profiles_sent++;
        }
    } else if (state != STORE_DURABLE) {
        snprintf(err, sizeof err, "its station_cap event could not be stored");
    }
    cJSON_Delete(req);
    /* Phase 2's TxProfiles go out behind the last cap raise, so each station finds its room already there. */
    if (ctl->caps_held == 0 && ctl->saga_tx_deferred) {
        ctl->saga_tx_deferred = false;
        ctl_saga_send_increases(ctl);
    }
    if (!sent) cap_raise_withheld(ctl, c, err, true);
}

void ctl_caps_on_disconnect(struct control *ctl, const char *station)
{
    /* A raise still waiting for its write-ahead event is not sent to a later connection (which boots and gets
     * its fail-safe again). */
    for (struct ctl_call *c = ctl->calls, *next; c; c = next) {
        next = c->next;
        if (c->held_req && strcmp(c->station, station) == 0) {
            ctl->caps_held--;
            if (ctl->caps_held == 0 && ctl->saga_tx_deferred) {
                ctl->saga_tx_deferred = false;
                ctl_saga_send_increases(ctl);
            }
            cap_raise_withheld(ctl, c, "the station disconnected", true);
            next = ctl->calls; /* the list may have changed: withheld ones are gone, so start over */
        }
    }
}

/* ---- the plan's caps in the saga -------------------------------------------------------------------------- */

/* A plan's station maxima (ChargingStationMaxProfile): decreases go out now with the TxProfile decreases (phase
 * 1), raises wait in cap_raise for phase 2. Caps in force that still cover the plan are kept where the sum allows
 * (sched_caps_keep): fewer messages. */
void ctl_caps_plan(struct control *ctl, struct ctl_plan *plan, int *decreases, int *increases)
{
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) cs->cap_raise = false;
    if (!plan->caps || ctl->n_stations <= 0) return;
    struct sched_cap *t = calloc((size_t)ctl->n_stations, sizeof *t);
    struct ctl_station **who = calloc((size_t)ctl->n_stations, sizeof *who);
    if (!t || !who) {
        free(t);
        free(who);
        return;
    }
    int m = 0;
    for (struct ctl_station *cs = ctl->stations; cs && m < ctl->n_stations; cs = cs->next) {
        const struct ctl_plan_cap *pc = NULL;
        for (int c = 0; c < plan->n_caps; c++)
            if (strcmp(plan->caps[c].station, cs->st->id) == 0) pc = &plan->caps[c];
        double counted = ctl_cap_counted_w(ctl, cs);
        t[m] = (struct sched_cap){.old_w = counted, .cap_w = counted};
        if (pc && pc->adjustable && ctl_cap_adjustable(cs)) {
            t[m].adjustable = true;
            t[m].want_w = pc->want_w;
            t[m].cap_w = pc->cap_w;
        }
        who[m++] = cs;
    }
    sched_caps_keep(t, m, ctl_caps_limit_w(ctl, depot_now_ms()), ctl_caps_unseen_w(ctl));
    for (int i = 0; i < m; i++) {
        if (!t[i].adjustable) continue;
        struct sched_unit u;
        ctl_unit(ctl, who[i], NULL, &u);
        u.min_w = 0; /* a cap, not a charging limit */
        double w = sched_quantize(&u, t[i].cap_w);
        if (w < t[i].old_w - 0.5) {
            ctl_send_failsafe_w(ctl, who[i], w, plan->id, 1);
            (*decreases)++;
        } else if (w > t[i].old_w + 0.5) {
            who[i]->cap_raise = true;
            who[i]->cap_raise_w = w;
            (*increases)++;
        }
    }
    free(t);
    free(who);
}

/* Phase 2 for the station maxima: each raise only if the caps counted, with it, still fit under the site limit
 * (the decreases that make room were answered in phase 1; a station that went away or refused since keeps its
 * cap counted, and then the raise waits for the next plan). */
void ctl_caps_send_raises(struct control *ctl)
{
    double limit = ctl_caps_limit_w(ctl, depot_now_ms());
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (!cs->cap_raise) continue;
        cs->cap_raise = false;
        if (ctl->saga_failed || !ctl_cap_adjustable(cs)) continue;
        double room = limit - (ctl_caps_sum_w(ctl) - ctl_cap_counted_w(ctl, cs));
        if (cs->cap_raise_w > room + 0.5) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "plan", (double)ctl->saga_plan->id);
            cJSON_AddStringToObject(o, "action", "station cap raise withheld");
            cJSON_AddNumberToObject(o, "kw", round(cs->cap_raise_w) / 1000.0);
            cJSON_AddNumberToObject(o, "room_kw", round(room) / 1000.0);
            ctl_log_event(ctl, "compensation", cs->st->id, o);
            control_replan(ctl->d, "failsafe");
            continue;
        }
        ctl_send_failsafe_w(ctl, cs, cs->cap_raise_w, ctl->saga_plan->id, 2);
    }
}

/* The answer to a plan's cap change (saga phase 1 or 2). */
void ctl_caps_answer(struct control *ctl, struct ctl_station *cs, struct ctl_call *c, bool accepted, const char *status,
                     const char *why)
{
    cs->cap_inflight = false;
    double sent = c->sched.w[0];
    if (accepted) {
        cs->cap_known = cs->failsafe_accepted = true;
        cs->cap_w = cs->failsafe_sent_w = sent;
    } else {
        /* Refused: the old cap stays in force. Not answered: either may be, the higher one counts. Either way
         * this station's cap is left alone (planned within it) until it boots again; a decrease that did not
         * land withholds the plan's increases, as for TxProfiles. */
        if (!status) {
            cs->cap_w = fmax(c->prev_cap_w, sent);
            cs->cap_known = true;
        }
        cs->cap_stuck = true;
        if (c->phase == 1) ctl->saga_failed = true;
        ctl->stats.compensations++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "plan", (double)c->plan_id);
        cJSON_AddStringToObject(o, "why", c->phase == 1 ? "station cap decrease" : "station cap raise");
        cJSON_AddStringToObject(o, "status", why);
        cJSON_AddNumberToObject(o, "assumed_kw", round(ctl_cap_counted_w(ctl, cs)) / 1000.0);
        ctl_log_event(ctl, "compensation", cs->st->id, o);
        log_warn("control", cs->st->id, "station cap %.1f kW %s: %.1f kW counted", sent / 1000.0, why,
                 ctl_cap_counted_w(ctl, cs) / 1000.0);
        control_replan(ctl->d, "compensation");
    }
    ctl_caps_log(ctl, cs, accepted ? "accepted" : why, sent, c->plan_id, c->phase);
    ctl_saga_call_done(ctl, c->plan_id);
}
