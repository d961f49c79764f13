/*
 * control_station.c - what stations tell the control loop and how they answer it: boots, reconnects, statuses,
 * transactions and meter values (the checks that find a station not doing as told, an EV taking less than
 * offered, energy drifting from the plan), EV needs, capability reads, and the answers to its own CALLs
 * (accepted, rejected, lost: compensation). Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

static void station_compliant(struct control *ctl, struct ctl_station *cs, const struct ctl_evse *by, int64_t followed_ms);

/* ---- answers ------------------------------------------------------------------------------------------------------------ */

void ctl_compensate(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, const char *why, uint64_t plan_id)
{
    e->mode = CTL_MODE_UNCONTROLLED;
    ctl->stats.compensations++;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "plan", (double)plan_id);
    cJSON_AddNumberToObject(o, "evse", e->id);
    cJSON_AddStringToObject(o, "transaction", e->tx_id);
    cJSON_AddStringToObject(o, "why", why);
    cJSON_AddNumberToObject(o, "assumed_kw", round(ctl_evse_held_w(ctl, cs, e)) / 1000.0);
    ctl_log_event(ctl, "compensation", cs->st->id, o);
    log_warn("control", cs->st->id, "EVSE %d: profile %s; planned around at its fail-safe limit", e->id, why);
    ctl_replan(ctl, "compensation");
}

/* Refused because the transaction has ended at the station (K01.FR.09) while its Ended event was on the way: a van
 * leaving as its profile went out. Nothing draws there, so nothing is planned around (it was counted against an
 * honest station as a compensation and withheld the plan's raises). */
static bool tx_not_found(const struct ocpp_event *ev)
{
    if (ev->type != OCPP_EV_RESULT) return false;
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(ev->payload, "statusInfo");
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(info, "reasonCode");
    return cJSON_IsString(rc) && strcmp(rc->valuestring, "TxNotFound") == 0;
}

