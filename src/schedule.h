/*
 * schedule.h - one EVSE's charging limit over time, as depotd sends it in a TxProfile: pure arithmetic on
 * step functions (no I/O, no clock), so the rules that keep the site safe can be tested on their own.
 *
 * A schedule is a list of periods: period k applies from t[k] (ms, planning clock) until t[k+1]; the last one
 * holds for ever (a profile without duration keeps its last period until the transaction ends). Limits are in
 * W, already quantized to what the station is told (whole W, or 0.1 A per phase x phases x voltage), so
 * comparisons between what was sent and what will be sent are exact.
 */
#ifndef DEPOTD_SCHEDULE_H
#define DEPOTD_SCHEDULE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX 400

struct sched {
    int n;
    int64_t t[SCHED_MAX];
    double w[SCHED_MAX];
};

/* How a station is told a limit: W, or A per phase on `phases` phases at `voltage_v`; never between 0 and
 * min_w (IEC 61851: 6 A per phase for AC). */
struct sched_unit {
    bool amps;
    int phases;
    double voltage_v;
    double min_w;
};

/* The limit as the station will be told it (W), rounded down (never above the plan) and kept out of
 * (0, min_w): values just under the minimum from round-off go up to it, others to 0. */
double sched_quantize(const struct sched_unit *u, double w);
/* The number sent in chargingSchedulePeriod.limit for a quantized limit (W, or A per phase). */
double sched_unit_value(const struct sched_unit *u, double w);

/* A constant schedule from t0. */
void sched_const(struct sched *s, int64_t t0, double w);
/* From a plan row: slot 0 is [start, first_end), slot k >= 1 is [first_end + (k-1) slot, +slot). kw values are
 * quantized. Equal neighbours are merged. */
void sched_from_plan(struct sched *s, const struct sched_unit *u, int64_t start_ms, int64_t first_end_ms,
                     int64_t slot_ms, const double *kw, int slots);
/* The same from each slot's start (at[k], ascending): a plan whose first slot is cut in parts. */
void sched_from_slots(struct sched *s, const struct sched_unit *u, const int64_t *at, const double *kw, int slots);
/* The limit in force at t (the first period's before it starts). */
double sched_at(const struct sched *s, int64_t t);
/* Merges equal neighbours. */
void sched_merge_equal(struct sched *s);
/* At most max_periods periods: merges neighbours into the lower of the two, cheapest (least energy taken away
 * over horizon_ms) first. Never raises a limit. */
void sched_compress(struct sched *s, int max_periods, int64_t horizon_ms);
/* out = min(a, b), max(a, b), a + b pointwise from `from` on (out starts at `from`; it may be a or b). */
void sched_min(const struct sched *a, const struct sched *b, int64_t from, struct sched *out);
void sched_max(const struct sched *a, const struct sched *b, int64_t from, struct sched *out);
void sched_add(const struct sched *a, const struct sched *b, int64_t from, struct sched *out);
/* The highest limit in force at any moment of [from, to]. */
double sched_max_over(const struct sched *s, int64_t from, int64_t to);
/* a <= b at every moment from `from` on. */
bool sched_le(const struct sched *a, const struct sched *b, int64_t from);
/* The most a exceeds b at any moment from `from` on (W; negative: a stays under b), and when (at may be NULL). */
double sched_max_excess(const struct sched *a, const struct sched *b, int64_t from, int64_t *at);
bool sched_equal(const struct sched *a, const struct sched *b, int64_t from);
/* The least limit in force at any moment of [from, to]. */
double sched_min_over(const struct sched *s, int64_t from, int64_t to);
/* Energy (Wh) the schedule allows over [from, to) (0 when to <= from); before t[0] the first period's limit. */
double sched_energy_wh(const struct sched *s, int64_t from, int64_t to);
/* Cuts off what lies before `from` (the period in force at `from` then starts there). */
void sched_trim(struct sched *s, int64_t from);

/* The EV's own maximum as learned from the meter: offered clearly more than it takes (battery nearly full, a
 * tapering or cold battery), it is planned at what it takes, so its remaining energy is spread over enough time.
 * A value learned this way cannot rise by itself (the profile sent caps the EV at it), so it is forgotten
 * retry_ms after it was learned (the next plan offers the EVSE's power again and the meter teaches it anew), and
 * whenever the EV says it can take more (NotifyEVChargingNeeds). */
