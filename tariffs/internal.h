/* Shared between the tariffs/ sources only; never installed or included from outside the library. */
#ifndef TARIFFS_INTERNAL_H
#define TARIFFS_INTERNAL_H

#include "tariffs.h"

#include <stdarg.h>
#include <stdatomic.h>

#if defined(__GNUC__)
#define TARIFF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TARIFF_PRINTF(a, b)
#endif

void tariff_err(char *err, size_t errlen, const char *fmt, ...) TARIFF_PRINTF(3, 4);

int64_t tariff_days_from_civil(int y, int m, int d);
void tariff_civil_from_days(int64_t days, int *y, int *m, int *d);
int tariff_weekday(int64_t days);
int64_t tariff_floor_div(int64_t a, int64_t b);

struct tariff_http_cfg {
    char ca_file[512];
    long connect_timeout_ms, timeout_ms, low_speed_bps, low_speed_time_s;
    size_t max_body;
    char user_agent[128];
    int max_pages;
};

struct tariff_composition {
    double adders;          /* per kWh, sum of the configured adders */
    bool has_grid_fee;
    struct tariff_tou grid_fee;
    double vat_percent;
};

struct tariff_provider {
    enum tariff_kind kind;
    char name[64];
    char currency[4];
    tariff_tz *tz;
    tariff_tz *pub_tz;
    int pub_minute;              /* -1: never publishes (static) */
    int64_t pub_delay_ms;
    struct tariff_http_cfg http;
    struct tariff_composition comp;
    double min_price, max_price; /* raw market price band per kWh */

    char url[1024];
    char token[512];             /* ENTSO-E securityToken, Tibber bearer token */
    char area[64];               /* ENTSO-E EIC, Energy-Charts bzn, Elering area */
    bool inc_vat;                /* Octopus */
    int home;                    /* Tibber */
    char field[16];              /* Tibber "total" / "energy" */
    struct tariff_json_map map;  /* generic JSON */
    char csv_file[512];          /* CSV from a file instead of url */
    int resolution_min;          /* CSV */
    double multiplier;           /* CSV */
    struct tariff_tou tou;       /* static time-of-use */
    double fixed_price;
};

/* Raw market price (per kWh) -> what the operator pays at that instant. */
double tariff_compose(const tariff_provider *p, int64_t at_ms, double market);

/* One blocking HTTP request with the provider's limits. body: malloc'd, NUL-terminated, caller frees.
 * budget_ms: the total time left for this fetch. Fills res (outcome, status, retry_after, duration). */
struct tariff_http_req {
    const char *url;
    const char *const *headers; /* NULL-terminated */
    const char *post;           /* NULL for GET */
    const atomic_int *cancel;   /* may be NULL; non-zero ends the transfer at once */
};
int tariff_http(const struct tariff_http_cfg *cfg, const struct tariff_http_req *rq, long budget_ms, char **body,
                size_t *len, struct tariff_fetch_result *res);

void tariff_series_sort(struct tariff_series *s, size_t from);

/* Checks every key of obj is in the NULL-terminated list. */
int tariff_json_keys(const cJSON *obj, const char *where, const char *const *allowed, char *err, size_t errlen);

#endif
