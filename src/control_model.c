/*
 * control_model.c - what depotd knows about every EVSE and session (from the stations' messages), the vehicle
 * registry and the needs, and the `control` section of the config. Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

/* ---- config ------------------------------------------------------------------------------------------ */

struct num_key {
    const char *name;
    size_t offset;
    double def, lo, hi;
    bool integer;
    const char *doc;
};

#define NUM(n, d, lo, hi, doc) {#n, offsetof(struct ctl_config, n), d, lo, hi, false, doc}
#define INT(n, d, lo, hi, doc) {#n, offsetof(struct ctl_config, n), d, lo, hi, true, doc}

static const struct num_key num_keys[] = {
    NUM(site_limit_kw, 0, 0, 1e6, "The grid connection's limit for all charging (kW). Required."),
    INT(slot_minutes, 15, 1, 60, "Plan slot length (minutes; divides 60). Profiles change at slot boundaries."),
    INT(horizon_h, 24, 1, 168, "How far ahead each plan looks (hours)."),
    INT(failsafe_stations, 0, 0, 100000,
        "Share the fail-safe over at least this many stations (room for stations not yet registered)."),
    NUM(failsafe_evse_kw, 0, 0, 1000,
        "The floor an idle EVSE keeps for a car that plugs in while depotd is down (kW): room in its station's "
        "cap (ChargingStationMaxProfile), or its TxDefaultProfile, which also bounds a new session until its first "
        "TxProfile; 0: min_current_a on its phases (4.14 kW on 3 x 230 V). Idle EVSEs reserve it in every plan, "
        "so smaller keeps more of the limit for the sessions; kept only while the floors fit (idle_reserve_pct)."),
    NUM(idle_reserve_pct, 0, 0, 100,
        "When the idle EVSEs' fail-safe floors do not all fit beside the sessions, they get what the sessions "
        "cannot use, or at least this share of the site limit (%): one EVSE per station in turn, those that had a "
        "floor first (TxDefaultProfile: whole stations; the others' default is 0). The rest keep none: a car that "
        "plugs in there while depotd is down waits. README \"The guarantee\"."),
    NUM(nominal_voltage_v, 230, 100, 1000, "Phase voltage used to turn W into A for stations that take A only."),
    NUM(min_current_a, 6, 0, 32, "Lowest non-zero current per phase an EVSE is ever told (IEC 61851: 6 A)."),
    NUM(evse_max_kw, 22, 1, 1000, "An EVSE's maximum when the station does not report EVSE Power (MaxSet)."),
    INT(tx_stack_level, 1, 0, 100, "stackLevel of the TxProfiles depotd sends (capped by ProfileStackLevel)."),
    INT(replan_delay_ms, 100, 0, 60000, "Events within this window (real ms) are planned together."),
    NUM(drift_kw, 2, 0.1, 1000, "Re-plan when a session's measured power is this far from its plan (kW)."),
    NUM(drift_kwh, 1, 0.01, 1000,
        "Re-plan when a session's energy since the plan in force departs from what the plan let it take by more "
        "than this (kWh); at most once per slot per session."),
    NUM(noncompliance_kw, 1, 0, 1000, "Measured power above the limit by more than this counts as over (kW)."),
    INT(noncompliance_s, 120, 1, 86400,
        "Over the limit this long (seconds) makes an EVSE non-compliant. Sticky per station: its next sessions are "
        "planned around too until it reboots or follows a probe profile for a full slot."),
    INT(ev_max_retry_min, 60, 0, 10080,
        "An EV maximum learned from the meter (offered more, took less) is forgotten after this many minutes: the "
        "next plan offers the EVSE's power again. 0: kept for the session (a higher NotifyEVChargingNeeds limit "
        "still clears it)."),
    NUM(default_dwell_h, 10, 0.25, 168, "Default policy: departure this long after arrival (hours)."),
    NUM(default_energy_kwh, 0, 0, 10000,
        "Default policy: energy per session (kWh); 0: charge to full within the EV's limit (best effort)."),
    NUM(departure_margin_min, 10, 0, 240, "Plans aim to finish this long before departure (minutes)."),
    NUM(energy_margin_pct, 3, 0, 50,
        "Plans aim this much above each need (%): meter lag and profile changes cost a little energy; the EV stops "
        "by itself when full. A shortfall within the margin is not an alarm."),
    NUM(at_risk_kwh, 0.5, 0, 10000, "A planned shortfall above this raises departure_at_risk (kWh)."),
    NUM(earliness_pct, 0.01, 0, 100,
        "How much a kWh planned at the horizon's end costs more than one planned now, as a share of the horizon's "
        "highest price (%); in between in proportion. A hedge against vehicles that leave before the departure "
        "depotd was told: higher front-loads charging at some cost."),
    NUM(departure_hedge_pct, 0, 0, 90,
        "Plan each session to be done this share of its stay before the departure it was given (from its arrival), "
        "and as fast as it can once that earlier time has passed: a hedge against drivers who leave early, "
        "at the cost of fewer cheap hours (%)."),
    NUM(departure_hedge_max_pct, 90, 0, 90,
        "The hedge is also learned from the last 64 sessions that ended with a told departure (not the default "
        "dwell): plans are done by the point of the stay three quarters of them were still there at, at most this "
        "share early (%). Vehicles that keep their departures teach 0; drivers who leave early, up to this. Needs 8 "
        "such sessions (kept in the event log across restarts: departure_kept events); until then "
        "departure_hedge_new_pct. 0: departure_hedge_pct only."),
    NUM(departure_hedge_new_pct, 90, 0, 90,
        "The learned hedge until 8 sessions with a told departure have ended (%; at most departure_hedge_max_pct): "
        "a new depot charges early until its vehicles show they keep their departures, so it is never worse than "
        "charging at once while it learns. A depot whose departures are a dispatcher's schedule can set 0."),
    INT(solver_time_limit_ms, 5000, 100, 600000, "Time limit of one solve; past it the plan is the fallback."),
    INT(mip_max_binaries, 600, 0, 100000,
        "Solve the 0-or-at-least-6 A rule exactly (MIP) up to this many on/off variables, else repair the LP; "
        "0: always repair (fastest)."),
};

