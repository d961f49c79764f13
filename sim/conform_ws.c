/*
 * The synchronous driver under `depotsim conform`: one lws 4.1.6 client context, one connection per
 * scenario step, and functions that run lws_service until what they wait for happens or a deadline passes.
 * lws rules kept: writes only in CLIENT_WRITEABLE, one lws_write per callback, a fresh LWS_PRE buffer per
 * write, fragments reassembled.
 */
#include "conform.h"
#include "wsauth.h"
#include "wsio.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CF_INBOX 64

struct cf_conn {
    struct lws *wsi;
    ocpp_session *session;
    bool established, closed;
    int http_status;
    enum cf_answer_mode mode;
    struct sim_wsio io;
    char *last_raw;                 /* the last frame received, for cf_raw */
    struct cf_msg inbox[CF_INBOX];
    int ninbox;
    struct sim_wslog log;           /* the last frames both ways */
    int faults;
    /* the CALL cf_call waits for */
    bool waiting, got;
    int rc;
    cJSON *result;
    enum ocpp_error code;
    char err_desc[256];
    struct cf_sc_seen sc;
    char id[64], password[64];
    struct {
        char action[OCPP_ACTION_MAX + 1];
        const char *answer;
        bool (*match)(const cJSON *payload, const void *arg);
        const void *arg;
    } answers[8];
};

static const struct cf_options *g_o;
static struct lws_context *g_ctx;
static lws_sorted_usec_list_t g_wake;

/* lws 4.1 ignores lws_service's timeout and polls until its next timer: this one keeps every wait's
 * deadline within 10 ms. */
static void wake(lws_sorted_usec_list_t *sul)
{
    lws_sul_schedule(g_ctx, 0, sul, wake, 10000);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_out(cf_conn *c, char *f)
{
    sim_wsio_push(&c->io, c->wsi, f);
}

static void flush_session(cf_conn *c)
{
    char *f;
    while (c->session && (f = ocpp_session_take_output(c->session)))
        push_out(c, f);
}

static cJSON *answer_get_variables(const cJSON *p)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "getVariableResult");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "getVariableData")) {
        const cJSON *comp = cJSON_GetObjectItem(it, "component"), *var = cJSON_GetObjectItem(it, "variable");
        const char *cn = cJSON_GetStringValue(cJSON_GetObjectItem(comp, "name"));
        const char *vn = cJSON_GetStringValue(cJSON_GetObjectItem(var, "name"));
        char val[32] = "";
        if (cn && vn && strcmp(cn, "SmartChargingCtrlr") == 0) {
            if (strcmp(vn, "PeriodsPerSchedule") == 0)
                snprintf(val, sizeof val, "%d", g_o->periods_per_schedule);
            else if (strcmp(vn, "RateUnit") == 0)
                snprintf(val, sizeof val, "%s", g_o->rate_unit_w ? "W" : "A");
            else if (strcmp(vn, "Enabled") == 0 || strcmp(vn, "Available") == 0)
                snprintf(val, sizeof val, "true");
            else if (strcmp(vn, "ProfileStackLevel") == 0)
                snprintf(val, sizeof val, "8");
            else if (strcmp(vn, "Entries") == 0)
                snprintf(val, sizeof val, "16");
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "attributeStatus", val[0] ? "Accepted" : "UnknownVariable");
        if (val[0])
            cJSON_AddStringToObject(r, "attributeValue", val);
        cJSON_AddItemToObject(r, "component", cJSON_Duplicate(comp, 1));
        cJSON_AddItemToObject(r, "variable", cJSON_Duplicate(var, 1));
        cJSON_AddItemToArray(arr, r);
    }
    return o;
}

/* K01: what a strict station checks before accepting a profile, as far as this station declared it. */
static void check_profile(cf_conn *c, const cJSON *p)
{
    c->sc.set_profiles++;
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(p, "chargingProfile"), *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(cp, "chargingSchedule")) {
        const char *unit = cJSON_GetStringValue(cJSON_GetObjectItem(s, "chargingRateUnit"));
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(s, "chargingSchedulePeriod"));
        if (unit && strcmp(unit, g_o->rate_unit_w ? "W" : "A") != 0) {
            c->sc.set_profiles_bad++;
            snprintf(c->sc.bad_reason, sizeof c->sc.bad_reason, "chargingRateUnit %s, station declared RateUnit %s",
                     unit, g_o->rate_unit_w ? "W" : "A");
        } else if (n > g_o->periods_per_schedule) {
            c->sc.set_profiles_bad++;
            snprintf(c->sc.bad_reason, sizeof c->sc.bad_reason, "%d periods, station declared PeriodsPerSchedule %d",
                     n, g_o->periods_per_schedule);
        }
    }
}

