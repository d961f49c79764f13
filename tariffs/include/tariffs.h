/*
 * tariffs.h - what energy costs in every slot of the planning horizon, from the operator's real price
 * provider, and what to assume when that provider is slow, down or returns garbage.
 *
 * Pieces, each usable alone:
 *   - zones:     local time from the system zoneinfo files (TZif reader; no setenv("TZ"), thread-safe);
 *   - providers: configured from JSON; a request builder plus a parser per provider; tariff_fetch() does the
 *                blocking HTTP(S) call with libcurl and classifies what went wrong;
 *   - parsers:   tariff_parse_<provider>() on a body already in memory (tests, fuzzers, replays);
 *   - breaker:   a pure, clock-injected circuit breaker per provider;
 *   - schedule:  a pure "when to fetch next" function;
 *   - slots:     a pure function mapping price series (fresh, stored, history, static fallback) onto the
 *                planner's slot grid, every slot tagged with where its price came from.
 *
 * Units: times are UTC milliseconds since the Unix epoch (int64_t). Prices in a struct tariff_price are in
 * the configured currency per kWh AFTER composition (adders, grid fee, VAT) unless a function says it returns
 * raw market prices. Negative prices are real and kept.
 *
 * Threads: no global state except libcurl's, which the PROGRAM must initialise once with
 * curl_global_init(CURL_GLOBAL_DEFAULT) before any tariff_fetch() (depotd's main does so) and clean up at
 * exit. Every object belongs to one thread at a time; a tariff_provider and a tariff_tz are immutable after
 * creation and may be read from several threads. A struct tariff_breaker is not locked: the thread that
 * fetches owns it; copy its state name out under your own lock for metrics.
 *
 * Wiring in depotd (src/), one tariff worker thread per provider:
 *   main:   curl_global_init(CURL_GLOBAL_DEFAULT); xmlInitParser();   (before any thread starts)
 *   config: provider = tariff_provider_from_json(sec.provider); fallback = tariff_provider_from_json(sec.fallback)
 *           (must be static); tariff_breaker_config_from_json(sec.breaker, &bc); tariff_schedule_for(provider,
 *           &sched); tariff_schedule_from_json(sec.schedule, &sched); tariff_breaker_init(&br, &bc).
 *   worker: loop { at = tariff_next_fetch(&sched, now, last_attempt, last_success, stored_until, &br); sleep
 *           until `at` (or a stop signal); if (!tariff_breaker_allow(&br, now)) continue;
 *           tariff_fetch(provider, day_start(now), day_start(now) + 2 days, &fresh, &res);
 *           tariff_breaker_record(&br, now, res.outcome, res.duration_ms, res.retry_after_ms);
 *           hand {fresh, res, breaker state name} to the loop through the locked queue + lws_cancel_service() }
 *   loop:   store fresh prices (UTC, composed) in SQLite, then re-plan.
 *   plan:   tariff_slots(grid start, slot, n, fresh, stored (covering the horizon), history (4 weeks before
 *           start), fallback, zone, out); record tariff_sources_used(out, n) with the plan.
 *
 * Ownership: objects returned by *_from_json / *_load are freed with their *_free. struct tariff_series owns
 * its array (tariff_series_free). Config cJSON is borrowed during the call only. Error buffers are the
 * caller's; a message always names the config key or the field at fault.
 */
#ifndef TARIFFS_H
#define TARIFFS_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARIFF_MS_PER_MIN 60000LL
#define TARIFF_MS_PER_HOUR 3600000LL
#define TARIFF_MS_PER_DAY 86400000LL

/* ---- Prices and series ---------------------------------------------------------------------------- */

/* Where a slot's price came from, best first. The order is the fallback chain. */
enum tariff_source {
    TARIFF_SRC_MARKET = 0,   /* just fetched from the provider */
    TARIFF_SRC_CACHED,       /* fetched earlier, stored, still covers the slot */
    TARIFF_SRC_FORECAST,     /* beyond the published horizon: hour-of-week mean of the last 4 weeks */
    TARIFF_SRC_FALLBACK,     /* the static fallback tariff from the config */
    TARIFF_SRC_COUNT
};
/* "market", "cached", "forecast", "fallback". Never NULL. */
const char *tariff_source_name(enum tariff_source s);

