/* Every parser on realistic payloads built from the real Belgian day-ahead prices of 2022, in each provider's
 * public format, including DST days (23 and 25 hours), ENTSO-E A03 curves with omitted points and
 * Acknowledgement documents, Octopus pages, Tibber offsets, and the ways payloads go wrong. */
#include "common.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct be_row rows[9000];
static int nrows;

struct sb { char *p; size_t n, cap; };
static void ap(struct sb *b, const char *fmt, ...)
{
    va_list a;
    va_start(a, fmt);
    int need = vsnprintf(NULL, 0, fmt, a);
    va_end(a);
    if (b->n + (size_t)need + 1 > b->cap) {
        b->cap = (b->n + (size_t)need + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    va_start(a, fmt);
    vsnprintf(b->p + b->n, (size_t)need + 1, fmt, a);
    va_end(a);
    b->n += (size_t)need;
}

static bool contiguous(const struct tariff_series *s, int64_t step)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].end_ms - s->v[i].start_ms != step || (i && s->v[i].start_ms != s->v[i - 1].end_ms))
            return false;
    return s->n > 0;
}

static void test_awattar(void)
{
    double day[25];
    int n = t_be_day(rows, nrows, "01jun2022", day, 25);
    struct sb b = {0};
    int64_t t0 = t_utc(2022, 5, 31, 22, 0);
    ap(&b, "{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < n; i++)
        ap(&b, "%s{\"start_timestamp\":%lld,\"end_timestamp\":%lld,\"marketprice\":%.2f,\"unit\":\"Eur/MWh\"}",
           i ? "," : "", (long long)(t0 + i * TARIFF_MS_PER_HOUR), (long long)(t0 + (i + 1) * TARIFF_MS_PER_HOUR),
           day[i] * 1000);
    ap(&b, "],\"url\":\"/de/v1/marketdata\"}");
    struct tariff_series s = {0};
    char err[256] = "";
    int rc = tariff_parse_awattar(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 24 && contiguous(&s, TARIFF_MS_PER_HOUR), "awattar: 24 hourly prices (%s)", err);
    CHECK(s.n == 24 && fabs(s.v[7].price - day[7]) < 1e-5 && s.v[0].start_ms == t0,
          "awattar: EUR/MWh converted to EUR/kWh, start at the first timestamp");

    char *wrong = strstr(b.p, "Eur/MWh");
    memcpy(wrong, "Eur/kWh", 7);
    tariff_series_clear(&s);
    rc = tariff_parse_awattar(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_IMPLAUSIBLE && s.n == 0, "awattar: wrong unit is implausible: %s", err);
    rc = tariff_parse_awattar("{\"object\":\"list\",\"data\":[]}", 27, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_EMPTY, "awattar: empty data is empty: %s", err);
    rc = tariff_parse_awattar(b.p, b.n / 2, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE, "awattar: truncated body is a parse failure: %s", err);
    tariff_series_free(&s);
    free(b.p);
}

/* One TimeSeries; omit[i] leaves point i+1 out (A03 style). */
static void entsoe_doc(struct sb *b, const char *start, const char *end, const char *res, const char *curve,
                       const double *p, int n, const bool *omit, const char *currency)
{
    ap(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Publication_MarketDocument "
          "xmlns=\"urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3\">\n<mRID>a1b2</mRID>"
          "<revisionNumber>1</revisionNumber><type>A44</type>"
          "<period.timeInterval><start>%s</start><end>%s</end></period.timeInterval>\n", start, end);
    ap(b, "<TimeSeries><mRID>1</mRID><auction.type>A01</auction.type><businessType>A62</businessType>"
          "<in_Domain.mRID codingScheme=\"A01\">10YBE----------2</in_Domain.mRID>"
          "<out_Domain.mRID codingScheme=\"A01\">10YBE----------2</out_Domain.mRID>"
          "<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>"
          "<currency_Unit.name>%s</currency_Unit.name><price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
          "<curveType>%s</curveType>\n<Period><timeInterval><start>%s</start><end>%s</end></timeInterval>"
          "<resolution>%s</resolution>\n", currency, curve, start, end, res);
    for (int i = 0; i < n; i++)
        if (!omit || !omit[i])
            ap(b, "<Point><position>%d</position><price.amount>%.2f</price.amount></Point>\n", i + 1, p[i] * 1000);
    ap(b, "</Period></TimeSeries></Publication_MarketDocument>\n");
}

static void test_entsoe(void)
{
    double day[25];
    char err[256] = "";
    struct tariff_series s = {0};
    struct sb b = {0};

    /* 27 March 2022, Brussels: 23 hours, 2022-03-26T23:00Z .. 2022-03-27T22:00Z */
    int n = t_be_day(rows, nrows, "27mar2022", day, 25);
    CHECK(n == 23, "the real data has 23 rows on 27 Mar 2022 (%d)", n);
    entsoe_doc(&b, "2022-03-26T23:00Z", "2022-03-27T22:00Z", "PT60M", "A01", day, n, NULL, "EUR");
    int rc = tariff_parse_entsoe(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 23 && contiguous(&s, TARIFF_MS_PER_HOUR) && s.v[0].start_ms == t_utc(2022, 3, 26, 23, 0),
          "entsoe A01: 23-hour day gives 23 hourly prices from 23:00Z (%s)", err);
    CHECK(s.n == 23 && fabs(s.v[22].price - day[22]) < 1e-5, "entsoe: last price equals the source");
    free(b.p);
    b = (struct sb){0};

    /* 30 October 2022: 25 hours; A03 omits points repeating the previous price, including the trailing ones */
    n = t_be_day(rows, nrows, "30oct2022", day, 25);
    CHECK(n == 25, "the real data has 25 rows on 30 Oct 2022 (%d)", n);
    day[4] = day[5] = day[3];
    day[23] = day[24] = day[22];
    bool omit[25] = {0};
    omit[4] = omit[5] = omit[23] = omit[24] = true;
    entsoe_doc(&b, "2022-10-29T22:00Z", "2022-10-30T23:00Z", "PT60M", "A03", day, n, omit, "EUR");
    tariff_series_clear(&s);
    rc = tariff_parse_entsoe(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 25 && contiguous(&s, TARIFF_MS_PER_HOUR), "entsoe A03: 25-hour day fully expanded (%s)",
          err);
    bool same = s.n == 25;
    for (int i = 0; same && i < 25; i++)
        same = fabs(s.v[i].price - day[i]) < 1e-5;
    CHECK(same, "entsoe A03: omitted points (inside and trailing) repeat the previous price");
    free(b.p);
    b = (struct sb){0};

    /* the same A03 document declared A01: the omitted points are holes */
    entsoe_doc(&b, "2022-10-29T22:00Z", "2022-10-30T23:00Z", "PT60M", "A01", day, n, omit, "EUR");
    tariff_series_clear(&s);
    rc = tariff_parse_entsoe(b.p, b.n, &s, err, sizeof err);
    int v = rc == 0 ? tariff_series_validate(&s, -1, 5, false, err, sizeof err) : rc;
    CHECK(v == -TARIFF_ERR_IMPLAUSIBLE && strstr(err, "gap"), "entsoe A01 with missing points is a gap: %s", err);
    free(b.p);
    b = (struct sb){0};

    /* 15-minute resolution, and a day published at both 60 and 15 minutes: the finer one wins */
    double q[96];
    n = t_be_day(rows, nrows, "01jun2022", day, 25);
    for (int i = 0; i < 96; i++)
        q[i] = day[i / 4] + 0.001 * (i % 4);
    entsoe_doc(&b, "2022-05-31T22:00Z", "2022-06-01T22:00Z", "PT15M", "A01", q, 96, NULL, "EUR");
    tariff_series_clear(&s);
    rc = tariff_parse_entsoe(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 96 && contiguous(&s, 15 * TARIFF_MS_PER_MIN), "entsoe PT15M: 96 quarter-hours (%s)", err);
    char *ts_end = strstr(b.p, "</Publication_MarketDocument>");
    struct sb hourly = {0};
    entsoe_doc(&hourly, "2022-05-31T22:00Z", "2022-06-01T22:00Z", "PT60M", "A01", day, 24, NULL, "EUR");
    char *h_ts = strstr(hourly.p, "<TimeSeries>"), *h_end = strstr(hourly.p, "</Publication_MarketDocument>");
    struct sb both = {0};
    ap(&both, "%.*s%.*s</Publication_MarketDocument>", (int)(ts_end - b.p), b.p, (int)(h_end - h_ts), h_ts);
    tariff_series_clear(&s);
    rc = tariff_parse_entsoe(both.p, both.n, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 96 && contiguous(&s, 15 * TARIFF_MS_PER_MIN),
          "entsoe: same day at PT60M and PT15M keeps the 96 quarter-hours (%zu, %s)", s.n, err);
    free(both.p);
    free(hourly.p);
    free(b.p);
    b = (struct sb){0};

    entsoe_doc(&b, "2022-05-31T22:00Z", "2022-06-01T22:00Z", "PT60M", "A01", day, 24, NULL, "PLN");
    rc = tariff_parse_entsoe(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_IMPLAUSIBLE, "entsoe: prices not in EUR/MWH are implausible: %s", err);
    rc = tariff_parse_entsoe(b.p, b.n - 60, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE, "entsoe: truncated XML is a parse failure: %s", err);
    free(b.p);

    const char *ack = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Acknowledgement_MarketDocument "
                      "xmlns=\"urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0\"><mRID>x</mRID>"
                      "<createdDateTime>2022-06-01T10:00:00Z</createdDateTime><Reason><code>999</code>"
                      "<text>No matching data found for Data item Day-ahead Prices [12.1.D] (10YBE----------2, "
                      "10YBE----------2) and interval 2022-06-02T22:00:00.000Z/2022-06-03T22:00:00.000Z.</text>"
                      "</Reason></Acknowledgement_MarketDocument>";
    rc = tariff_parse_entsoe(ack, strlen(ack), &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_EMPTY && strstr(err, "999"), "entsoe: Acknowledgement 'No matching data' is empty: %s",
          err);
    const char *ack2 = "<Acknowledgement_MarketDocument xmlns=\"urn:x\"><Reason><code>999</code>"
                       "<text>Unknown area code</text></Reason></Acknowledgement_MarketDocument>";
    rc = tariff_parse_entsoe(ack2, strlen(ack2), &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE && strstr(err, "Unknown area"), "entsoe: other Acknowledgement reason: %s", err);
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                      "<Acknowledgement_MarketDocument><Reason><code>1</code><text>&x;</text></Reason>"
                      "</Acknowledgement_MarketDocument>";
    rc = tariff_parse_entsoe(xxe, strlen(xxe), &s, err, sizeof err);
    CHECK(rc < 0 && !strstr(err, "root:"), "entsoe: external entities are not expanded: %s", err);
    tariff_series_free(&s);
}

static void test_energy_charts(void)
{
    double day[25];
    int n = t_be_day(rows, nrows, "15aug2022", day, 25);
    struct sb b = {0};
    int64_t t0 = t_utc(2022, 8, 14, 22, 0) / 1000;
    ap(&b, "{\"license_info\":\"CC BY 4.0\",\"unix_seconds\":[");
    for (int i = 0; i < n * 4; i++)
        ap(&b, "%s%lld", i ? "," : "", (long long)(t0 + i * 900));
    ap(&b, "],\"price\":[");
    for (int i = 0; i < n * 4; i++)
        ap(&b, "%s%.2f", i ? "," : "", day[i / 4] * 1000);
    ap(&b, "],\"unit\":\"EUR / MWh\",\"deprecated\":false}");
    struct tariff_series s = {0};
    char err[256] = "";
    int rc = tariff_parse_energy_charts(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 96 && contiguous(&s, 15 * TARIFF_MS_PER_MIN), "energy-charts: 96 quarter-hours (%s)", err);
    char *u = strstr(b.p, "EUR / MWh");
    memcpy(u, "EUR / kWh", 9);
    tariff_series_clear(&s);
    rc = tariff_parse_energy_charts(b.p, b.n, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_IMPLAUSIBLE, "energy-charts: wrong unit: %s", err);
    const char *nul = "{\"unix_seconds\":[1660514400,1660515300],\"price\":[120.5,null],\"unit\":\"EUR / MWh\"}";
    rc = tariff_parse_energy_charts(nul, strlen(nul), &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_IMPLAUSIBLE, "energy-charts: a null price is a hole: %s", err);
    const char *mis = "{\"unix_seconds\":[1660514400,1660515300],\"price\":[120.5],\"unit\":\"EUR / MWh\"}";
    rc = tariff_parse_energy_charts(mis, strlen(mis), &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE, "energy-charts: arrays of different length: %s", err);
    tariff_series_free(&s);
    free(b.p);
}

/* Octopus half-hours in pence, newest first, split over two pages. */
static void octopus_page(struct sb *b, int64_t t0, int from, int to, const double *day, const char *next)
{
    ap(b, "{\"count\":48,\"next\":%s%s%s,\"previous\":null,\"results\":[", next ? "\"" : "", next ? next : "null",
       next ? "\"" : "");
    for (int i = to - 1; i >= from; i--) {
        char a[32], e[32];
        int64_t s = (t0 + i * 30 * TARIFF_MS_PER_MIN) / 1000, en = s + 1800;
        strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){(time_t)s}));
        strftime(e, sizeof e, "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){(time_t)en}));
        double p = day[i / 2] * 100 * 0.86; /* EUR/kWh -> pence, roughly */
        ap(b, "%s{\"value_exc_vat\":%.4f,\"value_inc_vat\":%.4f,\"valid_from\":\"%s\",\"valid_to\":\"%s\","
              "\"payment_method\":null}", i == to - 1 ? "" : ",", p, p * 1.05, a, e);
    }
    ap(b, "]}");
}

