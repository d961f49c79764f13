/*
 * control.c - the control loop: when to re-plan, how a plan becomes charging profiles, and the rules that keep
 * the site under its limit between plans (decreases first) and around stations that do not do as told
 * (compensation). The fail-safe profiles are in control_failsafe.c, the station maxima that follow the plan in
 * control_caps.c, what stations tell and answer in control_station.c.
 * Loop thread only, except the clock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_internal.h"
#include "log.h"
#include "prices.h"

#define TX_PROFILE_ID_BASE CTL_PROFILE_ID_TX_BASE
#define DEFAULT_PERIODS CTL_CAP_PERIODS_DEFAULT

/* ---- events in the log ------------------------------------------------------------------------------------------ */

uint64_t ctl_log_event(struct control *ctl, const char *type, const char *station, cJSON *o)
{
    char *json = cJSON_PrintUnformatted(o);
    uint64_t ticket = json ? ctl->port.log_event(ctl->port.ctx, type, station, json) : 0;
    cJSON_free(json);
    cJSON_Delete(o);
    return ticket;
}

/* ---- calls with a cookie ---------------------------------------------------------------------------------------- */

struct ctl_call *ctl_call_new(struct control *ctl, const char *station, int evse, int kind)
{
    struct ctl_call *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cookie = ++ctl->next_cookie;
    snprintf(c->station, sizeof c->station, "%s", station);
    c->evse = evse;
    c->kind = kind;
    c->next = ctl->calls;
    ctl->calls = c;
    return c;
}

struct ctl_call *ctl_call_take(struct control *ctl, uint64_t cookie)
{
    for (struct ctl_call **pp = &ctl->calls; *pp; pp = &(*pp)->next)
        if ((*pp)->cookie == cookie) {
            struct ctl_call *c = *pp;
            *pp = c->next;
            return c;
        }
    return NULL;
}

