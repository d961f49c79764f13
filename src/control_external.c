/*
 * control_external.c - limits a station reports from outside depotd (K12 NotifyChargingLimit: an energy management
 * system, the grid operator, another CSO), which the station enforces with a ChargingStationExternalConstraints
 * profile whatever depotd sends. Planned with: a session may not be planned above them, so what they take from one
 * station goes to the others. One limit per station, source and EVSE (0: the whole station, shared equally among
 * its sessions); ClearedChargingLimit removes it; a limit without a schedule says nothing depotd can plan with.
 * Times are the station's clock, moved to depotd's by its measured offset. Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

struct ctl_ext_limit {
    char source[16];           /* EMS, Other, SO, CSO */
    int evse;                  /* 0: the station */
    struct sched s;            /* W on depotd's clock; periods after the schedule's end: INFINITY */
};

static struct ctl_ext_limit *find(struct ctl_station *cs, const char *source, int evse)
{
    for (int i = 0; i < cs->n_ext; i++)
        if (cs->ext[i].evse == evse && strcmp(cs->ext[i].source, source) == 0) return &cs->ext[i];
    return NULL;
}

static void drop(struct ctl_station *cs, struct ctl_ext_limit *x)
{
    int i = (int)(x - cs->ext);
    memmove(&cs->ext[i], &cs->ext[i + 1], (size_t)(cs->n_ext - i - 1) * sizeof *cs->ext);
    cs->n_ext--;
}

/* The first schedule of the request as W over depotd's clock: A per phase times the phases (numberPhases, else the
 * station's) at 230 V, from startSchedule (else now) for duration (else for ever). -1 when it has none we can read. */
static int schedule_w(struct control *ctl, struct ctl_station *cs, const cJSON *payload, int64_t now, struct sched *out)
{
    const cJSON *sch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(payload, "chargingSchedule"), 0);
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(sch, "chargingSchedulePeriod");
    const char *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sch, "chargingRateUnit"));
    if (!cJSON_IsArray(periods) || !cJSON_GetArraySize(periods) || !unit) return -1;
    int64_t start = now, off, unc;
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sch, "startSchedule"));
    ctl->port.station_clock(ctl->port.ctx, cs->st, &off, &unc);
    if (st && ocpp_time_parse(st, &start) == 0) start -= off;
    else start = now;
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(sch, "duration");
    out->n = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, periods) {
        double at = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "startPeriod"));
        double lim = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "limit"));
        double ph = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "numberPhases"));
        if (!isfinite(at) || at < 0 || at > 1e9 || !isfinite(lim) || lim < 0 || out->n >= SCHED_MAX - 1) return -1;
        if (isnan(ph)) ph = cs->supply_phases > 0 ? cs->supply_phases : 3;
        double w = strcmp(unit, "A") == 0 ? lim * fmin(fmax(ph, 1), 3) * 230.0 : lim;
        int64_t t = start + (int64_t)at * 1000;
        if (out->n && t <= out->t[out->n - 1]) return -1; /* periods must ascend */
        out->t[out->n] = t, out->w[out->n++] = w;
    }
    if (cJSON_IsNumber(dur) && dur->valuedouble > 0 && dur->valuedouble < 1e9) {
        int64_t end = start + (int64_t)dur->valuedouble * 1000;
        while (out->n && out->t[out->n - 1] >= end) out->n--;
        if (!out->n) return -1;
        out->t[out->n] = end, out->w[out->n++] = INFINITY;
    }
    /* Before its start nothing limits the station: the schedule's first period holds from its start on. */
    if (out->t[0] > now && out->n < SCHED_MAX) {
        memmove(&out->t[1], &out->t[0], (size_t)out->n * sizeof out->t[0]);
        memmove(&out->w[1], &out->w[0], (size_t)out->n * sizeof out->w[0]);
        out->t[0] = now, out->w[0] = INFINITY, out->n++;
    }
    return 0;
}