void control_print_doc(void)
{
    printf("\n### `control` (smart charging)\n\n| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    printf("| `control.enabled` | boolean | `true` when `control` is given | true, false | Plan and send profiles. |\n");
    printf("| `control.failsafe` | string | `ChargingStationMaxProfile` | ChargingStationMaxProfile, TxDefaultProfile "
           "| The profile every station gets at boot so the site stays under its limit while depotd is down. |\n");
    printf("| `control.verify_composite` | boolean | `false` | true, false | After each accepted TxProfile, ask the "
           "station for its GetCompositeSchedule over the plan and compare it with what was sent (unit rounding "
           "allowed); a difference or a refusal is a `composite_mismatch` event and the EVSE is planned around at its "
           "fail-safe limit. One more CALL per profile. |\n");
    for (size_t k = 0; k < sizeof num_keys / sizeof num_keys[0]; k++)
        printf("| `control.%s` | %s | `%g` | %g .. %g | %s |\n", num_keys[k].name,
               num_keys[k].integer ? "integer" : "number", num_keys[k].def, num_keys[k].lo, num_keys[k].hi,
               num_keys[k].doc);
    printf("| `control.vehicles` | array | `[]` | | `{\"id\", \"battery_kwh\", \"max_kw\", \"id_tokens\": [..], "
           "\"group_id_token\"}`: the vehicle registry (id tokens also map through `id_tokens[].vehicle`). "
           "`group_id_token` (1 to 36 characters) is answered as its tokens' `idTokenInfo.groupIdToken` (type "
           "Central) unless their `id_tokens[]` entry has a `group`. |\n");
    printf("| `control.needs` | array | `[]` | | The dispatcher's needs: `{\"vehicle\", \"departure\": RFC 3339, "
           "\"energy_kwh\" or \"target_soc\", \"priority\"}`. They come first, then the EV's "
           "NotifyEVChargingNeeds, then the default policy. |\n");
}

static int parse_vehicles(struct ctl_config *cfg, const cJSON *arr, char *err, size_t err_len)
{
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_len, "control.vehicles: must be an array");
        return -1;
    }
    int n = cJSON_GetArraySize(arr);
    cfg->vehicles = calloc((size_t)(n ? n : 1), sizeof *cfg->vehicles);
    if (!cfg->vehicles) return -1;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        struct ctl_vehicle *veh = &cfg->vehicles[i];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
        if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) > CTL_VEHICLE_ID_MAX) {
            snprintf(err, err_len, "control.vehicles[%d].id: a string of 1 to %d characters", i, CTL_VEHICLE_ID_MAX);
            return -1;
        }
        snprintf(veh->id, sizeof veh->id, "%s", id->valuestring);
        const char *nums[] = {"battery_kwh", "max_kw"};
        double *dst[] = {&veh->battery_kwh, &veh->max_kw};
        for (int k = 0; k < 2; k++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, nums[k]);
            if (!x) continue;
            if (!cJSON_IsNumber(x) || x->valuedouble <= 0 || x->valuedouble > 10000) {
                snprintf(err, err_len, "control.vehicles[%d].%s: a number in (0, 10000]", i, nums[k]);
                return -1;
            }
            *dst[k] = x->valuedouble;
        }
        const cJSON *toks = cJSON_GetObjectItemCaseSensitive(v, "id_tokens");
        if (toks) {
            if (!cJSON_IsArray(toks)) {
                snprintf(err, err_len, "control.vehicles[%d].id_tokens: must be an array of strings", i);
                return -1;
            }
            veh->id_tokens = calloc((size_t)cJSON_GetArraySize(toks) + 1, sizeof(char *));
            const cJSON *t;
            cJSON_ArrayForEach(t, toks) {
                if (!cJSON_IsString(t) || strlen(t->valuestring) > 36) {
                    snprintf(err, err_len, "control.vehicles[%d].id_tokens: strings of at most 36 characters", i);
                    return -1;
                }
                veh->id_tokens[veh->n_id_tokens++] = strdup(t->valuestring);
            }
        }
        for (int j = 0; j < i; j++)
            if (strcmp(cfg->vehicles[j].id, veh->id) == 0) {
                snprintf(err, err_len, "control.vehicles[%d].id: duplicate \"%s\"", i, veh->id);
                return -1;
            }
        cfg->n_vehicles = ++i;
    }
    return 0;
}

