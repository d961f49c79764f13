/*
 * fuzz_config.c - fuzz target: bytes as a config file (config_parse, then the redaction of what parsed) and as
 * what a station's handshake is read from before any hashing: the Authorization header (auth_parse_basic), the
 * path's station id and the subprotocol header. No crash, no leak, and what is parsed fits its buffer. Runs as a test with
 * tests/ocpp/fuzz_driver.c (gcc) and, with clang, as a libFuzzer binary.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct config cfg;
    config_defaults(&cfg);
    char err[400];
    config_parse(&cfg, text, err, sizeof err);
    config_free(&cfg);
    cJSON *tree = cJSON_Parse(text);
    config_redact(tree);
    cJSON_Delete(tree);
    char user[64], password[64], id[50];
    if (auth_parse_basic(text, user, sizeof user, password, sizeof password) == 0 &&
        (strlen(user) >= sizeof user || strlen(password) >= sizeof password))
        abort();
    if (auth_station_from_path(text, id, sizeof id) == 0 && strlen(id) >= sizeof id) abort();
    auth_offers_subprotocol(text, "ocpp2.0.1");
    free(text);
    return 0;
}
