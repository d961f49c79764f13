/* The profile store of one station: K01 validation, K09 selection, K10 clearing. The composite
 * schedule lives in composite.c, the JSON mapping in profile_json.c. */
#include "profiles_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sim_purpose_name(enum sim_purpose p)
{
    switch (p) {
    case SIM_PURPOSE_STATION_MAX: return "ChargingStationMaxProfile";
    case SIM_PURPOSE_TX_DEFAULT: return "TxDefaultProfile";
    case SIM_PURPOSE_TX: return "TxProfile";
    case SIM_PURPOSE_EXTERNAL: return "ChargingStationExternalConstraints";
    }
    return "?";
}

int sim_purpose_from_name(const char *name)
{
    for (int p = SIM_PURPOSE_STATION_MAX; p <= SIM_PURPOSE_EXTERNAL; p++)
        if (name && strcmp(name, sim_purpose_name(p)) == 0)
            return p;
    return -1;
}

const char *sim_unit_name(enum sim_unit u)
{
    return u == SIM_UNIT_A ? "A" : "W";
}

sim_profiles *sim_profiles_new(const struct sim_station_spec *spec)
{
    if (!spec || spec->evse_count < 1 || spec->evse_count > SIM_EVSE_MAX || (!spec->unit_a && !spec->unit_w) ||
        spec->periods_per_schedule < 1 || spec->voltage_v <= 0 || spec->evse_max_w <= 0)
        return NULL;
    sim_profiles *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->spec = *spec;
    if (s->spec.periods_per_schedule > SIM_PERIODS_MAX)
        s->spec.periods_per_schedule = SIM_PERIODS_MAX;
    if (s->spec.entries_max < 1 || s->spec.entries_max > SIM_PROFILES_MAX)
        s->spec.entries_max = SIM_PROFILES_MAX;
    if (s->spec.phases < 1)
        s->spec.phases = spec->dc ? 1 : 3;
    if (s->spec.station_max_w <= 0)
        s->spec.station_max_w = spec->evse_max_w * spec->evse_count;
    return s;
}

void sim_profiles_free(sim_profiles *s)
{
    free(s);
}

int sim_profiles_count(const sim_profiles *s)
{
    return s->n;
}

