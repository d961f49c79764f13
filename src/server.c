/*
 * server.c - the OCPP websocket endpoint on libwebsockets: handshake checks, one ocpp_session per connection,
 * the output queue, call timeouts, and answers held until their events are durable.
 *
 * Thread: everything here runs on the event loop thread. The store writer wakes the loop with
 * lws_cancel_service(); the loop then releases the answers whose events are committed (loop.c).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api.h"
#include "control.h"
#include "depot.h"
#include "log.h"

/* lws per-session data: lws allocates it before the handshake filter, we fill it there. */
struct slot {
    struct conn *conn;
    struct door_pass pass;
};

/* ---- output ----------------------------------------------------------------------------------------- */

void depot_want_write(struct conn *c)
{
    if (c->wsi) lws_callback_on_writable(c->wsi);
}

static void queue_raw(struct conn *c, char *text)
{
    struct raw_frame *f = calloc(1, sizeof *f);
    if (!f) {
        free(text);
        return;
    }
    f->text = text;
    if (c->raw_tail) c->raw_tail->next = f;
    else c->raw_head = f;
    c->raw_tail = f;
    depot_want_write(c);
}

static void on_session_event(void *ctx, const struct ocpp_event *ev);

static void on_timer(lws_sorted_usec_list_t *sul)
{
    struct conn *c = lws_container_of(sul, struct conn, sul);
    ocpp_session_tick(c->session, depot_mono_ms(), on_session_event, c);
    if (ocpp_session_has_output(c->session)) depot_want_write(c);
    int64_t next = ocpp_session_next_deadline(c->session);
    if (next != INT64_MAX) {
        int64_t wait = next - depot_mono_ms();
        lws_sul_schedule(lws_get_context(c->wsi), 0, &c->sul, on_timer, (wait > 0 ? wait : 0) * 1000);
    }
}

static void schedule_timer(struct conn *c)
{
    int64_t next = ocpp_session_next_deadline(c->session);
    if (next == INT64_MAX) {
        lws_sul_cancel(&c->sul);
        return;
    }
    int64_t wait = next - depot_mono_ms();
    lws_sul_schedule(lws_get_context(c->wsi), 0, &c->sul, on_timer, (wait > 0 ? wait : 0) * 1000);
}

/* The CALL as the event log keeps it: a password depotd sets (SetVariables BasicAuthPassword, A01) is not kept. */
static char *frame_for_log(const char *id, const char *action, const cJSON *payload)
{
    if (strcmp(action, "SetVariables") != 0) return ocpp_frame_call(id, action, payload);
    cJSON *copy = cJSON_Duplicate(payload, true), *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(copy, "setVariableData")) {
        const char *name = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, "variable"), "name"));
        if (name && strcmp(name, "BasicAuthPassword") == 0)
            cJSON_ReplaceItemInObjectCaseSensitive(item, "attributeValue", cJSON_CreateString("(redacted)"));
    }
    char *text = ocpp_frame_call(id, action, copy);
    cJSON_Delete(copy);
    return text;
}

int depot_call(struct conn *c, const char *action, const cJSON *payload, char *err, size_t err_len)
{
    return depot_call_user(c, action, payload, NULL, err, err_len);
}

int depot_call_user(struct conn *c, const char *action, const cJSON *payload, void *user, char *err, size_t err_len)
{
    char id[OCPP_MSG_ID_MAX + 1];
    if (ocpp_session_call(c->session, action, payload, user, depot_mono_ms(), id, err, err_len)) return -1;
    char *text = frame_for_log(id, action, payload);
    depot_log_frame(c, STORE_EV_OCPP_OUT, OCPP_CALL, action, id, "ok", text);
    free(text);
    c->depot->counters.calls_out++;
    if (ocpp_session_has_output(c->session)) depot_want_write(c);
    schedule_timer(c);
    return 0;
}

/* ---- a station's queue ---------------------------------------------------------------------------- */

/* clock_offset_fresh: the round trip is measured on depotd's own CALLs, which the station answers past its queue. */
bool depot_conn_sent_fresh(const struct conn *c)
{
    return clock_offset_fresh(c->rx_at_us, c->answered_us > 0 ? c->answered_us : c->opened_us, c->rtt_us);
}

static void written(struct conn *c, const char *text)
{
    /* text is an OCPP-J frame: "[2," a CALL, "[3," a CALLRESULT, "[4," a CALLERROR */
    if (text[0] != '[') return;
    if (text[1] == '2') c->call_out_us = depot_mono_us();
    else if (text[1] == '3' || text[1] == '4') c->answered_us = depot_mono_us(), c->answers_out++;
    depot_inflow_written(c);
}

