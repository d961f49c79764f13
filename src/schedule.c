#include "schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp.h"

double sched_quantize(const struct sched_unit *u, double w)
{
    if (!(w > 0)) return 0;
    double per_a = u->amps ? u->phases * u->voltage_v : 1.0;
    /* Down to the unit's step (0.1 A, 1 W), with a hair of tolerance so 11000.0000001 stays 11000. */
    double step = u->amps ? 0.1 : 1.0;
    double v = floor(w / per_a / step + 1e-6) * step;
    double out = v * per_a;
    if (out > 0 && out < u->min_w) out = out >= u->min_w * 0.98 ? u->min_w : 0;
    return out;
}

double sched_unit_value(const struct sched_unit *u, double w)
{
    if (!u->amps) return floor(w + 1e-6);
    return round(w / (u->phases * u->voltage_v) * 10.0) / 10.0;
}

void sched_const(struct sched *s, int64_t t0, double w)
{
    s->n = 1;
    s->t[0] = t0;
    s->w[0] = w;
}

static void push(struct sched *s, int64_t t, double w)
{
    if (s->n > 0 && s->w[s->n - 1] == w) return;
    if (s->n > 0 && s->t[s->n - 1] == t) {
        s->w[s->n - 1] = w;
        if (s->n > 1 && s->w[s->n - 2] == w) s->n--;
        return;
    }
    if (s->n >= SCHED_MAX) {
        /* Out of room: keep the lower limit (never raise). */
        if (w < s->w[s->n - 1]) s->w[s->n - 1] = w;
        return;
    }
    s->t[s->n] = t;
    s->w[s->n] = w;
    s->n++;
}

void sched_from_plan(struct sched *s, const struct sched_unit *u, int64_t start_ms, int64_t first_end_ms,
                     int64_t slot_ms, const double *kw, int slots)
{
    s->n = 0;
    for (int k = 0; k < slots; k++) {
        int64_t t = k == 0 ? start_ms : first_end_ms + (int64_t)(k - 1) * slot_ms;
        push(s, t, sched_quantize(u, kw[k] * 1000.0));
    }
    if (s->n == 0) sched_const(s, start_ms, 0);
}

void sched_from_slots(struct sched *s, const struct sched_unit *u, const int64_t *at, const double *kw, int slots)
{
    s->n = 0;
    for (int k = 0; k < slots; k++) push(s, at[k], sched_quantize(u, kw[k] * 1000.0));
    if (s->n == 0) sched_const(s, slots > 0 ? at[0] : 0, 0);
}

double sched_at(const struct sched *s, int64_t t)
{
    int k = 0;
    while (k + 1 < s->n && s->t[k + 1] <= t) k++;
    return s->w[k];
}

double sched_min_over(const struct sched *s, int64_t from, int64_t to)
{
    double lo = sched_at(s, from);
    for (int k = 1; k < s->n; k++)
        if (s->t[k] > from && s->t[k] <= to && s->w[k] < lo) lo = s->w[k];
    return lo;
}

double sched_energy_wh(const struct sched *s, int64_t from, int64_t to)
{
    double wh = 0;
    for (int k = 0; k < s->n && from < to; k++) {
        int64_t end = k + 1 < s->n ? s->t[k + 1] : to;
        if (end <= from) continue;
        if (end > to) end = to;
        wh += s->w[k] * (double)(end - from) / 3600000.0;
        from = end;
    }
    return wh;
}

void sched_merge_equal(struct sched *s)
{
    int o = 0;
    for (int k = 0; k < s->n; k++) {
        if (o > 0 && s->w[o - 1] == s->w[k]) continue;
        s->t[o] = s->t[k];
        s->w[o] = s->w[k];
        o++;
    }
    s->n = o;
}

