/* The arithmetic that keeps the site under its limit between plans (src/schedule.c): quantizing to what a
 * station is told, compressing to PeriodsPerSchedule without raising any limit, and the two-phase transition
 * (min(old, new) first, then new) never exceeding the larger of the old and new site totals. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "schedule.h"

#define MIN_MS 60000LL

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static double rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const struct sched_unit W3 = {.amps = false, .phases = 3, .voltage_v = 230, .min_w = 6 * 3 * 230};
static const struct sched_unit A3 = {.amps = true, .phases = 3, .voltage_v = 230, .min_w = 6 * 3 * 230};

static void random_plan(double *kw, int slots, double max_kw)
{
    for (int t = 0; t < slots; t++) {
        double r = rnd();
        kw[t] = r < 0.3 ? 0 : r < 0.5 ? max_kw : rnd() * max_kw;
    }
}

static void test_quantize(void)
{
    CHECK(sched_quantize(&A3, 11000) == 15.9 * 690, "11 kW in A on 3x230 V: 15.9 A (%.3f W)", sched_quantize(&A3, 11000));
    CHECK(sched_unit_value(&A3, sched_quantize(&A3, 11000)) == 15.9, "sent as 15.9 A");
    CHECK(sched_quantize(&W3, 11000.7) == 11000, "W: whole watts, rounded down");
    CHECK(sched_quantize(&W3, 4100) == 4140, "just under 6 A from round-off goes to the minimum");
    CHECK(sched_quantize(&W3, 3000) == 0, "well under 6 A goes to 0, never between 0 and the minimum");
    CHECK(sched_quantize(&A3, -5) == 0 && sched_quantize(&A3, NAN) == 0, "negative and NaN are 0");
    int bad = 0;
    for (int i = 0; i < 10000; i++) {
        double w = rnd() * 30000;
        double q = sched_quantize(i % 2 ? &A3 : &W3, w);
        if ((q > 0 && q < 4140) || q > w + 1e-9 * w + (w < 4140 ? 4140 : 0)) bad++;
    }
    CHECK(bad == 0, "10,000 random limits: never in (0, min), never above the plan except lifted to the minimum");
}

static void test_compress(void)
{
    int raised = 0, too_many = 0, wrong_start = 0;
    for (int i = 0; i < 2000; i++) {
        double kw[96];
        random_plan(kw, 96, 22);
        struct sched s, c;
        int64_t t0 = 1000 * MIN_MS;
        sched_from_plan(&s, i % 2 ? &A3 : &W3, t0, t0 + 7 * MIN_MS, 15 * MIN_MS, kw, 96);
        c = s;
        int max = 1 + i % 24;
        sched_compress(&c, max, 96 * 15 * MIN_MS);
        too_many += c.n > max;
        raised += !sched_le(&c, &s, t0);
        wrong_start += c.t[0] != t0;
    }
    CHECK(too_many == 0, "compressed to at most PeriodsPerSchedule (1..24) periods in 2,000 random plans");
    CHECK(raised == 0, "compression never raises a limit above the plan");
    CHECK(wrong_start == 0, "the first period still starts at the schedule's start");

    /* Merging equal neighbours alone when it is enough: nothing is lost. */
    double kw[8] = {11, 11, 11, 0, 0, 7, 7, 7};
    struct sched s;
    sched_from_plan(&s, &W3, 0, 15 * MIN_MS, 15 * MIN_MS, kw, 8);
    struct sched c = s;
    sched_compress(&c, 3, 8 * 15 * MIN_MS);
    CHECK(s.n == 3 && sched_equal(&c, &s, 0), "equal neighbours merge first: 8 slots are 3 periods, unchanged");
    sched_compress(&c, 2, 8 * 15 * MIN_MS);
    CHECK(c.n == 2 && sched_le(&c, &s, 0), "one more merge takes the cheaper side down (%d periods)", c.n);
}

/* Ten EVSEs change from an old plan to a new one, both under the site limit. Any subset of them may have
 * switched at any moment; the total must stay under the limit throughout. */
