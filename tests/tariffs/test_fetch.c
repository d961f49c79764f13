/* tariff_fetch against a real HTTPS server on 127.0.0.1 (price_server.py, certificates generated now with the
 * openssl CLI into a temp dir): every provider's request and format, and every fault the breaker must see -
 * hang, slow drip, 500/503/429 with Retry-After, 4xx, truncated, malformed, huge, wrong unit, empty, and a
 * certificate not signed by the configured CA. Times are checked loosely (upper bounds) on a shared machine. */
#include "common.h"

#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct be_row rows[9000];
static int nrows;
static struct t_server srv, rogue;
static char dir[256], ca[300];

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A provider config pointed at the test server. extra: more JSON members (without braces). */
static tariff_provider *provider(const struct t_server *s, const char *type, const char *path, const char *extra,
                                 long timeout_ms)
{
    char cfg[4096], err[256];
    snprintf(cfg, sizeof cfg,
             "{\"type\":\"%s\",\"url\":\"https://127.0.0.1:%d%s\",\"zone\":\"Europe/Brussels\","
             "\"http\":{\"ca_file\":\"%s\",\"connect_timeout_ms\":1000,\"timeout_ms\":%ld,"
             "\"low_speed_bytes_per_s\":64,\"low_speed_time_s\":1,\"max_body_bytes\":1048576}%s%s}",
             type, s->port, path, ca, timeout_ms, extra[0] ? "," : "", extra);
    cJSON *j = cJSON_Parse(cfg);
    tariff_provider *p = tariff_provider_from_json(j, err, sizeof err);
    cJSON_Delete(j);
    if (!p)
        printf("# provider config error: %s\n", err);
    return p;
}

static char *json_escape(const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *out = cJSON_PrintUnformatted(str);
    cJSON_Delete(str);
    return out;
}

static int route(const char *path, const char *body, int status, const char *more)
{
    char *eb = json_escape(body);
    size_t l = strlen(eb) + strlen(path) + (more ? strlen(more) : 0) + 128;
    char *js = malloc(l);
    snprintf(js, l, "{\"%s\":{\"status\":%d,\"body\":%s%s%s}}", path, status, eb, more ? "," : "", more ? more : "");
    int rc = t_server_routes(&srv, js);
    free(js);
    free(eb);
    return rc;
}

static char *awattar_body(int64_t t0, const char *day, const char *unit)
{
    double p[25];
    int n = t_be_day(rows, nrows, day, p, 25);
    size_t cap = 200 + (size_t)n * 160;
    char *b = malloc(cap);
    size_t k = (size_t)snprintf(b, cap, "{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(b + k, cap - k,
                              "%s{\"start_timestamp\":%lld,\"end_timestamp\":%lld,\"marketprice\":%.2f,\"unit\":\"%s\"}",
                              i ? "," : "", (long long)(t0 + i * TARIFF_MS_PER_HOUR),
                              (long long)(t0 + (i + 1) * TARIFF_MS_PER_HOUR), p[i] * 1000, unit);
    snprintf(b + k, cap - k, "]}");
    return b;
}

static void test_awattar_ok_and_composed(void)
{
    int64_t t0 = t_utc(2022, 6, 1, 22, 0);
    char *body = awattar_body(t0, "02jun2022", "Eur/MWh");
    route("/awattar/v1/marketdata", body, 200, NULL);
    tariff_provider *p = provider(&srv, "awattar", "/awattar/v1/marketdata",
                                  "\"composition\":{\"adders_per_kwh\":[{\"name\":\"supplier\",\"price\":0.02}],"
                                  "\"vat_percent\":21}", 3000);
    struct tariff_series s = {0};
    struct tariff_fetch_result r;
    double day[25];
    t_be_day(rows, nrows, "02jun2022", day, 25);
    int rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc == 0 && r.outcome == TARIFF_OK && s.n == 24 && r.http_status == 200, "awattar over HTTPS: 24 prices (%s)",
          r.error);
    CHECK(s.n == 24 && fabs(s.v[5].price - (day[5] + 0.02) * 1.21) < 1e-4 && s.v[5].source == TARIFF_SRC_MARKET,
          "composition: (market + adder) * (1 + VAT)");
    char *log = t_server_requests(&srv);
    char want[64];
    snprintf(want, sizeof want, "start=%lld&end=%lld", (long long)t0, (long long)(t0 + TARIFF_MS_PER_DAY));
    CHECK(log && strstr(log, want) && strstr(log, "depotd-tariffs"), "awattar request: %s in epoch ms, User-Agent sent",
          want);
    free(log);
    free(body);

    body = awattar_body(t0, "02jun2022", "Eur/kWh");
    route("/awattar/v1/marketdata", body, 200, NULL);
    tariff_series_clear(&s);
    rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_IMPLAUSIBLE && s.n == 0, "wrong unit -> implausible: %s", r.error);
    free(body);
    route("/awattar/v1/marketdata", "{\"object\":\"list\",\"data\":[]}", 200, NULL);
    rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_EMPTY, "empty series -> empty: %s", r.error);
    route("/awattar/v1/marketdata", "{\"object\":\"list\",\"data\":[{\"start_timestamp\":", 200, NULL);
    rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_PARSE, "malformed JSON -> parse: %s", r.error);
    tariff_series_free(&s);
    tariff_provider_free(p);
}

