#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum key_type { KEY_INT, KEY_BOOL, KEY_STRING, KEY_OBJECT, KEY_ARRAY };

struct key {
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size;              /* KEY_STRING: buffer size */
    const char *def;          /* default, as text */
    long min, max;            /* KEY_INT bounds */
    const char *choices;      /* KEY_STRING: "|"-separated allowed values, or NULL */
    const char *doc;
};

#define INT_KEY(n, d, lo, hi, doc) {#n, KEY_INT, offsetof(struct config, n), 0, d, lo, hi, NULL, doc}
#define BOOL_KEY(n, d, doc) {#n, KEY_BOOL, offsetof(struct config, n), 0, d, 0, 1, NULL, doc}
/* An object handed as JSON to the module that owns it (tariffs, ...), which validates it and names its keys. */
#define OBJ_KEY(n, doc) {#n, KEY_OBJECT, offsetof(struct config, n), 0, "null", 0, 0, NULL, doc}
/* The same for an array (api_tokens: validated by api.c). */
#define ARR_KEY(n, doc) {#n, KEY_ARRAY, offsetof(struct config, n), 0, "null", 0, 0, NULL, doc}
#define STR_KEY(n, d, ch, doc)                                                                                \
    {#n, KEY_STRING, offsetof(struct config, n), sizeof(((struct config *)0)->n), d, 0, 0, ch, doc}

/* The table: every scalar key of the config file. */
static const struct key keys[] = {
    STR_KEY(listen_address, "0.0.0.0", NULL, "Address the OCPP websocket server listens on."),
    INT_KEY(port, "8180", 0, 65535, "TCP port of the OCPP websocket server (0: a free port, printed in the log)."),
    INT_KEY(tls_port, "8443", 0, 65535,
            "TCP port of the TLS (wss://) OCPP listener on listen_address, security profiles 2 and 3; open when "
            "tls_cert_file is set (0: a free port, printed in the log)."),
    STR_KEY(tls_cert_file, "", NULL,
            "PEM file of depotd's TLS certificate chain (its own certificate first); with tls_key_file it opens the "
            "TLS listener. Reloaded on SIGHUP without dropping connections."),
    STR_KEY(tls_key_file, "", NULL, "PEM file of the private key of tls_cert_file."),
    STR_KEY(tls_ca_file, "", NULL,
            "PEM file of the CA certificates a station's client certificate must chain to (security profile 3, "
            "whose certificate's subject CN must be the station id). Reloaded on SIGHUP."),
    STR_KEY(tls_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                         "ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384", NULL,
            "TLS 1.2 cipher suites (OpenSSL names): by default the four the OCPP 2.0.1 security whitepaper requires "
            "of a CSMS, plus their ECDHE-RSA forms. TLS 1.0 and 1.1 are never offered; TLS 1.3 uses OpenSSL's "
            "AEAD suites."),
    STR_KEY(station_ca_cert_file, "", NULL,
            "PEM certificate of the depot CA that signs a station's certificate when it asks (SignCertificate, OCPP "
            "A02/A03; only for its own station id). Usually the CA in tls_ca_file. Read at each request."),
    STR_KEY(station_ca_key_file, "", NULL, "PEM private key of station_ca_cert_file (keep it owner-only)."),
    INT_KEY(station_cert_days, "365", 1, 3650, "Validity of a station certificate the depot CA signs, in days."),
    STR_KEY(ocpp_path, "/ocpp/", NULL,
            "Path prefix of the OCPP endpoint; stations connect to ws://HOST:PORT<ocpp_path><stationId>."),
    STR_KEY(database, "depotd.db", NULL, "SQLite database file (the event log and its projections)."),
    STR_KEY(log_level, "info", "error|warn|info|debug", "Least severe level written to stderr."),
    INT_KEY(heartbeat_interval_s, "300", 10, 86400,
            "Heartbeat interval given to Accepted stations in BootNotificationResponse."),
    INT_KEY(pending_retry_interval_s, "60", 5, 86400,
            "Interval after which a Pending or Rejected station may send BootNotification again."),
    INT_KEY(call_timeout_s, "30", 1, 600, "How long depotd waits for a station's answer to its CALL."),
    INT_KEY(clock_skew_tolerance_s, "300", 0, 3600,
            "How far a station's clock may be from depotd's (planning clock) and its profiles still hold: each starts "
            "this much in the past, and until a station's offset is measured from its message timestamps its "
            "limits change this much early (lower) or late (higher). An offset beyond it is a warning (event "
            "clock_offset); within it, profiles are sent in the station's own time."),
    INT_KEY(max_frame_bytes, "65536", 1024, 16777216,
            "Largest websocket message accepted from a station; larger ones get a CALLERROR and are dropped."),
    INT_KEY(max_stations, "2000", 1, 100000, "Most stations connected at once; more are refused at handshake."),
    INT_KEY(max_queued_calls, "64", 1, 4096, "CALLs to one station that may wait behind the one in flight."),
    INT_KEY(max_messages_per_s, "20", 1, 100000,
            "A station is read at most this many messages per second on average (bursts of 10 seconds' worth; per "
            "simulated second with a clock); "
            "beyond it depotd stops reading it until it may go on (its frames wait in TCP, nothing is lost), and "
            "counts and logs it (event throttled)."),
    INT_KEY(max_unanswered, "64", 4, 100000,
            "CALLs of one station depotd has not answered yet (waiting for disk or for the station to read) before "
            "it stops reading that station: what depotd holds for a station that sends without reading is bounded."),
    INT_KEY(keep_frames_days, "90", 0, 36500,
            "Frames the event log can do without (Heartbeat, MeterValues and periodic TransactionEvent frames, "
            "NotifyEvent, DataTransfer...: as disk_min_free_mb) are deleted once older than this (days); boots, "
            "sessions' starts and ends, status, commands, plans, prices and API writes are kept for ever, and so are "
            "the meter values the deleted frames put in the projections. 0: keep every frame."),
    INT_KEY(disk_warn_free_mb, "1024", 0, 1000000000,
            "Below this much free space (MiB) on the database's file system depotd warns (log, /metrics, /readyz "
            "detail); 0: never."),
    INT_KEY(disk_min_free_mb, "256", 0, 1000000000,
            "Below this much free space (MiB) the event log stops taking what it can do without (Heartbeat, "
            "MeterValues and periodic TransactionEvent frames, NotifyEvent, DataTransfer...; counted in "
            "/metrics) until it is back a quarter above, so boots, sessions, plans and API writes still find room; "
            "0: never."),
    BOOL_KEY(auto_register, "false",
             "Unknown stations may connect and are registered as Pending (their first password is kept)."),
    INT_KEY(auto_register_max, "100", 0, 100000,
            "Most stations that may register themselves (auto_register); more are refused (503). Each must give a "
            "password of 16 to 40 characters."),
    BOOL_KEY(unauthenticated_stations, "false",
             "Stations of profile 1 or 2 without a password_hash may connect with no authentication. For labs and "
             "tests on loopback only: without it such a station is a config error, and depotd refuses it on an "
             "address that is not loopback."),
    INT_KEY(password_threads, "0", 0, 16,
            "Threads that check passwords (PBKDF2, ~10 ms each), so the loop serving the stations never waits for "
            "one; a connection waits, unread, while its password is checked. 0: one per CPU. They run at a lower "
            "priority (nice 10) than the loop, so a reconnect storm uses the idle CPU, not the stations' share."),
    STR_KEY(unknown_id_token, "Invalid", "Invalid|Accepted",
            "How Authorize and TransactionEvent answer an id token neither in id_tokens nor of a registered vehicle."),
    BOOL_KEY(read_capabilities, "true",
             "After a station is Accepted, read its SmartChargingCtrlr variables with GetVariables."),
    STR_KEY(timezone, "UTC", NULL,
            "The depot's IANA time zone (e.g. Europe/Brussels): local tariffs, grid-fee bands, hour-of-week forecasts."),
    OBJ_KEY(tariff, "Prices: {\"provider\": {...}, \"fallback\": {...}, \"breaker\": {...}, \"schedule\": {...}}, "
                    "as in the files of examples/tariffs/ (one per provider type). null: a fixed 0.30 per kWh."),
    OBJ_KEY(site_load, "The building's load on the same connection (kW per interval; PV below 0): {\"provider\": {...}, "
                       "\"fallback\": {...}, \"breaker\", \"schedule\", \"margin_kw\", \"persist_min\", \"pv\": {...}, \"battery\": {...}} as "
                       "for tariff, the values in kW. "
                       "Charging is planned under site_limit_kw less it. null: no building load (see README)."),
    OBJ_KEY(control, "Smart charging: {\"site_limit_kw\", \"failsafe\", \"slot_minutes\", \"horizon_h\", \"vehicles\", "
                     "\"needs\", ...}; every key is listed under \"control\" below. null: depotd records but does not "
                     "control charging."),
    OBJ_KEY(clock, "A simulated planning clock for tests and demos: {\"start\": RFC 3339, \"speed\": x, "
                   "\"anchor_unix_ms\": wall-clock ms at which the simulated clock reads start}. null: the wall clock."),
    INT_KEY(price_horizon_h, "48", 1, 240, "How far ahead prices are fetched and kept, in hours."),
    INT_KEY(pbkdf2_iterations, "20000", 1000, 10000000,
            "PBKDF2-SHA256 iterations used by `depotd --hash-password` (each hash carries its own count)."),
    INT_KEY(api_port, "-1", -1, 65535,
            "TCP port of the JSON API, /metrics, /healthz and /readyz on api_listen_address (0: a free port, printed in "
            "the log; -1: no API). See examples/api.md."),
    STR_KEY(api_listen_address, "127.0.0.1", NULL,
            "Address the JSON API listens on. Loopback by default: open it to the depot network only with "
            "api_tls_cert_file, and never with the examples' demo tokens (depotd refuses to start then)."),
    STR_KEY(api_tls_cert_file, "", NULL,
            "PEM certificate chain for https:// on api_port (TLS 1.2+ and tls_ciphers, as the OCPP listener); "
            "reloaded on SIGHUP. Empty: plain http."),
    STR_KEY(api_tls_key_file, "", NULL, "PEM file of the private key of api_tls_cert_file."),
    INT_KEY(api_max_body_bytes, "65536", 256, 16777216, "Largest API request body; larger ones are answered 413."),
    ARR_KEY(api_tokens, "API bearer tokens: `{\"name\", \"token_hash\": \"sha256$<hex>\", \"role\", \"fleet\"}` with "
                        "role viewer, dispatcher or admin and an optional fleet scope; examples/api.md shows how to make "
                        "one. null: only /healthz and /readyz answer."),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static int set_from_text(struct config *cfg, const struct key *k, const char *text, char *err, size_t err_len)
{
    char *field = (char *)cfg + k->offset;
    switch (k->type) {
    case KEY_INT: {
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        if (errno || *end || end == text) {
            snprintf(err, err_len, "%s: not an integer", k->name);
            return -1;
        }
        if (v < k->min || v > k->max) {
            snprintf(err, err_len, "%s: %ld is out of range [%ld, %ld]", k->name, v, k->min, k->max);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    case KEY_BOOL:
        *(bool *)field = strcmp(text, "true") == 0;
        return 0;
    case KEY_OBJECT:
    case KEY_ARRAY:
        return 0; /* set by config_parse directly */
    case KEY_STRING:
        if (strlen(text) >= k->size) {
            snprintf(err, err_len, "%s: longer than %zu characters", k->name, k->size - 1);
            return -1;
        }
        if (k->choices) {
            size_t n = strlen(text);
            const char *c = k->choices;
            bool ok = false;
            while (*c && !ok) {
                const char *bar = strchr(c, '|');
                size_t len = bar ? (size_t)(bar - c) : strlen(c);
                ok = len == n && strncmp(c, text, n) == 0;
                c += len + (bar ? 1 : 0);
            }
            if (!ok) {
                snprintf(err, err_len, "%s: \"%s\" is not one of %s", k->name, text, k->choices);
                return -1;
            }
        }
        strcpy(field, text);
        return 0;
    }
    return -1;
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char err[128];
    for (size_t i = 0; i < N_KEYS; i++) set_from_text(cfg, &keys[i], keys[i].def, err, sizeof err);
}


static int parse_boot(const char *s, enum cfg_boot *out)
{
    if (strcmp(s, "Accepted") == 0) *out = CFG_BOOT_ACCEPTED;
    else if (strcmp(s, "Pending") == 0) *out = CFG_BOOT_PENDING;
    else if (strcmp(s, "Rejected") == 0) *out = CFG_BOOT_REJECTED;
    else return -1;
    return 0;
}

const char *cfg_boot_name(enum cfg_boot boot)
{
    return boot == CFG_BOOT_ACCEPTED ? "Accepted" : boot == CFG_BOOT_PENDING ? "Pending" : "Rejected";
}

/* OCPP 2.0.1 identifierString, less ':' (it would break HTTP Basic auth, where the id is the user name). */
bool config_station_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > CFG_STATION_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=+|@.", id[i])) return false;
    return true;
}

static int copy_str(char *dst, size_t size, const cJSON *item, const char *path, char *err, size_t err_len)
{
    if (!cJSON_IsString(item)) {
        snprintf(err, err_len, "%s: must be a string", path);
        return -1;
    }
    if (strlen(item->valuestring) >= size) {
        snprintf(err, err_len, "%s: longer than %zu characters", path, size - 1);
        return -1;
    }
    strcpy(dst, item->valuestring);
    return 0;
}

static int parse_stations(struct config *cfg, const cJSON *arr, char *err, size_t err_len)
{
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_len, "stations: must be an array");
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    free(cfg->stations); /* a key given twice: the last one counts */
    cfg->n_stations = 0;
    cfg->stations = calloc(n ? n : 1, sizeof *cfg->stations);
    if (!cfg->stations) return -1;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        struct cfg_station *st = &cfg->stations[i];
        char path[64];
        snprintf(path, sizeof path, "stations[%zu].id", i);
        if (copy_str(st->id, sizeof st->id, cJSON_GetObjectItemCaseSensitive(it, "id"), path, err, err_len))
            return -1;
        if (!config_station_id_valid(st->id)) {
            snprintf(err, err_len, "%s: \"%s\" is not a valid station id (1-48 of a-z A-Z 0-9 * - _ = + | @ .)",
                     path, st->id);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->stations[j].id, st->id) == 0) {
                snprintf(err, err_len, "%s: duplicate station id \"%s\"", path, st->id);
                return -1;
            }
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(it, "password_hash");
        if (ph) {
            snprintf(path, sizeof path, "stations[%zu].password_hash", i);
            if (copy_str(st->password_hash, sizeof st->password_hash, ph, path, err, err_len)) return -1;
            if (strncmp(st->password_hash, "pbkdf2-sha256$", 14) != 0) {
                snprintf(err, err_len, "%s: must be made by `depotd --hash-password` (pbkdf2-sha256$...)", path);
                return -1;
            }
        }
        const cJSON *prof = cJSON_GetObjectItemCaseSensitive(it, "security_profile");
        if (prof && (!cJSON_IsNumber(prof) || (prof->valueint != 1 && prof->valueint != 2 && prof->valueint != 3) ||
                     prof->valuedouble != prof->valueint)) {
            snprintf(err, err_len, "stations[%zu].security_profile: must be 1, 2 or 3", i);
            return -1;
        }
        st->security_profile = prof ? prof->valueint : 0;
        const cJSON *boot = cJSON_GetObjectItemCaseSensitive(it, "boot");
        st->boot = CFG_BOOT_ACCEPTED;
        if (boot && (!cJSON_IsString(boot) || parse_boot(boot->valuestring, &st->boot))) {
            snprintf(err, err_len, "stations[%zu].boot: must be \"Accepted\", \"Pending\" or \"Rejected\"", i);
            return -1;
        }
        i++;
    }
    cfg->n_stations = n;
    return 0;
}

