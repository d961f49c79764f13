/*
 * api.c - the HTTP side of the JSON API on libwebsockets: one lws vhost on api_port, requests and their
 * bodies (bounded by api_max_body_bytes), the route table, bearer-token auth (the tokens: api_auth.c), answers
 * written from the WRITEABLE callback, and errors as application/problem+json (RFC 9457) naming the field and
 * the reason.
 *
 * Order of checks, so every client error has one well-defined answer: route (404), method (405), token (401),
 * role and fleet (403), body size (413), content type (415), JSON syntax (400), then the handler (404 for
 * unknown ids, 409, 412, 422 for semantic errors).
 *
 * Thread: the loop thread only (see api_internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "log.h"

/* ---- routes ----------------------------------------------------------------------------------------- */

struct api_route {
    const char *pattern;          /* '*' matches one path segment, captured into params */
    struct api_op ops[3];
};

/* Every route of schemas/openapi.json; tests/api/openapi.mjs checks the two agree both ways. */
static const struct api_route routes[] = {
    {"/healthz", {{API_GET, API_PUBLIC, false, false, api_get_healthz}}},
    {"/readyz", {{API_GET, API_PUBLIC, false, false, api_get_readyz}}},
    {"/metrics", {{API_GET, API_VIEWER, false, false, api_get_metrics}}},
    {API_PREFIX "/me", {{API_GET, API_VIEWER, false, false, api_get_me}}},
    {API_PREFIX "/stations", {{API_GET, API_VIEWER, false, false, api_get_stations}}},
    {API_PREFIX "/stations/*", {{API_GET, API_VIEWER, false, false, api_get_station}}},
    {API_PREFIX "/stations/*/commands", {{API_POST, API_ADMIN, true, true, api_post_command}}},
    {API_PREFIX "/stations/*/variables", {{API_GET, API_VIEWER, false, false, api_get_station_variables}}},
    {API_PREFIX "/stations/*/password", {{API_POST, API_ADMIN, true, true, api_post_password}}},
    {API_PREFIX "/sessions", {{API_GET, API_VIEWER, false, false, api_get_sessions}}},
    {API_PREFIX "/sessions/*", {{API_GET, API_VIEWER, false, false, api_get_session}}},
    {API_PREFIX "/events", {{API_GET, API_VIEWER, false, false, api_get_events}}},
    {API_PREFIX "/prices", {{API_GET, API_VIEWER, false, false, api_get_prices}}},
    {API_PREFIX "/plan", {{API_GET, API_VIEWER, false, false, api_get_plan}}},
    {API_PREFIX "/site", {{API_GET, API_VIEWER, false, false, api_get_site}}},
    {API_PREFIX "/circuits", {{API_GET, API_VIEWER, false, false, api_get_circuits}}},
    {API_PREFIX "/circuits/*/limit",
     {{API_PUT, API_ADMIN, true, true, api_put_circuit_limit}, {API_DELETE, API_ADMIN, false, true, api_delete_circuit_limit}}},
    {API_PREFIX "/site/limit",
     {{API_GET, API_VIEWER, false, false, api_get_site_limit},
      {API_PUT, API_ADMIN, true, true, api_put_site_limit},
      {API_DELETE, API_ADMIN, false, true, api_delete_site_limit}}},
    {API_PREFIX "/vehicles",
     {{API_GET, API_VIEWER, false, false, api_get_vehicles}, {API_POST, API_DISPATCHER, true, true, api_post_vehicle}}},
    {API_PREFIX "/vehicles/*",
     {{API_GET, API_VIEWER, false, false, api_get_vehicle},
      {API_PUT, API_DISPATCHER, true, true, api_put_vehicle},
      {API_DELETE, API_DISPATCHER, false, true, api_delete_vehicle}}},
    {API_PREFIX "/vehicles/*/departure",
     {{API_GET, API_VIEWER, false, false, api_get_departure},
      {API_PUT, API_DISPATCHER, true, true, api_put_departure},
      {API_DELETE, API_DISPATCHER, false, true, api_delete_departure}}},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static const char *method_name(enum api_method m)
{
    switch (m) {
    case API_GET: return "GET";
    case API_PUT: return "PUT";
    case API_POST: return "POST";
    case API_DELETE: return "DELETE";
    case API_PATCH: return "PATCH";
    case API_HEAD: return "HEAD";
    default: return "?";
    }
}

const char *api_role_name(enum api_role role)
{
    return role == API_ADMIN ? "admin" : role == API_DISPATCHER ? "dispatcher" : role == API_VIEWER ? "viewer" : "public";
}

/* Matches path against pattern segment by segment; '*' captures one non-empty segment. */
static bool route_match(const char *pattern, const char *path, char params[][API_PARAM_MAX])
{
    int n = 0;
    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *slash = strchr(path, '/');
            size_t len = slash ? (size_t)(slash - path) : strlen(path);
            if (len == 0 || len >= API_PARAM_MAX || n >= 3) return false;
            memcpy(params[n], path, len);
            params[n++][len] = 0;
            path += len;
            pattern++;
            continue;
        }
        if (*pattern != *path) return false;
        pattern++;
        path++;
    }
    return !*pattern && !*path;
}

