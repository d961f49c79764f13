/*
 * The composite schedule (OCPP 2.0.1 K08 and the "Smart Charging" section of part 2): at any time, per
 * purpose the valid profile with the highest stackLevel that has a period running wins; TxProfile
 * overrides TxDefaultProfile; the result is the minimum of that, ChargingStationExternalConstraints,
 * ChargingStationMaxProfile and what the hardware can do. Everything is compared in W.
 */
#include "profiles_internal.h"

#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define BREAKPOINTS_MAX 4096

static int64_t recurrence_ms(const struct sim_profile *p)
{
    return p->recurrency == SIM_RECUR_WEEKLY ? 7 * DAY_MS : DAY_MS;
}

/* Where the schedule's period 0 starts for a query at t; false when it has not started. */
static bool schedule_base(const struct sim_profile *p, int64_t t, int64_t rel_base, int64_t *base)
{
    switch (p->kind) {
    case SIM_KIND_ABSOLUTE:
        *base = p->schedule.start_ms;
        break;
    case SIM_KIND_RELATIVE:
        *base = rel_base;
        break;
    case SIM_KIND_RECURRING: {
        int64_t r = recurrence_ms(p);
        if (t < p->schedule.start_ms)
            return false;
        *base = p->schedule.start_ms + ((t - p->schedule.start_ms) / r) * r;
        break;
    }
    }
    return t >= *base;
}

/* A limit in A as W for an EV that charges on `used` phases (0: all): a current is per phase, so it gives power only
 * on the phases that carry it. */
static double to_w_used(const sim_profiles *s, const struct sim_period *pd, enum sim_unit unit, int used)
{
    int phases = pd->phases > 0 ? pd->phases : s->spec.phases;
    if (used > 0 && used < phases)
        phases = used;
    return sim_profiles_to_w(s, pd->limit, unit, phases);
}

/* The hardware's power for an EV on `used` phases: a third of a 3-phase EVSE's (or station's) for a 1-phase EV. */
static double hw_w(const sim_profiles *s, double w, int used)
{
    return s->spec.dc || used <= 0 || used >= s->spec.phases ? w : w * used / s->spec.phases;
}

/* The limit in W the profile sets at t for an EV on `used` phases, or -1 when it sets none (outside validity, not
 * started, past its duration). */
static double profile_limit_w(const sim_profiles *s, const struct sim_profile *p, int64_t t, int64_t rel_base,
                              int used)
{
    if ((p->has_valid_from && t < p->valid_from_ms) || (p->has_valid_to && t >= p->valid_to_ms))
        return -1;
    int64_t base = 0;
    if (!schedule_base(p, t, rel_base, &base))
        return -1;
    int64_t el = t - base;
    const struct sim_schedule *sc = &p->schedule;
    if (sc->has_duration && el >= (int64_t)sc->duration_s * 1000)
        return -1;
    int k = -1;
    for (int i = 0; i < sc->nperiods && (int64_t)sc->periods[i].start_s * 1000 <= el; i++)
        k = i;
    if (k < 0)
        return -1;
    return to_w_used(s, &sc->periods[k], sc->unit, used);
}

/*
 * The winning limit of one purpose among the profiles on evse_a or evse_b (-1: none). A profile on the
 * specific EVSE beats one on EVSE 0 at the same stack level, as the more specific instruction.
 */
static double purpose_limit(const sim_profiles *s, enum sim_purpose purpose, int evse_a, int evse_b,
                            const char *tx_id, int64_t t, int64_t rel_base, int used)
{
    int best_level = -1;
    bool best_specific = false;
    double best = -1;
    for (int i = 0; i < s->n; i++) {
        const struct sim_stored *st = &s->items[i];
        const struct sim_profile *p = &st->profile;
        if (p->purpose != purpose || (st->evse_id != evse_a && st->evse_id != evse_b))
            continue;
        if (purpose == SIM_PURPOSE_TX && (!tx_id || strcmp(tx_id, p->tx_id) != 0))
            continue;
        double lim = profile_limit_w(s, p, t, rel_base, used);
        if (lim < 0)
            continue;
        bool specific = st->evse_id == evse_a;
        if (p->stack_level > best_level || (p->stack_level == best_level && specific && !best_specific)) {
            best_level = p->stack_level;
            best_specific = specific;
            best = lim;
        }
    }
    return best;
}