/* The scenario's own answer to m (cf_answer_with); false when it has none. */
static bool scripted_answer(cf_conn *c, struct cf_msg *m)
{
    for (size_t i = 0; i < sizeof c->answers / sizeof c->answers[0]; i++) {
        const char *a = c->answers[i].answer;
        if (!a || strcmp(c->answers[i].action, m->action) != 0 ||
            (c->answers[i].match && !c->answers[i].match(m->payload, c->answers[i].arg)))
            continue;
        if (strcmp(m->action, "SetChargingProfile") == 0)
            check_profile(c, m->payload);
        if (a[0] == '!') {
            int e = ocpp_error_from_name(a + 1);
            enum ocpp_error code = e > 0 ? (enum ocpp_error)e : OCPP_E_GENERIC_ERROR;
            ocpp_session_reply_error(c->session, m->id, code, "depotsim conform: the test case's answer");
            m->answered = true;
            flush_session(c);
        } else {
            cJSON *r = cJSON_Parse(a);
            cf_reply(c, m, r ? r : cJSON_CreateObject());
        }
        return true;
    }
    return false;
}

static void auto_answer(cf_conn *c, struct cf_msg *m)
{
    if (c->mode == CF_ANSWER_NEVER)
        return;
    if (c->mode == CF_ANSWER && scripted_answer(c, m))
        return;
    if (c->mode == CF_ANSWER_ERROR) {
        ocpp_session_reply_error(c->session, m->id, OCPP_E_INTERNAL_ERROR, "depotsim conform: injected CALLERROR");
        m->answered = true;
        flush_session(c);
        return;
    }
    cJSON *r;
    if (strcmp(m->action, "GetVariables") == 0) {
        r = answer_get_variables(m->payload);
    } else if (strcmp(m->action, "SetChargingProfile") == 0) {
        int bad = c->sc.set_profiles_bad;
        check_profile(c, m->payload);
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "status", c->sc.set_profiles_bad > bad ? "Rejected" : "Accepted");
    } else if (strcmp(m->action, "ClearChargingProfile") == 0) {
        c->sc.clears++;
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "status", "Accepted");
    } else if (strcmp(m->action, "GetCompositeSchedule") == 0) {
        c->sc.composites++;
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "status", "Rejected"); /* valid; no schedule is kept by this station */
    } else if (strcmp(m->action, "SetVariables") == 0) {
        r = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(r, "setVariableResult"), *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m->payload, "setVariableData")) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "attributeStatus", "Rejected");
            cJSON_AddItemToObject(x, "component", cJSON_Duplicate(cJSON_GetObjectItem(it, "component"), 1));
            cJSON_AddItemToObject(x, "variable", cJSON_Duplicate(cJSON_GetObjectItem(it, "variable"), 1));
            cJSON_AddItemToArray(arr, x);
        }
    } else {
        ocpp_session_reply_error(c->session, m->id, OCPP_E_NOT_IMPLEMENTED, "not implemented by depotsim conform");
        m->answered = true;
        flush_session(c);
        return;
    }
    cf_reply(c, m, r);
}