/* ---- dispatch --------------------------------------------------------------------------------------- */

static bool json_content_type(struct api_req *r)
{
    char ct[128];
    if (lws_hdr_copy(r->wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0) return false;
    size_t n = strcspn(ct, "; ");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

static void dispatch(struct api *a, struct api_req *r)
{
    r->dispatched = true;
    a->requests++;
    const struct api_route *rt = NULL;
    for (size_t i = 0; i < N_ROUTES && !rt; i++)
        if (route_match(routes[i].pattern, r->path, r->params)) rt = &routes[i];
    if (!rt) {
        if (api_web_answer(r)) return;
        api_problem(r, 404, NULL, "no such resource: %s (the routes are in schemas/openapi.json)", r->path);
        return;
    }
    const struct api_op *op = NULL;
    r->allow[0] = 0;
    for (int i = 0; i < 3 && rt->ops[i].fn; i++) {
        if (rt->ops[i].method == r->method) op = &rt->ops[i];
        snprintf(r->allow + strlen(r->allow), sizeof r->allow - strlen(r->allow), "%s%s", r->allow[0] ? ", " : "",
                 method_name(rt->ops[i].method));
    }
    if (!op) {
        api_problem(r, 405, NULL, "%s is not allowed on %s (allowed: %s)", r->method_name, r->path, r->allow);
        return;
    }
    r->allow[0] = 0;
    r->op = op;
    if (op->role > API_PUBLIC) {
        const char *why;
        r->token = api_authenticate(a, r, &why);
        if (!r->token) {
            a->auth_failures++;
            r->www_authenticate = true;
            api_problem(r, 401, "Authorization", "%s", why);
            return;
        }
        if (r->token->role < op->role) {
            api_problem(r, 403, NULL, "token \"%s\" has role %s; %s %s needs %s", r->token->name,
                        api_role_name(r->token->role), r->method_name, rt->pattern, api_role_name(op->role));
            if (op->write) api_log_write(a, r, 403, NULL);
            return;
        }
    }
    if (r->body_overflow) {
        api_problem(r, 413, "body", "body: larger than api_max_body_bytes (%d bytes)", a->d->cfg.api_max_body_bytes);
        return;
    }
    cJSON *body = NULL;
    if (op->body) {
        if (!r->body_len) {
            api_problem(r, 400, "body", "body: a JSON object is required");
            return;
        }
        if (!json_content_type(r)) {
            api_problem(r, 415, "Content-Type", "Content-Type: must be application/json");
            return;
        }
        const char *end = NULL;
        body = cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, false);
        if (!body) {
            size_t at = end && end >= r->body ? (size_t)(end - r->body) : 0;
            if (at > r->body_len) at = r->body_len;
            api_problem(r, 400, "body", "body: not valid JSON at byte %zu", at);
            return;
        }
        if (!cJSON_IsObject(body)) {
            cJSON_Delete(body);
            api_problem(r, 422, "body", "body: must be a JSON object");
            return;
        }
    }
    op->fn(a, r, body);
    cJSON_Delete(body);
    if (op->write && r->answered) api_log_write(a, r, r->status, r->audit);
}

/* ---- lws -------------------------------------------------------------------------------------------- */

static void reset(struct api_req *r)
{
    free(r->body);
    free(r->out);
    cJSON_Delete(r->audit);
    memset(r, 0, sizeof *r);
}

static int begin(struct api *a, struct lws *wsi, struct api_req *r)
{
    /* A request behind one not yet answered (pipelined: lws parses what follows a body at once) would wipe
     * the one parked on the API's lists: close instead, which unparks it (found by fuzz_api.c). */
    if (r->serial) return -1;
    reset(r);
    r->wsi = wsi;
    r->serial = ++a->next_serial;
    r->content_length = -1;
    static const struct {
        enum lws_token_indexes tok;
        enum api_method m;
        const char *name;
    } methods[] = {
        {WSI_TOKEN_GET_URI, API_GET, "GET"},           {WSI_TOKEN_POST_URI, API_POST, "POST"},
        {WSI_TOKEN_PUT_URI, API_PUT, "PUT"},           {WSI_TOKEN_DELETE_URI, API_DELETE, "DELETE"},
        {WSI_TOKEN_PATCH_URI, API_PATCH, "PATCH"},     {WSI_TOKEN_OPTIONS_URI, API_OTHER, "OPTIONS"},
        {WSI_TOKEN_HEAD_URI, API_HEAD, "HEAD"},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0] && !r->method; i++) {
        int n = lws_hdr_total_length(wsi, methods[i].tok);
        if (n <= 0) continue;
        r->method = methods[i].m;
        snprintf(r->method_name, sizeof r->method_name, "%s", methods[i].name);
        if (n >= (int)sizeof r->path || lws_hdr_copy(wsi, r->path, sizeof r->path, methods[i].tok) < 0) {
            snprintf(r->path, sizeof r->path, "/");
            api_problem(r, 404, NULL, "the request path is longer than %zu bytes", sizeof r->path - 1);
            return 0;
        }
        /* A decoded %00 would cut the path short (and so name another file). lws 4.1 closes on %00 before
         * this; the check keeps it so with an lws that passes it through. */
        if (strlen(r->path) != (size_t)n) {
            api_problem(r, 404, NULL, "the request path holds a NUL byte (%%00)");
            return 0;
        }
    }
    if (!r->method) {
        snprintf(r->method_name, sizeof r->method_name, "?");
        r->method = API_OTHER;
    }
    /* A trailing slash names the same resource. */
    size_t pl = strlen(r->path);
    if (pl > 1 && r->path[pl - 1] == '/') r->path[pl - 1] = 0;
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) r->content_length = atoll(cl);
    if (r->content_length > a->d->cfg.api_max_body_bytes) {
        /* Refused before reading it: the connection closes after the answer instead of draining the body. */
        r->body_overflow = true;
        dispatch(a, r);
        return 0;
    }
    if (r->content_length < 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* lws 4.1 does not decode chunked request bodies: refuse them (the connection closes after every
         * answer, so the chunks are never read as a next request). */
        api_problem(r, 411, "Content-Length", "Content-Length: required (chunked request bodies are not accepted)");
        return 0;
    }
    if (r->content_length > 0) return 0; /* dispatched at LWS_CALLBACK_HTTP_BODY_COMPLETION */
    dispatch(a, r);
    return 0;
}

