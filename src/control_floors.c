/*
 * control_floors.c - before each plan, which idle EVSEs keep a fail-safe floor (floors.h has the rule, README
 * "The guarantee" the policy): the planner reserves the floors granted, the station caps carry them
 * (ChargingStationMaxProfile), or each station's TxDefaultProfile is its floor or 0 (TxDefaultProfile: one value
 * per station, so whole stations). Loop thread only.
 */
#include <math.h>
#include <stdlib.h>

#include "control_internal.h"
#include "floors.h"

/* What the sessions of a station could take at most, and what nobody can move (the planner's reservations, in
 * short: the budget only decides how many floors are kept, never whether the limit holds). */
static void station_load(const struct control *ctl, const struct ctl_station *cs, double *committed, double *demand)
{
    bool station_max = ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX;
    if (station_max && !ctl_connected(ctl, cs) && !cs->failsafe_rejected) {
        *committed += ctl_cap_counted_w(ctl, cs);
        return;
    }
    for (int k = 1; k <= cs->max_evse; k++) ctl_evse_load(ctl, cs, &cs->evse[k], committed, demand);
}

void ctl_evse_load(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e, double *committed,
                   double *demand)
{
    if (!e->present) return;
    if (cs->failsafe_rejected || (e->active && e->mode == CTL_MODE_NONCOMPLIANT))
        *committed += ctl_evse_max_w(ctl, cs, e);
    else if (e->active && (!ctl_connected(ctl, cs) || e->mode == CTL_MODE_UNCONTROLLED))
        *committed += ctl_evse_held_w(ctl, cs, e);
    else if (e->active)
        *demand += ctl_evse_max_w(ctl, cs, e);
}

static bool asks_floor(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    if (!e->present || e->active || cs->failsafe_rejected) return false;
    return ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT || ctl_cap_adjustable(ctl, cs);
}

/* TxDefaultProfile, once every floor is kept: what is left of the limit beside everything the sessions could take
 * at most and the floors (spare_w) goes to the idle EVSEs of the stations that keep floors, shared equally per
 * EVSE and up to what each can draw: a car that plugs in draws that share until its first TxProfile, not a bare floor (issue 14, point 4). The
 * sessions lose nothing by it: each already counts at its maximum. Connected stations only (the others cannot be
 * told); whole watts the station's unit can say, rounded down. Returns the watts handed out. */
static double share_spare(struct control *ctl, double spare_w, double *circuit_spare_w)
{
    int idle = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (cs->txdefault_w <= 0 || !ctl_connected(ctl, cs)) continue;
        for (int k = 1; k <= cs->max_evse; k++) idle += asks_floor(ctl, cs, &cs->evse[k]);
    }
    if (spare_w <= 0 || idle == 0) return 0;
    double share = spare_w / idle, given = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (cs->txdefault_w <= 0 || !ctl_connected(ctl, cs)) continue;
        double max_w = INFINITY;
        int n = 0;
        for (int k = 1; k <= cs->max_evse; k++)
            if (asks_floor(ctl, cs, &cs->evse[k])) max_w = fmin(max_w, ctl_evse_max_w(ctl, cs, &cs->evse[k])), n++;
        if (n == 0) continue;
        struct sched_unit u;
        ctl_unit(ctl, cs, NULL, &u);
        u.min_w = 0;
        double w = fmin(max_w, cs->txdefault_w + share);
        /* control.circuits: no more than each circuit above its idle EVSEs has left (one value for all of them). */
        for (int k = 1; k <= cs->max_evse; k++)
            if (asks_floor(ctl, cs, &cs->evse[k]))
                w = fmin(w, cs->txdefault_w + ctl_circuits_take_spare(ctl, cs, &cs->evse[k], w - cs->txdefault_w,
                                                                       circuit_spare_w) );
        w = sched_quantize(&u, w);
        if (w > cs->txdefault_w) given += (w - cs->txdefault_w) * n, cs->txdefault_w = w;
    }
    return given;
}

