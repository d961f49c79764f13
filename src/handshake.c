/*
 * handshake.c - who may open an OCPP connection: the path and station id, the ocpp2.0.1 subprotocol, the
 * station's security profile (1: Basic auth, over ws:// or wss://; 2: Basic auth over wss:// only; 3: wss:// with
 * a client certificate issued to the station id), auto-registration, the connection limit. A refusal is
 * answered with an HTTP status, logged, and recorded in the event log. Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "depot.h"
#include "log.h"

/* A refusal as an event and a log line, folded (doors.h): past a few per station (or address) and reason a minute
 * they are only counted, and the next one logged says how many, so a stranger knocking all night costs neither
 * the disk nor the log. */
static void refusal_event(struct depot *d, const char *station, const char *addr, const char *why)
{
    d->counters.refused++;
    /* Folded by who and by reason, its numbers left out (a back-off's seconds do not make a new reason). */
    char key[200];
    size_t k = (size_t)snprintf(key, sizeof key - 1, "%s|", station ? station : addr ? addr : "");
    for (const char *p = why; *p && k < sizeof key - 1; p++)
        if (*p < '0' || *p > '9') key[k++] = *p;
    key[k < sizeof key ? k : sizeof key - 1] = 0;
    int folded = 0;
    if (!doors_log_refusal(d->doors, key, depot_mono_ms(), &folded)) return;
    if (folded) log_warn("ocpp", station, "connection refused: %s (and %d more refusals since the last logged)", why, folded);
    else log_warn("ocpp", station, "connection refused: %s", why);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "reason", why);
    if (addr && addr[0]) cJSON_AddStringToObject(o, "address", addr);
    if (folded) cJSON_AddNumberToObject(o, "folded", folded);
    char *json = cJSON_PrintUnformatted(o);
    depot_log_station_event(d, STORE_EV_REFUSED, station, json);
    cJSON_free(json);
    cJSON_Delete(o);
}

/* Refuses a handshake with an HTTP status the station's log can show (401 for credentials, as RFC 7617 and
 * OCPP security profile 1 expect), records why, and closes. */
int depot_refuse(struct depot *d, struct lws *wsi, unsigned int http_status, const char *station, const char *why)
{
    char addr[64] = "";
    if (wsi) {
        lws_get_peer_simple(wsi, addr, sizeof addr);
        lws_return_http_status(wsi, http_status, why);
    }
    refusal_event(d, station, addr, why);
    return -1;
}

/* A password to check (or, to register, to hash) on the pool while the connection waits. */
static int defer(struct depot *d, struct lws *wsi, struct door_pass *pass, enum pw_kind kind, const char *id,
                 const char *password, const char *hash)
{
    if (d->n_auth_pending >= (size_t)d->cfg.max_stations)
        return depot_refuse(d, wsi, 503, id, "too many connections waiting for their password check");
    struct pw_job *job = calloc(1, sizeof *job);
    if (!job) return depot_refuse(d, wsi, 503, id, "out of memory");
    job->kind = kind;
    snprintf(job->station, sizeof job->station, "%s", id);
    lws_get_peer_simple(wsi, job->addr, sizeof job->addr);
    snprintf(job->password, sizeof job->password, "%s", password);
    if (hash) snprintf(job->hash, sizeof job->hash, "%s", hash);
    job->iterations = d->cfg.pbkdf2_iterations;
    pass->job = job;
    return 0;
}

/* Profiles 1 and 2: the Basic auth password, decided without hashing where that is possible (a password this
 * station verified or failed with before, a back-off), else handed to the pool. */
