/* examples/prices/be-dayahead-sample.csv serves both readers: depotsim --prices (report cost, table, baseline)
 * and depotd's CSV price provider (tariffs/, type "csv", resolution_min 60), and both read the same price for
 * every hour of the four days. argv[1]: the file. */
#include "check.h"
#include "report.h"

#include <tariffs.h>

#include <stdlib.h>

#define FIRST_MS 1664056800000LL /* 2022-09-24T22:00:00Z: Sunday 25 Sep 2022 00:00 in Brussels */
#define HOURS 96

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s be-dayahead-sample.csv\n", argv[0]);
        return 2;
    }
    char err[256] = "";
    struct sim_prices sp;
    CHECK(sim_prices_load(argv[1], &sp, err, sizeof err) == 0, "depotsim reads it (%s)", err);
    CHECK(sp.n == HOURS && sp.t_ms[0] == FIRST_MS, "96 hourly prices from 2022-09-24T22:00Z (%d)", sp.n);

    char cfg_text[1024];
    snprintf(cfg_text, sizeof cfg_text, "{\"type\":\"csv\",\"file\":\"%s\",\"resolution_min\":60,\"zone\":\"Europe/Brussels\"}",
             argv[1]);
    cJSON *cfg = cJSON_Parse(cfg_text);
    tariff_provider *p = tariff_provider_from_json(cfg, err, sizeof err);
    cJSON_Delete(cfg);
    CHECK(p != NULL, "depotd's CSV provider takes the config (%s)", err);
    struct tariff_series s = {0};
    struct tariff_fetch_result res;
    if (p) {
        int rc = tariff_fetch(p, FIRST_MS, FIRST_MS + HOURS * TARIFF_MS_PER_HOUR, &s, &res);
        CHECK(rc == 0 && res.outcome == TARIFF_OK, "depotd's CSV provider reads it (%s)", res.error);
        CHECK(s.n == HOURS, "and finds 96 hours (%zu)", s.n);
    }
    int same = 0;
    for (size_t i = 0; i < s.n && sp.n == HOURS; i++) {
        double mine = sim_prices_at(&sp, s.v[i].start_ms);
        same += s.v[i].end_ms - s.v[i].start_ms == TARIFF_MS_PER_HOUR && mine == s.v[i].price;
    }
    CHECK(same == HOURS, "every hour the same price in both (%d of %d)", same, HOURS);
    double lo = 1e9, hi = -1e9;
    for (int i = 0; i < sp.n; i++) {
        lo = sp.eur_kwh[i] < lo ? sp.eur_kwh[i] : lo;
        hi = sp.eur_kwh[i] > hi ? sp.eur_kwh[i] : hi;
    }
    CHECK(lo > 0.05 && hi < 1.0 && hi > 3 * lo, "EUR/kWh with a clear day/night spread (%.3f .. %.3f)", lo, hi);
    tariff_series_free(&s);
    tariff_provider_free(p);
    sim_prices_free(&sp);
    return CHECK_DONE();
}