struct sched_evmax {
    double w;                /* 0: nothing learned */
    int64_t since_ms;        /* when it was learned (planning clock) */
    double pending_w;        /* one reading took less than offered: learned only if the next one does too (one
                                reading may straddle a change of limit the station made late, or on its clock) */
};
/* One reading: offered_w is the least the EVSE was allowed over the time the reading covers (its profile in
 * force), power_w what it drew. Two readings in a row that take clearly less teach the higher of the two.
 * Returns true when the learned value was forgotten (a re-plan offers more again). */
bool sched_evmax_reading(struct sched_evmax *m, double offered_w, double power_w, bool charging, double tolerance_w,
                         int64_t now, int64_t retry_ms);
/* The EV says it takes up to ev_max_w: a lower learned value is forgotten; true when it was. */
bool sched_evmax_ev_says(struct sched_evmax *m, double ev_max_w);

/* The schedule in the clock of a station that reads depotd's time t as t + offset_ms, known to within
 * uncertainty_ms (>= 0), so that at every real moment the limit it applies is at most `in`'s, and a limit is in
 * force from the moment it has the profile:
 *   - each boundary that raises the limit moves uncertainty_ms later, each that lowers it uncertainty_ms earlier
 *     (out is in's minimum over [t - u, t + u]); periods that vanish are dropped;
 *   - the first period starts backdate_ms earlier (a station whose clock is behind by up to that already finds
 *     its startSchedule in the past: OCPP applies a profile only from its startSchedule on);
 *   - everything shifted by offset_ms;
 *   - every boundary on a whole second, raises rounded up and drops down (a station reads whole seconds: a raise
 *     at x.5 s truncated to x s went over the plan for half a second while another station's drop held).
 * in and out may not be the same. */
void sched_for_clock(const struct sched *in, int64_t offset_ms, int64_t uncertainty_ms, int64_t backdate_ms,
                     struct sched *out);

/* chargingSchedule[0] for SetChargingProfile: startSchedule = t[0] (whole seconds), periods in the unit. */
cJSON *sched_to_json(const struct sched *s, const struct sched_unit *u, int schedule_id);

/* ---- Station maxima that follow the plan (ChargingStationMaxProfile) -------------------------------------------
 * The caps in force, summed over every station (plus what stations outside the table count for), never exceed the
 * site limit, so the site stays under it with depotd down. A station whose cap may change now gets at least its
 * want (the plan's peak on it, plus its reservations and what its idle EVSEs may draw: its floor); what is left
 * goes first to the idle EVSEs, in proportion to what they could draw (a car that plugs in finds its share of it
 * before its first TxProfile, and while depotd is down), then equally, never above the station's hardware. */
struct sched_cap {
    bool adjustable;     /* false: counts at old_w, not changed (disconnected, refused a cap, an answer pending) */
    double old_w;        /* the cap counted now: the one in force, or the one in flight when higher */
    double want_w;       /* adjustable: peak of the plan on the station + floor_w */
    double floor_w;      /* adjustable: reservations + idle EVSEs' floor; kept first when the wants do not fit */
    double max_w;        /* adjustable: its hardware (more is of no use) */
    double idle_w;       /* adjustable: what its idle EVSEs could draw together (0: none idle) */
    double cap_w;        /* out: the new cap (old_w for the others) */
};
/* 0 when every want fits: cap >= want, the rest shared out to the idle EVSEs (up to want + idle_w, in proportion
 * to idle_w), then equally, up to max_w. 1 when they do not: caps are the
 * floors plus the budget left in proportion to want - floor (the planner then re-plans within cap - floor), or
 * the floors scaled down when even those do not fit. sum(cap_w) + other_w <= limit_w in every case. */
int sched_caps_share(struct sched_cap *c, int n, double limit_w, double other_w);
/* How a station's cap moves from `old` (counted now: in force, or in flight when higher) to `next` (a plan's),
 * from `now` on. KEEP: nothing to send (equal, or old covers the plan's `want` and lies under next, which only
 * leaves more room). DECREASE: next <= old everywhere, sent at once (saga phase 1). RAISE: next is higher
 * somewhere; sent in phase 2, once the others' decreases are answered and only if the sum fits; when it is also
 * lower somewhere, *step_needed and `step` = min(old, next) goes out in phase 1 first, so that two stations
 * trading hours never wait on each other. */
enum sched_cap_move { SCHED_CAP_KEEP, SCHED_CAP_DECREASE, SCHED_CAP_RAISE };
enum sched_cap_move sched_cap_move(const struct sched *old, const struct sched *want, const struct sched *next,
                                   int64_t now, struct sched *step, bool *step_needed);

#endif