void ctl_on_answer(struct control *ctl, const struct ocpp_event *ev)
{
    struct ctl_call *c = ctl_call_take(ctl, (uint64_t)(uintptr_t)ev->user);
    if (!c) return;
    if (c->kind == CTL_CALL_COMPOSITE) {
        ctl_verify_answer(ctl, c, ev);
        free(c);
        return;
    }
    struct ctl_station *cs = ctl_station_find(ctl, c->station);
    const char *status = NULL;
    if (ev->type == OCPP_EV_RESULT) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev->payload, "status");
        status = cJSON_IsString(s) ? s->valuestring : "?";
    }
    bool accepted = status && strcmp(status, "Accepted") == 0;
    const char *why = status ? "rejected" : ev->timed_out ? "timed out" : ev->closed ? "lost with the connection" : "failed";
    if (accepted) ctl->stats.profiles_accepted++;
    else if (status) ctl->stats.profiles_rejected++;
    else ctl->stats.profiles_failed++;

    if (c->kind == CTL_CALL_FAILSAFE && cs && ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX && c->phase != 0) {
        ctl_caps_answer(ctl, cs, c, accepted, status, why);
    } else if (c->kind == CTL_CALL_FAILSAFE && cs) {
        /* The first one of this boot frees what was held for a default depotd did not know. */
        if (accepted && !cs->failsafe_accepted && ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT)
            ctl_replan(ctl, "failsafe");
        /* A default lowered: a plan built while it could not be lowered first (the station had not taken ours
         * yet) reserved the old one for the idle EVSEs, so the sessions get the room now freed from the next plan.
         * Without it, 40 EVSEs behind 40 kW left six vans at 0 kW until the next slot (tests/control/test_loop.c). */
        if (accepted && ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT && c->sched.w[0] < cs->failsafe_sent_w - 0.5)
            ctl_replan(ctl, "failsafe");
        cs->failsafe_accepted = accepted || (cs->failsafe_accepted && !status);
        if (accepted) cs->failsafe_sent_w = c->sched.w[0];
        /* Lost: it may be in force or not, so the higher of the two counts. */
        else if (!status) cs->failsafe_sent_w = fmax(cs->failsafe_sent_w, c->sched.w[0]);
        if (c->phase == 1 && !accepted) ctl->saga_failed = true;
        if (ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX) {
            ctl_caps_on_answer(ctl, cs, c, accepted, status != NULL);
            ctl_caps_log(ctl, cs, accepted ? "accepted" : why, &c->sched, 0, 0);
        }
        if (accepted && cs->failsafe_rejected) {
            /* Offered again at a boot or reconnect, and taken this time: it counts at its share again. */
            cs->failsafe_rejected = false;
            log_info("control", cs->st->id, "fail-safe profile accepted after an earlier refusal");
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "why", "failsafe accepted after refusal");
            ctl_log_event(ctl, "compensation_cleared", cs->st->id, o);
            ctl_refresh_failsafes(ctl);
            ctl_replan(ctl, "failsafe");
        }
        if (!accepted && status && !cs->failsafe_rejected) {
            /* It will not cap itself: it counts at full power and everyone else gets a smaller share. */
            cs->failsafe_rejected = true;
            log_warn("control", cs->st->id, "fail-safe profile rejected: planned around at %.1f kW",
                     ctl_station_hw_w(ctl, cs) / 1000.0);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "why", "failsafe rejected");
            cJSON_AddNumberToObject(o, "assumed_kw", ctl_station_hw_w(ctl, cs) / 1000.0);
            ctl_log_event(ctl, "compensation", cs->st->id, o);
            ctl_refresh_failsafes(ctl);
            ctl_replan(ctl, "failsafe");
        }
        if (c->phase != 0) ctl_saga_call_done(ctl, c->plan_id); /* a TxDefaultProfile moved by the plan */
    } else if (c->kind == CTL_CALL_TX_PROFILE && c->phase == 0) {
        /* A probe: in force when accepted; refused, the session simply stays planned around. */
        struct ctl_evse *e = cs ? ctl_evse(cs, c->evse) : NULL;
        if (e && e->active && accepted && e->mode == CTL_MODE_NONCOMPLIANT && ctl_sched_slot(&e->applied)) {
            *e->applied = c->sched;
            e->applied_valid = true;
            e->probe_ok_ms = 0;
        }
    } else if (c->kind == CTL_CALL_TX_PROFILE) {
        struct ctl_evse *e = cs ? ctl_evse(cs, c->evse) : NULL;
        if (e) {
            if (accepted && e->active && !ctl_sched_slot(&e->applied)) {
                /* Out of memory: it follows a profile depotd cannot keep, so it counts at its maximum. */
                e->profile_unknown = true;
                e->applied_valid = false;
            } else if (accepted && e->active) {
                *e->applied = c->sched;
                e->applied_valid = true;
                e->profile_unknown = false;
                if ((e->mode == CTL_MODE_FAILSAFE || e->mode == CTL_MODE_UNCONTROLLED) && !e->distrusted)
                    e->mode = CTL_MODE_CONTROLLED;
                if (ctl->cfg.verify_composite && e->mode == CTL_MODE_CONTROLLED) ctl_verify_send(ctl, cs, e, c, c->plan_id);
            } else if (!accepted && e->active && !tx_not_found(ev)) {
                if (c->phase == 1) ctl->saga_failed = true;
                ctl_compensate(ctl, cs, e, why, c->plan_id);
            }
        }
        ctl_saga_call_done(ctl, c->plan_id);
    }
    free(c);
}

/* ---- what stations tell ----------------------------------------------------------------------------------------------- */

/* A registered station on a new connection: its fail-safe is offered again (also to a station that refused it
 * before: the refusal counts only until it accepts) once its capabilities are read, or now; then a re-plan
 * sends every session's TxProfile. */
static void station_registered(struct control *ctl, struct ctl_station *cs, bool caps_coming, const char *why)
{
    cs->failsafe_sent = false;
    cs->failsafe_reoffer = cs->failsafe_rejected;
    cs->cap_stuck = cs->cap_raise = false;
    if (!ctl->cfg.enabled) return;
    if (caps_coming) cs->failsafe_due = true; /* sent once the rate unit is known */
    else ctl_send_failsafe(ctl, cs);
    ctl_refresh_failsafes(ctl);
    ctl_replan(ctl, why);
}

