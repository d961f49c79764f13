/*
 * api_reply.c - how the API answers: JSON documents, problem+json (RFC 9457) naming the field and the reason,
 * requests parked until an async result comes, query arguments, and the "api" events of the audit trail.
 * Thread: the loop thread only.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

/* ---- answering -------------------------------------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

void api_reply_text(struct api_req *r, int status, const char *content_type, const char *text, size_t len)
{
    if (r->answered || !r->wsi) return;
    r->out = malloc(LWS_PRE + len + 1);
    if (!r->out) {
        /* Nothing sensible can be said without memory: an empty 500, then the connection closes. */
        len = 0;
        status = 500;
    } else {
        memcpy(r->out + LWS_PRE, text, len);
    }
    r->out_len = len;
    r->out_off = 0;
    r->status = status;
    r->content_type = content_type;
    r->answered = true;
    lws_callback_on_writable(r->wsi);
}

void api_reply(struct api_req *r, int status, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (j && !text) {
        api_reply_text(r, 500, "application/problem+json", "", 0);
        return;
    }
    api_reply_text(r, status, "application/json", text ? text : "", text ? strlen(text) : 0);
    cJSON_free(text);
}

void api_problem(struct api_req *r, int status, const char *field, const char *fmt, ...)
{
    if (r->answered) return;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "about:blank");
    cJSON_AddStringToObject(o, "title", reason_phrase(status));
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddStringToObject(o, "detail", detail);
    if (field) cJSON_AddStringToObject(o, "field", field);
    cJSON_AddStringToObject(o, "instance", r->path);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    api_reply_text(r, status, "application/problem+json", text ? text : "", text ? strlen(text) : 0);
    cJSON_free(text);
}

uint64_t api_wait(struct api *a, struct api_req *r)
{
    if (!r->waiting) {
        r->waiting = true;
        r->next_waiting = a->waiting;
        a->waiting = r;
    }
    /* A station may take call_timeout_s to answer; lws must not drop the client meanwhile. */
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_HTTP_CONTENT, a->d->cfg.call_timeout_s + 30);
    return r->serial;
}

void api_unwait(struct api *a, struct api_req *r)
{
    for (struct api_req **pp = &a->waiting; *pp; pp = &(*pp)->next_waiting)
        if (*pp == r) {
            *pp = r->next_waiting;
            break;
        }
    r->waiting = false;
    r->next_waiting = NULL;
}

struct api_req *api_resume(struct api *a, uint64_t serial)
{
    for (struct api_req *r = a->waiting; r; r = r->next_waiting)
        if (r->serial == serial) {
            api_unwait(a, r);
            return r;
        }
    return NULL;
}

/* ---- query arguments -------------------------------------------------------------------------------- */

bool api_arg(struct api_req *r, const char *name, char *buf, size_t len)
{
    char key[40], tmp[512];
    snprintf(key, sizeof key, "%s=", name);
    const char *v = lws_get_urlarg_by_name(r->wsi, key, tmp, sizeof tmp);
    if (!v) return false;
    snprintf(buf, len, "%s", v);
    return true;
}

int api_arg_time(struct api_req *r, const char *name, int64_t *ms)
{
    char buf[64];
    if (!api_arg(r, name, buf, sizeof buf)) return 0;
    /* lws decodes query arguments as a form would: an unescaped '+' of a UTC offset arrives as ' '. */
    for (char *p = buf; *p; p++)
        if (*p == ' ') *p = '+';
    if (ocpp_time_parse(buf, ms)) {
        api_problem(r, 400, name, "%s: \"%s\" is not an RFC 3339 date-time (e.g. 2024-05-01T06:00:00Z)", name, buf);
        return -1;
    }
    return 1;
}

int api_arg_limit(struct api_req *r)
{
    char buf[32];
    if (!api_arg(r, "limit", buf, sizeof buf)) return API_PAGE_DEFAULT;
    char *end;
    long v = strtol(buf, &end, 10);
    if (*end || end == buf || v < 1 || v > API_PAGE_MAX) {
        api_problem(r, 400, "limit", "limit: must be an integer from 1 to %d", API_PAGE_MAX);
        return -1;
    }
    return (int)v;
}

