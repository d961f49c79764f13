/* The fallback chain slot by slot (market -> cached -> forecast -> fallback), 15/30/60-minute series on
 * 15- and 60-minute slot grids, the hour-of-week forecast from four weeks of real prices, and the source
 * record of a plan. */
#include "common.h"

#include <math.h>
#include <string.h>

static struct be_row rows[9000];
static int nrows;

static tariff_provider *fallback(void)
{
    char err[256];
    cJSON *j = cJSON_Parse("{\"type\":\"tou\",\"zone\":\"Europe/Brussels\",\"bands\":{\"weekday\":["
                           "{\"from\":\"00:00\",\"price\":0.20},{\"from\":\"07:00\",\"price\":0.40}],"
                           "\"weekend\":[{\"from\":\"00:00\",\"price\":0.15}]}}");
    tariff_provider *p = tariff_provider_from_json(j, err, sizeof err);
    cJSON_Delete(j);
    if (!p)
        printf("# %s\n", err);
    return p;
}

static void test_chain_slot_by_slot(void)
{
    char err[256] = "";
    tariff_provider *fb = fallback();
    const tariff_tz *tz = tariff_provider_zone(fb);
    /* grid: Wed 2022-06-01 00:00Z, 8 hourly slots
     *   fresh covers 00-02, stored covers 01-04 (fresh wins on overlap), 04-05 half covered (falls through),
     *   history gives a forecast for 05-07 only at hours that had >= 2 weeks of data, rest: fallback */
    int64_t t0 = t_utc(2022, 6, 1, 0, 0), H = TARIFF_MS_PER_HOUR;
    struct tariff_series fresh = {0}, stored = {0}, hist = {0};
    for (int i = 0; i < 8; i++) /* 15-minute fresh prices for 00-02 */
        tariff_series_push(&fresh, t0 + i * H / 4, t0 + (i + 1) * H / 4, 0.10 + 0.01 * i, TARIFF_SRC_MARKET);
    for (int i = 1; i < 4; i++)
        tariff_series_push(&stored, t0 + i * H, t0 + (i + 1) * H, 0.50 + i, TARIFF_SRC_MARKET);
    tariff_series_push(&stored, t0 + 4 * H, t0 + 4 * H + H / 2, 9.0, TARIFF_SRC_MARKET);
    /* history: 4 weeks back, same hour-of-week as slots 5 and 6 (07:00 and 08:00 local), two weeks for 5, one for 6 */
    for (int w = 1; w <= 2; w++)
        tariff_series_push(&hist, t0 + 5 * H - w * 7 * 24 * H, t0 + 6 * H - w * 7 * 24 * H, 0.30 + 0.1 * w,
                           TARIFF_SRC_MARKET);
    tariff_series_push(&hist, t0 + 6 * H - 7 * 24 * H, t0 + 7 * H - 7 * 24 * H, 0.99, TARIFF_SRC_MARKET);
    struct tariff_price out[8];
    int rc = tariff_slots(t0, H, 8, &fresh, &stored, &hist, fb, tz, out, err, sizeof err);
    CHECK(rc == 0, "slots computed (%s)", err);
    struct { enum tariff_source src; double price; const char *why; } want[8] = {
        {TARIFF_SRC_MARKET, (0.10 + 0.11 + 0.12 + 0.13) / 4, "fresh 15-min prices averaged into the hour"},
        {TARIFF_SRC_MARKET, (0.14 + 0.15 + 0.16 + 0.17) / 4, "fresh wins over stored"},
        {TARIFF_SRC_CACHED, 2.50, "stored covers it"},
        {TARIFF_SRC_CACHED, 3.50, "stored covers it"},
        {TARIFF_SRC_FALLBACK, 0.20, "stored covers only half: no partial slot; no history; fallback 04:00Z = 06:00 CEST"},
        {TARIFF_SRC_FORECAST, 0.45, "mean of the same hour-of-week in 2 of the last 4 weeks"},
        {TARIFF_SRC_FALLBACK, 0.40, "only one week of history: fallback peak band 08:00 CEST"},
        {TARIFF_SRC_FALLBACK, 0.40, "nothing: fallback"},
    };
    for (int i = 0; i < 8; i++)
        CHECK(out[i].source == want[i].src && fabs(out[i].price - want[i].price) < 1e-9 &&
                  out[i].start_ms == t0 + i * H && out[i].end_ms == t0 + (i + 1) * H,
              "slot %d: %s %.4f (%s; got %s %.4f)", i, tariff_source_name(want[i].src), want[i].price, want[i].why,
              tariff_source_name(out[i].source), out[i].price);
    unsigned used = tariff_sources_used(out, 8);
    char buf[64];
    CHECK(used == 0xF && strcmp(tariff_sources_text(used, buf, sizeof buf), "market+cached+forecast+fallback") == 0,
          "plan record: sources used = %s", buf);
    CHECK(tariff_sources_used(out, 2) == 1u << TARIFF_SRC_MARKET, "first two slots: market only");

    /* 60-minute prices on a 15-minute grid: each quarter gets its hour's price */
    struct tariff_price q[8];
    rc = tariff_slots(t0 + H, H / 4, 8, NULL, &stored, NULL, fb, tz, q, err, sizeof err);
    CHECK(rc == 0 && q[0].price == 1.5 && q[3].price == 1.5 && q[4].price == 2.5 && q[7].source == TARIFF_SRC_CACHED,
          "hourly prices mapped onto 15-minute slots");
    /* 30-minute prices on an hourly grid */
    struct tariff_series half = {0};
    tariff_series_push(&half, t0, t0 + H / 2, -0.05, TARIFF_SRC_MARKET);
    tariff_series_push(&half, t0 + H / 2, t0 + H, 0.15, TARIFF_SRC_MARKET);
    rc = tariff_slots(t0, H, 1, &half, NULL, NULL, fb, tz, q, err, sizeof err);
    CHECK(rc == 0 && fabs(q[0].price - 0.05) < 1e-12, "two half-hours (one negative) averaged into the hour: %.3f",
          q[0].price);

    rc = tariff_slots(t0, 7 * TARIFF_MS_PER_MIN, 4, NULL, NULL, NULL, fb, tz, q, err, sizeof err);
    CHECK(rc < 0, "a 7-minute grid is refused: %s", err);
    rc = tariff_slots(t0, H, 4, NULL, NULL, NULL, NULL, tz, q, err, sizeof err);
    CHECK(rc < 0 && strstr(err, "fallback"), "no fallback tariff is refused: %s", err);
    tariff_series_free(&fresh);
    tariff_series_free(&stored);
    tariff_series_free(&hist);
    tariff_series_free(&half);
    tariff_provider_free(fb);
}