static int parse_needs(struct ctl_config *cfg, const cJSON *arr, char *err, size_t err_len)
{
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_len, "control.needs: must be an array");
        return -1;
    }
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        const cJSON *veh = cJSON_GetObjectItemCaseSensitive(v, "vehicle");
        struct ctl_vehicle *target = NULL;
        for (int k = 0; cJSON_IsString(veh) && k < cfg->n_vehicles; k++)
            if (strcmp(cfg->vehicles[k].id, veh->valuestring) == 0) target = &cfg->vehicles[k];
        if (!target) {
            snprintf(err, err_len, "control.needs[%d].vehicle: not one of control.vehicles", i);
            return -1;
        }
        const cJSON *dep = cJSON_GetObjectItemCaseSensitive(v, "departure");
        int64_t dep_ms;
        if (!cJSON_IsString(dep) || ocpp_time_parse(dep->valuestring, &dep_ms)) {
            snprintf(err, err_len, "control.needs[%d].departure: an RFC 3339 time", i);
            return -1;
        }
        target->has_need = true;
        target->need = (struct control_need){.departure_ms = dep_ms, .energy_kwh = -1, .target_soc = -1};
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "energy_kwh");
        const cJSON *soc = cJSON_GetObjectItemCaseSensitive(v, "target_soc");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(v, "priority");
        if (e && (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 10000)) {
            snprintf(err, err_len, "control.needs[%d].energy_kwh: a number in [0, 10000]", i);
            return -1;
        }
        if (soc && (!cJSON_IsNumber(soc) || soc->valuedouble < 0 || soc->valuedouble > 1)) {
            snprintf(err, err_len, "control.needs[%d].target_soc: a number in [0, 1]", i);
            return -1;
        }
        if (!e && !soc) {
            snprintf(err, err_len, "control.needs[%d]: energy_kwh or target_soc is required", i);
            return -1;
        }
        if (pr && (!cJSON_IsNumber(pr) || pr->valuedouble < 0 || pr->valuedouble > 100)) {
            snprintf(err, err_len, "control.needs[%d].priority: a number in [0, 100]", i);
            return -1;
        }
        if (e) target->need.energy_kwh = e->valuedouble;
        if (soc) target->need.target_soc = soc->valuedouble;
        if (pr) target->need.priority = pr->valuedouble;
        i++;
    }
    return 0;
}