static void round_trip(struct conn *c)
{
    if (!c->call_out_us) return;
    int64_t rtt = depot_mono_us() - c->call_out_us;
    c->call_out_us = 0;
    c->rtt_us = rtt > c->rtt_us ? rtt : c->rtt_us - (c->rtt_us - rtt) / 8;
}

/* ---- session events --------------------------------------------------------------------------------- */

static void on_session_event(void *ctx, const struct ocpp_event *ev)
{
    struct conn *c = ctx;
    struct depot *d = c->depot;
    const char *sid = c->station ? c->station->id : NULL;
    const char *text = c->rx && c->rx_len ? c->rx : NULL;
    switch (ev->type) {
    case OCPP_EV_CALL: {
        c->calls_in++;
        uint64_t t = depot_log_frame(c, STORE_EV_OCPP_IN, OCPP_CALL, ev->action, ev->id, "ok", text);
        c->frame_logged = true;
        depot_handle_call(c, ev, t);
        break;
    }
    case OCPP_EV_RESULT:
        round_trip(c);
        depot_log_frame(c, STORE_EV_OCPP_IN, OCPP_CALLRESULT, ev->action, ev->id, "ok", text);
        c->frame_logged = true;
        if (api_owns_call(ev->user)) api_on_answer(d, ev);
        else if (ev->user) control_on_answer(d, ev);
        else depot_handle_result(c, ev);
        break;
    case OCPP_EV_ERROR:
        if (!ev->timed_out && !ev->closed && !c->frame_logged && text) {
            depot_log_frame(c, STORE_EV_OCPP_IN, OCPP_CALLERROR, ev->action, ev->id, "ok", text);
            c->frame_logged = true;
        }
        if (!ev->timed_out && !ev->closed) round_trip(c);
        if (ev->timed_out) d->counters.timeouts++;
        log_warn("ocpp", sid, "%s %s failed: %s%s%s", ev->action, ev->id,
                 ev->timed_out ? "no answer in time" : ev->closed ? "connection closed" : ocpp_error_name(ev->error_code),
                 ev->error_description && ev->error_description[0] ? ": " : "",
                 ev->error_description ? ev->error_description : "");
        if (api_owns_call(ev->user)) api_on_answer(d, ev);
        else if (ev->user) control_on_answer(d, ev);
        else depot_handle_call_error(c, ev);
        break;
    case OCPP_EV_PROTOCOL: {
        const struct ocpp_fault *f = ev->fault;
        if (!c->frame_logged && text) {
            depot_log_frame(c, STORE_EV_OCPP_IN, 0, ev->action, f->id, ocpp_error_name(f->code), text);
            c->frame_logged = true;
        }
        if (f->reply) {
            char *out = ocpp_frame_error(f->id, f->code, f->description, NULL);
            depot_log_frame(c, STORE_EV_OCPP_OUT, OCPP_CALLERROR, ev->action, f->id, ocpp_error_name(f->code), out);
            free(out);
            d->counters.callerrors_out++;
        }
        log_info("ocpp", sid, "refused frame %s: %s %s", f->id, ocpp_error_name(f->code), f->description);
        break;
    }
    }
}

static ocpp_session *new_session(struct depot *d)
{
    char prefix[24];
    snprintf(prefix, sizeof prefix, "d%llu-", (unsigned long long)++d->conn_serial);
    struct ocpp_session_config sc = {
        .role = OCPP_ROLE_CSMS,
        .call_timeout_ms = (int64_t)d->cfg.call_timeout_s * 1000,
        .queue_max = (size_t)d->cfg.max_queued_calls,
        .id_prefix = prefix,
        .validate_outgoing = true,
    };
    return ocpp_session_new(&sc);
}

static struct conn *conn_new(struct depot *d, struct lws *wsi)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->session = new_session(d);
    if (!c->session) {
        free(c);
        return NULL;
    }
    c->wsi = wsi;
    c->depot = d;
    c->opened_us = depot_mono_us();
    return c;
}