struct tariff_price {
    int64_t start_ms, end_ms;   /* [start, end), UTC */
    double price;               /* currency per kWh */
    enum tariff_source source;
};

/* A growable array of prices. Zero-initialise ({0}) before first use. */
struct tariff_series {
    struct tariff_price *v;
    size_t n, cap;
};
int tariff_series_push(struct tariff_series *s, int64_t start_ms, int64_t end_ms, double price,
                       enum tariff_source src);
void tariff_series_clear(struct tariff_series *s);  /* n = 0, keeps memory */
void tariff_series_free(struct tariff_series *s);   /* frees memory, leaves {0} */

/* ---- Time zones ----------------------------------------------------------------------------------- */

typedef struct tariff_tz tariff_tz;

/* Loads an IANA zone ("Europe/Brussels", "UTC") from zoneinfo_dir (NULL: /usr/share/zoneinfo).
 * Names with "..", a leading '/', or other than [A-Za-z0-9_+-/] are refused. NULL on error. */
tariff_tz *tariff_tz_load(const char *name, const char *zoneinfo_dir, char *err, size_t errlen);
void tariff_tz_free(tariff_tz *tz);
const char *tariff_tz_name(const tariff_tz *tz);
/* Offset east of UTC in seconds at a UTC instant. */
int tariff_tz_offset(const tariff_tz *tz, int64_t utc_ms);
/* Broken-down local time at a UTC instant. wday: 0 = Sunday. */
struct tariff_local { int year, month, day, hour, minute, second, wday; };
void tariff_tz_to_local(const tariff_tz *tz, int64_t utc_ms, struct tariff_local *out);
/* The UTC instant of a local wall-clock time. In a gap (spring forward) the time is moved forward by the
 * gap, as clocks do; in an overlap (fall back) the earlier instant is returned unless `later` is true. */
int64_t tariff_tz_from_local(const tariff_tz *tz, int year, int month, int day, int hour, int minute,
                             int second, bool later);
/* UTC instant of the local midnight starting the day that contains utc_ms (a day is 23, 24 or 25 h). */
int64_t tariff_tz_day_start(const tariff_tz *tz, int64_t utc_ms);

/* Parses ISO 8601 / RFC 3339 date-times: "2022-03-27T01:00:00Z", "...+02:00", "...+0200", fractional seconds,
 * "2022-03-27T01:00Z". A time without offset is taken in `tz` (UTC when tz is NULL). 0 or -1. */
int tariff_parse_iso8601(const char *s, const tariff_tz *tz, int64_t *out_ms);

/* ---- Static tariffs (time-of-use bands, fixed price) --------------------------------------------- */

/* Time-of-use bands as used by the static tariff and by grid fees: a price from a local time of day on,
 * separately for weekdays (Mon-Fri) and weekends (Sat, Sun, and configured holidays). */
#define TARIFF_TOU_MAX_BANDS 24
#define TARIFF_TOU_MAX_HOLIDAYS 64
struct tariff_tou_band { int minute_of_day; double price; };
struct tariff_tou {
    int n_weekday, n_weekend;
    struct tariff_tou_band weekday[TARIFF_TOU_MAX_BANDS], weekend[TARIFF_TOU_MAX_BANDS];
    int n_holidays;
    int holidays[TARIFF_TOU_MAX_HOLIDAYS]; /* yyyymmdd, local dates */
};
/* {"weekday":[{"from":"00:00","price":0.2},...], "weekend":[...] (default: weekday), "holidays":["2026-12-25"]}
 * `key` names the object in errors. Bands must start at 00:00 and be ascending. */