int ctl_config_parse(struct ctl_config *cfg, const struct config *c, char *err, size_t err_len)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t k = 0; k < sizeof num_keys / sizeof num_keys[0]; k++) {
        char *f = (char *)cfg + num_keys[k].offset;
        if (num_keys[k].integer) *(int *)f = (int)num_keys[k].def;
        else *(double *)f = num_keys[k].def;
    }
    cfg->failsafe = CTL_FAILSAFE_STATION_MAX;
    cfg->enabled = false;
    const cJSON *o = c->control;
    if (!o) return 0;
    cfg->enabled = true;
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        const char *name = it->string;
        if (name[0] == '_') continue;
        if (strcmp(name, "enabled") == 0 || strcmp(name, "verify_composite") == 0) {
            if (!cJSON_IsBool(it)) {
                snprintf(err, err_len, "control.%s: must be true or false", name);
                return -1;
            }
            if (name[0] == 'e') cfg->enabled = cJSON_IsTrue(it);
            else cfg->verify_composite = cJSON_IsTrue(it);
            continue;
        }
        if (strcmp(name, "failsafe") == 0) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, "ChargingStationMaxProfile") == 0)
                cfg->failsafe = CTL_FAILSAFE_STATION_MAX;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "TxDefaultProfile") == 0)
                cfg->failsafe = CTL_FAILSAFE_TX_DEFAULT;
            else {
                snprintf(err, err_len, "control.failsafe: \"ChargingStationMaxProfile\" or \"TxDefaultProfile\"");
                return -1;
            }
            continue;
        }
        if (strcmp(name, "vehicles") == 0) {
            if (parse_vehicles(cfg, it, err, err_len)) return -1;
            continue;
        }
        if (strcmp(name, "needs") == 0) continue; /* after the vehicles, below */
        const struct num_key *k = NULL;
        for (size_t i = 0; i < sizeof num_keys / sizeof num_keys[0] && !k; i++)
            if (strcmp(num_keys[i].name, name) == 0) k = &num_keys[i];
        if (!k) {
            snprintf(err, err_len, "control.%s: unknown key (see `depotd --config-doc`)", name);
            return -1;
        }
        if (!cJSON_IsNumber(it) || it->valuedouble < k->lo || it->valuedouble > k->hi ||
            (k->integer && it->valuedouble != floor(it->valuedouble))) {
            snprintf(err, err_len, "control.%s: must be %s in [%g, %g]", name, k->integer ? "an integer" : "a number",
                     k->lo, k->hi);
            return -1;
        }
        char *f = (char *)cfg + k->offset;
        if (k->integer) *(int *)f = (int)it->valuedouble;
        else *(double *)f = it->valuedouble;
    }
    const cJSON *needs = cJSON_GetObjectItemCaseSensitive(o, "needs");
    if (needs && parse_needs(cfg, needs, err, err_len)) return -1;
    if (cfg->enabled && !(cfg->site_limit_kw > 0)) {
        snprintf(err, err_len, "control.site_limit_kw: required (> 0) when control is enabled");
        return -1;
    }
    if (60 % cfg->slot_minutes != 0) {
        snprintf(err, err_len, "control.slot_minutes: must divide 60 (1, 5, 15, 30, 60...)");
        return -1;
    }
    return 0;
}

