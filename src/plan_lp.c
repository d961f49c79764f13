/*
 * plan_lp.c - the plan event's "lp" (plan_lp.h): written and read by the same code, so the two cannot drift.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_lp.h"

static cJSON *num_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    /* INFINITY is not JSON: null means unlimited. */
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

cJSON *plan_lp_to_json(const struct opt_problem *pb, const struct opt_options *o)
{
    cJSON *lp = cJSON_CreateObject();
    cJSON_AddNumberToObject(lp, "slots", pb->slots);
    cJSON_AddNumberToObject(lp, "slot_hours", pb->slot_hours);
    cJSON_AddNumberToObject(lp, "first_slot_hours", pb->first_slot_hours);
    if (pb->first_parts > 1) cJSON_AddItemToObject(lp, "first_part_hours", num_array(pb->first_part_hours, pb->first_parts));
    cJSON_AddNumberToObject(lp, "epoch_slot", (double)pb->epoch_slot);
    cJSON_AddItemToObject(lp, "price", num_array(pb->price, pb->slots));
    cJSON_AddItemToObject(lp, "site_limit_kw", num_array(pb->site_limit_kw, pb->slots));
    cJSON_AddNumberToObject(lp, "demand_charge", pb->demand_charge);
    cJSON_AddNumberToObject(lp, "existing_peak_kw", pb->existing_peak_kw);
    cJSON *ss = cJSON_AddArrayToObject(lp, "sessions");
    for (int i = 0; i < pb->n_sessions; i++) {
        const struct opt_session *s = &pb->sessions[i];
        cJSON *o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "id", s->id);
        cJSON_AddNumberToObject(o2, "first_slot", s->first_slot);
        cJSON_AddNumberToObject(o2, "end_slot", s->end_slot);
        if (s->last_slot_hours > 0) cJSON_AddNumberToObject(o2, "last_slot_hours", s->last_slot_hours);
        cJSON_AddNumberToObject(o2, "energy_kwh", s->energy_kwh);
        cJSON_AddNumberToObject(o2, "efficiency", s->efficiency);
        cJSON_AddNumberToObject(o2, "max_kw", s->max_kw);
        if (s->max_kw_slot) cJSON_AddItemToObject(o2, "max_kw_slot", num_array(s->max_kw_slot, pb->slots));
        cJSON_AddNumberToObject(o2, "min_kw", s->min_kw);
        cJSON_AddNumberToObject(o2, "priority", s->priority);
        if (s->earliness_weight > 0 && s->earliness_weight != 1)
            cJSON_AddNumberToObject(o2, "earliness_weight", s->earliness_weight);
        cJSON_AddNumberToObject(o2, "circuit", s->circuit);
        cJSON_AddNumberToObject(o2, "phases", s->phases);
        cJSON_AddItemToArray(ss, o2);
    }
    cJSON *cs = cJSON_AddArrayToObject(lp, "circuits");
    for (int c = 0; c < pb->n_circuits; c++) {
        const struct opt_circuit *ci = &pb->circuits[c];
        cJSON *o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "id", ci->id ? ci->id : "");
        cJSON_AddNumberToObject(o2, "parent", ci->parent);
        if (isfinite(ci->limit_kw)) cJSON_AddNumberToObject(o2, "limit_kw", ci->limit_kw);
        else cJSON_AddNullToObject(o2, "limit_kw");
        cJSON_AddNumberToObject(o2, "per_phase", ci->per_phase);
        if (ci->limit_kw_slot) cJSON_AddItemToObject(o2, "limit_kw_slot", num_array(ci->limit_kw_slot, pb->slots));
        cJSON_AddItemToArray(cs, o2);
    }
    cJSON_AddNumberToObject(lp, "coarse_slot_hours", pb->coarse_slot_hours);
    cJSON_AddNumberToObject(lp, "fine_hours", pb->fine_hours);
    cJSON *op = cJSON_AddObjectToObject(lp, "options");
    cJSON_AddNumberToObject(op, "time_limit_ms", o->time_limit_ms);
    cJSON_AddNumberToObject(op, "max_mip_binaries", o->max_mip_binaries);
    cJSON_AddNumberToObject(op, "earliness", o->earliness);
    return lp;
}


void plan_lp_free(struct plan_lp *l)
{
    free(l->price);
    free(l->limit);
    free(l->max_slot);
    free(l->sessions);
    free(l->circuits);
    free(l->circuit_slot);
    free(l->parts);
}

static double num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsNull(v) ? INFINITY : def;
}

static int read_array(const cJSON *a, double *out, int n, char *err, size_t err_len, const char *what)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) {
        snprintf(err, err_len, "lp.%s: an array of %d numbers", what, n);
        return -1;
    }
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) out[i++] = cJSON_IsNumber(v) ? v->valuedouble : INFINITY;
    return 0;
}

