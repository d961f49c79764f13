#include "report_internal.h"
#include "simtime.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000LL
#define MINUTES_MAX (4 * 366 * 24 * 60)
#define VEHICLES_MAX 200000

struct sim_report *sim_report_new(int64_t start_ms, int64_t end_ms, double grid_limit_w)
{
    if (end_ms <= start_ms || (end_ms - start_ms) / MINUTE_MS >= MINUTES_MAX)
        return NULL;
    struct sim_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->start_ms = start_ms;
    r->minutes = (int)((end_ms - start_ms + MINUTE_MS - 1) / MINUTE_MS);
    r->minute_wh = calloc((size_t)r->minutes, sizeof(double));
    r->phase_wh = calloc((size_t)r->minutes * 3, sizeof(double));
    r->grid_limit_w = grid_limit_w;
    if (!r->minute_wh || !r->phase_wh) {
        sim_report_free(r);
        return NULL;
    }
    return r;
}

int sim_report_set_circuits(struct sim_report *r, const struct sim_circuit *c, int n)
{
    if (n < 0 || n > SIM_CIRCUITS_MAX)
        return -1;
    double *wh = n ? calloc((size_t)n * 3 * (size_t)r->minutes, sizeof(double)) : NULL;
    if (n && !wh)
        return -1;
    free(r->circuit_wh);
    r->circuit_wh = wh;
    r->circuits = c;
    r->ncircuits = n;
    return 0;
}

void sim_report_free(struct sim_report *r)
{
    if (!r)
        return;
    free(r->minute_wh);
    free(r->phase_wh);
    free(r->circuit_wh);
    free(r->veh);
    free(r);
}

void sim_report_energy(struct sim_report *r, int64_t t, int64_t dt, double wh)
{
    double balanced[3] = {wh / 3.0, wh / 3.0, wh / 3.0};
    sim_report_energy_phases(r, 0, t, dt, balanced);
}

void sim_report_energy_phases(struct sim_report *r, int circuit, int64_t t, int64_t dt, const double wh[3])
{
    double total = wh[0] + wh[1] + wh[2];
    if (dt <= 0 || total == 0)
        return;
    int64_t end = t + dt;
    size_t mins = (size_t)r->minutes;
    for (int64_t a = t; a < end;) {
        int64_t m = (a - r->start_ms) / MINUTE_MS;
        if (a < r->start_ms)
            m = -1;
        int64_t mend = m >= 0 ? r->start_ms + (m + 1) * MINUTE_MS : r->start_ms;
        int64_t b = mend < end ? mend : end;
        if (m >= 0 && m < r->minutes) {
            double f = (double)(b - a) / (double)dt;
            r->minute_wh[m] += total * f;
            for (int p = 0; p < 3; p++)
                r->phase_wh[p * mins + (size_t)m] += wh[p] * f;
            /* The circuit the station hangs off and every one above it carry the draw. */
            for (int c = circuit; c > 0 && c <= r->ncircuits; c = r->circuits[c - 1].parent)
                for (int p = 0; p < 3; p++)
                    r->circuit_wh[((size_t)(c - 1) * 3 + (size_t)p) * mins + (size_t)m] += wh[p] * f;
        }
        if (b <= a)
            break;
        a = b;
    }
}

struct sim_vehicle_result *sim_report_vehicle(struct sim_report *r)
{
    if (r->nveh == r->capveh) {
        if (r->capveh >= VEHICLES_MAX)
            return NULL;
        int cap = r->capveh ? r->capveh * 2 : 64;
        struct sim_vehicle_result *nv = realloc(r->veh, (size_t)cap * sizeof *nv);
        if (!nv)
            return NULL;
        r->veh = nv;
        r->capveh = cap;
    }
    struct sim_vehicle_result *v = &r->veh[r->nveh++];
    memset(v, 0, sizeof *v);
    return v;
}

const struct sim_vehicle_result *sim_report_vehicle_at(const struct sim_report *r, int i)
{
    return i >= 0 && i < r->nveh ? &r->veh[i] : NULL;
}

