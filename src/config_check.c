/*
 * config_check.c - what one key's table entry cannot say: keys that go together (TLS files), what a station's
 * security profile needs, the examples' demo secrets on an address others reach; and the redaction of secrets
 * before a config is logged or shown.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

int config_station_profile(const struct config *cfg, const struct cfg_station *st)
{
    if (st && st->security_profile) return st->security_profile;
    return cfg->tls_cert_file[0] ? 2 : 1;
}

/* A certificate and its key: both or neither. */
static int pair(const char *a, const char *a_val, const char *b, const char *b_val, char *err, size_t err_len)
{
    if (!a_val[0] == !b_val[0]) return 0;
    snprintf(err, err_len, "%s: needed with %s", a_val[0] ? b : a, a_val[0] ? a : b);
    return -1;
}

/* TLS keys go together, and a station may not ask for a profile the listeners cannot give it. */
static int check_tls(const struct config *cfg, char *err, size_t err_len)
{
    if (pair("tls_cert_file", cfg->tls_cert_file, "tls_key_file", cfg->tls_key_file, err, err_len) ||
        pair("api_tls_cert_file", cfg->api_tls_cert_file, "api_tls_key_file", cfg->api_tls_key_file, err, err_len) ||
        pair("station_ca_cert_file", cfg->station_ca_cert_file, "station_ca_key_file", cfg->station_ca_key_file, err,
             err_len))
        return -1;
    if (cfg->tls_ca_file[0] && !cfg->tls_cert_file[0]) {
        snprintf(err, err_len, "tls_ca_file: needs tls_cert_file and tls_key_file (a TLS listener)");
        return -1;
    }
    for (size_t i = 0; i < cfg->n_stations; i++) {
        int p = config_station_profile(cfg, &cfg->stations[i]);
        if (p < 3 && !cfg->stations[i].password_hash[0] &&
            (!cfg->unauthenticated_stations || !config_loopback(cfg->listen_address))) {
            snprintf(err, err_len, "stations[%zu].password_hash: required for security profile %d (make one with "
                     "depotd --hash-password)%s", i, p, cfg->unauthenticated_stations ? "; unauthenticated_stations is "
                     "for a listen_address on loopback only" : "");
            return -1;
        }
        p = cfg->stations[i].security_profile;
        if (p >= 2 && !cfg->tls_cert_file[0]) {
            snprintf(err, err_len, "stations[%zu].security_profile: %d needs tls_cert_file and tls_key_file", i, p);
            return -1;
        }
        if (p == 3 && !cfg->tls_ca_file[0]) {
            snprintf(err, err_len, "stations[%zu].security_profile: 3 needs tls_ca_file (the CA of station "
                     "certificates)", i);
            return -1;
        }
    }
    return 0;
}

/* Members whose value is a credential, wherever they sit (tariff providers, stations, API tokens). */
static bool secret_name(const char *name)
{
    static const char *const names[] = {"token", "security_token", "token_hash", "password", "password_hash",
                                        "secret", "api_key", "apikey", "apnPassword"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0) return true;
    return false;
}

/* An OCPP variable whose value is a credential (SecurityCtrlr.BasicAuthPassword, any *Password*): its
 * attributeValue in a SetVariables entry is one too. */
static bool secret_variable(const cJSON *node)
{
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(node, "variable");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(var, "name"));
    return name && strcasestr(name, "password") && cJSON_GetObjectItemCaseSensitive(node, "attributeValue");
}

void config_redact(cJSON *node)
{
    if (node && cJSON_IsObject(node) && secret_variable(node))
        cJSON_ReplaceItemInObjectCaseSensitive(node, "attributeValue", cJSON_CreateString("(redacted)"));
    cJSON *next;
    for (cJSON *it = node ? node->child : NULL; it; it = next) {
        next = it->next; /* it may be replaced (and freed) below */
        if (it->string && secret_name(it->string) && !cJSON_IsNull(it)) {
            cJSON_ReplaceItemInObjectCaseSensitive(node, it->string, cJSON_CreateString("(redacted)"));
        } else if (it->string && strcmp(it->string, "headers") == 0 && cJSON_IsArray(it)) {
            /* "Name: value": the name tells what was configured, the value may be a key. */
            cJSON *h;
            cJSON_ArrayForEach(h, it)
                if (cJSON_IsString(h)) {
                    const char *colon = strchr(h->valuestring, ':');
                    char buf[160];
                    snprintf(buf, sizeof buf, "%.*s: (redacted)", colon ? (int)(colon - h->valuestring) : 0,
                             h->valuestring);
                    cJSON_SetValuestring(h, buf);
                }
        } else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            config_redact(it);
        }
    }
}

bool config_loopback(const char *address)
{
    return strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0 || strcmp(address, "localhost") == 0;
}

/* The secrets published in examples/depotd.json and examples/api.md: the demo API tokens (sha256 of
 * demo-{admin,dispatcher,viewer}-token-0001-not-for-production) and the example's station password hashes (of
 * demo-station-password-0001 and depotsim-secret-01). A demo password hashed again gets a new salt and is not
 * recognised here (that would cost a PBKDF2 per station at start). */
static const char *const demo_secrets[] = {
    "sha256$5ba7d7c3bf9af204c1e5fc34bc91c271ddd1781a96a9bdf02396c1748ef50217",
    "sha256$c206fd82421467ef9b11ec947fa9baa3869eea56318768a3d6268c938f96c527",
    "sha256$0c8a2f17be5c5404c8e5835a853f290864ca5b958827492cfa5d83bcd4779e12",
    "pbkdf2-sha256$20000$hL0hI0re+eVtPHpREuHKYw==$Qlx/GuFYliF42zr5cJk7t9uaZ5PM1dZxCW1HF3mjSfk=",
    "pbkdf2-sha256$20000$N11iWQGmHgEXiveiGu70BQ==$9LVmMeduMeDzX0KWr8HC7JffyOIBY7SezSGYboXp0UE=",
};

static bool demo_secret(const char *s)
{
    for (size_t i = 0; i < sizeof demo_secrets / sizeof demo_secrets[0]; i++)
        if (strcmp(s, demo_secrets[i]) == 0) return true;
    return false;
}

/* Demo credentials are for a depot on one machine: on an address others can reach, depotd does not start. */
static int check_demo_secrets(const struct config *cfg, char *err, size_t err_len)
{
    if (!config_loopback(cfg->listen_address))
        for (size_t i = 0; i < cfg->n_stations; i++)
            if (demo_secret(cfg->stations[i].password_hash)) {
                snprintf(err, err_len, "stations[%zu].password_hash: the examples' demo password, and listen_address "
                         "%s is not loopback: give the station its own password (depotd --hash-password)", i,
                         cfg->listen_address);
                return -1;
            }
    if (cfg->api_tokens && cfg->api_port >= 0 && !config_loopback(cfg->api_listen_address)) {
        int i = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, cfg->api_tokens) {
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(t, "token_hash");
            if (cJSON_IsString(h) && demo_secret(h->valuestring)) {
                snprintf(err, err_len, "api_tokens[%d].token_hash: an examples' demo token, and api_listen_address %s "
                         "is not loopback: make a token of your own (examples/api.md)", i, cfg->api_listen_address);
                return -1;
            }
            i++;
        }
    }
    return 0;
}

int config_check(const struct config *cfg, char *err, size_t err_len)
{
    return check_tls(cfg, err, err_len) || check_demo_secrets(cfg, err, err_len) ? -1 : 0;
}
