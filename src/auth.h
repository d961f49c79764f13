/*
 * auth.h - who is knocking, as the handshake reads it: HTTP Basic auth (passwords kept as salted PBKDF2-SHA256
 * hashes), the station id in the path, the subprotocols offered. Pure functions; safe from any thread.
 */
#ifndef DEPOTD_AUTH_H
#define DEPOTD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_MAX 160

/* "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>", with a fresh random salt. Returns 0 or -1. */
int auth_hash_password(const char *password, int iterations, char *out, size_t out_len);
/* Constant-time check of a password against such a hash. False for malformed hashes. */
bool auth_verify_password(const char *password, const char *hash);
/* Splits an "Authorization: Basic <base64(user:password)>" header value. Returns 0 or -1. */
int auth_parse_basic(const char *header, char *user, size_t user_len, char *password, size_t password_len);

/* The station id of a websocket path after the OCPP prefix, percent-decoded, up to a '?'. Returns 0, or -1 when
 * malformed or longer than out_len - 1 (the id's characters are checked by config_station_id_valid). */
int auth_station_from_path(const char *path, char *out, size_t out_len);
/* Whether a Sec-WebSocket-Protocol header value offers protocol (comma- or space-separated). */
bool auth_offers_subprotocol(const char *header, const char *protocol);

#endif
