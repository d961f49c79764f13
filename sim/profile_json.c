/* chargingProfile JSON (OCPP 2.0.1 ChargingProfileType) <-> struct sim_profile. The schema has been
 * checked by ocpp/ before this runs; these checks only keep a bad document from becoming nonsense. */
#include "profiles.h"
#include "simtime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t len, const char *msg)
{
    if (err && len)
        snprintf(err, len, "%s", msg);
    return -1;
}

static int get_time(const cJSON *obj, const char *name, bool *has, int64_t *out, char *err, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *has = false;
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || sim_time_parse(v->valuestring, out) != 0) {
        char m[96];
        snprintf(m, sizeof m, "%s is not an RFC 3339 date-time", name);
        return fail(err, len, m);
    }
    *has = true;
    return 0;
}

int sim_profile_from_json(const cJSON *j, struct sim_profile *p, char *err, size_t len)
{
    memset(p, 0, sizeof *p);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *lvl = cJSON_GetObjectItemCaseSensitive(j, "stackLevel");
    const cJSON *pur = cJSON_GetObjectItemCaseSensitive(j, "chargingProfilePurpose");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "chargingProfileKind");
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "recurrencyKind");
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive(j, "transactionId");
    const cJSON *scs = cJSON_GetObjectItemCaseSensitive(j, "chargingSchedule");
    if (!cJSON_IsNumber(id) || !cJSON_IsNumber(lvl) || !cJSON_IsString(pur) || !cJSON_IsString(kind) ||
        !cJSON_IsArray(scs) || cJSON_GetArraySize(scs) < 1)
        return fail(err, len, "chargingProfile lacks id, stackLevel, purpose, kind or chargingSchedule");
    p->id = id->valueint;
    p->stack_level = lvl->valueint;
    int purpose = sim_purpose_from_name(pur->valuestring);
    if (purpose < 0)
        return fail(err, len, "unknown chargingProfilePurpose");
    p->purpose = (enum sim_purpose)purpose;
    if (strcmp(kind->valuestring, "Absolute") == 0)
        p->kind = SIM_KIND_ABSOLUTE;
    else if (strcmp(kind->valuestring, "Recurring") == 0)
        p->kind = SIM_KIND_RECURRING;
    else if (strcmp(kind->valuestring, "Relative") == 0)
        p->kind = SIM_KIND_RELATIVE;
    else
        return fail(err, len, "unknown chargingProfileKind");
    p->recurrency = SIM_RECUR_NONE;
    if (cJSON_IsString(rec))
        p->recurrency = strcmp(rec->valuestring, "Weekly") == 0 ? SIM_RECUR_WEEKLY : SIM_RECUR_DAILY;
    if (cJSON_IsString(tx))
        snprintf(p->tx_id, sizeof p->tx_id, "%s", tx->valuestring);
    if (get_time(j, "validFrom", &p->has_valid_from, &p->valid_from_ms, err, len) ||
        get_time(j, "validTo", &p->has_valid_to, &p->valid_to_ms, err, len))
        return -1;

    p->nschedules = cJSON_GetArraySize(scs);
    const cJSON *sc = cJSON_GetArrayItem(scs, 0);
    struct sim_schedule *s = &p->schedule;
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(sc, "id");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(sc, "chargingRateUnit");
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(sc, "duration");
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(sc, "chargingSchedulePeriod");
    if (!cJSON_IsString(unit) || !cJSON_IsArray(periods))
        return fail(err, len, "chargingSchedule lacks chargingRateUnit or chargingSchedulePeriod");
    s->id = cJSON_IsNumber(sid) ? sid->valueint : 0;
    s->unit = strcmp(unit->valuestring, "A") == 0 ? SIM_UNIT_A : SIM_UNIT_W;
    if (cJSON_IsNumber(dur)) {
        s->has_duration = true;
        s->duration_s = dur->valueint;
    }
    if (get_time(sc, "startSchedule", &s->has_start, &s->start_ms, err, len))
        return -1;
    const cJSON *pd;
    cJSON_ArrayForEach(pd, periods) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(pd, "startPeriod");
        const cJSON *lim = cJSON_GetObjectItemCaseSensitive(pd, "limit");
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(pd, "numberPhases");
        if (!cJSON_IsNumber(st) || !cJSON_IsNumber(lim) || !isfinite(lim->valuedouble))
            return fail(err, len, "chargingSchedulePeriod lacks startPeriod or limit");
        if (s->nperiods == SIM_PERIODS_MAX) {
            p->extra_periods++;
            continue;
        }
        struct sim_period *o = &s->periods[s->nperiods++];
        o->start_s = st->valueint;
        o->limit = lim->valuedouble;
        o->phases = cJSON_IsNumber(ph) ? ph->valueint : 0;
    }
    return 0;
}

cJSON *sim_profile_to_json(const struct sim_profile *p)
{
    static const char *kinds[] = {"Absolute", "Recurring", "Relative"};
    char tb[32];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", p->id);
    cJSON_AddNumberToObject(j, "stackLevel", p->stack_level);
    cJSON_AddStringToObject(j, "chargingProfilePurpose", sim_purpose_name(p->purpose));
    cJSON_AddStringToObject(j, "chargingProfileKind", kinds[p->kind]);
    if (p->recurrency != SIM_RECUR_NONE)
        cJSON_AddStringToObject(j, "recurrencyKind", p->recurrency == SIM_RECUR_WEEKLY ? "Weekly" : "Daily");
    if (p->has_valid_from)
        cJSON_AddStringToObject(j, "validFrom", sim_time_format(p->valid_from_ms, tb));
    if (p->has_valid_to)
        cJSON_AddStringToObject(j, "validTo", sim_time_format(p->valid_to_ms, tb));
    if (p->tx_id[0])
        cJSON_AddStringToObject(j, "transactionId", p->tx_id);
    cJSON *arr = cJSON_AddArrayToObject(j, "chargingSchedule");
    cJSON *sc = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, sc);
    const struct sim_schedule *s = &p->schedule;
    cJSON_AddNumberToObject(sc, "id", s->id);
    if (s->has_start)
        cJSON_AddStringToObject(sc, "startSchedule", sim_time_format(s->start_ms, tb));
    if (s->has_duration)
        cJSON_AddNumberToObject(sc, "duration", s->duration_s);
    cJSON_AddStringToObject(sc, "chargingRateUnit", sim_unit_name(s->unit));
    cJSON *pds = cJSON_AddArrayToObject(sc, "chargingSchedulePeriod");
    for (int i = 0; i < s->nperiods; i++) {
        cJSON *pd = cJSON_CreateObject();
        cJSON_AddNumberToObject(pd, "startPeriod", s->periods[i].start_s);
        cJSON_AddNumberToObject(pd, "limit", s->periods[i].limit);
        if (s->periods[i].phases > 0)
            cJSON_AddNumberToObject(pd, "numberPhases", s->periods[i].phases);
        cJSON_AddItemToArray(pds, pd);
    }
    return j;
}