void ctl_on_boot_accepted(struct control *ctl, struct station *st, bool caps_coming)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    if (!cs) return;
    /* A rebooted station has dropped or kept its profiles: it is no longer known to follow a TxProfile of ours,
     * and it counts at what its fail-safe allows (or its hardware) until one is accepted again. */
    cs->failsafe_accepted = false;
    for (int k = 1; k <= cs->max_evse; k++) {
        cs->evse[k].profile_unknown = cs->evse[k].active;
        cs->evse[k].applied_valid = false;
        if (cs->evse[k].mode != CTL_MODE_NONCOMPLIANT) cs->evse[k].mode = CTL_MODE_FAILSAFE;
    }
    /* A reboot (new firmware, a fixed configuration) earns a station its trust back; if it still ignores its
     * profiles the meter shows it again within control.noncompliance_s. */
    if (cs->noncompliant && ctl->cfg.enabled) station_compliant(ctl, cs, NULL, 0);
    station_registered(ctl, cs, caps_coming, "station");
}

void ctl_on_reconnect(struct control *ctl, struct station *st, bool caps_coming)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    if (!cs) return;
    /* No reboot: OCPP removes a profile only on ClearChargingProfile, a replacement or its transaction's end, so
     * the station is assumed to keep what it accepted (and is counted at it, as while it was away). Both are
     * sent again all the same, under the same ids, so they replace rather than add: depotd may have restarted
     * and planned otherwise meanwhile, or the station may not have persisted them. Trust is not restored. */
    for (int k = 1; k <= cs->max_evse; k++)
        if (cs->evse[k].active) cs->evse[k].resend = true;
    station_registered(ctl, cs, caps_coming, "reconnect");
}

void ctl_on_disconnect(struct control *ctl, struct station *st)
{
    struct ctl_station *cs = ctl_station_find(ctl, st->id);
    if (!cs) return;
    ctl_caps_on_disconnect(ctl, st->id);
    bool any = false;
    for (int k = 1; k <= cs->max_evse; k++) {
        cs->evse[k].applied_valid = cs->evse[k].active && cs->evse[k].applied_valid;
        any |= cs->evse[k].active;
    }
    if (any) ctl_replan(ctl, "disconnect");
}

void ctl_on_status(struct control *ctl, struct station *st, const cJSON *payload)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    int before = cs ? cs->max_evse : 0;
    if (cs) ctl_model_status(cs, payload);
    /* A new EVSE changes the TxDefaultProfile share and what may plug in. */
    if (cs && cs->max_evse != before && ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT && cs->failsafe_sent)
        ctl_send_failsafe(ctl, cs);
}

void ctl_on_call(struct control *ctl, struct station *st)
{
    struct ctl_station *cs = ctl->rechecks ? ctl_station_find(ctl, st->id) : NULL;
    if (cs) ctl_verify_on_call(ctl, cs);
}

/* The station follows profiles again (a probe for a full slot) or rebooted: its sessions are trusted again. */
static void station_compliant(struct control *ctl, struct ctl_station *cs, const struct ctl_evse *by, int64_t followed_ms)
{
    cs->noncompliant = false;
    for (int k = 1; k <= cs->max_evse; k++) {
        struct ctl_evse *x = &cs->evse[k];
        if (x->mode == CTL_MODE_NONCOMPLIANT) x->mode = x->applied_valid ? CTL_MODE_CONTROLLED : CTL_MODE_FAILSAFE;
        x->over_since_ms = x->probe_ok_ms = 0;
        x->probe_sent = false;
    }
    cJSON *o = cJSON_CreateObject();
    if (by) {
        cJSON_AddNumberToObject(o, "evse", by->id);
        cJSON_AddStringToObject(o, "transaction", by->tx_id);
        cJSON_AddNumberToObject(o, "followed_s", (double)(followed_ms / 1000));
        cJSON_AddStringToObject(o, "why", "followed its profile for a slot");
    } else {
        cJSON_AddStringToObject(o, "why", "rebooted");
    }
    ctl_log_event(ctl, "compliant", cs->st->id, o);
    log_info("control", cs->st->id, "trusted again: %s", by ? "followed its profile for a slot" : "rebooted");
    ctl_replan(ctl, "compliant");
}

/* Energy drift: what the session took since the first reading under this plan against what the plan told its EVSE
 * it may take over the same time. Catches what the power check cannot: a draw a little off the plan for long, meter
 * values too far apart to show the power. Once per slot per session. */