void depot_conn_attach(struct conn *c, struct station *st)
{
    struct depot *d = c->depot;
    struct conn *old = st->conn;
    if (old) {
        /* One live session per station: the newer connection wins, the old one is closed and its calls fail. */
        old->station = NULL;
        ocpp_session_close(old->session, on_session_event, old);
        old->session = new_session(d);
        depot_drop_held(old);
        depot_conn_close(old, "replaced by a newer connection");
        d->n_connected--;
        log_info("ocpp", st->id, "new connection replaces the previous one");
        depot_log_station_event(d, STORE_EV_DISCONNECT, st->id, "{\"reason\":\"replaced\"}");
    }
    c->station = st;
    st->conn = c;
    st->evses_queried = 0;
    d->n_connected++;
    d->counters.connections++;
    char peer[64] = "";
    lws_get_peer_simple(c->wsi, peer, sizeof peer);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "peer", peer);
    char *json = cJSON_PrintUnformatted(o);
    depot_log_station_event(d, STORE_EV_CONNECT, st->id, json);
    cJSON_free(json);
    cJSON_Delete(o);
    log_info("ocpp", st->id, "connected from %s", peer);
    depot_resume_station(c);
}

void depot_conn_close(struct conn *c, const char *why)
{
    c->closing = true;
    c->close_why = why;
    /* A connection held unread (its password being checked) is read again, so the close handshake completes
     * instead of a reset that loses the close frame (on libuv, lws closes a socket it may not read at once);
     * receive() drops what a closing connection sends. */
    if (c->wsi) lws_rx_flow_control(c->wsi, 1);
    depot_want_write(c);
}

static int established(struct depot *d, struct lws *wsi, struct slot *slot)
{
    struct conn *c = conn_new(d, wsi);
    if (!c) return -1; /* CLOSED follows and frees a pending job */
    slot->conn = c;
    if (slot->pass.job) {
        /* Its password is checked off the loop; until then it is not read (lws keeps what arrives). */
        struct pw_job *job = slot->pass.job;
        slot->pass.job = NULL;
        lws_rx_flow_control(wsi, 0);
        depot_auth_submit(d, c, job);
        return 0;
    }
    struct station *st = depot_station_find(d, slot->pass.station);
    if (!st) return -1;
    depot_conn_attach(c, st);
    return 0;
}

static void closed(struct depot *d, struct slot *slot)
{
    if (slot->pass.job) { /* let through by the filter, gone before ESTABLISHED */
        OPENSSL_cleanse(slot->pass.job->password, sizeof slot->pass.job->password);
        free(slot->pass.job);
        slot->pass.job = NULL;
    }
    struct conn *c = slot->conn;
    if (!c) return;
    slot->conn = NULL;
    if (c->auth_job) depot_auth_forget(d, c);
    lws_sul_cancel(&c->throttle_sul);
    lws_sul_cancel(&c->sul);
    if (c->station && c->station->conn == c) {
        c->station->conn = NULL;
        d->n_connected--;
        depot_log_station_event(d, STORE_EV_DISCONNECT, c->station->id, "{\"reason\":\"closed\"}");
        log_info("ocpp", c->station->id, "disconnected");
        control_on_disconnect(d, c->station);
    }
    c->wsi = NULL;
    ocpp_session_close(c->session, on_session_event, c);
    depot_drop_held(c);
    while (c->raw_head) {
        struct raw_frame *f = c->raw_head;
        c->raw_head = f->next;
        free(f->text);
        free(f);
    }
    free(c->rx);
    free(c->signed_chain);
    free(c);
}

/* ---- receive ---------------------------------------------------------------------------------------- */

/* The id of a frame too large to parse, read from its head: `[2,"<id>",` ; "-1" when it is not there. */
static void head_message_id(const char *head, size_t len, char *id)
{
    strcpy(id, "-1");
    const char *p = memchr(head, '"', len);
    if (!p) return;
    const char *q = memchr(p + 1, '"', len - (size_t)(p + 1 - head));
    if (!q || q - p - 1 > OCPP_MSG_ID_MAX || q == p + 1) return;
    memcpy(id, p + 1, (size_t)(q - p - 1));
    id[q - p - 1] = 0;
}

static void refuse_frame(struct conn *c, const char *id, const char *why)
{
    char *out = ocpp_frame_error(id, OCPP_E_RPC_FRAMEWORK_ERROR, why, NULL);
    depot_log_frame(c, STORE_EV_OCPP_OUT, OCPP_CALLERROR, NULL, id, "RpcFrameworkError", out);
    c->depot->counters.callerrors_out++;
    queue_raw(c, out);
    log_info("ocpp", c->station ? c->station->id : NULL, "refused frame: %s", why);
}

