/*
 * depotsim load: the loop. Frames are written by hand (snprintf) rather than through ocpp_session: at
 * 50,000 messages per second the generator's cost per message is the measurement's noise floor, and the
 * load CALLs are two fixed shapes. Answers are still parsed by ocpp_frame_parse and (by default) checked
 * against the official response schema, so a CSMS that answers fast but wrong does not look good.
 *
 * lws rules kept: write only in CLIENT_WRITEABLE, one lws_write per callback, LWS_PRE headroom in a buffer
 * used for one write only (the client masks in place), fragments reassembled.
 */
#include "load.h"
#include "wsauth.h"

#include "simtime.h"

#include <libwebsockets.h>
#include <ocpp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

enum lstate { L_IDLE, L_CONNECTING, L_BOOTING, L_READY, L_GONE };

#define L_REPLIES 4 /* answers to the CSMS's CALLs waiting for the socket; more are dropped (counted) */

struct lstation {
    struct lws *wsi;
    enum lstate state;
    int index;
    uint32_t msg_counter;
    bool in_flight;
    char flight_id[24];
    int64_t flight_write_us, flight_due_us;
    uint64_t rounds_due, rounds_sent; /* load messages due to / sent by this station */
    bool want_boot;
    int64_t boot_retry_us;
    char *reply[L_REPLIES];           /* LWS_PRE + frame, NUL-terminated */
    int nreply;
    char *rx;                         /* fragment reassembly, grown on demand */
    size_t rx_len, rx_cap;
};

struct lworld {
    const struct sim_load_options *o;
    struct sim_load_result *r;
    struct lws_context *ctx;
    struct lstation *st;
    int next_connect, in_progress, settled;
    int64_t t0_us, phase_start_us, load_start_us, load_end_us, last_answer_us;
    uint64_t g_next, g_total;
    uint32_t *rtt, *lag;              /* microseconds, one per answered load CALL */
    uint64_t nsamples;
    bool loading, draining, done;
    int64_t next_sweep_us;
    struct rusage ru0;
};

static struct lworld *g_lw; /* lws sul callbacks carry no user pointer */
static lws_sorted_usec_list_t g_ltick;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void station_id(const struct lworld *w, int i, char *buf, size_t len)
{
    snprintf(buf, len, "%s%05d", w->o->id_prefix, i + 1);
}

static void connect_one(struct lworld *w, struct lstation *s)
{
    char id[64], path[352];
    station_id(w, s->index, id, sizeof id);
    snprintf(path, sizeof path, "%s/%s", w->o->path, id);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = w->ctx;
    i.address = w->o->host;
    i.port = w->o->port;
    i.path = path;
    i.host = w->o->host;
    i.origin = w->o->host;
    i.protocol = "ocpp2.0.1";
    i.userdata = s;
    i.pwsi = &s->wsi;
    sim_tls_connect(&i, &w->o->tls);
    /* No lws validity pings: lws re-inserts each connection's validity timer into one sorted list on every
     * frame received (O(connections) each), and the OCPP Heartbeat is the liveness check anyway. */
    static const lws_retry_bo_t no_validity = {0};
    i.retry_and_idle_policy = &no_validity;
    s->state = L_CONNECTING;
    w->in_progress++;
    if (!lws_client_connect_via_info(&i)) {
        s->wsi = NULL;
        s->state = L_GONE;
        w->in_progress--;
        w->settled++;
        w->r->connect_failed++;
    }
}

static void queue_reply(struct lworld *w, struct lstation *s, char *frame)
{
    if (!frame)
        return;
    if (s->nreply == L_REPLIES) {
        w->r->invalid++; /* a CSMS flooding a station with CALLs: OCPP-J allows one at a time */
        free(frame);
        return;
    }
    size_t n = strlen(frame);
    char *b = malloc(LWS_PRE + n + 1);
    if (b) {
        memcpy(b + LWS_PRE, frame, n + 1);
        s->reply[s->nreply++] = b;
    }
    free(frame);
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

/* The CSMS's CALL: GetVariables gets a valid "UnknownVariable" per item (depotd reads capabilities after
 * boot); everything else NotImplemented, as OCPP-J 4.3 asks of a station that does not implement it. */
static void answer_csms_call(struct lworld *w, struct lstation *s, const struct ocpp_frame *f)
{
    w->r->csms_calls++;
    if (strcmp(f->action, "GetVariables") == 0) {
        cJSON *p = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(p, "getVariableResult"), *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(f->payload, "getVariableData")) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "attributeStatus", "UnknownVariable");
            cJSON_AddItemToObject(r, "component", cJSON_Duplicate(cJSON_GetObjectItem(it, "component"), 1));
            cJSON_AddItemToObject(r, "variable", cJSON_Duplicate(cJSON_GetObjectItem(it, "variable"), 1));
            cJSON_AddItemToArray(arr, r);
        }
        queue_reply(w, s, ocpp_frame_result(f->id, p));
        cJSON_Delete(p);
        return;
    }
    queue_reply(w, s, ocpp_frame_error(f->id, OCPP_E_NOT_IMPLEMENTED, "depotsim load answers GetVariables only",
                                       NULL));
}