static void check_energy_drift(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, int i)
{
    const struct ctl_plan *p = ctl->plan;
    int64_t now = e->power_ms;
    if (e->has_register && e->register_ms == now) {
        if (e->drift_plan_id != p->id) {
            e->drift_plan_id = p->id;
            e->drift_base_wh = e->register_wh;
            e->drift_base_ms = e->register_ms;
        } else if (now > e->drift_base_ms && now - e->energy_drift_ms >= p->slot_ms) {
            struct sched_unit u;
            ctl_unit(ctl, cs, e, &u);
            struct sched planned;
            sched_from_slots(&planned, &u, p->at, &p->kw[(size_t)i * p->slots], p->slots);
            double expected_wh = sched_energy_wh(&planned, e->drift_base_ms, now);
            double got_wh = e->register_wh - e->drift_base_wh;
            if (fabs(got_wh - expected_wh) > ctl->cfg.drift_kwh * 1000.0) {
                e->energy_drift_ms = now;
                log_debug("control", cs->st->id, "EVSE %d: %.2f kWh since plan %llu expected %.2f: re-plan", e->id,
                          got_wh / 1000.0, (unsigned long long)p->id, expected_wh / 1000.0);
                ctl_replan(ctl, "energy_drift");
            }
        }
    }
}

/* Offered clearly more than it takes: the EV limits itself (battery nearly full, taper). Planned at what it takes
 * from now on, so its remaining energy is spread over enough time; raised again if it takes more, and forgotten
 * after control.ev_max_retry_min (sched_evmax). "Offered" is the least it was allowed over all the time the reading
 * covers: a mean over a rise of its limit is no sign the EV takes less. */
static void learn_ev_max(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, int i, int t,
                         double planned_kw)
{
    const struct ctl_plan *p = ctl->plan;
    int64_t now = e->power_ms;
    int64_t from = e->power_from_ms > 0 && e->power_from_ms < now ? e->power_from_ms : now;
    double offered_kw = planned_kw;
    for (int k = ctl_plan_slot_at(p, from); k < t; k++) offered_kw = fmin(offered_kw, p->kw[(size_t)i * p->slots + k]);
    if (e->applied_valid) offered_kw = fmin(offered_kw, sched_min_over(e->applied, from, now) / 1000.0);
    if (sched_evmax_reading(&e->observed, offered_kw * 1000.0, e->power_w, e->charging, ctl->cfg.drift_kw * 1000.0,
                            now, (int64_t)ctl->cfg.ev_max_retry_min * 60000)) {
        log_debug("control", cs->st->id, "EVSE %d: learned EV maximum forgotten: offered its full power again", e->id);
        ctl_replan(ctl, "ev_max_retry");
    }
}