void ctl_call_drop(struct control *ctl, struct ctl_call *c)
{
    for (struct ctl_call **pp = &ctl->calls; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    cJSON_Delete(c->held_req);
    free(c);
}

/* ---- the station's clock ------------------------------------------------------------------------------------- */

/* Profiles go out in the station's own time: shifted by its measured offset, eroded by what is not known of it, and
 * starting clock_skew_tolerance_s in the past (README "Clock skew"), so that a limit is in force the moment it is
 * accepted and never above the plan on a clock that is off. */
cJSON *ctl_wire_schedule(struct control *ctl, struct ctl_station *cs, const struct sched *s, const struct sched_unit *u,
                         struct ctl_call *c)
{
    int64_t off, unc;
    ctl->port.station_clock(ctl->port.ctx, cs->st, &off, &unc);
    if (c) c->clock_off_ms = off, c->clock_unc_ms = unc;
    struct sched wire;
    sched_for_clock(s, off, unc, ctl->cfg.clock_skew_tolerance_ms, &wire);
    return sched_to_json(&wire, u, 1);
}

void ctl_wire_sched(struct control *ctl, struct ctl_station *cs, const struct sched *s, struct sched *wire)
{
    int64_t off, unc;
    ctl->port.station_clock(ctl->port.ctx, cs->st, &off, &unc);
    sched_for_clock(s, off, unc, ctl->cfg.clock_skew_tolerance_ms, wire);
}

void ctl_wire_of(const struct control *ctl, const struct ctl_call *c, struct sched *wire)
{
    sched_for_clock(&c->sched, c->clock_off_ms, c->clock_unc_ms, ctl->cfg.clock_skew_tolerance_ms,
                    wire);
}

/* ---- re-planning --------------------------------------------------------------------------------------------------- */

static void submit(struct control *ctl)
{
    if (!ctl->cfg.enabled || ctl->solving) return;
    char reasons[sizeof ctl->replan_reasons];
    snprintf(reasons, sizeof reasons, "%s", ctl->replan_reasons[0] ? ctl->replan_reasons : "start");
    ctl->replan_reasons[0] = '\0';
    ctl->replan_wanted = false;
    if (ctl_planner_submit(ctl, reasons) == 0) ctl->solving = true;
    else log_error("control", NULL, "cannot build the plan (out of memory)");
}

void ctl_replan(struct control *ctl, const char *reason)
{
    if (!ctl->cfg.enabled) return;
    size_t n = strlen(ctl->replan_reasons);
    if (!strstr(ctl->replan_reasons, reason) && n + strlen(reason) + 2 < sizeof ctl->replan_reasons)
        snprintf(ctl->replan_reasons + n, sizeof ctl->replan_reasons - n, "%s%s", n ? "," : "", reason);
    if (!ctl->sul_armed && !ctl->replan_wanted) {
        ctl->replan_requested_mono = ctl_mono(ctl);
        ctl->sul_armed = true;
        ctl->port.arm(ctl->port.ctx, CTL_TIMER_REPLAN, ctl->cfg.replan_delay_ms);
    }
}

static void arm_boundary(struct control *ctl)
{
    int64_t slot_ms = (int64_t)ctl->cfg.slot_minutes * 60000;
    int64_t next = (ctl_now(ctl) / slot_ms + 1) * slot_ms;
    ctl->port.arm(ctl->port.ctx, CTL_TIMER_BOUNDARY, ctl->port.real_delay_ms(ctl->port.ctx, next) + 1);
}

void ctl_on_timer(struct control *ctl, enum ctl_timer which)
{
    if (which == CTL_TIMER_BOUNDARY) {
        ctl_replan(ctl, "slot");
        return;
    }
    ctl->sul_armed = false;
    if (ctl->solving) {
        ctl->replan_wanted = true; /* picked up when the running solve comes back */
        return;
    }
    submit(ctl);
}

/* ---- from plan to profiles -------------------------------------------------------------------------------------------- */

struct ctl_target {
    struct ctl_station *cs;
    int evse;                    /* an id, not a pointer: cs->evse moves when a new EVSE id grows it mid-saga */
    char tx_id[37];              /* the session planned for (another may have started there by phase 2) */
    struct sched next;           /* the plan's schedule, as the station will get it */
    struct sched step;           /* phase 1: min(old, next) */
    bool send_step, send_next;
};

/* The target's EVSE now (the array may have moved since the target was made; it never shrinks). */
static struct ctl_evse *target_evse(struct ctl_target *t) { return &t->cs->evse[t->evse]; }

int ctl_periods_for(const struct ctl_station *cs)
{
    int n = cs->periods_per_schedule > 0 ? cs->periods_per_schedule : DEFAULT_PERIODS;
    return n < SCHED_MAX ? n : SCHED_MAX;
}

/* What the EVSE may draw now, as far as depotd can be sure: its accepted TxProfile, else its fail-safe. */
static void current_bound(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, int64_t now, struct sched *out)
{
    if (e->applied_valid) {
        *out = *e->applied;
        return;
    }
    double fs = cs->failsafe_accepted && !e->profile_unknown ? ctl_failsafe_evse_w(ctl, cs, e) : ctl_evse_max_w(ctl, cs, e);
    sched_const(out, now, fs);
}

static void send_tx_profile(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, const struct sched *s,
                            uint64_t plan_id, int phase)
{
    if (!ctl_connected(ctl, cs)) return;
    struct sched_unit u;
    ctl_unit(ctl, cs, e, &u);
    int level = ctl->cfg.tx_stack_level;
    if (cs->max_stack_level > 0 && level > cs->max_stack_level) level = cs->max_stack_level;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "evseId", e->id);
    cJSON *cp = cJSON_AddObjectToObject(req, "chargingProfile");
    /* One id per EVSE: each new profile replaces the previous one (K01.FR.05), never stacks up. */
    cJSON_AddNumberToObject(cp, "id", TX_PROFILE_ID_BASE + e->id);
    cJSON_AddNumberToObject(cp, "stackLevel", level);
    cJSON_AddStringToObject(cp, "chargingProfilePurpose", "TxProfile");
    cJSON_AddStringToObject(cp, "chargingProfileKind", "Absolute");
    cJSON_AddStringToObject(cp, "transactionId", e->tx_id);
    cJSON *arr = cJSON_AddArrayToObject(cp, "chargingSchedule");
    struct ctl_call *c = ctl_call_new(ctl, cs->st->id, e->id, CTL_CALL_TX_PROFILE);
    char err[200];
    if (!c) {
        cJSON_Delete(req);
        return;
    }
    cJSON_AddItemToArray(arr, ctl_wire_schedule(ctl, cs, s, &u, c));
    c->sched = *s;
    c->plan_id = plan_id;
    c->phase = phase;
    if (ctl_send(ctl, cs, "SetChargingProfile", req, c->cookie, err, sizeof err)) {
        log_warn("control", cs->st->id, "EVSE %d: cannot send the profile: %s", e->id, err);
        ctl_call_drop(ctl, c);
        if (phase != 0) {
            e->mode = CTL_MODE_UNCONTROLLED;
            ctl->saga_failed = true;
        }
    } else {
        if (phase != 0) ctl->saga_in_flight++; /* phase 0: a probe, outside the saga (plan_id 0) */
        ctl->stats.profiles_sent++;
    }
    cJSON_Delete(req);
}


