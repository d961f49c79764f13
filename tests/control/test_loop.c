/* The control loop through its seam (struct ctl_port, control_internal.h), by hand-computed cases: no sockets, no
 * database, a clock that moves only when told. The port keeps every CALL, event and timer; the test answers them.
 * The plans are the real ones (GLPK on the planner's worker thread), so the checks are on outcomes: what each
 * station may draw, that it adds up to the site limit and no more, in what order things leave. */
#include <math.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "../store/check.h"
#include "config.h"
#include "control_internal.h"
#include "prices.h"

#define MAX_SENT 1024
#define MAX_STATIONS 12
#define T0 1798761600000LL /* 2027-01-01T00:00:00Z: a slot boundary */

struct sent {
    int station;
    char action[40];
    cJSON *req;
    uint64_t cookie;
    bool answered, accepted;
};

static struct {
    int64_t now;
    struct sent sent[MAX_SENT];
    int n_sent;
    int n_events, n_cap_sending;
    uint64_t ticket;
    struct wait { void (*fn)(struct control *, void *, bool); void *arg; } waits[64];
    int n_waits;
    bool armed[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*posted_fn)(struct control *, void *);
    void *posted_arg;
    int64_t clock_off[MAX_STATIONS], clock_unc[MAX_STATIONS];
    double limit_w, hw_w[MAX_STATIONS];
    int over;                    /* station maxima sent while those in force or in flight could exceed the limit */
} F = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static struct station stations[MAX_STATIONS];
static int n_stations;

static int index_of(const struct station *st) { return (int)(st - stations); }

/* ---- the port -------------------------------------------------------------------------------------------------- */

static int64_t p_now(void *ctx) { (void)ctx; return F.now; }
static int64_t p_mono(void *ctx) { (void)ctx; return F.now; }
static int64_t p_delay(void *ctx, int64_t t) { (void)ctx; return t > F.now ? t - F.now : 0; }
static bool p_connected(void *ctx, const struct station *st) { (void)ctx, (void)st; return true; }

static double limit_at(int i, int64_t t);
static const char *purpose(int i);
static void check_caps_sum(int adding);

static int p_call(void *ctx, struct station *st, const char *action, const cJSON *req, uint64_t cookie, char *err,
                  size_t err_len)
{
    (void)ctx;
    if (F.n_sent == MAX_SENT) {
        snprintf(err, err_len, "test: too many calls");
        return -1;
    }
    struct sent *s = &F.sent[F.n_sent++];
    *s = (struct sent){.station = index_of(st), .req = cJSON_Duplicate(req, true), .cookie = cookie};
    snprintf(s->action, sizeof s->action, "%s", action);
    if (strcmp(purpose(F.n_sent - 1), "ChargingStationMaxProfile") == 0) check_caps_sum(F.n_sent - 1);
    return 0;
}

static uint64_t p_log(void *ctx, const char *type, const char *station, const char *json)
{
    (void)ctx, (void)station;
    F.n_events++;
    if (getenv("TEST_LOOP_EVENTS")) fprintf(stderr, "event %s %s %s\n", type, station ? station : "-", json);
    if (strcmp(type, "station_cap") == 0 && strstr(json, "\"sending\"")) F.n_cap_sending++;
    return ++F.ticket;
}

static int p_after(void *ctx, uint64_t ticket, void (*fn)(struct control *, void *, bool), void *arg)
{
    (void)ctx, (void)ticket;
    if (F.n_waits == 64) return -1;
    F.waits[F.n_waits].fn = fn;
    F.waits[F.n_waits++].arg = arg;
    return 0;
}

static void p_arm(void *ctx, enum ctl_timer which, int64_t ms) { (void)ctx, (void)ms; F.armed[which] = true; }

static void p_clock(void *ctx, const struct station *st, int64_t *off, int64_t *unc)
{
    (void)ctx;
    *off = F.clock_off[index_of(st)];
    *unc = F.clock_unc[index_of(st)];
}

static int p_prices(void *ctx, int64_t slot0, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
                    size_t err_len)
{
    (void)ctx, (void)slot0, (void)slot_ms, (void)err, (void)err_len;
    for (size_t i = 0; i < n; i++) out[i] = (struct tariff_price){.price = 0.25};
    return 0;
}

static size_t p_known(void *ctx) { (void)ctx; return (size_t)n_stations; }

static int p_post(void *ctx, void (*fn)(struct control *, void *), void *arg)
{
    (void)ctx;
    pthread_mutex_lock(&F.mu);
    F.posted_fn = fn;
    F.posted_arg = arg;
    pthread_cond_signal(&F.cv);
    pthread_mutex_unlock(&F.mu);
    return 0;
}

static void p_planned(void *ctx) { (void)ctx; }

/* ---- driving it ------------------------------------------------------------------------------------------------ */

static struct config conf;