static void test_octopus(void)
{
    double day[25];
    t_be_day(rows, nrows, "30oct2022", day, 25);
    int64_t t0 = t_utc(2022, 10, 30, 0, 0); /* London: the 25-hour day starts at 00:00 BST = 23:00Z the day before; the
                                               half-hours themselves are UTC, as Octopus lists them */
    struct sb p1 = {0}, p2 = {0};
    octopus_page(&p1, t0, 24, 48, day, "https://api.octopus.energy/v1/products/AGILE-FLEX-22-11-25/"
                                       "electricity-tariffs/E-1R-AGILE-FLEX-22-11-25-C/standard-unit-rates/?page=2");
    octopus_page(&p2, t0, 0, 24, day, NULL);
    struct tariff_series s = {0};
    char err[256] = "", next[512];
    int rc = tariff_parse_octopus(p1.p, p1.n, false, next, sizeof next, &s, err, sizeof err);
    CHECK(rc == 0 && strstr(next, "page=2"), "octopus: page 1 parsed, next link read (%s)", err);
    rc = tariff_parse_octopus(p2.p, p2.n, false, next, sizeof next, &s, err, sizeof err);
    CHECK(rc == 0 && next[0] == '\0', "octopus: last page has no next");
    /* pages arrive newest first: each page comes out ascending; read page 2 first to get one ascending run */
    struct tariff_series all = {0};
    rc = tariff_parse_octopus(p2.p, p2.n, true, NULL, 0, &all, err, sizeof err);
    rc |= tariff_parse_octopus(p1.p, p1.n, true, NULL, 0, &all, err, sizeof err);
    CHECK(rc == 0 && all.n == 48 && contiguous(&all, 30 * TARIFF_MS_PER_MIN) && all.v[0].start_ms == t0,
          "octopus: 48 half-hours ascending across pages");
    CHECK(all.n == 48 && fabs(all.v[3].price - day[1] * 0.86 * 1.05) < 1e-5, "octopus: inc-VAT pence -> GBP/kWh");
    CHECK(s.n == 48 && fabs(s.v[24].price - day[0] * 0.86) < 1e-5, "octopus: exc-VAT value picked when asked");
    tariff_series_free(&s);
    tariff_series_free(&all);
    free(p1.p);
    free(p2.p);
}