static void saga_finish(struct control *ctl);

static void saga_phase2(struct control *ctl)
{
    ctl->saga_phase = 2;
    /* Caps first: a station processes its CALLs in order, so the raised TxProfiles find room under its cap. */
    ctl_caps_send_raises(ctl);
    if (ctl->saga_failed) {
        /* A decrease did not land: that EVSE may still draw its old limit, so no one else goes up on this plan.
         * The re-plan already asked for plans around it. */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "plan", (double)ctl->saga_plan->id);
        cJSON_AddStringToObject(o, "action", "increases withheld");
        ctl_log_event(ctl, "compensation", NULL, o);
        ctl->n_targets = 0;
    }
    if (!ctl->saga_failed) ctl_send_txdefaults(ctl, ctl->saga_plan->id, 2);
    if (ctl->caps_held > 0) {
        /* Raises waiting for their write-ahead event: the TxProfiles follow them (on_cap_raise_durable). */
        ctl->saga_tx_deferred = true;
        return;
    }
    ctl_saga_send_increases(ctl);
    if (ctl->saga_in_flight == 0) saga_finish(ctl);
}

void ctl_saga_send_increases(struct control *ctl)
{
    for (int i = 0; i < ctl->n_targets; i++) {
        struct ctl_target *t = &ctl->targets[i];
        struct ctl_evse *e = target_evse(t);
        if (!t->send_next || !e->active || strcmp(e->tx_id, t->tx_id) != 0 ||
            e->mode == CTL_MODE_UNCONTROLLED || e->mode == CTL_MODE_NONCOMPLIANT)
            continue;
        send_tx_profile(ctl, t->cs, e, &t->next, ctl->saga_plan->id, 2);
    }
}

/* A saga call is answered, failed or withheld: the next phase when it was the last. */
void ctl_saga_call_done(struct control *ctl, uint64_t plan_id)
{
    if (ctl->saga_in_flight > 0 && plan_id == (ctl->saga_plan ? ctl->saga_plan->id : 0)) {
        if (--ctl->saga_in_flight == 0) {
            if (ctl->saga_phase == 1) saga_phase2(ctl);
            else saga_finish(ctl);
        }
    }
}

static void apply_plan(struct control *ctl, struct ctl_plan *plan);

static void saga_finish(struct control *ctl)
{
    ctl->saga_phase = 0;
    ctl->n_targets = 0;
    if (ctl->saga_plan) {
        int64_t now = ctl_mono(ctl);
        log_debug("control", NULL, "plan %llu applied %lld ms after its first trigger",
                  (unsigned long long)ctl->saga_plan->id, (long long)(now - ctl->saga_plan->requested_mono));
    }
    if (ctl->waiting) {
        struct ctl_plan *p = ctl->waiting;
        ctl->waiting = NULL;
        apply_plan(ctl, p);
    }
}

static void risk_events(struct control *ctl, struct ctl_plan *plan)
{
    int at_risk = 0;
    char buf[40];
    for (int i = 0; i < plan->n; i++) {
        struct ctl_plan_session *ps = &plan->sessions[i];
        struct ctl_station *cs = ctl_station_find(ctl, ps->station);
        struct ctl_evse *e = cs ? ctl_evse(cs, ps->evse) : NULL;
        if (!e || !e->active || strcmp(e->tx_id, ps->tx_id) != 0) continue;
        double short_kwh = fmax(0, ps->shortfall_kwh - ps->margin_kwh - ps->hedge_kwh);
        bool risk = !ps->need.best_effort && short_kwh > ctl->cfg.at_risk_kwh;
        if (risk) at_risk++;
        if (risk == e->at_risk && (!risk || fabs(short_kwh - e->short_kwh) < 1.0)) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "vehicle", ps->vehicle);
        cJSON_AddNumberToObject(o, "evse", ps->evse);
        cJSON_AddStringToObject(o, "transaction", ps->tx_id);
        cJSON_AddStringToObject(o, "departure", ocpp_time_format(ps->need.departure_ms, buf));
        cJSON_AddStringToObject(o, "need_source", ps->need.source);
        cJSON_AddNumberToObject(o, "kwh_short", round(short_kwh * 1000) / 1000);
        cJSON_AddNumberToObject(o, "plan", (double)plan->id);
        if (risk) log_warn("control", ps->station, "EVSE %d: vehicle %s will miss its need by %.1f kWh at departure",
                           ps->evse, ps->vehicle[0] ? ps->vehicle : "?", short_kwh);
        ctl_log_event(ctl, risk ? "departure_at_risk" : "departure_at_risk_cleared", ps->station, o);
        e->at_risk = risk;
        e->short_kwh = risk ? short_kwh : 0;
    }
    ctl->stats.sessions_at_risk = at_risk;
    ctl->stats.sessions = plan->n;
}