static int body_chunk(struct api *a, struct api_req *r, const char *in, size_t len)
{
    if (r->body_overflow || r->answered) return 0;
    size_t max = (size_t)a->d->cfg.api_max_body_bytes;
    if (r->body_len + len > max) {
        r->body_overflow = true;
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        return 0;
    }
    char *nb = realloc(r->body, r->body_len + len + 1);
    if (!nb) return -1;
    r->body = nb;
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = 0;
    return 0;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p, unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
                                       (int)strlen(value), p, end);
}

/* ---- answers held until their event is durable -------------------------------------------------------- */

#define API_HOLD_POLL_MS 2

static void unhold(struct api *a, struct api_req *r)
{
    for (struct api_req **pp = &a->held; *pp; pp = &(*pp)->next_held)
        if (*pp == r) {
            *pp = r->next_held;
            break;
        }
    r->held = false;
    r->next_held = NULL;
}

/* The store's writer wakes the loop after each commit, but that wake-up belongs to server.c; a short poll
 * while answers are held costs nothing when none are. */
static void on_hold_timer(lws_sorted_usec_list_t *sul)
{
    struct api *a = lws_container_of(sul, struct api, hold_timer);
    uint64_t settled = store_settled(a->d->store);
    for (struct api_req **pp = &a->held; *pp;) {
        struct api_req *r = *pp;
        if (r->hold_ticket <= settled) {
            *pp = r->next_held;
            r->held = false;
            r->next_held = NULL;
            lws_callback_on_writable(r->wsi);
        } else {
            pp = &r->next_held;
        }
    }
    if (a->held) lws_sul_schedule(a->d->lws, 0, &a->hold_timer, on_hold_timer, API_HOLD_POLL_MS * LWS_US_PER_MS);
}

