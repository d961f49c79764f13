/*
 * The synchronous driver under `depotsim probe`: an lws server (ws or wss) that takes one station at a time, an
 * ocpp_session in the CSMS role for each of its connections (every frame checked against the official schemas),
 * the station's CALLs answered as a plain CSMS would and kept for the cases, and waits that run the loop until
 * what a case waits for comes or its deadline passes. lws rules kept as in conform_ws.c.
 */
#include "probe.h"
#include "wsio.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PR_INBOX 2048

struct conn {
    struct lws *wsi;
    ocpp_session *session;
    struct sim_wsio io;
};

static const struct pr_options *g_o;
static struct lws_context *g_ctx;
static lws_sorted_usec_list_t g_wake;
static struct conn *g_conn;                 /* the station's connection, or NULL */
static char g_id[64];                       /* the station, once it connected */
static bool g_accepted;                     /* it booted Accepted once: a reconnection needs no new boot */
static int g_connections, g_faults;
static int64_t g_refuse_until;
static struct pr_msg g_inbox[PR_INBOX];
static int g_ninbox;
static struct sim_wslog g_log;              /* the last frames, over the station's connections */
/* the CALL pr_call waits for */
static bool g_waiting, g_got;
static int g_rc;
static cJSON *g_result;
static enum ocpp_error g_code;

static void wake(lws_sorted_usec_list_t *sul)
{
    lws_sul_schedule(g_ctx, 0, sul, wake, 10000);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void flush(struct conn *c)
{
    char *f;
    while (c->session && (f = ocpp_session_take_output(c->session)))
        sim_wsio_push(&c->io, c->wsi, f);
}

/* What a plain CSMS answers: everything accepted, the boot with a 30 s heartbeat. */
static cJSON *answer(const char *action, const cJSON *p)
{
    cJSON *r = cJSON_CreateObject();
    char tb[32];
    if (strcmp(action, "BootNotification") == 0) {
        cJSON_AddStringToObject(r, "currentTime", ocpp_time_format(wall_ms(), tb));
        cJSON_AddNumberToObject(r, "interval", 30);
        cJSON_AddStringToObject(r, "status", "Accepted");
    } else if (strcmp(action, "Heartbeat") == 0) {
        cJSON_AddStringToObject(r, "currentTime", ocpp_time_format(wall_ms(), tb));
    } else if (strcmp(action, "Authorize") == 0 ||
               (strcmp(action, "TransactionEvent") == 0 && cJSON_GetObjectItemCaseSensitive(p, "idToken"))) {
        cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "idTokenInfo"), "status", "Accepted");
    } else if (strcmp(action, "NotifyEVChargingNeeds") == 0 || strcmp(action, "NotifyEVChargingSchedule") == 0) {
        cJSON_AddStringToObject(r, "status", "Accepted");
    }
    return r;
}

static void on_event(void *ctx, const struct ocpp_event *ev)
{
    struct conn *c = ctx;
    switch (ev->type) {
    case OCPP_EV_CALL: {
        cJSON *r = answer(ev->action, ev->payload);
        char err[256];
        if (ocpp_session_reply(c->session, ev->id, r, err, sizeof err) != 0)
            ocpp_session_reply_error(c->session, ev->id, OCPP_E_INTERNAL_ERROR, err);
        cJSON_Delete(r);
        if (strcmp(ev->action, "BootNotification") == 0)
            g_accepted = true;
        if (g_ninbox < PR_INBOX) {
            struct pr_msg *m = &g_inbox[g_ninbox++];
            snprintf(m->action, sizeof m->action, "%s", ev->action);
            m->payload = cJSON_Duplicate(ev->payload, 1);
            m->at_ms = wall_ms();
            m->connection = g_connections;
            m->taken = false;
        }
        break;
    }
    case OCPP_EV_RESULT:
        if (g_waiting) {
            g_got = true;
            g_rc = 0;
            g_result = cJSON_Duplicate(ev->payload, 1);
        }
        break;
    case OCPP_EV_ERROR:
        if (g_waiting) {
            g_got = true;
            g_rc = ev->timed_out || ev->closed ? -1 : 1;
            g_code = ev->error_code;
        }
        break;
    case OCPP_EV_PROTOCOL:
        g_faults++;
        break;
    }
}

