/* Visits: the scenario file and ACN-Data sessions. */
#include "scenario.h"
#include "simtime.h"

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

static double num(const cJSON *o, const char *name, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The EV defaults every visit starts from ("evDefaults" in a scenario). */
struct ev_defaults {
    double capacity_wh, max_power_w, taper_soc, taper_floor, efficiency, arrival_soc;
    int phases;
};

static void defaults_from_json(const cJSON *o, struct ev_defaults *d)
{
    d->capacity_wh = num(o, "capacityKwh", 75) * 1000;
    d->max_power_w = num(o, "maxPowerKw", 11) * 1000;
    d->taper_soc = num(o, "taperSoc", 0.8);
    d->taper_floor = num(o, "taperFloor", 0.1);
    d->efficiency = num(o, "efficiency", 0.92);
    d->arrival_soc = num(o, "arrivalSoc", 0.2);
    d->phases = (int)num(o, "phases", 0);
}

static int cmp_arrival(const void *a, const void *b)
{
    const struct sim_visit *x = a, *y = b;
    return (x->arrival_ms > y->arrival_ms) - (x->arrival_ms < y->arrival_ms);
}

/* Energy need and target SoC are two views of one thing: fill the one not given, and check it fits. */
static int settle_need(struct sim_visit *v, double target_soc, double energy_wh, int i, char *err, size_t len)
{
    struct sim_ev tmp;
    if (sim_ev_init(&tmp, &v->ev, v->arrival_soc, 1.0) != 0) {
        fail(err, len, "visits[%d]: EV capacity, power, taper, efficiency or arrivalSoc out of range", i);
        return -1;
    }
    double cap = v->ev.capacity_wh, eff = v->ev.efficiency;
    if (target_soc > 0) {
        v->target_soc = target_soc;
        v->requested_wh = (target_soc - v->arrival_soc) * cap / eff;
    } else if (energy_wh > 0) {
        v->requested_wh = energy_wh;
        v->target_soc = v->arrival_soc + energy_wh * eff / cap;
    } else {
        v->target_soc = 1.0;
        v->requested_wh = (1.0 - v->arrival_soc) * cap / eff;
    }
    if (v->target_soc > 1.0 + 1e-9 || v->target_soc <= v->arrival_soc) {
        fail(err, len, "visits[%d]: the need does not fit the battery (target SoC %.3f from %.3f)", i, v->target_soc,
             v->arrival_soc);
        return -1;
    }
    if (v->target_soc > 1.0)
        v->target_soc = 1.0;
    if (v->departure_ms <= v->arrival_ms) {
        fail(err, len, "visits[%d]: departure is not after arrival", i);
        return -1;
    }
    return 0;
}

static void bounds(struct sim_scenario *s)
{
    qsort(s->visits, (size_t)s->n, sizeof s->visits[0], cmp_arrival);
    if (!s->start_ms && s->n)
        s->start_ms = s->visits[0].arrival_ms - 60000;
    if (!s->end_ms)
        for (int i = 0; i < s->n; i++)
            if (s->visits[i].departure_ms + 60000 > s->end_ms)
                s->end_ms = s->visits[i].departure_ms + 60000;
}

struct sim_scenario *sim_scenario_parse(const char *json, char *err, size_t len)
{
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return fail(err, len, "scenario: not JSON");
    struct sim_scenario *s = calloc(1, sizeof *s);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "visits");
    int n = cJSON_GetArraySize(arr);
    if (!s || !cJSON_IsArray(arr) || n > SIM_VISITS_MAX) {
        fail(err, len, "scenario: needs a \"visits\" array of at most %d", SIM_VISITS_MAX);
        goto bad;
    }
    const char *t;
    if ((t = str(root, "start")) && sim_time_parse(t, &s->start_ms)) {
        fail(err, len, "scenario.start: not an RFC 3339 date-time");
        goto bad;
    }
    if ((t = str(root, "end")) && sim_time_parse(t, &s->end_ms)) {
        fail(err, len, "scenario.end: not an RFC 3339 date-time");
        goto bad;
    }
    struct ev_defaults dflt;
    defaults_from_json(cJSON_GetObjectItemCaseSensitive(root, "evDefaults"), &dflt);
    s->visits = calloc((size_t)n + 1, sizeof *s->visits);
    if (!s->visits)
        goto bad;
    const cJSON *jv;
    cJSON_ArrayForEach(jv, arr) {
        int i = s->n;
        struct sim_visit *v = &s->visits[s->n++];
        const char *ev = str(jv, "ev"), *tok = str(jv, "idToken"), *st = str(jv, "station");
        const char *arr_t = str(jv, "arrival"), *dep_t = str(jv, "departure");
        if (!arr_t || !dep_t || sim_time_parse(arr_t, &v->arrival_ms) || sim_time_parse(dep_t, &v->departure_ms)) {
            fail(err, len, "visits[%d]: arrival and departure must be RFC 3339 date-times", i);
            goto bad;
        }
        snprintf(v->ev.id, sizeof v->ev.id, "%s", ev ? ev : "");
        if (!ev)
            snprintf(v->ev.id, sizeof v->ev.id, "EV%05d", i + 1);
        snprintf(v->ev.id_token, sizeof v->ev.id_token, "%s", tok ? tok : v->ev.id);
        snprintf(v->station, sizeof v->station, "%s", st ? st : "");
        const cJSON *evse = cJSON_GetObjectItemCaseSensitive(jv, "evse");
        v->evse = cJSON_IsNumber(evse) ? evse->valueint : 0;
        if (v->evse < 0 || v->evse > SIM_EVSE_MAX || (v->evse > 0 && !v->station[0])) {
            fail(err, len, "visits[%d].evse: a number needs a station; use \"any\" otherwise", i);
            goto bad;
        }
        if ((t = str(jv, "requestedDeparture")) && sim_time_parse(t, &v->requested_departure_ms)) {
            fail(err, len, "visits[%d].requestedDeparture: not an RFC 3339 date-time", i);
            goto bad;
        }
        v->iso15118 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jv, "iso15118"));
        v->ev.capacity_wh = num(jv, "capacityKwh", dflt.capacity_wh / 1000) * 1000;
        v->ev.max_power_w = num(jv, "maxPowerKw", dflt.max_power_w / 1000) * 1000;
        v->ev.taper_soc = num(jv, "taperSoc", dflt.taper_soc);
        v->ev.taper_floor = num(jv, "taperFloor", dflt.taper_floor);
        v->ev.efficiency = num(jv, "efficiency", dflt.efficiency);
        v->arrival_soc = num(jv, "arrivalSoc", dflt.arrival_soc);
        v->ev.phases = (int)num(jv, "phases", dflt.phases);
        if (v->ev.phases != 0 && v->ev.phases != 1 && v->ev.phases != 3) {
            fail(err, len, "visits[%d].phases (or evDefaults.phases): 1 or 3", i);
            goto bad;
        }
        if (settle_need(v, num(jv, "targetSoc", 0), num(jv, "energyKwh", 0) * 1000, i, err, len))
            goto bad;
    }
    bounds(s);
    cJSON_Delete(root);
    return s;
