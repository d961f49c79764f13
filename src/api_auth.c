/*
 * api_auth.c - the API's bearer tokens: api_tokens from the config (name, SHA-256 of the token, role, fleet) and
 * the check of each request's Authorization header against them.
 */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"

/* Tokens are random strings of at least 32 characters (examples/api.md says how to make one), so a plain
 * SHA-256 is enough to keep them safe at rest: nobody brute-forces 190 bits. A slow hash (the PBKDF2 that
 * protects station passwords, which people choose) would cost ~10 ms of the loop on every request. */
#define API_TOKEN_MIN 32

const struct api_token *api_authenticate(struct api *a, struct api_req *r, const char **why)
{
    char h[600];
    *why = "Authorization: missing; send Authorization: Bearer <token>";
    if (lws_hdr_copy(r->wsi, h, sizeof h, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) return NULL;
    *why = "Authorization: not \"Bearer <token>\"";
    if (strncasecmp(h, "Bearer ", 7) != 0) return NULL;
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    size_t n = strlen(tok);
    while (n && tok[n - 1] == ' ') n--;
    *why = "Authorization: unknown or revoked token";
    if (n < API_TOKEN_MIN) return NULL;
    unsigned char digest[32];
    SHA256((const unsigned char *)tok, n, digest);
    const struct api_token *found = NULL;
    /* Every token is compared, in constant time, so the timing tells nothing about which one was close. */
    for (int i = 0; i < a->n_tokens; i++)
        if (CRYPTO_memcmp(digest, a->tokens[i].hash, sizeof digest) == 0) found = &a->tokens[i];
    return found;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int api_tokens_parse(struct api *a, const cJSON *arr, char *err, size_t err_len)
{
    int n = cJSON_GetArraySize(arr);
    a->tokens = calloc((size_t)(n ? n : 1), sizeof *a->tokens);
    if (!a->tokens) return -1;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        struct api_token *t = &a->tokens[i];
        if (!cJSON_IsObject(it)) {
            snprintf(err, err_len, "api_tokens[%d]: must be an object", i);
            return -1;
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive(it, "token_hash");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        const cJSON *fleet = cJSON_GetObjectItemCaseSensitive(it, "fleet");
        const cJSON *k;
        cJSON_ArrayForEach(k, it) {
            if (strcmp(k->string, "name") && strcmp(k->string, "token_hash") && strcmp(k->string, "role") &&
                strcmp(k->string, "fleet") && strcmp(k->string, "manage_tokens") && k->string[0] != '_') {
                snprintf(err, err_len, "api_tokens[%d].%s: unknown key (name, token_hash, role, fleet, manage_tokens)", i,
                         k->string);
                return -1;
            }
        }
        if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) > API_NAME_MAX) {
            snprintf(err, err_len, "api_tokens[%d].name: a string of 1 to %d characters", i, API_NAME_MAX);
            return -1;
        }
        snprintf(t->name, sizeof t->name, "%s", name->valuestring);
        for (int j = 0; j < i; j++)
            if (strcmp(a->tokens[j].name, t->name) == 0) {
                snprintf(err, err_len, "api_tokens[%d].name: duplicate \"%s\"", i, t->name);
                return -1;
            }
        const char *hs = cJSON_IsString(hash) ? hash->valuestring : "";
        bool ok = strncmp(hs, "sha256$", 7) == 0 && strlen(hs) == 7 + 64;
        for (int b = 0; ok && b < 32; b++) {
            int hi = hexval(hs[7 + 2 * b]), lo = hexval(hs[8 + 2 * b]);
            ok = hi >= 0 && lo >= 0;
            t->hash[b] = (unsigned char)(hi * 16 + lo);
        }
        if (!ok) {
            snprintf(err, err_len,
                     "api_tokens[%d].token_hash: must be \"sha256$\" and 64 hex digits (see examples/api.md)", i);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (memcmp(a->tokens[j].hash, t->hash, 32) == 0) {
                snprintf(err, err_len, "api_tokens[%d].token_hash: the same token as api_tokens[%d]", i, j);
                return -1;
            }
        const char *rs = cJSON_IsString(role) ? role->valuestring : "";
        if (strcmp(rs, "viewer") == 0) t->role = API_VIEWER;
        else if (strcmp(rs, "dispatcher") == 0) t->role = API_DISPATCHER;
        else if (strcmp(rs, "admin") == 0) t->role = API_ADMIN;
        else {
            snprintf(err, err_len, "api_tokens[%d].role: must be \"viewer\", \"dispatcher\" or \"admin\"", i);
            return -1;
        }
        if (fleet && (!cJSON_IsString(fleet) || !fleet->valuestring[0] || strlen(fleet->valuestring) > API_NAME_MAX)) {
            snprintf(err, err_len, "api_tokens[%d].fleet: a string of 1 to %d characters", i, API_NAME_MAX);
            return -1;
        }
        if (fleet) snprintf(t->fleet, sizeof t->fleet, "%s", fleet->valuestring);
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(it, "manage_tokens");
        if (mt && (!cJSON_IsBool(mt) || t->role == API_VIEWER)) {
            snprintf(err, err_len, "api_tokens[%d].manage_tokens: true or false, for a dispatcher (admins have it)", i);
            return -1;
        }
        t->manage_tokens = t->role == API_ADMIN || cJSON_IsTrue(mt);
        a->n_tokens = ++i;
    }
    return 0;
}