/* Sessions planned around as non-compliant get one probe: a TxProfile at their fail-safe limit, which the plan
 * already covers (it reserves at least that much), so the probe costs nothing even when it is ignored. Followed
 * for a full slot, measured, it clears the station (check_meter). */
static void send_probes(struct control *ctl, int64_t now)
{
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (!ctl_connected(ctl, cs)) continue;
        for (int k = 1; k <= cs->max_evse; k++) {
            struct ctl_evse *e = &cs->evse[k];
            if (!e->active || e->mode != CTL_MODE_NONCOMPLIANT || e->probe_sent) continue;
            struct sched_unit u;
            ctl_unit(ctl, cs, e, &u);
            struct sched s;
            sched_const(&s, now, sched_quantize(&u, ctl_failsafe_evse_w(ctl, cs, e)));
            e->probe_sent = true;
            send_tx_profile(ctl, cs, e, &s, 0, 0);
        }
    }
}

static void apply_plan(struct control *ctl, struct ctl_plan *plan)
{
    if (ctl->saga_phase) {
        /* One transition at a time: the newest plan waits for the running one to settle. */
        ctl_plan_free(ctl->waiting);
        ctl->waiting = plan;
        return;
    }
    ctl_plan_free(ctl->plan);
    ctl->plan = plan;
    ctl->saga_plan = plan;
    ctl->saga_failed = false;
    ctl->saga_in_flight = 0;
    free(ctl->targets);
    ctl->targets = calloc((size_t)plan->n + 1, sizeof *ctl->targets);
    ctl->n_targets = 0;
    if (!ctl->targets) return;
    int64_t now = ctl_now(ctl) / 1000 * 1000;
    int64_t horizon = plan->at[plan->slots] - plan->start_ms;
    int decreases = 0, increases = 0;
    double site_now = 0;
    for (int i = 0; i < plan->n; i++) {
        struct ctl_plan_session *ps = &plan->sessions[i];
        struct ctl_station *cs = ctl_station_find(ctl, ps->station);
        struct ctl_evse *e = cs ? ctl_evse(cs, ps->evse) : NULL;
        /* The session may have ended, or the station gone, while the plan was being solved. */
        if (!e || !e->active || strcmp(e->tx_id, ps->tx_id) != 0 || !ctl_connected(ctl, cs)) continue;
        if (e->mode == CTL_MODE_UNCONTROLLED || e->mode == CTL_MODE_NONCOMPLIANT) continue;
        struct ctl_target *t = &ctl->targets[ctl->n_targets];
        t->cs = cs;
        t->evse = e->id;
        snprintf(t->tx_id, sizeof t->tx_id, "%s", e->tx_id);
        struct sched_unit u;
        ctl_unit(ctl, cs, e, &u);
        sched_from_slots(&t->next, &u, plan->at, &plan->kw[(size_t)i * plan->slots], plan->slots);
        sched_trim(&t->next, now);
        sched_compress(&t->next, ctl_periods_for(cs), horizon);
        site_now += sched_at(&t->next, now) / 1000.0;
        struct sched old;
        current_bound(ctl, cs, e, now, &old);
        if (e->applied_valid && !e->resend && sched_equal(&t->next, &old, now)) continue; /* nothing changes */
        e->resend = false;
        if (sched_le(&t->next, &old, now)) {
            t->step = t->next;
            t->send_step = true;
        } else {
            sched_min(&old, &t->next, now, &t->step);
            sched_compress(&t->step, ctl_periods_for(cs), horizon);
            t->send_step = !sched_equal(&t->step, &old, now) || !e->applied_valid;
            t->send_next = true;
            /* Without a TxProfile yet the step is only needed when it lowers something. */
            if (!e->applied_valid && sched_equal(&t->step, &old, now)) t->send_step = false;
        }
        decreases += t->send_step;
        increases += t->send_next;
        ctl->n_targets++;
    }
    ctl->stats.planned_site_kw = site_now;
    risk_events(ctl, plan);
    log_info("control", NULL, "plan %llu (%s): %d sessions, %.1f kW now of %.1f kW, cost %.2f, %d at risk, "
             "%d decreases then %d increases, solved in %.0f ms by %s",
             (unsigned long long)plan->id, plan->reasons, plan->n, site_now, ctl_site_limit_kw(ctl, now), plan->cost,
             ctl->stats.sessions_at_risk, decreases, increases, plan->solve_ms, plan->method);
    send_probes(ctl, now);
    ctl->saga_phase = 1;
    int cap_down = 0, cap_up = 0;
    ctl_caps_plan(ctl, plan, &cap_down, &cap_up);
    if (cap_down || cap_up)
        log_info("control", NULL, "plan %llu: station caps: %d decreases then %d increases", (unsigned long long)plan->id,
                 cap_down, cap_up);
    int default_down = ctl_send_txdefaults(ctl, plan->id, 1);
    if (default_down) log_info("control", NULL, "plan %llu: %d TxDefaultProfile decreases", (unsigned long long)plan->id,
                               default_down);
    for (int i = 0; i < ctl->n_targets; i++) {
        struct ctl_target *t = &ctl->targets[i];
        if (t->send_step) send_tx_profile(ctl, t->cs, target_evse(t), &t->step, plan->id, 1);
    }
    if (ctl->saga_in_flight == 0) saga_phase2(ctl);
    arm_boundary(ctl);
}