static void on_event(void *ctx, const struct ocpp_event *ev)
{
    cf_conn *c = ctx;
    switch (ev->type) {
    case OCPP_EV_CALL:
        if (c->ninbox < CF_INBOX) {
            struct cf_msg *m = &c->inbox[c->ninbox++];
            memset(m, 0, sizeof *m);
            snprintf(m->id, sizeof m->id, "%s", ev->id);
            snprintf(m->action, sizeof m->action, "%s", ev->action);
            m->payload = cJSON_Duplicate(ev->payload, 1);
            m->at_ms = now_ms();
            auto_answer(c, m);
        } else {
            ocpp_session_reply_error(c->session, ev->id, OCPP_E_GENERIC_ERROR, "inbox full");
        }
        break;
    case OCPP_EV_RESULT:
        if (c->waiting) {
            c->got = true;
            c->rc = 0;
            c->result = cJSON_Duplicate(ev->payload, 1);
        }
        break;
    case OCPP_EV_ERROR:
        if (c->waiting) {
            c->got = true;
            c->rc = ev->timed_out || ev->closed ? -1 : 1;
            c->code = ev->error_code;
            snprintf(c->err_desc, sizeof c->err_desc, "%s%s%s", ev->timed_out ? "timeout " : "",
                     ev->closed ? "closed " : "", ev->error_description ? ev->error_description : "");
        }
        break;
    case OCPP_EV_PROTOCOL:
        c->faults++;
        break;
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    cf_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        if (c && sim_ws_basic_auth(wsi, c->id, c->password, in, len))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = true;
        if (c->io.nout)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        size_t n = 0;
        bool too_big;
        const char *msg = sim_wsio_receive(&c->io, wsi, in, len, &n, &too_big);
        if (too_big)
            return -1;
        if (msg) {
            sim_wslog_add(&c->log, '<', msg, n);
            /* cf_raw waits for the answer to what it sent: a CALL of the CSMS's own (GetVariables after boot)
             * may come first and is no answer, so it is left to the session and the answer mode. */
            const char *p = msg;
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            bool is_call = p[0] == '[' && strncmp(p + 1 + strspn(p + 1, " \t\r\n"), "2", 1) == 0;
            if (!is_call) {
                free(c->last_raw);
                c->last_raw = strdup(msg);
            }
            ocpp_session_feed(c->session, msg, n, now_ms(), on_event, c);
            flush_session(c);
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return sim_wsio_write(&c->io, wsi, &c->log);
    case LWS_CALLBACK_CLIENT_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (c)
            c->http_status = (int)lws_http_client_http_response(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) {
            if (!c->http_status && wsi)
                c->http_status = (int)lws_http_client_http_response(wsi);
            c->closed = true;
            c->wsi = NULL;
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

int cf_init(const struct cf_options *o, char *err, size_t err_len)
{
    g_o = o;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    sim_tls_context(&info, &o->tls);
    g_ctx = lws_create_context(&info);
    if (!g_ctx) {
        snprintf(err, err_len, "cannot create the websocket context");
        return -1;
    }
    lws_sul_schedule(g_ctx, 0, &g_wake, wake, 10000);
    return 0;
}

void cf_shutdown(void)
{
    if (g_ctx) {
        lws_sul_cancel(&g_wake);
        lws_context_destroy(g_ctx);
    }
    g_ctx = NULL;
}

static void service_until(cf_conn *c, bool (*done)(cf_conn *, void *), void *arg, double wait_s)
{
    int64_t end = now_ms() + (int64_t)(wait_s * 1000);
    while (!(done && done(c, arg)) && now_ms() < end) {
        lws_service(g_ctx, 20);
        if (c->session) {
            ocpp_session_tick(c->session, now_ms(), on_event, c);
            flush_session(c);
        }
    }
}

static bool is_open_or_closed(cf_conn *c, void *a)
{
    (void)a;
    return c->established || c->closed;
}

cf_conn *cf_open(const char *id, const char *password, int *status)
{
    cf_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->password, sizeof c->password, "%s", password ? password : "");
    struct ocpp_session_config sc = {.role = OCPP_ROLE_STATION, .call_timeout_ms = (int64_t)(g_o->wait_s * 1000),
                                     .queue_max = 16, .id_prefix = "cf", .validate_outgoing = false};
    c->session = ocpp_session_new(&sc);
    char path[352];
    snprintf(path, sizeof path, "%s/%s", g_o->path, id);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = g_ctx;
    i.address = g_o->host;
    i.port = g_o->port;
    i.path = path;
    i.host = g_o->host;
    i.origin = g_o->host;
    i.protocol = "ocpp2.0.1";
    i.userdata = c;
    i.pwsi = &c->wsi;
    sim_tls_connect(&i, &g_o->tls);
    if (!c->session || !lws_client_connect_via_info(&i))
        c->closed = true;
    service_until(c, is_open_or_closed, NULL, g_o->wait_s);
    if (status)
        *status = c->http_status;
    return c;
}

bool cf_connected(const cf_conn *c)
{
    return c && c->established && !c->closed;
}

static bool is_closed(cf_conn *c, void *a)
{
    (void)a;
    return c->closed || !c->wsi;
}

void cf_close(cf_conn *c)
{
    if (!c)
        return;
    if (c->wsi && !c->closed) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        service_until(c, is_closed, NULL, 2);
    }
    if (c->session)
        ocpp_session_close(c->session, NULL, NULL);
    sim_wsio_clear(&c->io);
    for (int i = 0; i < c->ninbox; i++)
        cJSON_Delete(c->inbox[i].payload);
    sim_wslog_clear(&c->log);
    free(c->last_raw);
    free(c);
}

void cf_set_answer_mode(cf_conn *c, enum cf_answer_mode m)
{
    c->mode = m;
}

static bool got_answer(cf_conn *c, void *a)
{
    (void)a;
    return c->got || c->closed;
}

int cf_call(cf_conn *c, const char *action, const cJSON *payload, cJSON **result, enum ocpp_error *code)
{
    if (result)
        *result = NULL;
    if (!cf_connected(c))
        return -1;
    char err[256];
    c->waiting = true;
    c->got = false;
    c->result = NULL;
    if (ocpp_session_call(c->session, action, payload, NULL, now_ms(), NULL, err, sizeof err) != 0) {
        c->waiting = false;
        sim_wslog_add(&c->log, '!', err, strlen(err));
        return -1;
    }
    flush_session(c);
    service_until(c, got_answer, NULL, g_o->wait_s + 1);
    c->waiting = false;
    if (!c->got) {
        sim_wslog_add(&c->log, '!', "no answer", 9);
        return -1;
    }
    if (code)
        *code = c->code;
    if (result)
        *result = c->result;
    else
        cJSON_Delete(c->result);
    c->result = NULL;
    return c->rc;
}

static bool got_raw(cf_conn *c, void *a)
{
    (void)a;
    return c->last_raw != NULL || c->closed;
}

char *cf_raw(cf_conn *c, const char *text, double wait_s)
{
    free(c->last_raw);
    c->last_raw = NULL;
    push_out(c, strdup(text));
    service_until(c, got_raw, NULL, wait_s);
    char *r = c->last_raw;
    c->last_raw = NULL;
    return r;
}

struct want {
    const char *action;
    struct cf_msg *found;
    int from;
};

struct cf_msg *cf_find_call(cf_conn *c, const char *action, bool (*match)(const cJSON *payload, const void *arg),
                            const void *arg)
{
    for (int i = 0; i < c->ninbox; i++) {
        struct cf_msg *m = &c->inbox[i];
        if (!m->taken && (!action || strcmp(m->action, action) == 0) && (!match || match(m->payload, arg))) {
            m->taken = true;
            return m;
        }
    }
    return NULL;
}

static bool got_call(cf_conn *c, void *a)
{
    struct want *w = a;
    w->found = cf_find_call(c, w->action, NULL, NULL);
    return w->found || c->closed;
}

struct cf_msg *cf_wait_call(cf_conn *c, const char *action, double wait_s)
{
    struct want w = {action, NULL, 0};
    service_until(c, got_call, &w, wait_s);
    return w.found;
}

void cf_answer_with(cf_conn *c, const char *action, const char *answer,
                    bool (*match)(const cJSON *payload, const void *arg), const void *arg)
{
    size_t n = sizeof c->answers / sizeof c->answers[0], k = n;
    for (size_t i = 0; i < n && k == n; i++)
        if (strcmp(c->answers[i].action, action) == 0)
            k = i;
    for (size_t i = 0; i < n && k == n; i++)
        if (!c->answers[i].action[0])
            k = i;
    if (k == n)
        return;
    snprintf(c->answers[k].action, sizeof c->answers[k].action, "%s", action);
    c->answers[k].answer = answer;
    c->answers[k].match = match;
    c->answers[k].arg = arg;
}

void cf_reply(cf_conn *c, struct cf_msg *m, cJSON *payload)
{
    char err[256];
    if (ocpp_session_reply(c->session, m->id, payload, err, sizeof err) != 0)
        ocpp_session_reply_error(c->session, m->id, OCPP_E_INTERNAL_ERROR, err);
    m->answered = true;
    cJSON_Delete(payload);
    flush_session(c);
}

void cf_pump(cf_conn *c, double s)
{
    service_until(c, NULL, NULL, s);
}

int cf_protocol_faults(const cf_conn *c)
{
    return c->faults;
}

void cf_evidence(const cf_conn *c, char *buf, size_t len)
{
    sim_wslog_evidence(&c->log, buf, len);
}

const struct cf_sc_seen *cf_sc(const cf_conn *c)
{
    return &c->sc;
}