static void test_tibber(void)
{
    /* Oslo, 30 Oct 2022: 25 hourly prices "today" with the offset changing from +02:00 to +01:00, then 24 for
     * "tomorrow" in +01:00. */
    double day[25], next[25];
    t_be_day(rows, nrows, "30oct2022", day, 25);
    t_be_day(rows, nrows, "31oct2022", next, 25);
    struct sb b = {0};
    ap(&b, "{\"data\":{\"viewer\":{\"homes\":[{\"currentSubscription\":{\"priceInfo\":{\"today\":[");
    for (int i = 0; i < 25; i++) {
        int h = i < 3 ? i : i - 1; /* local hours 00,01,02,02,03,... */
        const char *off = i < 3 ? "+02:00" : "+01:00";
        ap(&b, "%s{\"total\":%.4f,\"energy\":%.4f,\"tax\":%.4f,\"startsAt\":\"2022-10-30T%02d:00:00.000%s\","
               "\"currency\":\"NOK\"}", i ? "," : "", day[i] * 12.5, day[i] * 10, day[i] * 2.5, h, off);
    }
    ap(&b, "],\"tomorrow\":[");
    for (int i = 0; i < 24; i++)
        ap(&b, "%s{\"total\":%.4f,\"energy\":%.4f,\"tax\":%.4f,\"startsAt\":\"2022-10-31T%02d:00:00.000+01:00\","
               "\"currency\":\"NOK\"}", i ? "," : "", next[i] * 12.5, next[i] * 10, next[i] * 2.5, i);
    ap(&b, "]}}}]}}}");
    struct tariff_series s = {0};
    char err[256] = "", cur[4];
    int rc = tariff_parse_tibber(b.p, b.n, 0, "total", cur, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 49 && contiguous(&s, TARIFF_MS_PER_HOUR) && s.v[0].start_ms == t_utc(2022, 10, 29, 22, 0),
          "tibber: 25 + 24 hours across the offset change, contiguous from 22:00Z (%s)", err);
    CHECK(strcmp(cur, "NOK") == 0 && s.n == 49 && fabs(s.v[3].price - day[3] * 12.5) < 1e-4,
          "tibber: currency NOK, 'total' picked");
    tariff_series_clear(&s);
    rc = tariff_parse_tibber(b.p, b.n, 0, "energy", cur, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 49 && fabs(s.v[3].price - day[3] * 10) < 1e-4, "tibber: 'energy' picked when asked");
    rc = tariff_parse_tibber(b.p, b.n, 1, "total", cur, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE, "tibber: a home index that does not exist: %s", err);
    free(b.p);
    b = (struct sb){0};

    /* quarter-hourly on the 23-hour day, Stockholm */
    double d27[25];
    t_be_day(rows, nrows, "27mar2022", d27, 25);
    ap(&b, "{\"data\":{\"viewer\":{\"homes\":[{\"currentSubscription\":{\"priceInfo\":{\"today\":[");
    for (int i = 0; i < 92; i++) {
        int lh = i / 4 < 2 ? i / 4 : i / 4 + 1; /* 02:xx does not exist */
        ap(&b, "%s{\"total\":%.4f,\"energy\":0,\"tax\":0,\"startsAt\":\"2022-03-27T%02d:%02d:00.000%s\","
               "\"currency\":\"SEK\"}", i ? "," : "", d27[i / 4] * 11, lh, (i % 4) * 15, lh < 2 ? "+01:00" : "+02:00");
    }
    ap(&b, "],\"tomorrow\":[]}}}]}}}");
    tariff_series_clear(&s);
    rc = tariff_parse_tibber(b.p, b.n, 0, "total", cur, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 92 && contiguous(&s, 15 * TARIFF_MS_PER_MIN), "tibber: 92 quarter-hours on the 23-hour day");
    const char *gqlerr = "{\"errors\":[{\"message\":\"Context creation failed: invalid token\"}],\"data\":null}";
    rc = tariff_parse_tibber(gqlerr, strlen(gqlerr), 0, "total", cur, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE && strstr(err, "invalid token"), "tibber: GraphQL errors reported: %s", err);
    tariff_series_free(&s);
    free(b.p);
}

