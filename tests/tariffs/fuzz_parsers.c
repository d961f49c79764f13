/*
 * fuzz_parsers.c - fuzz target: one body through every price parser (aWATTar, ENTSO-E XML, Energy-Charts,
 * Octopus, Tibber, Elering, generic JSON, CSV), each series checked and freed. No crash, no leak, and what a
 * parser accepted passes or fails tariff_series_validate without reading past its array. Runs as a test with
 * tests/ocpp/fuzz_driver.c (gcc) and, with clang, as a libFuzzer binary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tariffs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tariff_tz *tz;
    if (!tz) tz = tariff_tz_load("Europe/Brussels", NULL, NULL, 0); /* kept for the run (a fuzz target has no end) */
    const char *body = (const char *)data;
    char err[256], next[256], currency[4];
    struct tariff_series s = {0};
    struct tariff_json_map map = {.array = "/data", .start = "/start", .end = "/end", .price = "/price",
                                  .time_format = TARIFF_TIME_ISO, .resolution_min = 60, .multiplier = 0.001};
    int (*simple[])(const char *, size_t, struct tariff_series *, char *, size_t) = {
        tariff_parse_awattar, tariff_parse_entsoe, tariff_parse_energy_charts};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (simple[i](body, size, &s, err, sizeof err) == 0) tariff_series_validate(&s, -10, 10, true, err, sizeof err);
        tariff_series_free(&s);
    }
    tariff_parse_octopus(body, size, true, next, sizeof next, &s, err, sizeof err);
    tariff_series_free(&s);
    tariff_parse_tibber(body, size, 0, "total", currency, &s, err, sizeof err);
    tariff_series_free(&s);
    tariff_parse_elering(body, size, "ee", &s, err, sizeof err);
    tariff_series_free(&s);
    tariff_parse_json_mapped(body, size, &map, tz, &s, err, sizeof err);
    tariff_series_free(&s);
    tariff_parse_csv(body, size, tz, 60, 0.001, &s, err, sizeof err);
    tariff_series_free(&s);
    return 0;
}
