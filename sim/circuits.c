/* The depot's circuits and phase wiring (circuits.h). */
#include "circuits.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int sim_circuit_find(const struct sim_circuit *c, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(c[i].id, id) == 0)
            return i + 1;
    return 0;
}

/* One entry without its parent (parents may name circuits further down the array). */
static int circuit_from_json(const cJSON *js, int i, struct sim_circuit *all, char *err, size_t len)
{
    struct sim_circuit *c = &all[i];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(js, "id");
    if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) > SIM_ID_MAX)
        return fail(err, len, "circuits[%d].id: missing or longer than %d characters", i, SIM_ID_MAX);
    if (sim_circuit_find(all, i, id->valuestring))
        return fail(err, len, "circuits[%d].id: \"%s\" appears twice", i, id->valuestring);
    snprintf(c->id, sizeof c->id, "%s", id->valuestring);
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(js, "limitKw");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(js, "limitA");
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(js, "perPhase");
    if (!kw == !a)
        return fail(err, len, "circuits[%d] (\"%s\"): exactly one of limitKw and limitA", i, c->id);
    if (pp && !cJSON_IsBool(pp))
        return fail(err, len, "circuits[%d].perPhase: true or false", i);
    c->per_phase = cJSON_IsTrue(pp);
    if (kw) {
        if (!cJSON_IsNumber(kw) || kw->valuedouble <= 0)
            return fail(err, len, "circuits[%d].limitKw: a number > 0", i);
        c->limit_w = kw->valuedouble * 1000;
        return 0;
    }
    if (!cJSON_IsNumber(a) || a->valuedouble <= 0)
        return fail(err, len, "circuits[%d].limitA: a number > 0", i);
    /* A breaker's current is per phase: limitA cannot bound a total. */
    if (pp && !c->per_phase)
        return fail(err, len, "circuits[%d].limitA: a current is per phase (drop \"perPhase\": false)", i);
    c->per_phase = true;
    c->limit_a = a->valuedouble;
    c->limit_w = a->valuedouble * SIM_PHASE_VOLTAGE_V;
    return 0;
}

static int link_parent(const cJSON *js, int i, struct sim_circuit *all, int n, char *err, size_t len)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(js, "parent");
    if (!p || cJSON_IsNull(p))
        return 0;
    if (!cJSON_IsString(p))
        return fail(err, len, "circuits[%d].parent: the id of another circuit", i);
    all[i].parent = sim_circuit_find(all, n, p->valuestring);
    if (!all[i].parent)
        return fail(err, len, "circuits[%d].parent: no circuit \"%s\"", i, p->valuestring);
    return 0;
}

/* A chain of parents longer than the number of circuits comes back to where it passed: a cycle. */
static int check_cycles(const struct sim_circuit *c, int n, char *err, size_t len)
{
    for (int i = 0; i < n; i++) {
        int at = i + 1, steps = 0;
        while (at && steps <= n) {
            at = c[at - 1].parent;
            steps++;
        }
        if (at)
            return fail(err, len, "circuits[%d].parent: \"%s\" is in a cycle of parents", i, c[i].id);
    }
    return 0;
}

int sim_circuits_parse(const cJSON *arr, struct sim_circuit **out, char *err, size_t len)
{
    *out = NULL;
    if (!arr || cJSON_IsNull(arr))
        return 0;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > SIM_CIRCUITS_MAX)
        return fail(err, len, "circuits: an array of at most %d", SIM_CIRCUITS_MAX);
    if (n == 0)
        return 0;
    struct sim_circuit *c = calloc((size_t)n, sizeof *c);
    if (!c)
        return fail(err, len, "circuits: out of memory");
    int i = 0;
    const cJSON *js;
    cJSON_ArrayForEach(js, arr) {
        if (circuit_from_json(js, i++, c, err, len))
            goto bad;
    }
    i = 0;
    cJSON_ArrayForEach(js, arr) {
        if (link_parent(js, i++, c, n, err, len))
            goto bad;
    }
    if (check_cycles(c, n, err, len))
        goto bad;
    *out = c;
    return n;
bad:
    free(c);
    return -1;
}

/* The six ways three phases can be wired; index 0 is the identity. */
static const char rotations[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
static const char *const rotation_names[6] = {"L1L2L3", "L1L3L2", "L2L1L3", "L2L3L1", "L3L1L2", "L3L2L1"};

int sim_rotation_parse(const char *s)
{
    for (int i = 0; s && i < 6; i++)
        if (strcmp(s, rotation_names[i]) == 0)
            return i;
    return -1;
}

const char *sim_rotation_name(int rotation)
{
    return rotation >= 0 && rotation < 6 ? rotation_names[rotation] : "?";
}

int sim_rotation_grid_phase(int rotation, int station_phase)
{
    if (rotation < 0 || rotation >= 6 || station_phase < 0 || station_phase > 2)
        return station_phase;
    return rotations[rotation][station_phase];
}

int sim_draw_phases(const struct sim_station_spec *sp, int ev_phases)
{
    if (sp->dc)
        return 3;
    return sp->phases == 1 || ev_phases == 1 ? 1 : 3;
}

double sim_evse_max_w_for(const struct sim_station_spec *sp, int ev_phases)
{
    if (sp->dc || sp->phases <= 1 || ev_phases <= 0 || ev_phases >= sp->phases)
        return sp->evse_max_w;
    return sp->evse_max_w * ev_phases / sp->phases;
}

void sim_phase_split(double wh, const struct sim_station_spec *sp, int ev_phases, int rotation, double out[3])
{
    if (sim_draw_phases(sp, ev_phases) == 1) {
        out[0] = out[1] = out[2] = 0;
        out[sim_rotation_grid_phase(rotation, 0)] = wh;
        return;
    }
    out[0] = out[1] = out[2] = wh / 3.0;
}
