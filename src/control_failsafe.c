/*
 * control_failsafe.c - the profiles that keep the site under its limit while depotd is down: a station maximum that
 * follows the plan (ChargingStationMaxProfile) or a TxDefaultProfile at the plan's floor, as the config chooses;
 * sent once per change, a raise only after the decreases that make room for it (README "The guarantee").
 * Loop thread only.
 */
#include <stdio.h>

#include "control_internal.h"
#include "log.h"

void ctl_send_failsafe(struct control *ctl, struct ctl_station *cs)
{
    if (ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX) {
        /* The cap it had (or the equal share it is counted at when it never had one), but never more than the
         * others leave at any moment: a raise waits for a plan's saga, after the decreases that make room. */
        int64_t now = ctl_now(ctl) / 1000 * 1000;
        struct sched s, room, limit;
        if (cs->cap_known) s = *cs->cap;
        else sched_const(&s, now, ctl_failsafe_cap_w(ctl, cs));
        if (!ctl_caps_fit(ctl, cs, &s)) {
            ctl_caps_room(ctl, cs, &room);
            sched_min(&s, &room, now, &s);
        }
        /* Offered again after a refusal it counts at its hardware: a cap above that would be a raise that waits
         * for a plan, and changes nothing at the station anyway. */
        if (cs->failsafe_rejected) {
            sched_const(&limit, now, ctl_station_hw_w(ctl, cs));
            sched_min(&s, &limit, now, &s);
        }
        struct sched_unit u;
        ctl_unit(ctl, cs, NULL, &u);
        u.min_w = 0;
        for (int k = 0; k < s.n; k++) s.w[k] = sched_quantize(&u, s.w[k]);
        sched_merge_equal(&s);
        ctl_send_failsafe_sched(ctl, cs, &s, 0, 0);
    } else {
        /* What the plan in force keeps for its idle EVSEs: its floor, or 0 (control_floors.c). */
        ctl_send_failsafe_w(ctl, cs, cs->txdefault_w, 0, 0);
    }
}

void ctl_send_failsafe_w(struct control *ctl, struct ctl_station *cs, double w, uint64_t plan_id, int phase)
{
    struct sched_unit u;
    ctl_unit(ctl, cs, NULL, &u);
    u.min_w = 0; /* a cap, not a charging limit: any value is fine */
    struct sched s;
    sched_const(&s, ctl_now(ctl) / 1000 * 1000, sched_quantize(&u, w));
    ctl_send_failsafe_sched(ctl, cs, &s, plan_id, phase);
}

void ctl_send_failsafe_sched(struct control *ctl, struct ctl_station *cs, const struct sched *sched, uint64_t plan_id,
                             int phase)
{
    if (!ctl_connected(ctl, cs) || (cs->failsafe_rejected && !cs->failsafe_reoffer)) return;
    bool station_max = ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX;
    if (station_max && !ctl_caps_alloc(cs)) {
        log_error("control", cs->st->id, "out of memory: its station maximum is not sent");
        return;
    }
    cs->failsafe_reoffer = false;
    struct sched_unit u;
    ctl_unit(ctl, cs, NULL, &u);
    u.min_w = 0;
    /* On the wire from now on: what lies before is past. */
    int64_t now = ctl_now(ctl) / 1000 * 1000;
    struct sched s = *sched;
    sched_trim(&s, now);
    if (s.t[0] < now) s.t[0] = now;
    /* What the station takes (PeriodsPerSchedule): merged into the lower, never above what was meant. */
    sched_compress(&s, ctl_periods_for(cs), (int64_t)ctl->cfg.horizon_h * 3600000);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "evseId", 0);
    cJSON *cp = cJSON_AddObjectToObject(req, "chargingProfile");
    cJSON_AddNumberToObject(cp, "id", CTL_PROFILE_ID_FAILSAFE);
    cJSON_AddNumberToObject(cp, "stackLevel", 0);
    cJSON_AddStringToObject(cp, "chargingProfilePurpose", station_max ? "ChargingStationMaxProfile" : "TxDefaultProfile");
    cJSON_AddStringToObject(cp, "chargingProfileKind", "Absolute");
    cJSON *arr = cJSON_AddArrayToObject(cp, "chargingSchedule");
    struct ctl_call *c = ctl_call_new(ctl, cs->st->id, 0, CTL_CALL_FAILSAFE);
    cJSON_AddItemToArray(arr, ctl_wire_schedule(ctl, cs, &s, &u, c));
    char err[200];
    if (c && station_max) {
        struct sched counted;
        ctl_cap_counted(ctl, cs, &counted);
        if (!sched_le(&s, &counted, now)) {
            c->sched = s;
            c->plan_id = plan_id;
            c->phase = phase;
            ctl_caps_hold_raise(ctl, cs, c, req);
            return;
        }
    }
    if (c) {
        c->sched = s;
        c->plan_id = plan_id;
        c->phase = phase;
        if (ctl_send(ctl, cs, "SetChargingProfile", req, c->cookie, err, sizeof err)) {
            log_warn("control", cs->st->id, "cannot send the fail-safe profile: %s", err);
            ctl_call_drop(ctl, c);
            if (phase == 1) ctl->saga_failed = true;
        } else {
            cs->failsafe_sent = true;
            cs->failsafe_due = false;
            cs->failsafe_sent_ms = ctl_now(ctl);
            ctl->stats.profiles_sent++;
            if (phase != 0) ctl->saga_in_flight++;
            if (station_max) {
                cs->cap_inflight = true;
                *cs->cap_sent = s;
                ctl_caps_log(ctl, cs, "sent", &s, plan_id, phase);
            }
        }
    }
    cJSON_Delete(req);
}

/* The shares changed (a station refused its fail-safe, or more stations are known): the station caps and the
 * TxDefaultProfiles follow the plan, so the next one moves them, decreases first. */
void ctl_refresh_failsafes(struct control *ctl)
{
    ctl_replan(ctl, "failsafe");
}

/* TxDefaultProfile: a station's default follows the floors of the plan (control_floors.c), through the saga:
 * lowered in phase 1, raised in phase 2 once every decrease is answered. */
int ctl_send_txdefaults(struct control *ctl, uint64_t plan_id, int phase)
{
    int n = 0;
    if (ctl->cfg.failsafe != CTL_FAILSAFE_TX_DEFAULT) return 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (!ctl_txdefault_movable(ctl, cs)) continue;
        bool down = cs->txdefault_w < cs->failsafe_sent_w - 0.5, up = cs->txdefault_w > cs->failsafe_sent_w + 0.5;
        if (phase == 1 ? !down : !up) continue;
        ctl_send_failsafe_w(ctl, cs, cs->txdefault_w, plan_id, phase);
        n++;
    }
    return n;
}
