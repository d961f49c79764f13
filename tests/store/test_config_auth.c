/* Config errors name the key; passwords are stored as salted PBKDF2 hashes; Basic auth headers parse strictly. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"
#include "config.h"

static bool parse_fails_naming(const char *json, const char *key)
{
    struct config cfg;
    config_defaults(&cfg);
    char err[256] = "";
    int rc = config_parse(&cfg, json, err, sizeof err);
    config_free(&cfg);
    bool ok = rc != 0 && strstr(err, key) != NULL;
    if (!ok) printf("     error was: %s\n", err);
    return ok;
}

int main(void)
{
    struct config cfg;
    config_defaults(&cfg);
    CHECK(cfg.port == 8180 && cfg.heartbeat_interval_s == 300 && !cfg.auto_register, "defaults come from the table");
    char err[256] = "";
    CHECK(config_parse(&cfg, "{\"port\": 9000, \"auto_register\": true, \"listen_address\": \"127.0.0.1\", \"unauthenticated_stations\": true, \"stations\": [{\"id\": \"CS-1\"}]}", err,
                       sizeof err) == 0 && cfg.port == 9000 && cfg.auto_register && cfg.n_stations == 1,
          "a valid config is applied %s", err);
    config_free(&cfg);
    CHECK(config_parse(&cfg, "{\"id_tokens\": [{\"id_token\": \"A\"}, {\"id_token\": \"B\", \"status\": \"Blocked\"}]}",
                       err, sizeof err) == 0 &&
              cfg.n_id_tokens == 2 && strcmp(cfg.id_tokens[0].status, "Accepted") == 0 &&
              strcmp(cfg.id_tokens[1].status, "Blocked") == 0,
          "id_tokens[].status: Accepted by default, Blocked as given %s", err);
    config_free(&cfg);
    CHECK(config_parse(&cfg, "{\"id_tokens\": [{\"id_token\": \"A\", \"group\": \"FLEET-N\"}, {\"id_token\": \"B\", "
                             "\"group\": \"EMA-1\", \"group_type\": \"eMAID\"}, {\"id_token\": \"C\"}]}",
                       err, sizeof err) == 0 &&
              strcmp(cfg.id_tokens[0].group, "FLEET-N") == 0 && strcmp(cfg.id_tokens[0].group_type, "Central") == 0 &&
              strcmp(cfg.id_tokens[1].group_type, "eMAID") == 0 && cfg.id_tokens[2].group[0] == 0,
          "id_tokens[].group: an IdTokenType, type Central by default; none when not given %s", err);
    config_free(&cfg);
    CHECK(config_parse(&cfg, "{\"id_tokens\": [{\"id_token\": \"A\", \"group\": \"012345678901234567890123456789012345\", "
                             "\"group_type\": \"NoAuthorization\"}]}", err, sizeof err) == 0 &&
              strlen(cfg.id_tokens[0].group) == 36 && strcmp(cfg.id_tokens[0].group_type, "NoAuthorization") == 0,
          "id_tokens[].group: 36 characters and the longest IdTokenEnumType fit %s", err);
    config_free(&cfg);

    static const struct {
        const char *json, *key, *what;
    } bad[] = {
        {"{\"port\": 70000}", "port", "an integer out of range"},
        {"{\"port\": \"80\"}", "port", "a string for an integer"},
        {"{\"port\": 80.5}", "port", "a fraction for an integer"},
        {"{\"auto_register\": 1}", "auto_register", "a number for a boolean"},
        {"{\"log_level\": \"loud\"}", "log_level", "a value outside the choices"},
        {"{\"no_such_key\": 1}", "no_such_key", "an unknown key"},
        {"{\"ocpp_path\": \"ocpp\"}", "ocpp_path", "a path prefix without slashes"},
        {"{\"stations\": [{\"id\": \"bad id\"}]}", "stations[0].id", "an invalid station id"},
        {"{\"stations\": [{\"id\": \"A\"}, {\"id\": \"A\"}]}", "stations[1].id", "a duplicate station id"},
        {"{\"stations\": [{\"id\": \"A\", \"boot\": \"Maybe\"}]}", "stations[0].boot", "an unknown boot status"},
        {"{\"stations\": [{\"id\": \"A\", \"password_hash\": \"plain\"}]}", "stations[0].password_hash",
         "a password that is not a hash"},
        {"{\"id_tokens\": [{\"type\": \"ISO14443\"}]}", "id_tokens[0].id_token", "a token without id_token"},
        {"{\"id_tokens\": [{\"id_token\": \"A\", \"status\": \"Maybe\"}]}", "id_tokens[0].status",
         "an id token status that is not an AuthorizationStatus depotd answers"},
        {"{\"id_tokens\": [{\"id_token\": \"A\", \"group\": \"0123456789012345678901234567890123456\"}]}",
         "id_tokens[0].group:", "a group longer than an IdToken's 36 characters"},
        {"{\"id_tokens\": [{\"id_token\": \"A\", \"group\": \"\"}]}", "id_tokens[0].group:", "an empty group"},
        {"{\"id_tokens\": [{\"id_token\": \"A\"}, {\"id_token\": \"B\", \"group\": 7}]}", "id_tokens[1].group:",
         "a group that is not a string"},
        {"{\"id_tokens\": [{\"id_token\": \"A\", \"group\": \"G\", \"group_type\": \"RFID\"}]}",
         "id_tokens[0].group_type", "a group_type that is not an IdTokenEnumType"},
        {"{\"id_tokens\": [{\"id_token\": \"A\", \"group\": \"G\", \"group_type\": \"central\"}]}",
         "id_tokens[0].group_type", "a group_type in the wrong case (the enum is case-sensitive)"},
        {"{\"id_tokens\": [{\"id_token\": \"A\", \"group_type\": \"Central\"}]}", "id_tokens[0].group_type",
         "a group_type without a group"},
        {"{\"stations\": [{\"id\": \"A\", \"security_profile\": 4}]}", "stations[0].security_profile",
         "a security profile other than 1, 2, 3"},
        {"{\"listen_address\": \"127.0.0.1\", \"unauthenticated_stations\": true, \"stations\": [{\"id\": \"A\", \"security_profile\": 2}]}", "stations[0].security_profile",
         "profile 2 without a TLS listener"},
        {"{\"stations\": [{\"id\": \"A\"}]}", "stations[0].password_hash", "a station without a password (profile 1)"},
        {"{\"unauthenticated_stations\": true, \"stations\": [{\"id\": \"A\"}]}", "stations[0].password_hash",
         "a station without a password on an address that is not loopback"},
        {"{\"tls_cert_file\": \"c.pem\", \"tls_key_file\": \"k.pem\", \"stations\": [{\"id\": \"A\", "
         "\"security_profile\": 3}]}", "stations[0].security_profile", "profile 3 without tls_ca_file"},
        {"{\"tls_cert_file\": \"c.pem\"}", "tls_key_file", "a certificate without its key"},
        {"{\"tls_key_file\": \"k.pem\"}", "tls_cert_file", "a key without its certificate"},
        {"{\"tls_ca_file\": \"ca.pem\"}", "tls_ca_file", "a client CA without a TLS listener"},
        {"{\"api_tls_cert_file\": \"c.pem\"}", "api_tls_key_file", "an API certificate without its key"},
        {"{\"listen_address\": \"0.0.0.0\", \"stations\": [{\"id\": \"A\", \"password_hash\": "
         "\"pbkdf2-sha256$20000$hL0hI0re+eVtPHpREuHKYw==$Qlx/GuFYliF42zr5cJk7t9uaZ5PM1dZxCW1HF3mjSfk=\"}]}",
         "stations[0].password_hash", "the example's demo station password on an address others reach"},
        {"{\"api_port\": 8181, \"api_listen_address\": \"192.168.1.10\", \"api_tokens\": [{\"name\": \"x\", "
         "\"token_hash\": \"sha256$5ba7d7c3bf9af204c1e5fc34bc91c271ddd1781a96a9bdf02396c1748ef50217\", "
         "\"role\": \"admin\"}]}", "api_tokens[0].token_hash", "the example's demo admin token on an address others reach"},
        {"[1,2]", "object", "a config that is not an object"},
        {"{\"port\": ", "JSON", "text that is not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(parse_fails_naming(bad[i].json, bad[i].key), "config error for %s names '%s'", bad[i].what, bad[i].key);

    CHECK(config_parse(&cfg, "{\"listen_address\": \"127.0.0.1\", \"unauthenticated_stations\": true, \"stations\": [{\"id\": \"A\"}, {\"id\": \"B\", \"security_profile\": 1}]}", err,
                       sizeof err) == 0 &&
              config_station_profile(&cfg, &cfg.stations[0]) == 1 && config_station_profile(&cfg, NULL) == 1,
          "without TLS every station is profile 1 %s", err);
    config_free(&cfg);
    CHECK(config_parse(&cfg, "{\"listen_address\": \"127.0.0.1\", \"unauthenticated_stations\": true, \"tls_cert_file\": \"c.pem\", \"tls_key_file\": \"k.pem\", \"tls_ca_file\": "
                             "\"ca.pem\", \"stations\": [{\"id\": \"A\"}, {\"id\": \"B\", \"security_profile\": 1}, "
                             "{\"id\": \"C\", \"security_profile\": 3}]}", err, sizeof err) == 0 &&
              config_station_profile(&cfg, &cfg.stations[0]) == 2 && config_station_profile(&cfg, &cfg.stations[1]) == 1 &&
              config_station_profile(&cfg, &cfg.stations[2]) == 3 && config_station_profile(&cfg, NULL) == 2 &&
              cfg.tls_port == 8443,
          "with TLS the default profile is 2 (auto-registered stations too), 1 and 3 when asked; tls_port 8443 %s", err);
    config_free(&cfg);

    CHECK(config_parse(&cfg, "{\"listen_address\": \"127.0.0.1\", \"api_port\": 8181, \"stations\": [{\"id\": \"A\", "
                             "\"password_hash\": \"pbkdf2-sha256$20000$hL0hI0re+eVtPHpREuHKYw==$Qlx/GuFYliF42zr5cJk7t9uaZ5PM1dZ"
                             "xCW1HF3mjSfk=\"}], \"api_tokens\": [{\"name\": \"x\", \"token_hash\": \"sha256$5ba7d7c3bf9af204c"
                             "1e5fc34bc91c271ddd1781a96a9bdf02396c1748ef50217\", \"role\": \"admin\"}]}", err, sizeof err) == 0 &&
              strcmp(cfg.api_listen_address, "127.0.0.1") == 0,
          "the demo secrets are fine on loopback, where the API listens by default %s", err);
    config_free(&cfg);

    cJSON *tree = cJSON_Parse("{\"tariff\": {\"provider\": {\"type\": \"json\", \"url\": \"https://x\", \"headers\": "
                              "[\"X-Api-Key: k-123\", \"Authorization: Bearer b-456\"]}, \"fallback\": {\"type\": \"entsoe\", "
                              "\"security_token\": \"s-789\"}}, \"stations\": [{\"id\": \"A\", \"password_hash\": \"h-1\"}], "
                              "\"api_tokens\": [{\"name\": \"n\", \"token_hash\": \"h-2\", \"role\": \"admin\"}], "
                              "\"x\": {\"token\": \"t-0\", \"secret\": 5}}");
    config_redact(tree);
    char *red = cJSON_PrintUnformatted(tree);
    CHECK(red && !strstr(red, "k-123") && !strstr(red, "b-456") && !strstr(red, "s-789") && !strstr(red, "h-1") &&
              !strstr(red, "h-2") && !strstr(red, "t-0") && !strstr(red, "\"secret\":5") &&
              strstr(red, "\"X-Api-Key: (redacted)\"") && strstr(red, "\"url\":\"https://x\"") &&
              strstr(red, "\"id\":\"A\"") && strstr(red, "\"name\":\"n\""),
          "config_redact: tokens, header values and hashes go, names and urls stay: %s", red ? red : "(null)");
    cJSON_free(red);
    cJSON_Delete(tree);

    CHECK(config_station_id_valid("CS_01-a.b*=+|@") && !config_station_id_valid("a:b") &&
              !config_station_id_valid("") && !config_station_id_valid("a/b") &&
              !config_station_id_valid("0123456789012345678901234567890123456789012345678"),
          "station ids: identifierString less ':', 1 to 48 characters");

    char hash[AUTH_HASH_MAX], hash2[AUTH_HASH_MAX];
    CHECK(auth_hash_password("correct horse battery", 2000, hash, sizeof hash) == 0 &&
              strncmp(hash, "pbkdf2-sha256$2000$", 19) == 0,
          "hash format pbkdf2-sha256$iterations$salt$hash: %s", hash);
    auth_hash_password("correct horse battery", 2000, hash2, sizeof hash2);
    CHECK(strcmp(hash, hash2) != 0, "each hash has its own salt");
    CHECK(auth_verify_password("correct horse battery", hash), "the right password verifies");
    CHECK(!auth_verify_password("correct horse batterx", hash), "a wrong password does not");
    CHECK(!auth_verify_password("x", "pbkdf2-sha256$0$$") && !auth_verify_password("x", "garbage"),
          "malformed hashes never verify");

    char user[64], pw[64];
    /* "CS1:secret:with:colons" */
    CHECK(auth_parse_basic("Basic Q1MxOnNlY3JldDp3aXRoOmNvbG9ucw==", user, sizeof user, pw, sizeof pw) == 0 &&
              strcmp(user, "CS1") == 0 && strcmp(pw, "secret:with:colons") == 0,
          "Basic auth splits at the first colon");
    CHECK(auth_parse_basic("Bearer abc", user, sizeof user, pw, sizeof pw) != 0, "a non-Basic scheme is refused");
    CHECK(auth_parse_basic("Basic !!!!", user, sizeof user, pw, sizeof pw) != 0, "bad base64 is refused");
    CHECK(auth_parse_basic("Basic Q1Mx", user, sizeof user, pw, sizeof pw) != 0, "no colon is refused");
    return CHECK_DONE();
}