static void on_answer(struct lworld *w, struct lstation *s, const struct ocpp_frame *f, int64_t t)
{
    if (!s->in_flight || strcmp(f->id, s->flight_id) != 0) {
        w->r->invalid++; /* an answer to nothing we asked */
        return;
    }
    s->in_flight = false;
    if (s->state == L_BOOTING) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(f->payload, "status");
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(f->payload, "interval");
        const char *status = f->type == OCPP_CALLRESULT && cJSON_IsString(st) ? st->valuestring : "";
        if (strcmp(status, "Accepted") == 0) {
            s->state = L_READY;
            w->r->booted++;
            w->settled++;
        } else if (strcmp(status, "Pending") == 0) {
            /* B02: boot again after the interval; the connect phase bounds how long that can go on. */
            s->boot_retry_us = t + (cJSON_IsNumber(iv) && iv->valueint > 0 ? iv->valueint : 5) * 1000000LL;
        } else {
            s->state = L_GONE;
            w->r->boot_rejected++;
            w->settled++;
        }
        return;
    }
    if (f->type == OCPP_CALLERROR) {
        w->r->callerrors++;
    } else if (w->o->validate &&
               ocpp_validate(w->o->meter_values ? "MeterValues" : "Heartbeat", true, f->payload, NULL, 0) != OCPP_OK) {
        w->r->invalid++;
    } else {
        w->r->answered++;
        if (w->nsamples < w->g_total) {
            int64_t rtt = t - s->flight_write_us, lag = t - s->flight_due_us;
            w->rtt[w->nsamples] = (uint32_t)(rtt > UINT32_MAX ? UINT32_MAX : rtt);
            w->lag[w->nsamples] = (uint32_t)(lag > UINT32_MAX ? UINT32_MAX : (lag < 0 ? 0 : lag));
            w->nsamples++;
        }
    }
    w->last_answer_us = t;
    if (s->rounds_sent < s->rounds_due && s->wsi)
        lws_callback_on_writable(s->wsi); /* behind schedule: the owed message goes now */
}

static void on_message(struct lworld *w, struct lstation *s, const char *msg, size_t len)
{
    struct ocpp_frame f;
    struct ocpp_fault fault;
    int64_t t = now_us();
    if (ocpp_frame_parse(msg, len, &f, &fault) != 0) {
        w->r->invalid++;
        if (fault.reply)
            queue_reply(w, s, ocpp_frame_error(fault.id, fault.code, fault.description, NULL));
        return;
    }
    if (f.type == OCPP_CALL)
        answer_csms_call(w, s, &f);
    else
        on_answer(w, s, &f, t);
    ocpp_frame_clear(&f);
}

static char *boot_frame(struct lstation *s)
{
    char *b = malloc(LWS_PRE + 256);
    if (b)
        snprintf(b + LWS_PRE, 256,
                 "[2,\"%s\",\"BootNotification\",{\"reason\":\"PowerUp\",\"chargingStation\":"
                 "{\"model\":\"depotsim-load\",\"vendorName\":\"depotsim\"}}]",
                 s->flight_id);
    return b;
}

static int64_t due_us(const struct lworld *w, const struct lstation *s, uint64_t round)
{
    /* Round k of station i is message g = k*K + i of the run. */
    double g = (double)round * w->o->stations + s->index;
    return w->load_start_us + (int64_t)(g / (w->o->stations * w->o->rate) * 1e6);
}

static char *load_frame(const struct lworld *w, struct lstation *s)
{
    char *b = malloc(LWS_PRE + 384);
    if (!b)
        return NULL;
    if (!w->o->meter_values) {
        snprintf(b + LWS_PRE, 384, "[2,\"%s\",\"Heartbeat\",{}]", s->flight_id);
        return b;
    }
    char tb[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sim_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, tb);
    snprintf(b + LWS_PRE, 384,
             "[2,\"%s\",\"MeterValues\",{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"%s\",\"sampledValue\":"
             "[{\"value\":%llu.5,\"measurand\":\"Energy.Active.Import.Register\",\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}]}]",
             s->flight_id, tb, (unsigned long long)s->rounds_sent * 10);
    return b;
}

