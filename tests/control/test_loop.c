/* The control loop through its seam (fake_port.h), by hand-computed cases: no sockets, no database, a clock that
 * moves only when told. The port keeps every CALL, event and timer; the test answers them. The plans are the real
 * ones (GLPK on the planner's worker thread), so the checks are on outcomes: what each station may draw, that it adds up to the site limit and no more, in what order things leave. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../store/check.h"
#include "fake_port.h"


/* An oracle beside control's own counting: each station may draw the highest of the cap it accepted last (its
 * hardware when it refused one and has none) and every cap in flight to it. A station maximum that leaves may
 * not lift that sum above the limit at any minute of the next four hours (a decrease may leave while the sum is
 * still above it: a station that refused its fail-safe puts it there, and the decreases bring it down). */
static double caps_sum_at(int64_t t, int upto)
{
    double sum = 0;
    for (int st = 0; st < n_stations; st++) {
        double w = NAN;
        bool refused = false;
        for (int i = 0; i <= upto; i++) {
            if (F.sent[i].station != st || strcmp(purpose(i), "ChargingStationMaxProfile") != 0) continue;
            if (F.sent[i].answered && F.sent[i].accepted) w = limit_at(i, t), refused = false;
            else if (F.sent[i].answered) refused = isnan(w);
        }
        for (int i = 0; i <= upto; i++)
            if (F.sent[i].station == st && !F.sent[i].answered && !strcmp(purpose(i), "ChargingStationMaxProfile"))
                w = isnan(w) ? limit_at(i, t) : fmax(w, limit_at(i, t));
        sum += refused && isnan(w) ? F.hw_w[st] : isnan(w) ? 0 : w;
    }
    return sum;
}

static void check_caps_sum(int adding)
{
    for (int64_t t = F.now; t < F.now + 4 * 3600000LL; t += 60000) {
        double with = caps_sum_at(t, adding), without = caps_sum_at(t, adding - 1);
        if (with > F.limit_w + 0.5 && with > without + 0.5) {
            F.over++;
            return;
        }
    }
}

static void caps_oracle(int i)
{
    if (strcmp(purpose(i), "ChargingStationMaxProfile") == 0) check_caps_sum(i);
}

/* The sum of every station's counted cap stays under the limit (W). */
static bool caps_fit(const struct control *ctl, double limit_w) { return ctl_caps_sum_w(ctl) <= limit_w + 0.5; }

/* Station maxima sent to st from call `from` on that raise its cap somewhere over the next four hours, against the
 * one sent before each. */
static int raises_to(int st, int from)
{
    int n = 0, prev = -1;
    for (int i = 0; i < F.n_sent; i++) {
        if (F.sent[i].station != st || strcmp(purpose(i), "ChargingStationMaxProfile") != 0) continue;
        bool up = false;
        for (int64_t t = F.now; prev >= 0 && !up && t < F.now + 4 * 3600000LL; t += 60000)
            up = limit_at(i, t) > limit_at(prev, t) + 0.5;
        if (i >= from) n += up;
        prev = i;
    }
    return n;
}

/* 60 kW, four stations of two 22 kW EVSEs: each station's fail-safe cap is a quarter, 15 kW. One refuses it: it
 * may draw its hardware (44 kW), so the other three get 16 kW between them, and each keeps room for one idle
 * floor (6 A on 3 x 230 V: 4140 W; the second floors, 3 x 4140 more, do not fit). */