static struct control *loop_new(int stations_n, const char *control_json)
{
    for (int i = 0; i < F.n_sent; i++) cJSON_Delete(F.sent[i].req);
    memset(&F.sent, 0, sizeof F.sent);
    F.n_sent = F.n_events = F.n_cap_sending = F.n_waits = 0;
    F.armed[0] = F.armed[1] = false;
    memset(F.clock_off, 0, sizeof F.clock_off);
    memset(F.clock_unc, 0, sizeof F.clock_unc);
    F.now = T0;
    F.over = 0;
    memset(stations, 0, sizeof stations);
    n_stations = stations_n;
    for (int i = 0; i < stations_n; i++) snprintf(stations[i].id, sizeof stations[i].id, "ST%02d", i);
    char json[2048], err[200];
    snprintf(json, sizeof json, "{\"control\": %s}", control_json);
    config_free(&conf);
    config_defaults(&conf);
    if (config_parse(&conf, json, err, sizeof err)) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(conf.control, "site_limit_kw");
    F.limit_w = cJSON_IsNumber(lim) ? lim->valuedouble * 1000.0 : 0;
    struct ctl_port port = {
        .ctx = &F, .now_ms = p_now, .mono_ms = p_mono, .real_delay_ms = p_delay, .connected = p_connected,
        .call = p_call, .log_event = p_log, .after_durable = p_after, .arm = p_arm, .station_clock = p_clock,
        .prices = p_prices, .stations_known = p_known, .post = p_post, .planned = p_planned,
    };
    struct control *ctl = ctl_new(&conf, &port, err, sizeof err);
    if (!ctl) fprintf(stderr, "ctl_new: %s\n", err);
    return ctl;
}

static cJSON *parse(const char *fmt, int a, int b, const char *s)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a, b, s);
    return cJSON_Parse(buf);
}

/* A station boots with n EVSEs, all Available. */
static void boot(struct control *ctl, int st, int evses)
{
    F.hw_w[st] = evses * 22000.0;
    for (int k = 1; k <= evses; k++) {
        cJSON *p = parse("{\"evseId\": %d, \"connectorId\": %d, \"connectorStatus\": \"%s\"}", k, 1, "Available");
        ctl_on_status(ctl, &stations[st], p);
        cJSON_Delete(p);
    }
    ctl_on_boot_accepted(ctl, &stations[st], false);
}

static void tx_event(struct control *ctl, int st, int evse, const char *type, const char *token)
{
    char buf[512], ts[40];
    snprintf(buf, sizeof buf,
             "{\"eventType\": \"%s\", \"timestamp\": \"%s\", \"triggerReason\": \"CablePluggedIn\", \"seqNo\": 0, "
             "\"transactionInfo\": {\"transactionId\": \"TX-%d-%d\", \"chargingState\": \"Charging\"}, "
             "\"evse\": {\"id\": %d}, \"idToken\": {\"idToken\": \"%s\", \"type\": \"ISO14443\"}}",
             type, ocpp_time_format(F.now, ts), st, evse, evse, token);
    cJSON *p = cJSON_Parse(buf);
    ctl_on_transaction_event(ctl, &stations[st], p);
    cJSON_Delete(p);
}

/* The re-plan timer fires; the plan comes back from the worker and is applied (its first saga phase sent). */
static bool plan(struct control *ctl)
{
    if (!F.armed[CTL_TIMER_REPLAN]) return false;
    F.armed[CTL_TIMER_REPLAN] = false;
    ctl_on_timer(ctl, CTL_TIMER_REPLAN);
    pthread_mutex_lock(&F.mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    while (!F.posted_fn && pthread_cond_timedwait(&F.cv, &F.mu, &until) == 0) {}
    void (*fn)(struct control *, void *) = F.posted_fn;
    void *arg = F.posted_arg;
    F.posted_fn = NULL;
    pthread_mutex_unlock(&F.mu);
    if (!fn) return false;
    fn(ctl, arg);
    return true;
}

static void answer(struct control *ctl, int i, const char *status)
{
    struct sent *s = &F.sent[i];
    s->answered = true;
    s->accepted = strcmp(status, "Accepted") == 0;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", status);
    struct ocpp_event ev = {.type = OCPP_EV_RESULT, .action = s->action, .payload = p,
                            .user = (void *)(uintptr_t)s->cookie};
    ctl_on_answer(ctl, &ev);
    cJSON_Delete(p);
}

/* Every write-ahead event durable now. */
static void durable(struct control *ctl)
{
    while (F.n_waits > 0) {
        int n = F.n_waits;
        F.n_waits = 0;
        struct wait w[64];
        memcpy(w, F.waits, sizeof w);
        for (int i = 0; i < n; i++) w[i].fn(ctl, w[i].arg, true);
    }
}

/* Every CALL answered Accepted and every event durable, until nothing more leaves; then the re-plans that asked. */
static void settle(struct control *ctl)
{
    for (int rounds = 0; rounds < 20; rounds++) {
        bool any = false;
        for (int i = 0; i < F.n_sent; i++)
            if (!F.sent[i].answered) {
                answer(ctl, i, "Accepted");
                any = true;
            }
        if (F.n_waits) {
            durable(ctl);
            any = true;
        }
        if (!any && !plan(ctl)) return;
    }
}

static const cJSON *profile(int i) { return cJSON_GetObjectItemCaseSensitive(F.sent[i].req, "chargingProfile"); }

static const char *purpose(int i)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(profile(i), "chargingProfilePurpose");
    return cJSON_IsString(p) ? p->valuestring : "";
}

