/*
 * api_cmd.c - POST /api/v1/stations/{id}/commands: an operator's command to a station, sent as an OCPP CALL
 * whose answer (or CALLERROR, timeout, lost connection) becomes the HTTP answer: 200 with the station's
 * response, 502 when the station refused the CALL or went away, 504 when it did not answer in call_timeout_s.
 *
 * Idempotency-Key (per token): the first request with a key sends the command; a retry with the same key and
 * the same request gets the first answer again (header Idempotent-Replayed: true) and never sends a second
 * command; a retry while the first is still waiting for the station gets 409; the same key with another
 * request gets 422. Keys are kept API_IDEM_TTL_MS, across restarts too: the command's "api" events carry the
 * key, the request's fingerprint and (the outcome event) the answer, and api_cmd_restore() reloads the keys
 * of the retention window at start. A command sent but not answered before depotd stopped is answered 502
 * "outcome unknown" on a retry, never sent twice.
 *
 * The CALL's cookie is API_CALL_TAG | command number (api.h), so server.c routes the answer here and the
 * control loop's cookies stay its own.
 */
#include <openssl/sha.h>
#include <sqlite3.h>
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
    unsigned char fingerprint[32];
    cJSON *profile_request;       /* Set/ClearChargingProfile: what control learns when the station accepts it */
    struct api_cmd *next;
};

/* F remote control, M01-M04 certificates (installing the depot CA as the station's CSMS root), B provisioning
 * (device model reads and writes, reports, the network profile), C ClearCache, E GetTransactionStatus, K the
 * charging profiles (what the station holds and composes; setting and clearing only with control off: see
 * command_refused). */
static const char *const commands[] = {
    "RequestStartTransaction", "RequestStopTransaction", "Reset", "ChangeAvailability", "TriggerMessage",
    "UnlockConnector", "InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate", "GetVariables",
    "SetVariables", "GetBaseReport", "GetReport", "SetNetworkProfile", "ClearCache", "GetTransactionStatus",
    "GetChargingProfiles", "GetCompositeSchedule", "SetChargingProfile", "ClearChargingProfile", NULL};

/* What depotd will not send for an operator, and why (status and problem text), or 0. With smart charging on, the
 * station's TxProfile and fail-safe profiles are the plan's (control_operator_profile_refused says which an operator
 * may still set). A Basic auth password has its own door (A01: hashed, kept only once the station accepts it). */
static int command_refused(struct api *a, const char *action, const cJSON *payload, char *why, size_t len)
{
    int refused = control_operator_profile_refused(a->d, action, payload, why, len);
    if (refused) return refused;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(payload, "setVariableData")) {
        const char *comp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(v, "component"), "name"));
        const char *var = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(v, "variable"), "name"));
        if (comp && var && strcmp(comp, "SecurityCtrlr") == 0 && strcmp(var, "BasicAuthPassword") == 0) {
            snprintf(why, len, "request.setVariableData: a station's password changes through POST "
                     "/api/v1/stations/{id}/password (hashed, kept only once the station accepts it)");
            return 422;
        }
    }
    return 0;
}

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

static cJSON *problem_doc(int status, const char *title, const char *path, const char *detail);

static void hex32(const unsigned char fp[32], char out[65])
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", fp[i]);
}

static bool unhex32(const char *in, unsigned char fp[32])
{
    if (!in || strlen(in) != 64) return false;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(in + 2 * i, "%2x", &v) != 1) return false;
        fp[i] = (unsigned char)v;
    }
    return true;
}

/* One "api" event of a command with a key, in log order: the request sent (202) makes an entry whose outcome is
 * unknown until the outcome event (with "answer") completes it; another status (409: not sent) forgets it. */