int tariff_tou_from_json(const cJSON *obj, const char *key, struct tariff_tou *out, char *err, size_t errlen);
/* The band price at a UTC instant, in zone tz. */
double tariff_tou_at(const struct tariff_tou *tou, const tariff_tz *tz, int64_t utc_ms);

/* ---- Providers ------------------------------------------------------------------------------------ */

enum tariff_kind {
    TARIFF_AWATTAR, TARIFF_ENTSOE, TARIFF_ENERGY_CHARTS, TARIFF_OCTOPUS, TARIFF_TIBBER, TARIFF_ELERING,
    TARIFF_GENERIC_JSON, TARIFF_CSV, TARIFF_TOU, TARIFF_FIXED, TARIFF_KIND_COUNT
};
/* The config "type" value: "awattar", "entsoe", "energy-charts", "octopus", "tibber", "elering",
 * "json", "csv", "tou", "fixed". */
const char *tariff_kind_name(enum tariff_kind k);

typedef struct tariff_provider tariff_provider;

/* Builds a provider from its config object (see examples/tariffs/ for one per type). Keys shared by all:
 *   "type" (required), "name", "zone" (IANA, default "UTC"; used for local-time tariffs, grid-fee bands and
 *   naive timestamps), "currency" (default "EUR"), "zoneinfo_dir",
 *   "http": {"ca_file", "connect_timeout_ms" 5000, "timeout_ms" 20000, "low_speed_bytes_per_s" 64,
 *            "low_speed_time_s" 5, "max_body_bytes" 4 MiB, "user_agent", "max_pages" 10},
 *   "composition": {"adders_per_kwh": [{"name","price"}] or number, "grid_fee": <tou object>,
 *                   "vat_percent"},
 *   "plausible": {"min_per_kwh" -1.0, "max_per_kwh" 5.0} (raw market price, before composition; "min"/"max"
 *                instead for a series that is not a price, e.g. a building's kW: -1e6 to 1e6),
 *   "publication": {"time" "HH:MM", "zone" (default: provider zone), "delay_min"} (default per provider).
 * A "fixed" provider takes "price" (-10..10), or "value" (-1e6..1e6) for a series that is not a price.
 * Unknown keys are errors (a typo must not silently change the bill). NULL on error, with err naming the key. */
tariff_provider *tariff_provider_from_json(const cJSON *cfg, char *err, size_t errlen);
void tariff_provider_free(tariff_provider *p);
enum tariff_kind tariff_provider_kind(const tariff_provider *p);
const char *tariff_provider_name(const tariff_provider *p);
const tariff_tz *tariff_provider_zone(const tariff_provider *p);
/* True for tou/fixed: prices are computed, never fetched, so they can serve as the static fallback. */
bool tariff_provider_is_static(const tariff_provider *p);
/* The price at an instant for a static provider (composition applied); 0, or -1 if the provider is not static. */
int tariff_static_price(const tariff_provider *p, int64_t utc_ms, double *price);

/* What a fetch came to. The breaker counts everything from TIMEOUT to IMPLAUSIBLE as a failure. */
enum tariff_outcome {
    TARIFF_OK = 0,
    TARIFF_ERR_TIMEOUT,       /* connect or total timeout, or a body dripping slower than the floor */
    TARIFF_ERR_TRANSPORT,     /* DNS, refused, reset, truncated body, TLS handshake or certificate */
    TARIFF_ERR_HTTP,          /* HTTP >= 500 */
    TARIFF_ERR_RATE_LIMITED,  /* HTTP 429; retry_after_ms set when the server said */
    TARIFF_ERR_TOO_LARGE,     /* body over http.max_body_bytes */
    TARIFF_ERR_PARSE,         /* not the provider's format, or a provider error document */
    TARIFF_ERR_EMPTY,         /* no prices for the range asked */
    TARIFF_ERR_IMPLAUSIBLE,   /* wrong unit or currency, gaps, overlaps, odd resolution, price out of band */
    TARIFF_ERR_CONFIG,        /* HTTP 4xx other than 429 (bad token, bad area...): an operator problem;
                                 the breaker backs off to its longest timeout instead of retrying */
    TARIFF_OUTCOME_COUNT
};
const char *tariff_outcome_name(enum tariff_outcome o);  /* "ok", "timeout", ... never NULL */