static int writeable(struct lworld *w, struct lstation *s, struct lws *wsi)
{
    char *b = NULL;
    bool load = false;
    if (s->nreply) {
        b = s->reply[0];
        memmove(s->reply, s->reply + 1, (size_t)--s->nreply * sizeof *s->reply);
    } else if (!s->in_flight && s->want_boot) {
        s->want_boot = false;
        snprintf(s->flight_id, sizeof s->flight_id, "b%x", ++s->msg_counter);
        b = boot_frame(s);
        s->in_flight = b != NULL;
        s->flight_write_us = now_us();
    } else if (!s->in_flight && s->state == L_READY && s->rounds_sent < s->rounds_due) {
        snprintf(s->flight_id, sizeof s->flight_id, "l%x", ++s->msg_counter);
        b = load_frame(w, s);
        load = b != NULL;
    }
    if (!b)
        return 0;
    size_t n = strlen(b + LWS_PRE);
    int64_t t = now_us();
    int rc = lws_write(wsi, (unsigned char *)b + LWS_PRE, n, LWS_WRITE_TEXT);
    free(b);
    if (rc < (int)n)
        return -1;
    if (load) {
        s->in_flight = true;
        s->flight_write_us = t;
        s->flight_due_us = due_us(w, s, s->rounds_sent);
        if (t - s->flight_due_us > 1000000 / w->o->rate)
            w->r->behind++;
        s->rounds_sent++;
        w->r->sent++;
    }
    /* A CSMS CALL answered before the boot went out (depotd asks a station that reconnects without a reboot
     * for its status at once) leaves the boot still to send. */
    if (s->nreply || (!s->in_flight && (s->want_boot || (s->state == L_READY && s->rounds_sent < s->rounds_due))))
        lws_callback_on_writable(wsi);
    return 0;
}