/* The limit a profile sent sets at planning time t (W; the station's clock is F.clock_off ahead). */
static double limit_at(int i, int64_t t)
{
    const cJSON *sch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(profile(i), "chargingSchedule"), 0);
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(sch, "startSchedule");
    int64_t t0 = 0;
    if (!cJSON_IsString(start) || ocpp_time_parse(start->valuestring, &t0)) return NAN;
    t += F.clock_off[F.sent[i].station];
    double w = NAN;
    const cJSON *per;
    cJSON_ArrayForEach(per, cJSON_GetObjectItemCaseSensitive(sch, "chargingSchedulePeriod")) {
        int64_t from = t0 + (int64_t)cJSON_GetObjectItemCaseSensitive(per, "startPeriod")->valuedouble * 1000;
        if (from <= t) w = cJSON_GetObjectItemCaseSensitive(per, "limit")->valuedouble;
    }
    return w;
}

/* The newest profile of this purpose (and EVSE, for TxProfiles) sent to a station, or -1. */
static int last_sent(int st, const char *purp, int evse)
{
    for (int i = F.n_sent - 1; i >= 0; i--) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(F.sent[i].req, "evseId");
        if (F.sent[i].station == st && strcmp(purpose(i), purp) == 0 && (evse < 0 || e->valueint == evse)) return i;
    }
    return -1;
}

static double cap_w(int st, int64_t t)
{
    int i = last_sent(st, "ChargingStationMaxProfile", -1);
    return i < 0 ? NAN : limit_at(i, t);
}

static double tx_w(int st, int evse, int64_t t)
{
    int i = last_sent(st, "TxProfile", evse);
    return i < 0 ? NAN : limit_at(i, t);
}


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

/* The sum of every station's counted cap stays under the limit (W). */
static bool caps_fit(const struct control *ctl, double limit_w) { return ctl_caps_sum_w(ctl) <= limit_w + 0.5; }

static int calls_to(int st, int from)
{
    int n = 0;
    for (int i = from; i < F.n_sent; i++) n += F.sent[i].station == st;
    return n;
}

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

/* departure_margin_min (10): a van that can be done by 10 minutes before it leaves is planned to be; one that
 * cannot be, even alone at full power, charges until it leaves. Two 22 kW EVSEs behind 44 kW, both vans leave at
 * T0 + 40 min, so the margin ends on a slot boundary (T0 + 30): VAN-A needs 2 kWh, done by then; VAN-B 100 kWh
 * (22 kW x 30 min is 11 kWh) charges on through the last 10 minutes. */
static void test_margin(void)
{
    struct control *ctl = loop_new(1, "{\"site_limit_kw\": 44, \"horizon_h\": 4, \"departure_hedge_new_pct\": 0, "
                                      "\"energy_margin_pct\": 0, \"vehicles\": [{\"id\": \"VAN-A\", \"id_tokens\": [\"TOK-A\"]}, "
                                      "{\"id\": \"VAN-B\", \"id_tokens\": [\"TOK-B\"]}], \"needs\": ["
                                      "{\"vehicle\": \"VAN-A\", \"departure\": \"2027-01-01T00:40:00Z\", \"energy_kwh\": 2}, "
                                      "{\"vehicle\": \"VAN-B\", \"departure\": \"2027-01-01T00:40:00Z\", \"energy_kwh\": 100}]}");
    CHECK(ctl, "control built");
    if (!ctl) return;
    boot(ctl, 0, 2);
    settle(ctl);
    tx_event(ctl, 0, 1, "Started", "TOK-A");
    tx_event(ctl, 0, 2, "Started", "TOK-B");
    settle(ctl);
    int64_t m35 = T0 + 35 * 60000;
    CHECK(tx_w(0, 1, m35) == 0, "VAN-A done by the margin: nothing in its last 10 minutes (%.0f W)", tx_w(0, 1, m35));
    CHECK(tx_w(0, 2, T0) == 22000 && tx_w(0, 2, m35) == 22000, "VAN-B charges at 22 kW until it leaves (%.0f, %.0f W)",
          tx_w(0, 2, T0), tx_w(0, 2, m35));
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

int main(void)
{
    test_bounded_numbers();
    test_failsafe_refused();
    test_floors_do_not_fit();
    test_raise_waits();
    test_skewed_clock();
    test_margin();
    for (int i = 0; i < F.n_sent; i++) cJSON_Delete(F.sent[i].req);
    config_free(&conf);
    return CHECK_DONE();
}