/* OCPP 2.0.1 IdTokenEnumType, as the official schema lists it. */
static bool id_token_type_valid(const char *type)
{
    static const char *const types[] = {"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
                                        "NoAuthorization"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i], type) == 0) return true;
    return false;
}

/* id_tokens[i].group and .group_type: an IdTokenType sent back as idTokenInfo.groupIdToken, so a station may let
 * another token of the same group stop the transaction (C09). Answers are validated against the official schema
 * on the way out: what that schema would refuse is refused here, at start, naming the key. */
static int parse_token_group(struct cfg_id_token *t, const cJSON *it, size_t i, char *err, size_t err_len)
{
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(it, "group");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "group_type");
    if (!group) {
        if (!type) return 0;
        snprintf(err, err_len, "id_tokens[%zu].group_type: given without id_tokens[%zu].group", i, i);
        return -1;
    }
    if (!cJSON_IsString(group) || !group->valuestring[0] || strlen(group->valuestring) >= sizeof t->group) {
        snprintf(err, err_len, "id_tokens[%zu].group: a string of 1 to %zu characters (an OCPP idToken)", i,
                 sizeof t->group - 1);
        return -1;
    }
    snprintf(t->group, sizeof t->group, "%s", group->valuestring);
    snprintf(t->group_type, sizeof t->group_type, "Central");
    if (!type) return 0;
    if (!cJSON_IsString(type) || !id_token_type_valid(type->valuestring)) {
        snprintf(err, err_len, "id_tokens[%zu].group_type: must be one of Central, eMAID, ISO14443, ISO15693, KeyCode, "
                 "Local, MacAddress, NoAuthorization", i);
        return -1;
    }
    snprintf(t->group_type, sizeof t->group_type, "%s", type->valuestring);
    return 0;
}