int plan_lp_read(const cJSON *lp, struct plan_lp *l, char *err, size_t err_len)
{
    memset(l, 0, sizeof *l);
    int T = (int)num(lp, "slots", 0);
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(lp, "sessions");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(lp, "circuits");
    if (T < 1 || T > 100000 || !cJSON_IsArray(ss) || !cJSON_IsArray(cs)) {
        snprintf(err, err_len, "lp: slots, sessions and circuits are required");
        return -1;
    }
    int n = cJSON_GetArraySize(ss), nc = cJSON_GetArraySize(cs);
    l->price = calloc((size_t)T, sizeof(double));
    l->limit = calloc((size_t)T, sizeof(double));
    l->max_slot = calloc((size_t)T * (size_t)(n + 1), sizeof(double));
    l->sessions = calloc((size_t)n + 1, sizeof *l->sessions);
    l->circuits = calloc((size_t)nc + 1, sizeof *l->circuits);
    l->circuit_slot = calloc((size_t)T * (size_t)(nc + 1), sizeof(double));
    if (!l->price || !l->limit || !l->max_slot || !l->sessions || !l->circuits || !l->circuit_slot) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (read_array(cJSON_GetObjectItemCaseSensitive(lp, "price"), l->price, T, err, err_len, "price") ||
        read_array(cJSON_GetObjectItemCaseSensitive(lp, "site_limit_kw"), l->limit, T, err, err_len, "site_limit_kw"))
        return -1;
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, ss) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
        const cJSON *mks = cJSON_GetObjectItemCaseSensitive(s, "max_kw_slot");
        struct opt_session *o = &l->sessions[i];
        *o = (struct opt_session){
            .id = cJSON_IsString(id) ? id->valuestring : "?",
            .first_slot = (int)num(s, "first_slot", 0),
            .end_slot = (int)num(s, "end_slot", 0),
            .last_slot_hours = num(s, "last_slot_hours", 0),
            .energy_kwh = num(s, "energy_kwh", 0),
            .efficiency = num(s, "efficiency", 1),
            .max_kw = num(s, "max_kw", 0),
            .min_kw = num(s, "min_kw", 0),
            .priority = num(s, "priority", 1),
            .earliness_weight = num(s, "earliness_weight", 1),
            .circuit = (int)num(s, "circuit", -1),
            .phases = (enum opt_phases)(int)num(s, "phases", 0),
        };
        if (mks) {
            if (read_array(mks, &l->max_slot[(size_t)i * T], T, err, err_len, "sessions[].max_kw_slot")) return -1;
            o->max_kw_slot = &l->max_slot[(size_t)i * T];
        }
        i++;
    }
    int c = 0;
    cJSON_ArrayForEach(s, cs) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
        const cJSON *lks = cJSON_GetObjectItemCaseSensitive(s, "limit_kw_slot");
        l->circuits[c] = (struct opt_circuit){.id = cJSON_IsString(id) ? id->valuestring : NULL,
                                              .parent = (int)num(s, "parent", -1),
                                              .limit_kw = num(s, "limit_kw", INFINITY),
                                              .per_phase = (int)num(s, "per_phase", 0)};
        if (lks) {
            if (read_array(lks, &l->circuit_slot[(size_t)c * T], T, err, err_len, "circuits[].limit_kw_slot")) return -1;
            l->circuits[c].limit_kw_slot = &l->circuit_slot[(size_t)c * T];
        }
        c++;
    }
    l->pb = (struct opt_problem){
        .slots = T,
        .slot_hours = num(lp, "slot_hours", 0.25),
        .first_slot_hours = num(lp, "first_slot_hours", 0),
        .epoch_slot = (int64_t)num(lp, "epoch_slot", 0),
        .price = l->price,
        .site_limit_kw = l->limit,
        .demand_charge = num(lp, "demand_charge", 0),
        .existing_peak_kw = num(lp, "existing_peak_kw", 0),
        .sessions = l->sessions,
        .n_sessions = n,
        .circuits = nc ? l->circuits : NULL,
        .n_circuits = nc,
        .coarse_slot_hours = num(lp, "coarse_slot_hours", 0),
        .fine_hours = num(lp, "fine_hours", 0),
    };
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(lp, "first_part_hours");
    if (cJSON_IsArray(parts) && cJSON_GetArraySize(parts) > 1) {
        int k = cJSON_GetArraySize(parts);
        if (k > T || !(l->parts = calloc((size_t)k, sizeof(double)))) {
            snprintf(err, err_len, "lp: first_part_hours: more parts than slots, or out of memory");
            return -1;
        }
        if (read_array(parts, l->parts, k, err, err_len, "first_part_hours")) return -1;
        l->pb.first_parts = k;
        l->pb.first_part_hours = l->parts;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(lp, "options");
    l->opts.time_limit_ms = (int)num(op, "time_limit_ms", 0);
    l->opts.max_mip_binaries = (int)num(op, "max_mip_binaries", 0);
    l->opts.earliness = num(op, "earliness", 0);
    return 0;
}