static void test_transition(void)
{
    int violations = 0, checked = 0;
    const int E = 10, T = 24;
    const double limit_w = 60000;
    for (int round = 0; round < 300; round++) {
        struct sched old[10], new[10], step[10];
        int64_t now = 5000 * MIN_MS + (int64_t)(rnd() * 30) * MIN_MS;
        double kwo[10][24], kwn[10][24];
        for (int e = 0; e < E; e++) {
            random_plan(kwo[e], T, 22);
            random_plan(kwn[e], T, 22);
        }
        /* Scale each slot so both plans respect the limit. */
        for (int t = 0; t < T; t++) {
            double so = 0, sn = 0;
            for (int e = 0; e < E; e++) so += kwo[e][t], sn += kwn[e][t];
            for (int e = 0; e < E; e++) {
                if (so * 1000 > limit_w) kwo[e][t] *= limit_w / 1000 / so;
                if (sn * 1000 > limit_w) kwn[e][t] *= limit_w / 1000 / sn;
            }
        }
        for (int e = 0; e < E; e++) {
            const struct sched_unit *u = e % 2 ? &A3 : &W3;
            sched_from_plan(&old[e], u, 4990 * MIN_MS, 5000 * MIN_MS, 15 * MIN_MS, kwo[e], T);
            sched_from_plan(&new[e], u, now, (now / (15 * MIN_MS) + 1) * 15 * MIN_MS, 15 * MIN_MS, kwn[e], T);
            sched_compress(&new[e], 8, T * 15 * MIN_MS);
            sched_min(&old[e], &new[e], now, &step[e]);
            sched_compress(&step[e], 8, T * 15 * MIN_MS);
        }
        for (int probe = 0; probe < 50; probe++) {
            int64_t t = now + (int64_t)(rnd() * T * 15) * MIN_MS;
            unsigned mask = (unsigned)(rnd() * 1024);
            double p1 = 0, p2 = 0;
            for (int e = 0; e < E; e++) {
                /* Phase 1: some switched to the step, the rest still on the old. Phase 2: step -> new. */
                p1 += (mask >> e & 1) ? sched_at(&step[e], t) : sched_at(&old[e], t);
                p2 += (mask >> e & 1) ? sched_at(&new[e], t) : sched_at(&step[e], t);
            }
            checked++;
            violations += p1 > limit_w + 1e-6 || p2 > limit_w + 1e-6;
        }
    }
    CHECK(violations == 0, "decreases first: %d random moments x subsets, the site never above its limit", checked);

    /* The check can fail: sending the new plans in one go (some new, some old) does exceed it. */
    struct sched a_old, a_new, b_old, b_new;
    double ao[2] = {20, 0}, an[2] = {0, 20}, bo[2] = {0, 20}, bn[2] = {20, 0};
    sched_from_plan(&a_old, &W3, 0, 15 * MIN_MS, 15 * MIN_MS, ao, 2);
    sched_from_plan(&a_new, &W3, 0, 15 * MIN_MS, 15 * MIN_MS, an, 2);
    sched_from_plan(&b_old, &W3, 0, 15 * MIN_MS, 15 * MIN_MS, bo, 2);
    sched_from_plan(&b_new, &W3, 0, 15 * MIN_MS, 15 * MIN_MS, bn, 2);
    double naive = sched_at(&a_old, 0) + sched_at(&b_new, 0);
    struct sched b_step;
    sched_min(&b_old, &b_new, 0, &b_step);
    double safe = sched_at(&a_old, 0) + sched_at(&b_step, 0);
    CHECK(naive > 20000 && safe <= 20000, "swap of two EVSEs on 20 kW: all-at-once can reach %.0f W, the step %.0f W",
          naive, safe);
}