void ctl_plan_ready(struct control *ctl, struct ctl_plan *plan)
{
    ctl->solving = false;
    ctl->stats.plans++;
    ctl->stats.last_plan_id = plan->id;
    if (plan->failed) {
        ctl->stats.plans_failed++;
        log_error("control", NULL, "plan %llu failed: %s", (unsigned long long)plan->id, plan->err);
        ctl_plan_free(plan);
    } else {
        ctl->stats.last_solve_ms = plan->solve_ms;
        ctl->stats.last_method = plan->method;
        /* Applied even when newer events are waiting: under a steady stream of triggers a plan that waits for
         * quiet would never be applied. The next one follows at once. */
        apply_plan(ctl, plan);
    }
    if (ctl->replan_wanted && !ctl->sul_armed) submit(ctl);
    ctl->port.planned(ctl->port.ctx);
}

/* ---- start and stop ---------------------------------------------------------------------------------------------------- */

struct control *ctl_new(const struct config *conf, const struct ctl_port *port, char *err, size_t err_len)
{
    struct control *ctl = calloc(1, sizeof *ctl);
    if (!ctl) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    ctl->conf = conf;
    ctl->port = *port;
    if (!ctl->port.ctx) ctl->port.ctx = ctl;
    ctl->override_kw = -1;
    for (int c = 0; c < CTL_CIRCUITS_MAX; c++) ctl->circuit_limit[c].kw = -1;
    if (ctl_config_parse(&ctl->cfg, conf, err, err_len)) {
        ctl_config_free(&ctl->cfg);
        free(ctl);
        return NULL;
    }
    if (ctl->cfg.enabled && (ctl_demand_start(ctl, err, err_len) || !(ctl->planner = ctl_planner_start(ctl, err, err_len)))) {
        ctl_free(ctl);
        return NULL;
    }
    return ctl;
}

void ctl_begin(struct control *ctl)
{
    if (!ctl->cfg.enabled) return;
    arm_boundary(ctl);
    ctl_replan(ctl, "start");
}

void ctl_free(struct control *ctl)
{
    if (!ctl) return;
    ctl_planner_stop(ctl->planner);
    ctl_plan_free(ctl->plan);
    ctl_plan_free(ctl->waiting);
    while (ctl->calls) {
        struct ctl_call *c = ctl->calls;
        ctl->calls = c->next;
        cJSON_Delete(c->held_req);
        free(c);
    }
    ctl_verify_free(ctl);
    ctl_demand_free(ctl);
    while (ctl->stations) {
        struct ctl_station *cs = ctl->stations;
        ctl->stations = cs->next;
        for (int k = 0; k < cs->evse_cap; k++) free(cs->evse[k].applied);
        free(cs->evse);
        free(cs->cap);
        free(cs->cap_sent);
        free(cs->cap_next);
        ctl_external_free(cs);
        free(cs);
    }
    free(ctl->by_id);
    free(ctl->targets);
    ctl_config_free(&ctl->cfg);
    free(ctl);
}
