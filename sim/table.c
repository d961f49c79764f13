/*
 * --table: the live view of a run for demos and for watching a controller work, one row per N simulated
 * minutes on the N-minute grid of the clock (18:00, 18:15, ...). Power, price and cost are of the interval that
 * just ended; stations, plugged, charging and late are the state now.
 * Thread: the event loop's.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define HEADER_EVERY 48  /* rows; the header comes back so a long run stays readable in a scrolled terminal */

static void header(FILE *o)
{
    fprintf(o, "%-16s %8s %7s %8s %8s %8s %8s %5s %9s\n", "sim time (UTC)", "stations", "plugged", "charging",
            "site kW", "limit kW", "EUR/kWh", "late", "cost EUR");
}

static void row(struct sim_world *w, int64_t at, int64_t t)
{
    FILE *o = w->opt.table_out ? w->opt.table_out : stdout;
    int64_t span = (int64_t)w->opt.table_minutes * 60000;
    int booted = 0, plugged = 0, charging = 0, late = 0;
    for (int i = 0; i < w->nstations; i++) {
        const struct sim_station *st = &w->stations[i];
        booted += st->booted;
        for (int e = 1; e <= st->cfg->spec.evse_count; e++) {
            const struct sim_evse *ev = &st->evse[e];
            if (ev->visit < 0)
                continue;
            plugged++;
            charging += ev->charging && ev->ev.power_w >= 1.0;
            double hw = sim_evse_max_w_for(&st->cfg->spec, ev->ev.spec.phases);
            double max_w = ev->ev.spec.max_power_w < hw ? ev->ev.spec.max_power_w : hw;
            int64_t left = sim_visit_at(w, ev->visit)->departure_ms - t;
            late += sim_ev_shortfall_wh(&ev->ev, max_w, (double)left / 1000.0) > 0;
        }
    }
    char tb[32], stations[24], price[16] = "-", cost[24] = "-", limit[16] = "-";
    sim_time_format(at, tb);
    tb[10] = ' ';
    tb[16] = '\0';
    snprintf(stations, sizeof stations, "%d/%d", booted, w->nstations);
    if (w->prices && w->prices->n) {
        double p = sim_prices_at(w->prices, at - span);
        if (!isnan(p))
            snprintf(price, sizeof price, "%.4f", p);
        snprintf(cost, sizeof cost, "%.2f", sim_report_cost_until(w->report, w->prices, at));
    }
    if (w->opt.grid_limit_w > 0)
        snprintf(limit, sizeof limit, "%.1f", w->opt.grid_limit_w / 1000.0);
    if (w->table_rows++ % HEADER_EVERY == 0)
        header(o);
    fprintf(o, "%-16s %8s %7d %8d %8.1f %8s %8s %5d %9s\n", tb, stations, plugged, charging,
            sim_report_average_kw(w->report, at - span, at), limit, price, late, cost);
    fflush(o);
}

void sim_table_tick(struct sim_world *w, int64_t t)
{
    int64_t span = (int64_t)w->opt.table_minutes * 60000;
    if (span <= 0)
        return;
    if (!w->table_next_sim) {
        int64_t s = w->scenario->start_ms;
        w->table_next_sim = (s >= 0 ? s / span + 1 : s / span) * span;
    }
    /* A tick longer than a row (high speed, short rows) prints every row it passed, each with its own
     * interval's power; bounded by the run's length. */
    while (w->table_next_sim <= t && w->table_next_sim <= w->scenario->end_ms) {
        row(w, w->table_next_sim, t);
        w->table_next_sim += span;
    }
}
