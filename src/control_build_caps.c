/*
 * control_build_caps.c - with ChargingStationMaxProfile, the stations and feeders as circuits of a plan's problem
 * (control_build.c builds the rest): each station bounded by its hardware or its fixed cap, the adjustable ones
 * together under what the others leave of the site, and under each feeder (control.circuits) its limit less the
 * floors and fixed caps beneath it. Loop thread.
 */
#include <math.h>
#include <stdio.h>

#include "control_internal.h"

/* A station as a circuit of the plan (ChargingStationMaxProfile): bounded by its hardware, and when depotd may
 * not change its cap (refused a change, an answer pending, disconnected) by that cap in each slot (its lowest
 * there; counted against the site at its highest, cap_old). */
void ctl_caps_station_circuit(struct control *ctl, struct ctl_station *cs, struct ctl_job *j, int circuit,
                              bool adjustable, int64_t now)
{
    struct ctl_plan *plan = j->plan;
    int T = plan->slots;
    struct sched counted;
    ctl_cap_counted(ctl, cs, &counted);
    double hw = ctl_station_hw_w(ctl, cs);
    for (int t = 0; t <= T; t++) {
        int64_t from = t == 0 ? now : plan->at[t];
        int64_t to = t == T ? INT64_MAX : plan->at[t + 1];
        j->cap_old[(size_t)circuit * (T + 1) + t] = sched_max_over(&counted, from, to);
        if (t < T) j->cap_lim[(size_t)circuit * T + t] = (adjustable ? hw : sched_min_over(&counted, from, to)) / 1000.0;
    }
    /* Under its feeder (circuit 1 + k) when control.circuits has one: a station whose cap is fixed stays outside the
     * tree (its cap is counted off its feeder's limit, as off the site's). */
    int feeder = j->cap_feeder ? ctl_circuit_of(&ctl->cfg, cs->st->id, 0) : -1;
    if (j->cap_feeder) j->cap_feeder[circuit] = feeder;
    j->circuits[circuit] = (struct opt_circuit){.id = cs->st->id, .parent = adjustable ? (feeder >= 0 ? 1 + feeder : 0) : -1,
                                                .limit_kw = hw / 1000.0, .limit_kw_slot = &j->cap_lim[(size_t)circuit * T]};
    double idle_w = 0;
    for (int k = 1; k <= cs->max_evse; k++)
        if (cs->evse[k].present && !cs->evse[k].active) idle_w += ctl_evse_max_w(ctl, cs, &cs->evse[k]);
    j->caps[circuit] = (struct sched_cap){.adjustable = adjustable, .max_w = hw, .idle_w = idle_w};
    snprintf(plan->caps[circuit].station, sizeof plan->caps[circuit].station, "%s", cs->st->id);
    plan->caps[circuit].adjustable = adjustable;
    plan->caps[circuit].cap_w = j->cap_old[(size_t)circuit * (T + 1)];
    for (int t = 0; t <= T; t++) plan->caps[circuit].cap_slot_w[t] = j->cap_old[(size_t)circuit * (T + 1) + t];
}

/* With station maxima, circuit 0 holds every station whose cap depotd may change: together they get what the
 * others' caps (counted at their highest in each slot) leave, less their own floors, so a plan's caps fit under
 * the limit in every slot. Its row in caps is a placeholder that counts nothing. */
void ctl_caps_adjustable_circuit(struct control *ctl, struct ctl_job *j, int T, int nc)
{
    (void)ctl;
    for (int t = 0; t < T; t++) {
        double w = j->caps_limit_w[t] - j->caps_other_w;
        for (int c = 1; c < nc; c++)
            w -= j->caps[c].adjustable ? j->caps[c].floor_w : j->cap_old[(size_t)c * (T + 1) + t];
        j->cap_lim[t] = fmax(0, w) / 1000.0;
    }
}

/* Whether circuit `k` is `c` or above it. */
static bool feeder_above(const struct ctl_config *cfg, int c, int k)
{
    for (; c >= 0; c = cfg->circuits[c].parent)
        if (c == k) return true;
    return false;
}

/* With station maxima, each feeder k (LP circuit 1 + k) holds its adjustable stations' sessions under its limit less
 * their floors and the caps of the fixed stations under it, slot by slot; feeder_w keeps its whole limit for the
 * caps' share (ctl_caps_fit_feeders), after the horizon the limit at its end. */
void ctl_caps_feeder_limits(struct control *ctl, struct ctl_job *j, int T, int nc)
{
    const struct ctl_config *cfg = &ctl->cfg;
    for (int k = 0; j->cap_feeder && k < cfg->n_circuits; k++) {
        /* Listed stations not seen yet will come at their fail-safe cap: it is theirs. */
        double unseen = ctl_caps_feeder_unseen_w(ctl, k);
        for (int t = 0; t <= T; t++) {
            double w = ctl_circuit_limit_kw(ctl, k, j->plan->at[t]) * 1000.0 - unseen, lp = w;
            j->feeder_w[(size_t)k * (T + 1) + t] = w;
            for (int c = 1 + cfg->n_circuits; c < nc; c++)
                if (feeder_above(cfg, j->cap_feeder[c], k))
                    lp -= j->caps[c].adjustable ? j->caps[c].floor_w : j->cap_old[(size_t)c * (T + 1) + t];
            if (t < T) j->cap_lim[(size_t)(1 + k) * T + t] = fmax(0, lp) / 1000.0;
        }
    }
}

