/*
 * control_verify.c - control.verify_composite: an accepted SetChargingProfile says the station stored the
 * profile, not that it will charge by it. GetCompositeSchedule (OCPP 2.0.1 K08) asks what the EVSE will
 * actually allow; when that differs from what depotd sent (beyond unit rounding), or the station refuses to
 * say, the EVSE is planned around at its fail-safe limit like one that rejected its profile. Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

#define VERIFY_MIN_SEGMENT_MS 60000 /* shorter stretches between two boundaries are clock skew, not a limit */

struct ctl_call *ctl_verify_send(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, const struct ctl_call *tx,
                                 uint64_t plan_id)
{
    const struct sched *sent = &tx->sched;
    if (!ctl_connected(ctl, cs) || sent->n < 1) return NULL;
    struct sched_unit u;
    ctl_unit(ctl, cs, e, &u);
    int64_t now = ctl_now(ctl);
    /* Up to the end of the plan the profile came from (its last period holds on after that). */
    int64_t end = sent->t[0] + (int64_t)ctl->cfg.horizon_h * 3600000;
    int64_t duration_s = (end - now) / 1000;
    if (duration_s < 60) duration_s = 60;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "duration", (double)duration_s);
    cJSON_AddNumberToObject(req, "evseId", e->id);
    cJSON_AddStringToObject(req, "chargingRateUnit", u.amps ? "A" : "W");
    struct ctl_call *c = ctl_call_new(ctl, cs->st->id, e->id, CTL_CALL_COMPOSITE);
    char err[200];
    if (c) {
        c->sched = *sent;
        c->clock_off_ms = tx->clock_off_ms;
        c->clock_unc_ms = tx->clock_unc_ms;
        c->plan_id = plan_id;
        c->sent_ms = now;
        if (ctl_send(ctl, cs, "GetCompositeSchedule", req, c->cookie, err, sizeof err)) {
            log_warn("control", cs->st->id, "EVSE %d: cannot ask for the composite schedule: %s", e->id, err);
            /* Not in flight: take it back off the list (it is the newest). */
            ctl->calls = c->next;
            free(c);
            c = NULL;
        }
    }
    cJSON_Delete(req);
    return c;
}

/* What the EVSE should report at t: the TxProfile sent, capped by what else depotd knows limits it. */
static double expected_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e,
                         const struct sched *sent, const struct sched *cap, int64_t t)
{
    double w = sched_at(sent, t);
    double hw = ctl_evse_max_w(ctl, cs, e);
    if (hw > 0 && hw < w) w = hw;
    if (cap && sched_at(cap, t) < w) w = sched_at(cap, t);
    return w;
}

/* One recheck per EVSE: a newer mismatch replaces an older one. */
static void defer_recheck(struct control *ctl, const struct ctl_call *c)
{
    for (struct ctl_call **pp = &ctl->rechecks; *pp; pp = &(*pp)->next)
        if ((*pp)->evse == c->evse && strcmp((*pp)->station, c->station) == 0) {
            struct ctl_call *old = *pp;
            *pp = old->next;
            free(old);
            break;
        }
    struct ctl_call *r = malloc(sizeof *r);
    if (!r) return; /* the next plan's question asks again */
    *r = *c;
    r->held_req = NULL;
    r->next = ctl->rechecks;
    ctl->rechecks = r;
}