static void test_faults(void)
{
    int64_t t0 = t_utc(2022, 6, 1, 22, 0);
    char *body = awattar_body(t0, "02jun2022", "Eur/MWh");
    struct tariff_series s = {0};
    struct tariff_fetch_result r;
    tariff_provider *p = provider(&srv, "awattar", "/f/hang", "", 1500);
    route("/f/hang", body, 200, "\"fault\":\"hang\",\"delay_s\":10");
    int64_t a = mono_ms();
    int rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    int64_t took = mono_ms() - a;
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_TIMEOUT && took < 3000, "hanging server: timeout after %lld ms (limit 1500)",
          (long long)took);
    tariff_provider_free(p);

    p = provider(&srv, "awattar", "/f/drip", "", 30000);
    route("/f/drip", body, 200, "\"fault\":\"drip\",\"drip_interval_s\":0.2");
    a = mono_ms();
    rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    took = mono_ms() - a;
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_TIMEOUT && took < 5000,
          "slow drip (5 B/s < 64 B/s floor) aborted by the low-speed rule after %lld ms, not the 30 s timeout",
          (long long)took);
    tariff_provider_free(p);

    struct { const char *path, *more; int status; enum tariff_outcome want; int64_t retry; const char *what; } c[] = {
        {"/f/500", NULL, 500, TARIFF_ERR_HTTP, 0, "HTTP 500"},
        {"/f/503", "\"headers\":{\"Retry-After\":\"120\"}", 503, TARIFF_ERR_HTTP, 120000, "HTTP 503 + Retry-After"},
        {"/f/429", "\"headers\":{\"Retry-After\":\"30\"}", 429, TARIFF_ERR_RATE_LIMITED, 30000, "HTTP 429 + Retry-After"},
        {"/f/401", NULL, 401, TARIFF_ERR_CONFIG, 0, "HTTP 401 (bad token)"},
        {"/f/404", NULL, 404, TARIFF_ERR_CONFIG, 0, "HTTP 404 (bad URL)"},
        {"/f/trunc", "\"fault\":\"truncate\"", 200, TARIFF_ERR_TRANSPORT, 0, "truncated body"},
        {"/f/close", "\"fault\":\"close\"", 200, TARIFF_ERR_TRANSPORT, 0, "connection closed without answer"},
        {"/f/huge", "\"fault\":\"huge\",\"huge_bytes\":67108864", 200, TARIFF_ERR_TOO_LARGE, 0,
         "64 MiB body without Content-Length (cap 1 MiB)"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        p = provider(&srv, "awattar", c[i].path, "", 5000);
        route(c[i].path, c[i].status == 200 ? body : "{\"error\":\"x\"}", c[i].status, c[i].more);
        tariff_series_clear(&s);
        a = mono_ms();
        rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
        took = mono_ms() - a;
        CHECK(rc < 0 && r.outcome == c[i].want && r.retry_after_ms == c[i].retry && s.n == 0,
              "%s -> %s, retry_after %lld ms, %lld ms (%s)", c[i].what, tariff_outcome_name(r.outcome),
              (long long)r.retry_after_ms, (long long)took, r.error);
        tariff_provider_free(p);
    }

    /* a certificate not signed by the configured CA */
    p = provider(&rogue, "awattar", "/awattar/v1/marketdata", "", 3000);
    rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_TRANSPORT && strstr(r.error, "TLS"),
          "certificate not signed by ca_file is rejected: %s", r.error);
    tariff_provider_free(p);

    /* nothing listening */
    char cfg[512], err[256];
    snprintf(cfg, sizeof cfg, "{\"type\":\"awattar\",\"url\":\"https://127.0.0.1:1/x\",\"http\":{\"ca_file\":\"%s\","
                              "\"timeout_ms\":2000}}", ca);
    cJSON *j = cJSON_Parse(cfg);
    p = tariff_provider_from_json(j, err, sizeof err);
    cJSON_Delete(j);
    rc = tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_TRANSPORT, "connection refused -> transport: %s", r.error);
    tariff_provider_free(p);
    tariff_series_free(&s);
    free(body);
}

