/*
 * control_model.c - what depotd knows about every EVSE and session (from the stations' messages), the vehicle
 * registry and the needs (control_config.c reads them from the config), and how the told departures were kept.
 * Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

/* ---- lookups ------------------------------------------------------------------------------------------- */

static size_t id_hash(const char *id)
{
    size_t h = 2166136261u; /* FNV-1a */
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 16777619u;
    return h;
}

struct ctl_station *ctl_station_find(struct control *ctl, const char *id)
{
    if (!ctl->n_by_id) return NULL;
    for (struct ctl_station *cs = ctl->by_id[id_hash(id) % ctl->n_by_id]; cs; cs = cs->hnext)
        if (strcmp(cs->st->id, id) == 0) return cs;
    return NULL;
}

static void by_id_link(struct control *ctl, struct ctl_station *cs)
{
    size_t i = id_hash(cs->st->id) % ctl->n_by_id;
    cs->hnext = ctl->by_id[i];
    ctl->by_id[i] = cs;
}

/* Keeps chains short: twice the buckets when the stations outnumber them. false: out of memory. */
static bool by_id_room(struct control *ctl)
{
    if ((size_t)ctl->n_stations < ctl->n_by_id) return true;
    size_t n = ctl->n_by_id ? ctl->n_by_id * 2 : 64;
    struct ctl_station **b = calloc(n, sizeof *b);
    if (!b) return false;
    free(ctl->by_id);
    ctl->by_id = b;
    ctl->n_by_id = n;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) by_id_link(ctl, cs);
    return true;
}

struct ctl_station *ctl_station(struct control *ctl, struct station *st)
{
    struct ctl_station *cs = ctl_station_find(ctl, st->id);
    if (cs) return cs;
    if (!by_id_room(ctl)) return NULL;
    cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    cs->st = st;
    cs->next = ctl->stations;
    ctl->stations = cs;
    ctl->n_stations++;
    by_id_link(ctl, cs);
    return cs;
}

struct ctl_evse *ctl_evse(struct ctl_station *cs, int evse_id)
{
    if (!cs || evse_id < 1 || evse_id >= CTL_EVSE_MAX) return NULL;
    if (evse_id >= cs->evse_cap) {
        int cap = cs->evse_cap ? cs->evse_cap : 4;
        while (cap <= evse_id) cap *= 2;
        if (cap > CTL_EVSE_MAX) cap = CTL_EVSE_MAX;
        struct ctl_evse *grown = realloc(cs->evse, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        memset(grown + cs->evse_cap, 0, (size_t)(cap - cs->evse_cap) * sizeof *grown);
        for (int k = cs->evse_cap; k < cap; k++) {
            grown[k].id = k;
            grown[k].session_index = -1;
            grown[k].soc_pct = -1;
        }
        cs->evse = grown;
        cs->evse_cap = cap;
    }
    struct ctl_evse *e = &cs->evse[evse_id];
    if (!e->present) {
        e->present = true;
        if (evse_id > cs->max_evse) cs->max_evse = evse_id;
    }
    return e;
}

struct sched *ctl_sched_slot(struct sched **slot)
{
    if (!*slot) *slot = malloc(sizeof **slot);
    return *slot;
}

bool ctl_caps_alloc(struct ctl_station *cs)
{
    return ctl_sched_slot(&cs->cap) && ctl_sched_slot(&cs->cap_sent) && ctl_sched_slot(&cs->cap_next);
}

struct ctl_vehicle *ctl_vehicle_find(struct control *ctl, const char *id)
{
    for (int i = 0; i < ctl->cfg.n_vehicles; i++)
        if (strcmp(ctl->cfg.vehicles[i].id, id) == 0) return &ctl->cfg.vehicles[i];
    return NULL;
}

const char *ctl_vehicle_for_token(struct control *ctl, const char *token)
{
    if (!token || !token[0]) return "";
    for (int i = 0; i < ctl->cfg.n_vehicles; i++)
        for (int k = 0; k < ctl->cfg.vehicles[i].n_id_tokens; k++)
            if (strcmp(ctl->cfg.vehicles[i].id_tokens[k], token) == 0) return ctl->cfg.vehicles[i].id;
    const struct config *c = ctl->conf;
    for (size_t i = 0; i < c->n_id_tokens; i++)
        if (strcmp(c->id_tokens[i].id_token, token) == 0) return c->id_tokens[i].vehicle;
    return "";
}

/* ---- units and limits ------------------------------------------------------------------------------------ */

static int evse_phases(const struct ctl_station *cs, const struct ctl_evse *e)
{
    int ph = e && e->phases ? e->phases : cs->supply_phases;
    return ph == 1 || ph == 2 || ph == 3 ? ph : 3;
}

void ctl_unit(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e, struct sched_unit *u)
{
    /* W where the station takes it (no phase arithmetic at all), else A per phase. DC: W, and no 6 A minimum
     * (IEC 61851-1's is for AC; a DC charger takes any power the EV accepts). */
    bool dc = (e && e->dc) || (!(e && e->phases) && cs->dc);
    /* A car known to draw on one phase gets W where the station takes W: P on its phase is what the plan counted
     * (and a car that drew on three after all would load each by a third). In A it would get a third. */
    bool one_phase_car = e && e->active && e->ev_phases == 1;
    u->amps = !dc && cs->rate_known && cs->rate_a &&
              (!cs->rate_w || (ctl_circuits_per_phase(&ctl->cfg, cs->st->id, e ? e->id : 0) && !one_phase_car));
    u->phases = one_phase_car && !u->amps ? 1 : evse_phases(cs, e);
    u->voltage_v = ctl->cfg.nominal_voltage_v;
    u->min_w = dc ? 0 : ctl->cfg.min_current_a * u->phases * u->voltage_v;
}

int ctl_session_phase_count(const struct ctl_station *cs, const struct ctl_evse *e)
{
    return e->active && e->ev_phases ? e->ev_phases : evse_phases(cs, e);
}

double ctl_evse_max_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    (void)cs;
    return e && e->max_w > 0 ? e->max_w : ctl->cfg.evse_max_kw * 1000.0;
}

