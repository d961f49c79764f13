#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SALT_LEN 16
#define KEY_LEN 32

int auth_hash_password(const char *password, int iterations, char *out, size_t out_len)
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    char salt64[32], key64[64];
    if (iterations < 1 || RAND_bytes(salt, sizeof salt) != 1) return -1;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, iterations, EVP_sha256(), sizeof key,
                          key) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof salt);
    EVP_EncodeBlock((unsigned char *)key64, key, sizeof key);
    int n = snprintf(out, out_len, "pbkdf2-sha256$%d$%s$%s", iterations, salt64, key64);
    return n > 0 && (size_t)n < out_len ? 0 : -1;
}

/* Base64 decode; returns the decoded length or -1. EVP_DecodeBlock counts padding as zero bytes. */
static int b64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap)
{
    if (in_len == 0 || in_len % 4 || in_len / 4 * 3 > out_cap) return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)in_len);
    if (n < 0) return -1;
    if (in[in_len - 1] == '=') n--;
    if (in[in_len - 2] == '=') n--;
    return n;
}

bool auth_verify_password(const char *password, const char *hash)
{
    char copy[AUTH_HASH_MAX];
    if (!hash || strlen(hash) >= sizeof copy || strncmp(hash, "pbkdf2-sha256$", 14) != 0) return false;
    strcpy(copy, hash + 14);
    char *iter = copy, *salt64 = strchr(iter, '$');
    if (!salt64) return false;
    *salt64++ = 0;
    char *key64 = strchr(salt64, '$');
    if (!key64) return false;
    *key64++ = 0;
    int iterations = atoi(iter);
    unsigned char salt[64], want[64], got[64];
    int salt_len = b64_decode(salt64, strlen(salt64), salt, sizeof salt);
    int key_len = b64_decode(key64, strlen(key64), want, sizeof want);
    if (iterations < 1 || salt_len <= 0 || key_len <= 0) return false;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, iterations, EVP_sha256(), key_len, got) !=
        1)
        return false;
    return CRYPTO_memcmp(got, want, (size_t)key_len) == 0;
}

int auth_parse_basic(const char *header, char *user, size_t user_len, char *password, size_t password_len)
{
    if (strncasecmp(header, "Basic ", 6) != 0) return -1;
    const char *b64 = header + 6;
    while (*b64 == ' ') b64++;
    size_t n = strlen(b64);
    while (n && b64[n - 1] == ' ') n--;
    unsigned char dec[512];
    int len = b64_decode(b64, n, dec, sizeof dec - 1);
    if (len <= 0) return -1;
    dec[len] = 0;
    if (memchr(dec, 0, (size_t)len)) return -1;
    char *colon = strchr((char *)dec, ':');
    if (!colon) return -1;
    *colon = 0;
    if (strlen((char *)dec) >= user_len || strlen(colon + 1) >= password_len) return -1;
    strcpy(user, (char *)dec);
    strcpy(password, colon + 1);
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

int auth_station_from_path(const char *in, char *out, size_t out_len)
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

bool auth_offers_subprotocol(const char *header, const char *protocol)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", header);
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        if (strcmp(tok, protocol) == 0) return true;
    return false;
}