static int receive(struct depot *d, struct lws *wsi, struct conn *c, const char *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        c->rx_at_us = depot_mono_us();
        c->rx_len = c->rx_total = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
        c->rx_overflow = false;
    }
    c->rx_total += len;
    size_t max = (size_t)d->cfg.max_frame_bytes;
    if (!c->rx_overflow && c->rx_len + len > max) c->rx_overflow = true;
    /* Past the limit only the head is kept (for the message id); the rest is read and dropped. */
    size_t keep = c->rx_overflow ? (c->rx_len < 128 ? 128 - c->rx_len : 0) : len;
    if (keep > len) keep = len;
    if (c->rx_len + keep + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 1024;
        while (cap < c->rx_len + keep + 1) cap *= 2;
        char *nb = realloc(c->rx, cap);
        if (!nb) return -1;
        c->rx = nb;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, keep);
    c->rx_len += keep;
    c->rx[c->rx_len] = 0;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
    if (c->closing || !c->station) return 0;

    c->frame_logged = false;
    if (c->rx_binary) {
        /* OCPP-J is text only (OCPP-J 2.0.1 §3): a binary frame is no RPC at all. */
        depot_log_frame(c, STORE_EV_OCPP_IN, 0, NULL, "-1", "RpcFrameworkError", "(binary frame)");
        refuse_frame(c, "-1", "binary websocket frames are not OCPP-J; send text frames");
    } else if (c->rx_overflow) {
        char id[OCPP_MSG_ID_MAX + 1], why[160];
        head_message_id(c->rx, c->rx_len, id);
        snprintf(why, sizeof why, "message of %zu bytes exceeds max_frame_bytes (%zu)", c->rx_total, max);
        depot_log_frame(c, STORE_EV_OCPP_IN, 0, NULL, id, "RpcFrameworkError", c->rx);
        refuse_frame(c, id, why);
    } else {
        ocpp_session_feed(c->session, c->rx, c->rx_len, depot_mono_ms(), on_session_event, c);
        depot_inflow(d, c);
        if (!c->frame_logged)
            depot_log_frame(c, STORE_EV_OCPP_IN, 0, NULL, NULL, "repeat", c->rx); /* answered again by the session */
        if (ocpp_session_has_output(c->session)) depot_send_now(c);
        if (c->wsi) schedule_timer(c);
    }
    c->rx_len = 0;
    return 0;
}

/* ---- write ------------------------------------------------------------------------------------------ */

/* One frame out, a refusal of ours before the session's: 1 when one left, 0 when there was none, -1 when the
 * connection broke. One buffer for every write: the loop is one thread and lws_write copies what it keeps. */
static int write_one(struct lws *wsi, struct conn *c)
{
    static unsigned char *buf;
    static size_t cap;
    char *text = NULL;
    if (c->raw_head) {
        struct raw_frame *f = c->raw_head;
        c->raw_head = f->next;
        if (!c->raw_head) c->raw_tail = NULL;
        text = f->text;
        free(f);
    } else {
        text = ocpp_session_take_output(c->session);
    }
    if (!text) return 0;
    size_t n = strlen(text);
    if (LWS_PRE + n > cap) {
        size_t want = LWS_PRE + n < 4096 ? 4096 : LWS_PRE + n;
        unsigned char *nb = realloc(buf, want);
        if (!nb) {
            free(text);
            return -1;
        }
        buf = nb;
        cap = want;
    }
    memcpy(buf + LWS_PRE, text, n);
    written(c, text);
    free(text);
    return lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 1;
}

static int writeable(struct lws *wsi, struct conn *c)
{
    if (c->closing) {
        /* The close frame (1008 and why) is written here as raw bytes, then the connection closes: on libuv,
         * lws 4.1.6 drops the frame lws_close_reason() would queue (the station saw 1006 and no reason). */
        const char *why = c->close_why ? c->close_why : "closed by depotd";
        unsigned char buf[LWS_PRE + 4 + 123];
        size_t n = strlen(why) < 123 ? strlen(why) : 123;
        unsigned char *f = buf + LWS_PRE;
        f[0] = 0x88; /* FIN, close */
        f[1] = (unsigned char)(n + 2);
        f[2] = (unsigned char)(LWS_CLOSE_STATUS_POLICY_VIOLATION >> 8);
        f[3] = (unsigned char)(LWS_CLOSE_STATUS_POLICY_VIOLATION & 0xff);
        memcpy(f + 4, why, n);
        lws_write(wsi, f, n + 4, LWS_WRITE_RAW);
        return -1;
    }
    int r = write_one(wsi, c);
    if (r < 0) return -1;
    if (c->raw_head || ocpp_session_has_output(c->session)) lws_callback_on_writable(wsi);
    return 0;
}