static int check_password(struct depot *d, struct lws *wsi, struct station *st, const char *id, bool has_auth,
                          const char *password, struct door_pass *pass)
{
    char addr[64] = "";
    lws_get_peer_simple(wsi, addr, sizeof addr);
    if (!st) {
        if (!d->cfg.auto_register) return depot_refuse(d, wsi, 401, id, "unknown station");
        if (!has_auth) return depot_refuse(d, wsi, 401, id, "unknown station without credentials");
        size_t n = strlen(password);
        /* OCPP 2.0.1 A00.FR.205: 16 to 40 characters. */
        if (n < 16 || n > 40) return depot_refuse(d, wsi, 401, id, "auto-registration needs a password of 16 to 40 characters");
        if (d->n_auto_registered >= (size_t)d->cfg.auto_register_max)
            return depot_refuse(d, wsi, 503, id, "auto_register_max reached: no more stations may register themselves");
        if (depot_auth_registering(d, id)) return depot_refuse(d, wsi, 503, id, "this station id is being registered");
        return defer(d, wsi, pass, PW_HASH, id, password, NULL);
    }
    if (!st->password_hash[0]) return 0; /* unauthenticated_stations */
    if (!has_auth) return depot_refuse(d, wsi, 401, id, "no basic auth credentials");
    switch (depot_station_password_known(d, st, password)) {
    case 1:
        doors_succeeded(d->doors, id, addr);
        return 0;
    case 0:
        doors_failed(d->doors, id, addr, depot_mono_ms());
        return depot_refuse(d, wsi, 401, id, "wrong password");
    default:
        break;
    }
    int64_t wait = doors_wait_ms(d->doors, id, addr, depot_mono_ms());
    if (wait > 0) {
        char why[120];
        snprintf(why, sizeof why, "too many failed logins: try again in %lld s", (long long)(wait + 999) / 1000);
        return depot_refuse(d, wsi, 401, id, why);
    }
    if (defer(d, wsi, pass, PW_VERIFY, id, password, st->password_hash)) return -1;
    snprintf(pass->job->hash2, sizeof pass->job->hash2, "%s", st->previous_hash);
    return 0;
}

int depot_handshake_filter(struct depot *d, struct lws *wsi, struct door_pass *pass)
{
    char uri[512], proto[256] = "", authz[512] = "", id[CFG_STATION_ID_MAX + 2];
    pass->job = NULL;
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return depot_refuse(d, wsi, 400, NULL, "no request path");
    size_t plen = strlen(d->cfg.ocpp_path);
    if (strncmp(uri, d->cfg.ocpp_path, plen) != 0) return depot_refuse(d, wsi, 404, NULL, "path is not under the OCPP prefix");
    if (auth_station_from_path(uri + plen, id, sizeof id) || !config_station_id_valid(id))
        return depot_refuse(d, wsi, 400, NULL, "station id is not 1-48 of a-z A-Z 0-9 * - _ = + | @ .");
    if (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 || !auth_offers_subprotocol(proto, "ocpp2.0.1"))
        return depot_refuse(d, wsi, 400, id, "subprotocol ocpp2.0.1 not offered");
    struct station *st = depot_station_find(d, id);
    if (d->n_connected + d->n_auth_pending >= (size_t)d->cfg.max_stations && !(st && st->conn))
        return depot_refuse(d, wsi, 503, id, "max_stations reached");
    char user[128], password[128];
    bool has_auth = lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
                    auth_parse_basic(authz, user, sizeof user, password, sizeof password) == 0;
    if (has_auth && strcmp(user, id) != 0) return depot_refuse(d, wsi, 401, id, "basic auth user is not the station id");
    /* Checked before any password work: no downgrade to plain ws, and profile 3 is its certificate. */
    int profile = st ? st->security_profile : config_station_profile(&d->cfg, NULL);
    char why[200];
    if (profile >= 2 && !lws_is_ssl(wsi)) {
        snprintf(why, sizeof why, "security profile %d: plain ws:// refused, connect with wss://", profile);
        return depot_refuse(d, wsi, 403, id, why);
    }
    snprintf(pass->station, sizeof pass->station, "%s", id);
    if (profile == 3) return depot_tls_check_client(wsi, id, why, sizeof why) ? depot_refuse(d, wsi, 401, id, why) : 0;
    int rc = check_password(d, wsi, st, id, has_auth, has_auth ? password : "", pass);
    OPENSSL_cleanse(password, sizeof password);
    OPENSSL_cleanse(authz, sizeof authz);
    return rc;
}

/* ---- the pool's verdicts ----------------------------------------------------------------------------- */

bool depot_auth_registering(const struct depot *d, const char *id)
{
    for (const struct pw_job *j = d->auth_jobs; j; j = j->lnext)
        if (j->kind == PW_HASH && strcmp(j->station, id) == 0) return true;
    return false;
}