static double min_limit(double a, double b)
{
    if (b < 0)
        return a;
    return b < a ? b : a;
}

static double station_limit_w(const sim_profiles *s, int64_t t, int used)
{
    double lim = hw_w(s, s->spec.station_max_w, used);
    lim = min_limit(lim, purpose_limit(s, SIM_PURPOSE_STATION_MAX, 0, 0, NULL, t, t, used));
    lim = min_limit(lim, purpose_limit(s, SIM_PURPOSE_EXTERNAL, 0, 0, NULL, t, t, used));
    return lim;
}

static int64_t relative_base(const struct sim_evse_tx *tx, int evse_id, int64_t fallback)
{
    /* Relative schedules start with the transaction; without one, at the time asked about. */
    if (tx && evse_id > 0 && tx[evse_id].tx_id[0])
        return tx[evse_id].start_ms;
    return fallback;
}

static double evse_limit_w(const sim_profiles *s, int evse_id, int64_t t, const struct sim_evse_tx *tx,
                           int64_t rel_base, int used)
{
    double lim = hw_w(s, s->spec.evse_max_w, used);
    lim = min_limit(lim, station_limit_w(s, t, used));
    lim = min_limit(lim, purpose_limit(s, SIM_PURPOSE_EXTERNAL, evse_id, evse_id, NULL, t, rel_base, used));
    const char *tx_id = tx && tx[evse_id].tx_id[0] ? tx[evse_id].tx_id : NULL;
    double txl = tx_id ? purpose_limit(s, SIM_PURPOSE_TX, evse_id, evse_id, tx_id, t, rel_base, used) : -1;
    if (txl < 0)
        txl = purpose_limit(s, SIM_PURPOSE_TX_DEFAULT, evse_id, 0, NULL, t, rel_base, used);
    return min_limit(lim, txl);
}

double sim_profiles_limit_w(const sim_profiles *s, int evse_id, int64_t t, const struct sim_evse_tx *tx)
{
    return sim_profiles_limit_w_on(s, evse_id, t, tx, 0);
}

double sim_profiles_limit_w_on(const sim_profiles *s, int evse_id, int64_t t, const struct sim_evse_tx *tx,
                               int ev_phases)
{
    if (evse_id <= 0 || evse_id > s->spec.evse_count)
        return station_limit_w(s, t, ev_phases);
    return evse_limit_w(s, evse_id, t, tx, relative_base(tx, evse_id, t), ev_phases);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void add_point(int64_t *pts, int *n, int64_t v, int64_t start, int64_t end)
{
    if (v > start && v < end && *n < BREAKPOINTS_MAX)
        pts[(*n)++] = v;
}

/* Every time in (start, end) at which some profile's limit may change. */
static int breakpoints(const sim_profiles *s, int64_t start, int64_t end, int64_t rel_base, int64_t *pts)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        const struct sim_profile *p = &s->items[i].profile;
        if (p->has_valid_from)
            add_point(pts, &n, p->valid_from_ms, start, end);
        if (p->has_valid_to)
            add_point(pts, &n, p->valid_to_ms, start, end);
        int64_t base = p->kind == SIM_KIND_RELATIVE ? rel_base : p->schedule.start_ms;
        int64_t step = p->kind == SIM_KIND_RECURRING ? recurrence_ms(p) : 0;
        if (step && base < start)
            base += ((start - base) / step) * step;
        for (int rep = 0; rep < BREAKPOINTS_MAX && base < end; rep++) {
            for (int k = 0; k < p->schedule.nperiods; k++)
                add_point(pts, &n, base + (int64_t)p->schedule.periods[k].start_s * 1000, start, end);
            if (p->schedule.has_duration)
                add_point(pts, &n, base + (int64_t)p->schedule.duration_s * 1000, start, end);
            if (!step)
                break;
            base += step;
            add_point(pts, &n, base, start, end);
        }
    }
    qsort(pts, (size_t)n, sizeof pts[0], cmp_i64);
    return n;
}