static void test_elering(void)
{
    double day[25];
    int n = t_be_day(rows, nrows, "10feb2022", day, 25);
    int64_t t0 = t_utc(2022, 2, 9, 22, 0) / 1000;
    for (int ms = 0; ms < 2; ms++) {
        struct sb b = {0};
        ap(&b, "{\"success\":true,\"data\":{\"ee\":[");
        for (int i = 0; i < n; i++)
            ap(&b, "%s{\"timestamp\":%lld,\"price\":%.2f}", i ? "," : "", (long long)(t0 + i * 3600) * (ms ? 1000 : 1),
               day[i] * 1000);
        ap(&b, "],\"fi\":[],\"lv\":[],\"lt\":[]}}");
        struct tariff_series s = {0};
        char err[256] = "";
        int rc = tariff_parse_elering(b.p, b.n, "ee", &s, err, sizeof err);
        CHECK(rc == 0 && s.n == 24 && contiguous(&s, TARIFF_MS_PER_HOUR) && s.v[0].start_ms == t0 * 1000,
              "elering: 24 hours for ee, timestamps in %s (%s)", ms ? "ms" : "seconds", err);
        tariff_series_clear(&s);
        rc = tariff_parse_elering(b.p, b.n, "fi", &s, err, sizeof err);
        CHECK(rc == -TARIFF_ERR_EMPTY, "elering: empty area is empty: %s", err);
        tariff_series_free(&s);
        free(b.p);
    }
    struct tariff_series s = {0};
    char err[256];
    const char *no = "{\"success\":false,\"data\":null}";
    CHECK(tariff_parse_elering(no, strlen(no), "ee", &s, err, sizeof err) == -TARIFF_ERR_PARSE,
          "elering: success false: %s", err);
}