void sched_compress(struct sched *s, int max_periods, int64_t horizon_ms)
{
    if (max_periods < 1) max_periods = 1;
    sched_merge_equal(s);
    while (s->n > max_periods) {
        /* Merging k and k+1 into their minimum takes |w_k - w_k+1| x (duration of the higher) away. */
        int best = 0;
        double best_cost = INFINITY;
        for (int k = 0; k + 1 < s->n; k++) {
            int hi = s->w[k] > s->w[k + 1] ? k : k + 1;
            int64_t end = hi + 1 < s->n ? s->t[hi + 1] : s->t[0] + horizon_ms;
            double dur = (double)(end > s->t[hi] ? end - s->t[hi] : 1);
            double cost = fabs(s->w[k] - s->w[k + 1]) * dur;
            if (cost < best_cost) {
                best_cost = cost;
                best = k;
            }
        }
        double w = fmin(s->w[best], s->w[best + 1]);
        s->w[best] = w;
        memmove(&s->t[best + 1], &s->t[best + 2], (size_t)(s->n - best - 2) * sizeof s->t[0]);
        memmove(&s->w[best + 1], &s->w[best + 2], (size_t)(s->n - best - 2) * sizeof s->w[0]);
        s->n--;
        sched_merge_equal(s);
    }
}

/* Every breakpoint of a and b at or after `from`, with `from` first. */
static int breakpoints(const struct sched *a, const struct sched *b, int64_t from, int64_t *out, int cap)
{
    int n = 0, i = 0, j = 0;
    out[n++] = from;
    while ((i < a->n || j < b->n) && n < cap) {
        int64_t t;
        if (j >= b->n || (i < a->n && a->t[i] <= b->t[j])) t = a->t[i++];
        else t = b->t[j++];
        if (t > out[n - 1]) out[n++] = t;
    }
    return n;
}

void sched_min(const struct sched *a, const struct sched *b, int64_t from, struct sched *out)
{
    int64_t ts[2 * SCHED_MAX + 1];
    int n = breakpoints(a, b, from, ts, 2 * SCHED_MAX + 1);
    /* Into a copy: out is often a (room = min(room, ...)), and reading a while writing it made a running minimum,
     * every later moment no higher than the earlier ones. */
    struct sched r = {0};
    for (int k = 0; k < n; k++) push(&r, ts[k], fmin(sched_at(a, ts[k]), sched_at(b, ts[k])));
    *out = r;
}

void sched_max(const struct sched *a, const struct sched *b, int64_t from, struct sched *out)
{
    int64_t ts[2 * SCHED_MAX + 1];
    int n = breakpoints(a, b, from, ts, 2 * SCHED_MAX + 1);
    struct sched r = {0};
    for (int k = 0; k < n; k++) push(&r, ts[k], fmax(sched_at(a, ts[k]), sched_at(b, ts[k])));
    *out = r;
}

void sched_add(const struct sched *a, const struct sched *b, int64_t from, struct sched *out)
{
    int64_t ts[2 * SCHED_MAX + 1];
    int n = breakpoints(a, b, from, ts, 2 * SCHED_MAX + 1);
    struct sched r = {0};
    for (int k = 0; k < n; k++) push(&r, ts[k], sched_at(a, ts[k]) + sched_at(b, ts[k]));
    *out = r;
}

double sched_max_over(const struct sched *s, int64_t from, int64_t to)
{
    double hi = sched_at(s, from);
    for (int k = 1; k < s->n; k++)
        if (s->t[k] > from && s->t[k] <= to && s->w[k] > hi) hi = s->w[k];
    return hi;
}

bool sched_le(const struct sched *a, const struct sched *b, int64_t from)
{
    int64_t ts[2 * SCHED_MAX + 1];
    int n = breakpoints(a, b, from, ts, 2 * SCHED_MAX + 1);
    for (int k = 0; k < n; k++)
        if (sched_at(a, ts[k]) > sched_at(b, ts[k])) return false;
    return true;
}

double sched_max_excess(const struct sched *a, const struct sched *b, int64_t from, int64_t *at)
{
    int64_t ts[2 * SCHED_MAX + 1];
    int n = breakpoints(a, b, from, ts, 2 * SCHED_MAX + 1);
    double worst = -INFINITY;
    for (int k = 0; k < n; k++) {
        double x = sched_at(a, ts[k]) - sched_at(b, ts[k]);
        if (x > worst) {
            worst = x;
            if (at) *at = ts[k];
        }
    }
    return worst;
}

bool sched_equal(const struct sched *a, const struct sched *b, int64_t from)
{
    return sched_le(a, b, from) && sched_le(b, a, from);
}

void sched_trim(struct sched *s, int64_t from)
{
    int k = 0;
    while (k + 1 < s->n && s->t[k + 1] <= from) k++;
    if (k > 0) {
        memmove(&s->t[0], &s->t[k], (size_t)(s->n - k) * sizeof s->t[0]);
        memmove(&s->w[0], &s->w[k], (size_t)(s->n - k) * sizeof s->w[0]);
        s->n -= k;
    }
    if (s->n > 0 && s->t[0] < from) s->t[0] = from;
}

