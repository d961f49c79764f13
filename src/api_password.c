/*
 * api_password.c - POST /api/v1/stations/{id}/password: a new HTTP Basic password for a connected station
 * (OCPP 2.0.1 A01). depotd makes the password (or takes the admin's, 16 to 40 characters), hashes it on the
 * password pool, sends SetVariables SecurityCtrlr.BasicAuthPassword, and only when the station answers Accepted
 * keeps the new hash (a registry event). The old one stays valid until the station connects with the new one,
 * so a station that applies it late is not locked out (not across a restart of depotd: then only the new one).
 * The password itself is never logged: the SetVariables frame and the request's audit event say "(redacted)".
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "log.h"

struct rotation {
    struct pw_job job;          /* first: the pool's job is the rotation */
    struct api *a;
    uint64_t serial;            /* the request waiting */
    uint64_t number;            /* the SetVariables CALL's cookie */
    struct rotation *next;      /* api's list, while the station has not answered */
};

static struct rotation *rotations; /* loop thread; one API per process */
static uint64_t next_rotation;

static void answer(struct api *a, uint64_t serial, int status, const char *field, const char *fmt, const char *arg)
{
    struct api_req *r = api_resume(a, serial);
    if (!r) return;
    if (status == 200) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "Accepted");
        cJSON_AddStringToObject(o, "detail", arg);
        api_reply(r, 200, o);
        return;
    }
    api_problem(r, status, field, fmt, arg);
}

static void hashed(struct depot *d, void *arg)
{
    struct rotation *rot = arg;
    struct api *a = d->api;
    struct station *st = depot_station_find(d, rot->job.station);
    char err[200];
    if (!a || rot->a != a || rot->job.cancelled || !rot->job.ok || !st || !st->conn) {
        if (a && rot->a == a)
            answer(a, rot->serial, 409, "station_id", "station_id: %s went away (or the password could not be "
                   "hashed); nothing changed", rot->job.station);
        OPENSSL_cleanse(rot->job.password, sizeof rot->job.password);
        free(rot);
        return;
    }
    cJSON *req = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(req, "setVariableData");
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "attributeValue", rot->job.password);
    cJSON_AddItemToObject(item, "component", cJSON_CreateObject());
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(item, "component"), "name", "SecurityCtrlr");
    cJSON_AddItemToObject(item, "variable", cJSON_CreateObject());
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(item, "variable"), "name", "BasicAuthPassword");
    cJSON_AddItemToArray(arr, item);
    rot->number = ++next_rotation;
    int rc = depot_call_user(st->conn, "SetVariables", req, (void *)(uintptr_t)(API_CALL_TAG | API_CALL_PASSWORD | rot->number),
                             err, sizeof err);
    cJSON_Delete(req);
    OPENSSL_cleanse(rot->job.password, sizeof rot->job.password);
    if (rc) {
        answer(a, rot->serial, 409, NULL, "the password cannot be sent now: %s", err);
        free(rot);
        return;
    }
    rot->next = rotations;
    rotations = rot;
}

void api_password_on_answer(struct depot *d, const struct ocpp_event *ev)
{
    uint64_t number = (uint64_t)((uintptr_t)ev->user & ~(API_CALL_TAG | API_CALL_PASSWORD));
    struct rotation *rot = NULL;
    for (struct rotation **pp = &rotations; *pp; pp = &(*pp)->next)
        if ((*pp)->number == number) {
            rot = *pp;
            *pp = rot->next;
            break;
        }
    if (!rot) return;
    struct api *a = d->api;
    const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev->payload, "setVariableResult"), 0);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(res, "attributeStatus");
    struct station *st = depot_station_find(d, rot->job.station);
    bool accepted = ev->type == OCPP_EV_RESULT && cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0;
    if (!accepted || !st) {
        if (a == rot->a)
            answer(a, rot->serial, 502, NULL, "the station did not take the new password (%s); the old one stays",
                   ev->type != OCPP_EV_RESULT ? "no answer" : cJSON_IsString(status) ? status->valuestring : "no status");
        free(rot);
        return;
    }
    depot_station_rotate_password(d, st, rot->job.hash);
    if (a == rot->a) answer(a, rot->serial, 200, NULL, NULL, "the new password is in force; the old one until the "
                                                               "station connects with the new one");
    free(rot);
}

void api_post_password(struct api *a, struct api_req *r, const cJSON *body)
{
    struct depot *d = a->d;
    struct station *st = depot_station_find(d, r->params[0]);
    if (!st) {
        api_problem(r, 404, "station_id", "station_id: no station \"%s\" is known", r->params[0]);
        return;
    }
    if (!st->conn || !st->password_hash[0] || st->security_profile > 2) {
        api_problem(r, 409, "station_id", "station_id: %s is %s", st->id,
                    !st->conn ? "not connected" : st->security_profile > 2 ? "security profile 3 (no password)"
                                                                           : "without a password");
        return;
    }
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password"), *it;
    cJSON_ArrayForEach(it, body)
        if (strcmp(it->string, "password") != 0) {
            api_problem(r, 422, it->string, "%s: unknown member (password)", it->string);
            return;
        }
    struct rotation *rot = calloc(1, sizeof *rot);
    if (!rot) {
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    if (pw) {
        size_t n = cJSON_IsString(pw) ? strlen(pw->valuestring) : 0;
        if (n < 16 || n > 40) {
            free(rot);
            api_problem(r, 422, "password", "password: 16 to 40 characters (OCPP A00.FR.205)");
            return;
        }
        snprintf(rot->job.password, sizeof rot->job.password, "%s", pw->valuestring);
    } else {
        /* 24 random bytes: 32 characters of base64 (no '=' at this length). */
        unsigned char raw[24];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            free(rot);
            api_problem(r, 500, NULL, "no randomness for a password");
            return;
        }
        EVP_EncodeBlock((unsigned char *)rot->job.password, raw, sizeof raw);
        OPENSSL_cleanse(raw, sizeof raw);
    }
    rot->job.kind = PW_HASH;
    rot->job.iterations = d->cfg.pbkdf2_iterations;
    snprintf(rot->job.station, sizeof rot->job.station, "%s", st->id);
    rot->a = a;
    api_log_write(a, r, 202, NULL);
    rot->serial = api_wait(a, r);
    depot_pw_submit(d, &rot->job, hashed);
}

void api_password_stop(struct api *a)
{
    for (struct rotation **pp = &rotations; *pp;) {
        struct rotation *rot = *pp;
        if (rot->a == a) {
            *pp = rot->next;
            free(rot);
        } else {
            pp = &rot->next;
        }
    }
}
