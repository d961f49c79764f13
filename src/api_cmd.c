/*
 * api_cmd.c - POST /api/v1/stations/{id}/commands: an operator's command to a station, sent as an OCPP CALL
 * whose answer (or CALLERROR, timeout, lost connection) becomes the HTTP answer: 200 with the station's
 * response, 502 when the station refused the CALL or went away, 504 when it did not answer in call_timeout_s.
 *
 * Idempotency-Key (per token): the first request with a key sends the command; a retry with the same key and
 * the same request gets the first answer again (header Idempotent-Replayed: true) and never sends a second
 * command; a retry while the first is still waiting for the station gets 409; the same key with another
 * request gets 422. Keys are kept API_IDEM_TTL_MS in memory (not across restarts: see examples/api.md).
 *
 * The CALL's cookie is API_CALL_TAG | command number (api.h), so server.c routes the answer here and the
 * control loop's cookies stay its own.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "log.h"

#define API_IDEM_MAX 1024
#define API_IDEM_TTL_MS (24LL * 3600 * 1000)
#define API_IDEM_KEY_MAX 128

struct api_idem {
    char key[API_IDEM_KEY_MAX + 1];
    char token[API_NAME_MAX + 1];
    unsigned char fingerprint[32];
    bool done;
    int status;
    char *body;
    const char *content_type;
    int64_t created_mono;
    struct api_idem *next;
};

struct api_cmd {
    uint64_t number;
    uint64_t serial;              /* the request waiting for the answer (it may have gone) */
    struct api_idem *idem;        /* completed with the answer, or NULL */
    const struct api_token *token;
    char station[CFG_STATION_ID_MAX + 1];
    char action[40];
    char path[API_PATH_MAX];
    char idem_key[API_IDEM_KEY_MAX + 1];
    struct api_cmd *next;
};

static const char *const commands[] = {"RequestStartTransaction", "RequestStopTransaction", "Reset",
                                       "ChangeAvailability", "TriggerMessage", "UnlockConnector", NULL};

/* ---- idempotency ------------------------------------------------------------------------------------ */

static void idem_free(struct api_idem *e)
{
    free(e->body);
    free(e);
}

static void idem_unlink(struct api *a, struct api_idem *e)
{
    for (struct api_idem **pp = &a->idem; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            a->n_idem--;
            return;
        }
}

/* Drops expired answers; when still full, the oldest answered one. False when every entry waits for a station. */
static bool idem_make_room(struct api *a)
{
    int64_t now = depot_mono_ms();
    for (struct api_idem **pp = &a->idem; *pp;) {
        struct api_idem *e = *pp;
        if (e->done && now - e->created_mono > API_IDEM_TTL_MS) {
            *pp = e->next;
            a->n_idem--;
            idem_free(e);
        } else {
            pp = &e->next;
        }
    }
    if (a->n_idem < API_IDEM_MAX) return true;
    struct api_idem *oldest = NULL;
    for (struct api_idem *e = a->idem; e; e = e->next)
        if (e->done && (!oldest || e->created_mono < oldest->created_mono)) oldest = e;
    if (!oldest) return false;
    idem_unlink(a, oldest);
    idem_free(oldest);
    return true;
}

static struct api_idem *idem_find(struct api *a, const char *token, const char *key)
{
    for (struct api_idem *e = a->idem; e; e = e->next)
        if (strcmp(e->key, key) == 0 && strcmp(e->token, token) == 0) return e;
    return NULL;
}

/* ---- answering -------------------------------------------------------------------------------------- */

static void answer(struct api *a, struct api_cmd *c, int status, cJSON *doc, bool problem)
{
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    const char *ct = problem ? "application/problem+json" : "application/json";
    if (c->idem) {
        c->idem->done = true;
        c->idem->status = status;
        c->idem->content_type = ct;
        c->idem->body = text ? strdup(text) : NULL;
    }
    struct api_req *r = api_resume(a, c->serial);
    if (r) {
        r->hold_ticket = a->last_write_ticket; /* the outcome event, appended just before */
        api_reply_text(r, status, ct, text ? text : "", text ? strlen(text) : 0);
    }
    cJSON_free(text);
}

static cJSON *problem_doc(int status, const char *title, const char *path, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "about:blank");
    cJSON_AddStringToObject(o, "title", title);
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddStringToObject(o, "detail", detail);
    cJSON_AddStringToObject(o, "instance", path);
    return o;
}