static int parse_tokens(struct config *cfg, const cJSON *arr, char *err, size_t err_len)
{
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_len, "id_tokens: must be an array");
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    free(cfg->id_tokens); /* a key given twice: the last one counts, as for every other key */
    cfg->n_id_tokens = 0;
    cfg->id_tokens = calloc(n ? n : 1, sizeof *cfg->id_tokens);
    if (!cfg->id_tokens) return -1;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        struct cfg_id_token *t = &cfg->id_tokens[i];
        char path[64];
        snprintf(path, sizeof path, "id_tokens[%zu].id_token", i);
        if (copy_str(t->id_token, sizeof t->id_token, cJSON_GetObjectItemCaseSensitive(it, "id_token"), path, err,
                     err_len))
            return -1;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
        snprintf(path, sizeof path, "id_tokens[%zu].type", i);
        if (type && copy_str(t->type, sizeof t->type, type, path, err, err_len)) return -1;
        const cJSON *veh = cJSON_GetObjectItemCaseSensitive(it, "vehicle");
        snprintf(path, sizeof path, "id_tokens[%zu].vehicle", i);
        if (veh && copy_str(t->vehicle, sizeof t->vehicle, veh, path, err, err_len)) return -1;
        /* A token listed here answers with its status whatever else knows it (a Blocked card of a registered
         * vehicle stays Blocked). */
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(it, "status");
        snprintf(path, sizeof path, "id_tokens[%zu].status", i);
        snprintf(t->status, sizeof t->status, "Accepted");
        if (status && copy_str(t->status, sizeof t->status, status, path, err, err_len)) return -1;
        if (strcmp(t->status, "Accepted") && strcmp(t->status, "Blocked") && strcmp(t->status, "Expired") &&
            strcmp(t->status, "Invalid")) {
            snprintf(err, err_len, "%s: must be Accepted, Blocked, Expired or Invalid", path);
            return -1;
        }
        if (parse_token_group(t, it, i, err, err_len)) return -1;
        i++;
    }
    cfg->n_id_tokens = n;
    return 0;
}

