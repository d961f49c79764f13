/* The depot file: the stations depotsim plays. */
#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

char *sim_read_file(const char *path, size_t max_bytes, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, len, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return fail(err, len, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (n > max_bytes) {
            free(buf);
            fclose(f);
            return fail(err, len, "%s: larger than %zu bytes", path, max_bytes);
        }
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static double num(const cJSON *o, const char *name, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int station_from_json(const cJSON *js, int index, struct sim_station_cfg *st, char *err, size_t len)
{
    memset(st, 0, sizeof *st);
    const char *id = str(js, "id", NULL);
    if (!id || !*id || strlen(id) > 30) {
        fail(err, len, "stations[%d].id: missing or longer than 30 characters", index);
        return -1;
    }
    snprintf(st->id, sizeof st->id, "%s", id);
    snprintf(st->password, sizeof st->password, "%s", str(js, "password", ""));
    snprintf(st->vendor, sizeof st->vendor, "%s", str(js, "vendor", "depotsim"));
    snprintf(st->model, sizeof st->model, "%s", str(js, "model", "sim-ac22"));
    snprintf(st->firmware, sizeof st->firmware, "%s", str(js, "firmware", "0.1.0"));
    struct sim_station_spec *sp = &st->spec;
    sp->evse_count = (int)num(js, "evses", 1);
    if (sp->evse_count < 1 || sp->evse_count > SIM_EVSE_MAX) {
        fail(err, len, "stations[%d].evses: 1..%d", index, SIM_EVSE_MAX);
        return -1;
    }
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(js, "ac");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(js, "dc");
    if (cJSON_IsObject(dc)) {
        sp->dc = true;
        sp->phases = 1;
        sp->voltage_v = num(dc, "voltageV", 400);
        sp->evse_max_w = num(dc, "maxPowerKw", 0) * 1000;
    } else {
        sp->phases = (int)num(ac, "phases", 3);
        sp->voltage_v = num(ac, "voltageV", 230);
        st->max_current_a = num(ac, "maxCurrentA", 32);
        sp->evse_max_w = st->max_current_a * sp->phases * sp->voltage_v;
    }
    if (sp->evse_max_w <= 0 || sp->voltage_v <= 0 || (!sp->dc && sp->phases != 1 && sp->phases != 3)) {
        fail(err, len, "stations[%d]: needs ac {phases 1|3, maxCurrentA, voltageV} or dc {maxPowerKw}", index);
        return -1;
    }
    sp->station_max_w = num(js, "stationMaxKw", 0) * 1000;
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(js, "rateUnits");
    if (cJSON_IsArray(units)) {
        const cJSON *u;
        cJSON_ArrayForEach(u, units) {
            if (cJSON_IsString(u) && strcmp(u->valuestring, "A") == 0)
                sp->unit_a = true;
            else if (cJSON_IsString(u) && strcmp(u->valuestring, "W") == 0)
                sp->unit_w = true;
            else {
                fail(err, len, "stations[%d].rateUnits: only \"A\" and \"W\"", index);
                return -1;
            }
        }
    } else {
        sp->unit_a = sp->unit_w = true;
    }
    if (!sp->unit_a && !sp->unit_w) {
        fail(err, len, "stations[%d].rateUnits: empty", index);
        return -1;
    }
    sp->periods_per_schedule = (int)num(js, "periodsPerSchedule", 24);
    sp->max_stack_level = (int)num(js, "profileStackLevel", 8);
    sp->entries_max = (int)num(js, "maxProfiles", 32);
    if (sp->periods_per_schedule < 1 || sp->periods_per_schedule > SIM_PERIODS_MAX || sp->max_stack_level < 0 ||
        sp->entries_max < 1 || sp->entries_max > SIM_PROFILES_MAX) {
        fail(err, len, "stations[%d]: periodsPerSchedule 1..%d, profileStackLevel >= 0, maxProfiles 1..%d", index,
             SIM_PERIODS_MAX, SIM_PROFILES_MAX);
        return -1;
    }
    if (sp->station_max_w <= 0)
        sp->station_max_w = sp->evse_max_w * sp->evse_count;
    return 0;
}

#define ROTATIONS_MAX 64

/* Where a station hangs ("circuit") and how its phases are wired ("phaseRotation", or "phaseRotations" cycled over
 * the stations a "count" generates: installers rotate the wiring from one charger to the next so that single-phase
 * cars, which all draw on a station's L1, spread over the grid's three phases). */
static int station_wiring(const cJSON *js, int index, const struct sim_depot *d, struct sim_station_cfg *st,
                          int *rot, int *nrot, char *err, size_t len)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(js, "circuit");
    if (c && !cJSON_IsNull(c)) {
        st->circuit = cJSON_IsString(c) ? sim_circuit_find(d->circuits, d->ncircuits, c->valuestring) : 0;
        if (!st->circuit) {
            fail(err, len, "stations[%d].circuit: no circuit %s%s%s in \"circuits\"", index,
                 cJSON_IsString(c) ? "\"" : "", cJSON_IsString(c) ? c->valuestring : "(not a string)",
                 cJSON_IsString(c) ? "\"" : "");
            return -1;
        }
    }
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(js, "phaseRotation");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(js, "phaseRotations");
    if (one && many) {
        fail(err, len, "stations[%d]: phaseRotation or phaseRotations, not both", index);
        return -1;
    }
    *nrot = 1;
    rot[0] = 0;
    if (one && (rot[0] = sim_rotation_parse(cJSON_IsString(one) ? one->valuestring : NULL)) < 0) {
        fail(err, len, "stations[%d].phaseRotation: one of L1L2L3, L1L3L2, L2L1L3, L2L3L1, L3L1L2, L3L2L1", index);
        return -1;
    }
    if (!many)
        return 0;
    *nrot = cJSON_GetArraySize(many);
    if (!cJSON_IsArray(many) || *nrot < 1 || *nrot > ROTATIONS_MAX) {
        fail(err, len, "stations[%d].phaseRotations: an array of 1..%d rotations", index, ROTATIONS_MAX);
        return -1;
    }
    int k = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, many) {
        if ((rot[k] = sim_rotation_parse(cJSON_IsString(r) ? r->valuestring : NULL)) < 0) {
            fail(err, len, "stations[%d].phaseRotations[%d]: one of L1L2L3, L1L3L2, L2L1L3, L2L3L1, L3L1L2, L3L2L1",
                 index, k);
            return -1;
        }
        k++;
    }
    return 0;
}

struct sim_depot *sim_depot_parse(const char *json, char *err, size_t len)
{
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return fail(err, len, "depot: not JSON");
    struct sim_depot *d = calloc(1, sizeof *d);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "stations");
    if (!d || !cJSON_IsArray(arr)) {
        fail(err, len, "depot: needs a \"stations\" array");
        goto bad;
    }
    d->grid_limit_w = num(root, "gridLimitKw", 0) * 1000;
    d->ncircuits = sim_circuits_parse(cJSON_GetObjectItemCaseSensitive(root, "circuits"), &d->circuits, err, len);
    if (d->ncircuits < 0) {
        d->ncircuits = 0;
        goto bad;
    }
    int total = 0;
    const cJSON *js;
    cJSON_ArrayForEach(js, arr) {
        int count = (int)num(js, "count", 1);
        if (count < 1 || total + count > SIM_STATIONS_MAX) {
            fail(err, len, "depot: count must be >= 1 and stations <= %d", SIM_STATIONS_MAX);
            goto bad;
        }
        total += count;
    }
    d->stations = calloc((size_t)total ? (size_t)total : 1, sizeof *d->stations);
    if (!d->stations)
        goto bad;
    int index = 0;
    cJSON_ArrayForEach(js, arr) {
        struct sim_station_cfg proto;
        int rot[ROTATIONS_MAX], nrot;
        if (station_from_json(js, index, &proto, err, len) ||
            station_wiring(js, index, d, &proto, rot, &nrot, err, len))
            goto bad;
        int count = (int)num(js, "count", 1);
        for (int k = 0; k < count; k++) {
            struct sim_station_cfg *st = &d->stations[d->n++];
            *st = proto;
            st->rotation = rot[k % nrot];
            /* "count": the id is a prefix, numbered from 1. */
            if (count > 1)
                snprintf(st->id, sizeof st->id, "%.30s%04d", proto.id, (k + 1) % 100000);
            for (int j = 0; j < d->n - 1; j++)
                if (strcmp(d->stations[j].id, st->id) == 0) {
                    fail(err, len, "depot: station id %s appears twice", st->id);
                    goto bad;
                }
        }
        index++;
    }
    cJSON_Delete(root);
    return d;
bad:
    cJSON_Delete(root);
    sim_depot_free(d);
    return NULL;
}