/* in's minimum over [a, b] (before t[0]: the first period). */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* floor to a whole second (planning times are positive). */
static int64_t second_of(int64_t t)
{
    return t / 1000 * 1000;
}

/* The largest step function with whole-second boundaries that is nowhere above in: a station reads startSchedule
 * and startPeriod in whole seconds, so a raise moves to the next second and a drop to the one it falls in. */
static void round_to_seconds(const struct sched *in, struct sched *out)
{
    int64_t cand[2 * SCHED_MAX];
    int m = 0;
    cand[m++] = second_of(in->t[0]);
    for (int k = 1; k < in->n; k++) {
        cand[m++] = second_of(in->t[k]);
        if (in->t[k] % 1000) cand[m++] = second_of(in->t[k]) + 1000;
    }
    qsort(cand, (size_t)m, sizeof cand[0], cmp_i64);
    out->n = 0;
    for (int i = 0; i < m; i++)
        if (out->n == 0 || cand[i] > out->t[out->n - 1]) push(out, cand[i], sched_min_over(in, cand[i], cand[i] + 999));
}

void sched_for_clock(const struct sched *in, int64_t offset_ms, int64_t uncertainty_ms, int64_t backdate_ms,
                     struct sched *out)
{
    int64_t u = uncertainty_ms > 0 ? uncertainty_ms : 0;
    out->n = 0;
    if (in->n == 0) return;
    /* The eroded step function (in's minimum over [t - u, t + u]) can change only at t[k] - u or t[k] + u:
     * evaluated at each of them, in order, it is exact in between. */
    int64_t cand[2 * SCHED_MAX];
    int m = 0;
    int64_t first = in->t[0] - (backdate_ms > u ? backdate_ms : u);
    cand[m++] = first;
    for (int k = 1; k < in->n; k++) {
        cand[m++] = in->t[k] - u;
        cand[m++] = in->t[k] + u;
    }
    qsort(cand, (size_t)m, sizeof cand[0], cmp_i64);
    struct sched eroded;
    eroded.n = 0;
    for (int i = 0; i < m; i++)
        if (cand[i] >= first && (eroded.n == 0 || cand[i] > eroded.t[eroded.n - 1]))
            push(&eroded, cand[i], sched_min_over(in, cand[i] - u, cand[i] + u));
    for (int k = 0; k < eroded.n; k++) eroded.t[k] += offset_ms;
    round_to_seconds(&eroded, out);
}

cJSON *sched_to_json(const struct sched *s, const struct sched_unit *u, int schedule_id)
{
    cJSON *cs = cJSON_CreateObject();
    char buf[40];
    cJSON_AddNumberToObject(cs, "id", schedule_id);
    cJSON_AddStringToObject(cs, "startSchedule", ocpp_time_format(s->t[0] / 1000 * 1000, buf));
    cJSON_AddStringToObject(cs, "chargingRateUnit", u->amps ? "A" : "W");
    cJSON *arr = cJSON_AddArrayToObject(cs, "chargingSchedulePeriod");
    int64_t t0 = s->t[0] / 1000 * 1000;
    for (int k = 0; k < s->n; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "startPeriod", (double)((s->t[k] - t0) / 1000));
        cJSON_AddNumberToObject(p, "limit", sched_unit_value(u, s->w[k]));
        if (u->amps) cJSON_AddNumberToObject(p, "numberPhases", u->phases);
        cJSON_AddItemToArray(arr, p);
    }
    return cs;
}

bool sched_evmax_reading(struct sched_evmax *m, double offered_w, double power_w, bool charging, double tolerance_w,
                         int64_t now, int64_t retry_ms)
{
    if (m->w > 0 && retry_ms > 0 && now - m->since_ms >= retry_ms) {
        *m = (struct sched_evmax){0};
        return true;
    }
    if (charging && power_w > 0 && offered_w - power_w > tolerance_w) {
        if (m->pending_w <= 0) {
            m->pending_w = power_w;
            return false;
        }
        if (m->w <= 0) m->since_ms = now;
        m->w = fmax(power_w, m->pending_w);
        m->pending_w = power_w;
    } else {
        if (charging && power_w > 0) m->pending_w = 0;
        if (m->w > 0 && power_w > m->w) m->w = power_w;
    }
    return false;
}