struct sim_counters *sim_report_counters(struct sim_report *r)
{
    return &r->c;
}

int sim_report_minutes(const struct sim_report *r)
{
    return r->minutes;
}

void sim_report_set_site_load(struct sim_report *r, const struct sim_prices *kw)
{
    r->site_load = kw && kw->n ? kw : NULL;
}

double sim_report_site_load_kw(const struct sim_report *r, int64_t t_ms)
{
    double kw = r->site_load ? sim_prices_at(r->site_load, t_ms) : NAN;
    return isnan(kw) ? 0 : kw;
}

double sim_report__kw(double minute_wh)
{
    return minute_wh * 60.0 / 1000.0;
}

void sim_report__peak_add(struct sim_report__peak *p, double kw, double limit_kw)
{
    if (kw > p->max_kw)
        p->max_kw = kw;
    /* A minute counts as above when its average exceeds the limit by more than a watt of rounding. */
    if (limit_kw > 0 && kw > limit_kw + 0.001) {
        p->minutes_above++;
        if (kw - limit_kw > p->worst_exceed_kw)
            p->worst_exceed_kw = kw - limit_kw;
    }
}

double sim_report_minute_kw(const struct sim_report *r, int m)
{
    return m >= 0 && m < r->minutes ? sim_report__kw(r->minute_wh[m]) : 0;
}

double sim_report_average_kw(const struct sim_report *r, int64_t from_ms, int64_t to_ms)
{
    int64_t a = (from_ms - r->start_ms) / MINUTE_MS, b = (to_ms - r->start_ms) / MINUTE_MS;
    if (from_ms < r->start_ms)
        a = 0;
    if (to_ms <= r->start_ms || b <= a)
        return 0;
    double wh = 0;
    for (int64_t m = a; m < b && m < r->minutes; m++)
        wh += r->minute_wh[m];
    return wh * 60.0 / 1000.0 / (double)(b - a);
}

double sim_report_cost_until(const struct sim_report *r, const struct sim_prices *prices, int64_t until_ms)
{
    double cost = 0;
    if (!prices || !prices->n)
        return NAN;
    for (int m = 0; m < r->minutes && r->start_ms + (m + 1) * MINUTE_MS <= until_ms; m++) {
        double p = sim_prices_at(prices, r->start_ms + m * MINUTE_MS);
        if (!isnan(p))
            cost += p * r->minute_wh[m] / 1000.0;
    }
    return cost;
}

void sim_report_summary(const struct sim_report *r, const struct sim_prices *prices, struct sim_site_summary *o)
{
    memset(o, 0, sizeof *o);
    double limit_kw = r->grid_limit_w / 1000.0, priced = 0, cost = 0;
    struct sim_report__peak site = {0}, phase[3] = {{0}};
    for (int m = 0; m < r->minutes; m++) {
        double building = sim_report_site_load_kw(r, r->start_ms + (int64_t)m * MINUTE_MS);
        sim_report__peak_add(&site, sim_report_minute_kw(r, m) + building, limit_kw);
        o->max_kw = fmax(o->max_kw, sim_report_minute_kw(r, m));
        for (int p = 0; p < 3; p++)
            sim_report__peak_add(&phase[p], sim_report__kw(r->phase_wh[p * r->minutes + m]), 0);
        o->energy_kwh += r->minute_wh[m] / 1000.0;
        if (prices && prices->n) {
            double p = sim_prices_at(prices, r->start_ms + m * MINUTE_MS);
            if (!isnan(p)) {
                cost += p * r->minute_wh[m] / 1000.0;
                priced += r->minute_wh[m] / 1000.0;
            }
        }
    }
    o->site_max_kw = site.max_kw;
    o->minutes_above = site.minutes_above;
    o->worst_exceed_kw = site.worst_exceed_kw;
    for (int p = 0; p < 3; p++)
        o->phase_max_kw[p] = phase[p].max_kw;
    o->cost_eur = prices && prices->n ? cost : NAN;
    o->priced_share = o->energy_kwh > 0 ? priced / o->energy_kwh : 0;
    for (int i = 0; i < r->nveh; i++) {
        o->vehicles++;
        o->requested_kwh += r->veh[i].requested_wh / 1000.0;
        o->delivered_kwh += r->veh[i].delivered_wh / 1000.0;
        if (r->veh[i].delivered_wh >= 0.99 * r->veh[i].requested_wh)
            o->vehicles_met++;
    }
}