static void test_breaker_with_real_faults(void)
{
    /* the worker loop depotd runs, on the real server: 500s open the breaker, calls stop, a probe closes it */
    int64_t t0 = t_utc(2022, 6, 1, 22, 0);
    char *body = awattar_body(t0, "02jun2022", "Eur/MWh");
    char *eb = json_escape(body), js[65536];
    snprintf(js, sizeof js, "{\"/b/seq\":{\"sequence\":[{\"status\":500,\"body\":\"x\"},{\"status\":503,\"body\":\"x\"},"
                            "{\"status\":500,\"body\":\"x\"},{\"status\":200,\"body\":%s}]}}", eb);
    t_server_routes(&srv, js);
    free(eb);
    tariff_provider *p = provider(&srv, "awattar", "/b/seq", "", 3000);
    struct tariff_breaker_config c;
    tariff_breaker_config_default(&c);
    c.failure_threshold = 3;
    c.jitter = 0;
    struct tariff_breaker b;
    tariff_breaker_init(&b, &c);
    struct tariff_series s = {0};
    struct tariff_fetch_result r;
    int64_t now = 0;
    int calls = 0;
    for (int i = 0; i < 6; i++, now += 1000) {
        if (!tariff_breaker_allow(&b, now))
            continue;
        calls++;
        tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
        tariff_breaker_record(&b, now, r.outcome, r.duration_ms, r.retry_after_ms);
    }
    CHECK(calls == 3 && b.state == TARIFF_BREAKER_OPEN, "3 server errors open the breaker; 3 more ticks make no call");
    now = b.open_until_ms;
    CHECK(tariff_breaker_allow(&b, now), "after the open period one probe goes out");
    tariff_fetch(p, t0, t0 + TARIFF_MS_PER_DAY, &s, &r);
    tariff_breaker_record(&b, now, r.outcome, r.duration_ms, r.retry_after_ms);
    CHECK(r.outcome == TARIFF_OK && s.n == 24 && b.state == TARIFF_BREAKER_CLOSED, "the probe succeeds: closed, 24 prices");
    tariff_series_free(&s);
    tariff_provider_free(p);
    free(body);
}