static void restore_event(struct api *a, const cJSON *o, int64_t time_ms, int64_t now_wall, int64_t now_mono)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "idempotency_key");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "by");
    const cJSON *fpx = cJSON_GetObjectItemCaseSensitive(o, "fingerprint");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(o, "action");
    unsigned char fp[32];
    if (!cJSON_IsString(key) || !key->valuestring[0] || strlen(key->valuestring) > API_IDEM_KEY_MAX ||
        !cJSON_IsString(by) || strlen(by->valuestring) > API_NAME_MAX || !cJSON_IsNumber(status) ||
        !cJSON_IsString(method) || strcmp(method->valuestring, "POST") || !unhex32(cJSON_GetStringValue(fpx), fp))
        return;
    struct api_idem *e = idem_find(a, by->valuestring, key->valuestring);
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(o, "answer");
    if (status->valueint == 202) {
        if (e) {
            idem_unlink(a, e);
            idem_free(e);
        }
        if (!idem_make_room(a) || !(e = calloc(1, sizeof *e))) return;
        snprintf(e->key, sizeof e->key, "%s", key->valuestring);
        snprintf(e->token, sizeof e->token, "%s", by->valuestring);
        memcpy(e->fingerprint, fp, sizeof fp);
        e->created_mono = now_mono - (now_wall - time_ms);
        /* Until its outcome event says otherwise: sent, and depotd stopped before the station answered. */
        char detail[512];
        snprintf(detail, sizeof detail,
                 "depotd restarted before the station answered %s: the command may have been carried out (see "
                 "GET " API_PREFIX "/events); it is not sent again for this Idempotency-Key",
                 cJSON_IsString(action) ? action->valuestring : "the command");
        cJSON *doc = problem_doc(502, "Bad Gateway", cJSON_IsString(path) ? path->valuestring : "", detail);
        e->done = true;
        e->status = 502;
        e->content_type = "application/problem+json";
        char *text = cJSON_PrintUnformatted(doc);
        e->body = text ? strdup(text) : NULL;
        cJSON_free(text);
        cJSON_Delete(doc);
        e->next = a->idem;
        a->idem = e;
        a->n_idem++;
    } else if (e && memcmp(e->fingerprint, fp, sizeof fp) == 0 && cJSON_IsObject(ans)) {
        char *text = cJSON_PrintUnformatted(ans);
        if (!text) return;
        free(e->body);
        e->body = strdup(text);
        cJSON_free(text);
        e->status = status->valueint;
        e->content_type = status->valueint == 200 ? "application/json" : "application/problem+json";
    } else if (e && !cJSON_IsObject(ans)) {
        /* Refused before it was sent (409): a retry may send it. */
        idem_unlink(a, e);
        idem_free(e);
    }
}

int api_cmd_restore(struct api *a, char *err, size_t err_len)
{
    struct depot *d = a->d;
    if (!d->cfg.database[0]) return 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(d->cfg.database, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "cannot read the Idempotency-Keys from the event log %s: %s", d->cfg.database,
                 db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return -1;
    }
    int64_t now_wall = depot_wall_ms(), now_mono = depot_mono_ms();
    sqlite3_stmt *s = NULL;
    /* Index events_type; only the retention window (keys live API_IDEM_TTL_MS, on the real clock). */
    int rc = sqlite3_prepare_v2(db, STORE_SQL_API_EVENTS_SINCE, -1, &s, NULL);
    if (rc == SQLITE_OK) sqlite3_bind_int64(s, 1, now_wall - API_IDEM_TTL_MS);
    int n = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        const char *data = (const char *)sqlite3_column_text(s, 2);
        if (!data || !strstr(data, "\"idempotency_key\"")) continue;
        cJSON *o = cJSON_Parse(data);
        if (o) restore_event(a, o, sqlite3_column_int64(s, 1), now_wall, now_mono);
        cJSON_Delete(o);
        n++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, err_len, "reading the Idempotency-Keys from the event log: %s", sqlite3_errmsg(db));
        sqlite3_finalize(s);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (a->n_idem) log_info("api", NULL, "%d Idempotency-Keys of commands restored from the event log", a->n_idem);
    return 0;
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
    if ((uintptr_t)ev->user & API_CALL_PASSWORD) {
        api_password_on_answer(d, ev);
        return;
    }
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
    if (c->idem_key[0]) {
        /* What a retry after a restart is answered with (api_cmd_restore). */
        char fpx[65];
        cJSON_AddStringToObject(o, "idempotency_key", c->idem_key);
        hex32(c->fingerprint, fpx);
        cJSON_AddStringToObject(o, "fingerprint", fpx);
        cJSON_AddItemToObject(o, "answer", cJSON_Duplicate(doc, true));
    }
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (json) {
        struct store_event e = {.time_ms = depot_wall_ms(), .type = "api", .station = c->station, .data = json};
        a->last_write_ticket = store_append(d->store, &e);
        cJSON_free(json);
    } else {
        a->last_write_ticket = STORE_TICKET_LOST; /* not recorded: answered as a failure (durable_or_hold) */
    }
    if (c->profile_request && ev->type == OCPP_EV_RESULT) {
        struct station *st = depot_station_find(d, c->station);
        if (st) control_on_operator_profile(d, st, c->action, c->profile_request, ev->payload);
    }
    cJSON_Delete(c->profile_request);
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