double ctl_station_hw_w(const struct control *ctl, const struct ctl_station *cs)
{
    double w = 0;
    for (int k = 1; k <= cs->max_evse; k++)
        if (cs->evse[k].present) w += ctl_evse_max_w(ctl, cs, &cs->evse[k]);
    return w > 0 ? w : ctl->cfg.evse_max_kw * 1000.0;
}

double ctl_failsafe_station_w(const struct control *ctl)
{
    /* Shared over every station depotd knows (and at least failsafe_stations), connected or not: any of them
     * may run on its fail-safe alone while depotd is down. A station that refused its fail-safe may draw its
     * full hardware power: that comes off the top, the others share the rest. */
    size_t n = ctl->port.stations_known(ctl->port.ctx);
    if ((size_t)ctl->cfg.failsafe_stations > n) n = (size_t)ctl->cfg.failsafe_stations;
    double w = (ctl->cfg.site_limit_kw - ctl->load.peak_kw) * 1000.0;
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        if (cs->failsafe_rejected) {
            w -= ctl_station_hw_w(ctl, cs);
            if (n > 1) n--;
        }
    if (n == 0) n = 1;
    return w > 0 ? floor(w / (double)n) : 0;
}

double ctl_failsafe_evse_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    /* With a station maximum that follows the plan an EVSE without a TxProfile is bounded by its station's cap;
     * with a TxDefaultProfile by it: the plan's (its floor or 0), or the one still in force when higher (a
     * decrease not answered yet); until one of ours is accepted (after a boot, or a restart of depotd) it may
     * have any, so by the EVSE's maximum. */
    double st = ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX ? ctl_cap_counted_w(ctl, cs)
                : cs->failsafe_accepted                    ? fmax(cs->txdefault_w, cs->failsafe_sent_w)
                                                           : INFINITY; /* none of ours yet: whatever it has */
    double m = ctl_evse_max_w(ctl, cs, e);
    return st < m ? st : m;
}

double ctl_evse_held_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    double w = ctl_failsafe_evse_w(ctl, cs, e);
    /* A TxProfile outranks the TxDefaultProfile: one accepted before stays in force until replaced, whatever the
     * default says (a station maximum bounds both, so there the fail-safe is the bound). */
    if (ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT && e && e->active && e->profile_unknown && !e->applied_valid)
        return ctl_evse_max_w(ctl, cs, e);
    if (ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT && e && e->active && e->applied_valid) {
        double m = 0;
        for (int i = 0; i < e->applied->n; i++) m = fmax(m, e->applied->w[i]);
        w = fmax(w, fmin(m, ctl_evse_max_w(ctl, cs, e)));
    }
    return w;
}