static void test_forecast_from_real_prices(void)
{
    /* four weeks of the real BE prices (local rows -> UTC via the CSV parser) as history; forecast the week after */
    char err[256] = "";
    tariff_provider *fb = fallback();
    const tariff_tz *tz = tariff_provider_zone(fb);
    char csv[40000];
    size_t k = 0;
    int first = -1;
    for (int i = 0; i < nrows; i++)
        if (strncmp(rows[i].time, "02may2022", 9) == 0) {
            first = i;
            break;
        }
    for (int i = first; i < first + 28 * 24; i++)
        k += (size_t)snprintf(csv + k, sizeof csv - k, "%s,%.16g\n", rows[i].time, rows[i].price);
    struct tariff_series hist = {0};
    int rc = tariff_parse_csv(csv, k, tz, 60, 1, &hist, err, sizeof err);
    CHECK(rc == 0 && hist.n == 28 * 24, "history: 4 weeks of real prices from Mon 2 May 2022 (%s)", err);
    int64_t start = hist.v[hist.n - 1].end_ms; /* Mon 30 May 00:00 CEST */
    struct tariff_price out[24];
    rc = tariff_slots(start, TARIFF_MS_PER_HOUR, 24, NULL, NULL, &hist, fb, tz, out, err, sizeof err);
    double want = 0;
    for (int w = 0; w < 4; w++)
        want += rows[first + w * 7 * 24 + 18].price; /* Mondays 18:00 local */
    want /= 4;
    CHECK(rc == 0 && out[18].source == TARIFF_SRC_FORECAST && fabs(out[18].price - want) < 1e-9,
          "forecast for Mon 18:00 = mean of the 4 previous Mondays 18:00 (%.5f, got %.5f)", want, out[18].price);
    CHECK(tariff_sources_used(out, 24) == 1u << TARIFF_SRC_FORECAST, "a whole day beyond the horizon: forecast only");
    tariff_series_free(&hist);
    tariff_provider_free(fb);
}

static void test_fallback_on_dst_day(void)
{
    /* the static tariff on the 25-hour day: 25 hourly slots, the 07:00 band starts at 06:00Z (CET) */
    char err[256];
    cJSON *j = cJSON_Parse("{\"type\":\"tou\",\"zone\":\"Europe/Brussels\",\"bands\":{\"weekday\":["
                           "{\"from\":\"00:00\",\"price\":0.20},{\"from\":\"07:00\",\"price\":0.40}]}}");
    tariff_provider *fb = tariff_provider_from_json(j, err, sizeof err);
    cJSON_Delete(j);
    const tariff_tz *tz = tariff_provider_zone(fb);
    int64_t day = tariff_tz_from_local(tz, 2022, 10, 30, 0, 0, 0, false);
    int64_t next = tariff_tz_from_local(tz, 2022, 10, 31, 0, 0, 0, false);
    size_t n = (size_t)((next - day) / TARIFF_MS_PER_HOUR);
    struct tariff_price out[25];
    int rc = tariff_slots(day, TARIFF_MS_PER_HOUR, n, NULL, NULL, NULL, fb, tz, out, err, sizeof err);
    int peak_from = -1;
    for (size_t i = 0; i < n; i++)
        if (fabs(out[i].price - 0.40) < 1e-9 && peak_from < 0)
            peak_from = (int)i;
    CHECK(rc == 0 && n == 25 && peak_from == 8 && out[8].start_ms == t_utc(2022, 10, 30, 6, 0),
          "25-hour day: 25 slots, the 07:00 band starts in slot 8 = 06:00Z (slot %d)", peak_from);
    tariff_provider_free(fb);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (nrows = t_load_be(argv[1], rows, 9000)) < 8000) {
        printf("FAIL - cannot read the price data (argv[1])\n");
        return 1;
    }
    test_chain_slot_by_slot();
    test_forecast_from_real_prices();
    test_fallback_on_dst_day();
    return t_done();
}