void api_on_answer(struct depot *d, const struct ocpp_event *ev)
{
    struct api *a = d->api;
    if (!a) return;
    uint64_t number = (uint64_t)((uintptr_t)ev->user & ~API_CALL_TAG);
    struct api_cmd *c = NULL;
    for (struct api_cmd **pp = &a->cmds; *pp; pp = &(*pp)->next)
        if ((*pp)->number == number) {
            c = *pp;
            *pp = c->next;
            break;
        }
    if (!c) return;
    int status;
    cJSON *doc;
    char detail[512];
    if (ev->type == OCPP_EV_RESULT) {
        status = 200;
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "station", c->station);
        cJSON_AddStringToObject(doc, "action", c->action);
        cJSON_AddStringToObject(doc, "message_id", ev->id ? ev->id : "");
        cJSON_AddItemToObject(doc, "response", ev->payload ? cJSON_Duplicate(ev->payload, true) : cJSON_CreateObject());
    } else if (ev->timed_out) {
        status = 504;
        a->command_timeouts++;
        snprintf(detail, sizeof detail, "station %s did not answer %s within call_timeout_s (%d s)", c->station,
                 c->action, d->cfg.call_timeout_s);
        doc = problem_doc(status, "Gateway Timeout", c->path, detail);
    } else if (ev->closed) {
        status = 502;
        snprintf(detail, sizeof detail, "the connection of station %s closed before it answered %s", c->station,
                 c->action);
        doc = problem_doc(status, "Bad Gateway", c->path, detail);
    } else {
        status = 502;
        snprintf(detail, sizeof detail, "station %s answered %s with CALLERROR %s%s%s", c->station, c->action,
                 ocpp_error_name(ev->error_code), ev->error_description && ev->error_description[0] ? ": " : "",
                 ev->error_description ? ev->error_description : "");
        doc = problem_doc(status, "Bad Gateway", c->path, detail);
        cJSON_AddStringToObject(doc, "ocpp_error_code", ocpp_error_name(ev->error_code));
        cJSON_AddStringToObject(doc, "ocpp_error_description", ev->error_description ? ev->error_description : "");
    }
    /* The outcome in the audit trail, next to the frames: who asked, what the station said. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "by", c->token ? c->token->name : "");
    cJSON_AddStringToObject(o, "role", c->token ? api_role_name(c->token->role) : "");
    cJSON_AddStringToObject(o, "method", "POST");
    cJSON_AddStringToObject(o, "path", c->path);
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddStringToObject(o, "action", c->action);
    cJSON_AddStringToObject(o, "message_id", ev->id ? ev->id : "");
    if (c->idem_key[0]) cJSON_AddStringToObject(o, "idempotency_key", c->idem_key);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (json) {
        struct store_event e = {.time_ms = depot_wall_ms(), .type = "api", .station = c->station, .data = json};
        a->last_write_ticket = store_append(d->store, &e);
        cJSON_free(json);
    }
    answer(a, c, status, doc, status != 200);
    free(c);
}

/* ---- the request ------------------------------------------------------------------------------------ */

/* The Idempotency-Key header: 0 absent, 1 read, -1 malformed (answered 400). */
static int idem_key(struct api_req *r, char *out, size_t len)
{
    static const char name[] = "idempotency-key:";
    int n = lws_hdr_custom_length(r->wsi, name, (int)sizeof name - 1);
    if (n <= 0) return 0;
    if (n > API_IDEM_KEY_MAX || lws_hdr_custom_copy(r->wsi, out, (int)len, name, (int)sizeof name - 1) < 0) {
        api_problem(r, 400, "Idempotency-Key", "Idempotency-Key: 1 to %d printable characters", API_IDEM_KEY_MAX);
        return -1;
    }
    for (const char *p = out; *p; p++)
        if (*p < 0x21 || *p > 0x7e) {
            api_problem(r, 400, "Idempotency-Key", "Idempotency-Key: 1 to %d printable characters", API_IDEM_KEY_MAX);
            return -1;
        }
    return 1;
}