/* ---- needs ------------------------------------------------------------------------------------------------- */

static double delivered_kwh(const struct ctl_evse *e, double base_wh)
{
    if (isnan(base_wh)) base_wh = e->register_start_wh;
    if (!e->has_register) return 0;
    double d = (e->register_wh - base_wh) / 1000.0;
    return d > 0 ? d : 0;
}

void ctl_need_for(const struct control *ctl, const struct ctl_evse *e, int64_t now, struct ctl_need *out)
{
    memset(out, 0, sizeof *out);
    out->priority = 1;
    const struct ctl_vehicle *veh = NULL;
    for (int i = 0; e->vehicle[0] && i < ctl->cfg.n_vehicles; i++)
        if (strcmp(ctl->cfg.vehicles[i].id, e->vehicle) == 0) veh = &ctl->cfg.vehicles[i];
    double session_kwh = delivered_kwh(e, e->register_start_wh);
    if (veh && veh->max_kw > 0) out->max_kw = veh->max_kw;
    if (e->ev_need && e->ev_max_w > 0 && (out->max_kw == 0 || e->ev_max_w / 1000.0 < out->max_kw))
        out->max_kw = e->ev_max_w / 1000.0;

    /* A dispatcher's need whose departure is before this session started belongs to an earlier visit of the
     * vehicle: it does not apply (the EV's own needs or the default do). */
    if (veh && veh->has_need && veh->need.departure_ms > e->started_ms) {
        out->source = "dispatcher";
        out->departure_ms = veh->need.departure_ms;
        if (veh->need.energy_kwh >= 0) out->need_kwh = veh->need.energy_kwh;
        else if (veh->need.target_soc >= 0 && veh->battery_kwh > 0) {
            /* Without a state of charge from the EV, a target SoC reads as "this much of the battery". */
            out->need_kwh = veh->need.target_soc * veh->battery_kwh;
        } else {
            out->need_kwh = veh->battery_kwh > 0 ? veh->battery_kwh : 0;
            out->best_effort = true;
        }
        if (veh->need.priority > 0) out->priority = veh->need.priority;
        out->remaining_kwh = out->need_kwh - session_kwh;
    } else if (e->ev_need && e->ev_departure_ms > 0) {
        out->source = "ev";
        out->departure_ms = e->ev_departure_ms;
        out->need_kwh = e->ev_energy_wh / 1000.0 + delivered_kwh(e, e->register_start_wh) -
                        delivered_kwh(e, e->ev_need_base_known ? e->ev_need_base_wh : NAN);
        out->remaining_kwh = e->ev_energy_wh / 1000.0 - delivered_kwh(e, e->ev_need_base_known ? e->ev_need_base_wh : NAN);
    } else {
        out->source = "default";
        out->departure_ms = e->started_ms + (int64_t)(ctl->cfg.default_dwell_h * 3600000.0);
        if (e->ev_need && e->ev_energy_wh > 0) {
            out->need_kwh = e->ev_energy_wh / 1000.0;
            out->remaining_kwh = out->need_kwh - delivered_kwh(e, e->ev_need_base_known ? e->ev_need_base_wh : NAN);
        } else if (ctl->cfg.default_energy_kwh > 0) {
            out->need_kwh = ctl->cfg.default_energy_kwh;
            out->remaining_kwh = out->need_kwh - session_kwh;
        } else {
            /* Charge to full within the EV's limit: as much as it takes, never an alarm. */
            double cap = veh && veh->battery_kwh > 0 ? veh->battery_kwh : 0;
            double hours = (double)(out->departure_ms - now) / 3600000.0;
            double max = out->max_kw > 0 ? out->max_kw : ctl->cfg.evse_max_kw;
            out->need_kwh = cap > 0 ? cap : max * (hours > 0 ? hours : 0) + session_kwh;
            out->remaining_kwh = out->need_kwh - session_kwh;
            out->best_effort = true;
        }
    }
    if (out->remaining_kwh < 0) out->remaining_kwh = 0;
}