static void test_json(void)
{
    double kw[4] = {11, 11, 0, 7};
    struct sched s;
    int64_t t0 = 1764180000000LL + 123; /* not on a whole second */
    sched_from_plan(&s, &A3, t0, t0 + 300000 - 123, 900000, kw, 4);
    cJSON *j = sched_to_json(&s, &A3, 1);
    cJSON *periods = cJSON_GetObjectItem(j, "chargingSchedulePeriod");
    CHECK(cJSON_GetArraySize(periods) == 3, "3 periods (equal neighbours merged)");
    cJSON *p1 = cJSON_GetArrayItem(periods, 1);
    CHECK(cJSON_GetObjectItem(p1, "startPeriod")->valueint == 1200, "second period at the 2nd slot boundary (%d s)",
          cJSON_GetObjectItem(p1, "startPeriod")->valueint);
    CHECK(strcmp(cJSON_GetObjectItem(j, "chargingRateUnit")->valuestring, "A") == 0 &&
              cJSON_GetObjectItem(cJSON_GetArrayItem(periods, 0), "numberPhases")->valueint == 3,
          "A with numberPhases");
    cJSON_Delete(j);
}

/* The energy a plan expects by a given time (energy drift is measured against it). */
static void test_energy(void)
{
    struct sched s;
    sched_const(&s, 0, 11000);
    CHECK(fabs(sched_energy_wh(&s, 0, 60 * MIN_MS) - 11000) < 1e-9, "11 kW for an hour: 11 kWh");
    CHECK(sched_energy_wh(&s, 60 * MIN_MS, 60 * MIN_MS) == 0 && sched_energy_wh(&s, 5, 0) == 0, "empty span: 0");
    int off = 0;
    for (int i = 0; i < 500; i++) {
        double kw[48];
        random_plan(kw, 48, 22);
        int64_t t0 = 500 * MIN_MS + (int64_t)(rnd() * 14) * MIN_MS;
        sched_from_plan(&s, i % 2 ? &A3 : &W3, t0, 510 * MIN_MS, 15 * MIN_MS, kw, 48);
        int64_t from = t0 + (int64_t)(rnd() * 300) * MIN_MS, to = from + (int64_t)(rnd() * 400) * MIN_MS;
        double brute = 0; /* minute by minute: every boundary is on a whole minute */
        for (int64_t t = from; t < to; t += MIN_MS) brute += sched_at(&s, t) / 60.0;
        if (fabs(sched_energy_wh(&s, from, to) - brute) > 1e-6) off++;
    }
    CHECK(off == 0, "500 random plans: the energy over a random span equals the minute-by-minute sum");
}

static void test_max_add(void)
{
    struct sched a = {.n = 2, .t = {0, 10 * MIN_MS}, .w = {4000, 1000}}, b = {.n = 2, .t = {0, 5 * MIN_MS}, .w = {2000, 3000}};
    struct sched m, s;
    sched_max(&a, &b, 0, &m);
    CHECK(m.n == 2 && m.w[0] == 4000 && m.w[1] == 3000 && m.t[1] == 10 * MIN_MS,
          "max: 4 kW, then 3 kW from 10 min (b's rise at 5 min is under a) (n %d)", m.n);
    sched_add(&a, &b, 0, &s);
    CHECK(sched_at(&s, 0) == 6000 && sched_at(&s, 5 * MIN_MS) == 7000 && sched_at(&s, 10 * MIN_MS) == 4000,
          "sum: 6, 7, then 4 kW");
    sched_add(&a, &b, 7 * MIN_MS, &s);
    CHECK(s.t[0] == 7 * MIN_MS && s.w[0] == 7000 && sched_max_over(&s, 7 * MIN_MS, INT64_MAX) == 7000,
          "sum from 7 min: starts there at 7 kW, its highest");
}

/* min, max and sum written into one of their inputs (room = min(room, feeder)): each moment's own values. A
 * running minimum here once held every later moment to the lowest room seen before it. */