void ctl_plan_floors(struct control *ctl, int64_t now, cJSON *rec)
{
    bool tx_default = ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT;
    int n = 0, station = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++) n += asks_floor(ctl, cs, &cs->evse[k]);
    struct floor_ask *a = calloc((size_t)n + 1, sizeof *a);
    struct ctl_station **ask_cs = calloc((size_t)n + 1, sizeof *ask_cs);
    const struct ctl_evse **ask_e = calloc((size_t)n + 1, sizeof *ask_e);
    if (!ask_cs || !ask_e) {
        free(a);
        a = NULL; /* no floors: safer than floors that may not fit */
    }
    double committed = tx_default ? 0 : ctl_caps_unseen_w(ctl), demand = 0, floors = 0;
    int i = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next, station++) {
        station_load(ctl, cs, &committed, &demand);
        for (int k = 1; k <= cs->max_evse; k++) {
            struct ctl_evse *e = &cs->evse[k];
            bool ask = asks_floor(ctl, cs, e);
            if (!ask) e->floor = false;
            if (!ask || !a) continue;
            a[i] = (struct floor_ask){.station = station, .w = ctl_idle_floor_w(ctl, cs, e),
                                      .had = tx_default ? cs->txdefault_w > 0 : e->floor};
            ask_cs[i] = cs, ask_e[i] = e;
            floors += a[i++].w;
        }
    }
    /* Floors are what the site draws while depotd is down: under the limit at the building's highest load. */
    double limit_w = ctl_failsafe_limit_kw(ctl, now) * 1000.0;
    double budget = floors_budget(limit_w, committed, demand, floors, ctl->cfg.idle_reserve_pct);
    double kept_w = a ? floors_grant(a, i, budget, tx_default) : 0;
    double circuit_spare[CTL_CIRCUITS_MAX] = {0};
    if (a && ctl->cfg.n_circuits) {
        ctl_circuits_fit_floors(ctl, a, i, ask_cs, ask_e, circuit_spare);
        kept_w = 0;
        for (int x = 0; x < i; x++) kept_w += a[x].granted ? a[x].w : 0;
    }
    int kept = 0;
    i = 0;
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        double station_w = 0;
        for (int k = 1; k <= cs->max_evse; k++) {
            struct ctl_evse *e = &cs->evse[k];
            if (!asks_floor(ctl, cs, e) || !a) continue;
            e->floor = a[i].granted;
            kept += e->floor;
            if (e->floor && a[i].w > station_w) station_w = a[i].w;
            i++;
        }
        /* A station without an idle EVSE keeps what it has: its next idle EVSE asks at the next plan. */
        if (tx_default && station_w == 0 && !cs->failsafe_rejected) {
            bool idle = false;
            for (int k = 1; k <= cs->max_evse; k++) idle |= cs->evse[k].present && !cs->evse[k].active;
            if (idle) cs->txdefault_w = 0;
        } else if (tx_default) {
            cs->txdefault_w = station_w;
        }
    }
    free(a);
    free(ask_cs);
    free(ask_e);
    /* Only once every floor is kept: a floor for every idle EVSE comes before a larger share for some. */
    double spare_given = tx_default && kept_w + 0.5 >= floors ? share_spare(ctl, limit_w - committed - demand - kept_w, circuit_spare) : 0;
    cJSON *o = cJSON_AddObjectToObject(rec, "floors");
    cJSON_AddNumberToObject(o, "idle_evses", n);
    cJSON_AddNumberToObject(o, "kept", kept);
    cJSON_AddNumberToObject(o, "asked_kw", round(floors) / 1000.0);
    cJSON_AddNumberToObject(o, "budget_kw", round(budget) / 1000.0);
    cJSON_AddNumberToObject(o, "kept_kw", round(kept_w) / 1000.0);
    if (tx_default) cJSON_AddNumberToObject(o, "spare_kw", round(spare_given) / 1000.0);
}
