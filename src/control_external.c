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
    char source[16];           /* EMS, Other, SO, CSO; "Operator": an operator's profile (profile_id) */
    int evse;                  /* 0: the station */
    int profile_id;            /* the operator's ChargingStationMaxProfile, else 0 */
    struct sched s;            /* W on depotd's clock; periods after the schedule's end: INFINITY */
};

static bool operator_purpose(const struct control *ctl, const char *purpose);
static bool operator_limit(struct control *ctl, struct ctl_station *cs, const cJSON *cp);

static struct ctl_ext_limit *find(struct ctl_station *cs, const char *source, int evse, int profile_id)
{
    for (int i = 0; i < cs->n_ext; i++)
        if (cs->ext[i].evse == evse && cs->ext[i].profile_id == profile_id && strcmp(cs->ext[i].source, source) == 0)
            return &cs->ext[i];
    return NULL;
}

static struct ctl_ext_limit *add(struct ctl_station *cs, const char *source, int evse, int profile_id)
{
    struct ctl_ext_limit *grown = realloc(cs->ext, (size_t)(cs->n_ext + 1) * sizeof *grown);
    if (!grown) return NULL;
    cs->ext = grown;
    struct ctl_ext_limit *x = &cs->ext[cs->n_ext++];
    snprintf(x->source, sizeof x->source, "%s", source);
    x->evse = evse;
    x->profile_id = profile_id;
    return x;
}

static void drop(struct ctl_station *cs, struct ctl_ext_limit *x)
{
    int i = (int)(x - cs->ext);
    memmove(&cs->ext[i], &cs->ext[i + 1], (size_t)(cs->n_ext - i - 1) * sizeof *cs->ext);
    cs->n_ext--;
}

/* The first schedule of the request as W over depotd's clock: A per phase times the phases (numberPhases, else the
 * station's) at 230 V, from startSchedule (else `since`: when depotd heard of it) for duration (else for ever). -1
 * when it has none we can read. */
static int schedule_w(struct control *ctl, struct ctl_station *cs, const cJSON *payload, int64_t now, int64_t since,
                      struct sched *out)
{
    const cJSON *sch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(payload, "chargingSchedule"), 0);
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(sch, "chargingSchedulePeriod");
    const char *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sch, "chargingRateUnit"));
    if (!cJSON_IsArray(periods) || !cJSON_GetArraySize(periods) || !unit) return -1;
    int64_t start = now, off, unc;
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sch, "startSchedule"));
    ctl->port.station_clock(ctl->port.ctx, cs->st, &off, &unc);
    if (st && ocpp_time_parse(st, &start) == 0) start -= off;
    else start = since;
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

/* Takes the report in (heard of at `since`, planning clock); true when what is planned with changed. */
static bool apply(struct control *ctl, struct station *st, const cJSON *payload, bool cleared, int64_t since)
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
    struct ctl_ext_limit *x = find(cs, source, id, 0);
    if (cleared) {
        if (!x) return false;
        drop(cs, x);
        log_info("control", st->id, "external limit of %s on %s %d cleared", source, id ? "EVSE" : "station", id);
        return true;
    }
    struct sched s;
    if (schedule_w(ctl, cs, payload, ctl_now(ctl), since, &s)) return false; /* without numbers: nothing to plan with */
    if (!x && !(x = add(cs, source, id, 0))) return false;
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
    if (apply(ctl, st, payload, cleared, ctl_now(ctl))) ctl_replan(ctl, "external_limit");
}

/* ReportChargingProfiles (K09, after GetChargingProfiles): a ChargingStationExternalConstraints profile the station
 * holds from another source is the same limit as a NotifyChargingLimit with its schedule (one without a start runs
 * from `since`); true when what is planned with changed. */
static bool take_reported(struct control *ctl, struct station *st, const cJSON *payload, int64_t since)
{
    const char *source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "chargingLimitSource"));
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(payload, "evseId"), *p;
    struct ctl_station *cs = ctl->cfg.enabled ? ctl_station(ctl, st) : NULL;
    if (!source || !cs) return false;
    bool changed = false;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(payload, "chargingProfile")) {
        const char *purpose = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "chargingProfilePurpose"));
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        if (strcmp(source, "CSO") == 0) {
            /* The CSO's are depotd's own, or an operator's maximum: what a restart forgot comes back here. */
            if (operator_purpose(ctl, purpose) && cJSON_IsNumber(id) && !CTL_PROFILE_ID_OURS(id->valueint))
                changed |= operator_limit(ctl, cs, p);
            continue;
        }
        if (!purpose || strcmp(purpose, "ChargingStationExternalConstraints") != 0) continue;
        cJSON *n = cJSON_CreateObject();
        cJSON *lim = cJSON_AddObjectToObject(n, "chargingLimit");
        cJSON_AddStringToObject(lim, "chargingLimitSource", source);
        if (cJSON_IsNumber(evse)) cJSON_AddNumberToObject(n, "evseId", evse->valuedouble);
        cJSON_AddItemToObject(n, "chargingSchedule",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "chargingSchedule"), true));
        changed |= apply(ctl, st, n, false, since);
        cJSON_Delete(n);
    }
    return changed;
}

void ctl_on_reported_profiles(struct control *ctl, struct station *st, const cJSON *payload)
{
    if (take_reported(ctl, st, payload, ctl_now(ctl))) ctl_replan(ctl, "external_limit");
}

