/*
 * handshake.c - who may open an OCPP connection: the path and station id, the ocpp2.0.1 subprotocol, the
 * station's security profile (1: Basic auth, over ws:// or wss://; 2: Basic auth over wss:// only; 3: wss:// with
 * a client certificate issued to the station id), auto-registration, the connection limit. A refusal is
 * answered with an HTTP status, logged, and recorded in the event log. Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot.h"
#include "log.h"

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes the station id from the URL path; -1 if malformed. */
static int decode_station_id(const char *in, char *out, size_t out_len)
{
    size_t n = 0;
    for (; *in; in++) {
        int ch = (unsigned char)*in;
        if (ch == '%') {
            int hi = hexval(in[1]), lo = hi >= 0 ? hexval(in[2]) : -1;
            if (lo < 0) return -1;
            ch = hi * 16 + lo;
            in += 2;
        }
        if (ch == '?') break;
        if (n + 1 >= out_len) return -1;
        out[n++] = (char)ch;
    }
    out[n] = 0;
    return 0;
}

static bool offers_ocpp201(const char *header)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", header);
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        if (strcmp(tok, "ocpp2.0.1") == 0) return true;
    return false;
}

/* Refuses a handshake with an HTTP status the station's log can show (401 for credentials, as RFC 7617 and
 * OCPP security profile 1 expect), records why, and closes. */
int depot_refuse(struct depot *d, struct lws *wsi, unsigned int http_status, const char *station, const char *why)
{
    d->counters.refused++;
    if (wsi) lws_return_http_status(wsi, http_status, why);
    log_warn("ocpp", station, "connection refused: %s", why);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "reason", why);
    char *json = cJSON_PrintUnformatted(o);
    depot_log_station_event(d, STORE_EV_REFUSED, station, json);
    cJSON_free(json);
    cJSON_Delete(o);
    return -1;
}

int depot_handshake_filter(struct depot *d, struct lws *wsi, char *station_out, size_t station_len)
{
    char uri[512], proto[256] = "", authz[512] = "", id[CFG_STATION_ID_MAX + 2];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return depot_refuse(d, wsi, 400, NULL, "no request path");
    size_t plen = strlen(d->cfg.ocpp_path);
    if (strncmp(uri, d->cfg.ocpp_path, plen) != 0) return depot_refuse(d, wsi, 404, NULL, "path is not under the OCPP prefix");
    if (decode_station_id(uri + plen, id, sizeof id) || !config_station_id_valid(id))
        return depot_refuse(d, wsi, 400, NULL, "station id is not 1-48 of a-z A-Z 0-9 * - _ = + | @ .");
    if (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 || !offers_ocpp201(proto))
        return depot_refuse(d, wsi, 400, id, "subprotocol ocpp2.0.1 not offered");
    struct station *st = depot_station_find(d, id);
    if (d->n_connected >= (size_t)d->cfg.max_stations && !(st && st->conn))
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
    if (profile == 3) {
        if (depot_tls_check_client(wsi, id, why, sizeof why)) return depot_refuse(d, wsi, 401, id, why);
    } else if (!st) {
        if (!d->cfg.auto_register) return depot_refuse(d, wsi, 401, id, "unknown station");
        if (!has_auth) return depot_refuse(d, wsi, 401, id, "unknown station without credentials");
        char hash[AUTH_HASH_MAX];
        if (auth_hash_password(password, d->cfg.pbkdf2_iterations, hash, sizeof hash))
            return depot_refuse(d, wsi, 500, id, "cannot hash the password");
        st = depot_station_add(d, id, CFG_BOOT_PENDING, hash);
        if (!st) return depot_refuse(d, wsi, 500, id, "out of memory");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "boot", "Pending");
        cJSON_AddStringToObject(o, "password_hash", hash);
        cJSON_AddStringToObject(o, "source", "auto_register");
        char *json = cJSON_PrintUnformatted(o);
        depot_log_station_event(d, STORE_EV_REGISTRY, id, json);
        cJSON_free(json);
        cJSON_Delete(o);
        depot_station_check_password(d, st, password);
        log_info("ocpp", id, "auto-registered as Pending");
    } else if (st->password_hash[0]) {
        if (!has_auth) return depot_refuse(d, wsi, 401, id, "no basic auth credentials");
        if (!depot_station_check_password(d, st, password)) return depot_refuse(d, wsi, 401, id, "wrong password");
    }
    snprintf(station_out, station_len, "%s", id);
    return 0;
}

int depot_handshake_confirm_upgrade(struct depot *d, struct lws *wsi, const void *in)
{
    /* Checked here, before lws picks a protocol: an upgrade offering only subprotocols we lack (ocpp1.6)
     * would otherwise be dropped by lws without an answer or a trace in our log. */
    char proto[256] = "";
    if (in && strcmp((const char *)in, "websocket") == 0 &&
        (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 || !offers_ocpp201(proto))) {
        depot_refuse(d, wsi, 400, NULL, "subprotocol ocpp2.0.1 not offered");
        return 1; /* answered with a status: lws completes the transaction */
    }
    return 0;
}