static void gone(struct lworld *w, struct lstation *s, bool was_error)
{
    enum lstate old = s->state;
    if (old == L_CONNECTING) {
        w->in_progress--;
        w->r->connect_failed += was_error;
    }
    if (old == L_CONNECTING || old == L_BOOTING)
        w->settled++;
    if ((old == L_READY || old == L_BOOTING) && !w->done)
        w->r->dropped++; /* the CSMS closed, not us at the end */
    if (s->in_flight && old == L_READY)
        w->r->timeouts++; /* asked and never answered: the connection went first */
    s->in_flight = false;
    s->state = L_GONE;
    s->wsi = NULL;
    for (int i = 0; i < s->nreply; i++)
        free(s->reply[i]);
    s->nreply = 0;
    s->rx_len = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lstation *s = user;
    struct lworld *w = g_lw;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        if (!s)
            break;
        char id[64];
        station_id(w, s->index, id, sizeof id);
        if (sim_ws_basic_auth(wsi, id, w->o->password, in, len))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        w->in_progress--;
        w->r->connected++;
        s->wsi = wsi;
        s->state = L_BOOTING;
        s->want_boot = true;
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
        if (first && final && !s->rx_len) {
            on_message(w, s, in, len);
            break;
        }
        if (s->rx_len + len > 1 << 20)
            return -1; /* bigger than any frame depotd or any sane CSMS sends a station */
        if (s->rx_len + len > s->rx_cap) {
            size_t cap = (s->rx_len + len) * 2;
            char *n = realloc(s->rx, cap);
            if (!n)
                return -1;
            s->rx = n;
            s->rx_cap = cap;
        }
        memcpy(s->rx + s->rx_len, in, len);
        s->rx_len += len;
        if (final) {
            on_message(w, s, s->rx, s->rx_len);
            s->rx_len = 0;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return writeable(w, s, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s && s->state != L_GONE && s->state != L_IDLE)
            gone(w, s, reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ocpp2.0.1", callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void sweep(struct lworld *w, int64_t t)
{
    int64_t to = (int64_t)(w->o->call_timeout_s * 1e6);
    for (int i = 0; i < w->o->stations; i++) {
        struct lstation *s = &w->st[i];
        if (s->in_flight && t - s->flight_write_us > to) {
            /* OCPP-J: after the timeout the station may send again; this CALL is lost. */
            s->in_flight = false;
            w->r->timeouts++;
            if (s->state == L_BOOTING) {
                s->state = L_GONE;
                w->settled++;
            } else if (s->wsi && s->rounds_sent < s->rounds_due) {
                lws_callback_on_writable(s->wsi);
            }
        }
        if (s->state == L_BOOTING && !s->in_flight && s->boot_retry_us && t >= s->boot_retry_us && s->wsi) {
            s->boot_retry_us = 0;
            s->want_boot = true;
            lws_callback_on_writable(s->wsi);
        }
    }
}

static void tick(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    struct lworld *w = g_lw;
    int64_t t = now_us();
    const struct sim_load_options *o = w->o;
    if (!w->loading && !w->draining) {
        while (w->next_connect < o->stations && w->in_progress < o->connect_batch)
            connect_one(w, &w->st[w->next_connect++]);
        bool all = w->next_connect == o->stations && w->settled >= o->stations;
        if (all || t - w->phase_start_us > (int64_t)(o->connect_timeout_s * 1e6)) {
            w->r->connect_s = (double)(t - w->phase_start_us) / 1e6;
            w->loading = true;
            w->load_start_us = t;
            getrusage(RUSAGE_SELF, &w->ru0);
        }
    }
    if (w->loading) {
        /* Every message due by now is released, station g mod K, in order. */
        uint64_t due = (uint64_t)((double)(t - w->load_start_us) / 1e6 * o->stations * o->rate) + 1;
        if (due > w->g_total)
            due = w->g_total;
        for (; w->g_next < due; w->g_next++) {
            struct lstation *s = &w->st[w->g_next % (uint64_t)o->stations];
            s->rounds_due++;
            if (s->state != L_READY || !s->wsi) {
                w->r->not_sent++;
                s->rounds_sent++;
            } else if (!s->in_flight) {
                lws_callback_on_writable(s->wsi);
            }
        }
        if (w->g_next == w->g_total) {
            w->loading = false;
            w->draining = true;
            w->load_end_us = t;
        }
    }
    if (w->draining) {
        bool busy = false;
        for (int i = 0; i < o->stations && !busy; i++) {
            const struct lstation *s = &w->st[i];
            busy = s->state == L_READY && (s->in_flight || s->rounds_sent < s->rounds_due);
        }
        if (!busy || t - w->load_end_us > (int64_t)(o->call_timeout_s * 1e6) + 1000000) {
            for (int i = 0; i < o->stations; i++) { /* still owed at the end: never sent */
                struct lstation *s = &w->st[i];
                w->r->not_sent += s->rounds_due - s->rounds_sent;
                s->rounds_sent = s->rounds_due;
            }
            w->done = true;
        }
    }
    if (t >= w->next_sweep_us) {
        sweep(w, t);
        w->next_sweep_us = t + 100000;
    }
    if (w->done)
        lws_cancel_service(w->ctx); /* wake the loop: the next poll would wait for lws's own next timer */
    else
        lws_sul_schedule(w->ctx, 0, &g_ltick, tick, 1000);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void percentiles(uint32_t *v, uint64_t n, double out[5])
{
    memset(out, 0, 5 * sizeof *out);
    if (!n)
        return;
    qsort(v, n, sizeof *v, cmp_u32);
    static const double q[3] = {0.50, 0.95, 0.99};
    for (int i = 0; i < 3; i++) {
        uint64_t k = (uint64_t)(q[i] * (double)n);
        out[i] = v[k < n ? k : n - 1] / 1000.0;
    }
    out[3] = v[n - 1] / 1000.0;
    double sum = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += v[i];
    out[4] = sum / (double)n / 1000.0;
}

static void raise_nofile(int need)
{
    /* Each connection is a socket; lws also refuses fds above its own limit (fd_limit_per_thread). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The lws client context on a libuv (epoll) loop we own, or lws's poll loop when that cannot load; the loop
 * used, true for libuv. w->ctx NULL when neither could be made. */
static bool load_context(struct lworld *w, uv_loop_t *loop)
{
    /*
     * poll() costs O(connections) per loop turn, and a turn comes every millisecond: with 10,000 sockets that
     * alone used ~70 us of CPU per message. lws joins a libuv (epoll) loop we own instead, through the evlib
     * plugin Debian ships with lws 4.1.6; only when that cannot load does this fall back to lws's poll loop.
     */
    bool uv = uv_loop_init(loop) == 0;
    void *foreign[1] = {loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    sim_tls_context(&info, &w->o->tls);
    /* A storm of connections may take longer than lws's 20 s default to be let in: wait as long as told. */
    info.timeout_secs = info.connect_timeout_secs = (unsigned)(w->o->connect_timeout_s > 20 ? w->o->connect_timeout_s : 20);
    /* No fd_limit_per_thread: with it lws 4.1 finds a socket's wsi by a linear search (wsi_from_fd was 23 %
     * of the CPU at 10,000 connections); without it, a table indexed by fd sized from RLIMIT_NOFILE. */
    if (uv) {
        info.options |= LWS_SERVER_OPTION_LIBUV;
        info.foreign_loops = foreign;
        info.pcontext = &w->ctx; /* lws writes NULL here when its asynchronous destroy has completed */
        w->ctx = lws_create_context(&info);
        if (!w->ctx) {
            uv_loop_close(loop);
            uv = false;
        }
    }
    if (!w->ctx) {
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBUV;
        info.foreign_loops = NULL;
        w->ctx = lws_create_context(&info);
    }
    return uv;
}

/* lws's context gone, and with libuv the loop closed (lws finishes its destroy from the handles' close callbacks). */
static void load_context_destroy(struct lworld *w, bool uv, uv_loop_t *loop)
{
    lws_context_destroy(w->ctx);
    if (uv) {
        /* With a foreign loop lws closes its handles asynchronously and finishes the destroy from their
         * close callbacks: run the loop until it says so (bounded), then a second call frees the rest. */
        for (int i = 0; i < 1000 && w->ctx; i++)
            uv_run(loop, UV_RUN_NOWAIT);
        if (w->ctx)
            lws_context_destroy(w->ctx);
        for (int i = 0; i < 1000 && uv_loop_close(loop) == UV_EBUSY; i++)
            uv_run(loop, UV_RUN_NOWAIT);
    }
}

int sim_load_run(const struct sim_load_options *o, struct sim_load_result *r, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    double total = (double)o->stations * o->rate * o->seconds;
    if (o->stations < 1 || o->stations > SIM_LOAD_MAX_STATIONS || o->rate <= 0 || o->seconds <= 0 ||
        total < 1 || total > SIM_LOAD_MAX_MESSAGES || o->connect_batch < 1 || o->call_timeout_s <= 0) {
        snprintf(err, err_len, "need 1..%d stations, rate > 0, seconds > 0, at most %d messages in all",
                 SIM_LOAD_MAX_STATIONS, SIM_LOAD_MAX_MESSAGES);
        return -1;
    }
    struct rlimit rl;
    raise_nofile(o->stations + 256);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)o->stations + 32) {
        snprintf(err, err_len, "RLIMIT_NOFILE is %llu: too few descriptors for %d connections (raise the hard limit)",
                 (unsigned long long)rl.rlim_cur, o->stations);
        return -1;
    }
    struct lworld w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.r = r;
    w.g_total = (uint64_t)(total + 0.5);
    r->planned = w.g_total;
    r->stations = o->stations;
    w.st = calloc((size_t)o->stations, sizeof *w.st);
    w.rtt = malloc(w.g_total * sizeof *w.rtt);
    w.lag = malloc(w.g_total * sizeof *w.lag);
    int rc = -1;
    if (!w.st || !w.rtt || !w.lag) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    for (int i = 0; i < o->stations; i++)
        w.st[i].index = i;
    g_lw = &w;
    lws_set_log_level(LLL_ERR, NULL);
    uv_loop_t loop;
    bool uv = load_context(&w, &loop);
    r->event_loop = uv ? "libuv" : "poll";
    if (!w.ctx) {
        snprintf(err, err_len, "cannot create the websocket context");
        goto out;
    }
    w.t0_us = w.phase_start_us = now_us();
    lws_sul_schedule(w.ctx, 0, &g_ltick, tick, 1000);
    if (uv) {
        while (!w.done)
            uv_run(&loop, UV_RUN_ONCE);
    } else {
        while (!w.done)
            if (lws_service(w.ctx, 0) < 0)
                break;
    }
    int64_t end = w.last_answer_us > w.load_end_us ? w.last_answer_us : w.load_end_us;
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    load_context_destroy(&w, uv, &loop);
    r->load_s = (double)(end - w.load_start_us) / 1e6;
    r->throughput = r->load_s > 0 ? (double)r->answered / r->load_s : 0;
    r->cpu_s = (double)(ru1.ru_utime.tv_sec - w.ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - w.ru0.ru_stime.tv_sec) +
               (double)(ru1.ru_utime.tv_usec - w.ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - w.ru0.ru_stime.tv_usec) /
                   1e6;
    r->cpu_us_per_msg = r->sent ? r->cpu_s * 1e6 / (double)r->sent : 0;
    percentiles(w.rtt, w.nsamples, r->rtt_ms);
    percentiles(w.lag, w.nsamples, r->lag_ms);
    rc = 0;
out:
    for (int i = 0; w.st && i < o->stations; i++) {
        for (int k = 0; k < w.st[i].nreply; k++)
            free(w.st[i].reply[k]);
        free(w.st[i].rx);
    }
    free(w.st);
    free(w.rtt);
    free(w.lag);
    g_lw = NULL;
    return rc;
}
