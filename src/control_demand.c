/*
 * control_demand.c - the demand charge (config `control.demand`): the bill's price per kW of the billing period's
 * peak. The peak is the highest mean of the depot's charging power over a metering interval (15 minutes by
 * default, as grid operators meter it), integrated from what the stations measured (piecewise constant between
 * their readings), kept across restarts in demand_peak events, and given to the LP (existing_peak_kw), which then
 * trades energy price against a higher peak exactly: it pays for a kW above the period's peak only where the energy
 * saved is worth more. Loop thread.
 *
 * What it does not know: the building's own load (the bill's peak is the whole connection's; depotd measures its
 * chargers only, so the peak here is charging's share), and a horizon that crosses into the next billing period is
 * planned as if the peak so far still counted there.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "control_internal.h"
#include "ocpp.h"
#include "store.h"
#include "tariffs.h"

int ctl_demand_parse(struct ctl_config *cfg, const cJSON *o, char *err, size_t err_len)
{
    static const struct {
        const char *name;
        double lo, hi, def;
        bool integer;
    } keys[] = {
        {"price_per_kw", 0, 1e5, -1, false},
        {"billing_day", 1, 28, 1, true},
        {"interval_min", 1, 60, 15, true},
    };
    double v[3];
    if (!cJSON_IsObject(o)) {
        snprintf(err, err_len, "control.demand: must be an object {\"price_per_kw\", \"billing_day\", \"interval_min\"}");
        return -1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        bool known = it->string[0] == '_';
        for (size_t k = 0; k < 3 && !known; k++) known = strcmp(it->string, keys[k].name) == 0;
        if (!known) {
            snprintf(err, err_len, "control.demand.%s: unknown key (price_per_kw, billing_day, interval_min)", it->string);
            return -1;
        }
    }
    for (size_t k = 0; k < 3; k++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, keys[k].name);
        v[k] = keys[k].def;
        if (!n && keys[k].def < 0) {
            snprintf(err, err_len, "control.demand.%s: required (currency per kW of the billing period's peak)", keys[k].name);
            return -1;
        }
        if (!n) continue;
        if (!cJSON_IsNumber(n) || n->valuedouble < keys[k].lo || n->valuedouble > keys[k].hi ||
            (keys[k].integer && n->valuedouble != floor(n->valuedouble))) {
            snprintf(err, err_len, "control.demand.%s: must be %s in [%g, %g]", keys[k].name,
                     keys[k].integer ? "an integer" : "a number", keys[k].lo, keys[k].hi);
            return -1;
        }
        v[k] = n->valuedouble;
    }
    if (60 % (int)v[2] != 0) {
        snprintf(err, err_len, "control.demand.interval_min: must divide 60 (5, 15, 30, 60...)");
        return -1;
    }
    cfg->demand_on = true;
    cfg->demand_price_per_kw = v[0];
    cfg->demand_billing_day = (int)v[1];
    cfg->demand_interval_min = (int)v[2];
    return 0;
}

int ctl_demand_start(struct control *ctl, char *err, size_t err_len)
{
    if (!ctl->cfg.demand_on) return 0;
    char inner[160];
    ctl->demand.tz = tariff_tz_load(ctl->conf->timezone, NULL, inner, sizeof inner);
    if (!ctl->demand.tz) {
        snprintf(err, err_len, "control.demand: the billing period needs the depot's timezone: %s", inner);
        return -1;
    }
    return 0;
}

void ctl_demand_free(struct control *ctl)
{
    tariff_tz_free(ctl->demand.tz);
    ctl->demand.tz = NULL;
}

/* The billing period that contains t starts at local midnight of billing_day, this month or the last. */
int64_t ctl_demand_period_start(const struct control *ctl, int64_t t)
{
    struct tariff_local l;
    tariff_tz_to_local(ctl->demand.tz, t, &l);
    int day = ctl->cfg.demand_billing_day;
    int64_t s = tariff_tz_from_local(ctl->demand.tz, l.year, l.month, day, 0, 0, 0, false);
    if (s > t) s = tariff_tz_from_local(ctl->demand.tz, l.month == 1 ? l.year - 1 : l.year, l.month == 1 ? 12 : l.month - 1,
                                        day, 0, 0, 0, false);
    return s;
}

double ctl_measured_site_w(const struct control *ctl)
{
    double w = 0;
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next)
        for (int k = 1; k <= cs->max_evse; k++)
            if (cs->evse[k].active) w += cs->evse[k].power_w;
    return w;
}