static void conn_free(struct conn *c)
{
    if (c->session)
        ocpp_session_close(c->session, on_event, c);
    sim_wsio_clear(&c->io);
    free(c);
}

/* Basic auth "id:password" as the station sent it, when a password is asked for. */
static bool authorized(struct lws *wsi, const char *id)
{
    if (!g_o->password[0])
        return true;
    char h[300], plain[200], want[200];
    if (lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 || strncmp(h, "Basic ", 6) != 0)
        return false;
    int n = lws_b64_decode_string(h + 6, plain, (int)sizeof plain - 1);
    if (n <= 0)
        return false;
    plain[n] = '\0';
    snprintf(want, sizeof want, "%s:%s", id, g_o->password);
    return strcmp(plain, want) == 0;
}

static int filter(struct lws *wsi)
{
    char uri[300];
    size_t plen = strlen(g_o->path);
    if (g_conn || mono_ms() < g_refuse_until || lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
        strncmp(uri, g_o->path, plen) != 0 || !uri[plen] || strchr(uri + plen, '/'))
        return -1;
    const char *id = uri + plen;
    if ((g_o->station[0] && strcmp(id, g_o->station) != 0) || (g_id[0] && strcmp(id, g_id) != 0) ||
        !authorized(wsi, id)) {
        fprintf(stderr, "probe: connection of %s refused (not the station under test, or its password)\n", id);
        return -1;
    }
    snprintf(g_id, sizeof g_id, "%s", id);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    struct conn *c = g_conn && g_conn->wsi == wsi ? g_conn : NULL;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter(wsi);
    case LWS_CALLBACK_ESTABLISHED: {
        struct conn *n = calloc(1, sizeof *n);
        struct ocpp_session_config sc = {.role = OCPP_ROLE_CSMS, .call_timeout_ms = (int64_t)(g_o->wait_s * 1000),
                                         .queue_max = 16, .id_prefix = "probe", .validate_outgoing = true};
        if (!n || !(n->session = ocpp_session_new(&sc))) {
            free(n);
            return -1;
        }
        n->wsi = wsi;
        /* A station that booted Accepted and comes back without rebooting keeps its registration (B02/B03). */
        if (g_accepted)
            ocpp_session_set_boot_state(n->session, OCPP_BOOT_ACCEPTED);
        g_conn = n;
        g_connections++;
        fprintf(stderr, "probe: station %s connected (%d)\n", g_id, g_connections);
        break;
    }
    case LWS_CALLBACK_RECEIVE: {
        size_t n = 0;
        bool too_big;
        const char *msg = c ? sim_wsio_receive(&c->io, wsi, in, len, &n, &too_big) : NULL;
        if (!c || too_big)
            return -1;
        if (msg) {
            sim_wslog_add(&g_log, '<', msg, n);
            ocpp_session_feed(c->session, msg, n, mono_ms(), on_event, c);
            flush(c);
        }
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? sim_wsio_write(&c->io, wsi, &g_log) : 0;
    case LWS_CALLBACK_CLOSED:
        if (c) {
            g_conn = NULL;
            conn_free(c);
            fprintf(stderr, "probe: station %s disconnected\n", g_id);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ocpp2.0.1", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int pr_init(const struct pr_options *o, char *err, size_t err_len)
{
    g_o = o;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = o->port;
    info.iface = o->host;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (o->tls.on) {
        /* The probe's certificate (what a station checks as its CSMS's); with a CA, a station must show one of its
         * certificates in the handshake (security profile 3), else it is refused there. */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = o->tls.cert;
        info.ssl_private_key_filepath = o->tls.key;
        if (o->tls.ca[0]) {
            info.ssl_ca_filepath = o->tls.ca;
            info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
        }
    }
    g_ctx = lws_create_context(&info);
    struct lws_vhost *vh = g_ctx ? lws_create_vhost(g_ctx, &info) : NULL;
    if (!vh) {
        snprintf(err, err_len, "cannot listen on %s:%d%s", o->host, o->port,
                 o->tls.on ? " (or read its certificate and key)" : "");
        pr_shutdown();
        return -1;
    }
    fprintf(stderr, "probe listening on %s://%s:%d%s\n", o->tls.on ? "wss" : "ws", o->host,
            lws_get_vhost_listen_port(vh), o->path);
    lws_sul_schedule(g_ctx, 0, &g_wake, wake, 10000);
    return 0;
}

void pr_shutdown(void)
{
    if (g_ctx) {
        lws_sul_cancel(&g_wake);
        lws_context_destroy(g_ctx);
    }
    g_ctx = NULL;
    for (int i = 0; i < g_ninbox; i++)
        cJSON_Delete(g_inbox[i].payload);
    sim_wslog_clear(&g_log);
    g_ninbox = 0;
}

static void service_until(bool (*done)(void *), void *arg, double wait_s)
{
    int64_t end = mono_ms() + (int64_t)(wait_s * 1000);
    while (!(done && done(arg)) && mono_ms() < end) {
        lws_service(g_ctx, 20);
        if (g_conn) {
            ocpp_session_tick(g_conn->session, mono_ms(), on_event, g_conn);
            flush(g_conn);
        }
    }
}

static bool is_connected(void *a)
{
    (void)a;
    return g_conn && g_accepted;
}

bool pr_wait_connected(double wait_s)
{
    service_until(is_connected, NULL, wait_s);
    return is_connected(NULL);
}

bool pr_connected(void) { return g_conn != NULL; }
const char *pr_station_id(void) { return g_id; }
int pr_connections(void) { return g_connections; }
int pr_faults(void) { return g_faults; }

static bool got_answer(void *a)
{
    (void)a;
    return g_got || !g_conn;
}

int pr_call(const char *action, const cJSON *payload, cJSON **result, enum ocpp_error *code)
{
    if (result)
        *result = NULL;
    if (!g_conn)
        return -1;
    char err[256];
    g_waiting = true;
    g_got = false;
    g_result = NULL;
    if (ocpp_session_call(g_conn->session, action, payload, NULL, mono_ms(), NULL, err, sizeof err) != 0) {
        g_waiting = false;
        sim_wslog_add(&g_log, '!', err, strlen(err));
        return -1;
    }
    flush(g_conn);
    service_until(got_answer, NULL, g_o->wait_s + 1);
    g_waiting = false;
    if (!g_got) {
        sim_wslog_add(&g_log, '!', "no answer", 9);
        return -1;
    }
    if (code)
        *code = g_code;
    if (result)
        *result = g_result;
    else
        cJSON_Delete(g_result);
    g_result = NULL;
    return g_rc;
}

struct want {
    const char *action;
    bool (*match)(const struct pr_msg *m, const void *arg);
    const void *arg;
    struct pr_msg *found;
};

static bool got_msg(void *a)
{
    struct want *w = a;
    for (int i = 0; i < g_ninbox && !w->found; i++) {
        struct pr_msg *m = &g_inbox[i];
        if (!m->taken && (!w->action || strcmp(m->action, w->action) == 0) && (!w->match || w->match(m, w->arg))) {
            m->taken = true;
            w->found = m;
        }
    }
    return w->found != NULL;
}

struct pr_msg *pr_wait_msg(const char *action, bool (*match)(const struct pr_msg *m, const void *arg),
                           const void *arg, double wait_s)
{
    struct want w = {action, match, arg, NULL};
    service_until(got_msg, &w, wait_s);
    return w.found;
}

void pr_each(void (*fn)(const struct pr_msg *m, void *arg), void *arg)
{
    for (int i = 0; i < g_ninbox; i++)
        fn(&g_inbox[i], arg);
}

void pr_pump(double s)
{
    service_until(NULL, NULL, s);
}

void pr_drop(double refuse_s)
{
    g_refuse_until = mono_ms() + (int64_t)(refuse_s * 1000);
    if (g_conn && g_conn->wsi) {
        lws_set_timeout(g_conn->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        for (int i = 0; i < 100 && g_conn; i++)
            lws_service(g_ctx, 20);
    }
}

void pr_evidence(char *buf, size_t len)
{
    sim_wslog_evidence(&g_log, buf, len);
}
