/*
 * config.h - depotd's configuration: one JSON file, one declarative table of keys.
 *
 * Every scalar key has one entry in the table in config.c: name, type, default, bounds and documentation, so
 * defaults, validation and `depotd --config-doc` come from one place. Errors name the key.
 * Owned by the main thread; read-only once the loop runs.
 */
#ifndef DEPOTD_CONFIG_H
#define DEPOTD_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define CFG_STATION_ID_MAX 48

enum cfg_boot { CFG_BOOT_ACCEPTED, CFG_BOOT_PENDING, CFG_BOOT_REJECTED };

struct cfg_station {
    char id[CFG_STATION_ID_MAX + 1];
    char password_hash[160];   /* "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>"; empty: no password */
    enum cfg_boot boot;        /* how its BootNotification is answered */
    int security_profile;      /* OCPP security profile 1, 2 or 3; 0: the default (2 with TLS, else 1) */
};

struct cfg_id_token {
    char id_token[37];
    char type[21];             /* IdTokenEnumType, e.g. "ISO14443"; empty matches any type */
    char vehicle[49];          /* vehicle this token belongs to (may be empty) */
    char status[16];           /* how Authorize answers it: Accepted (default), Blocked, Expired, Invalid */
    char group[37];            /* its group's IdToken, answered as idTokenInfo.groupIdToken; "": none */
    char group_type[16];       /* the group's IdTokenEnumType (default Central) */
};

struct config {
    char listen_address[64];
    int port;
    int tls_port;                  /* wss:// OCPP listener, when tls_cert_file is set (tls.c) */
    char tls_cert_file[512];       /* PEM chain: depotd's certificate first */
    char tls_key_file[512];
    char tls_ca_file[512];         /* CAs a station's client certificate must chain to (security profile 3) */
    char tls_ciphers[256];
    char station_ca_cert_file[512]; /* the depot CA that signs station certificates (certs.c); "": none */
    char station_ca_key_file[512];
    int station_cert_days;         /* TLS 1.2 cipher list (OpenSSL names); TLS 1.3 keeps OpenSSL's suites */
    char ocpp_path[64];
    char database[512];
    char log_level[8];
    int heartbeat_interval_s;
    int clock_skew_tolerance_s;
    int pending_retry_interval_s;
    int call_timeout_s;
    int max_frame_bytes;
    int max_stations;
    int max_queued_calls;
    int max_messages_per_s;        /* a station is read at most this fast (burst: 10 s worth) */
    int disk_warn_free_mb, disk_min_free_mb; /* store_set_watermarks */
    int keep_frames_days;          /* store_set_retention */
    int max_unanswered;            /* a station's CALLs not yet answered before depotd stops reading it */
    bool auto_register;
    int auto_register_max;         /* most stations that may register themselves */
    bool unauthenticated_stations; /* stations without password_hash may connect (labs, tests) */
    int password_threads;          /* PBKDF2 workers (pwpool.c) */
    char unknown_id_token[16];     /* "Invalid" or "Accepted" */
    bool read_capabilities;
    char timezone[64];
    cJSON *tariff;                 /* owned; NULL when not configured (see prices.c) */
    cJSON *site_load;              /* owned; NULL when not configured (see site_load.c) */
    int price_horizon_h;
    cJSON *control;                /* owned; NULL: no smart charging (see control.c) */
    cJSON *clock;                  /* owned; NULL: the wall clock */
    int pbkdf2_iterations;
    int api_port;                  /* -1: no API (api.c) */
    char api_listen_address[64];
    char api_tls_cert_file[512];   /* https:// for the API when set (tls.c) */
    char api_tls_key_file[512];
    int api_max_body_bytes;
    cJSON *api_tokens;             /* owned; NULL: none (validated by api.c) */

    struct cfg_station *stations;
    size_t n_stations;
    struct cfg_id_token *id_tokens;
    size_t n_id_tokens;
};

/* Defaults for every key. */
void config_defaults(struct config *cfg);
/* Load a JSON file over the defaults. Returns 0, or -1 with err naming the key and the problem. */
int config_load(struct config *cfg, const char *path, char *err, size_t err_len);
/* Parse JSON text (for tests and config_load). */
int config_parse(struct config *cfg, const char *json, char *err, size_t err_len);
void config_free(struct config *cfg);
/* The documentation of every key, as Markdown, from the table. */
void config_print_doc(void);

const struct cfg_station *config_find_station(const struct config *cfg, const char *id);
const char *cfg_boot_name(enum cfg_boot boot);
/* The station's security profile with the default applied: 2 when a TLS listener is configured, else 1. */
int config_station_profile(const struct config *cfg, const struct cfg_station *st);
/* The checks across keys, after every key is read (config_parse calls it): 0, or -1 with err naming the key. */
int config_check(const struct config *cfg, char *err, size_t err_len);
/* Replaces every credential in a config tree (provider tokens, header values, password and token hashes) with
 * "(redacted)", before it is logged or shown. */
void config_redact(cJSON *node);
/* 127.x.x.x, ::1 or localhost. */
bool config_loopback(const char *address);
/* Station ids: 1 to 48 characters of a-z A-Z 0-9 * - _ = + | @ . */
bool config_station_id_valid(const char *id);

#endif