int sim_profiles_changes(const sim_profiles *s, int64_t start_ms, int64_t end_ms, const struct sim_evse_tx *tx,
                         int64_t *pts, int max)
{
    int64_t *all = malloc(sizeof(int64_t) * BREAKPOINTS_MAX);
    if (!all)
        return 0;
    int n = 0;
    /* Relative schedules count from each transaction's start: one pass per EVSE with one, one for the rest. */
    for (int e = 0; e <= s->spec.evse_count && n < max; e++) {
        if (e > 0 && !(tx && tx[e].tx_id[0]))
            continue;
        int k = breakpoints(s, start_ms, end_ms, relative_base(tx, e, start_ms), all);
        for (int i = 0; i < k && n < max; i++)
            pts[n++] = all[i];
    }
    free(all);
    qsort(pts, (size_t)n, sizeof pts[0], cmp_i64);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || pts[m - 1] != pts[i])
            pts[m++] = pts[i];
    return m;
}

int sim_profiles_composite(const sim_profiles *s, int evse_id, int64_t start_ms, int32_t duration_s,
                           enum sim_unit unit, const struct sim_evse_tx *tx, struct sim_schedule *out,
                           struct sim_reject *why)
{
    if (evse_id < 0 || evse_id > s->spec.evse_count) {
        if (why) {
            strcpy(why->reason, "UnknownEvse");
            strcpy(why->info, "evseId does not exist");
        }
        return -1;
    }
    if ((unit == SIM_UNIT_A && !s->spec.unit_a) || (unit == SIM_UNIT_W && !s->spec.unit_w)) {
        if (why) {
            strcpy(why->reason, "UnsupportedRateUnit");
            strcpy(why->info, "chargingRateUnit not in ChargingScheduleChargingRateUnit");
        }
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->has_start = true;
    out->start_ms = start_ms;
    out->has_duration = true;
    out->duration_s = duration_s;
    out->unit = unit;
    int64_t end = start_ms + (int64_t)duration_s * 1000;
    int64_t rel_base = relative_base(tx, evse_id, start_ms);
    int64_t *pts = malloc(sizeof(int64_t) * BREAKPOINTS_MAX);
    if (!pts)
        return -1;
    int n = breakpoints(s, start_ms, end, rel_base, pts);
    double last = -2;
    for (int i = -1; i < n; i++) {
        int64_t t = i < 0 ? start_ms : pts[i];
        if (i > 0 && t == pts[i - 1])
            continue;
        double w = evse_id == 0 ? station_limit_w(s, t, 0) : evse_limit_w(s, evse_id, t, tx, rel_base, 0);
        if (w == last)
            continue;
        int32_t at = (int32_t)((t - start_ms) / 1000);
        if (out->nperiods > 0 && out->periods[out->nperiods - 1].start_s == at) {
            /* Two changes within one second: periods are whole seconds, the later one stands. */
            out->periods[out->nperiods - 1].limit = sim_profiles_from_w(s, w, unit);
            last = w;
            continue;
        }
        if (out->nperiods == SIM_PERIODS_MAX) {
            /* More changes than fit: report the part that does, honestly shortened. */
            out->duration_s = (int32_t)((t - start_ms) / 1000);
            break;
        }
        struct sim_period *pd = &out->periods[out->nperiods++];
        pd->start_s = at;
        pd->limit = sim_profiles_from_w(s, w, unit);
        last = w;
    }
    free(pts);
    return 0;
}