int config_parse(struct config *cfg, const char *json, char *err, size_t err_len)
{
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        snprintf(err, err_len, "not valid JSON near: %.30s", at ? at : "?");
        return -1;
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        snprintf(err, err_len, "the config must be a JSON object");
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        const char *name = item->string;
        if (strcmp(name, "stations") == 0) {
            if (parse_stations(cfg, item, err, err_len)) goto out;
            continue;
        }
        if (strcmp(name, "id_tokens") == 0) {
            if (parse_tokens(cfg, item, err, err_len)) goto out;
            continue;
        }
        if (name[0] == '_') continue; /* "_comment" and the like */
        const struct key *k = NULL;
        for (size_t i = 0; i < N_KEYS && !k; i++)
            if (strcmp(keys[i].name, name) == 0) k = &keys[i];
        if (!k) {
            snprintf(err, err_len, "%s: unknown key (see `depotd --config-doc`)", name);
            goto out;
        }
        char text[600];
        if (k->type == KEY_OBJECT || k->type == KEY_ARRAY) {
            if (k->type == KEY_OBJECT ? !cJSON_IsObject(item) && !cJSON_IsNull(item)
                                      : !cJSON_IsArray(item) && !cJSON_IsNull(item)) {
                snprintf(err, err_len, "%s: must be an %s or null", name, k->type == KEY_OBJECT ? "object" : "array");
                goto out;
            }
            cJSON **slot = (cJSON **)((char *)cfg + k->offset);
            cJSON_Delete(*slot);
            *slot = cJSON_IsNull(item) ? NULL : cJSON_Duplicate(item, true);
            continue;
        }
        if (k->type == KEY_INT) {
            /* Range first: casting a double beyond long to long is undefined. */
            if (!cJSON_IsNumber(item) || !(fabs(item->valuedouble) < 1e15) ||
                item->valuedouble != (double)(long)item->valuedouble) {
                snprintf(err, err_len, "%s: must be an integer", name);
                goto out;
            }
            snprintf(text, sizeof text, "%ld", (long)item->valuedouble);
        } else if (k->type == KEY_BOOL) {
            if (!cJSON_IsBool(item)) {
                snprintf(err, err_len, "%s: must be true or false", name);
                goto out;
            }
            snprintf(text, sizeof text, "%s", cJSON_IsTrue(item) ? "true" : "false");
        } else {
            if (!cJSON_IsString(item)) {
                snprintf(err, err_len, "%s: must be a string", name);
                goto out;
            }
            snprintf(text, sizeof text, "%s", item->valuestring);
        }
        if (set_from_text(cfg, k, text, err, err_len)) goto out;
    }
    if (cfg->ocpp_path[0] != '/' || cfg->ocpp_path[strlen(cfg->ocpp_path) - 1] != '/') {
        snprintf(err, err_len, "ocpp_path: must start and end with '/'");
        goto out;
    }
    if (config_check(cfg, err, err_len)) goto out;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int config_load(struct config *cfg, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, err_len, "%s: out of memory", path);
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, 4096, f);
        len += r;
        if (r < 4096) break;
    }
    fclose(f);
    buf[len] = 0;
    char inner[400];
    int rc = config_parse(cfg, buf, inner, sizeof inner);
    if (rc) snprintf(err, err_len, "%s: %s", path, inner);
    free(buf);
    return rc;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].type == KEY_OBJECT || keys[i].type == KEY_ARRAY) {
            cJSON **slot = (cJSON **)((char *)cfg + keys[i].offset);
            cJSON_Delete(*slot);
            *slot = NULL;
        }
    free(cfg->stations);
    free(cfg->id_tokens);
    cfg->stations = NULL;
    cfg->id_tokens = NULL;
    cfg->n_stations = cfg->n_id_tokens = 0;
}