int api_arg_bool(struct api_req *r, const char *name)
{
    char buf[16];
    if (!api_arg(r, name, buf, sizeof buf)) return 2;
    if (strcmp(buf, "true") == 0) return 1;
    if (strcmp(buf, "false") == 0) return 0;
    api_problem(r, 400, name, "%s: must be true or false", name);
    return -1;
}

void api_add_cursor(cJSON *o, bool more, int64_t last)
{
    if (!more) {
        cJSON_AddNullToObject(o, "next_cursor");
        return;
    }
    char c[32];
    snprintf(c, sizeof c, "%lld", (long long)last);
    cJSON_AddStringToObject(o, "next_cursor", c);
}

void api_add_time(cJSON *o, const char *name, int64_t ms)
{
    char buf[40];
    if (ms) cJSON_AddStringToObject(o, name, ocpp_time_format(ms, buf));
    else cJSON_AddNullToObject(o, name);
}

/* ---- the audit trail -------------------------------------------------------------------------------- */

void api_log_write(struct api *a, struct api_req *r, int status, const cJSON *extra)
{
    cJSON *o = extra ? cJSON_Duplicate(extra, true) : cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "by", r->token ? r->token->name : "");
    cJSON_AddStringToObject(o, "role", r->token ? api_role_name(r->token->role) : "");
    cJSON_AddStringToObject(o, "method", r->method_name);
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddNumberToObject(o, "status", status);
    if (r->body && r->body_len && !r->body_overflow) {
        cJSON *b = cJSON_ParseWithLength(r->body, r->body_len);
        config_redact(b); /* a password set through the API is not for the audit trail */
        if (b) cJSON_AddItemToObject(o, "request", b);
    }
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json) { /* out of memory: the write is not recorded, so it may not be answered as done */
        r->hold_ticket = a->last_write_ticket = STORE_TICKET_LOST;
        return;
    }
    struct store_event ev = {.time_ms = depot_wall_ms(), .type = "api", .data = json};
    const char *station = strstr(r->path, API_PREFIX "/stations/") == r->path ? r->params[0] : NULL;
    ev.station = station && station[0] ? station : NULL;
    a->last_write_ticket = store_append(a->d->store, &ev);
    r->hold_ticket = a->last_write_ticket;
    cJSON_free(json);
}

bool api_arg_cursor(struct api_req *r, long long *out)
{
    char buf[32];
    if (!api_arg(r, "cursor", buf, sizeof buf)) return true;
    char *end;
    *out = strtoll(buf, &end, 10);
    if (*end || end == buf || *out < 0) {
        api_problem(r, 400, "cursor", "cursor: not a cursor this API gave out (use next_cursor as it is)");
        return false;
    }
    return true;
}

/* ---- strict bodies ---------------------------------------------------------------------------------- */

/* Refuses members not in `allowed` (NULL-terminated): a typo ("untill") must not be silently ignored. */
bool api_body_only(struct api_req *r, const cJSON *body, const char *const *allowed)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, body) {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++) ok = strcmp(it->string, allowed[i]) == 0;
        if (!ok) {
            api_problem(r, 422, it->string, "%s: unknown member", it->string);
            return false;
        }
    }
    return true;
}

/* A required RFC 3339 member; answers 422 itself. */
bool api_body_time(struct api_req *r, const cJSON *body, const char *name, int64_t *ms)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v) {
        api_problem(r, 422, name, "%s: required (an RFC 3339 date-time)", name);
        return false;
    }
    if (!cJSON_IsString(v) || ocpp_time_parse(v->valuestring, ms)) {
        api_problem(r, 422, name, "%s: not an RFC 3339 date-time (e.g. 2024-05-01T06:00:00Z)", name);
        return false;
    }
    return true;
}

/* An optional number in [lo, hi]; *out stays as it is when absent. Answers 422 itself. */
bool api_body_number(struct api_req *r, const cJSON *body, const char *name, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v) return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi) {
        api_problem(r, 422, name, "%s: must be a number from %g to %g", name, lo, hi);
        return false;
    }
    *out = v->valuedouble;
    return true;
}
