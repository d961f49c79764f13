/* Configuration: every example under examples/tariffs/ loads as depotd will load it, and bad configs are refused
 * with an error naming the key. */
#include "common.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static void test_examples_load(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL, "examples directory %s", dir);
    if (!d)
        return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char path[1024], err[256] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *text = t_read_file(path, &len);
        cJSON *j = text ? cJSON_Parse(text) : NULL;
        tariff_provider *p = j ? tariff_provider_from_json(cJSON_GetObjectItem(j, "provider"), err, sizeof err) : NULL;
        tariff_provider *fb = p ? tariff_provider_from_json(cJSON_GetObjectItem(j, "fallback"), err, sizeof err) : NULL;
        struct tariff_breaker_config bc;
        struct tariff_schedule sc;
        int rc = fb ? tariff_breaker_config_from_json(cJSON_GetObjectItem(j, "breaker"), &bc, err, sizeof err) : -1;
        if (rc == 0) {
            tariff_schedule_for(p, &sc);
            rc = tariff_schedule_from_json(cJSON_GetObjectItem(j, "schedule"), &sc, err, sizeof err);
        }
        struct tariff_request rq;
        if (rc == 0 && !tariff_provider_is_static(p) && tariff_provider_kind(p) != TARIFF_CSV)
            rc = tariff_build_request(p, t_utc(2026, 11, 26, 0, 0), t_utc(2026, 11, 28, 0, 0), &rq, err, sizeof err);
        CHECK(rc == 0 && tariff_provider_is_static(fb), "example %s loads (provider %s, fallback static) %s", e->d_name,
              p ? tariff_kind_name(tariff_provider_kind(p)) : "?", err);
        if (rc == 0 && tariff_provider_kind(p) != TARIFF_CSV && !tariff_provider_is_static(p))
            CHECK(strncmp(rq.url, "https://", 8) == 0, "example %s requests over https: %.80s...", e->d_name, rq.url);
        n++;
        tariff_provider_free(p);
        tariff_provider_free(fb);
        cJSON_Delete(j);
        free(text);
    }
    closedir(d);
    CHECK(n >= 10, "one example per provider type (%d files)", n);
}

static void test_errors_name_the_key(void)
{
    struct { const char *cfg, *key; } c[] = {
        {"{\"name\":\"x\"}", "type"},
        {"{\"type\":\"nordpool\"}", "nordpool"},
        {"{\"type\":\"entsoe\",\"area\":\"10YBE----------2\"}", "security_token"},
        {"{\"type\":\"entsoe\",\"security_token\":\"t\",\"area\":\"10YBE----------2\",\"securitytoken\":\"t\"}",
         "securitytoken"},
        {"{\"type\":\"awattar\",\"country\":\"fr\"}", "country"},
        {"{\"type\":\"awattar\",\"zone\":\"Mars/Olympus\"}", "Mars/Olympus"},
        {"{\"type\":\"awattar\",\"currency\":\"GBP\"}", "currency"},
        {"{\"type\":\"awattar\",\"url\":\"ftp://x\"}", "url"},
        {"{\"type\":\"awattar\",\"http\":{\"timeout_ms\":0}}", "timeout_ms"},
        {"{\"type\":\"awattar\",\"http\":{\"max_body\":10}}", "max_body"},
        {"{\"type\":\"awattar\",\"composition\":{\"vat_percent\":150}}", "vat_percent"},
        {"{\"type\":\"awattar\",\"composition\":{\"grid_fee\":{\"weekday\":[]}}}", "grid_fee"},
        {"{\"type\":\"awattar\",\"plausible\":{\"min_per_kwh\":1,\"max_per_kwh\":0.5}}", "max_per_kwh"},
        {"{\"type\":\"awattar\",\"publication\":{\"time\":\"1pm\"}}", "publication.time"},
        {"{\"type\":\"octopus\",\"product\":\"A/../../x\",\"tariff\":\"E\"}", "octopus.product"},
        {"{\"type\":\"tibber\",\"token\":\"a\\r\\nX-Evil: 1\"}", "tibber.token"},
        {"{\"type\":\"tibber\",\"token\":\"t\",\"field\":\"tax\"}", "tibber.field"},
        {"{\"type\":\"elering\",\"area\":\"se3\"}", "elering.area"},
        {"{\"type\":\"json\",\"url\":\"https://x/\",\"start\":\"/s\",\"price\":\"/p\"}", "resolution_min"},
        {"{\"type\":\"json\",\"url\":\"https://x/\",\"start\":\"/s\",\"price\":\"/p\",\"resolution_min\":60,"
         "\"time_format\":\"unix\"}", "time_format"},
        {"{\"type\":\"csv\"}", "file"},
        {"{\"type\":\"tou\"}", "tou.bands"},
        {"{\"type\":\"fixed\"}", "price"},
        {"{\"type\":\"fixed\",\"price\":40}", "price"},
        {"{\"type\":\"fixed\",\"value\":2e6}", "value"},
        {"{\"type\":\"awattar\",\"plausible\":{\"min\":0,\"max\":-5}}", "max"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char err[256] = "";
        cJSON *j = cJSON_Parse(c[i].cfg);
        tariff_provider *p = tariff_provider_from_json(j, err, sizeof err);
        CHECK(p == NULL && strstr(err, c[i].key), "refused, error names '%s': %s", c[i].key, err);
        tariff_provider_free(p);
        cJSON_Delete(j);
    }
}

/* A series that is not a price (a building's kW): "value" for fixed, "min"/"max" for the plausible band. */
static void test_values_not_prices(void)
{
    char err[256] = "";
    cJSON *j = cJSON_Parse("{\"type\":\"fixed\",\"name\":\"workshop\",\"value\":40}");
    tariff_provider *p = tariff_provider_from_json(j, err, sizeof err);
    double v = 0;
    CHECK(p && tariff_static_price(p, 0, &v) == 0 && v == 40, "fixed value 40 (%s)", err);
    tariff_provider_free(p);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"type\":\"csv\",\"file\":\"/x.csv\",\"plausible\":{\"min\":-200,\"max\":900}}");
    p = tariff_provider_from_json(j, err, sizeof err);
    CHECK(p != NULL, "plausible min/max in kW accepted (%s)", err);
    tariff_provider_free(p);
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    test_values_not_prices();
    test_examples_load(argc > 1 ? argv[1] : "examples/tariffs");
    test_errors_name_the_key();
    return t_done();
}
