/* Uncontrolled charging: the yardstick for a controlled run (baseline.h). */
#include "baseline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_MS_DEFAULT 60000
#define EVSES_MAX (SIM_STATIONS_MAX * SIM_EVSE_MAX)

void sim_share_fair(const double *want, int n, double limit, double *out)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += want[i];
    if (limit < 0 || sum <= limit) {
        for (int i = 0; i < n; i++)
            out[i] = want[i];
        return;
    }
    /* Water filling: whoever wants no more than an equal share of what is left gets it; repeat with the
     * others until nobody is below the share, then they all get it. At most n rounds; out[i] < 0 marks
     * "not settled yet". */
    for (int i = 0; i < n; i++)
        out[i] = -1;
    double left = limit;
    int open = n;
    while (open > 0) {
        double share = left / open;
        bool settled = false;
        for (int i = 0; i < n; i++)
            if (out[i] < 0 && want[i] <= share) {
                out[i] = want[i];
                left -= want[i];
                open--;
                settled = true;
            }
        if (!settled) {
            for (int i = 0; i < n; i++)
                if (out[i] < 0)
                    out[i] = share;
            break;
        }
    }
}

/* One EVSE of the depot, flattened in the order `depotsim run` tries them. */
struct slot {
    int station;
    int evse;
    int visit;          /* -1: free */
    struct sim_ev ev;
    double want_w, got_w;
};

struct state {
    const struct sim_depot *depot;
    const struct sim_scenario *sc;
    struct sim_report *report;
    struct slot *slots;
    int nslots;
    int *first_slot;    /* per station: index of its EVSE 1 in slots */
    double *buf_want, *buf_got;
};

/* What the EVSE's hardware gives the EV plugged in it (one phase's share for a 1-phase EV on a 3-phase EVSE). */
static double evse_max_w(const struct state *s, const struct slot *sl)
{
    return sim_evse_max_w_for(&s->depot->stations[sl->station].spec, sl->ev.spec.phases);
}

static void record(struct state *s, const struct sim_visit *v, const struct slot *sl)
{
    struct sim_vehicle_result *r = sim_report_vehicle(s->report);
    if (!r)
        return; /* the report is full (its own bound); the site energy still counts */
    snprintf(r->ev, sizeof r->ev, "%s", v->ev.id);
    r->arrival_ms = v->arrival_ms;
    r->departure_ms = v->departure_ms;
    r->requested_wh = v->requested_wh;
    r->max_power_w = v->ev.max_power_w;
    if (sl) {
        snprintf(r->station, sizeof r->station, "%s", s->depot->stations[sl->station].id);
        r->evse = sl->evse;
        r->delivered_wh = sl->ev.grid_wh;
        r->plugged = true;
        if (evse_max_w(s, sl) < r->max_power_w)
            r->max_power_w = evse_max_w(s, sl);
    }
}

static int find_station(const struct sim_depot *d, const char *id)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->stations[i].id, id) == 0)
            return i;
    return -1;
}

/* The plugging rule of net.c's arrive(): the visit's station (and EVSE) if it names one, else the first free
 * EVSE in depot order. No free EVSE: the vehicle leaves with nothing. */
static void arrive(struct state *s, int vi)
{
    const struct sim_visit *v = &s->sc->visits[vi];
    int from = 0, to = s->nslots;
    if (v->station[0]) {
        int st = find_station(s->depot, v->station);
        from = st < 0 ? 0 : s->first_slot[st];
        to = st < 0 ? 0 : from + s->depot->stations[st].spec.evse_count;
    }
    for (int i = from; i < to; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->visit >= 0 || (v->evse && v->evse != sl->evse))
            continue;
        sl->visit = vi;
        sim_ev_init(&sl->ev, &v->ev, v->arrival_soc, v->target_soc);
        return;
    }
    record(s, v, NULL);
}

static void depart(struct state *s, struct slot *sl)
{
    record(s, &s->sc->visits[sl->visit], sl);
    sl->visit = -1;
}

/* Power for [t, t + dt): EV and EVSE limits, then each station's connection shared among its EVSEs, then the
 * site's limit shared among all. */
static void share_power(struct state *s, double site_limit_w)
{
    for (int i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        double w = 0;
        if (sl->visit >= 0) {
            w = sim_ev_limit_w(&sl->ev);
            if (w > evse_max_w(s, sl))
                w = evse_max_w(s, sl);
        }
        sl->want_w = w;
    }
    for (int st = 0; st < s->depot->n; st++) {
        int a = s->first_slot[st], n = s->depot->stations[st].spec.evse_count;
        for (int k = 0; k < n; k++)
            s->buf_want[k] = s->slots[a + k].want_w;
        sim_share_fair(s->buf_want, n, s->depot->stations[st].spec.station_max_w, s->buf_got);
        for (int k = 0; k < n; k++)
            s->slots[a + k].want_w = s->buf_got[k];
    }
    for (int i = 0; i < s->nslots; i++)
        s->buf_want[i] = s->slots[i].want_w;
    sim_share_fair(s->buf_want, s->nslots, site_limit_w > 0 ? site_limit_w : -1, s->buf_got);
    for (int i = 0; i < s->nslots; i++)
        s->slots[i].got_w = s->buf_got[i];
}