void api_post_command(struct api *a, struct api_req *r, const cJSON *body)
{
    struct depot *d = a->d;
    struct station *st = depot_station_find(d, r->params[0]);
    if (!st) {
        api_problem(r, 404, "station_id", "station_id: no station \"%s\" is known", r->params[0]);
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
        if (strcmp(it->string, "action") && strcmp(it->string, "request")) {
            api_problem(r, 422, it->string, "%s: unknown member (action, request)", it->string);
            return;
        }
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(body, "action");
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(body, "request");
    int k = 0;
    while (cJSON_IsString(action) && commands[k] && strcmp(commands[k], action->valuestring)) k++;
    if (!cJSON_IsString(action) || !commands[k]) {
        api_problem(r, 422, "action", "action: must be one of RequestStartTransaction, RequestStopTransaction, Reset, "
                                      "ChangeAvailability, TriggerMessage, UnlockConnector");
        return;
    }
    if (!cJSON_IsObject(request)) {
        api_problem(r, 422, "request", "request: required, the OCPP 2.0.1 %sRequest payload (an object)",
                    action->valuestring);
        return;
    }
    cJSON *payload = cJSON_Duplicate(request, true);
    /* remoteStartId is depotd's to choose when the operator does not care (OCPP 2.0.1 F01). */
    if (strcmp(action->valuestring, "RequestStartTransaction") == 0 &&
        !cJSON_GetObjectItemCaseSensitive(payload, "remoteStartId")) {
        if (!a->remote_start_id) a->remote_start_id = (int)(depot_wall_ms() / 1000 % 1000000000);
        cJSON_AddNumberToObject(payload, "remoteStartId", ++a->remote_start_id);
    }
    char desc[256];
    if (ocpp_validate(action->valuestring, false, payload, desc, sizeof desc) != OCPP_OK) {
        cJSON_Delete(payload);
        /* The validator says "<json path>: <reason>": name the member inside `request`. */
        char field[48] = "request";
        size_t n = strcspn(desc, ":");
        if (desc[n] == ':' && n > 0 && n < sizeof field - 9 && !memchr(desc, ' ', n))
            snprintf(field, sizeof field, "request.%.*s", (int)n, desc);
        api_problem(r, 422, field, "request.%s (not a valid %sRequest)", desc, action->valuestring);
        return;
    }

    char key[API_IDEM_KEY_MAX + 1] = "";
    int has_key = idem_key(r, key, sizeof key);
    if (has_key < 0) {
        cJSON_Delete(payload);
        return;
    }
    struct api_idem *idem = NULL;
    if (has_key) {
        /* The request's fingerprint: the station and the body as parsed (so whitespace does not matter). */
        unsigned char fp[32];
        char *canon = cJSON_PrintUnformatted(body);
        size_t n = strlen(st->id) + 1 + (canon ? strlen(canon) : 0);
        char *text = malloc(n + 1);
        if (!text) {
            cJSON_free(canon);
            cJSON_Delete(payload);
            api_problem(r, 500, NULL, "out of memory");
            return;
        }
        snprintf(text, n + 1, "%s\n%s", st->id, canon ? canon : "");
        SHA256((const unsigned char *)text, n, fp);
        free(text);
        cJSON_free(canon);
        idem = idem_find(a, r->token->name, key);
        if (idem && memcmp(idem->fingerprint, fp, sizeof fp) != 0) {
            cJSON_Delete(payload);
            api_problem(r, 422, "Idempotency-Key", "Idempotency-Key: \"%s\" was used for a different request", key);
            return;
        }
        if (idem && !idem->done) {
            cJSON_Delete(payload);
            r->retry_after_s = 1;
            api_problem(r, 409, "Idempotency-Key", "Idempotency-Key: the request \"%s\" is still waiting for the station",
                        key);
            return;
        }
        if (idem) {
            cJSON_Delete(payload);
            r->replayed = true;
            api_reply_text(r, idem->status, idem->content_type, idem->body ? idem->body : "",
                           idem->body ? strlen(idem->body) : 0);
            return;
        }
        if (!idem_make_room(a)) {
            cJSON_Delete(payload);
            r->retry_after_s = 5;
            api_problem(r, 503, NULL, "too many commands waiting for stations; retry shortly");
            return;
        }
        idem = calloc(1, sizeof *idem);
        if (!idem) {
            cJSON_Delete(payload);
            api_problem(r, 500, NULL, "out of memory");
            return;
        }
        snprintf(idem->key, sizeof idem->key, "%s", key);
        snprintf(idem->token, sizeof idem->token, "%s", r->token->name);
        memcpy(idem->fingerprint, fp, sizeof fp);
        idem->created_mono = depot_mono_ms();
    }

    if (!st->conn || !st->conn->session) {
        free(idem);
        cJSON_Delete(payload);
        api_problem(r, 409, "station_id", "station_id: station %s is not connected", st->id);
        return;
    }
    struct api_cmd *c = calloc(1, sizeof *c);
    if (!c) {
        free(idem);
        cJSON_Delete(payload);
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    c->number = ++a->next_cmd;
    c->token = r->token;
    snprintf(c->station, sizeof c->station, "%s", st->id);
    snprintf(c->action, sizeof c->action, "%s", action->valuestring);
    snprintf(c->path, sizeof c->path, "%s", r->path);
    snprintf(c->idem_key, sizeof c->idem_key, "%s", key);
    /* Logged before the CALL, so the "api" event sits right before the ocpp_out frame it caused. */
    cJSON *audit = cJSON_CreateObject();
    cJSON_AddStringToObject(audit, "action", c->action);
    if (key[0]) cJSON_AddStringToObject(audit, "idempotency_key", key);
    api_log_write(a, r, 202, audit);
    cJSON_Delete(audit);
    char err[256];
    if (depot_call_user(st->conn, c->action, payload, (void *)(uintptr_t)(API_CALL_TAG | c->number), err, sizeof err)) {
        cJSON_Delete(payload);
        free(c);
        free(idem);
        api_problem(r, 409, NULL, "the command cannot be sent now: %s", err);
        api_log_write(a, r, 409, NULL);
        return;
    }
    cJSON_Delete(payload);
    a->commands++;
    if (idem) {
        idem->next = a->idem;
        a->idem = idem;
        a->n_idem++;
        c->idem = idem;
    }
    c->serial = api_wait(a, r);
    c->next = a->cmds;
    a->cmds = c;
}

void api_cmd_free(struct api *a)
{
    while (a->cmds) {
        struct api_cmd *c = a->cmds;
        a->cmds = c->next;
        free(c);
    }
    while (a->idem) {
        struct api_idem *e = a->idem;
        a->idem = e->next;
        idem_free(e);
    }
    a->n_idem = 0;
}