struct tariff_fetch_result {
    enum tariff_outcome outcome;
    long http_status;          /* last HTTP status seen, 0 if none */
    int64_t retry_after_ms;    /* from Retry-After on 429/503, else 0 */
    int64_t duration_ms;       /* time spent in HTTP transfers (all pages), for the breaker's slow-call rule */
    int pages;                 /* HTTP requests made */
    char error[256];           /* human-readable, names the provider and what went wrong */
};

/* Fetches prices covering [from_ms, to_ms) and appends them to `out` (source MARKET, composed, sorted,
 * contiguous, validated). BLOCKING: call it on a worker thread, never on the event loop. Every HTTP request
 * honours http.connect_timeout_ms and http.timeout_ms, the low-speed floor and http.max_body_bytes; a paged
 * provider shares one timeout_ms budget across its pages. Static providers compute without I/O.
 * Returns 0 when res->outcome is TARIFF_OK, else -1 (out unchanged). */
int tariff_fetch(const tariff_provider *p, int64_t from_ms, int64_t to_ms, struct tariff_series *out,
                 struct tariff_fetch_result *res);

/* The same, ended early (outcome TARIFF_ERR_TRANSPORT, "aborted") once *cancel becomes non-zero, within about a
 * second: a program that stops must not wait out a hanging provider's timeout. cancel may be NULL. */
int tariff_fetch_cancellable(const tariff_provider *p, int64_t from_ms, int64_t to_ms, struct tariff_series *out,
                             struct tariff_fetch_result *res, const atomic_int *cancel);

/* The request a fetch would start with (first page). For tests and for logging; headers are joined with
 * "\n"; secrets are included, so do not log `headers` or `body` as they are. */
struct tariff_request {
    char url[2048];
    char headers[1024];
    char body[1024];    /* empty for GET */
};
int tariff_build_request(const tariff_provider *p, int64_t from_ms, int64_t to_ms, struct tariff_request *req,
                         char *err, size_t errlen);

/* ---- Parsers (raw market prices, no composition, source MARKET) --------------------------------------
 * Each appends to `out` and returns 0, or returns a negative enum tariff_outcome (-TARIFF_ERR_PARSE,
 * -TARIFF_ERR_IMPLAUSIBLE, -TARIFF_ERR_EMPTY) with err filled. Prices are converted to currency per kWh
 * (EUR/MWh / 1000, pence / 100). They do not check contiguity: tariff_series_validate does. */
int tariff_parse_awattar(const char *body, size_t len, struct tariff_series *out, char *err, size_t errlen);
/* ENTSO-E A44 Publication_MarketDocument: expands A03 curves (omitted points repeat the previous price);
 * an Acknowledgement_MarketDocument yields -TARIFF_ERR_EMPTY for reason 999 "No matching data", else PARSE. */
int tariff_parse_entsoe(const char *body, size_t len, struct tariff_series *out, char *err, size_t errlen);
int tariff_parse_energy_charts(const char *body, size_t len, struct tariff_series *out, char *err, size_t errlen);
/* One Octopus page. `inc_vat` picks value_inc_vat; `next` (may be NULL) receives the next page URL or "". */
int tariff_parse_octopus(const char *body, size_t len, bool inc_vat, char *next, size_t next_len,
                         struct tariff_series *out, char *err, size_t errlen);
/* Tibber GraphQL answer: home `home` (index), field "total" or "energy"; currency written to currency[4]. */
int tariff_parse_tibber(const char *body, size_t len, int home, const char *field, char currency[4],
                        struct tariff_series *out, char *err, size_t errlen);
/* Elering: the area array ("ee", "fi", "lv", "lt"). */
int tariff_parse_elering(const char *body, size_t len, const char *area, struct tariff_series *out, char *err,
                         size_t errlen);