void sim_report_print(const struct sim_report *r, const struct sim_prices *prices, FILE *out)
{
    struct sim_site_summary s;
    sim_report_summary(r, prices, &s);
    char a[32], d[32];
    fprintf(out, "%-12s %-14s %4s %-20s %-20s %10s %10s %6s\n", "vehicle", "station", "evse", "arrival", "departure",
            "req kWh", "got kWh", "met");
    for (int i = 0; i < r->nveh; i++) {
        const struct sim_vehicle_result *v = &r->veh[i];
        sim_time_format(v->arrival_ms, a);
        sim_time_format(v->departure_ms, d);
        a[19] = d[19] = '\0';
        fprintf(out, "%-12s %-14s %4d %-20s %-20s %10.2f %10.2f %6s\n", v->ev, v->plugged ? v->station : "(no EVSE)",
                v->evse, a, d, v->requested_wh / 1000.0, v->delivered_wh / 1000.0,
                v->delivered_wh >= 0.99 * v->requested_wh ? "yes" : "NO");
    }
    fprintf(out, "\nvehicles %d, met %d; requested %.2f kWh, delivered %.2f kWh\n", s.vehicles, s.vehicles_met,
            s.requested_kwh, s.delivered_kwh);
    fprintf(out, "site: energy %.2f kWh, max 1-min power %.2f kW", s.energy_kwh, s.max_kw);
    if (r->site_load)
        fprintf(out, ", %.2f kW with the building's load", s.site_max_kw);
    if (r->grid_limit_w > 0)
        fprintf(out, ", limit %.2f kW, minutes above %d, worst exceedance %.2f kW", r->grid_limit_w / 1000.0,
                s.minutes_above, s.worst_exceed_kw);
    fprintf(out, "\n");
    if (!isnan(s.cost_eur))
        fprintf(out, "cost %.2f EUR (prices cover %.0f %% of the energy)\n", s.cost_eur, s.priced_share * 100);
    sim_report__print_circuits(r, out);
    const struct sim_counters *c = &r->c;
    /* The offline baseline sends nothing: no line of zeros. */
    if (!(c->sent | c->received | c->callerrors_in | c->callerrors_out | c->invalid_frames | c->reconnects |
          c->timeouts | c->replayed | c->profiles_accepted | c->profiles_rejected))
        return;
    fprintf(out, "messages sent %llu, received %llu, CALLERRORs in %llu / out %llu, invalid frames %llu, "
                 "timeouts %llu, reconnects %llu (without boot %llu, refused %llu), replayed %llu, "
                 "profiles accepted %llu / rejected %llu\n",
            (unsigned long long)c->sent, (unsigned long long)c->received, (unsigned long long)c->callerrors_in,
            (unsigned long long)c->callerrors_out, (unsigned long long)c->invalid_frames,
            (unsigned long long)c->timeouts, (unsigned long long)c->reconnects, (unsigned long long)c->resumed,
            (unsigned long long)c->resume_refused, (unsigned long long)c->replayed,
            (unsigned long long)c->profiles_accepted, (unsigned long long)c->profiles_rejected);
}