static void test_failsafe_refused(void)
{
    struct control *ctl = loop_new(4, "{\"site_limit_kw\": 60, \"slot_minutes\": 15, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    for (int s = 0; s < 4; s++) boot(ctl, s, 2);
    CHECK(F.n_sent == 4, "one fail-safe per station at boot (%d calls)", F.n_sent);
    for (int s = 0; s < 4 && s < F.n_sent; s++)
        CHECK(strcmp(purpose(s), "ChargingStationMaxProfile") == 0 && limit_at(s, T0) == 15000,
              "station %d: a 15 kW station maximum (%s %.0f W)", s, purpose(s), limit_at(s, T0));
    for (int s = 0; s < 3; s++) answer(ctl, s, "Accepted");
    answer(ctl, 3, "Rejected");
    CHECK(ctl_failsafe_station_w(ctl) == 5333, "(60 - 44) / 3 = 5333 W each (%.0f)", ctl_failsafe_station_w(ctl));
    settle(ctl);
    double others = cap_w(0, T0) + cap_w(1, T0) + cap_w(2, T0);
    CHECK(others <= 16000 && others >= 3 * 4140, "the three others' caps: 16 kW at most, a floor each (%.0f W)", others);
    CHECK(caps_fit(ctl, 60000), "counted: %.0f W of 60 kW", ctl_caps_sum_w(ctl));
    CHECK(calls_to(3, 4) == 0, "nothing more to the station that refused (%d)", calls_to(3, 4));
    CHECK(F.over == 0, "no station maximum left while those in force or in flight could exceed the limit (%d)", F.over);
    ctl_free(ctl);
}

/* TxDefaultProfile, 40 kW, ten stations of four 11 kW EVSEs, floors of 1.4 kW: 56 kW of floors with nobody in.
 * Empty, seven whole stations keep theirs (7 x 5.6 = 39.2 kW). Six vans on stations 0-2 could take 66 kW, so the
 * floors get the idle reserve (10 %: 4 kW), whole stations, those that had floors first: station 0's two idle
 * EVSEs (2.8 kW), no other fits. The vans get the rest, 37.2 kW, not less. */
static void test_floors_do_not_fit(void)
{
    struct control *ctl = loop_new(10, "{\"site_limit_kw\": 40, \"failsafe\": \"TxDefaultProfile\", \"evse_max_kw\": 11,"
                                       " \"failsafe_evse_kw\": 1.4, \"idle_reserve_pct\": 10, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    for (int s = 0; s < 10; s++) boot(ctl, s, 4);
    settle(ctl);
    int kept = 0;
    for (int s = 0; s < 10; s++) kept += limit_at(last_sent(s, "TxDefaultProfile", -1), T0) == 1400;
    CHECK(kept == 7, "empty: seven stations keep 4 x 1.4 kW (%d)", kept);
    for (int s = 0; s < 3; s++)
        for (int k = 1; k <= 2; k++) tx_event(ctl, s, k, "Started", "TOK");
    settle(ctl);
    double vans = 0, floors = 0;
    int keeps = -1;
    for (int s = 0; s < 10; s++) {
        double d = limit_at(last_sent(s, "TxDefaultProfile", -1), T0);
        CHECK(d == 0 || (d == 1400 && s < 3 && keeps < 0), "station %d: default %.0f W", s, d);
        if (d > 0) keeps = s;
        floors += d * (s < 3 ? 2 : 4);
    }
    for (int s = 0; s < 3; s++)
        for (int k = 1; k <= 2; k++) vans += tx_w(s, k, T0);
    CHECK(floors == 2800, "floors kept: 2.8 kW (%.0f W)", floors);
    CHECK(fabs(vans - 37200) < 60, "the vans get the other 37.2 kW (%.0f W)", vans);
    ctl_free(ctl);
}

/* TxDefaultProfile, 30 kW, two stations of one 22 kW EVSE, floors of 4.2 kW (issue 14, point 4). Empty: both
 * floors fit and the 21.6 kW left are shared, 15 kW a station: a car that plugs in draws that until its first
 * TxProfile, not 4.2. A van (22 kW) on station 0: station 1 keeps its floor and the 3.8 kW that are left, 8 kW,
 * and is told so before the van's TxProfile raises it to the other 22. */
static void test_txdefault_shares_spare(void)
{
    struct control *ctl = loop_new(2, "{\"site_limit_kw\": 30, \"failsafe\": \"TxDefaultProfile\", \"evse_max_kw\": 22,"
                                      " \"failsafe_evse_kw\": 4.2, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    for (int s = 0; s < 2; s++) boot(ctl, s, 1);
    settle(ctl);
    double d0 = limit_at(last_sent(0, "TxDefaultProfile", -1), T0), d1 = limit_at(last_sent(1, "TxDefaultProfile", -1), T0);
    CHECK(fabs(d0 - 15000) < 100 && fabs(d1 - 15000) < 100 && d0 + d1 <= 30000.5,
          "empty: 15 kW each, not the 4.2 kW floor (%.0f, %.0f)", d0, d1);
    tx_event(ctl, 0, 1, "Started", "TOK");
    settle(ctl);
    int dec = last_sent(1, "TxDefaultProfile", -1), van = last_sent(0, "TxProfile", 1);
    d1 = limit_at(dec, T0);
    double v = tx_w(0, 1, T0);
    CHECK(fabs(d1 - 8000) < 100, "a van on station 0: station 1 keeps 4.2 + 3.8 kW (%.0f)", d1);
    CHECK(fabs(v - 22000) < 100 && v + d1 <= 30000.5, "the van gets its 22 kW beside it (%.0f)", v);
    CHECK(dec >= 0 && van > dec, "station 1's default came down before the van's TxProfile went out (%d, %d)", dec, van);
    ctl_free(ctl);
}

/* Station maxima, 22 kW, two stations of one 22 kW EVSE. Van A (charge to full) alone takes it all: B's idle floor
 * does not fit beside it (no reserve). Van B (11 kW at most, a need it cannot meet, priority 2) plugs in: B gets
 * its 11 kW, A the other 11. A's cap comes down first; B's goes up only once A's is answered and B's write-ahead
 * event is durable. At every step the caps counted add up to 22 kW at most. Then A leaves: B keeps its 11 kW and
 * A's idle EVSE its floor (4.14 kW: it fits again). */
#define TWO_VANS "{\"site_limit_kw\": 22, \"horizon_h\": 4, \"vehicles\": [{\"id\": \"VAN-A\", \"id_tokens\": " \
    "[\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"], \"max_kw\": 11}], \"needs\": [{\"vehicle\": " \
    "\"VAN-B\", \"departure\": \"2027-01-01T04:00:00Z\", \"energy_kwh\": 100, \"priority\": 2}]}"

static void test_raise_waits(void)
{
    struct control *ctl = loop_new(2, TWO_VANS);
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    settle(ctl);
    CHECK(tx_w(0, 1, T0) == 22000 && cap_w(0, T0) == 22000 && cap_w(1, T0) == 0,
          "one van: all of it (tx %.0f, caps %.0f and %.0f W)", tx_w(0, 1, T0), cap_w(0, T0), cap_w(1, T0));
    F.now += 60000;
    tx_event(ctl, 1, 1, "Started", "TOK-B");
    int from = F.n_sent;
    CHECK(plan(ctl), "a plan for the second van");
    CHECK(raises_to(0, from) == 0 && raises_to(1, from) == 0 && last_sent(0, "ChargingStationMaxProfile", -1) >= from,
          "phase 1: A's cap down, nobody's raised (%d, %d raises)", raises_to(0, from), raises_to(1, from));
    CHECK(caps_fit(ctl, 22000), "phase 1: %.0f W counted", ctl_caps_sum_w(ctl));
    int sending = F.n_cap_sending;
    for (int i = from; i < F.n_sent; i++) answer(ctl, i, "Accepted");
    CHECK(raises_to(1, from) == 0 && F.n_cap_sending > sending && F.n_waits >= 1,
          "B's raise waits for its event to be durable (%d sent, %d events)", raises_to(1, from),
          F.n_cap_sending - sending);
    CHECK(caps_fit(ctl, 22000), "raise counted before it leaves: %.0f W", ctl_caps_sum_w(ctl));
    durable(ctl);
    CHECK(raises_to(1, from) == 1, "then B's cap goes up (%d)", raises_to(1, from));
    settle(ctl);
    CHECK(tx_w(0, 1, F.now) == 11000 && tx_w(1, 1, F.now) == 11000 && cap_w(0, F.now) >= 11000 &&
              cap_w(1, F.now) >= 11000,
          "11 kW each (%.0f, %.0f; caps %.0f, %.0f)", tx_w(0, 1, F.now), tx_w(1, 1, F.now), cap_w(0, F.now),
          cap_w(1, F.now));
    CHECK(caps_fit(ctl, 22000), "after: %.0f W counted", ctl_caps_sum_w(ctl));

    F.now += 60000;
    tx_event(ctl, 0, 1, "Ended", "TOK-A");
    settle(ctl);
    CHECK(tx_w(1, 1, F.now) == 11000 && cap_w(0, F.now) >= 4140 && cap_w(1, F.now) >= 11000,
          "B alone: its 11 kW, A a floor (tx %.0f, caps %.0f and %.0f W)", tx_w(1, 1, F.now), cap_w(0, F.now),
          cap_w(1, F.now));
    CHECK(caps_fit(ctl, 22000), "after: %.0f W counted", ctl_caps_sum_w(ctl));
    CHECK(F.over == 0, "no station maximum left while those in force or in flight could exceed the limit (%d)", F.over);
    ctl_free(ctl);
}

/* A station reports a new EVSE id while a saga is between its phases: its EVSE array grows (and moves), and
 * phase 2 still raises the right session (it held a pointer into the old array: a use after free, seen under
 * ASan after a restart in control_depot_stationmax). VAN-B leaves: station 1's cap comes down in phase 1, then
 * station 0's cap and VAN-A's TxProfile go up in phase 2. */
static void test_saga_survives_new_evse(void)
{
    struct control *ctl = loop_new(2, TWO_VANS);
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 1, 1, "Started", "TOK-B");
    settle(ctl);
    CHECK(tx_w(0, 1, F.now) == 11000, "11 kW each (%.0f)", tx_w(0, 1, F.now));
    F.now += 60000;
    tx_event(ctl, 1, 1, "Ended", "TOK-B");
    CHECK(plan(ctl), "a plan without VAN-B");
    int phase1 = F.n_sent;
    cJSON *p = cJSON_Parse("{\"evseId\": 9, \"connectorId\": 1, \"connectorStatus\": \"Available\"}");
    ctl_on_status(ctl, &stations[0], p);
    cJSON_Delete(p);
    settle(ctl);
    int a = last_sent(0, "TxProfile", 1);
    CHECK(a >= phase1 && tx_w(0, 1, F.now) == 22000, "phase 2 raised VAN-A after its station's EVSEs grew (call %d of "
          "%d, %.0f W)", a, phase1, tx_w(0, 1, F.now));
    CHECK(caps_fit(ctl, 22000), "after: %.0f W counted", ctl_caps_sum_w(ctl));
    ctl_free(ctl);
}

/* A station 120 s behind depotd, its offset known to 2 s, clock_skew_tolerance_s 300: the schedule goes on the
 * wire in its time, starting 300 s early (in force at once for a station up to 300 s further behind), a decrease
 * 2 s early and a raise 2 s late. */
static void test_skewed_clock(void)
{
    struct control *ctl = loop_new(2, TWO_VANS);
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    boot(ctl, 1, 1);
    F.clock_off[1] = -120000;
    F.clock_unc[1] = 2000;
    struct ctl_station *cs = ctl_station_find(ctl, "ST01");
    struct sched s = {.n = 3, .t = {T0, T0 + 900000, T0 + 1800000}, .w = {11000, 5000, 11000}};
    struct sched_unit u;
    ctl_unit(ctl, cs, NULL, &u);
    struct ctl_call c = {0};
    cJSON *w = ctl_wire_schedule(ctl, cs, &s, &u, &c);
    char want_start[40], *got = cJSON_PrintUnformatted(w);
    ocpp_time_format(T0 - 300000 - 120000, want_start);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(w, "chargingSchedulePeriod");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(w, "startSchedule");
    int sp[3] = {-1, -1, -1};
    double lim[3] = {0};
    for (int k = 0; k < 3 && k < cJSON_GetArraySize(per); k++) {
        sp[k] = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(per, k), "startPeriod")->valueint;
        lim[k] = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(per, k), "limit")->valuedouble;
    }
    CHECK(cJSON_IsString(start) && strcmp(start->valuestring, want_start) == 0, "starts at %s (%s)", want_start, got);
    CHECK(cJSON_GetArraySize(per) == 3 && sp[0] == 0 && sp[1] == 1198 && sp[2] == 2102 && lim[0] == 11000 &&
              lim[1] == 5000 && lim[2] == 11000,
          "periods 0, 1198 s, 2102 s: 11, 5, 11 kW (%s)", got);
    cJSON_free(got);
    cJSON_Delete(w);

    /* Through a plan: one behind, one ahead, each has its limit in force from depotd's now on. */
    F.clock_off[0] = 120000;
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 1, 1, "Started", "TOK-B");
    settle(ctl);
    for (int st = 0; st < 2; st++)
        CHECK(tx_w(st, 1, F.now) == 11000 && cap_w(st, F.now) == 11000, "station %d (%+lld s): 11 kW now (%.0f, cap %.0f)",
              st, (long long)F.clock_off[st] / 1000, tx_w(st, 1, F.now), cap_w(st, F.now));
    CHECK(F.over == 0, "no station maximum left while those in force or in flight could exceed the limit (%d)", F.over);
    ctl_free(ctl);
}