/* Generic JSON, configured like the provider (see tariff_provider_from_json "json" type). */
struct tariff_json_map {
    char array[128];       /* RFC 6901 pointer to the array of items, "" for the root */
    char start[64];        /* pointer inside an item */
    char end[64];          /* pointer inside an item, or "" to use resolution_min */
    char price[64];        /* pointer inside an item */
    enum { TARIFF_TIME_ISO, TARIFF_TIME_EPOCH_S, TARIFF_TIME_EPOCH_MS } time_format;
    int resolution_min;
    double multiplier;     /* provider unit -> currency per kWh, e.g. 0.001 for EUR/MWh */
};
int tariff_parse_json_mapped(const char *body, size_t len, const struct tariff_json_map *map,
                             const tariff_tz *tz, struct tariff_series *out, char *err, size_t errlen);
/* CSV "time,price" with an optional header line; time ISO 8601, epoch seconds, or "01jan2022 00:00:00";
 * times without offset are local in tz, a repeated local hour (fall back) is placed after the previous row.
 * Each row lasts resolution_min; price * multiplier. */
int tariff_parse_csv(const char *body, size_t len, const tariff_tz *tz, int resolution_min, double multiplier,
                     struct tariff_series *out, char *err, size_t errlen);

/* Checks what every provider must deliver: sorted, contiguous (no gap, no overlap), each interval 15, 30 or
 * 60 minutes (any multiple of 5 min up to 24 h when `any_resolution`), prices finite and inside [min, max].
 * Returns 0 or -TARIFF_ERR_IMPLAUSIBLE / -TARIFF_ERR_EMPTY with err saying which interval. */
int tariff_series_validate(const struct tariff_series *s, double min_price, double max_price, bool any_resolution,
                           char *err, size_t errlen);

/* ---- Circuit breaker ------------------------------------------------------------------------------ */

enum tariff_breaker_state { TARIFF_BREAKER_CLOSED, TARIFF_BREAKER_OPEN, TARIFF_BREAKER_HALF_OPEN };
const char *tariff_breaker_state_name(enum tariff_breaker_state s); /* "closed", "open", "half_open" */

struct tariff_breaker_config {
    int failure_threshold;      /* consecutive failures that open it (5) */
    int window_ms;              /* rolling window for the ratio rule (1 h) */
    int min_calls;              /* calls in the window before the ratio rule applies (10) */
    double failure_ratio;       /* 0..1, opens when failures/calls in window >= this (0.5) */
    int64_t open_ms;            /* first open period (60 s) */
    int64_t max_open_ms;        /* cap of the growing open period (1 h) */
    double backoff;             /* open period multiplier per failed probe round (2.0) */
    double jitter;              /* +- fraction of the open period (0.2) */
    int probe_calls;            /* calls let through when half-open, all must succeed to close (1) */
    int64_t slow_call_ms;       /* a successful call slower than this counts as a failure (15 s) */
    uint64_t seed;              /* jitter RNG seed; 0 is replaced by a fixed constant */
};
void tariff_breaker_config_default(struct tariff_breaker_config *c);
/* Reads keys over the defaults: "failure_threshold", "window_s", "min_calls", "failure_ratio", "open_s",
 * "max_open_s", "backoff", "jitter", "probe_calls", "slow_call_ms", "seed". */
int tariff_breaker_config_from_json(const cJSON *obj, struct tariff_breaker_config *c, char *err, size_t errlen);

#define TARIFF_BREAKER_WINDOW 64
struct tariff_breaker {            /* plain data; read the fields, change it only through the functions */
    struct tariff_breaker_config cfg;
    enum tariff_breaker_state state;
    int consecutive_failures;
    int open_rounds;               /* failed probe rounds since last closed; grows the open period */
    int64_t open_until_ms;
    int probes_allowed, probes_succeeded;
    uint64_t rng;
    enum tariff_outcome last_outcome;
    struct { int64_t at_ms; bool failed; } window[TARIFF_BREAKER_WINDOW];
    int window_n, window_head;
};
void tariff_breaker_init(struct tariff_breaker *b, const struct tariff_breaker_config *cfg);
/* May a call be made now? Moves open -> half-open when the open period is over and counts out probes. */
bool tariff_breaker_allow(struct tariff_breaker *b, int64_t now_ms);
/* The result of a call that allow() let through. retry_after_ms (0 = none) holds the breaker open at least
 * that long when the call failed. */