/* Takes the report in; true when what is planned with changed. */
static bool apply(struct control *ctl, struct station *st, const cJSON *payload, bool cleared)
{
    if (!ctl->cfg.enabled) return false;
    struct ctl_station *cs = ctl_station(ctl, st);
    if (!cs) return false;
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(payload, "chargingLimit");
    const char *source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cleared ? payload : lim,
                                                                               "chargingLimitSource"));
    double evse = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(payload, "evseId"));
    int id = isfinite(evse) && evse >= 0 && evse <= CTL_EVSE_MAX ? (int)evse : 0;
    if (!source) return false;
    struct ctl_ext_limit *x = find(cs, source, id);
    if (cleared) {
        if (!x) return false;
        drop(cs, x);
        log_info("control", st->id, "external limit of %s on %s %d cleared", source, id ? "EVSE" : "station", id);
        return true;
    }
    struct sched s;
    if (schedule_w(ctl, cs, payload, ctl_now(ctl), &s)) return false; /* without numbers: nothing to plan with */
    if (!x) {
        struct ctl_ext_limit *grown = realloc(cs->ext, (size_t)(cs->n_ext + 1) * sizeof *grown);
        if (!grown) return false;
        cs->ext = grown;
        x = &cs->ext[cs->n_ext++];
        snprintf(x->source, sizeof x->source, "%s", source);
        x->evse = id;
    }
    x->s = s;
    double now_w = sched_at(&s, ctl_now(ctl));
    if (isfinite(now_w))
        log_info("control", st->id, "external limit of %s on %s %d: %.1f kW now", source, id ? "EVSE" : "station", id,
                 now_w / 1000.0);
    else
        log_info("control", st->id, "external limit of %s on %s %d: from %s", source, id ? "EVSE" : "station", id,
                 ocpp_time_format(s.t[1], (char[40]){0}));
    return true;
}

void ctl_on_charging_limit(struct control *ctl, struct station *st, const cJSON *payload, bool cleared)
{
    if (apply(ctl, st, payload, cleared)) ctl_replan(ctl, "external_limit");
}

/* ReportChargingProfiles (K09, after GetChargingProfiles): a ChargingStationExternalConstraints profile the station
 * holds from another source is the same limit as a NotifyChargingLimit with its schedule. */
void ctl_on_reported_profiles(struct control *ctl, struct station *st, const cJSON *payload)
{
    const char *source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "chargingLimitSource"));
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(payload, "evseId"), *p;
    if (!source || strcmp(source, "CSO") == 0) return; /* the CSO's are depotd's own */
    bool changed = false;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(payload, "chargingProfile")) {
        const char *purpose = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "chargingProfilePurpose"));
        if (!purpose || strcmp(purpose, "ChargingStationExternalConstraints") != 0) continue;
        cJSON *n = cJSON_CreateObject();
        cJSON *lim = cJSON_AddObjectToObject(n, "chargingLimit");
        cJSON_AddStringToObject(lim, "chargingLimitSource", source);
        if (cJSON_IsNumber(evse)) cJSON_AddNumberToObject(n, "evseId", evse->valuedouble);
        cJSON_AddItemToObject(n, "chargingSchedule",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "chargingSchedule"), true));
        changed |= apply(ctl, st, n, false);
        cJSON_Delete(n);
    }
    if (changed) ctl_replan(ctl, "external_limit");
}

void ctl_restore_charging_limit(struct control *ctl, struct station *st, const cJSON *payload)
{
    apply(ctl, st, payload, false);
}

double ctl_external_limit_w(const struct control *ctl, const struct ctl_station *cs, int evse, int64_t from, int64_t to)
{
    double w = INFINITY;
    int sharing = 0;
    for (int k = 1; k <= cs->max_evse; k++) sharing += cs->evse[k].present && cs->evse[k].active;
    for (int i = 0; i < cs->n_ext; i++) {
        const struct ctl_ext_limit *x = &cs->ext[i];
        if (x->evse && x->evse != evse) continue;
        double v = sched_min_over(&x->s, from, to - 1);
        /* A station's limit is shared equally by its sessions (the station decides how it splits it). */
        if (!x->evse && sharing > 1) v /= sharing;
        w = fmin(w, v);
    }
    (void)ctl;
    return w;
}

void ctl_external_free(struct ctl_station *cs)
{
    free(cs->ext);
    cs->ext = NULL;
    cs->n_ext = 0;
}