/* Meter drift and compliance: measured against what the EVSE was told. */
static void check_meter(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, bool learn)
{
    if (!ctl->plan || !e->active || e->power_ms == 0) return;
    int64_t now = e->power_ms;
    int64_t slot_ms = (int64_t)ctl->cfg.slot_minutes * 60000;
    /* A reading from before the profile in force was sent (a station replaying what it measured while offline, or
     * while depotd was down) was taken under another limit: it says nothing about this one. */
    if (e->applied_valid && e->applied->n > 0 && now < e->applied->t[0]) return;
    /* The same for one measured under an earlier fail-safe (a session that started while depotd was down). */
    if (!e->applied_valid && now < cs->failsafe_sent_ms) return;
    double limit_w = e->applied_valid ? sched_at(e->applied, now) : ctl_evse_held_w(ctl, cs, e);
    bool over = e->power_w > limit_w + ctl->cfg.noncompliance_kw * 1000.0;
    if (e->mode == CTL_MODE_NONCOMPLIANT) {
        /* Planned around. Back to trusted only once it follows a profile it accepted (the probe, or a TxProfile
         * of an earlier plan) for a full slot, measured; a draw above what the plan reserved re-plans. */
        if (over) {
            e->probe_ok_ms = 0;
            if (e->power_w > e->reserved_w + ctl->cfg.noncompliance_kw * 1000.0 && now - e->drift_replan_ms >= slot_ms) {
                e->drift_replan_ms = now;
                ctl_replan(ctl, "noncompliant");
            }
        } else if (e->applied_valid && e->charging && limit_w > 0 && e->power_w > 0 &&
                   e->power_w >= limit_w - ctl->cfg.drift_kw * 1000.0) {
            /* Drawing at its limit, not above: the profile is what holds it. (An EV that takes less by itself,
             * full or tapering, proves nothing about the station and restarts the count.) */
            if (!e->probe_ok_ms) e->probe_ok_ms = now;
            else if (now - e->probe_ok_ms >= slot_ms) station_compliant(ctl, cs, e, now - e->probe_ok_ms);
        } else {
            e->probe_ok_ms = 0;
        }
        return;
    }
    if (over) {
        if (!e->over_since_ms) e->over_since_ms = now;
        else if (now - e->over_since_ms >= (int64_t)ctl->cfg.noncompliance_s * 1000) {
            e->mode = CTL_MODE_NONCOMPLIANT;
            e->probe_ok_ms = 0;
            cs->noncompliant = true;
            ctl->stats.noncompliant++;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "evse", e->id);
            cJSON_AddStringToObject(o, "transaction", e->tx_id);
            cJSON_AddNumberToObject(o, "measured_kw", round(e->power_w) / 1000.0);
            cJSON_AddNumberToObject(o, "limit_kw", round(limit_w) / 1000.0);
            ctl_log_event(ctl, "noncompliant", cs->st->id, o);
            log_warn("control", cs->st->id, "EVSE %d draws %.1f kW above its %.1f kW limit: planned around it",
                     e->id, e->power_w / 1000.0, limit_w / 1000.0);
            ctl_replan(ctl, "noncompliant");
        }
        return;
    }
    e->over_since_ms = 0;
    /* Drift: drawing much less than planned (EV full, tapering) frees power for others. */
    struct ctl_plan *p = ctl->plan;
    int i = e->session_index;
    if (i < 0 || i >= p->n || strcmp(p->sessions[i].tx_id, e->tx_id) != 0) return;
    int t = ctl_plan_slot_at(p, now);
    if (t >= p->slots) return;
    double planned_kw = fmin(p->kw[(size_t)i * p->slots + t], limit_w / 1000.0);
    /* learn false: only compliance and energy drift from this reading (see ctl_on_transaction_event). */
    if (learn) learn_ev_max(ctl, cs, e, i, t, planned_kw);
    check_energy_drift(ctl, cs, e, i);
    /* Once per slot per session: an EV that cannot take its plan (full, tapering) would otherwise ask again at
     * every meter value, and the plan would not change until the energy it is short of shows. */
    if (learn && fabs(planned_kw - e->power_w / 1000.0) > ctl->cfg.drift_kw && now - e->drift_replan_ms >= p->slot_ms) {
        e->drift_replan_ms = now;
        ctl_replan(ctl, "drift");
    }
}

void ctl_on_transaction_event(struct control *ctl, struct station *st, const cJSON *payload)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    if (!cs) return;
    int changed = ctl_model_transaction(ctl, cs, payload);
    ctl_demand_sample(ctl);
    if (changed) ctl_replan(ctl, changed == 2 ? "ev_suspended" : "session");
    /* Stations report periodic meter values inside TransactionEvent (TxUpdatedInterval) as often as in
     * MeterValues: both feed compliance and drift. */
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(payload, "meterValue");
    const cJSON *txid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(payload, "transactionInfo"),
                                                         "transactionId");
    if (!cJSON_IsArray(mv) || !cJSON_IsString(txid)) return;
    for (int k = 1; k <= cs->max_evse; k++)
        if (cs->evse[k].active && strcmp(cs->evse[k].tx_id, txid->valuestring) == 0)
            check_meter(ctl, cs, &cs->evse[k], false);
}

void ctl_on_meter_values(struct control *ctl, struct station *st, const cJSON *payload)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    struct ctl_evse *e = cs ? ctl_model_meter(ctl, cs, payload) : NULL;
    ctl_demand_sample(ctl);
    if (e) check_meter(ctl, cs, e, true);
}

void ctl_on_ev_needs(struct control *ctl, struct station *st, const cJSON *payload)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    struct ctl_evse *e = cs ? ctl_model_needs(ctl, cs, payload) : NULL;
    if (e) {
        /* The EV says it takes more than the meter taught: offer it again. */
        if (e->ev_max_w > 0) sched_evmax_ev_says(&e->observed, e->ev_max_w);
        ctl_replan(ctl, "needs");
    }
}

void ctl_on_variables(struct control *ctl, struct station *st, const cJSON *result)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    if (!cs) return;
    if (result) ctl_model_variables(cs, result);
}

void ctl_on_capabilities_read(struct control *ctl, struct station *st)
{
    struct ctl_station *cs = ctl_station(ctl, st);
    if (cs && cs->failsafe_due && ctl->cfg.enabled) ctl_send_failsafe(ctl, cs);
}

