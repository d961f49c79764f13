/* The circuit breaker step by step on an injected clock, and the pure fetch schedule. */
#include "common.h"

#include <limits.h>
#include <string.h>

#define S 1000LL

static struct tariff_breaker_config cfg(void)
{
    struct tariff_breaker_config c;
    tariff_breaker_config_default(&c);
    c.failure_threshold = 3;
    c.min_calls = 6;
    c.failure_ratio = 0.5;
    c.window_ms = 600 * S;
    c.open_ms = 60 * S;
    c.max_open_ms = 600 * S;
    c.backoff = 2.0;
    c.jitter = 0.0;
    c.probe_calls = 2;
    c.slow_call_ms = 5 * S;
    c.seed = 42;
    return c;
}

static void test_consecutive_failures_open_then_probe(void)
{
    struct tariff_breaker_config c = cfg();
    struct tariff_breaker b;
    tariff_breaker_init(&b, &c);
    int64_t t = 1000 * S;
    CHECK(b.state == TARIFF_BREAKER_CLOSED && tariff_breaker_allow(&b, t), "starts closed and allows calls");
    tariff_breaker_record(&b, t, TARIFF_ERR_TIMEOUT, 100, 0);
    tariff_breaker_record(&b, t + 1, TARIFF_ERR_HTTP, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_CLOSED, "2 consecutive failures < threshold 3: still closed");
    tariff_breaker_record(&b, t + 2, TARIFF_OK, 100, 0);
    tariff_breaker_record(&b, t + 3, TARIFF_ERR_PARSE, 100, 0);
    tariff_breaker_record(&b, t + 4, TARIFF_ERR_IMPLAUSIBLE, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_CLOSED, "a success resets the consecutive count");
    tariff_breaker_record(&b, t + 5, TARIFF_ERR_EMPTY, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_OPEN && b.open_until_ms == t + 5 + 60 * S,
          "3rd consecutive failure opens it for open_ms (until +60 s)");
    CHECK(!tariff_breaker_allow(&b, t + 30 * S), "open: no call at +30 s");
    CHECK(strcmp(tariff_breaker_state_name(b.state), "open") == 0, "state name 'open'");
    t += 5 + 60 * S;
    CHECK(tariff_breaker_allow(&b, t) && b.state == TARIFF_BREAKER_HALF_OPEN, "after open_ms: half-open, probe 1 allowed");
    CHECK(tariff_breaker_allow(&b, t), "half-open: probe 2 allowed (probe_calls 2)");
    CHECK(!tariff_breaker_allow(&b, t), "half-open: a 3rd call is refused");
    tariff_breaker_record(&b, t + 1, TARIFF_OK, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_HALF_OPEN, "one probe succeeded: still half-open");
    tariff_breaker_record(&b, t + 2, TARIFF_ERR_TIMEOUT, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_OPEN && b.open_until_ms == t + 2 + 120 * S,
          "failed probe: open again for twice as long (120 s)");
    t = b.open_until_ms;
    tariff_breaker_allow(&b, t);
    tariff_breaker_record(&b, t, TARIFF_ERR_TIMEOUT, 100, 0);
    CHECK(b.open_until_ms == t + 240 * S, "second failed probe round: 240 s");
    for (int i = 0; i < 4; i++) {
        t = b.open_until_ms;
        tariff_breaker_allow(&b, t);
        tariff_breaker_record(&b, t, TARIFF_ERR_TIMEOUT, 100, 0);
    }
    CHECK(b.open_until_ms == t + 600 * S, "open period capped at max_open_ms (600 s)");
    t = b.open_until_ms;
    CHECK(tariff_breaker_allow(&b, t) && tariff_breaker_allow(&b, t), "half-open again, two probes");
    tariff_breaker_record(&b, t + 1, TARIFF_OK, 100, 0);
    tariff_breaker_record(&b, t + 2, TARIFF_OK, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_CLOSED && b.open_rounds == 0, "both probes succeeded: closed, backoff reset");
    tariff_breaker_record(&b, t + 3, TARIFF_ERR_TIMEOUT, 100, 0);
    tariff_breaker_record(&b, t + 4, TARIFF_ERR_TIMEOUT, 100, 0);
    tariff_breaker_record(&b, t + 5, TARIFF_ERR_TIMEOUT, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_OPEN && b.open_until_ms == t + 5 + 60 * S, "re-opened: back to 60 s, not 600 s");
}