/* ---- what stations tell ------------------------------------------------------------------------------------- */

#define CTL_EVSE_POWER_MAX_W 5e6      /* EVSE Power from the device model: up to 5 MW (MCS) */
#define CTL_EV_ENERGY_MAX_WH 5e6      /* an EV's energy need: up to 5 MWh */

/* A number a station or EV sent, if finite and in [0, max]; else 0 (unknown). */
static double bounded(double x, double max) { return isfinite(x) && x >= 0 && x <= max ? x : 0; }

/* A time the station stamped, on depotd's clock: less the station's offset once measured (stations.c). A reading
 * judged against the profile in force at the wrong moment teaches wrong things (an EV maximum learned at a slot
 * boundary the station has not reached yet). */
static int64_t station_ms(const struct control *ctl, const struct ctl_station *cs, int64_t t)
{
    if (!t) return 0;
    int64_t off, unc;
    ctl->port.station_clock(ctl->port.ctx, cs->st, &off, &unc);
    return t - off;
}

static void apply_meter(const struct control *ctl, const struct ctl_station *cs, struct ctl_evse *e,
                        const cJSON *meter_values)
{
    struct ctl_reading r;
    ctl_read_meter(meter_values, &r);
    int64_t t = r.t ? station_ms(ctl, cs, r.t) : ctl_now(ctl);
    if (r.has_wh) {
        if (!e->has_register) {
            e->register_start_wh = r.wh;
            e->has_register = true;
        } else if (!r.has_w && t > e->register_ms && e->register_ms) {
            e->power_w = (r.wh - e->register_wh) / ((double)(t - e->register_ms) / 3600000.0);
            e->power_from_ms = e->register_ms;
            e->power_ms = t;
        }
        e->register_wh = r.wh;
        e->register_ms = t;
    }
    if (r.has_w) {
        e->power_w = r.w;
        e->power_from_ms = e->power_ms = t;
    }
    if (r.has_soc) e->soc_pct = r.soc_pct;
    e->ev_phases = ctl_phases_measured(e->ev_phases, &r, ctl->cfg.nominal_voltage_v);
}

/* On how many phases the car draws, from a reading: per-phase currents say it outright; a total current beside the
 * power says it by their ratio (P / (I x V): 1 for one phase, 3 for three). Only while it draws enough to tell (2 A,
 * 1 kW); otherwise what was known stays. */
int ctl_phases_measured(int known, const struct ctl_reading *r, double volts)
{
    if (r->phases_drawing == 1 || r->phases_drawing == 3) return r->phases_drawing;
    if (!r->has_w || r->w < 1000 || r->amps < 2 || r->phases_drawing) return known;
    double ratio = r->w / (r->amps * volts);
    return ratio > 0.7 && ratio < 1.4 ? 1 : ratio > 2.4 && ratio < 3.6 ? 3 : known;
}

void ctl_model_status(struct ctl_station *cs, const cJSON *p)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(p, "connectorStatus");
    struct ctl_evse *e = ctl_evse(cs, cJSON_IsNumber(evse) ? evse->valueint : 0);
    if (e && cJSON_IsString(status)) snprintf(e->status, sizeof e->status, "%s", status->valuestring);
}

/* What control knew of the EVSE's last session (profile in force, compliance, learned EV maximum, drift, risk)
 * does not carry over to the next one. */
static void session_control_reset(struct ctl_evse *e, enum ctl_evse_mode mode)
{
    e->applied_valid = e->resend = e->profile_unknown = false;
    e->mode = mode;
    e->over_since_ms = 0;
    e->observed = (struct sched_evmax){0};
    e->probe_sent = false;
    e->probe_ok_ms = 0;
    e->drift_replan_ms = e->energy_drift_ms = 0;
    e->drift_plan_id = 0;
    e->distrusted = false;
    e->at_risk = false;
    e->ev_suspended = false;
}

double ctl_hedge_pct(const struct control *ctl)
{
    const struct ctl_config *cfg = &ctl->cfg;
    double learned = cfg->departure_hedge_max_pct > 0
                         ? departures_hedge_pct(&ctl->departures, cfg->departure_hedge_max_pct,
                                                fmin(cfg->departure_hedge_new_pct, cfg->departure_hedge_max_pct))
                         : 0;
    return fmax(learned, cfg->departure_hedge_pct);
}