static void test_in_place(void)
{
    struct sched room = {.n = 3, .t = {0, 10 * MIN_MS, 20 * MIN_MS}, .w = {2000, 9000, 5000}};
    struct sched feeder = {.n = 2, .t = {0, 15 * MIN_MS}, .w = {8000, 6000}};
    sched_min(&room, &feeder, 0, &room);
    CHECK(sched_at(&room, 0) == 2000 && sched_at(&room, 12 * MIN_MS) == 8000 && sched_at(&room, 16 * MIN_MS) == 6000 &&
          sched_at(&room, 25 * MIN_MS) == 5000, "min into a: 2, 8, 6, 5 kW (%.0f %.0f %.0f %.0f)", sched_at(&room, 0),
          sched_at(&room, 12 * MIN_MS), sched_at(&room, 16 * MIN_MS), sched_at(&room, 25 * MIN_MS));
    struct sched a = {.n = 2, .t = {0, 10 * MIN_MS}, .w = {1000, 7000}}, b = {.n = 1, .t = {0}, .w = {3000}};
    sched_min(&a, &b, 0, &b);
    CHECK(sched_at(&b, 0) == 1000 && sched_at(&b, 11 * MIN_MS) == 3000, "min into b: 1, then 3 kW");
    struct sched c = {.n = 2, .t = {0, 10 * MIN_MS}, .w = {1000, 7000}}, d = {.n = 1, .t = {0}, .w = {3000}};
    sched_max(&c, &d, 0, &c);
    sched_add(&c, &d, 0, &c);
    CHECK(sched_at(&c, 0) == 6000 && sched_at(&c, 11 * MIN_MS) == 10000, "max then add into a: 6, then 10 kW");
}

static void test_min_over(void)
{
    struct sched s = {.n = 3, .t = {0, 10 * MIN_MS, 20 * MIN_MS}, .w = {4000, 11000, 2000}};
    CHECK(sched_min_over(&s, 5 * MIN_MS, 15 * MIN_MS) == 4000, "a span across a rise: the lower limit before it");
    CHECK(sched_min_over(&s, 11 * MIN_MS, 19 * MIN_MS) == 11000, "a span inside one period: its limit");
    CHECK(sched_min_over(&s, 12 * MIN_MS, 20 * MIN_MS) == 2000, "a span that reaches a fall: the fall counts");
    CHECK(sched_min_over(&s, -5 * MIN_MS, -1 * MIN_MS) == 4000, "before the first period: the first's limit");
}

/* The learned EV maximum: learned when offered clearly more, never stuck: forgotten after the retry time, and
 * when the EV says it can take more. */
static void test_evmax(void)
{
    struct sched_evmax m = {0};
    const int64_t retry = 60 * MIN_MS;
    CHECK(!sched_evmax_reading(&m, 11000, 10500, true, 2000, 0, retry) && m.w == 0,
          "taking about what it is offered teaches nothing");
    sched_evmax_reading(&m, 11000, 1000, true, 2000, 3 * MIN_MS, retry);
    CHECK(m.w == 0, "one reading under its offer (a limit the station raised late): nothing learned yet");
    sched_evmax_reading(&m, 11000, 10800, true, 2000, 4 * MIN_MS, retry);
    sched_evmax_reading(&m, 11000, 4000, true, 2000, 5 * MIN_MS, retry);
    CHECK(m.w == 0, "the next one took its offer: the first is forgotten, one more under it is still one");
    sched_evmax_reading(&m, 11000, 3800, true, 2000, 5 * MIN_MS, retry);
    CHECK(m.w == 4000 && m.since_ms == 5 * MIN_MS, "offered 11 kW, took 4 kW twice: learned 4 kW (%.0f)", m.w);
    sched_evmax_reading(&m, 11000, 0, false, 2000, 6 * MIN_MS, retry);
    CHECK(m.w == 4000, "a pause (not charging) changes nothing");
    /* Planned at 4 kW from now on: the profile caps it, so on its own it could never rise. */
    int stuck = 0;
    for (int64_t t = 6 * MIN_MS; t < 65 * MIN_MS; t += MIN_MS)
        stuck += sched_evmax_reading(&m, 4000, 3990, true, 2000, t, retry);
    CHECK(stuck == 0 && m.w == 4000, "capped at what it learned, for the hour after: kept");
    CHECK(sched_evmax_reading(&m, 4000, 3990, true, 2000, 65 * MIN_MS, retry) && m.w == 0,
          "an hour after it was learned: forgotten, the next plan offers full power again");
    sched_evmax_reading(&m, 11000, 3000, true, 2000, 69 * MIN_MS, retry);
    sched_evmax_reading(&m, 11000, 3000, true, 2000, 70 * MIN_MS, retry);
    CHECK(m.w == 3000 && m.since_ms == 70 * MIN_MS, "still taking less: learned again, from then");
    sched_evmax_reading(&m, 11000, 3500, true, 2000, 71 * MIN_MS, retry);
    CHECK(m.w == 3500 && m.since_ms == 70 * MIN_MS, "taking more than it was thought to: raised");
    CHECK(!sched_evmax_ev_says(&m, 3000) && m.w == 3500, "the EV saying less: kept");
    CHECK(sched_evmax_ev_says(&m, 11000) && m.w == 0, "the EV saying 11 kW (NotifyEVChargingNeeds): forgotten");
    struct sched_evmax k = {0};
    sched_evmax_reading(&k, 11000, 4000, true, 2000, 0, 0);
    sched_evmax_reading(&k, 11000, 4000, true, 2000, 0, 0);
    CHECK(!sched_evmax_reading(&k, 4000, 3990, true, 2000, 1000 * MIN_MS, 0) && k.w == 4000,
          "retry 0: kept for the session");
}