static void test_failure_ratio_window(void)
{
    struct tariff_breaker_config c = cfg();
    c.failure_threshold = 100; /* only the ratio rule can open it */
    struct tariff_breaker b;
    tariff_breaker_init(&b, &c);
    int64_t t = 0;
    /* alternate: never 2 failures in a row, ratio 50 % */
    for (int i = 0; i < 5; i++)
        tariff_breaker_record(&b, t += S, i % 2 ? TARIFF_OK : TARIFF_ERR_HTTP, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_CLOSED, "5 calls < min_calls 6: ratio rule not applied yet (3 of 5 failed)");
    tariff_breaker_record(&b, t += S, TARIFF_OK, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_CLOSED, "6 calls, 3 failed: a success does not open it");
    tariff_breaker_record(&b, t += S, TARIFF_ERR_HTTP, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_OPEN, "7 calls, 4 failed (57 %% >= 50 %%): open");

    struct tariff_breaker fresh;
    tariff_breaker_init(&b, &c);
    t = 0;
    for (int i = 0; i < 5; i++) /* F OK F OK F: 5 calls, under min_calls */
        tariff_breaker_record(&b, t += S, i % 2 ? TARIFF_OK : TARIFF_ERR_HTTP, 100, 0);
    fresh = b;
    tariff_breaker_record(&fresh, t + S, TARIFF_ERR_HTTP, 100, 0);
    CHECK(fresh.state == TARIFF_BREAKER_OPEN, "6th call failing within the window: 4 of 6 failed, open");
    t += 700 * S; /* all of that falls out of the 600 s window */
    tariff_breaker_record(&b, t, TARIFF_ERR_HTTP, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_CLOSED, "failures older than the window do not count");
}

static void test_slow_calls_and_special_outcomes(void)
{
    struct tariff_breaker_config c = cfg();
    struct tariff_breaker b;
    tariff_breaker_init(&b, &c);
    for (int i = 0; i < 3; i++)
        tariff_breaker_record(&b, i * S, TARIFF_OK, 6 * S, 0);
    CHECK(b.state == TARIFF_BREAKER_OPEN, "3 successful but slow calls (6 s > 5 s) open it");

    tariff_breaker_init(&b, &c);
    tariff_breaker_record(&b, 10 * S, TARIFF_ERR_RATE_LIMITED, 100, 300 * S);
    CHECK(b.state == TARIFF_BREAKER_OPEN && b.open_until_ms == 310 * S, "429 with Retry-After 300 s: open until then");
    CHECK(!tariff_breaker_allow(&b, 309 * S) && tariff_breaker_allow(&b, 310 * S), "no call before Retry-After ends");

    tariff_breaker_init(&b, &c);
    tariff_breaker_record(&b, 10 * S, TARIFF_ERR_CONFIG, 100, 0);
    CHECK(b.state == TARIFF_BREAKER_OPEN && b.open_until_ms == 10 * S + c.max_open_ms,
          "a config error (HTTP 401/404) backs off to max_open_ms at once: no retry storm");

    /* jitter: same seed, same sequence; different seeds spread */
    c.jitter = 0.2;
    struct tariff_breaker x, y, z;
    c.seed = 7;
    tariff_breaker_init(&x, &c);
    tariff_breaker_init(&y, &c);
    c.seed = 8;
    tariff_breaker_init(&z, &c);
    for (int i = 0; i < 3; i++) {
        tariff_breaker_record(&x, 0, TARIFF_ERR_HTTP, 1, 0);
        tariff_breaker_record(&y, 0, TARIFF_ERR_HTTP, 1, 0);
        tariff_breaker_record(&z, 0, TARIFF_ERR_HTTP, 1, 0);
    }
    CHECK(x.open_until_ms == y.open_until_ms, "jitter is reproducible from the seed (%lld)", (long long)x.open_until_ms);
    CHECK(x.open_until_ms != z.open_until_ms && x.open_until_ms >= 48 * S && x.open_until_ms <= 72 * S &&
              z.open_until_ms >= 48 * S && z.open_until_ms <= 72 * S,
          "jitter spreads open periods within +-20 %% (%lld vs %lld)", (long long)x.open_until_ms,
          (long long)z.open_until_ms);

    cJSON *j = cJSON_Parse("{\"failure_threshold\":4,\"open_s\":30,\"max_open_s\":20}");
    char err[256] = "";
    CHECK(tariff_breaker_config_from_json(j, &c, err, sizeof err) < 0 && strstr(err, "max_open_s"),
          "breaker config: max_open_s < open_s refused: %s", err);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"failure_treshold\":4}");
    CHECK(tariff_breaker_config_from_json(j, &c, err, sizeof err) < 0 && strstr(err, "failure_treshold"),
          "breaker config: a misspelt key is named: %s", err);
    cJSON_Delete(j);
}