static void add_summary(cJSON *o, const struct sim_report *r, const struct sim_site_summary *s)
{
    cJSON_AddNumberToObject(o, "gridLimitKw", r->grid_limit_w / 1000.0);
    cJSON_AddNumberToObject(o, "energyKwh", s->energy_kwh);
    cJSON_AddNumberToObject(o, "maxKw", s->max_kw);
    cJSON_AddNumberToObject(o, "siteMaxKw", s->site_max_kw);
    cJSON_AddItemToObject(o, "phaseMaxKw", cJSON_CreateDoubleArray(s->phase_max_kw, 3));
    cJSON_AddNumberToObject(o, "minutesAboveLimit", s->minutes_above);
    cJSON_AddNumberToObject(o, "worstExceedanceKw", s->worst_exceed_kw);
    if (!isnan(s->cost_eur)) {
        cJSON_AddNumberToObject(o, "costEur", s->cost_eur);
        cJSON_AddNumberToObject(o, "pricedShare", s->priced_share);
    }
    cJSON_AddNumberToObject(o, "vehicles", s->vehicles);
    cJSON_AddNumberToObject(o, "vehiclesMet", s->vehicles_met);
    cJSON_AddNumberToObject(o, "requestedKwh", s->requested_kwh);
    cJSON_AddNumberToObject(o, "deliveredKwh", s->delivered_kwh);
    cJSON *kw = cJSON_AddArrayToObject(o, "powerKwPerMinute");
    for (int m = 0; m < r->minutes; m++)
        cJSON_AddItemToArray(kw, cJSON_CreateNumber(round(sim_report_minute_kw(r, m) * 1000) / 1000));
}