void ctl_config_free(struct ctl_config *cfg)
{
    for (int i = 0; i < cfg->n_vehicles; i++) {
        for (int k = 0; k < cfg->vehicles[i].n_id_tokens; k++) free(cfg->vehicles[i].id_tokens[k]);
        free(cfg->vehicles[i].id_tokens);
    }
    free(cfg->vehicles);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- lookups ------------------------------------------------------------------------------------------- */

struct ctl_station *ctl_station_find(struct control *ctl, const char *id)
{
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        if (strcmp(cs->st->id, id) == 0) return cs;
    return NULL;
}

struct ctl_station *ctl_station(struct control *ctl, struct station *st)
{
    struct ctl_station *cs = ctl_station_find(ctl, st->id);
    if (cs) return cs;
    cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    cs->st = st;
    for (int e = 0; e < CTL_EVSE_MAX; e++) {
        cs->evse[e].id = e;
        cs->evse[e].session_index = -1;
    }
    cs->next = ctl->stations;
    ctl->stations = cs;
    ctl->n_stations++;
    return cs;
}

struct ctl_evse *ctl_evse(struct ctl_station *cs, int evse_id)
{
    if (!cs || evse_id < 1 || evse_id >= CTL_EVSE_MAX) return NULL;
    struct ctl_evse *e = &cs->evse[evse_id];
    if (!e->present) {
        e->present = true;
        if (evse_id > cs->max_evse) cs->max_evse = evse_id;
    }
    return e;
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
    const struct config *c = &ctl->d->cfg;
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
    u->amps = !dc && cs->rate_known && !cs->rate_w && cs->rate_a;
    u->phases = evse_phases(cs, e);
    u->voltage_v = ctl->cfg.nominal_voltage_v;
    u->min_w = dc ? 0 : ctl->cfg.min_current_a * u->phases * u->voltage_v;
}

double ctl_evse_max_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    (void)cs;
    return e && e->max_w > 0 ? e->max_w : ctl->cfg.evse_max_kw * 1000.0;
}

double ctl_site_limit_kw(const struct control *ctl, int64_t t)
{
    double kw = ctl->cfg.site_limit_kw;
    if (ctl->override_kw >= 0 && t < ctl->override_until_ms && ctl->override_kw < kw) kw = ctl->override_kw;
    return kw;
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
    size_t n = ctl->d->n_stations;
    if ((size_t)ctl->cfg.failsafe_stations > n) n = (size_t)ctl->cfg.failsafe_stations;
    double w = ctl->cfg.site_limit_kw * 1000.0;
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
        for (int i = 0; i < e->applied.n; i++) m = fmax(m, e->applied.w[i]);
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

/* Energy.Active.Import.Register (Wh) and Power.Active.Import (W) from meterValue[] (multiplier and kWh/kW). */
static void read_meter(const cJSON *meter_values, double *wh, bool *has_wh, double *w, bool *has_w, int64_t *t)
{
    const cJSON *mv;
    cJSON_ArrayForEach(mv, meter_values) {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(mv, "timestamp");
        int64_t tms = 0;
        if (cJSON_IsString(ts)) ocpp_time_parse(ts->valuestring, &tms);
        const cJSON *sv;
        cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(mv, "sampledValue")) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(sv, "measurand");
            const cJSON *ph = cJSON_GetObjectItemCaseSensitive(sv, "phase");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(sv, "value");
            if (!cJSON_IsNumber(v) || ph) continue; /* per-phase values: the totals are enough */
            const char *meas = cJSON_IsString(m) ? m->valuestring : "Energy.Active.Import.Register";
            const cJSON *uom = cJSON_GetObjectItemCaseSensitive(sv, "unitOfMeasure");
            const cJSON *unit = cJSON_GetObjectItemCaseSensitive(uom, "unit");
            const cJSON *mul = cJSON_GetObjectItemCaseSensitive(uom, "multiplier");
            double x = v->valuedouble * (cJSON_IsNumber(mul) ? pow(10.0, mul->valueint) : 1.0);
            if (cJSON_IsString(unit) && (strcmp(unit->valuestring, "kWh") == 0 || strcmp(unit->valuestring, "kW") == 0))
                x *= 1000.0;
            if (strcmp(meas, "Energy.Active.Import.Register") == 0) {
                *wh = x;
                *has_wh = true;
                if (tms) *t = tms;
            } else if (strcmp(meas, "Power.Active.Import") == 0) {
                *w = x;
                *has_w = true;
                if (tms) *t = tms;
            }
        }
    }
}