static void test_schedule(void)
{
    char err[256];
    cJSON *j = cJSON_Parse("{\"type\":\"entsoe\",\"security_token\":\"t\",\"area\":\"10YBE----------2\","
                           "\"zone\":\"Europe/Brussels\",\"publication\":{\"time\":\"13:00\",\"delay_min\":10}}");
    tariff_provider *p = tariff_provider_from_json(j, err, sizeof err);
    cJSON_Delete(j);
    CHECK(p != NULL, "schedule: provider for the test (%s)", p ? "" : err);
    if (!p)
        return;
    struct tariff_schedule s;
    tariff_schedule_for(p, &s);
    struct tariff_breaker b;
    tariff_breaker_init(&b, NULL);
    int64_t now = t_utc(2022, 10, 28, 8, 0); /* 10:00 CEST */
    CHECK(tariff_next_fetch(&s, now, INT64_MIN, INT64_MIN, INT64_MIN, &b) == now, "at start: fetch now");
    int64_t ok = now, tomorrow_end = t_utc(2022, 10, 29, 22, 0); /* covered through Saturday (CEST) */
    CHECK(tariff_next_fetch(&s, now, ok, ok, t_utc(2022, 10, 28, 22, 0), &b) == ok + TARIFF_MS_PER_HOUR,
          "before publication: next at last success + cadence (1 h)");
    int64_t at1050 = t_utc(2022, 10, 28, 10, 50); /* 12:50 CEST */
    CHECK(tariff_next_fetch(&s, at1050, at1050, at1050, t_utc(2022, 10, 28, 22, 0), &b) == t_utc(2022, 10, 28, 11, 10),
          "10 min before publication: next at 13:00 CEST + 10 min = 11:10Z");
    int64_t at1110 = t_utc(2022, 10, 28, 11, 10);
    CHECK(tariff_next_fetch(&s, at1110, at1110, at1110, t_utc(2022, 10, 28, 22, 0), &b) == at1110 + 15 * TARIFF_MS_PER_MIN,
          "after publication without tomorrow's prices: poll again in 15 min");
    CHECK(tariff_next_fetch(&s, at1110, at1110, at1110, tomorrow_end, &b) == at1110 + TARIFF_MS_PER_HOUR,
          "after publication with tomorrow covered: back to the cadence");
    int64_t fail_at = at1110 + 3 * TARIFF_MS_PER_HOUR;
    CHECK(tariff_next_fetch(&s, fail_at, fail_at, at1110, tomorrow_end, &b) == fail_at + 5 * TARIFF_MS_PER_MIN,
          "after a failed attempt: retry in 5 min, not at once");
    struct tariff_breaker_config c = cfg();
    c.open_ms = 600 * S;
    tariff_breaker_init(&b, &c);
    for (int i = 0; i < 3; i++)
        tariff_breaker_record(&b, fail_at, TARIFF_ERR_HTTP, 1, 0);
    CHECK(tariff_next_fetch(&s, fail_at, fail_at, at1110, tomorrow_end, &b) == b.open_until_ms,
          "breaker open: not before it lets a call through");
    /* on the 25-hour day (CET again) publication 13:00 + 10 min is 12:10Z, before the cadence (12:30Z) */
    int64_t sun = t_utc(2022, 10, 30, 11, 30);
    tariff_breaker_init(&b, NULL);
    CHECK(tariff_next_fetch(&s, sun, sun, sun, t_utc(2022, 10, 30, 23, 0), &b) == t_utc(2022, 10, 30, 12, 10),
          "on the 25-hour day publication is 13:10 CET = 12:10Z");
    tariff_provider_free(p);
}

int main(void)
{
    test_consecutive_failures_open_then_probe();
    test_failure_ratio_window();
    test_slow_calls_and_special_outcomes();
    test_schedule();
    return t_done();
}