static void close_interval(struct control *ctl, int64_t start, int64_t end)
{
    struct ctl_demand *dm = &ctl->demand;
    double kw = dm->interval_wh / ((double)(end - start) / 3600000.0) / 1000.0;
    dm->interval_wh = 0;
    int64_t period = ctl_demand_period_start(ctl, start);
    if (period != dm->period_ms) { /* a new billing period: its peak starts from nothing */
        dm->period_ms = period;
        dm->peak_kw = 0;
        dm->peak_at_ms = 0;
    }
    if (kw <= dm->peak_kw + 1e-9) return;
    dm->peak_kw = kw;
    dm->peak_at_ms = start;
    cJSON *o = cJSON_CreateObject();
    char buf[40];
    cJSON_AddStringToObject(o, "period_start", ocpp_time_format(period, buf));
    cJSON_AddStringToObject(o, "interval_start", ocpp_time_format(start, buf));
    cJSON_AddNumberToObject(o, "interval_min", ctl->cfg.demand_interval_min);
    cJSON_AddNumberToObject(o, "peak_kw", round(kw * 1000) / 1000);
    ctl_log_event(ctl, "demand_peak", NULL, o);
}

/* The site's measured power was last_w since last_ms: count it into the metering intervals up to now, closing
 * each one it crosses, then take the power measured now. Called after every change of a session's power. */
void ctl_demand_sample(struct control *ctl)
{
    struct ctl_demand *dm = &ctl->demand;
    if (!ctl->cfg.demand_on || !dm->tz) return;
    int64_t now = ctl_now(ctl), len = (int64_t)ctl->cfg.demand_interval_min * 60000;
    if (dm->last_ms > 0 && now > dm->last_ms) {
        int64_t t = dm->last_ms;
        /* Bounded: a gap of days (depotd stopped) closes at most a day of intervals, the rest held nothing. */
        if (now - t > 86400000) t = now - 86400000, dm->interval_wh = 0;
        while (t < now) {
            int64_t start = t - ((t % len) + len) % len, end = start + len;
            int64_t upto = end < now ? end : now;
            dm->interval_wh += dm->last_w * (double)(upto - t) / 3600000.0;
            if (upto == end) close_interval(ctl, start, end);
            t = upto;
        }
    }
    dm->last_ms = now;
    dm->last_w = ctl_measured_site_w(ctl);
}

/* The last demand_peak in the log, if of the billing period now. */
void ctl_demand_restore(struct control *ctl, const char *data)
{
    if (!ctl->cfg.demand_on || !ctl->demand.tz || !data) return;
    cJSON *o = cJSON_Parse(data);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "period_start");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "interval_start");
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "peak_kw");
    int64_t period, at_ms;
    if (cJSON_IsString(ps) && cJSON_IsString(at) && cJSON_IsNumber(kw) && ocpp_time_parse(ps->valuestring, &period) == 0 &&
        ocpp_time_parse(at->valuestring, &at_ms) == 0 && period == ctl_demand_period_start(ctl, ctl_now(ctl))) {
        ctl->demand.period_ms = period;
        ctl->demand.peak_kw = kw->valuedouble;
        ctl->demand.peak_at_ms = at_ms;
    }
    cJSON_Delete(o);
}

/* The billing period's peak so far (kW): 0 when a new period began since it was set. */
double ctl_demand_peak_kw(const struct control *ctl, int64_t now)
{
    if (!ctl->cfg.demand_on || !ctl->demand.tz) return 0;
    return ctl->demand.period_ms == ctl_demand_period_start(ctl, now) ? ctl->demand.peak_kw : 0;
}

/* The plan's highest slot of planned charging (kW): what the peak would be if it were followed. */
double ctl_plan_peak_kw(const struct ctl_plan *p)
{
    double peak = 0;
    for (int t = 0; p && t < p->slots; t++) {
        double site = 0;
        for (int i = 0; i < p->n; i++) site += p->kw[(size_t)i * p->slots + t];
        peak = fmax(peak, site);
    }
    return peak;
}

cJSON *ctl_demand_json(const struct control *ctl, double plan_peak_kw)
{
    if (!ctl->cfg.demand_on || !ctl->demand.tz) return cJSON_CreateNull();
    int64_t now = ctl_now(ctl);
    double peak = ctl_demand_peak_kw(ctl, now);
    char buf[40];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "price_per_kw", ctl->cfg.demand_price_per_kw);
    cJSON_AddStringToObject(o, "period_start", ocpp_time_format(ctl_demand_period_start(ctl, now), buf));
    cJSON_AddNumberToObject(o, "interval_min", ctl->cfg.demand_interval_min);
    cJSON_AddNumberToObject(o, "peak_kw", round(peak * 1000) / 1000);
    if (peak > 0) cJSON_AddStringToObject(o, "peak_at", ocpp_time_format(ctl->demand.peak_at_ms, buf));
    else cJSON_AddNullToObject(o, "peak_at");
    if (plan_peak_kw >= 0) cJSON_AddNumberToObject(o, "plan_peak_kw", round(plan_peak_kw * 1000) / 1000);
    else cJSON_AddNullToObject(o, "plan_peak_kw");
    return o;
}