static void test_generic_json_and_csv(void)
{
    char err[256] = "";
    tariff_tz *be = tariff_tz_load("Europe/Brussels", NULL, err, sizeof err);
    struct tariff_json_map m = {.array = "/result/prices", .start = "/from", .end = "", .price = "/p/eur_mwh",
                                .time_format = TARIFF_TIME_EPOCH_MS, .resolution_min = 60, .multiplier = 0.001};
    const char *doc = "{\"result\":{\"prices\":[{\"from\":1654034400000,\"p\":{\"eur_mwh\":212.5}},"
                      "{\"from\":1654038000000,\"p\":{\"eur_mwh\":\"-3.2\"}}]}}";
    struct tariff_series s = {0};
    int rc = tariff_parse_json_mapped(doc, strlen(doc), &m, be, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 2 && fabs(s.v[0].price - 0.2125) < 1e-9 && fabs(s.v[1].price + 0.0032) < 1e-9 &&
              s.v[1].end_ms - s.v[1].start_ms == TARIFF_MS_PER_HOUR,
          "json: pointers, epoch ms, fixed resolution, multiplier, a negative price kept (%s)", err);
    struct tariff_json_map m2 = {.array = "", .start = "/s", .end = "/e", .price = "/v",
                                 .time_format = TARIFF_TIME_ISO, .multiplier = 1};
    const char *doc2 = "[{\"s\":\"2022-06-01T00:00:00\",\"e\":\"2022-06-01T00:30:00\",\"v\":0.31}]";
    tariff_series_clear(&s);
    rc = tariff_parse_json_mapped(doc2, strlen(doc2), &m2, be, &s, err, sizeof err);
    CHECK(rc == 0 && s.n == 1 && s.v[0].start_ms == t_utc(2022, 5, 31, 22, 0) &&
              s.v[0].end_ms == t_utc(2022, 5, 31, 22, 30),
          "json: naive ISO times are local to the configured zone, end pointer read");
    tariff_series_clear(&s);
    rc = tariff_parse_json_mapped(doc2, strlen(doc2), &m, be, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE, "json: pointer to nothing: %s", err);

    /* the real CSV lines around both DST days: local times, a missing 02:00 and a repeated 02:00 */
    for (int k = 0; k < 2; k++) {
        const char *days[2][3] = {{"26mar2022", "27mar2022", "28mar2022"}, {"29oct2022", "30oct2022", "31oct2022"}};
        struct sb b = {0};
        ap(&b, "time,DAM_price\n");
        int lines = 0;
        for (int i = 0; i < nrows; i++)
            for (int d = 0; d < 3; d++)
                if (strncmp(rows[i].time, days[k][d], 9) == 0) {
                    ap(&b, "%s,%.16g\n", rows[i].time, rows[i].price);
                    lines++;
                }
        tariff_series_clear(&s);
        rc = tariff_parse_csv(b.p, b.n, be, 60, 1.0, &s, err, sizeof err);
        int v = rc == 0 ? tariff_series_validate(&s, -1, 5, false, err, sizeof err) : rc;
        CHECK(rc == 0 && v == 0 && (int)s.n == lines && lines == (k ? 73 : 71),
              "csv: the real rows of %s..%s are %d contiguous UTC hours (%s)", days[k][0], days[k][2], lines, err);
        if (k == 1) {
            int64_t first = t_utc(2022, 10, 30, 0, 0), second = t_utc(2022, 10, 30, 1, 0);
            bool f = false, sec = false;
            for (size_t i = 0; i < s.n; i++) {
                f |= s.v[i].start_ms == first;
                sec |= s.v[i].start_ms == second;
            }
            CHECK(f && sec, "csv: the repeated 02:00 maps to 00:00Z and then 01:00Z");
        }
        free(b.p);
    }
    const char *bad = "time,price\n2022-06-01T00:00:00Z,0.1\n2022-06-01T01:00:00Z,abc\n";
    rc = tariff_parse_csv(bad, strlen(bad), be, 60, 1, &s, err, sizeof err);
    CHECK(rc == -TARIFF_ERR_PARSE && strstr(err, "line 3"), "csv: a bad line is named: %s", err);
    tariff_series_free(&s);
    tariff_tz_free(be);
}