void ctl_departures_log_hedge(struct control *ctl)
{
    double pct = ctl_hedge_pct(ctl);
    if (ctl->departures.n >= DEPARTURES_MIN_SEEN && fabs(pct - ctl->hedge_logged_pct) >= 5) {
        log_info("control", NULL, "departures: a quarter of the last %d sessions with a told departure left before "
                 "%.0f %% of their stay; plans are done %.0f %% of a stay early", ctl->departures.n,
                 100 - departures_hedge_pct(&ctl->departures, 100, 0), pct);
        ctl->hedge_logged_pct = pct;
    }
}

/* A session ends: how it kept the departure it was told (a dispatcher's or its EV's, not the default dwell). The
 * departure_kept event is what a restarted depotd learns from again. */
static void learn_departure(struct control *ctl, struct ctl_station *cs, struct ctl_evse *e, int64_t ended_ms)
{
    struct ctl_need need;
    ctl_need_for(ctl, e, ended_ms, &need);
    if (strcmp(need.source, "default") == 0 || need.best_effort) return;
    if (!departures_add(&ctl->departures, e->started_ms, need.departure_ms, ended_ms)) return;
    char t0[32], t1[32], t2[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "evse", e->id);
    cJSON_AddStringToObject(o, "transaction", e->tx_id);
    cJSON_AddStringToObject(o, "source", need.source);
    cJSON_AddStringToObject(o, "started", ocpp_time_format(e->started_ms, t0));
    cJSON_AddStringToObject(o, "told_departure", ocpp_time_format(need.departure_ms, t1));
    cJSON_AddStringToObject(o, "ended", ocpp_time_format(ended_ms, t2));
    cJSON_AddNumberToObject(o, "kept_pct",
                            round(1000.0 * ctl->departures.kept[(ctl->departures.next + DEPARTURES_KEEP - 1) % DEPARTURES_KEEP]) / 10);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (json) ctl->port.log_event(ctl->port.ctx, "departure_kept", cs->st->id, json);
    cJSON_free(json);
    ctl_departures_log_hedge(ctl);
}

/* Returns 1 when a session started or ended, 2 when its EV stopped or resumed by itself (SuspendedEV), else 0. */
int ctl_model_transaction(struct control *ctl, struct ctl_station *cs, const cJSON *p)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "eventType");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(p, "transactionInfo");
    const cJSON *txid = cJSON_GetObjectItemCaseSensitive(info, "transactionId");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(info, "chargingState");
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "evse"), "id");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "idToken"), "idToken");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(p, "timestamp");
    const cJSON *offline = cJSON_GetObjectItemCaseSensitive(p, "offline");
    int64_t t = 0;
    if (cJSON_IsString(ts) && ocpp_time_parse(ts->valuestring, &t) == 0) t = station_ms(ctl, cs, t);
    struct ctl_evse *e = NULL;
    if (cJSON_IsNumber(evse)) e = ctl_evse(cs, evse->valueint);
    if (!e) {
        /* No evse in the event: the EVSE that holds this transaction. */
        for (int k = 1; k <= cs->max_evse && !e; k++)
            if (cs->evse[k].active && strcmp(cs->evse[k].tx_id, txid->valuestring) == 0) e = &cs->evse[k];
    }
    if (!e) return 0;
    bool ended = strcmp(type->valuestring, "Ended") == 0;
    int changed = 0;
    if (ended) {
        if (e->active && strcmp(e->tx_id, txid->valuestring) == 0) {
            learn_departure(ctl, cs, e, t ? t : ctl_now(ctl));
            e->active = false;
            e->ev_need = false;
            e->charging = false;
            session_control_reset(e, CTL_MODE_FAILSAFE);
            changed = 1;
        }
        return changed;
    }
    if (cJSON_IsTrue(offline) && e->active && strcmp(e->tx_id, txid->valuestring) != 0 && t && t < e->started_ms) {
        /* A late offline event of a transaction older than the live one: the store keeps it; the model does not
         * go back in time. (One that started while the station was offline is taken: it is the live one.) */
        return 0;
    }
    if (!e->active || strcmp(e->tx_id, txid->valuestring) != 0) {
        bool had_other = e->active;
        memset(e->tx_id, 0, sizeof e->tx_id);
        snprintf(e->tx_id, sizeof e->tx_id, "%s", txid->valuestring);
        e->active = true;
        e->started_ms = t ? t : ctl_now(ctl);
        e->has_register = false;
        /* No reading of this session yet: the last session's times would pass for a fresh one in check_meter. */
        e->power_w = 0;
        e->power_ms = e->power_from_ms = e->register_ms = 0;
        e->soc_pct = -1;
        e->ev_phases = 0;
        /* A station that ignored its profile in an earlier session will likely do it again: planned around from
         * the start (control.c sends it a probe profile to prove otherwise). */
        session_control_reset(e, cs->noncompliant ? CTL_MODE_NONCOMPLIANT : CTL_MODE_FAILSAFE);
        e->id_token[0] = e->vehicle[0] = '\0';
        if (!had_other) e->ev_need = e->ev_need && e->ev_departure_ms > e->started_ms;
        changed = 1;
    }
    if (cJSON_IsString(tok) && strcmp(e->id_token, tok->valuestring) != 0) {
        snprintf(e->id_token, sizeof e->id_token, "%s", tok->valuestring);
        snprintf(e->vehicle, sizeof e->vehicle, "%s", ctl_vehicle_for_token(ctl, e->id_token));
        changed = 1;
    }
    if (cJSON_IsString(state)) {
        bool charging = strcmp(state->valuestring, "Charging") == 0;
        e->charging = charging;
        /* An EV that stopped by itself is planned at its minimum until it draws again: the rest of what it was
         * given goes to the others (at a tight limit a full EV kept 6.6 kW of 20 from vans that left short). */
        bool suspended = strcmp(state->valuestring, "SuspendedEV") == 0;
        if (suspended != e->ev_suspended && !changed) changed = 2;
        e->ev_suspended = suspended;
    }
    apply_meter(ctl, cs, e, cJSON_GetObjectItemCaseSensitive(p, "meterValue"));
    return changed;
}