void tariff_breaker_record(struct tariff_breaker *b, int64_t now_ms, enum tariff_outcome outcome,
                           int64_t duration_ms, int64_t retry_after_ms);
/* Is this outcome a failure for the breaker (slow OK calls aside)? */
bool tariff_outcome_is_failure(enum tariff_outcome o);

/* ---- Schedule ------------------------------------------------------------------------------------- */

struct tariff_schedule {
    int64_t cadence_ms;          /* regular refresh (default 1 h) */
    int64_t retry_ms;            /* after a failed attempt, when the breaker allows (default 5 min) */
    int64_t late_poll_ms;        /* after publication time while tomorrow is still missing (default 15 min) */
    int publication_minute;      /* local minute of day the provider publishes next-day prices; -1: never */
    int64_t publication_delay_ms;/* fetch this long after publication (default 10 min) */
    const tariff_tz *publication_tz; /* borrowed from the provider; NULL = UTC */
};
/* The provider's publication time and zone as configured (or its default), with cadence/retry defaults.
 * The schedule borrows the provider's zone: keep the provider alive while using it. */
void tariff_schedule_for(const tariff_provider *p, struct tariff_schedule *s);
/* Reads "cadence_s", "retry_s", "late_poll_s" over what tariff_schedule_for set. */
int tariff_schedule_from_json(const cJSON *obj, struct tariff_schedule *s, char *err, size_t errlen);
/* When to fetch next. Pure.
 *   last_attempt_ms / last_success_ms: INT64_MIN when there was none;
 *   covered_until_ms: end of the prices already stored (INT64_MIN if none).
 * No success yet: now (start) or last attempt + retry. After a failed attempt: last attempt + retry. Else the
 * earliest of last success + cadence, the first publication time (+ delay) after the last success, and - once
 * today's publication time has passed without tomorrow being covered - last success + late_poll.
 * Never earlier than the breaker lets a call through (open_until), never earlier than now. */
int64_t tariff_next_fetch(const struct tariff_schedule *s, int64_t now_ms, int64_t last_attempt_ms,
                          int64_t last_success_ms, int64_t covered_until_ms, const struct tariff_breaker *b);

/* ---- Slots: the fallback chain ------------------------------------------------------------------- */

/* Per slot of the grid [start_ms + i*slot_ms, +slot_ms), i < n_slots, the first source that fully covers it:
 *   1. fresh   (just fetched, composed)           -> MARKET
 *   2. stored  (earlier fetches, composed)        -> CACHED
 *   3. history (stored composed prices of the 4 weeks before start_ms): the mean of the same local
 *      hour-of-week over those weeks, needs at least 2 weeks with data -> FORECAST
 *   4. fallback (a static provider, required)      -> FALLBACK
 * A slot that a series covers with finer intervals gets their time-weighted mean; a coarser interval gives
 * its price to each slot inside it. Any of fresh/stored/history may be NULL. tz: the zone for hour-of-week
 * (the operator's). Returns 0, -1 on bad arguments (err filled). out has n_slots entries. */
int tariff_slots(int64_t start_ms, int64_t slot_ms, size_t n_slots, const struct tariff_series *fresh,
                 const struct tariff_series *stored, const struct tariff_series *history,
                 const tariff_provider *fallback, const tariff_tz *tz, struct tariff_price *out, char *err,
                 size_t errlen);
/* Bit (1 << source) for every source used: what the plan record stores. */
unsigned tariff_sources_used(const struct tariff_price *slots, size_t n);
/* "market+cached+fallback" style text for a source mask, into buf. */
const char *tariff_sources_text(unsigned mask, char *buf, size_t len);

#endif