static void state_free(struct state *s)
{
    free(s->slots);
    free(s->first_slot);
    free(s->buf_want);
    free(s->buf_got);
}

struct sim_report *sim_baseline_run(const struct sim_depot *depot, const struct sim_scenario *sc,
                                    const struct sim_baseline_options *opt, char *err, size_t len)
{
    int64_t step = opt->step_ms ? opt->step_ms : STEP_MS_DEFAULT;
    if (step < 1000 || step > 900000) {
        snprintf(err, len, "baseline: step must be 1 s .. 15 min");
        return NULL;
    }
    struct state s = {.depot = depot, .sc = sc};
    for (int i = 0; i < depot->n; i++)
        s.nslots += depot->stations[i].spec.evse_count;
    if (s.nslots < 1 || s.nslots > EVSES_MAX) {
        snprintf(err, len, "baseline: the depot has no EVSEs");
        return NULL;
    }
    s.slots = calloc((size_t)s.nslots, sizeof *s.slots);
    s.first_slot = calloc((size_t)depot->n, sizeof *s.first_slot);
    s.buf_want = calloc((size_t)s.nslots, sizeof *s.buf_want);
    s.buf_got = calloc((size_t)s.nslots, sizeof *s.buf_got);
    s.report = sim_report_new(sc->start_ms, sc->end_ms, opt->grid_limit_w);
    if (s.report) sim_report_set_site_load(s.report, opt->site_load);
    if (!s.slots || !s.first_slot || !s.buf_want || !s.buf_got || !s.report ||
        sim_report_set_circuits(s.report, depot->circuits, depot->ncircuits)) {
        snprintf(err, len, "baseline: scenario too long or out of memory");
        sim_report_free(s.report);
        state_free(&s);
        return NULL;
    }
    for (int st = 0, k = 0; st < depot->n; st++) {
        s.first_slot[st] = k;
        for (int e = 1; e <= depot->stations[st].spec.evse_count; e++, k++)
            s.slots[k] = (struct slot){.station = st, .evse = e, .visit = -1};
    }
    int next = 0;
    int64_t t = sc->start_ms;
    for (;;) {
        /* Departures before arrivals: a van leaving frees its EVSE for one arriving at the same moment. */
        for (int i = 0; i < s.nslots; i++)
            if (s.slots[i].visit >= 0 && sc->visits[s.slots[i].visit].departure_ms <= t)
                depart(&s, &s.slots[i]);
        while (next < sc->n && sc->visits[next].arrival_ms <= t)
            arrive(&s, next++);
        /* A visit that came and went before the scenario's start leaves at once, with nothing. */
        for (int i = 0; i < s.nslots; i++)
            if (s.slots[i].visit >= 0 && sc->visits[s.slots[i].visit].departure_ms <= t)
                depart(&s, &s.slots[i]);
        if (t >= sc->end_ms)
            break;
        int64_t t1 = t + step < sc->end_ms ? t + step : sc->end_ms;
        if (next < sc->n && sc->visits[next].arrival_ms < t1)
            t1 = sc->visits[next].arrival_ms;
        for (int i = 0; i < s.nslots; i++)
            if (s.slots[i].visit >= 0 && sc->visits[s.slots[i].visit].departure_ms < t1)
                t1 = sc->visits[s.slots[i].visit].departure_ms;
        /* The building first: what it draws in the step (at its start and end) is not the EVs'. */
        double limit = opt->grid_limit_w;
        if (limit > 0 && opt->site_load)
            limit = fmax(1, limit - 1000 * fmax(sim_report_site_load_kw(s.report, t),
                                                sim_report_site_load_kw(s.report, t1 - 1)));
        share_power(&s, limit);
        for (int i = 0; i < s.nslots; i++) {
            struct slot *sl = &s.slots[i];
            if (sl->visit < 0 || sl->got_w <= 0)
                continue;
            const struct sim_station_cfg *cfg = &depot->stations[sl->station];
            double wh = sim_ev_charge(&sl->ev, sl->got_w, (double)(t1 - t) / 1000.0), phase_wh[3];
            sim_phase_split(wh, &cfg->spec, sl->ev.spec.phases, cfg->rotation, phase_wh);
            sim_report_energy_phases(s.report, cfg->circuit, t, t1 - t, phase_wh);
        }
        t = t1;
    }
    /* The run ends: whoever is still plugged in leaves with what it got, as `run` reports them. */
    for (int i = 0; i < s.nslots; i++)
        if (s.slots[i].visit >= 0)
            depart(&s, &s.slots[i]);
    state_free(&s);
    return s.report;
}