/* True when the answer may go now; otherwise the request is parked until its event commits. */
static bool durable_or_hold(struct api *a, struct api_req *r)
{
    if (!r->hold_ticket) return true;
    enum store_ticket_state st = store_ticket_state(a->d->store, r->hold_ticket);
    if (st == STORE_PENDING) {
        if (!r->held) {
            r->held = true;
            r->next_held = a->held;
            if (!a->held) lws_sul_schedule(a->d->lws, 0, &a->hold_timer, on_hold_timer, API_HOLD_POLL_MS * LWS_US_PER_MS);
            a->held = r;
        }
        return false;
    }
    r->hold_ticket = 0;
    if (st == STORE_FAILED) {
        /* Done in memory but not recorded: the client must not take it for a normal success. */
        free(r->out);
        r->out = NULL;
        r->answered = false;
        r->etag[0] = 0;
        api_problem(r, 500, NULL, "the change is in force but could not be recorded in the event log");
    }
    return true;
}

static int writeable(struct api *a, struct lws *wsi, struct api_req *r)
{
    if (!r->answered) return 0; /* spurious: nothing to send yet */
    if (!r->headers_sent && !durable_or_hold(a, r)) return 0;
    if (!r->headers_sent) {
        /* The page's answers carry a CSP and more: 2 KiB holds every header with room to spare, and a set that
         * would not fit closes the connection (-1) rather than going out cut. */
        unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
        char num[16];
        /* A 304 says nothing of the length (RFC 9110 8.6: it could only repeat the 200's); a HEAD announces the
         * length GET would send, and neither sends a body. */
        bool body = r->method != API_HEAD && r->status != 304;
        lws_filepos_t announced = r->status == 304 ? LWS_ILLEGAL_HTTP_CONTENT_LEN : r->out_len;
        if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type, announced, &p, end) ||
            add_header(wsi, "cache-control:", r->cache_control ? r->cache_control : "no-store", &p, end) ||
            add_header(wsi, "x-content-type-options:", "nosniff", &p, end))
            return -1;
        if (r->page && !api_web_headers(wsi, &p, end)) return -1;
        if (r->allow[0] && add_header(wsi, "allow:", r->allow, &p, end)) return -1;
        if (r->etag[0] && add_header(wsi, "etag:", r->etag, &p, end)) return -1;
        if (r->www_authenticate && add_header(wsi, "www-authenticate:", "Bearer realm=\"depotd\"", &p, end)) return -1;
        if (r->retry_after_s > 0) {
            snprintf(num, sizeof num, "%d", r->retry_after_s);
            if (add_header(wsi, "retry-after:", num, &p, end)) return -1;
        }
        if (r->replayed && add_header(wsi, "idempotent-replayed:", "true", &p, end)) return -1;
        /* lws says "connection: close" itself when no length is given (the 304). */
        if (announced != LWS_ILLEGAL_HTTP_CONTENT_LEN && add_header(wsi, "connection:", "close", &p, end)) return -1;
        if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
        r->headers_sent = true;
        a->by_status[r->status / 100 < 6 ? r->status / 100 : 0]++;
        if (r->out_len && body) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        /* One lws_write per WRITEABLE; the bytes before the chunk were sent already, so lws may use them as
         * its LWS_PRE headroom. */
        size_t chunk = r->out_len - r->out_off;
        if (chunk > 16384) chunk = 16384;
        bool last = r->out_off + chunk == r->out_len;
        int w = lws_write(wsi, r->out + LWS_PRE + r->out_off, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        if (w < (int)chunk) return -1;
        r->out_off += chunk;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    /* One request per connection. lws 4.1 mishandles a pipelined request with a body read from its buffer
     * (BODY_COMPLETION again and again, the loop spinning, the stations starved: found by fuzz_api.c), and
     * keep-alive saves little on a loopback or depot LAN API; a client that pipelines gets its first answer
     * and a closed connection, and sends the rest again. */
    reset(r);
    return -1;
}