struct sim_depot *sim_depot_load(const char *path, char *err, size_t len)
{
    char *text = sim_read_file(path, 16 << 20, err, len);
    if (!text)
        return NULL;
    struct sim_depot *d = sim_depot_parse(text, err, len);
    free(text);
    return d;
}

struct sim_depot *sim_depot_uniform(int n, const char *prefix, const char *password)
{
    if (n < 1 || n > SIM_STATIONS_MAX)
        return NULL;
    struct sim_depot *d = calloc(1, sizeof *d);
    if (!d || !(d->stations = calloc((size_t)n, sizeof *d->stations))) {
        free(d);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        struct sim_station_cfg *st = &d->stations[i];
        snprintf(st->id, sizeof st->id, "%s%05d", prefix, i + 1);
        snprintf(st->password, sizeof st->password, "%s", password ? password : "");
        strcpy(st->vendor, "depotsim");
        strcpy(st->model, "sim-load");
        strcpy(st->firmware, "0.1.0");
        st->max_current_a = 32;
        st->spec = (struct sim_station_spec){.evse_count = 1, .phases = 3, .voltage_v = 230,
                                             .evse_max_w = 22080, .station_max_w = 22080, .unit_a = true,
                                             .unit_w = true, .periods_per_schedule = 24, .max_stack_level = 8,
                                             .entries_max = 32};
    }
    d->n = n;
    return d;
}

void sim_depot_free(struct sim_depot *d)
{
    if (!d)
        return;
    free(d->stations);
    free(d->circuits);
    free(d);
}
