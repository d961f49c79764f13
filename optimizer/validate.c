/* validate.c - every input check, with an error naming the field. Runs before anything touches GLPK. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void opt_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void opt_resolve_options(const struct opt_options *in, struct opt_options *out)
{
    static const struct opt_options zero;
    *out = in ? *in : zero;
    if (out->max_sessions <= 0)
        out->max_sessions = 2000;
    if (out->max_slots <= 0)
        out->max_slots = 2880;
    if (out->time_limit_ms <= 0)
        out->time_limit_ms = 5000;
    if (out->earliness == 0)
        out->earliness = 1e-4;
    else if (out->earliness < 0)
        out->earliness = 0;
    if (out->max_mip_binaries == 0)
        out->max_mip_binaries = 2000;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_ids_unique(const struct opt_problem *pb, char *err, size_t errlen)
{
    if (pb->n_sessions < 2)
        return OPT_OK;
    const char **ids = malloc(sizeof(*ids) * (size_t)pb->n_sessions);
    if (!ids) {
        opt_errf(err, errlen, "out of memory");
        return OPT_ENOMEM;
    }
    for (int i = 0; i < pb->n_sessions; i++)
        ids[i] = pb->sessions[i].id;
    qsort(ids, (size_t)pb->n_sessions, sizeof(*ids), cmp_str);
    int rc = OPT_OK;
    for (int i = 1; i < pb->n_sessions; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            opt_errf(err, errlen, "sessions: id \"%s\" appears twice", ids[i]);
            rc = OPT_EINVAL;
            break;
        }
    free(ids);
    return rc;
}

static int check_session(const struct opt_problem *pb, int i, char *err, size_t errlen)
{
    const struct opt_session *s = &pb->sessions[i];
    if (!s->id) {
        opt_errf(err, errlen, "sessions[%d].id: missing", i);
        return OPT_EINVAL;
    }
#define BAD(...) do { opt_errf(err, errlen, __VA_ARGS__); return OPT_EINVAL; } while (0)
    if (s->first_slot < 0)
        BAD("session %s: first_slot %d is negative (use 0 for a vehicle already plugged in)", s->id,
            s->first_slot);
    if (s->end_slot < s->first_slot)
        BAD("session %s: departure (end_slot %d) before arrival (first_slot %d)", s->id, s->end_slot,
            s->first_slot);
    if (!isfinite(s->last_slot_hours) || s->last_slot_hours < 0 || s->last_slot_hours > pb->slot_hours)
        BAD("session %s: last_slot_hours %g must be in [0, slot_hours] (0: the whole slot)", s->id, s->last_slot_hours);
    if (!isfinite(s->energy_kwh) || s->energy_kwh < 0)
        BAD("session %s: energy_kwh %g must be finite and >= 0", s->id, s->energy_kwh);
    if (!isfinite(s->efficiency) || s->efficiency < 0 || s->efficiency > 1)
        BAD("session %s: efficiency %g must be in (0, 1] (0 means 1)", s->id, s->efficiency);
    if (!isfinite(s->max_kw) || s->max_kw < 0)
        BAD("session %s: max_kw %g must be finite and >= 0", s->id, s->max_kw);
    if (s->max_kw_slot)
        for (int t = 0; t < pb->slots; t++)
            if (!isfinite(s->max_kw_slot[t]) || s->max_kw_slot[t] < 0)
                BAD("session %s: max_kw_slot[%d] %g must be finite and >= 0", s->id, t, s->max_kw_slot[t]);
    if (!isfinite(s->min_kw) || s->min_kw < 0)
        BAD("session %s: min_kw %g must be finite and >= 0", s->id, s->min_kw);
    if (!isfinite(s->priority) || s->priority < 0)
        BAD("session %s: priority %g must be finite and >= 0", s->id, s->priority);
    if (!isfinite(s->earliness_weight) || s->earliness_weight < 0 || s->earliness_weight > 1000)
        BAD("session %s: earliness_weight %g must be in [0, 1000]", s->id, s->earliness_weight);
    if (s->circuit < -1 || s->circuit >= pb->n_circuits)
        BAD("session %s: circuit %d does not exist (%d circuits; -1 for none)", s->id, s->circuit,
            pb->n_circuits);
    if (s->phases < OPT_THREE_PHASE || s->phases > OPT_PHASE_L3)
        BAD("session %s: phases %d is not 0 (three-phase) or 1..3", s->id, (int)s->phases);
    return OPT_OK;
}

int opt_validate_resolved(const struct opt_problem *pb, const struct opt_options *o, char *err, size_t errlen)
{
    if (!pb)
        BAD("problem: NULL");
    if (o->simplex < OPT_SIMPLEX_AUTO || o->simplex > OPT_SIMPLEX_PRIMAL)
        BAD("options.simplex %d: must be 0 (auto), 1 (dual) or 2 (primal)", o->simplex);
    if (pb->slots < 1 || pb->slots > o->max_slots)
        BAD("slots %d: must be 1..%d", pb->slots, o->max_slots);
    if (!isfinite(pb->slot_hours) || pb->slot_hours <= 0)
        BAD("slot_hours %g must be > 0", pb->slot_hours);
    if (!isfinite(pb->first_slot_hours) || pb->first_slot_hours < 0 || pb->first_slot_hours > pb->slot_hours)
        BAD("first_slot_hours %g must be in (0, slot_hours] (0 means a whole slot)", pb->first_slot_hours);
    if (pb->first_parts < 0 || pb->first_parts > pb->slots)
        BAD("first_parts %d: must be 0..slots (%d)", pb->first_parts, pb->slots);
    if (pb->first_parts > 1) {
        if (!pb->first_part_hours)
            BAD("first_part_hours: missing (first_parts %d)", pb->first_parts);
        double sum = 0, first = pb->first_slot_hours > 0 ? pb->first_slot_hours : pb->slot_hours;
        for (int k = 0; k < pb->first_parts; k++) {
            if (!isfinite(pb->first_part_hours[k]) || pb->first_part_hours[k] <= 0)
                BAD("first_part_hours[%d] %g must be > 0", k, pb->first_part_hours[k]);
            sum += pb->first_part_hours[k];
        }
        if (fabs(sum - first) > 1e-9 * pb->slot_hours)
            BAD("first_part_hours sum to %g, not first_slot_hours %g", sum, first);
    }
    if (!isfinite(pb->coarse_slot_hours) || pb->coarse_slot_hours < 0)
        BAD("coarse_slot_hours %g must be 0 (off) or > 0", pb->coarse_slot_hours);
    if (pb->coarse_slot_hours > 0) {
        double k = round(pb->coarse_slot_hours / pb->slot_hours);
        if (k < 1 || fabs(k * pb->slot_hours - pb->coarse_slot_hours) > 1e-9 * pb->coarse_slot_hours)
            BAD("coarse_slot_hours %g must be a whole multiple of slot_hours %g", pb->coarse_slot_hours,
                pb->slot_hours);
        if (!isfinite(pb->fine_hours) || pb->fine_hours < 0)
            BAD("fine_hours %g must be finite and >= 0", pb->fine_hours);
    }
    if (!pb->price)
        BAD("price: missing");
    if (!pb->site_limit_kw)
        BAD("site_limit_kw: missing");
    for (int t = 0; t < pb->slots; t++) {
        if (!isfinite(pb->price[t]))
            BAD("price[%d] is %g: prices must be finite numbers", t, pb->price[t]);
        if (isnan(pb->site_limit_kw[t]) || pb->site_limit_kw[t] < 0)
            BAD("site_limit_kw[%d] is %g: limits must be >= 0", t, pb->site_limit_kw[t]);
    }
    if (!isfinite(pb->demand_charge) || pb->demand_charge < 0)
        BAD("demand_charge %g must be finite and >= 0", pb->demand_charge);
    if (!isfinite(pb->existing_peak_kw) || pb->existing_peak_kw < 0)
        BAD("existing_peak_kw %g must be finite and >= 0", pb->existing_peak_kw);
    if (pb->n_circuits < 0 || (pb->n_circuits > 0 && !pb->circuits))
        BAD("circuits: n_circuits %d without an array", pb->n_circuits);
    for (int c = 0; c < pb->n_circuits; c++) {
        const struct opt_circuit *k = &pb->circuits[c];
        const char *name = k->id ? k->id : "";
        if (k->parent < -1 || k->parent >= c)
            BAD("circuits[%d] %s: parent %d must be -1 or an earlier circuit", c, name, k->parent);
        if (isnan(k->limit_kw) || k->limit_kw < 0)
            BAD("circuits[%d] %s: limit_kw %g must be >= 0", c, name, k->limit_kw);
        for (int t = 0; k->limit_kw_slot && t < pb->slots; t++)
            if (isnan(k->limit_kw_slot[t]) || k->limit_kw_slot[t] < 0)
                BAD("circuits[%d] %s: limit_kw_slot[%d] %g must be >= 0", c, name, t, k->limit_kw_slot[t]);
    }
    if (pb->n_sessions < 0 || (pb->n_sessions > 0 && !pb->sessions))
        BAD("sessions: n_sessions %d without an array", pb->n_sessions);
    if (pb->n_sessions > o->max_sessions)
        BAD("sessions: %d is more than the configured maximum %d", pb->n_sessions, o->max_sessions);
    for (int i = 0; i < pb->n_sessions; i++) {
        int rc = check_session(pb, i, err, errlen);
        if (rc)
            return rc;
    }
    return check_ids_unique(pb, err, errlen);
#undef BAD
}

int opt_validate(const struct opt_problem *pb, const struct opt_options *opts, char *err, size_t errlen)
{
    struct opt_options o;
    opt_resolve_options(opts, &o);
    return opt_validate_resolved(pb, &o, err, errlen);
}

/*
 * Valid but unsafe for a simplex with default tolerances (1e-7 feasibility, 1e-9 pivots): the shortfall
 * penalty must dwarf prices, so extreme priority ratios or prices push coefficients out of range.
 */
