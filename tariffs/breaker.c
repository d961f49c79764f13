/* Circuit breaker per price provider: pure state machine, time and randomness injected, so every transition
 * is testable step by step. States: closed (calls flow) -> open (no calls until open_until) -> half-open
 * (probe_calls calls let through; all succeed -> closed, any fails -> open again, for longer). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *tariff_breaker_state_name(enum tariff_breaker_state s)
{
    static const char *const n[] = {"closed", "open", "half_open"};
    return (unsigned)s <= TARIFF_BREAKER_HALF_OPEN ? n[s] : "unknown";
}

bool tariff_outcome_is_failure(enum tariff_outcome o) { return o != TARIFF_OK; }

void tariff_breaker_config_default(struct tariff_breaker_config *c)
{
    *c = (struct tariff_breaker_config){
        .failure_threshold = 5,
        .window_ms = 3600 * 1000,
        .min_calls = 10,
        .failure_ratio = 0.5,
        .open_ms = 60 * 1000,
        .max_open_ms = 3600 * 1000,
        .backoff = 2.0,
        .jitter = 0.2,
        .probe_calls = 1,
        .slow_call_ms = 15 * 1000,
        .seed = 0,
    };
}

static int num_key(const cJSON *obj, const char *key, double lo, double hi, double *v, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return 0;
    if (!cJSON_IsNumber(it) || it->valuedouble < lo || it->valuedouble > hi)
        return tariff_err(err, errlen, "breaker.%s: need a number in [%g, %g]", key, lo, hi), -1;
    *v = it->valuedouble;
    return 1;
}

int tariff_breaker_config_from_json(const cJSON *obj, struct tariff_breaker_config *c, char *err, size_t errlen)
{
    static const char *const keys[] = {"failure_threshold", "window_s", "min_calls", "failure_ratio", "open_s",
                                       "max_open_s", "backoff", "jitter", "probe_calls", "slow_call_ms", "seed",
                                       NULL};
    tariff_breaker_config_default(c);
    if (!obj)
        return 0;
    if (!cJSON_IsObject(obj))
        return tariff_err(err, errlen, "breaker: need an object"), -1;
    if (tariff_json_keys(obj, "breaker", keys, err, errlen) < 0)
        return -1;
    double v;
    int r;
#define KEY(k, lo, hi, assign)                                                                                     \
    if ((r = num_key(obj, k, lo, hi, &v, err, errlen)) < 0)                                                       \
        return -1;                                                                                                 \
    if (r)                                                                                                         \
        assign;
    KEY("failure_threshold", 1, 1000, c->failure_threshold = (int)v)
    KEY("window_s", 1, 7 * 86400, c->window_ms = (int)(v * 1000))
    KEY("min_calls", 1, TARIFF_BREAKER_WINDOW, c->min_calls = (int)v)
    KEY("failure_ratio", 0.01, 1, c->failure_ratio = v)
    KEY("open_s", 0.001, 86400, c->open_ms = (int64_t)(v * 1000))
    KEY("max_open_s", 0.001, 7 * 86400, c->max_open_ms = (int64_t)(v * 1000))
    KEY("backoff", 1, 10, c->backoff = v)
    KEY("jitter", 0, 0.5, c->jitter = v)
    KEY("probe_calls", 1, 100, c->probe_calls = (int)v)
    KEY("slow_call_ms", 1, 3600 * 1000, c->slow_call_ms = (int64_t)v)
    KEY("seed", 0, 9007199254740992.0, c->seed = (uint64_t)v)
#undef KEY
    if (c->max_open_ms < c->open_ms)
        return tariff_err(err, errlen, "breaker.max_open_s: must be >= open_s"), -1;
    return 0;
}

void tariff_breaker_init(struct tariff_breaker *b, const struct tariff_breaker_config *cfg)
{
    memset(b, 0, sizeof *b);
    if (cfg)
        b->cfg = *cfg;
    else
        tariff_breaker_config_default(&b->cfg);
    b->state = TARIFF_BREAKER_CLOSED;
    b->rng = b->cfg.seed ? b->cfg.seed : 0x9E3779B97F4A7C15ull;
    b->last_outcome = TARIFF_OK;
}

/* splitmix64: tiny, seedable, good enough to spread reconnecting depots apart. */
static double next_unit(struct tariff_breaker *b)
{
    uint64_t z = (b->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void trip(struct tariff_breaker *b, int64_t now, int64_t retry_after_ms)
{
    double d = (double)b->cfg.open_ms * pow(b->cfg.backoff, b->open_rounds);
    d *= 1.0 + b->cfg.jitter * (2.0 * next_unit(b) - 1.0);
    if (d > (double)b->cfg.max_open_ms)
        d = (double)b->cfg.max_open_ms;
    int64_t open = (int64_t)d;
    if (retry_after_ms > open) /* the server said when; asking earlier only earns another 429 */
        open = retry_after_ms;
    b->state = TARIFF_BREAKER_OPEN;
    b->open_until_ms = now + open;
    b->probes_allowed = b->probes_succeeded = 0;
}

bool tariff_breaker_allow(struct tariff_breaker *b, int64_t now)
{
    switch (b->state) {
    case TARIFF_BREAKER_CLOSED:
        return true;
    case TARIFF_BREAKER_OPEN:
        if (now < b->open_until_ms)
            return false;
        b->state = TARIFF_BREAKER_HALF_OPEN;
        b->probes_allowed = b->probes_succeeded = 0;
        /* fall through */
    case TARIFF_BREAKER_HALF_OPEN:
        if (b->probes_allowed >= b->cfg.probe_calls)
            return false;
        b->probes_allowed++;
        return true;
    }
    return false;
}

static bool ratio_exceeded(const struct tariff_breaker *b, int64_t now)
{
    int calls = 0, failed = 0;
    for (int i = 0; i < b->window_n; i++) {
        int k = (b->window_head - 1 - i + TARIFF_BREAKER_WINDOW) % TARIFF_BREAKER_WINDOW;
        if (b->window[k].at_ms <= now - b->cfg.window_ms)
            break;
        calls++;
        failed += b->window[k].failed;
    }
    return calls >= b->cfg.min_calls && (double)failed >= b->cfg.failure_ratio * calls;
}

void tariff_breaker_record(struct tariff_breaker *b, int64_t now, enum tariff_outcome outcome, int64_t duration_ms,
                           int64_t retry_after_ms)
{
    bool failed = tariff_outcome_is_failure(outcome) || duration_ms > b->cfg.slow_call_ms;
    b->last_outcome = outcome;
    b->window[b->window_head].at_ms = now;
    b->window[b->window_head].failed = failed;
    b->window_head = (b->window_head + 1) % TARIFF_BREAKER_WINDOW;
    if (b->window_n < TARIFF_BREAKER_WINDOW)
        b->window_n++;
    b->consecutive_failures = failed ? b->consecutive_failures + 1 : 0;

    if (outcome == TARIFF_ERR_CONFIG) {
        /* A rejected token or area will not fix itself: back off as far as allowed, no retry storm. */
        b->state = TARIFF_BREAKER_OPEN;
        b->open_until_ms = now + b->cfg.max_open_ms;
        b->probes_allowed = b->probes_succeeded = 0;
        return;
    }
    switch (b->state) {
    case TARIFF_BREAKER_CLOSED:
        if (!failed)
            return;
        if (outcome == TARIFF_ERR_RATE_LIMITED && retry_after_ms > 0) {
            b->state = TARIFF_BREAKER_OPEN;
            b->open_until_ms = now + retry_after_ms;
            b->probes_allowed = b->probes_succeeded = 0;
        } else if (b->consecutive_failures >= b->cfg.failure_threshold || ratio_exceeded(b, now)) {
            b->open_rounds = 0;
            trip(b, now, retry_after_ms);
        }
        return;
    case TARIFF_BREAKER_HALF_OPEN:
        if (failed) {
            b->open_rounds++;
            trip(b, now, retry_after_ms);
        } else if (++b->probes_succeeded >= b->cfg.probe_calls) {
            b->state = TARIFF_BREAKER_CLOSED;
            b->open_rounds = 0;
            b->consecutive_failures = 0;
            b->window_n = b->window_head = 0; /* judge the recovered provider on fresh calls only */
        }
        return;
    case TARIFF_BREAKER_OPEN:
        return; /* a late answer to a call made before it opened changes nothing */
    }
}