/* Answers leave at once when nothing of ours waits in lws's buffer: a WRITEABLE callback per answer costs two
 * epoll_ctl calls and a loop turn (at saturation it capped depotd at ~16,000 answers/s). What the kernel does not
 * take, lws keeps and sends before any later write (lws_write's truncated writes). Up to 8 frames here. */
void depot_send_now(struct conn *c)
{
    if (!c->wsi || c->closing) {
        depot_want_write(c);
        return;
    }
    for (int i = 0; i < 8 && !lws_partial_buffered(c->wsi); i++) {
        int r = write_one(c->wsi, c);
        if (r < 0) {
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
            return;
        }
        if (r == 0) return;
    }
    if (c->raw_head || ocpp_session_has_output(c->session)) depot_want_write(c);
}

/* ---- protocols -------------------------------------------------------------------------------------- */

static int callback_ocpp(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct depot *d = lws_context_user(lws_get_context(wsi));
    struct slot *slot = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return depot_handshake_filter(d, wsi, &slot->pass);
    case LWS_CALLBACK_ESTABLISHED:
        return established(d, wsi, slot);
    case LWS_CALLBACK_RECEIVE:
        return slot && slot->conn ? receive(d, wsi, slot->conn, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return slot && slot->conn ? writeable(wsi, slot->conn) : 0;
    case LWS_CALLBACK_CLOSED:
        if (slot) closed(d, slot);
        return 0;
    default:
        return 0;
    }
}

/* Anything that is not a websocket upgrade to ocpp2.0.1 lands here. */
static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct depot *d = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        return depot_tls_setup_ctx(d, user, false) ? 1 : 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return depot_handshake_confirm_upgrade(d, wsi, in);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* An upgrade that matched none of our subprotocols. */
        return depot_refuse(d, wsi, 400, NULL, "subprotocol ocpp2.0.1 not offered");
    case LWS_CALLBACK_HTTP:
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL)) return -1;
        return lws_http_transaction_completed(wsi);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static struct lws_protocols protocols[] = {
    {"http", callback_http, 0, 0, 0, NULL, 0},
    /* rx 1 KiB: lws keeps that buffer per connection for its life (4 KiB was half of an idle station's memory);
     * a larger frame arrives in pieces, which receive() joins. What we send goes out in one piece up to 64 KiB. */
    {"ocpp2.0.1", callback_ocpp, sizeof(struct slot), 1024, 0, NULL, 65536},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_to_ours(int level, const char *line)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", line);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    log_msg(level == LLL_ERR ? LOG_ERROR : level == LLL_WARN ? LOG_WARN : LOG_DEBUG, "lws", NULL, "%s", msg);
}

int depot_server_start(struct depot *d, char *err, size_t err_len)
{
    /* Each station holds a socket: make sure max_stations of them fit. lws sizes its fd table from this limit
     * and indexes it directly; setting fd_limit_per_thread instead makes it search that table linearly
     * (23 % of CPU at 10,000 connections, measured by the depotsim load work). */
    struct rlimit rl;
    rlim_t want = (rlim_t)d->cfg.max_stations + 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (d->cfg.tls_cert_file[0] || d->cfg.api_tls_cert_file[0]) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = d;
    if (depot_loop_create(d, &info)) {
        snprintf(err, err_len, "cannot create the websocket context");
        return -1;
    }
    info.port = d->cfg.port;
    info.iface = strcmp(d->cfg.listen_address, "0.0.0.0") == 0 ? NULL : d->cfg.listen_address;
    info.protocols = protocols;
    info.vhost_name = "depotd";
    info.retry_and_idle_policy = &depot_no_validity;
    /* A station that goes silent is found by TCP keepalive rather than left holding its slot forever. */
    info.ka_time = 60;
    info.ka_probes = 3;
    info.ka_interval = 10;
    struct lws_vhost *vh = lws_create_vhost(d->lws, &info);
    if (!vh) {
        snprintf(err, err_len, "cannot listen on %s:%d: %s", d->cfg.listen_address, d->cfg.port, strerror(errno));
        depot_loop_destroy(d);
        return -1;
    }
    log_info("ocpp", NULL, "listening on %s:%d%s{stationId} (subprotocol ocpp2.0.1)", d->cfg.listen_address,
             lws_get_vhost_listen_port(vh), d->cfg.ocpp_path);
    if (depot_tls_start(d, protocols, err, err_len)) {
        depot_loop_destroy(d);
        return -1;
    }
    return 0;
}