void ctl_verify_on_call(struct control *ctl, struct ctl_station *cs)
{
    struct ctl_call **pp = &ctl->rechecks;
    while (*pp) {
        struct ctl_call *r = *pp;
        if (strcmp(r->station, cs->st->id) != 0) {
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        struct ctl_evse *e = ctl_evse(cs, r->evse);
        /* Only while the profile judged is still the one in force (as ctl_verify_answer checks). */
        if (e && e->active && e->applied_valid && e->mode == CTL_MODE_CONTROLLED &&
            sched_equal(e->applied, &r->sched, r->sched.t[0])) {
            struct ctl_call *again = ctl_verify_send(ctl, cs, e, r, r->plan_id);
            if (again) again->confirming = true;
        }
        free(r);
    }
}

void ctl_verify_free(struct control *ctl)
{
    while (ctl->rechecks) {
        struct ctl_call *r = ctl->rechecks;
        ctl->rechecks = r->next;
        free(r);
    }
}

static void mismatch(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, const struct ctl_call *c,
                     const char *why, int64_t at, double sent_w, double reported_w)
{
    /* Asked once more before it counts, once the station has said what it had to say: an answer can overtake
     * the station's own news (its TransactionEvent Ended waits in its queue behind a CALL in flight while the
     * answer to depotd's question goes at once). A question asked again at once can overtake it as well (seen
     * under the sanitizers), so it waits for the station's next CALL, which comes after that news; if the
     * session is over by then, the question is not asked. */
    if (!c->confirming) {
        defer_recheck(ctl, c);
        log_debug("control", cs->st->id, "EVSE %d: composite schedule %s: asking again after the station's next CALL",
                  e->id, why);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "plan", (double)c->plan_id);
    cJSON_AddNumberToObject(o, "evse", e->id);
    cJSON_AddStringToObject(o, "transaction", e->tx_id);
    cJSON_AddStringToObject(o, "why", why);
    if (at) {
        char buf[40];
        cJSON_AddStringToObject(o, "at", ocpp_time_format(at, buf));
        cJSON_AddNumberToObject(o, "sent_kw", round(sent_w) / 1000.0);
        cJSON_AddNumberToObject(o, "reported_kw", round(reported_w) / 1000.0);
    }
    ctl_log_event(ctl, "composite_mismatch", cs->st->id, o);
    e->distrusted = true; /* a profile accepted later proves nothing more about this station's word */
    log_warn("control", cs->st->id, "EVSE %d: composite schedule %s", e->id, why);
    ctl_compensate(ctl, cs, e, "composite_mismatch", c->plan_id);
}

void ctl_verify_answer(struct control *ctl, struct ctl_call *c, const struct ocpp_event *ev)
{
    struct ctl_station *cs = ctl_station_find(ctl, c->station);
    struct ctl_evse *e = cs ? ctl_evse(cs, c->evse) : NULL;
    /* Only the profile still in force is worth judging: a newer one gets its own question. */
    if (!e || !e->active || !e->applied_valid || e->mode != CTL_MODE_CONTROLLED ||
        !sched_equal(e->applied, &c->sched, c->sched.t[0]))
        return;
    if (ev->type != OCPP_EV_RESULT) {
        /* No answer says nothing about the profile; a lost connection is handled as such. */
        log_debug("control", c->station, "EVSE %d: no composite schedule (%s)", c->evse,
                  ev->timed_out ? "timed out" : ev->closed ? "connection lost" : "error");
        return;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(ev->payload, "status");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev->payload, "schedule");
    if (!cJSON_IsString(status) || strcmp(status->valuestring, "Accepted") != 0 || !cJSON_IsObject(s)) {
        mismatch(ctl, cs, e, c, "rejected", 0, 0, 0);
        return;
    }
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(s, "scheduleStart");
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(s, "duration");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(s, "chargingRateUnit");
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(s, "chargingSchedulePeriod");
    int64_t t0 = 0;
    if (!cJSON_IsString(start) || ocpp_time_parse(start->valuestring, &t0) || !cJSON_IsNumber(dur) ||
        !cJSON_IsString(unit) || !cJSON_IsArray(periods) || cJSON_GetArraySize(periods) < 1) {
        mismatch(ctl, cs, e, c, "unreadable", 0, 0, 0);
        return;
    }
    struct sched_unit u;
    ctl_unit(ctl, cs, e, &u);
    bool amps = strcmp(unit->valuestring, "A") == 0;
    /* The station answers in its own time: compared with the profile as it went on the wire. */
    struct sched wire, cap;
    ctl_wire_of(ctl, c, &wire);
    /* Its station maximum in force (not one in flight: either may be in force then), on the wire as well. */
    bool capped = ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX && cs->failsafe_accepted && cs->cap_known &&
                  !cs->cap_inflight;
    if (capped) ctl_wire_sched(ctl, cs, cs->cap, &cap);
    /* The station's answer as a step function in W (periods in order, as K08 lists them). */
    struct sched rep = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, periods) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(p, "startPeriod");
        const cJSON *lim = cJSON_GetObjectItemCaseSensitive(p, "limit");
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(p, "numberPhases");
        if (!cJSON_IsNumber(sp) || !cJSON_IsNumber(lim) || rep.n >= SCHED_MAX) continue;
        int phases = cJSON_IsNumber(np) && np->valueint > 0 ? np->valueint : u.phases;
        rep.t[rep.n] = t0 + (int64_t)sp->valuedouble * 1000;
        rep.w[rep.n++] = amps ? lim->valuedouble * phases * u.voltage_v : lim->valuedouble;
    }
    /* Unit rounding: limits go out rounded down to whole W or 0.1 A, stations may report 0.1 of their unit. */
    double tol = amps || u.amps ? 0.25 * u.phases * u.voltage_v : 50;
    int64_t end = t0 + (int64_t)dur->valuedouble * 1000;
    /* Boundaries of both schedules within the window; each stretch between two is compared at its middle, so
     * a station clock a few seconds off does not count as a mismatch. */
    int64_t b[3 * SCHED_MAX + 2];
    int nb = 0;
    b[nb++] = t0;
    for (int i = 0; i < rep.n; i++)
        if (rep.t[i] > t0 && rep.t[i] < end) b[nb++] = rep.t[i];
    for (int i = 0; i < wire.n; i++)
        if (wire.t[i] > t0 && wire.t[i] < end) b[nb++] = wire.t[i];
    for (int i = 0; capped && i < cap.n && nb < 3 * SCHED_MAX; i++)
        if (cap.t[i] > t0 && cap.t[i] < end) b[nb++] = cap.t[i];
    b[nb++] = end;
    for (int i = 1; i < nb; i++) /* insertion sort: a few dozen boundaries */
        for (int k = i; k > 0 && b[k] < b[k - 1]; k--) {
            int64_t x = b[k];
            b[k] = b[k - 1];
            b[k - 1] = x;
        }
    /* The station computed its answer at some moment between the question and the answer, on a clock known to
     * within clock_unc_ms: a boundary that close may have passed on its side or not. Under time compression
     * (or a loaded machine) that window is minutes of planning time, so it is kept off both ends of every
     * stretch compared (an honest station was flagged at 2000x without it). */
    int64_t slack = ctl_now(ctl) - c->sent_ms;
    if (slack < 0) slack = 0;
    slack += c->clock_unc_ms > 0 ? c->clock_unc_ms : 0;
    for (int i = 0; i + 1 < nb; i++) {
        if (b[i + 1] - b[i] - 2 * slack < VERIFY_MIN_SEGMENT_MS) continue;
        int64_t mid = b[i] + (b[i + 1] - b[i]) / 2;
        double want = expected_w(ctl, cs, e, &wire, capped ? &cap : NULL, mid), got = sched_at(&rep, mid);
        if (fabs(got - want) > tol) {
            mismatch(ctl, cs, e, c, got > want ? "allows more than it was sent" : "allows less than it was sent", mid,
                     want, got);
            return;
        }
    }
    log_debug("control", c->station, "EVSE %d: composite schedule matches plan %llu", c->evse,
              (unsigned long long)c->plan_id);
}