void ctl_restore_reported_profiles(struct control *ctl, struct station *st, const cJSON *payload, int64_t received_ms)
{
    take_reported(ctl, st, payload, received_ms);
}

/* ---- an operator's profiles (API commands) while depotd plans ---------------------------------------------------
 * OCPP 2.0.1 composes a station's limit as the lowest of its purposes, each purpose taking its highest stack level.
 * depotd's plan is TxProfile (and, with the station maxima fail-safe, ChargingStationMaxProfile; TxDefaultProfile
 * with the other): an operator's profile of one of those purposes would replace the plan's on the station at a
 * higher stack level, or be shadowed at a lower one, so both are refused. What an operator may set is a
 * ChargingStationMaxProfile while depotd keeps the fail-safe in TxDefaultProfile: it can only lower the station,
 * and once the station accepts it depotd plans with it like a K12 limit (what it takes goes to the others). Several
 * are counted at the lowest of them (the station takes the highest stack level: never above what depotd counts). */

static bool operator_purpose(const struct control *ctl, const char *purpose)
{
    return purpose && strcmp(purpose, "ChargingStationMaxProfile") == 0 && ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT;
}

int ctl_operator_profile_refused(const struct control *ctl, const char *action, const cJSON *request, char *why,
                                 size_t len)
{
    bool set = strcmp(action, "SetChargingProfile") == 0;
    if (!ctl->cfg.enabled || (!set && strcmp(action, "ClearChargingProfile") != 0)) return 0;
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(request, set ? "chargingProfile" : "chargingProfileCriteria");
    const char *purpose = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cp, "chargingProfilePurpose"));
    const cJSON *id = set ? cJSON_GetObjectItemCaseSensitive(cp, "id")
                          : cJSON_GetObjectItemCaseSensitive(request, "chargingProfileId");
    if (cJSON_IsNumber(id) && CTL_PROFILE_ID_OURS(id->valueint)) {
        snprintf(why, len, "%s: charging profile id %d is depotd's own (ids 1 and 1000-1999 are its plan's)", action,
                 id->valueint);
        return 409;
    }
    if (operator_purpose(ctl, purpose) || (!set && cJSON_IsNumber(id) && !purpose)) return 0;
    snprintf(why, len, "%s: smart charging is on and the station's %s profiles are depotd's plan (an operator's "
             "would replace or hide it and could break the site limit); %s, or lower a limit for a while with PUT "
             "/api/v1/site/limit or /api/v1/circuits/{id}/limit", action, purpose ? purpose : "TxProfile and fail-safe",
             ctl->cfg.failsafe == CTL_FAILSAFE_TX_DEFAULT
                 ? "a ChargingStationMaxProfile may be set and cleared (depotd plans with it)"
                 : "with the ChargingStationMaxProfile fail-safe no operator profile may be set");
    return 409;
}

/* An accepted operator ChargingStationMaxProfile, planned with; a Recurring one at its lowest period for ever. */
static bool operator_limit(struct control *ctl, struct ctl_station *cs, const cJSON *cp)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cp, "id");
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cp, "chargingProfileKind"));
    struct sched s;
    int64_t now = ctl_now(ctl);
    if (!cJSON_IsNumber(id) || !kind || schedule_w(ctl, cs, cp, now, now, &s)) return false;
    if (strcmp(kind, "Absolute") != 0) {
        double low = INFINITY;
        for (int i = 0; i < s.n; i++) low = fmin(low, s.w[i]);
        sched_const(&s, now, low);
    }
    struct ctl_ext_limit *x = find(cs, "Operator", 0, id->valueint);
    if (!x && !(x = add(cs, "Operator", 0, id->valueint))) return false;
    x->s = s;
    log_info("control", cs->st->id, "operator's ChargingStationMaxProfile %d: %.1f kW now", id->valueint,
             sched_at(&s, now) / 1000.0);
    return true;
}

void ctl_on_operator_profile(struct control *ctl, struct station *st, const char *action, const cJSON *request,
                             const cJSON *response)
{
    struct ctl_station *cs = ctl->cfg.enabled ? ctl_station(ctl, st) : NULL;
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(response, "status"));
    if (!cs || !status || strcmp(status, "Accepted") != 0) return;
    bool changed = false;
    if (strcmp(action, "SetChargingProfile") == 0) {
        const cJSON *cp = cJSON_GetObjectItemCaseSensitive(request, "chargingProfile");
        if (operator_purpose(ctl, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cp, "chargingProfilePurpose"))))
            changed = operator_limit(ctl, cs, cp);
    } else {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(request, "chargingProfileId");
        for (int i = cs->n_ext - 1; i >= 0; i--)
            if (cs->ext[i].profile_id && (!cJSON_IsNumber(id) || cs->ext[i].profile_id == id->valueint)) {
                log_info("control", st->id, "operator's ChargingStationMaxProfile %d cleared", cs->ext[i].profile_id);
                drop(cs, &cs->ext[i]);
                changed = true;
            }
    }
    if (changed) ctl_replan(ctl, "operator_profile");
}

void ctl_restore_charging_limit(struct control *ctl, struct station *st, const cJSON *payload, int64_t received_ms)
{
    apply(ctl, st, payload, false, received_ms);
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
