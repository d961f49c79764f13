/* charge.c - what the plugged EVs of a station draw over a step of simulated time, under the limits in force. */
#include "sim.h"

/* What each EVSE draws at station time `own`: min(its EV, its composite limit), the station's cap shared in
 * proportion. 0 for an EV that has left (sim time `at` past its departure). */
static void draw_at(struct sim_station *st, int64_t own, int64_t at, double *draw)
{
    int n = st->cfg->spec.evse_count;
    double total = 0;
    for (int e = 1; e <= n; e++) {
        struct sim_evse *ev = &st->evse[e];
        draw[e] = 0;
        if (ev->visit < 0 || !ev->charging || sim_visit_at(st->w, ev->visit)->departure_ms <= at)
            continue;
        int ph = ev->ev.spec.phases; /* a 1-phase EV gets a current limit on one phase only */
        double lim = st->fault_ignore_profiles ? sim_evse_max_w_for(&st->cfg->spec, ph)
                                               : sim_profiles_limit_w_on(st->profiles, e, own, st->tx, ph);
        double ev_w = sim_ev_limit_w(&ev->ev);
        draw[e] = ev_w < lim ? ev_w : lim;
        total += draw[e];
    }
    double cap = st->fault_ignore_profiles ? st->cfg->spec.station_max_w
                                           : sim_profiles_limit_w(st->profiles, 0, own, st->tx);
    double scale = total > cap && total > 0 ? cap / total : 1.0;
    for (int e = 1; e <= n; e++)
        draw[e] *= scale;
}

/* Charges [charged_until, t) piece by piece, cut wherever a limit in force changes (a profile's period, validity) or
 * an EV leaves. Charged at the limit of the step's last instant, a step of a minute (at 3000x) lost the whole minute
 * before a departure whose profile ended with it, which the exact baseline did not. And charged up to the moment a
 * profile arrives before it applies: a new profile never reaches back before its arrival (a plan's raises, backdated
 * for skewed clocks, counted over the minute before them next to other stations' old caps: 40.97 kW of 40). */
void sim_station_charge(struct sim_station *st, int64_t t_sim)
{
    enum { CUTS = 256 };
    int64_t cut[CUTS + SIM_EVSE_MAX + 2];
    if (t_sim > st->w->opt.run_until_sim)
        t_sim = st->w->opt.run_until_sim;
    int64_t from = st->charged_until;
    if (from <= 0 || t_sim <= from) {
        if (t_sim > st->charged_until)
            st->charged_until = t_sim;
        return;
    }
    st->charged_until = t_sim;
    int n = st->fault_ignore_profiles ? 0
                                      : sim_profiles_changes(st->profiles, from + st->skew_ms, t_sim + st->skew_ms,
                                                             st->tx, cut, CUTS);
    for (int k = 0; k < n; k++)
        cut[k] -= st->skew_ms;
    for (int e = 1; e <= st->cfg->spec.evse_count; e++) {
        int vi = st->evse[e].visit;
        int64_t dep = vi >= 0 ? sim_visit_at(st->w, vi)->departure_ms : 0;
        if (vi >= 0 && dep > from && dep < t_sim)
            cut[n++] = dep;
    }
    cut[n++] = t_sim;
    /* Sorted (a few departures after sorted profile changes: insertion). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
            int64_t x = cut[j];
            cut[j] = cut[j - 1], cut[j - 1] = x;
        }
    double draw[SIM_EVSE_MAX + 1];
    int64_t a = from;
    for (int k = 0; k < n; k++) {
        int64_t b = cut[k];
        if (b <= a)
            continue;
        draw_at(st, a + st->skew_ms, a, draw);
        for (int e = 1; e <= st->cfg->spec.evse_count; e++) {
            struct sim_evse *ev = &st->evse[e];
            if (ev->visit < 0 || !ev->charging)
                continue;
            double wh = sim_ev_charge(&ev->ev, draw[e], (double)(b - a) / 1000.0), phase_wh[3];
            ev->register_wh += wh;
            sim_phase_split(wh, &st->cfg->spec, ev->ev.spec.phases, st->cfg->rotation, phase_wh);
            sim_report_energy_phases(st->w->report, st->cfg->circuit, a, b - a, phase_wh);
        }
        a = b;
    }
    /* The power a meter reads is the last piece's (sim_ev_charge keeps it): what is drawn now. */
}