struct ctl_evse *ctl_model_meter(struct control *ctl, struct ctl_station *cs, const cJSON *p)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    struct ctl_evse *e = ctl_evse(cs, cJSON_IsNumber(evse) ? evse->valueint : 0);
    if (!e || !e->active) return NULL;
    apply_meter(ctl, cs, e, cJSON_GetObjectItemCaseSensitive(p, "meterValue"));
    return e;
}

struct ctl_evse *ctl_model_needs(struct control *ctl, struct ctl_station *cs, const cJSON *p)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    struct ctl_evse *e = ctl_evse(cs, cJSON_IsNumber(evse) ? evse->valueint : 0);
    if (!e) return NULL;
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(p, "chargingNeeds");
    const cJSON *dep = cJSON_GetObjectItemCaseSensitive(cp, "departureTime");
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(cp, "acChargingParameters");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(cp, "dcChargingParameters");
    int64_t dep_ms = 0;
    if (cJSON_IsString(dep) && ocpp_time_parse(dep->valuestring, &dep_ms) == 0) dep_ms = station_ms(ctl, cs, dep_ms);
    e->ev_need = true;
    e->ev_departure_ms = dep_ms;
    /* The EV's energyAmount counts from now: from the register as it reads now, or (no reading yet) from the
     * session's first reading. */
    e->ev_need_base_known = e->has_register;
    e->ev_need_base_wh = e->has_register ? e->register_wh : 0;
    /* depotd knows the register as of the last reading; the EV counted from it now. What it drew since, at the last
     * power measured (at most an hour of it), is in the base: counted from a reading 9 minutes old, ISO 15118 vans
     * were planned 0.5 kWh short of their target (control_depot_stationmax). Too much here plans a little more,
     * which the EV refuses at its target. */
    int64_t since = ctl_now(ctl) - e->register_ms;
    if (e->has_register && e->charging && e->power_w > 0 && since > 0)
        e->ev_need_base_wh += e->power_w * (double)(since < 3600000 ? since : 3600000) / 3600000.0;
    e->ev_energy_wh = 0;
    e->ev_max_w = e->ev_min_w = 0;
    const cJSON *xfer = cJSON_GetObjectItemCaseSensitive(cp, "requestedEnergyTransfer");
    if (cJSON_IsString(xfer) && strcmp(xfer->valuestring, "AC_single_phase") == 0) e->ev_phases = 1;
    else if (cJSON_IsString(xfer) && strcmp(xfer->valuestring, "AC_three_phase") == 0) e->ev_phases = 3;
    if (ac) {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(ac, "energyAmount");
        const cJSON *maxc = cJSON_GetObjectItemCaseSensitive(ac, "evMaxCurrent");
        const cJSON *minc = cJSON_GetObjectItemCaseSensitive(ac, "evMinCurrent");
        const cJSON *volt = cJSON_GetObjectItemCaseSensitive(ac, "evMaxVoltage");
        double v = cJSON_IsNumber(volt) && volt->valuedouble > 0 ? volt->valuedouble : 230;
        if (v > 260) v /= sqrt(3.0); /* line-to-line given: per phase */
        int ph = e->phases ? e->phases : (cs->supply_phases ? cs->supply_phases : 3);
        if (cJSON_IsNumber(en)) e->ev_energy_wh = bounded(en->valuedouble, CTL_EV_ENERGY_MAX_WH);
        if (cJSON_IsNumber(maxc)) e->ev_max_w = bounded(maxc->valuedouble * v * ph, CTL_EVSE_POWER_MAX_W);
        if (cJSON_IsNumber(minc)) e->ev_min_w = bounded(minc->valuedouble * v * ph, CTL_EVSE_POWER_MAX_W);
    } else if (dc) {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(dc, "energyAmount");
        const cJSON *maxp = cJSON_GetObjectItemCaseSensitive(dc, "evMaxPower");
        if (cJSON_IsNumber(en)) e->ev_energy_wh = bounded(en->valuedouble, CTL_EV_ENERGY_MAX_WH);
        if (cJSON_IsNumber(maxp)) e->ev_max_w = bounded(maxp->valuedouble, CTL_EVSE_POWER_MAX_W);
    }
    return e;
}

