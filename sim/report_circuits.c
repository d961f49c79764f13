/* The report's circuits: each circuit's one-minute figures per grid phase against its breaker (report.h). */
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

int sim_report_circuit_count(const struct sim_report *r)
{
    return r->ncircuits;
}

const struct sim_circuit *sim_report_circuit_summary(const struct sim_report *r, int i,
                                                     struct sim_circuit_summary *o)
{
    memset(o, 0, sizeof *o);
    if (i < 0 || i >= r->ncircuits)
        return NULL;
    const struct sim_circuit *c = &r->circuits[i];
    const double *wh = r->circuit_wh + (size_t)i * 3 * (size_t)r->minutes;
    double limit_kw = c->limit_w / 1000.0;
    struct sim_report__peak total = {0}, phase[3] = {{0}}, worst = {0};
    for (int m = 0; m < r->minutes; m++) {
        double kw[3], sum = 0, top = 0;
        for (int p = 0; p < 3; p++) {
            kw[p] = sim_report__kw(wh[(size_t)p * (size_t)r->minutes + (size_t)m]);
            sim_report__peak_add(&phase[p], kw[p], 0);
            sum += kw[p];
            if (kw[p] > top)
                top = kw[p];
        }
        sim_report__peak_add(&total, sum, c->per_phase ? 0 : limit_kw);
        /* A breaker per phase trips on its most loaded phase: the others' headroom does not help it. */
        if (c->per_phase)
            sim_report__peak_add(&worst, top, limit_kw);
    }
    const struct sim_report__peak *above = c->per_phase ? &worst : &total;
    o->max_kw = total.max_kw;
    o->minutes_above = above->minutes_above;
    o->worst_exceed_kw = above->worst_exceed_kw;
    for (int p = 0; p < 3; p++)
        o->phase_max_kw[p] = phase[p].max_kw;
    return c;
}

static const char *parent_id(const struct sim_report *r, const struct sim_circuit *c)
{
    return c->parent > 0 && c->parent <= r->ncircuits ? r->circuits[c->parent - 1].id : NULL;
}

static void limit_text(const struct sim_circuit *c, char *buf, size_t len)
{
    if (c->limit_a > 0)
        snprintf(buf, len, "%.0f A/phase = %.2f kW", c->limit_a, c->limit_w / 1000.0);
    else
        snprintf(buf, len, "%.2f kW%s", c->limit_w / 1000.0, c->per_phase ? "/phase" : "");
}

void sim_report__print_circuits(const struct sim_report *r, FILE *out)
{
    if (!r->ncircuits)
        return;
    fprintf(out, "\ncircuits: one-minute averages; L1..L3 each grid phase's highest minute; a per-phase limit is "
                 "checked on each minute's worst phase\n");
    fprintf(out, "%-12s %-12s %-24s %9s %9s %9s %9s %10s %9s\n", "circuit", "parent", "limit", "max kW", "L1 kW",
            "L2 kW", "L3 kW", "min above", "worst kW");
    char lim[64];
    for (int i = 0; i < r->ncircuits; i++) {
        struct sim_circuit_summary s;
        const struct sim_circuit *c = sim_report_circuit_summary(r, i, &s);
        const char *parent = parent_id(r, c);
        limit_text(c, lim, sizeof lim);
        fprintf(out, "%-12s %-12s %-24s %9.2f %9.2f %9.2f %9.2f %10d %9.2f\n", c->id, parent ? parent : "(site)", lim,
                s.max_kw, s.phase_max_kw[0], s.phase_max_kw[1], s.phase_max_kw[2], s.minutes_above,
                s.worst_exceed_kw);
    }
    struct sim_site_summary s;
    sim_report_summary(r, NULL, &s);
    snprintf(lim, sizeof lim, r->grid_limit_w > 0 ? "%.2f kW" : "-", r->grid_limit_w / 1000.0);
    fprintf(out, "%-12s %-12s %-24s %9.2f %9.2f %9.2f %9.2f %10d %9.2f\n", "site", "", lim, s.max_kw,
            s.phase_max_kw[0], s.phase_max_kw[1], s.phase_max_kw[2], s.minutes_above, s.worst_exceed_kw);
}

void sim_report__compare_circuits(const struct sim_report *ctl, const struct sim_report *base, FILE *out)
{
    /* Both runs come from one depot file; anything else has nothing to compare. */
    if (ctl->ncircuits != base->ncircuits)
        return;
    for (int i = 0; i < ctl->ncircuits; i++) {
        struct sim_circuit_summary c, b;
        const struct sim_circuit *cc = sim_report_circuit_summary(ctl, i, &c);
        sim_report_circuit_summary(base, i, &b);
        char name[40];
        snprintf(name, sizeof name, "min above %.16s", cc->id);
        fprintf(out, "%-26s %14d %14d %14d\n", name, c.minutes_above, b.minutes_above,
                b.minutes_above - c.minutes_above);
    }
}

cJSON *sim_report__circuits_json(const struct sim_report *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < r->ncircuits; i++) {
        struct sim_circuit_summary s;
        const struct sim_circuit *c = sim_report_circuit_summary(r, i, &s);
        const char *parent = parent_id(r, c);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->id);
        if (parent)
            cJSON_AddStringToObject(o, "parent", parent);
        else
            cJSON_AddNullToObject(o, "parent");
        /* The limit as the depot file gave it. */
        if (c->limit_a > 0)
            cJSON_AddNumberToObject(o, "limitA", c->limit_a);
        else
            cJSON_AddNumberToObject(o, "limitKw", c->limit_w / 1000.0);
        cJSON_AddBoolToObject(o, "perPhase", c->per_phase);
        cJSON_AddNumberToObject(o, "maxKw", s.max_kw);
        cJSON_AddItemToObject(o, "phaseMaxKw", cJSON_CreateDoubleArray(s.phase_max_kw, 3));
        cJSON_AddNumberToObject(o, "minutesAboveLimit", s.minutes_above);
        cJSON_AddNumberToObject(o, "worstExceedanceKw", s.worst_exceed_kw);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