bad:
    cJSON_Delete(root);
    sim_scenario_free(s);
    return NULL;
}

struct sim_scenario *sim_scenario_parse_acn(const char *json, int64_t from_ms, int64_t to_ms, char *err,
                                            size_t len)
{
    cJSON *root = cJSON_Parse(json);
    if (!root || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return fail(err, len, "ACN: expected a JSON array of sessions");
    }
    struct sim_scenario *s = calloc(1, sizeof *s);
    int n = cJSON_GetArraySize(root);
    if (!s || n > SIM_VISITS_MAX || !(s->visits = calloc((size_t)n + 1, sizeof *s->visits))) {
        fail(err, len, "ACN: at most %d sessions", SIM_VISITS_MAX);
        goto bad;
    }
    struct ev_defaults dflt;
    defaults_from_json(NULL, &dflt);
    int i = -1;
    const cJSON *js;
    cJSON_ArrayForEach(js, root) {
        i++;
        int64_t arr_ms, dep_ms;
        const char *ct = str(js, "connectionTime"), *dt = str(js, "disconnectTime");
        if (!ct || !dt || sim_time_parse_rfc1123(ct, &arr_ms) || sim_time_parse_rfc1123(dt, &dep_ms)) {
            fail(err, len, "ACN[%d]: connectionTime / disconnectTime not RFC 1123 GMT", i);
            goto bad;
        }
        if ((from_ms && arr_ms < from_ms) || (to_ms && arr_ms >= to_ms))
            continue;
        if (dep_ms <= arr_ms)
            continue; /* the data has a few zero-length sessions; they are not visits */
        struct sim_visit *v = &s->visits[s->n];
        v->arrival_ms = arr_ms;
        v->departure_ms = dep_ms;
        double need = num(js, "kWhDelivered", 0) * 1000;
        /* The driver's own request wins over what was delivered: that is what a CSMS is asked to meet. */
        const cJSON *ui = cJSON_GetObjectItemCaseSensitive(js, "userInputs");
        const cJSON *last = cJSON_IsArray(ui) ? cJSON_GetArrayItem(ui, cJSON_GetArraySize(ui) - 1) : NULL;
        if (last) {
            need = num(last, "kWhRequested", need / 1000) * 1000;
            const char *rd = str(last, "requestedDeparture");
            if (rd)
                sim_time_parse_rfc1123(rd, &v->requested_departure_ms);
        }
        if (need < 100)
            need = 100;
        const char *user = str(js, "userID");
        snprintf(v->ev.id, sizeof v->ev.id, "ACN%05d", i + 1);
        snprintf(v->ev.id_token, sizeof v->ev.id_token, "ACN-%.20s", user ? user : "anon");
        /* ACN is a Level 2 site: 6.6 kW on-board chargers; the battery is sized so the request fits
         * from 10 % SoC with margin. */
        v->ev.max_power_w = 6600;
        v->ev.efficiency = dflt.efficiency;
        v->ev.taper_soc = dflt.taper_soc;
        v->ev.taper_floor = dflt.taper_floor;
        v->ev.capacity_wh = dflt.capacity_wh;
        if (need * v->ev.efficiency > 0.8 * v->ev.capacity_wh)
            v->ev.capacity_wh = need * v->ev.efficiency / 0.8;
        v->arrival_soc = 0.1;
        if (settle_need(v, 0, need, i, err, len))
            goto bad;
        s->n++;
    }
    s->start_ms = from_ms;
    s->end_ms = to_ms;
    bounds(s);
    cJSON_Delete(root);
    return s;
bad:
    cJSON_Delete(root);
    sim_scenario_free(s);
    return NULL;
}

struct sim_scenario *sim_scenario_load(const char *path, char *err, size_t len)
{
    char *text = sim_read_file(path, 64 << 20, err, len);
    if (!text)
        return NULL;
    struct sim_scenario *s = sim_scenario_parse(text, err, len);
    free(text);
    return s;
}

struct sim_scenario *sim_scenario_load_acn(const char *path, int64_t from_ms, int64_t to_ms, char *err, size_t len)
{
    char *text = sim_read_file(path, 256 << 20, err, len);
    if (!text)
        return NULL;
    struct sim_scenario *s = sim_scenario_parse_acn(text, from_ms, to_ms, err, len);
    free(text);
    return s;
}

void sim_scenario_free(struct sim_scenario *s)
{
    if (!s)
        return;
    free(s->visits);
    free(s);
}
