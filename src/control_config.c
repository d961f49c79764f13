/*
 * control_config.c - the `control` section of the config: its keys with their defaults, bounds and meaning (also
 * `depotd --config-doc`), the vehicle registry and the dispatcher's needs it lists. Main thread, at start.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"

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
    printf("| `control.demand` | object | `null` | | The bill's demand charge: `{\"price_per_kw\", \"billing_day\": 1..28 "
           "(default 1), \"interval_min\": divides 60 (default 15)}`: a price per kW of the billing period's peak (the "
           "highest mean of the chargers' measured power over an interval; periods start at local midnight of "
           "billing_day, `timezone`). The plan pays for a kW above the peak so far only where cheaper energy is worth "
           "it. The peak is kept in the event log (demand_peak events); the API and the page show it. |\n");
    printf("| `control.circuits` | array | `[]` | | The feeder tree: `{\"id\", \"parent\", \"limit_kw\" or \"limit_a\", "
           "\"per_phase\", \"stations\": [\"CS001\", \"CS002/2\"]}`: each circuit's breaker limit, in kW in total (or per "
           "phase with per_phase) or in A per phase (limit_a, with nominal_voltage_v), under its parent (none: the "
           "site); a station or one EVSE (STATION/EVSE) on one circuit. The plan keeps every circuit and phase under "
           "its limit in every slot, and the fail-safe keeps each circuit (with ChargingStationMaxProfile: circuits "
           "in kW of whole stations only). README \"Feeders and phases\". |\n");
    printf("| `control.phase_rotation` | object | `{}` | | `{\"CS002\": \"L2L3L1\", \"CS003/2\": \"L3L1L2\"}`: the grid phases "
           "a station's (or an EVSE's) L1, L2, L3 are wired to; a 1-phase station's car loads its L1's grid phase. "
           "Default L1L2L3. |\n");
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
    cfg->clock_skew_tolerance_ms = (int64_t)c->clock_skew_tolerance_s * 1000;
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
        if (strcmp(name, "needs") == 0 || strcmp(name, "circuits") == 0 || strcmp(name, "phase_rotation") == 0)
            continue; /* below: the needs after the vehicles, the circuits after nominal_voltage_v */
        if (strcmp(name, "demand") == 0) {
            if (ctl_demand_parse(cfg, it, err, err_len)) return -1;
            continue;
        }
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
    if (ctl_circuits_parse(cfg, cJSON_GetObjectItemCaseSensitive(o, "circuits"),
                           cJSON_GetObjectItemCaseSensitive(o, "phase_rotation"), err, err_len))
        return -1;
    /* A station maximum caps a whole station over all its phases: under a feeder it must be the whole station, and
     * a per-phase board cannot be kept by a cap in W (a single-phase car takes it all on one phase). */
    for (int i = 0; cfg->failsafe == CTL_FAILSAFE_STATION_MAX && i < cfg->n_attach; i++)
        if (cfg->attach[i].evse) {
            snprintf(err, err_len, "control.circuits: %s/%d: with \"failsafe\": \"ChargingStationMaxProfile\" a circuit "
                     "lists whole stations (a station maximum caps all its EVSEs); use TxDefaultProfile for EVSEs on "
                     "different circuits", cfg->attach[i].station, cfg->attach[i].evse);
            return -1;
        }
    for (int k = 0; cfg->failsafe == CTL_FAILSAFE_STATION_MAX && k < cfg->n_circuits; k++)
        if (cfg->circuits[k].per_phase) {
            snprintf(err, err_len, "control.circuits: %s: a per-phase limit needs \"failsafe\": \"TxDefaultProfile\" "
                     "(a station maximum in W does not bound one phase)", cfg->circuits[k].id);
            return -1;
        }
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
    ctl_circuits_free(cfg);
    memset(cfg, 0, sizeof *cfg);
}