/* Caps over time through the saga, by hand: 20 kW; station A held 15 kW for the first hour and 5 after, B the
 * opposite; the new plan swaps them. Sent as it is, neither raise fits beside the other's old cap (5 + 15 +
 * ... = 30 kW in some hour), so each would wait for the other for ever; the lower step of each goes out first. */
static void test_cap_trade(void)
{
    const int64_t H = 60 * MIN_MS, L = 20000;
    struct sched a_old = {.n = 2, .t = {0, H}, .w = {15000, 5000}}, b_old = {.n = 2, .t = {0, H}, .w = {5000, 15000}};
    struct sched a_next = {.n = 2, .t = {0, H}, .w = {5000, 15000}}, b_next = {.n = 2, .t = {0, H}, .w = {15000, 5000}};
    struct sched want = {.n = 1, .t = {0}, .w = {0}}, a_step, b_step, sum, lim;
    bool a_needs, b_needs;
    sched_const(&lim, 0, L);
    CHECK(sched_cap_move(&a_old, &want, &a_next, 0, &a_step, &a_needs) == SCHED_CAP_RAISE && a_needs &&
          sched_at(&a_step, 0) == 5000 && sched_at(&a_step, H) == 5000, "A: a raise, with a 5 kW step first");
    CHECK(sched_cap_move(&b_old, &want, &b_next, 0, &b_step, &b_needs) == SCHED_CAP_RAISE && b_needs,
          "B: the same");
    sched_add(&b_old, &a_next, 0, &sum);
    CHECK(!sched_le(&sum, &lim, 0) && sched_at(&sum, H) == 30000,
          "without the step A's raise does not fit beside B's old cap (30 kW in the second hour)");
    /* Phase 1: the steps in flight count at max(old, step) = old; answered, at the step. */
    sched_add(&a_step, &b_step, 0, &sum);
    CHECK(sched_le(&sum, &lim, 0) && sched_at(&sum, 0) == 10000, "after phase 1: 10 kW counted in both hours");
    /* Phase 2: A's raise fits beside B's step; in flight it counts at max(step, next) = next; then B's. */
    sched_add(&b_step, &a_next, 0, &sum);
    CHECK(sched_le(&sum, &lim, 0), "A's raise fits beside B's step");
    sched_add(&a_next, &b_next, 0, &sum);
    CHECK(sched_le(&sum, &lim, 0) && sched_at(&sum, 0) == 20000 && sched_at(&sum, H) == 20000,
          "B's raise fits beside A's: 20 kW in both hours, never above");
    /* Kept: a cap that covers the plan and lies under the new one needs no message; a cap lower everywhere is a
     * decrease (sent at once), with no step. */
    struct sched hi = {.n = 1, .t = {0}, .w = {15000}}, lo = {.n = 1, .t = {0}, .w = {4000}}, w4 = {.n = 1, .t = {0}, .w = {4000}};
    struct sched mid = {.n = 1, .t = {0}, .w = {8000}}, step;
    bool needs;
    CHECK(sched_cap_move(&mid, &w4, &hi, 0, &step, &needs) == SCHED_CAP_KEEP, "8 kW in force, the plan wants 4 "
          "and would give 15: kept");
    CHECK(sched_cap_move(&mid, &w4, &lo, 0, &step, &needs) == SCHED_CAP_DECREASE && !needs, "8 -> 4 kW: a decrease");
    struct sched w6 = {.n = 1, .t = {0}, .w = {6000}};
    CHECK(sched_cap_move(&lo, &w6, &mid, 0, &step, &needs) == SCHED_CAP_RAISE && !needs,
          "4 kW in force, the plan wants 6: 4 -> 8 kW, a raise with no step");
    /* Only the future counts: A's old first hour, past at 1 h, does not make its cap a trade then. */
    struct sched w10 = {.n = 1, .t = {0}, .w = {10000}};
    CHECK(sched_cap_move(&a_old, &w10, &hi, H, &step, &needs) == SCHED_CAP_RAISE && !needs,
          "at 1 h, the plan wanting 10 kW: 5 -> 15 kW, a plain raise");
}