/* One station of two 22 kW EVSEs, VAN-A (TOK-A) on EVSE 1 and VAN-B (TOK-B) on EVSE 2, planned. NULL: not built. */
static struct control *two_vans_plugged(const char *cfg)
{
    struct control *ctl = loop_new(1, cfg);
    CHECK(ctl, "control built");
    if (!ctl) return NULL;
    boot(ctl, 0, 2);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 0, 2, "Started", "TOK-B");
    settle(ctl);
    return ctl;
}

/* departure_margin_min (10): a van that can be done by 10 minutes before it leaves is planned to be; one that
 * cannot be, even alone at full power, charges until it leaves. Two 22 kW EVSEs behind 44 kW, both vans leave at
 * T0 + 40 min, so the margin ends on a slot boundary (T0 + 30): VAN-A needs 2 kWh, done by then; VAN-B 100 kWh
 * (22 kW x 30 min is 11 kWh) charges on through the last 10 minutes. */
static void test_margin(void)
{
    struct control *ctl = two_vans_plugged("{\"site_limit_kw\": 44, \"horizon_h\": 4, \"departure_hedge_new_pct\": 0, "
                                      "\"energy_margin_pct\": 0, \"vehicles\": [{\"id\": \"VAN-A\", \"id_tokens\": [\"TOK-A\"]}, "
                                      "{\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}], \"needs\": ["
                                      "{\"vehicle\": \"VAN-A\", \"departure\": \"2027-01-01T00:40:00Z\", \"energy_kwh\": 2}, "
                                      "{\"vehicle\": \"VAN-B\", \"departure\": \"2027-01-01T00:40:00Z\", \"energy_kwh\": 100}]}");
    if (!ctl) return;
    int64_t m35 = T0 + 35 * 60000;
    CHECK(tx_w(0, 1, m35) == 0, "VAN-A done by the margin: nothing in its last 10 minutes (%.0f W)", tx_w(0, 1, m35));
    CHECK(tx_w(0, 2, T0) == 22000 && tx_w(0, 2, m35) == 22000, "VAN-B charges at 22 kW until it leaves (%.0f, %.0f W)",
          tx_w(0, 2, T0), tx_w(0, 2, m35));
    ctl_free(ctl);
}

