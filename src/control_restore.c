/*
 * control_restore.c - after a restart, the control model from the event log: the transactions still open (with
 * their energy, needs and vehicles), the told departures kept, the last plan's number, the stations' external
 * limits. Loop thread, at start-up.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

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

/* A wall-clock time of the log on the planning clock. */
static int64_t planning_ms(const struct control *ctl, int64_t wall_ms)
{
    return ctl_now(ctl) - (int64_t)((double)(depot_wall_ms() - wall_ms) * depot_clock_speed());
}

/* A limit from outside depotd a station reported and did not clear: planned with again, one without a
 * startSchedule from when it came (the log's wall clock on the planning clock), not from the restart. */
static void on_charging_limit(void *ctx, const char *station, const char *payload, int64_t received_ms)
{
    struct control *ctl = ctx;
    struct station *st = depot_station_find(ctl->d, station);
    cJSON *p = cJSON_Parse(payload);
    if (st && p) ctl_restore_charging_limit(ctl, st, p, planning_ms(ctl, received_ms));
    cJSON_Delete(p);
}

/* A limit from outside depotd in a station's last profile report (ChargingStationExternalConstraints of a source
 * other than the CSO, or an operator's maximum): planned with again, as the report said. */
static void on_reported_profile(void *ctx, const char *station, const char *source, int evse_id, const char *profile,
                                int64_t received_ms)
{
    struct control *ctl = ctx;
    struct station *st = depot_station_find(ctl->d, station);
    cJSON *cp = cJSON_Parse(profile);
    if (st && cp) {
        cJSON *report = cJSON_CreateObject();
        cJSON_AddStringToObject(report, "chargingLimitSource", source);
        cJSON_AddNumberToObject(report, "evseId", evse_id);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(report, "chargingProfile"), cp);
        cp = NULL;
        ctl_restore_reported_profiles(ctl, st, report, planning_ms(ctl, received_ms));
        cJSON_Delete(report);
    }
    cJSON_Delete(cp);
}

/* A temporary limit set through the API (site_limit, circuit_limit events): kw, until and by if it still holds. */
static bool limit_holds(struct control *ctl, const cJSON *o, double *kw, int64_t *until, const char **by)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kw");
    const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "until"));
    *by = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "by"));
    if (!*by) *by = "";
    if (!cJSON_IsNumber(k) || k->valuedouble < 0 || !u || ocpp_time_parse(u, until)) return false;
    *kw = k->valuedouble;
    return *until > ctl_now(ctl);
}

/* circuit_limit events, newest first: each circuit's newest counts. */
static int on_circuit_limit(void *ctx, const char *data)
{
    struct control *ctl = ctx;
    cJSON *o = cJSON_Parse(data);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "circuit"));
    int c = id ? ctl_circuit_find(&ctl->cfg, id) : -1;
    double kw;
    int64_t until;
    const char *by;
    if (c >= 0 && !ctl->circuit_limit[c].seen) {
        struct ctl_circuit_limit *l = &ctl->circuit_limit[c];
        l->seen = true;
        if (limit_holds(ctl, o, &kw, &until, &by)) {
            l->kw = fmin(kw, ctl->cfg.circuits[c].limit_kw), l->until_ms = until;
            snprintf(l->by, sizeof l->by, "%s", by);
        }
    }
    cJSON_Delete(o);
    return 0;
}

/* The site's and the circuits' temporary limits that still hold after a restart (they were lost before: a
 * curtailment the grid operator asked for ended with the process). */
static int restore_limits(struct control *ctl)
{
    char *site = store_last_event_data(ctl->d->store, "site_limit");
    cJSON *o = site ? cJSON_Parse(site) : NULL;
    double kw;
    int64_t until;
    const char *by;
    if (o && limit_holds(ctl, o, &kw, &until, &by)) {
        ctl->override_kw = fmin(kw, ctl->cfg.site_limit_kw), ctl->override_until_ms = until;
        snprintf(ctl->override_by, sizeof ctl->override_by, "%s", by);
        log_info("control", NULL, "temporary site limit of %.1f kW (set by %s) restored, until %s", ctl->override_kw, by,
                 ocpp_time_format(until, (char[40]){0}));
    }
    cJSON_Delete(o);
    free(site);
    return ctl->cfg.n_circuits ? store_each_station_event(ctl->d->store, "circuit_limit", NULL, 10000,
                                                          on_circuit_limit, ctl) : 0;
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
    /* Plan numbers go on from the last run's: the log, the API and --replay-plan name plans by them (they
     * started at 1 again after every restart, and "plan 12" meant as many plans as restarts). */
    char *last_plan = store_last_event_data(ctl->d->store, "plan");
    cJSON *lp = last_plan ? cJSON_Parse(last_plan) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(lp, "plan");
    if (cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble < 9e15) ctl->next_plan_id = (uint64_t)id->valuedouble;
    cJSON_Delete(lp);
    free(last_plan);
    char *peak = store_last_event_data(ctl->d->store, "demand_peak");
    ctl_demand_restore(ctl, peak);
    free(peak);
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
    if (restore_limits(ctl)) {
        snprintf(err, err_len, "cannot read the temporary limits from the store");
        return -1;
    }
    if (store_each_charging_limit(ctl->d->store, on_charging_limit, ctl) ||
        store_each_reported_profile(ctl->d->store, on_reported_profile, ctl)) {
        snprintf(err, err_len, "cannot read the stations' charging limits from the store");
        return -1;
    }
    int n = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++) n += cs->evse[k].active;
    if (n) log_info("control", NULL, "restored %d active sessions from the event log", n);
    return 0;
}