/* Station caps that follow the plan: whatever the table, the caps sum under the limit; when the wants fit every
 * station gets at least its want (so every slot of its plan fits under its cap) and never less than its floor;
 * when they do not, a re-plan within cap - floor fits the second time. */
static void test_caps(void)
{
    int over = 0, under_want = 0, under_floor = 0, above_max = 0, second_pass = 0, refit = 0;
    int fit = 0, nofit = 0;
    for (int it = 0; it < 20000; it++) {
        struct sched_cap c[24];
        int n = 1 + (int)(rnd() * 24);
        double limit = 20000 + rnd() * 300000, other = rnd() < 0.3 ? rnd() * 40000 : 0;
        double peak[24];
        for (int i = 0; i < n; i++) {
            memset(&c[i], 0, sizeof c[i]);
            c[i].adjustable = rnd() < 0.8;
            c[i].old_w = rnd() * 40000;
            c[i].max_w = 22000 * (1 + (int)(rnd() * 4));
            c[i].floor_w = rnd() < 0.5 ? 4140 * (int)(rnd() * 4) : 0;
            c[i].idle_w = rnd() < 0.5 ? 6600 * (int)(rnd() * 4) : 0;
            peak[i] = rnd() < 0.3 ? 0 : rnd() * (c[i].max_w - c[i].floor_w);
            c[i].want_w = c[i].floor_w + peak[i];
        }
        double fixed = other;
        for (int i = 0; i < n; i++) fixed += c[i].adjustable ? 0 : c[i].old_w;
        int rc = sched_caps_share(c, n, limit, other);
        double sum = other, floors = 0;
        for (int i = 0; i < n; i++) sum += c[i].cap_w, floors += c[i].adjustable ? c[i].floor_w : 0;
        if (fixed <= limit && sum > limit + 1e-6) over++;
        if (rc == 0) {
            fit++;
            for (int i = 0; i < n; i++) {
                if (!c[i].adjustable) continue;
                under_want += c[i].cap_w < floor(c[i].want_w) - 1e-9;
                above_max += c[i].cap_w > c[i].max_w + 1e-9;
            }
        } else {
            nofit++;
            if (floors + fixed <= limit)
                for (int i = 0; i < n; i++) under_floor += c[i].adjustable && c[i].cap_w < floor(c[i].floor_w) - 1;
            /* The planner re-plans each station within cap - floor (the LP's circuit): its peak is at most that. */
            for (int i = 0; i < n; i++)
                if (c[i].adjustable) {
                    double room = fmax(0, c[i].cap_w - c[i].floor_w);
                    c[i].want_w = c[i].floor_w + fmin(peak[i], room);
                    if (c[i].cap_w < c[i].floor_w) c[i].want_w = c[i].floor_w = c[i].cap_w;
                }
            second_pass++;
            if (fixed <= limit && sched_caps_share(c, n, limit, other) != 0) refit++;
        }
    }
    CHECK(fit > 1000 && nofit > 1000, "both cases drawn (%d fit, %d do not)", fit, nofit);
    CHECK(over == 0, "20,000 tables: caps + fixed never above the limit (%d over)", over);
    CHECK(under_want == 0 && above_max == 0, "wants fit: every station's cap covers its plan's peak and floor, "
          "never above its hardware (%d under, %d above)", under_want, above_max);
    CHECK(under_floor == 0, "wants do not fit: floors kept when they fit (%d under)", under_floor);
    CHECK(refit == 0, "re-planned within cap - floor, all %d fit the second time (%d did not)", second_pass, refit);

    /* The ACN case: 14 stations of 4 x 6.6 kW, 150 kW; two carry 3-4 cars, the rest idle (floor 4 x 1.38 kW). */
    struct sched_cap a[14];
    for (int i = 0; i < 14; i++) {
        int cars = i == 0 ? 4 : i == 1 ? 3 : 0;
        a[i] = (struct sched_cap){.adjustable = true, .old_w = 10714, .max_w = 26400,
                                  .floor_w = (4 - cars) * 1380.0, .want_w = (4 - cars) * 1380.0 + cars * 6600.0};
    }
    CHECK(sched_caps_share(a, 14, 150000, 0) == 0 && a[0].cap_w >= 26400 && a[1].cap_w >= 21180,
          "ACN: the station with 4 cars gets 26.4 kW (%.0f W), with 3 cars >= 21.2 kW (%.0f W)", a[0].cap_w, a[1].cap_w);
    double s = 0;
    for (int i = 0; i < 14; i++) s += a[i].cap_w;
    CHECK(s <= 150000 && s > 149900 && a[5].cap_w >= 5520 && a[5].cap_w == a[13].cap_w,
          "the rest shared equally: idle ones above their 4 x 1.38 kW floor (%.0f W each), sum %.0f W", a[5].cap_w, s);
    /* The same at 120 kW with each idle EVSE's 6.6 kW said (idle_w): wants 113.82 kW, 6.18 kW spare, shared by what
     * could plug in: the station with 3 cars has one idle EVSE (6.6 kW), the twelve idle ones four (26.4 kW each),
     * 323.4 kW in all: 126.1 W and 504.5 W each, not 475 W to every station with room. */
    for (int i = 0; i < 14; i++) {
        int cars = i == 0 ? 4 : i == 1 ? 3 : 0;
        a[i] = (struct sched_cap){.adjustable = true, .max_w = 26400, .idle_w = (4 - cars) * 6600.0,
                                  .floor_w = (4 - cars) * 1380.0, .want_w = (4 - cars) * 1380.0 + cars * 6600.0};
    }
    CHECK(sched_caps_share(a, 14, 120000, 0) == 0 && a[0].cap_w == 26400 && a[1].cap_w == 21306 &&
              a[2].cap_w == 6024 && a[13].cap_w == 6024,
          "spare to the idle EVSEs by what they could draw (%.0f, %.0f, %.0f W)", a[0].cap_w, a[1].cap_w, a[2].cap_w);
    /* More spare than the idle EVSEs could draw: each gets its room, the rest equally up to the hardware. */
    struct sched_cap g[2] = {{.adjustable = true, .max_w = 22000, .want_w = 11000, .idle_w = 0},
                             {.adjustable = true, .max_w = 22000, .want_w = 0, .idle_w = 4000}};
    CHECK(sched_caps_share(g, 2, 30000, 0) == 0 && g[1].cap_w == 11500 && g[0].cap_w == 18500,
          "idle room first (4 kW), then 7.5 kW each (%.0f, %.0f)", g[0].cap_w, g[1].cap_w);
    struct sched_cap f[2] = {{.adjustable = false, .old_w = 90000},
                             {.adjustable = true, .old_w = 0, .want_w = 80000, .floor_w = 5000, .max_w = 88000}};
    CHECK(sched_caps_share(f, 2, 150000, 10000) == 1 && f[1].cap_w == 50000,
          "a fixed station's 90 kW and 10 kW outside: the other gets the 50 kW left (%.0f)", f[1].cap_w);
}