static void unlink_job(struct depot *d, struct pw_job *job)
{
    if (job->lprev) job->lprev->lnext = job->lnext;
    else d->auth_jobs = job->lnext;
    if (job->lnext) job->lnext->lprev = job->lprev;
    job->lprev = job->lnext = NULL;
}

void depot_auth_forget(struct depot *d, struct conn *c)
{
    c->auth_job->conn = NULL;
    c->auth_job = NULL;
    d->n_auth_pending--;
}

static struct station *register_station(struct depot *d, const struct pw_job *job)
{
    struct station *st = depot_station_add(d, job->station, CFG_BOOT_PENDING, job->hash);
    if (!st) return NULL;
    d->n_auto_registered++;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "boot", "Pending");
    cJSON_AddStringToObject(o, "password_hash", job->hash);
    cJSON_AddStringToObject(o, "source", "auto_register");
    char *json = cJSON_PrintUnformatted(o);
    depot_log_station_event(d, STORE_EV_REGISTRY, job->station, json);
    cJSON_free(json);
    cJSON_Delete(o);
    log_info("ocpp", job->station, "auto-registered as Pending");
    return st;
}

/* The verdict, on the loop: let the connection in, or close it (1008) and count the failure. */
static void settle(struct depot *d, struct conn *c, struct pw_job *job)
{
    struct station *st = depot_station_find(d, job->station);
    const char *why = NULL;
    if (job->kind == PW_HASH) {
        if (!job->ok) why = "cannot hash the password";
        else if (st) why = "registered by another connection meanwhile: connect again";
        else if (!(st = register_station(d, job))) why = "out of memory";
    } else if (!st || strcmp(st->password_hash, job->hash) != 0) {
        why = "the station's password changed while it was checked: connect again";
    } else if (job->used_previous) {
        /* The password before an A01 rotation: let in, not remembered (the new one is the one to verify). */
    } else {
        depot_station_password_checked(d, st, job->password, job->ok);
        if (job->ok) st->previous_hash[0] = 0; /* it has the new one: the old one is done */
        if (!job->ok) {
            doors_failed(d->doors, job->station, job->addr, depot_mono_ms());
            why = "wrong password";
        }
    }
    if (why) {
        refusal_event(d, job->station, job->addr, why);
        depot_conn_close(c, why);
        return;
    }
    if (job->kind == PW_HASH) depot_station_password_checked(d, st, job->password, true);
    doors_succeeded(d->doors, job->station, job->addr);
    lws_rx_flow_control(c->wsi, 1);
    depot_conn_attach(c, st);
}

static void auth_done(struct depot *d, void *arg)
{
    struct pw_job *job = arg;
    unlink_job(d, job);
    struct conn *c = job->conn;
    if (c) {
        c->auth_job = NULL;
        d->n_auth_pending--;
        if (job->cancelled) depot_conn_close(c, "depotd is stopping");
        else if (c->wsi) settle(d, c, job);
    }
    OPENSSL_cleanse(job->password, sizeof job->password);
    free(job);
}

void depot_auth_submit(struct depot *d, struct conn *c, struct pw_job *job)
{
    job->conn = c;
    c->auth_job = job;
    d->n_auth_pending++;
    job->lprev = NULL;
    job->lnext = d->auth_jobs;
    if (d->auth_jobs) d->auth_jobs->lprev = job;
    d->auth_jobs = job;
    depot_pw_submit(d, job, auth_done);
}

int depot_handshake_confirm_upgrade(struct depot *d, struct lws *wsi, const void *in)
{
    /* Checked here, before lws picks a protocol: an upgrade offering only subprotocols we lack (ocpp1.6)
     * would otherwise be dropped by lws without an answer or a trace in our log. */
    char proto[256] = "";
    if (in && strcmp((const char *)in, "websocket") == 0 &&
        (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 || !auth_offers_subprotocol(proto, "ocpp2.0.1"))) {
        depot_refuse(d, wsi, 400, NULL, "subprotocol ocpp2.0.1 not offered");
        return 1; /* answered with a status: lws completes the transaction */
    }
    return 0;
}