const char *opt_degenerate(const struct opt_problem *pb)
{
    double wmin = INFINITY, wmax = 0, pmax = 0;
    for (int i = 0; i < pb->n_sessions; i++) {
        double w = pb->sessions[i].priority > 0 ? pb->sessions[i].priority : 1;
        wmin = fmin(wmin, w);
        wmax = fmax(wmax, w);
        double e = pb->sessions[i].efficiency > 0 ? pb->sessions[i].efficiency : 1;
        if (e < 1e-3)
            return "efficiency below 0.001";
        if (pb->sessions[i].energy_kwh > 1e7 || pb->sessions[i].max_kw > 1e7)
            return "energy or power above 1e7";
    }
    if (pb->n_sessions && wmax / wmin > 1e6)
        return "priority ratio above 1e6";
    for (int t = 0; t < pb->slots; t++)
        pmax = fmax(pmax, fabs(pb->price[t]));
    if (pmax > 1e6)
        return "price magnitude above 1e6 per kWh";
    if (pmax > 0 && pb->demand_charge / pmax > 1e7)
        return "demand charge above 1e7 times the highest price";
    if (pb->first_slot_hours > 0 && pb->first_slot_hours < 1e-6 * pb->slot_hours)
        return "first slot shorter than 1e-6 slot";
    for (int k = 0; pb->first_parts > 1 && k < pb->first_parts; k++)
        if (pb->first_part_hours[k] < 1e-6 * pb->slot_hours)
            return "a part of the first slot shorter than 1e-6 slot";
    return NULL;
}