/* A van leaving 5 minutes into slot 0 cuts it there: it gets its 1.5 kWh before (18 kW), the one that stays the
 * whole 22 kW after, and both needs are met (20 kWh by 01:00: 4 kW x 5 minutes + 22 kW x 55). Without the cut the
 * leaving van's 18 kW counted against the limit for the whole slot: 1 + 16.5 kWh for the other, short. */
static void test_first_slot_cut(void)
{
    struct control *ctl = two_vans_plugged("{\"site_limit_kw\": 22, \"horizon_h\": 4, \"departure_hedge_new_pct\": 0, "
                                      "\"energy_margin_pct\": 0, \"departure_margin_min\": 0, \"vehicles\": [{\"id\": "
                                      "\"VAN-A\", \"id_tokens\": [\"TOK-A\"]}, {\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}], "
                                      "\"needs\": [{\"vehicle\": \"VAN-A\", \"departure\": \"2027-01-01T00:05:00Z\", "
                                      "\"energy_kwh\": 1.5}, {\"vehicle\": \"VAN-B\", \"departure\": "
                                      "\"2027-01-01T01:00:00Z\", \"energy_kwh\": 20}]}");
    if (!ctl) return;
    const struct ctl_plan *p = ctl->plan;
    CHECK(p && p->parts == 2 && p->at[1] == T0 + 5 * 60000, "slot 0 cut where VAN-A leaves (%d parts)", p ? p->parts : -1);
    int64_t m1 = T0 + 60000, m6 = T0 + 6 * 60000;
    CHECK(tx_w(0, 1, m1) * 5 / 60 >= 1500 - 10, "VAN-A gets its 1.5 kWh before it leaves (%.0f W for 5 minutes)",
          tx_w(0, 1, m1));
    CHECK(tx_w(0, 1, m1) + tx_w(0, 2, m1) <= 22000, "both within 22 kW before the cut (%.0f W)",
          tx_w(0, 1, m1) + tx_w(0, 2, m1));
    CHECK(tx_w(0, 1, m6) == 0 && tx_w(0, 2, m6) == 22000, "after the cut VAN-B has all 22 kW (%.0f, %.0f W)",
          tx_w(0, 1, m6), tx_w(0, 2, m6));
    CHECK(p && p->shortfall_kwh < 0.01, "both needs met (shortfall %.2f kWh)", p ? p->shortfall_kwh : -1);
    ctl_free(ctl);
}

