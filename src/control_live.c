/*
 * control_live.c - the depot now, as the control loop sees it (control_live_json): per station its link, clock,
 * fail-safe, cap and compliance, per EVSE its session, measured draw against the limit in force, the plan for now,
 * the EV's SoC and the alarm. It reads the model and changes nothing. Loop thread.
 *
 * The document (times RFC 3339 on the planning clock; kW rounded to W; null where depotd does not know):
 *   at, failsafe (control.failsafe), plan_id (the plan in force: its saga may still be running; null: none yet),
 *   stations[] in id order:
 *     connected; clock_offset_s: its clock minus depotd's as measured (stations.c; 0.1 s), null until measured;
 *     failsafe {profile, kw, state}: state "rejected" (it refused ours: counted at its hardware), "accepted" (one of
 *       ours is in force), "sent" (sent since its last boot or connection, not answered, or the answer was lost), or
 *       "none"; kw: station maxima: the cap accepted or in flight, the higher, at now; TxDefaultProfile: the
 *       default it accepted last; null when none of ours is known (failsafe_now_w);
 *     cap_kw: ChargingStationMaxProfile only: the cap accepted (or, lost, the higher of the two) at now;
 *     noncompliant: an EVSE of it drew above its limit (sticky until a reboot or a probe followed for a slot);
 *     evses[] (present ones, in id order):
 *       status (its last StatusNotification), transaction_id, vehicle (null for another fleet's session);
 *       mode: "idle" without a session, else control's mode of it (enum ctl_evse_mode);
 *       power_kw, power_at: the last reading of this session (measured, or the mean between two registers);
 *       limit_kw: the TxProfile in force at now while depotd knows one is (applied_valid, whatever the mode: a
 *         rejected later one leaves it in force; check_meter judges the draw by the same), else what the fail-safe
 *         lets this EVSE draw (limit_now_w); null when neither is known;
 *       planned_kw: the plan in force for its session at now (null: idle, not in that plan, or past its horizon);
 *       soc_pct: the last SoC of this session (0.1 %); at_risk, short_kwh: the departure_at_risk alarm as it stands (the
 *         shortfall is the one last logged: it is logged again when it moves by 1 kWh).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"

static void add_kw(cJSON *o, const char *name, double w)
{
    if (isfinite(w)) cJSON_AddNumberToObject(o, name, round(w) / 1000.0);
    else cJSON_AddNullToObject(o, name);
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
    char buf[40];
    if (ms) cJSON_AddStringToObject(o, name, ocpp_time_format(ms, buf));
    else cJSON_AddNullToObject(o, name);
}

static void add_str(cJSON *o, const char *name, const char *s)
{
    if (s && s[0]) cJSON_AddStringToObject(o, name, s);
    else cJSON_AddNullToObject(o, name);
}

static const char *failsafe_name(const struct control *ctl)
{
    return ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX ? "ChargingStationMaxProfile" : "TxDefaultProfile";
}

static const char *mode_name(const struct ctl_evse *e)
{
    if (!e->active) return "idle";
    switch (e->mode) {
    case CTL_MODE_CONTROLLED: return "controlled";
    case CTL_MODE_UNCONTROLLED: return "uncontrolled";
    case CTL_MODE_NONCOMPLIANT: return "noncompliant";
    case CTL_MODE_FAILSAFE: break;
    }
    return "failsafe";
}

static const char *failsafe_state(const struct ctl_station *cs)
{
    if (cs->failsafe_rejected) return "rejected";
    return cs->failsafe_accepted ? "accepted" : cs->failsafe_sent ? "sent" : "none";
}

/* The fail-safe the station holds now, for the whole station (W); NAN when none of ours is known to be in force.
 * Not failsafe_sent_w: with station maxima that is the first period of a cap that follows the plan over time, so
 * the cap itself is read at now: the one accepted, or the one in flight when higher (either may be in force until
 * it answers; ctl_cap_counted counts the same, without the share it assumes for a station that never had one).
 * A TxDefaultProfile is one constant per EVSE: failsafe_sent_w, what it accepted last (a decrease in flight is not
 * in force yet, a raise only once answered), known only once one of ours was accepted since its boot. */
static double failsafe_now_w(const struct control *ctl, const struct ctl_station *cs, int64_t now)
{
    if (cs->failsafe_rejected) return NAN; /* counted at its hardware: no limit of ours */
    if (ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT) return cs->failsafe_accepted ? cs->failsafe_sent_w : NAN;
    double w = cs->cap_known ? sched_at(cs->cap, now) : NAN;
    if (cs->cap_inflight) w = isnan(w) ? sched_at(cs->cap_sent, now) : fmax(w, sched_at(cs->cap_sent, now));
    return w;
}

/* What the EVSE may draw now (W), as check_meter judges it: the TxProfile in force, else its fail-safe bound. A
 * station maximum caps the station's sum, so one EVSE alone may take up to it or its own maximum, the lower
 * (ctl_failsafe_evse_w). With TxDefaultProfile a TxProfile of before a reboot or a restart of depotd may still
 * outrank the default (profile_unknown): then nothing is known. Schedules hold W: for a station that takes A they
 * are A per phase x phases x control.nominal_voltage_v, as the limit was quantized (schedule.h). */
static double limit_now_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e,
                          int64_t now)
{
    if (e->active && e->applied_valid) return sched_at(e->applied, now);
    if (e->active && e->profile_unknown && ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT) return NAN;
    double w = failsafe_now_w(ctl, cs, now);
    return isnan(w) ? NAN : fmin(w, ctl_evse_max_w(ctl, cs, e));
}

/* The plan in force for the EVSE's session at now (W); NAN when that plan has no such session or now is past its
 * horizon. session_index is the session's row in the newest plan built, which need not be the one in force yet. */