static cJSON *vehicles_json(const struct sim_report *r)
{
    char tb[32];
    cJSON *vs = cJSON_CreateArray();
    for (int i = 0; i < r->nveh; i++) {
        const struct sim_vehicle_result *v = &r->veh[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ev", v->ev);
        cJSON_AddStringToObject(o, "station", v->station);
        cJSON_AddNumberToObject(o, "evse", v->evse);
        cJSON_AddBoolToObject(o, "plugged", v->plugged);
        cJSON_AddStringToObject(o, "arrival", sim_time_format(v->arrival_ms, tb));
        cJSON_AddStringToObject(o, "departure", sim_time_format(v->departure_ms, tb));
        cJSON_AddNumberToObject(o, "requestedKwh", v->requested_wh / 1000.0);
        cJSON_AddNumberToObject(o, "deliveredKwh", v->delivered_wh / 1000.0);
        cJSON_AddNumberToObject(o, "maxPowerKw", v->max_power_w / 1000.0);
        cJSON_AddItemToArray(vs, o);
    }
    return vs;
}

int sim_report_write_json(const struct sim_report *r, const struct sim_report *baseline,
                          const struct sim_prices *prices, const char *path, char *err, size_t len)
{
    struct sim_site_summary s;
    sim_report_summary(r, prices, &s);
    char tb[32];
    cJSON *root = cJSON_CreateObject();
    cJSON *site = cJSON_AddObjectToObject(root, "site");
    cJSON_AddStringToObject(site, "start", sim_time_format(r->start_ms, tb));
    add_summary(site, r, &s);
    cJSON_AddItemToObject(root, "circuits", sim_report__circuits_json(r));
    cJSON_AddItemToObject(root, "vehicles", vehicles_json(r));
    cJSON *c = cJSON_AddObjectToObject(root, "messages");
    cJSON_AddNumberToObject(c, "sent", (double)r->c.sent);
    cJSON_AddNumberToObject(c, "received", (double)r->c.received);
    cJSON_AddNumberToObject(c, "callErrorsIn", (double)r->c.callerrors_in);
    cJSON_AddNumberToObject(c, "callErrorsOut", (double)r->c.callerrors_out);
    cJSON_AddNumberToObject(c, "invalidFrames", (double)r->c.invalid_frames);
    cJSON_AddNumberToObject(c, "timeouts", (double)r->c.timeouts);
    cJSON_AddNumberToObject(c, "reconnects", (double)r->c.reconnects);
    cJSON_AddNumberToObject(c, "resumedWithoutBoot", (double)r->c.resumed);
    cJSON_AddNumberToObject(c, "resumeRefused", (double)r->c.resume_refused);
    cJSON_AddNumberToObject(c, "replayed", (double)r->c.replayed);
    cJSON_AddNumberToObject(c, "profilesAccepted", (double)r->c.profiles_accepted);
    cJSON_AddNumberToObject(c, "profilesRejected", (double)r->c.profiles_rejected);
    if (baseline) {
        struct sim_site_summary b;
        sim_report_summary(baseline, prices, &b);
        /* Shaped like `depotsim baseline --json`: site and vehicles, plus what control saved. */
        cJSON *bo = cJSON_AddObjectToObject(root, "baseline");
        if (!isnan(s.cost_eur) && !isnan(b.cost_eur))
            cJSON_AddNumberToObject(bo, "savingEur", b.cost_eur - s.cost_eur);
        cJSON *bsite = cJSON_AddObjectToObject(bo, "site");
        cJSON_AddStringToObject(bsite, "start", sim_time_format(baseline->start_ms, tb));
        add_summary(bsite, baseline, &b);
        cJSON_AddItemToObject(bo, "circuits", sim_report__circuits_json(baseline));
        cJSON_AddItemToObject(bo, "vehicles", vehicles_json(baseline));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    int rc = f ? 0 : -1;
    if (f) {
        if (fputs(text, f) < 0)
            rc = -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    if (rc && err && len)
        snprintf(err, len, "%s: cannot write", path);
    free(text);
    return rc;
}

void sim_report_print_comparison(const struct sim_report *ctl, const struct sim_report *base,
                                 const struct sim_prices *prices, FILE *out)
{
    struct sim_site_summary c, b;
    sim_report_summary(ctl, prices, &c);
    sim_report_summary(base, prices, &b);
    char cv[32], bv[32];
    fprintf(out, "\n%-26s %14s %14s %14s\n", "controlled vs uncontrolled", "controlled", "baseline", "saving");
    fprintf(out, "%-26s %14.2f %14.2f\n", "energy delivered kWh", c.delivered_kwh, b.delivered_kwh);
    fprintf(out, "%-26s %14.2f %14.2f\n", "energy needed kWh", c.requested_kwh, b.requested_kwh);
    snprintf(cv, sizeof cv, "%d/%d", c.vehicles_met, c.vehicles);
    snprintf(bv, sizeof bv, "%d/%d", b.vehicles_met, b.vehicles);
    fprintf(out, "%-26s %14s %14s\n", "vehicles met", cv, bv);
    if (!isnan(c.cost_eur) && !isnan(b.cost_eur)) {
        double saving = b.cost_eur - c.cost_eur;
        fprintf(out, "%-26s %14.2f %14.2f %14.2f", "cost EUR", c.cost_eur, b.cost_eur, saving);
        if (b.cost_eur > 0)
            fprintf(out, " (%.1f %%)", 100.0 * saving / b.cost_eur);
        fprintf(out, "\n");
        if (c.energy_kwh > 0 && b.energy_kwh > 0)
            fprintf(out, "%-26s %14.4f %14.4f %14.4f\n", "average EUR/kWh", c.cost_eur / c.energy_kwh,
                    b.cost_eur / b.energy_kwh, b.cost_eur / b.energy_kwh - c.cost_eur / c.energy_kwh);
    }
    /* + 0.0: a saving of -0.00 reads as a loss. */
    fprintf(out, "%-26s %14.2f %14.2f %14.2f\n", "peak kW (1-min average)", c.max_kw, b.max_kw,
            fabs(b.max_kw - c.max_kw) < 0.005 ? 0.0 : b.max_kw - c.max_kw);
    fprintf(out, "%-26s %14d %14d %14d\n", "minutes above limit", c.minutes_above, b.minutes_above,
            b.minutes_above - c.minutes_above);
    if (ctl->grid_limit_w > 0)
        fprintf(out, "%-26s %14.2f %14.2f\n", "grid limit kW", ctl->grid_limit_w / 1000.0, base->grid_limit_w / 1000.0);
    sim_report__compare_circuits(ctl, base, out);
}