/* The body's action and request as the payload to send (remoteStartId chosen when absent), or NULL after
 * answering why not. */
static cJSON *command_payload(struct api *a, struct api_req *r, const cJSON *body)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
        if (strcmp(it->string, "action") && strcmp(it->string, "request")) {
            api_problem(r, 422, it->string, "%s: unknown member (action, request)", it->string);
            return NULL;
        }
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(body, "action");
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(body, "request");
    int k = 0;
    while (cJSON_IsString(action) && commands[k] && strcmp(commands[k], action->valuestring)) k++;
    if (!cJSON_IsString(action) || !commands[k]) {
        char list[600] = "";
        for (int i = 0; commands[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", commands[i]);
        api_problem(r, 422, "action", "action: must be one of %s", list);
        return NULL;
    }
    if (!cJSON_IsObject(request)) {
        api_problem(r, 422, "request", "request: required, the OCPP 2.0.1 %sRequest payload (an object)",
                    action->valuestring);
        return NULL;
    }
    cJSON *payload = cJSON_Duplicate(request, true);
    /* remoteStartId is depotd's to choose when the operator does not care (OCPP 2.0.1 F01). */
    if (strcmp(action->valuestring, "RequestStartTransaction") == 0 &&
        !cJSON_GetObjectItemCaseSensitive(payload, "remoteStartId")) {
        if (!a->remote_start_id) a->remote_start_id = (int)(depot_wall_ms() / 1000 % 1000000000);
        cJSON_AddNumberToObject(payload, "remoteStartId", ++a->remote_start_id);
    }
    char desc[640];
    int refused = command_refused(a, action->valuestring, payload, desc, sizeof desc);
    if (refused) {
        cJSON_Delete(payload);
        api_problem(r, refused, refused == 422 ? "request" : NULL, "%s", desc);
        return NULL;
    }
    if (ocpp_validate(action->valuestring, false, payload, desc, sizeof desc) != OCPP_OK) {
        cJSON_Delete(payload);
        /* The validator says "<json path>: <reason>": name the member inside `request`. */
        char field[48] = "request";
        size_t n = strcspn(desc, ":");
        if (desc[n] == ':' && n > 0 && n < sizeof field - 9 && !memchr(desc, ' ', n))
            snprintf(field, sizeof field, "request.%.*s", (int)n, desc);
        api_problem(r, 422, field, "request.%s (not a valid %sRequest)", desc, action->valuestring);
        return NULL;
    }
    return payload;
}

/* With an Idempotency-Key: the request's fingerprint (the station and the body as parsed, so whitespace does not
 * matter) and a new entry for the key in *out. 0 to go on (*out NULL without a key); -1 answered (a replay, a
 * conflict, no room). */
static int command_idem(struct api *a, struct api_req *r, const struct station *st, const cJSON *body,
                        char key[API_IDEM_KEY_MAX + 1], unsigned char fp[32], struct api_idem **out)
{
    *out = NULL;
    int has_key = idem_key(r, key, API_IDEM_KEY_MAX + 1);
    if (has_key <= 0) return has_key;
    char *canon = cJSON_PrintUnformatted(body);
    size_t n = strlen(st->id) + 1 + (canon ? strlen(canon) : 0);
    char *text = malloc(n + 1);
    if (!text) {
        cJSON_free(canon);
        api_problem(r, 500, NULL, "out of memory");
        return -1;
    }
    snprintf(text, n + 1, "%s\n%s", st->id, canon ? canon : "");
    SHA256((const unsigned char *)text, n, fp);
    free(text);
    cJSON_free(canon);
    struct api_idem *idem = idem_find(a, r->token->name, key);
    if (idem && memcmp(idem->fingerprint, fp, 32) != 0) {
        api_problem(r, 422, "Idempotency-Key", "Idempotency-Key: \"%s\" was used for a different request", key);
        return -1;
    }
    if (idem && !idem->done) {
        r->retry_after_s = 1;
        api_problem(r, 409, "Idempotency-Key", "Idempotency-Key: the request \"%s\" is still waiting for the station",
                    key);
        return -1;
    }
    if (idem) {
        r->replayed = true;
        api_reply_text(r, idem->status, idem->content_type, idem->body ? idem->body : "",
                       idem->body ? strlen(idem->body) : 0);
        return -1;
    }
    if (!idem_make_room(a)) {
        r->retry_after_s = 5;
        api_problem(r, 503, NULL, "too many commands waiting for stations; retry shortly");
        return -1;
    }
    if (!(idem = calloc(1, sizeof *idem))) {
        api_problem(r, 500, NULL, "out of memory");
        return -1;
    }
    snprintf(idem->key, sizeof idem->key, "%s", key);
    snprintf(idem->token, sizeof idem->token, "%s", r->token->name);
    memcpy(idem->fingerprint, fp, 32);
    idem->created_mono = depot_mono_ms();
    *out = idem;
    return 0;
}

void api_post_command(struct api *a, struct api_req *r, const cJSON *body)
{
    struct station *st = depot_station_find(a->d, r->params[0]);
    if (!st) {
        api_problem(r, 404, "station_id", "station_id: no station \"%s\" is known", r->params[0]);
        return;
    }
    cJSON *payload = command_payload(a, r, body);
    if (!payload) return;
    char key[API_IDEM_KEY_MAX + 1] = "";
    unsigned char fp[32] = {0};
    struct api_idem *idem = NULL;
    struct api_cmd *c = NULL;
    if (command_idem(a, r, st, body, key, fp, &idem)) goto refused;
    if (!st->conn || !st->conn->session) {
        api_problem(r, 409, "station_id", "station_id: station %s is not connected", st->id);
        goto refused;
    }
    if (!(c = calloc(1, sizeof *c))) {
        api_problem(r, 500, NULL, "out of memory");
        goto refused;
    }
    c->number = ++a->next_cmd;
    c->token = r->token;
    snprintf(c->station, sizeof c->station, "%s", st->id);
    snprintf(c->action, sizeof c->action, "%s", cJSON_GetObjectItemCaseSensitive(body, "action")->valuestring);
    snprintf(c->path, sizeof c->path, "%s", r->path);
    snprintf(c->idem_key, sizeof c->idem_key, "%s", key);
    memcpy(c->fingerprint, fp, sizeof fp);
    /* Logged before the CALL, so the "api" event sits right before the ocpp_out frame it caused. With a key,
     * also the fingerprint: after a restart this event alone says the command was sent. */
    cJSON *audit = cJSON_CreateObject();
    cJSON_AddStringToObject(audit, "action", c->action);
    if (key[0]) {
        char fpx[65];
        hex32(fp, fpx);
        cJSON_AddStringToObject(audit, "idempotency_key", key);
        cJSON_AddStringToObject(audit, "fingerprint", fpx);
    }
    api_log_write(a, r, 202, audit);
    char err[256];
    if (depot_call_user(st->conn, c->action, payload, (void *)(uintptr_t)(API_CALL_TAG | c->number), err, sizeof err)) {
        api_problem(r, 409, NULL, "the command cannot be sent now: %s", err);
        api_log_write(a, r, 409, audit); /* with the key: not sent, a retry after a restart may send it */
        cJSON_Delete(audit);
        goto refused;
    }
    cJSON_Delete(audit);
    if (strstr(c->action, "ChargingProfile") && strncmp(c->action, "Get", 3) != 0)
        c->profile_request = payload; /* control learns it when the station accepts (api_on_answer) */
    else
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
    return;
refused:
    free(c);
    free(idem);
    cJSON_Delete(payload);
}

void api_cmd_free(struct api *a)
{
    while (a->cmds) {
        struct api_cmd *c = a->cmds;
        a->cmds = c->next;
        cJSON_Delete(c->profile_request);
        free(c);
    }
    while (a->idem) {
        struct api_idem *e = a->idem;
        a->idem = e->next;
        idem_free(e);
    }
    a->n_idem = 0;
}