static int reject(struct sim_reject *why, const char *reason, const char *fmt, ...)
{
    if (why) {
        snprintf(why->reason, sizeof why->reason, "%s", reason);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why->info, sizeof why->info, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool validity_overlaps(const struct sim_profile *a, const struct sim_profile *b)
{
    int64_t a0 = a->has_valid_from ? a->valid_from_ms : INT64_MIN;
    int64_t a1 = a->has_valid_to ? a->valid_to_ms : INT64_MAX;
    int64_t b0 = b->has_valid_from ? b->valid_from_ms : INT64_MIN;
    int64_t b1 = b->has_valid_to ? b->valid_to_ms : INT64_MAX;
    return a0 < b1 && b0 < a1;
}

static int check_schedule(const sim_profiles *s, const struct sim_profile *p, struct sim_reject *why)
{
    const struct sim_schedule *sc = &p->schedule;
    if (p->nschedules < 1 || sc->nperiods < 1)
        return reject(why, "InvalidSchedule", "chargingSchedule needs at least one chargingSchedulePeriod");
    if (sc->periods[0].start_s != 0)
        return reject(why, "InvalidSchedule", "K01.FR.31: first startPeriod is %d, must be 0",
                      (int)sc->periods[0].start_s);
    int total = sc->nperiods + p->extra_periods;
    if (total > s->spec.periods_per_schedule)
        return reject(why, "InvalidSchedule", "%d periods, PeriodsPerSchedule is %d", total,
                      s->spec.periods_per_schedule);
    for (int i = 1; i < sc->nperiods; i++)
        if (sc->periods[i].start_s <= sc->periods[i - 1].start_s)
            return reject(why, "InvalidSchedule", "K01.FR.35: startPeriod %d follows %d, must increase",
                          (int)sc->periods[i].start_s, (int)sc->periods[i - 1].start_s);
    for (int i = 0; i < sc->nperiods; i++) {
        if (sc->periods[i].limit < 0)
            return reject(why, "InvalidValue", "period %d: negative limit", i);
        int ph = sc->periods[i].phases;
        if (ph != 0 && (s->spec.dc || ph > s->spec.phases))
            return reject(why, "InvalidValue", "period %d: numberPhases %d on a %s station with %d phases", i,
                          ph, s->spec.dc ? "DC" : "AC", s->spec.phases);
    }
    if ((sc->unit == SIM_UNIT_A && !s->spec.unit_a) || (sc->unit == SIM_UNIT_W && !s->spec.unit_w))
        return reject(why, "UnsupportedRateUnit", "K01.FR.26: chargingRateUnit %s is not in "
                      "ChargingScheduleChargingRateUnit", sim_unit_name(sc->unit));
    if (sc->has_duration && sc->duration_s <= 0)
        return reject(why, "InvalidSchedule", "duration must be positive");
    return 0;
}

int sim_profiles_set(sim_profiles *s, int evse_id, const struct sim_profile *p, const struct sim_evse_tx *tx,
                     struct sim_reject *why)
{
    if (evse_id < 0 || evse_id > s->spec.evse_count)
        return reject(why, "UnknownEvse", "K01.FR.28: evseId %d does not exist", evse_id);
    if (p->stack_level < 0 || p->stack_level > s->spec.max_stack_level)
        return reject(why, "InvalidStackLevel", "stackLevel %d outside 0..ProfileStackLevel %d", p->stack_level,
                      s->spec.max_stack_level);
    switch (p->purpose) {
    case SIM_PURPOSE_STATION_MAX:
        if (evse_id != 0)
            return reject(why, "InvalidProfile", "ChargingStationMaxProfile applies to evseId 0 only");
        if (p->kind == SIM_KIND_RELATIVE)
            return reject(why, "InvalidProfile", "K01.FR.38: ChargingStationMaxProfile cannot be Relative");
        break;
    case SIM_PURPOSE_TX:
        if (evse_id == 0)
            return reject(why, "InvalidProfile", "K01.FR.16: TxProfile needs an evseId > 0");
        if (!p->tx_id[0])
            return reject(why, "TxNotFound", "K01.FR.03: TxProfile without transactionId");
        if (!tx || !tx[evse_id].tx_id[0])
            return reject(why, "TxNotFound", "K01.FR.09: no transaction on EVSE %d", evse_id);
        if (strcmp(tx[evse_id].tx_id, p->tx_id) != 0)
            return reject(why, "TxNotFound", "K01.FR.33: transaction %s is not on EVSE %d", p->tx_id, evse_id);
        break;
    case SIM_PURPOSE_TX_DEFAULT:
    case SIM_PURPOSE_EXTERNAL:
        break;
    }
    if ((p->kind == SIM_KIND_ABSOLUTE || p->kind == SIM_KIND_RECURRING) && !p->schedule.has_start)
        return reject(why, "InvalidSchedule", "K01.FR.40: %s profile without startSchedule",
                      p->kind == SIM_KIND_ABSOLUTE ? "Absolute" : "Recurring");
    if (p->kind == SIM_KIND_RELATIVE && p->schedule.has_start)
        return reject(why, "InvalidSchedule", "K01.FR.41: Relative profile with startSchedule");
    if (p->kind == SIM_KIND_RECURRING && p->recurrency == SIM_RECUR_NONE)
        return reject(why, "InvalidProfile", "Recurring profile without recurrencyKind");
    if (p->has_valid_from && p->has_valid_to && p->valid_to_ms <= p->valid_from_ms)
        return reject(why, "InvalidValue", "validTo is not after validFrom");
    if (check_schedule(s, p, why))
        return -1;

    int same = -1;
    for (int i = 0; i < s->n; i++) {
        const struct sim_stored *o = &s->items[i];
        if (o->profile.id == p->id) {
            same = i;
            continue;
        }
        /* K01.FR.06 / K01.FR.39: no two profiles of one purpose and stack level on one EVSE (one
         * transaction for TxProfiles) may be valid at the same time. */
        if (o->profile.purpose == p->purpose && o->profile.stack_level == p->stack_level && o->evse_id == evse_id &&
            (p->purpose != SIM_PURPOSE_TX || strcmp(o->profile.tx_id, p->tx_id) == 0) &&
            validity_overlaps(&o->profile, p))
            return reject(why, "DuplicateProfile", "K01.FR.06: profile %d already has stackLevel %d for %s on "
                          "EVSE %d", o->profile.id, p->stack_level, sim_purpose_name(p->purpose), evse_id);
    }
    if (same < 0 && s->n >= s->spec.entries_max)
        return reject(why, "NoSpace", "station holds %d profiles, its maximum", s->n);
    /* K01.FR.05: the same id replaces the installed profile. */
    struct sim_stored *slot = same >= 0 ? &s->items[same] : &s->items[s->n++];
    slot->evse_id = evse_id;
    slot->profile = *p;
    if (p->purpose != SIM_PURPOSE_TX)
        slot->profile.tx_id[0] = '\0';
    return 0;
}

static bool matches(const struct sim_stored *st, const struct sim_clear_criteria *c)
{
    if (!c)
        return true;
    if (c->has_id && st->profile.id != c->id)
        return false;
    if (c->has_evse && st->evse_id != c->evse_id)
        return false;
    if (c->has_purpose && st->profile.purpose != c->purpose)
        return false;
    if (c->has_stack_level && st->profile.stack_level != c->stack_level)
        return false;
    return true;
}

static void remove_at(sim_profiles *s, int i)
{
    memmove(&s->items[i], &s->items[i + 1], (size_t)(s->n - i - 1) * sizeof s->items[0]);
    s->n--;
}

int sim_profiles_clear(sim_profiles *s, const struct sim_clear_criteria *c)
{
    int removed = 0;
    for (int i = s->n - 1; i >= 0; i--) {
        /* ChargingStationExternalConstraints belong to the external system (an EMS), which the CSMS
         * cannot clear. */
        if (s->items[i].profile.purpose == SIM_PURPOSE_EXTERNAL)
            continue;
        if (matches(&s->items[i], c)) {
            remove_at(s, i);
            removed++;
        }
    }
    return removed;
}

int sim_profiles_select(const sim_profiles *s, const struct sim_clear_criteria *c, int ids_n, const int *ids,
                        struct sim_profile *out, int *out_evse, int max)
{
    int found = 0;
    for (int i = 0; i < s->n; i++) {
        if (!matches(&s->items[i], c))
            continue;
        if (ids_n > 0) {
            bool hit = false;
            for (int k = 0; k < ids_n; k++)
                hit = hit || ids[k] == s->items[i].profile.id;
            if (!hit)
                continue;
        }
        if (found < max) {
            if (out)
                out[found] = s->items[i].profile;
            if (out_evse)
                out_evse[found] = s->items[i].evse_id;
        }
        found++;
    }
    return found;
}

void sim_profiles_transaction_ended(sim_profiles *s, const char *tx_id)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (s->items[i].profile.purpose == SIM_PURPOSE_TX && strcmp(s->items[i].profile.tx_id, tx_id) == 0)
            remove_at(s, i);
}

void sim_profiles_expire(sim_profiles *s, int64_t now_ms)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (s->items[i].profile.has_valid_to && s->items[i].profile.valid_to_ms <= now_ms)
            remove_at(s, i);
}

double sim_profiles_to_w(const sim_profiles *s, double limit, enum sim_unit unit, int phases)
{
    if (unit == SIM_UNIT_W)
        return limit;
    if (s->spec.dc)
        return limit * s->spec.voltage_v;
    return limit * (phases > 0 ? phases : s->spec.phases) * s->spec.voltage_v;
}

double sim_profiles_from_w(const sim_profiles *s, double w, enum sim_unit unit)
{
    if (unit == SIM_UNIT_W)
        return w;
    return w / ((s->spec.dc ? 1 : s->spec.phases) * s->spec.voltage_v);
}