static void test_other_providers(void)
{
    double day[25];
    char err[256];
    struct tariff_series s = {0};
    struct tariff_fetch_result r;
    int n = t_be_day(rows, nrows, "27mar2022", day, 25);
    /* ENTSO-E on the 23-hour day, A03 with an omitted repeat */
    char xml[16384];
    size_t k = (size_t)snprintf(xml, sizeof xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Publication_MarketDocument xmlns=\"urn:iec62325.351:tc57wg16:"
        "451-3:publicationdocument:7:3\"><type>A44</type><TimeSeries><currency_Unit.name>EUR</currency_Unit.name>"
        "<price_Measure_Unit.name>MWH</price_Measure_Unit.name><curveType>A03</curveType><Period><timeInterval>"
        "<start>2022-03-26T23:00Z</start><end>2022-03-27T22:00Z</end></timeInterval><resolution>PT60M</resolution>");
    for (int i = 0; i < n; i++)
        if (i != 10)
            k += (size_t)snprintf(xml + k, sizeof xml - k,
                                  "<Point><position>%d</position><price.amount>%.2f</price.amount></Point>", i + 1,
                                  (i == 11 ? day[9] : day[i]) * 1000);
    snprintf(xml + k, sizeof xml - k, "</Period></TimeSeries></Publication_MarketDocument>");
    route("/entsoe/api", xml, 200, "\"content_type\":\"text/xml\"");
    tariff_provider *p = provider(&srv, "entsoe", "/entsoe/api",
                                  "\"security_token\":\"0b1d-test-token\",\"area\":\"10YBE----------2\"", 3000);
    int rc = tariff_fetch(p, t_utc(2022, 3, 26, 23, 0), t_utc(2022, 3, 27, 22, 0), &s, &r);
    CHECK(rc == 0 && s.n == 23 && fabs(s.v[10].price - day[9]) < 1e-5, "entsoe over HTTPS: 23 h, omitted point 11 "
          "repeats point 10 (%s)", r.error);
    char *log = t_server_requests(&srv);
    CHECK(log && strstr(log, "securityToken=0b1d-test-token&documentType=A44&in_Domain=10YBE----------2&out_Domain="
                             "10YBE----------2&periodStart=202203262300&periodEnd=202203272200"),
          "entsoe request: token, A44, EIC domains, yyyyMMddHHmm UTC period");
    free(log);
    tariff_provider_free(p);

    /* Octopus: two pages, newest first, the next link on the same server */
    char page1[8192], page2[8192], nextu[256];
    snprintf(nextu, sizeof nextu, "https://127.0.0.1:%d/v1/products/AGILE-X/electricity-tariffs/E-1R-AGILE-X-C/"
                                  "standard-unit-rates/?page=2", srv.port);
    int64_t o0 = t_utc(2022, 6, 1, 23, 0);
    for (int pg = 0; pg < 2; pg++) {
        char *b = pg ? page2 : page1;
        size_t q = (size_t)snprintf(b, 8192, "{\"count\":48,\"next\":%s%s%s,\"results\":[", pg ? "" : "\"",
                                    pg ? "null" : nextu, pg ? "" : "\"");
        for (int i = pg ? 23 : 47; i >= (pg ? 0 : 24); i--) {
            char f[32], t[32];
            time_t a = (time_t)((o0 + i * 30 * TARIFF_MS_PER_MIN) / 1000), e = a + 1800;
            strftime(f, sizeof f, "%Y-%m-%dT%H:%M:%SZ", gmtime(&a));
            strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", gmtime(&e));
            q += (size_t)snprintf(b + q, 8192 - q, "%s{\"value_exc_vat\":%.3f,\"value_inc_vat\":%.3f,\"valid_from\":"
                                  "\"%s\",\"valid_to\":\"%s\"}", i == (pg ? 23 : 47) ? "" : ",", day[i / 2] * 86,
                                  day[i / 2] * 90.3, f, t);
        }
        snprintf(b + q, 8192 - q, "]}");
    }
    char *e1 = json_escape(page1), *e2 = json_escape(page2), js[40000];
    snprintf(js, sizeof js, "{\"/v1/products/AGILE-X/electricity-tariffs/E-1R-AGILE-X-C/standard-unit-rates/?page=2\":"
                            "{\"body\":%s},\"/v1/products/AGILE-X/electricity-tariffs/E-1R-AGILE-X-C/"
                            "standard-unit-rates/\":{\"body\":%s}}", e2, e1);
    t_server_routes(&srv, js);
    free(e1);
    free(e2);
    p = provider(&srv, "octopus", "", "\"currency\":\"GBP\",\"product\":\"AGILE-X\",\"tariff\":\"E-1R-AGILE-X-C\","
                 "\"include_vat\":true,\"zone\":\"Europe/London\"", 3000);
    tariff_series_clear(&s);
    rc = tariff_fetch(p, o0, o0 + TARIFF_MS_PER_DAY, &s, &r);
    CHECK(rc == 0 && r.pages == 2 && s.n == 48 && s.v[0].start_ms == o0 && fabs(s.v[1].price - day[0] * 0.903) < 1e-5,
          "octopus: 2 pages followed, 48 half-hours ascending, inc-VAT pence -> GBP (%s)", r.error);
    tariff_provider_free(p);

    /* Tibber: POST with a bearer token; currency must match the config */
    const char *tib = "{\"data\":{\"viewer\":{\"homes\":[{\"currentSubscription\":{\"priceInfo\":{\"today\":["
                      "{\"total\":1.2,\"energy\":0.9,\"tax\":0.3,\"startsAt\":\"2022-06-02T00:00:00.000+02:00\",\"currency\":\"SEK\"},"
                      "{\"total\":1.1,\"energy\":0.8,\"tax\":0.3,\"startsAt\":\"2022-06-02T01:00:00.000+02:00\",\"currency\":\"SEK\"}"
                      "],\"tomorrow\":[]}}}]}}}";
    route("/tibber/gql", tib, 200, NULL);
    p = provider(&srv, "tibber", "/tibber/gql", "\"token\":\"5K4MVS-secret\",\"currency\":\"SEK\","
                 "\"plausible\":{\"min_per_kwh\":-10,\"max_per_kwh\":50}", 3000);
    tariff_series_clear(&s);
    rc = tariff_fetch(p, t_utc(2022, 6, 1, 22, 0), t_utc(2022, 6, 2, 22, 0), &s, &r);
    log = t_server_requests(&srv);
    CHECK(rc == 0 && s.n == 2 && s.v[0].start_ms == t_utc(2022, 6, 1, 22, 0) && log &&
              strstr(log, "Bearer 5K4MVS-secret") && strstr(log, "\"method\": \"POST\"") && strstr(log, "priceInfo"),
          "tibber: GraphQL POST with bearer token, +02:00 offsets read (%s)", r.error);
    free(log);
    tariff_provider_free(p);
    p = provider(&srv, "tibber", "/tibber/gql", "\"token\":\"t\",\"currency\":\"EUR\"", 3000);
    rc = tariff_fetch(p, t_utc(2022, 6, 1, 22, 0), t_utc(2022, 6, 2, 22, 0), &s, &r);
    CHECK(rc < 0 && r.outcome == TARIFF_ERR_IMPLAUSIBLE, "tibber: SEK prices for an EUR config refused: %s", r.error);
    tariff_provider_free(p);

    /* Energy-Charts, Elering: request parameters */
    route("/ec/price", "{\"unix_seconds\":[1654120800,1654124400],\"price\":[212.1,-5.5],\"unit\":\"EUR / MWh\"}", 200,
          NULL);
    p = provider(&srv, "energy-charts", "/ec/price", "\"bzn\":\"NL\"", 3000);
    tariff_series_clear(&s);
    rc = tariff_fetch(p, t_utc(2022, 6, 1, 22, 0), t_utc(2022, 6, 2, 0, 0), &s, &r);
    log = t_server_requests(&srv);
    CHECK(rc == 0 && s.n == 2 && s.v[1].price < 0 && log && strstr(log, "bzn=NL&start=2022-06-01T22:00:00Z"),
          "energy-charts: bzn and ISO range sent, negative price kept (%s)", r.error);
    free(log);
    tariff_provider_free(p);
    route("/elering/price", "{\"success\":true,\"data\":{\"fi\":[{\"timestamp\":1654120800,\"price\":99.5},"
                            "{\"timestamp\":1654124400,\"price\":101.0}]}}", 200, NULL);
    p = provider(&srv, "elering", "/elering/price", "\"area\":\"fi\"", 3000);
    tariff_series_clear(&s);
    rc = tariff_fetch(p, t_utc(2022, 6, 1, 22, 0), t_utc(2022, 6, 2, 0, 0), &s, &r);
    CHECK(rc == 0 && s.n == 2 && fabs(s.v[0].price - 0.0995) < 1e-9, "elering: fi prices (%s)", r.error);
    tariff_provider_free(p);

    /* generic JSON with URL placeholders */
    route("/custom", "{\"items\":[{\"t\":1654120800,\"eur\":0.21},{\"t\":1654124400,\"eur\":0.19}]}", 200, NULL);
    p = provider(&srv, "json", "/custom?from={start_s}&to={end_s}", "\"array\":\"/items\",\"start\":\"/t\","
                 "\"price\":\"/eur\",\"time_format\":\"epoch_s\",\"resolution_min\":60", 3000);
    tariff_series_clear(&s);
    rc = tariff_fetch(p, t_utc(2022, 6, 1, 22, 0), t_utc(2022, 6, 2, 0, 0), &s, &r);
    log = t_server_requests(&srv);
    CHECK(rc == 0 && s.n == 2 && log && strstr(log, "from=1654120800&to=1654128000"),
          "json: placeholders expanded, pointers read (%s)", r.error);
    free(log);
    tariff_provider_free(p);
    (void)err;
    tariff_series_free(&s);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (nrows = t_load_be(argv[1], rows, 9000)) < 8000) {
        printf("FAIL - usage: test_fetch prices.csv price_server.py\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* the program's job, as in depotd's main */
    snprintf(dir, sizeof dir, "/tmp/tariffs-test-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    char cmd[1024], cert[300], key[300], rcert[300], rkey[300];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s gencerts %s", argv[2], dir);
    CHECK(system(cmd) == 0, "test certificates generated with openssl in %s", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(rcert, sizeof rcert, "%s/rogue.pem", dir);
    snprintf(rkey, sizeof rkey, "%s/rogue.key", dir);
    int ok = t_server_start(&srv, argv[2], cert, key, ca) == 0;
    ok &= t_server_start(&rogue, argv[2], rcert, rkey, ca) == 0;
    CHECK(ok, "price servers up on 127.0.0.1:%d (CA-signed) and :%d (rogue)", srv.port, rogue.port);
    if (ok) {
        test_awattar_ok_and_composed();
        test_faults();
        test_breaker_with_real_faults();
        test_other_providers();
    }
    t_server_stop(&srv);
    t_server_stop(&rogue);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    curl_global_cleanup();
    return t_done();
}