/* A time the station stamped, on depotd's clock: less the station's offset once measured (stations.c). A reading
 * judged against the profile in force at the wrong moment teaches wrong things (an EV maximum learned at a slot
 * boundary the station has not reached yet). */
static int64_t station_ms(const struct control *ctl, const struct ctl_station *cs, int64_t t)
{
    if (!t) return 0;
    int64_t off, unc;
    depot_station_clock(ctl->d, cs->st, &off, &unc);
    return t - off;
}

static void apply_meter(const struct control *ctl, const struct ctl_station *cs, struct ctl_evse *e,
                        const cJSON *meter_values)
{
    double wh = 0, w = 0;
    bool has_wh = false, has_w = false;
    int64_t t = 0;
    read_meter(meter_values, &wh, &has_wh, &w, &has_w, &t);
    t = t ? station_ms(ctl, cs, t) : depot_now_ms();
    if (has_wh) {
        if (!e->has_register) {
            e->register_start_wh = wh;
            e->has_register = true;
        } else if (!has_w && t > e->register_ms && e->register_ms) {
            e->power_w = (wh - e->register_wh) / ((double)(t - e->register_ms) / 3600000.0);
            e->power_from_ms = e->register_ms;
            e->power_ms = t;
        }
        e->register_wh = wh;
        e->register_ms = t;
    }
    if (has_w) {
        e->power_w = w;
        e->power_from_ms = e->power_ms = t;
    }
}

void ctl_model_status(struct ctl_station *cs, const cJSON *p)
{
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(p, "evseId");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(p, "connectorStatus");
    struct ctl_evse *e = ctl_evse(cs, cJSON_IsNumber(evse) ? evse->valueint : 0);
    if (e && cJSON_IsString(status)) snprintf(e->status, sizeof e->status, "%s", status->valuestring);
}

/* Returns 1 when a session started or ended (the plan must change), 0 otherwise. */
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
    if (need.departure_ms - e->started_ms < DEPARTURES_MIN_STAY_MS) return;
    departures_add(&ctl->departures, e->started_ms, need.departure_ms, ended_ms);
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
    if (json) depot_log_station_event(ctl->d, "departure_kept", cs->st->id, json);
    cJSON_free(json);
    ctl_departures_log_hedge(ctl);
}

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
            learn_departure(ctl, cs, e, t ? t : depot_now_ms());
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
        e->started_ms = t ? t : depot_now_ms();
        e->has_register = false;
        e->power_w = 0;
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
    e->ev_energy_wh = 0;
    e->ev_max_w = e->ev_min_w = 0;
    if (ac) {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(ac, "energyAmount");
        const cJSON *maxc = cJSON_GetObjectItemCaseSensitive(ac, "evMaxCurrent");
        const cJSON *minc = cJSON_GetObjectItemCaseSensitive(ac, "evMinCurrent");
        const cJSON *volt = cJSON_GetObjectItemCaseSensitive(ac, "evMaxVoltage");
        double v = cJSON_IsNumber(volt) && volt->valuedouble > 0 ? volt->valuedouble : 230;
        if (v > 260) v /= sqrt(3.0); /* line-to-line given: per phase */
        int ph = e->phases ? e->phases : (cs->supply_phases ? cs->supply_phases : 3);
        if (cJSON_IsNumber(en)) e->ev_energy_wh = en->valuedouble;
        if (cJSON_IsNumber(maxc)) e->ev_max_w = maxc->valuedouble * v * ph;
        if (cJSON_IsNumber(minc)) e->ev_min_w = minc->valuedouble * v * ph;
    } else if (dc) {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(dc, "energyAmount");
        const cJSON *maxp = cJSON_GetObjectItemCaseSensitive(dc, "evMaxPower");
        if (cJSON_IsNumber(en)) e->ev_energy_wh = en->valuedouble;
        if (cJSON_IsNumber(maxp)) e->ev_max_w = maxp->valuedouble;
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
                e->max_w = atof(x);
            } else if (strcmp(v, "SupplyPhases") == 0) {
                e->phases = atoi(x);
                e->dc = strcmp(x, "0") == 0;
            }
        }
    }
}