/* A station whose clock is off by offset (known to within u) applies out at depotd's time t as out(t + offset + e),
 * |e| <= u: never above the plan, and a limit in force from the start even when it is behind by the backdate. */
static void test_clock(void)
{
    struct sched in = {.n = 3, .t = {0, 900000, 1800000}, .w = {10000, 4000, 11000}}, out;
    sched_for_clock(&in, 0, 0, 300000, &out);
    CHECK(out.n == 3 && out.t[0] == -300000 && out.t[1] == 900000 && out.w[2] == 11000,
          "exact clock: the same periods, the first one backdated 300 s");
    sched_for_clock(&in, -120000, 60000, 300000, &out);
    CHECK(out.n == 3 && out.t[0] == -420000 && out.t[1] == 840000 - 120000 && out.t[2] == 1860000 - 120000 &&
              out.w[1] == 4000,
          "120 s behind, known to 60 s: the drop 60 s early, the raise 60 s late, all 120 s earlier on its clock");
    struct sched spike = {.n = 3, .t = {0, 900000, 960000}, .w = {4000, 11000, 3000}};
    sched_for_clock(&spike, 0, 60000, 0, &out);
    bool spike_gone = true;
    for (int k = 0; k < out.n; k++) spike_gone &= out.w[k] < 11000;
    CHECK(spike_gone && sched_at(&out, 900000) == 3000, "a raise shorter than the uncertainty is dropped");
    int bad = 0;
    for (int trial = 0; trial < 300; trial++) {
        struct sched s = {.n = 1 + (int)(rnd() * 8)};
        for (int k = 0; k < s.n; k++) {
            s.t[k] = (k ? s.t[k - 1] : 0) + 1000 * (int64_t)(1 + rnd() * 1200);
            s.w[k] = rnd() < 0.3 ? 0 : round(rnd() * 22000);
        }
        int64_t off = (int64_t)((rnd() - 0.5) * 600000), u = (int64_t)(rnd() * 120000);
        sched_for_clock(&s, off, u, 300000, &out);
        for (int k = 0; k < out.n; k++) bad += out.t[k] % 1000 != 0;
        for (int64_t t = s.t[0]; t < s.t[s.n - 1] + 200000; t += 5000) {
            int64_t e = (int64_t)((rnd() * 2 - 1) * (double)u);
            if (sched_at(&out, t + off + e) > sched_at(&s, t) || out.t[0] > s.t[0] + off + e) bad++;
        }
    }
    CHECK(bad == 0, "random schedules, offsets and clock errors within the uncertainty: never above the plan, "
                    "never before the start, every boundary on a whole second (%d bad moments)", bad);
    /* 118.5 s ahead: the raise at 900 s lands at 1018.5 on its clock; truncated to 1018 it went 0.5 s early. */
    struct sched up = {.n = 2, .t = {0, 900000}, .w = {4000, 11000}};
    sched_for_clock(&up, 118500, 0, 0, &out);
    CHECK(out.n == 2 && out.t[0] == 118000 && out.t[1] == 1019000 && out.w[0] == 4000,
          "a raise at a fraction of a second waits for the next whole one (%lld), the start takes the one before",
          (long long)out.t[1]);
    struct sched down = {.n = 2, .t = {0, 900000}, .w = {11000, 4000}};
    sched_for_clock(&down, 118500, 0, 0, &out);
    CHECK(out.n == 2 && out.t[1] == 1018000, "a drop at a fraction comes at the whole second before (%lld)",
          (long long)out.t[1]);
    struct sched blip = {.n = 3, .t = {0, 900200, 900700}, .w = {4000, 11000, 3000}};
    sched_for_clock(&blip, 0, 0, 0, &out);
    CHECK(out.n == 2 && out.t[1] == 900000 && out.w[1] == 3000, "a raise and a drop in one second: the lower");
}

int main(void)
{
    test_clock();
    test_caps();
    test_evmax();
    test_min_over();
    test_in_place();
    test_max_add();
    test_cap_trade();
    test_energy();
    test_quantize();
    test_compress();
    test_transition();
    test_json();
    return CHECK_DONE();
}