/* GetVariables: match each result to what was asked (component, evse, variable). */
void ctl_model_variables(struct ctl_station *cs, const cJSON *result)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(result, "getVariableResult")) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "attributeStatus");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(r, "attributeValue");
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(r, "component");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(r, "variable");
        const cJSON *cname = cJSON_GetObjectItemCaseSensitive(comp, "name");
        const cJSON *vname = cJSON_GetObjectItemCaseSensitive(var, "name");
        const cJSON *evse = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(comp, "evse"), "id");
        if (!cJSON_IsString(st) || strcmp(st->valuestring, "Accepted") != 0 || !cJSON_IsString(val) ||
            !cJSON_IsString(cname) || !cJSON_IsString(vname))
            continue;
        const char *c = cname->valuestring, *v = vname->valuestring, *x = val->valuestring;
        if (strcmp(c, "SmartChargingCtrlr") == 0) {
            if (strcmp(v, "RateUnit") == 0) {
                cs->rate_known = true;
                cs->rate_w = strstr(x, "W") != NULL;
                cs->rate_a = strstr(x, "A") != NULL;
            } else if (strcmp(v, "PeriodsPerSchedule") == 0) {
                cs->periods_per_schedule = atoi(x);
            } else if (strcmp(v, "ProfileStackLevel") == 0) {
                cs->max_stack_level = atoi(x);
            }
        } else if (strcmp(c, "ChargingStation") == 0 && strcmp(v, "SupplyPhases") == 0) {
            /* 0: DC (OCPP 2.0.1 device model) */
            cs->supply_phases = atoi(x);
            cs->dc = strcmp(x, "0") == 0;
        } else if (strcmp(c, "EVSE") == 0 && cJSON_IsNumber(evse)) {
            struct ctl_evse *e = ctl_evse(cs, evse->valueint);
            if (!e) continue;
            if (strcmp(v, "Power") == 0) {
                char *end;
                double p = strtod(x, &end);
                /* Not "inf", "nan" or a number with junk after it: an EVSE of 0 W to 5 MW, else unknown. */
                if (end != x && !*end && isfinite(p) && p > 0 && p <= CTL_EVSE_POWER_MAX_W) e->max_w = p;
            } else if (strcmp(v, "SupplyPhases") == 0) {
                e->phases = atoi(x);
                e->dc = strcmp(x, "0") == 0;
            }
        }
    }
}