static int callback_api(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct depot *d = lws_context_user(lws_get_context(wsi));
    struct api *a = d ? d->api : NULL;
    struct api_req *r = user;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        return d && depot_tls_setup_ctx(d, user, true) ? 1 : 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "no websockets on the API port");
        return 1;
    case LWS_CALLBACK_HTTP:
        if (!a || !r) return -1; /* shutting down */
        return begin(a, wsi, r);
    case LWS_CALLBACK_HTTP_BODY:
        if (!a || !r) return -1;
        return body_chunk(a, r, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!a || !r) return -1;
        if (!r->dispatched) dispatch(a, r);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!a || !r) return -1;
        return writeable(a, wsi, r);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (r) {
            if (a && r->waiting) api_unwait(a, r);
            if (a && r->held) unhold(a, r);
            reset(r);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static struct lws_protocols api_protocols[] = {
    {"depotd-api", callback_api, sizeof(struct api_req), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- the loop's heartbeat (readiness) ---------------------------------------------------------------- */

#define API_TICK_MS 1000

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct api *a = lws_container_of(sul, struct api, tick);
    int64_t now = depot_mono_ms();
    /* How late the loop came to a timer it had promised for tick_due: the loop's lag. */
    a->lag_ms = now > a->tick_due_mono ? now - a->tick_due_mono : 0;
    if (a->lag_ms > a->lag_max_ms) a->lag_max_ms = a->lag_ms;
    a->tick_last_mono = now;
    a->tick_due_mono = now + API_TICK_MS;
    lws_sul_schedule(a->d->lws, 0, &a->tick, on_tick, API_TICK_MS * LWS_US_PER_MS);
}

static void api_free(struct api *a)
{
    if (!a) return;
    while (a->waiting) api_unwait(a, a->waiting);
    while (a->held) unhold(a, a->held);
    api_cmd_free(a);
    api_password_stop(a);
    api_vehicles_stop(a);
    free(a->tokens);
    free(a);
}

int api_start(struct depot *d, char *err, size_t err_len)
{
    if (d->cfg.api_port < 0) return 0;
    struct api *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    a->d = d;
    if (d->cfg.api_tokens && api_tokens_parse(a, d->cfg.api_tokens, err, err_len)) goto fail;
    if (api_cmd_restore(a, err, err_len)) goto fail;
    if (api_reader_start(a, err, err_len)) goto fail;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = d->cfg.api_port;
    info.iface = strcmp(d->cfg.api_listen_address, "0.0.0.0") == 0 ? NULL : d->cfg.api_listen_address;
    bool https = d->cfg.api_tls_cert_file[0] != 0;
    if (https) { /* versions and suites as the OCPP listener's (tls.c) */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = d->cfg.api_tls_cert_file;
        info.ssl_private_key_filepath = d->cfg.api_tls_key_file;
    }
    info.protocols = api_protocols;
    info.vhost_name = "depotd-api";
    info.retry_and_idle_policy = &depot_no_validity;
    /* A client that connects and goes quiet is dropped by lws' idle timeout; nothing else is per connection. */
    info.keepalive_timeout = 30;
    d->api = a;
    a->vhost = lws_create_vhost(d->lws, &info);
    if (!a->vhost) {
        snprintf(err, err_len, "api_port: cannot listen on %s:%d%s", d->cfg.api_listen_address, d->cfg.api_port,
                 https ? " (or api_tls_cert_file, api_tls_key_file: see the log above)" : "");
        d->api = NULL;
        api_reader_stop(a);
        goto fail;
    }
    a->port = lws_get_vhost_listen_port(a->vhost);
    a->tick_due_mono = depot_mono_ms() + API_TICK_MS;
    a->tick_last_mono = depot_mono_ms();
    lws_sul_schedule(d->lws, 0, &a->tick, on_tick, API_TICK_MS * LWS_US_PER_MS);
    api_vehicles_start(a);
    if (!a->n_tokens) log_warn("api", NULL, "no api_tokens configured: every route but /healthz and /readyz answers 401");
    log_info("api", NULL, "JSON API on %s://%s:%d" API_PREFIX "/ (%d tokens)", https ? "https" : "http",
             d->cfg.api_listen_address, a->port, a->n_tokens);
    return 0;
fail:
    api_free(a);
    return -1;
}

void api_stop(struct depot *d)
{
    struct api *a = d->api;
    if (!a) return;
    if (d->lws) {
        lws_sul_cancel(&a->tick);
        lws_sul_cancel(&a->hold_timer);
    }
    api_reader_stop(a);
    /* From here on the callbacks see d->api == NULL: late requests are closed, late answers dropped. */
    d->api = NULL;
    api_free(a);
}
