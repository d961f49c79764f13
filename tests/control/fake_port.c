/* fake_port.c - the control loop's seam for C tests (fake_port.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_port.h"
#include "prices.h"

struct fake_port F = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

struct station stations[MAX_STATIONS];
int n_stations;

static int index_of(const struct station *st) { return (int)(st - stations); }

/* ---- the port -------------------------------------------------------------------------------------------------- */

static int64_t p_now(void *ctx) { (void)ctx; return F.now; }
static int64_t p_mono(void *ctx) { (void)ctx; return F.now; }
static int64_t p_delay(void *ctx, int64_t t) { (void)ctx; return t > F.now ? t - F.now : 0; }
static bool p_connected(void *ctx, const struct station *st) { (void)ctx; return !F.offline[index_of(st)]; }


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
    if (F.on_call) F.on_call(F.n_sent - 1);
    return 0;
}

static uint64_t p_log(void *ctx, const char *type, const char *station, const char *json)
{
    (void)ctx, (void)station;
    if (F.n_events < MAX_SENT) snprintf(F.event_type[F.n_events], sizeof F.event_type[0], "%s", type);
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

static int p_site_load(void *ctx, int64_t slot0, int64_t slot_ms, size_t n, double *kw, double *building)
{
    (void)ctx;
    if (!F.site_load) return -1;
    for (size_t k = 0; k < n; k++) {
        int64_t t = slot0 + (int64_t)k * slot_ms;
        building[k] = F.site_load(t);
        kw[k] = building[k] - (F.site_supply ? F.site_supply(t) : 0);
    }
    return 0;
}

struct control *loop_new(int stations_n, const char *control_json)
{
    for (int i = 0; i < F.n_sent; i++) cJSON_Delete(F.sent[i].req);
    memset(&F.sent, 0, sizeof F.sent);
    F.n_sent = F.n_events = F.n_cap_sending = F.n_waits = 0;
    F.armed[0] = F.armed[1] = false;
    memset(F.clock_off, 0, sizeof F.clock_off);
    memset(F.clock_unc, 0, sizeof F.clock_unc);
    memset(F.offline, 0, sizeof F.offline);
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
        .site_load = p_site_load,
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

void boot(struct control *ctl, int st, int evses)
{
    F.hw_w[st] = evses * 22000.0;
    for (int k = 1; k <= evses; k++) {
        cJSON *p = parse("{\"evseId\": %d, \"connectorId\": %d, \"connectorStatus\": \"%s\"}", k, 1, "Available");
        ctl_on_status(ctl, &stations[st], p);
        cJSON_Delete(p);
    }
    ctl_on_boot_accepted(ctl, &stations[st], false);
}

void tx_event(struct control *ctl, int st, int evse, const char *type, const char *token)
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

bool plan(struct control *ctl)
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

void answer_with(struct control *ctl, int i, cJSON *p)
{
    struct sent *s = &F.sent[i];
    s->answered = true;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(p, "status");
    s->accepted = cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0;
    struct ocpp_event ev = {.type = OCPP_EV_RESULT, .action = s->action, .payload = p,
                            .user = (void *)(uintptr_t)s->cookie};
    ctl_on_answer(ctl, &ev);
    cJSON_Delete(p);
}

void answer(struct control *ctl, int i, const char *status)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "status", status);
    answer_with(ctl, i, p);
}

void durable(struct control *ctl)
{
    while (F.n_waits > 0) {
        int n = F.n_waits;
        F.n_waits = 0;
        struct wait w[64];
        memcpy(w, F.waits, sizeof w);
        for (int i = 0; i < n; i++) w[i].fn(ctl, w[i].arg, true);
    }
}

void settle(struct control *ctl) { settle_but(ctl, NULL); }

void settle_but(struct control *ctl, const char *action)
{
    for (int rounds = 0; rounds < 20; rounds++) {
        bool any = false;
        for (int i = 0; i < F.n_sent; i++)
            if (!F.sent[i].answered && (!action || strcmp(F.sent[i].action, action) != 0)) {
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

const cJSON *profile(int i) { return cJSON_GetObjectItemCaseSensitive(F.sent[i].req, "chargingProfile"); }

const char *purpose(int i)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(profile(i), "chargingProfilePurpose");
    return cJSON_IsString(p) ? p->valuestring : "";
}

/* The limit a profile sent sets at planning time t (W; the station's clock is F.clock_off ahead). */
double limit_at(int i, int64_t t)
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
int last_sent(int st, const char *purp, int evse)
{
    for (int i = F.n_sent - 1; i >= 0; i--) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(F.sent[i].req, "evseId");
        if (F.sent[i].station == st && strcmp(purpose(i), purp) == 0 && (evse < 0 || e->valueint == evse)) return i;
    }
    return -1;
}

double cap_w(int st, int64_t t)
{
    int i = last_sent(st, "ChargingStationMaxProfile", -1);
    return i < 0 ? NAN : limit_at(i, t);
}

double tx_w(int st, int evse, int64_t t)
{
    int i = last_sent(st, "TxProfile", evse);
    return i < 0 ? NAN : limit_at(i, t);
}

int calls_to(int st, int from)
{
    int n = 0;
    for (int i = from; i < F.n_sent; i++) n += F.sent[i].station == st;
    return n;
}

int events_of(const char *type)
{
    int n = 0;
    for (int i = 0; i < F.n_events && i < MAX_SENT; i++) n += strcmp(F.event_type[i], type) == 0;
    return n;
}

int sent_of(const char *action, int from)
{
    int n = 0;
    for (int i = from; i < F.n_sent; i++) n += strcmp(F.sent[i].action, action) == 0;
    return n;
}

void loop_free(void)
{
    for (int i = 0; i < F.n_sent; i++) cJSON_Delete(F.sent[i].req);
    F.n_sent = 0;
    config_free(&conf);
}