const struct cfg_station *config_find_station(const struct config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->n_stations; i++)
        if (strcmp(cfg->stations[i].id, id) == 0) return &cfg->stations[i];
    return NULL;
}

void config_print_doc(void)
{
    printf("| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key *k = &keys[i];
        char allowed[64] = "";
        if (k->type == KEY_INT) snprintf(allowed, sizeof allowed, "%ld .. %ld", k->min, k->max);
        else if (k->type == KEY_BOOL) snprintf(allowed, sizeof allowed, "true, false");
        else if (k->choices) {
            /* "|" would split the Markdown table cell. */
            snprintf(allowed, sizeof allowed, "%s", k->choices);
            for (char *p = allowed; *p; p++)
                if (*p == '|') *p = ',';
        }
        printf("| `%s` | %s | `%s` | %s | %s |\n", k->name,
               k->type == KEY_INT ? "integer" : k->type == KEY_BOOL ? "boolean" : k->type == KEY_OBJECT ? "object"
               : k->type == KEY_ARRAY ? "array" : "string",
               k->def, allowed, k->doc);
    }
    printf("| `stations` | array | `[]` | | Known stations: `{\"id\", \"password_hash\", \"boot\": "
           "\"Accepted\"\\|\"Pending\"\\|\"Rejected\", \"security_profile\": 1\\|2\\|3}`. `password_hash` comes from "
           "`depotd --hash-password`; `security_profile` defaults to 2 with a TLS listener, else 1 (see README, "
           "Security). |\n");
    printf("| `id_tokens` | array | `[]` | | Known id tokens: `{\"id_token\", \"type\", \"vehicle\", \"status\", "
           "\"group\", \"group_type\"}`, answered with `status` (Accepted, the default, Blocked, Expired or Invalid) "
           "before anything else; then a token of a vehicle in the registry (`control.vehicles`, the API's vehicles) "
           "is Accepted; any other as `unknown_id_token` says. `group` (an idToken of 1 to 36 characters; "
           "`group_type` an IdTokenEnumType, default Central) is answered as `idTokenInfo.groupIdToken`, before "
           "the group of the token's vehicle (`group_id_token`). |\n");
}