/* A station's numbers are bounded before they reach a reservation: EVSE Power of "inf", "1e400", "22kW", "-5"
 * or "nan" leaves the EVSE's maximum unknown; an EV's needs of 1e300 A or 1e308 W are no maximum; a meter value
 * times 10^400 is no reading. The EVSE's limits stay what the others' would be. */
static void test_bounded_numbers(void)
{
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 44, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    boot(ctl, 0, 2);
    static const char *const bad[] = {"inf", "1e400", "22kW", "-5", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[400];
        snprintf(buf, sizeof buf, "{\"getVariableResult\": [{\"attributeStatus\": \"Accepted\", \"attributeValue\": "
                 "\"%s\", \"component\": {\"name\": \"EVSE\", \"evse\": {\"id\": 1}}, \"variable\": {\"name\": "
                 "\"Power\"}}]}", bad[i]);
        cJSON *r = cJSON_Parse(buf);
        ctl_on_variables(ctl, &stations[0], r);
        cJSON_Delete(r);
        struct ctl_evse *e = ctl_evse(ctl_station(ctl, &stations[0]), 1);
        CHECK(e && e->max_w == 0, "EVSE Power \"%s\" is no maximum (%g)", bad[i], e ? e->max_w : -1);
    }
    cJSON *good = cJSON_Parse("{\"getVariableResult\": [{\"attributeStatus\": \"Accepted\", \"attributeValue\": "
                              "\"11000\", \"component\": {\"name\": \"EVSE\", \"evse\": {\"id\": 1}}, \"variable\": "
                              "{\"name\": \"Power\"}}]}");
    ctl_on_variables(ctl, &stations[0], good);
    cJSON_Delete(good);
    CHECK(ctl_evse(ctl_station(ctl, &stations[0]), 1)->max_w == 11000, "EVSE Power \"11000\" is taken");
    tx_event(ctl, 0, 1, "Started", "TOK-X");
    cJSON *needs = cJSON_Parse("{\"evseId\": 1, \"chargingNeeds\": {\"requestedEnergyTransfer\": \"AC_three_phase\", "
                               "\"acChargingParameters\": {\"energyAmount\": 1e300, \"evMinCurrent\": 6, \"evMaxCurrent\": "
                               "1e300, \"evMaxVoltage\": 400}}}");
    ctl_on_ev_needs(ctl, &stations[0], needs);
    cJSON_Delete(needs);
    struct ctl_evse *e = ctl_evse(ctl_station(ctl, &stations[0]), 1);
    CHECK(e->ev_max_w == 0 && e->ev_energy_wh == 0, "an EV's 1e300 A and 1e300 Wh are no maximum and no need (%g W, %g Wh)",
          e->ev_max_w, e->ev_energy_wh);
    double before = e->register_wh;
    cJSON *mv = cJSON_Parse("{\"evseId\": 1, \"meterValue\": [{\"timestamp\": \"2026-12-07T00:00:00Z\", \"sampledValue\": "
                            "[{\"value\": 5, \"unitOfMeasure\": {\"unit\": \"Wh\", \"multiplier\": 400}}, {\"value\": 7, "
                            "\"measurand\": \"Power.Active.Import\", \"unitOfMeasure\": {\"multiplier\": 400}}]}]}");
    ctl_on_meter_values(ctl, &stations[0], mv);
    cJSON_Delete(mv);
    CHECK(isfinite(e->register_wh) && e->register_wh == before && isfinite(e->power_w),
          "a meter value times 10^400 is no reading (register %g Wh, power %g W)", e->register_wh, e->power_w);
    ctl_free(ctl);
}

