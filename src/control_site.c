/*
 * control_site.c - what the site leaves for charging at each moment: the connection's limit, a temporary one (the
 * API's curtailment), less the building's load from the site_load feed (site_load.h), read through the port on a
 * 15-minute grid over the horizon; and what the fail-safe must keep under while depotd is down (the building at
 * its highest). Loop thread only.
 */
#include <math.h>

#include "control_internal.h"

double ctl_connection_kw(const struct control *ctl, int64_t t)
{
    double kw = ctl->cfg.site_limit_kw;
    if (ctl->override_kw >= 0 && t < ctl->override_until_ms && ctl->override_kw < kw) kw = ctl->override_kw;
    return kw;
}

static double max_over(const struct ctl_site_load *l, const double *v, int64_t from, int64_t to)
{
    if (!l->on) return 0;
    if (to <= from) to = from + 1;
    int64_t a = (from - l->start_ms) / l->slot_ms, b = (to - 1 - l->start_ms) / l->slot_ms;
    if (from < l->start_ms) a = 0;
    if (to - 1 < l->start_ms) b = 0;
    if (b >= l->n) return l->peak_kw; /* beyond what the feed told: as much as the horizon's worst building */
    double kw = v[a];
    for (int64_t k = a + 1; k <= b; k++) kw = fmax(kw, v[k]);
    return kw;
}

double ctl_site_load_max_kw(const struct control *ctl, int64_t from, int64_t to)
{
    return max_over(&ctl->load, ctl->load.kw, from, to);
}

double ctl_site_building_max_kw(const struct control *ctl, int64_t from, int64_t to)
{
    return max_over(&ctl->load, ctl->load.building, from, to);
}

double ctl_site_load_kw(const struct control *ctl, int64_t t) { return ctl_site_load_max_kw(ctl, t, t + 1); }

double ctl_site_limit_kw(const struct control *ctl, int64_t t)
{
    return fmax(0, ctl_connection_kw(ctl, t) - ctl_site_load_kw(ctl, t));
}

double ctl_site_limit_over_kw(const struct control *ctl, int64_t from, int64_t to)
{
    return fmax(0, ctl_connection_kw(ctl, from) - ctl_site_load_max_kw(ctl, from, to));
}

double ctl_failsafe_limit_kw(const struct control *ctl, int64_t now)
{
    double kw = ctl_connection_kw(ctl, now);
    if (ctl->load.on) kw = fmin(kw, ctl->cfg.site_limit_kw - ctl->load.peak_kw);
    return fmax(0, kw);
}

bool ctl_site_load_refresh(struct control *ctl)
{
    struct ctl_site_load *l = &ctl->load, fresh = {.slot_ms = 15 * 60000};
    if (!ctl->port.site_load) return false;
    int64_t now = ctl_now(ctl);
    fresh.start_ms = now / fresh.slot_ms * fresh.slot_ms;
    /* The plan's horizon and its last slot; a day at least, what the fail-safe must hold for. */
    int64_t span = ((int64_t)ctl->cfg.horizon_h + 1) * 3600000;
    if (span < 86400000) span = 86400000;
    fresh.n = (int)(span / fresh.slot_ms);
    if (fresh.n > CTL_LOAD_SLOTS) fresh.n = CTL_LOAD_SLOTS;
    fresh.on = ctl->port.site_load(ctl->port.ctx, fresh.start_ms, fresh.slot_ms, (size_t)fresh.n, fresh.kw,
                                   fresh.building) == 0;
    bool moved = fresh.on != l->on;
    for (int k = 0; k < fresh.n && fresh.on; k++) {
        /* Below 0 the site feeds in (PV, a battery): the connection carries that much more charging. The fail-safe
         * counts the building alone at its highest. */
        if (!isfinite(fresh.building[k])) fresh.building[k] = fresh.peak_kw;
        if (!isfinite(fresh.kw[k]) || fresh.kw[k] > fresh.building[k]) fresh.kw[k] = fresh.building[k];
        fresh.peak_kw = fmax(fresh.peak_kw, fresh.building[k]);
        int64_t t = fresh.start_ms + k * fresh.slot_ms;
        if (l->on && (fabs(fresh.kw[k] - ctl_site_load_kw(ctl, t)) > 0.5 ||
                      fabs(fresh.building[k] - ctl_site_building_max_kw(ctl, t, t + 1)) > 0.5))
            moved = true;
    }
    *l = fresh;
    return moved;
}
