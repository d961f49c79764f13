/*
 * fuzz_config.c - fuzz target: bytes as a config file (config_parse, then the redaction of what parsed) and as
 * an HTTP Authorization header (auth_parse_basic, what every station's handshake goes through before any
 * hashing). No crash, no leak, and a parsed user and password always fit their buffers. Runs as a test with
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
    char user[64], password[64];
    if (auth_parse_basic(text, user, sizeof user, password, sizeof password) == 0 &&
        (strlen(user) >= sizeof user || strlen(password) >= sizeof password))
        abort();
    free(text);
    return 0;
}