static void test_validate(void)
{
    struct { const char *what; int64_t s[3], e[3]; double p[3]; int want; } cases[] = {
        {"contiguous hours", {0, 3600000, 7200000}, {3600000, 7200000, 10800000}, {0.1, -0.2, 0.3}, 0},
        {"gap", {0, 7200000, 10800000}, {3600000, 10800000, 14400000}, {0.1, 0.1, 0.1}, -TARIFF_ERR_IMPLAUSIBLE},
        {"overlap", {0, 1800000, 3600000}, {3600000, 3600000, 7200000}, {0.1, 0.1, 0.1}, -TARIFF_ERR_IMPLAUSIBLE},
        {"45-minute interval", {0, 2700000, 6300000}, {2700000, 6300000, 9900000}, {0.1, 0.1, 0.1},
         -TARIFF_ERR_IMPLAUSIBLE},
        {"price in EUR/MWh by mistake", {0, 3600000, 7200000}, {3600000, 7200000, 10800000}, {82.0, 67.0, 75.1},
         -TARIFF_ERR_IMPLAUSIBLE},
        {"NaN price", {0, 3600000, 7200000}, {3600000, 7200000, 10800000}, {0.1, NAN, 0.1}, -TARIFF_ERR_IMPLAUSIBLE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct tariff_series s = {0};
        for (int k = 0; k < 3; k++)
            tariff_series_push(&s, cases[i].s[k], cases[i].e[k], cases[i].p[k], TARIFF_SRC_MARKET);
        char err[256] = "";
        int rc = tariff_series_validate(&s, -1, 5, false, err, sizeof err);
        CHECK(rc == cases[i].want, "validate: %s -> %d (%s)", cases[i].what, rc, err);
        tariff_series_free(&s);
    }
    struct tariff_series empty = {0};
    char err[64];
    CHECK(tariff_series_validate(&empty, -1, 5, false, err, sizeof err) == -TARIFF_ERR_EMPTY, "validate: empty");
}

int main(int argc, char **argv)
{
    if (argc < 2 || (nrows = t_load_be(argv[1], rows, 9000)) < 8000) {
        printf("FAIL - cannot read the price data (argv[1])\n");
        return 1;
    }
    test_awattar();
    test_entsoe();
    test_energy_charts();
    test_octopus();
    test_tibber();
    test_elering();
    test_generic_json_and_csv();
    test_validate();
    return t_done();
}