/* ---- restart ----------------------------------------------------------------------------------------------- */

static void on_active(void *ctx, const struct store_active_tx *row)
{
    struct control *ctl = ctx;
    struct station *st = depot_station_find(ctl->d, row->station);
    if (!st) return;
    struct ctl_station *cs = ctl_station(ctl, st);
    struct ctl_evse *e = ctl_evse(cs, row->evse_id);
    if (!e) return;
    e->active = true;
    e->profile_unknown = true; /* a TxProfile of the run before may still be in force at the station */
    snprintf(e->tx_id, sizeof e->tx_id, "%s", row->tx_id);
    snprintf(e->id_token, sizeof e->id_token, "%s", row->id_token ? row->id_token : "");
    snprintf(e->vehicle, sizeof e->vehicle, "%s", ctl_vehicle_for_token(ctl, e->id_token));
    e->started_ms = row->started_ms;
    e->charging = row->charging_state && strcmp(row->charging_state, "Charging") == 0;
    if (row->has_energy) {
        e->has_register = true;
        e->register_start_wh = row->energy_first_wh;
        e->register_wh = row->energy_last_wh;
        e->register_ms = row->energy_last_ms;
    }
    if (row->needs_payload) {
        cJSON *p = cJSON_Parse(row->needs_payload);
        if (p) {
            ctl_model_needs(ctl, cs, p);
            /* The EV's energy counted from the register as it was when it told us. */
            e->ev_need_base_wh = row->needs_base_wh;
            e->ev_need_base_known = true;
            /* ev_needs keeps the EVSE's last needs, maybe of an earlier session: only a departure after this
             * session's start can be its own. */
            if (e->ev_departure_ms <= e->started_ms) e->ev_need = false;
            cJSON_Delete(p);
        }
    }
}

/* departure_kept events, newest first: kept to be learned from oldest first. */
struct kept_rows {
    int64_t started[DEPARTURES_KEEP], told[DEPARTURES_KEEP], ended[DEPARTURES_KEEP];
    int n;
};

static int on_departure_kept(void *ctx, const char *data)
{
    struct kept_rows *k = ctx;
    cJSON *o = cJSON_Parse(data);
    const char *keys[] = {"started", "told_departure", "ended"};
    int64_t ms[3];
    int ok = o != NULL;
    for (int i = 0; ok && i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        ok = cJSON_IsString(v) && ocpp_time_parse(v->valuestring, &ms[i]) == 0;
    }
    cJSON_Delete(o);
    if (ok) {
        k->started[k->n] = ms[0], k->told[k->n] = ms[1], k->ended[k->n] = ms[2];
        k->n++;
    }
    return k->n >= DEPARTURES_KEEP;
}

int ctl_restore(struct control *ctl, char *err, size_t err_len)
{
    struct kept_rows *kept = calloc(1, sizeof *kept);
    if (!kept || store_each_station_event(ctl->d->store, "departure_kept", NULL, DEPARTURES_KEEP, on_departure_kept, kept)) {
        free(kept);
        snprintf(err, err_len, "cannot read the departures kept from the store");
        return -1;
    }
    for (int i = kept->n - 1; i >= 0; i--) departures_add(&ctl->departures, kept->started[i], kept->told[i], kept->ended[i]);
    if (kept->n) log_info("control", NULL, "learned from %d sessions in the event log how departures are kept", kept->n);
    free(kept);
    ctl_departures_log_hedge(ctl);
    if (store_each_active_transaction(ctl->d->store, on_active, ctl)) {
        snprintf(err, err_len, "cannot read the active transactions from the store");
        return -1;
    }
    int n = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++) n += cs->evse[k].active;
    if (n) log_info("control", NULL, "restored %d active sessions from the event log", n);
    return 0;
}