bool sched_evmax_ev_says(struct sched_evmax *m, double ev_max_w)
{
    if (m->w <= 0 || ev_max_w <= m->w) return false;
    m->w = 0;
    m->since_ms = 0;
    m->pending_w = 0;
    return true;
}

/* ---- station maxima that follow the plan ------------------------------------------------------------------------ */

/* Where water-filling stops for station c: want + idle_w (idle), or its hardware. */
static double fill_top(const struct sched_cap *c, bool idle)
{
    return idle ? fmin(c->max_w, c->want_w + c->idle_w) : c->max_w;
}

/* Water-filling of `left` over the adjustable stations, up to fill_top in proportion to idle_w (idle), or equally;
 * returns what is left. At most n rounds: each fills a station or ends. */
static double caps_fill(struct sched_cap *c, int n, double left, bool idle)
{
    for (int round = 0; round < n && left > 1e-6; round++) {
        double weights = 0;
        for (int i = 0; i < n; i++)
            if (c[i].adjustable && c[i].cap_w < fill_top(&c[i], idle) - 1e-9) weights += idle ? c[i].idle_w : 1;
        if (!(weights > 0)) break;
        double per = left / weights;
        for (int i = 0; i < n; i++) {
            double top = fill_top(&c[i], idle);
            if (!c[i].adjustable || c[i].cap_w >= top - 1e-9) continue;
            double add = fmin(per * (idle ? c[i].idle_w : 1), top - c[i].cap_w);
            c[i].cap_w += add;
            left -= add;
        }
    }
    return left;
}

int sched_caps_share(struct sched_cap *c, int n, double limit_w, double other_w)
{
    double avail = limit_w - other_w, want = 0, floor_sum = 0;
    int n_adj = 0;
    for (int i = 0; i < n; i++) {
        if (!c[i].adjustable) {
            c[i].cap_w = c[i].old_w;
            avail -= c[i].old_w;
            continue;
        }
        if (!(c[i].floor_w > 0)) c[i].floor_w = 0;
        if (!(c[i].idle_w > 0)) c[i].idle_w = 0;
        if (!(c[i].want_w > c[i].floor_w)) c[i].want_w = c[i].floor_w;
        if (!(c[i].max_w > c[i].want_w)) c[i].max_w = c[i].want_w;
        want += c[i].want_w;
        floor_sum += c[i].floor_w;
        n_adj++;
    }
    if (avail < 0) avail = 0;
    if (want <= avail) {
        /* Every want fits: the rest goes first to the stations' idle EVSEs, then equally to all (water-filling up
         * to the hardware), so a car that plugs in finds power wherever it plugs in, before its first TxProfile
         * and while depotd is down. */
        double left = avail - want;
        for (int i = 0; i < n; i++)
            if (c[i].adjustable) c[i].cap_w = c[i].want_w;
        left = caps_fill(c, n, left, true);
        caps_fill(c, n, left, false);
        /* Round-off must never push the sum over: floor to whole W (the station is told whole W or 0.1 A, less). */
        for (int i = 0; i < n; i++)
            if (c[i].adjustable) c[i].cap_w = floor(c[i].cap_w);
        return 0;
    }
    if (floor_sum >= avail) {
        double k = floor_sum > 0 ? avail / floor_sum : 0;
        for (int i = 0; i < n; i++)
            if (c[i].adjustable) c[i].cap_w = floor(c[i].floor_w * k);
        return 1;
    }
    double k = (avail - floor_sum) / (want - floor_sum);
    for (int i = 0; i < n; i++)
        if (c[i].adjustable) c[i].cap_w = floor(c[i].floor_w + (c[i].want_w - c[i].floor_w) * k);
    return 1;
}

enum sched_cap_move sched_cap_move(const struct sched *old, const struct sched *want, const struct sched *next,
                                   int64_t now, struct sched *step, bool *step_needed)
{
    *step_needed = false;
    if (sched_equal(old, next, now) || (sched_le(want, old, now) && sched_le(old, next, now))) return SCHED_CAP_KEEP;
    if (sched_le(next, old, now)) return SCHED_CAP_DECREASE;
    sched_min(old, next, now, step);
    *step_needed = !sched_equal(step, old, now);
    return SCHED_CAP_RAISE;
}