static double planned_now_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e,
                            int64_t now)
{
    const struct ctl_plan *p = ctl->plan;
    if (!p || !e->active) return NAN;
    int t = ctl_plan_slot_at(p, now);
    if (t >= p->slots) return NAN;
    for (int k = -1; k < p->n; k++) {
        int i = k < 0 ? e->session_index : k; /* the hint first */
        if (i < 0 || i >= p->n) continue;
        const struct ctl_plan_session *ps = &p->sessions[i];
        if (ps->evse == e->id && strcmp(ps->tx_id, e->tx_id) == 0 && strcmp(ps->station, cs->st->id) == 0)
            return p->kw[(size_t)i * p->slots + t] * 1000.0;
    }
    return NAN;
}

/* Whether a reader of this fleet (NULL or "": every fleet) may see who charges here. A session without a known
 * vehicle is nobody's fleet. */
static bool fleet_sees(struct control *ctl, const struct ctl_evse *e, const char *fleet)
{
    if (!fleet || !fleet[0]) return true;
    const struct ctl_vehicle *v = e->vehicle[0] ? ctl_vehicle_find(ctl, e->vehicle) : NULL;
    return v && strcmp(v->fleet, fleet) == 0;
}

static cJSON *evse_json(struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e, int64_t now,
                        const char *fleet)
{
    cJSON *o = cJSON_CreateObject();
    bool named = e->active && fleet_sees(ctl, e, fleet);
    bool reading = e->active && e->power_ms != 0;
    cJSON_AddNumberToObject(o, "id", e->id);
    add_str(o, "status", e->status);
    add_str(o, "transaction_id", named ? e->tx_id : NULL);
    add_str(o, "vehicle", named ? e->vehicle : NULL);
    cJSON_AddStringToObject(o, "mode", mode_name(e));
    add_kw(o, "power_kw", reading ? e->power_w : NAN);
    add_time(o, "power_at", reading ? e->power_ms : 0);
    add_kw(o, "limit_kw", limit_now_w(ctl, cs, e, now));
    add_kw(o, "planned_kw", planned_now_w(ctl, cs, e, now));
    if (e->active && e->soc_pct >= 0) cJSON_AddNumberToObject(o, "soc_pct", round(e->soc_pct * 10) / 10);
    else cJSON_AddNullToObject(o, "soc_pct");
    bool risk = e->active && e->at_risk;
    cJSON_AddBoolToObject(o, "at_risk", risk);
    cJSON_AddNumberToObject(o, "short_kwh", risk ? round(e->short_kwh * 1000) / 1000 : 0);
    return o;
}

static cJSON *station_json(struct control *ctl, const struct ctl_station *cs, int64_t now, const char *fleet)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", cs->st->id);
    cJSON_AddBoolToObject(o, "connected", ctl_connected(ctl, cs));
    /* Measured, as the stations' API shows it; depotd shifts profiles by it only within clock_skew_tolerance_s. */
    if (cs->st->clock.known) cJSON_AddNumberToObject(o, "clock_offset_s", round(cs->st->clock.offset_ms / 100.0) / 10);
    else cJSON_AddNullToObject(o, "clock_offset_s");
    cJSON *fs = cJSON_AddObjectToObject(o, "failsafe");
    cJSON_AddStringToObject(fs, "profile", failsafe_name(ctl));
    add_kw(fs, "kw", failsafe_now_w(ctl, cs, now));
    cJSON_AddStringToObject(fs, "state", failsafe_state(cs));
    bool station_max = ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX;
    add_kw(o, "cap_kw", station_max && cs->cap_known && !cs->failsafe_rejected ? sched_at(cs->cap, now) : NAN);
    cJSON_AddBoolToObject(o, "noncompliant", cs->noncompliant);
    cJSON *evses = cJSON_AddArrayToObject(o, "evses");
    for (int k = 1; k <= cs->max_evse; k++)
        if (cs->evse[k].present) cJSON_AddItemToArray(evses, evse_json(ctl, cs, &cs->evse[k], now, fleet));
    return o;
}

static int by_id(const void *a, const void *b)
{
    const struct ctl_station *x = *(const struct ctl_station *const *)a, *y = *(const struct ctl_station *const *)b;
    return strcmp(x->st->id, y->st->id);
}

cJSON *ctl_live_json(struct control *ctl, const char *fleet)
{
    if (!ctl->cfg.enabled) return NULL;
    const struct ctl_station **order = malloc(((size_t)ctl->n_stations + 1) * sizeof *order);
    cJSON *o = order ? cJSON_CreateObject() : NULL;
    if (!o) {
        free(order);
        return NULL;
    }
    int n = 0;
    for (const struct ctl_station *cs = ctl->stations; cs && n < ctl->n_stations; cs = cs->next) order[n++] = cs;
    qsort(order, (size_t)n, sizeof *order, by_id);
    int64_t now = ctl_now(ctl);
    add_time(o, "at", now);
    cJSON_AddStringToObject(o, "failsafe", failsafe_name(ctl));
    if (ctl->plan) cJSON_AddNumberToObject(o, "plan_id", (double)ctl->plan->id);
    else cJSON_AddNullToObject(o, "plan_id");
    cJSON_AddItemToObject(o, "demand", ctl_demand_json(ctl, ctl->plan ? ctl_plan_peak_kw(ctl->plan) : -1));
    cJSON *stations = cJSON_AddArrayToObject(o, "stations");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(stations, station_json(ctl, order[i], now, fleet));
    free(order);
    return o;
}

cJSON *control_live_json(struct depot *d, const char *fleet)
{
    return d->control ? ctl_live_json(d->control, fleet) : NULL;
}