/* An EV's energyAmount counts from its register as it reads when the EV tells it. depotd read it 9 minutes before
 * (5 kWh, drawing 10 kW): 1.5 kWh more have gone in since, and the EV's 6 kWh count from 6.5 kWh, not from 5 (counted
 * from the old reading, ISO 15118 vans of control_depot_stationmax were planned 0.5 kWh short). */
static void test_needs_counted_from_now(void)
{
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 44, \"horizon_h\": 4}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 1);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-X");
    settle(ctl);
    struct ctl_evse *e = ctl_evse(ctl_station(ctl, &stations[0]), 1);
    e->charging = true;
    char ts[40], json[400];
    snprintf(json, sizeof json, "{\"evseId\": 1, \"meterValue\": [{\"timestamp\": \"%s\", \"sampledValue\": "
             "[{\"value\": 5000}, {\"value\": 10000, \"measurand\": \"Power.Active.Import\"}]}]}",
             ocpp_time_format(F.now, ts));
    cJSON *mv = cJSON_Parse(json);
    ctl_on_meter_values(ctl, &stations[0], mv);
    cJSON_Delete(mv);
    F.now += 9 * 60000;
    cJSON *needs = cJSON_Parse("{\"evseId\": 1, \"chargingNeeds\": {\"requestedEnergyTransfer\": \"AC_three_phase\", "
                               "\"acChargingParameters\": {\"energyAmount\": 6000, \"evMinCurrent\": 6, "
                               "\"evMaxCurrent\": 32, \"evMaxVoltage\": 230}}}");
    ctl_on_ev_needs(ctl, &stations[0], needs);
    cJSON_Delete(needs);
    CHECK(fabs(e->ev_need_base_wh - 6500) < 1, "the EV's need counts from 6.5 kWh, the register now (%.0f Wh)",
          e->ev_need_base_wh);
    ctl_free(ctl);
}

int main(void)
{
    F.on_call = caps_oracle;
    test_bounded_numbers();
    test_failsafe_refused();
    test_floors_do_not_fit();
    test_txdefault_shares_spare();
    test_raise_waits();
    test_saga_survives_new_evse();
    test_skewed_clock();
    test_margin();
    test_first_slot_cut();
    test_needs_counted_from_now();
    loop_free();
    return CHECK_DONE();
}
