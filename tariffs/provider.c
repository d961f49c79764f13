/* Provider configuration: one JSON object per provider, every key checked, every error naming its key. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kind_info {
    const char *url;         /* default endpoint */
    const char *currency;    /* required currency, NULL: any */
    int pub_minute;          /* default publication time, local */
    const char *pub_zone;
    const char *const *keys; /* type-specific keys */
};

static const char *const k_awattar[] = {"country", NULL};
static const char *const k_entsoe[] = {"security_token", "area", NULL};
static const char *const k_ec[] = {"bzn", NULL};
static const char *const k_octopus[] = {"product", "tariff", "include_vat", NULL};
static const char *const k_tibber[] = {"token", "home", "field", "resolution", NULL};
static const char *const k_elering[] = {"area", NULL};
static const char *const k_json[] = {"array", "start", "end", "price", "time_format", "resolution_min",
                                     "multiplier", "headers", NULL};
static const char *const k_csv[] = {"file", "resolution_min", "multiplier", NULL};
static const char *const k_tou[] = {"bands", NULL};
static const char *const k_fixed[] = {"price", "value", NULL};

/* Publication times: day-ahead auctions clear around 12:00-12:45 CET; each platform republishes a little later. */
static const struct kind_info kinds[TARIFF_KIND_COUNT] = {
    [TARIFF_AWATTAR] = {"https://api.awattar.de/v1/marketdata", "EUR", 14 * 60, "Europe/Berlin", k_awattar},
    [TARIFF_ENTSOE] = {"https://web-api.tp.entsoe.eu/api", "EUR", 13 * 60, "Europe/Brussels", k_entsoe},
    [TARIFF_ENERGY_CHARTS] = {"https://api.energy-charts.info/price", "EUR", 13 * 60 + 30, "Europe/Berlin", k_ec},
    [TARIFF_OCTOPUS] = {"https://api.octopus.energy", "GBP", 16 * 60, "Europe/London", k_octopus},
    [TARIFF_TIBBER] = {"https://api.tibber.com/v1-beta/gql", NULL, 13 * 60 + 15, "Europe/Berlin", k_tibber},
    [TARIFF_ELERING] = {"https://dashboard.elering.ee/api/nps/price", "EUR", 14 * 60, "Europe/Tallinn", k_elering},
    [TARIFF_GENERIC_JSON] = {NULL, NULL, 13 * 60, NULL, k_json},
    [TARIFF_CSV] = {NULL, NULL, 13 * 60, NULL, k_csv},
    [TARIFF_TOU] = {NULL, NULL, -1, NULL, k_tou},
    [TARIFF_FIXED] = {NULL, NULL, -1, NULL, k_fixed},
};

static const char *const k_common[] = {"type", "name", "zone", "currency", "zoneinfo_dir", "http", "composition",
                                       "plausible", "publication", "url", NULL};

static int str_key(const cJSON *o, const char *key, char *dst, size_t len, bool required, const char *where,
                   char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it) {
        if (required)
            return tariff_err(err, errlen, "%s: missing \"%s\"", where, key), -1;
        return 0;
    }
    if (!cJSON_IsString(it) || !*it->valuestring || strlen(it->valuestring) >= len)
        return tariff_err(err, errlen, "%s.%s: need a non-empty string shorter than %zu", where, key, len), -1;
    strcpy(dst, it->valuestring);
    return 1;
}

static int num_key(const cJSON *o, const char *key, double lo, double hi, double *v, bool required,
                   const char *where, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it) {
        if (required)
            return tariff_err(err, errlen, "%s: missing \"%s\"", where, key), -1;
        return 0;
    }
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < lo || it->valuedouble > hi)
        return tariff_err(err, errlen, "%s.%s: need a number in [%g, %g]", where, key, lo, hi), -1;
    *v = it->valuedouble;
    return 1;
}

static int parse_http(const cJSON *o, struct tariff_http_cfg *h, char *err, size_t errlen)
{
    static const char *const keys[] = {"ca_file", "connect_timeout_ms", "timeout_ms", "low_speed_bytes_per_s",
                                       "low_speed_time_s", "max_body_bytes", "user_agent", "max_pages", NULL};
    *h = (struct tariff_http_cfg){.connect_timeout_ms = 5000, .timeout_ms = 20000, .low_speed_bps = 64,
                                  .low_speed_time_s = 5, .max_body = 4u << 20, .max_pages = 10};
    snprintf(h->user_agent, sizeof h->user_agent, "depotd-tariffs/0.1 (+https://github.com/depotd)");
    if (!o)
        return 0;
    if (!cJSON_IsObject(o) || tariff_json_keys(o, "http", keys, err, errlen) < 0)
        return cJSON_IsObject(o) ? -1 : (tariff_err(err, errlen, "http: need an object"), -1);
    double v;
    int r;
    if (str_key(o, "ca_file", h->ca_file, sizeof h->ca_file, false, "http", err, errlen) < 0 ||
        str_key(o, "user_agent", h->user_agent, sizeof h->user_agent, false, "http", err, errlen) < 0)
        return -1;
#define NUM(k, lo, hi, dst)                                                                                        \
    if ((r = num_key(o, k, lo, hi, &v, false, "http", err, errlen)) < 0)                                          \
        return -1;                                                                                                 \
    if (r)                                                                                                         \
        dst;
    NUM("connect_timeout_ms", 10, 120000, h->connect_timeout_ms = (long)v)
    NUM("timeout_ms", 10, 600000, h->timeout_ms = (long)v)
    NUM("low_speed_bytes_per_s", 1, 1e9, h->low_speed_bps = (long)v)
    NUM("low_speed_time_s", 1, 600, h->low_speed_time_s = (long)v)
    NUM("max_body_bytes", 1024, 256.0 * 1024 * 1024, h->max_body = (size_t)v)
    NUM("max_pages", 1, 100, h->max_pages = (int)v)
#undef NUM
    return 0;
}

static int parse_composition(const cJSON *o, struct tariff_composition *c, char *err, size_t errlen)
{
    static const char *const keys[] = {"adders_per_kwh", "grid_fee", "vat_percent", NULL};
    memset(c, 0, sizeof *c);
    if (!o)
        return 0;
    if (!cJSON_IsObject(o) || tariff_json_keys(o, "composition", keys, err, errlen) < 0)
        return cJSON_IsObject(o) ? -1 : (tariff_err(err, errlen, "composition: need an object"), -1);
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(o, "adders_per_kwh"), *it;
    if (cJSON_IsNumber(add)) {
        c->adders = add->valuedouble;
    } else if (cJSON_IsArray(add)) {
        int i = 0;
        cJSON_ArrayForEach(it, add) {
            static const char *const akeys[] = {"name", "price", NULL};
            char where[64];
            double v;
            snprintf(where, sizeof where, "composition.adders_per_kwh[%d]", i++);
            if (tariff_json_keys(it, where, akeys, err, errlen) < 0 ||
                num_key(it, "price", -10, 10, &v, true, where, err, errlen) < 0)
                return -1;
            c->adders += v;
        }
    } else if (add) {
        return tariff_err(err, errlen, "composition.adders_per_kwh: need a number or [{\"name\",\"price\"}]"), -1;
    }
    const cJSON *fee = cJSON_GetObjectItemCaseSensitive(o, "grid_fee");
    if (fee) {
        if (tariff_tou_from_json(fee, "composition.grid_fee", &c->grid_fee, err, errlen) < 0)
            return -1;
        c->has_grid_fee = true;
    }
    return num_key(o, "vat_percent", 0, 100, &c->vat_percent, false, "composition", err, errlen) < 0 ? -1 : 0;
}

#define CODE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* Octopus: product and tariff codes, which go into the URL's path. */
static int parse_octopus(tariff_provider *p, const cJSON *cfg, char *err, size_t errlen)
{
    const char *w = tariff_kind_name(p->kind);
    char product[96], tariff[128];
    if (str_key(cfg, "product", product, sizeof product, true, w, err, errlen) < 0 ||
        str_key(cfg, "tariff", tariff, sizeof tariff, true, w, err, errlen) < 0)
        return -1;
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(cfg, "include_vat");
    if (iv && !cJSON_IsBool(iv))
        return tariff_err(err, errlen, "octopus.include_vat: need true or false"), -1;
    p->inc_vat = cJSON_IsTrue(iv);
    /* product and tariff codes go into the URL path: refuse anything that could change it */
    if (strspn(product, CODE_CHARS) != strlen(product))
        return tariff_err(err, errlen, "octopus.product: only letters, digits, '-' and '_'"), -1;
    if (strspn(tariff, CODE_CHARS) != strlen(tariff))
        return tariff_err(err, errlen, "octopus.tariff: only letters, digits, '-' and '_'"), -1;
    size_t l = strlen(p->url);
    if (l && p->url[l - 1] == '/')
        p->url[--l] = '\0';
    if (snprintf(p->url + l, sizeof p->url - l, "/v1/products/%s/electricity-tariffs/%s/standard-unit-rates/",
                 product, tariff) >= (int)(sizeof p->url - l))
        return tariff_err(err, errlen, "octopus.url: too long"), -1;
    return 0;
}

/* Tibber: the API token, which price field, which home, hourly or quarter-hourly. */
static int parse_tibber(tariff_provider *p, const cJSON *cfg, char *err, size_t errlen)
{
    const char *w = tariff_kind_name(p->kind);
    char buf[32] = "";
    double v;
    int r;
    snprintf(p->field, sizeof p->field, "total");
    if (str_key(cfg, "token", p->token, sizeof p->token, true, w, err, errlen) < 0 ||
        str_key(cfg, "field", p->field, sizeof p->field, false, w, err, errlen) < 0)
        return -1;
    if (strcmp(p->field, "total") != 0 && strcmp(p->field, "energy") != 0)
        return tariff_err(err, errlen, "tibber.field: \"total\" or \"energy\""), -1;
    if ((r = num_key(cfg, "home", 0, 100, &v, false, w, err, errlen)) < 0)
        return -1;
    p->home = r ? (int)v : 0;
    if ((r = str_key(cfg, "resolution", buf, sizeof buf, false, w, err, errlen)) < 0)
        return -1;
    if (r && strcmp(buf, "hourly") != 0 && strcmp(buf, "quarter_hourly") != 0)
        return tariff_err(err, errlen, "tibber.resolution: \"hourly\" or \"quarter_hourly\""), -1;
    p->resolution_min = r && strcmp(buf, "quarter_hourly") == 0 ? 15 : 60;
    for (const char *s = p->token; *s; s++)
        if (*s == '\r' || *s == '\n')
            return tariff_err(err, errlen, "tibber.token: must not contain line breaks"), -1;
    return 0;
}

/* Generic JSON: where the array, the times and the prices are, how times are written, extra headers. */
static int parse_json_map(tariff_provider *p, const cJSON *cfg, char *err, size_t errlen)
{
    const char *w = tariff_kind_name(p->kind);
    char buf[32] = "";
    double v;
    int r;
    struct tariff_json_map *m = &p->map;
    m->multiplier = 1;
    if (!p->url[0])
        return tariff_err(err, errlen, "json: missing \"url\""), -1;
    if (str_key(cfg, "array", m->array, sizeof m->array, false, w, err, errlen) < 0 ||
        str_key(cfg, "start", m->start, sizeof m->start, true, w, err, errlen) < 0 ||
        str_key(cfg, "end", m->end, sizeof m->end, false, w, err, errlen) < 0 ||
        str_key(cfg, "price", m->price, sizeof m->price, true, w, err, errlen) < 0 ||
        (r = str_key(cfg, "time_format", buf, sizeof buf, false, w, err, errlen)) < 0)
        return -1;
    if (!r || strcmp(buf, "iso8601") == 0)
        m->time_format = TARIFF_TIME_ISO;
    else if (strcmp(buf, "epoch_s") == 0)
        m->time_format = TARIFF_TIME_EPOCH_S;
    else if (strcmp(buf, "epoch_ms") == 0)
        m->time_format = TARIFF_TIME_EPOCH_MS;
    else
        return tariff_err(err, errlen, "json.time_format: \"iso8601\", \"epoch_s\" or \"epoch_ms\""), -1;
    if ((r = num_key(cfg, "resolution_min", 5, 1440, &v, !m->end[0], w, err, errlen)) < 0)
        return -1;
    m->resolution_min = r ? (int)v : 0;
    if ((r = num_key(cfg, "multiplier", -1e6, 1e6, &v, false, w, err, errlen)) < 0)
        return -1;
    if (r)
        m->multiplier = v;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(cfg, "headers"), *it;
    if (h && (!cJSON_IsArray(h) || cJSON_GetArraySize(h) > 4))
        return tariff_err(err, errlen, "json.headers: need an array of at most 4 \"Name: value\" strings"), -1;
    cJSON_ArrayForEach(it, h) {
        const char *s = cJSON_GetStringValue(it);
        if (!s || !strchr(s, ':') || strpbrk(s, "\r\n") || strlen(p->token) + strlen(s) + 2 > sizeof p->token)
            return tariff_err(err, errlen, "json.headers: need \"Name: value\" strings without line breaks"), -1;
        if (p->token[0])
            strcat(p->token, "\n");
        strcat(p->token, s); /* extra headers, newline separated */
    }
    return 0;
}

static int parse_kind_keys(tariff_provider *p, const cJSON *cfg, char *err, size_t errlen)
{
    const char *w = tariff_kind_name(p->kind);
    char buf[32] = "";
    double v;
    int r;
    switch (p->kind) {
    case TARIFF_AWATTAR:
        if ((r = str_key(cfg, "country", buf, sizeof buf, false, w, err, errlen)) < 0)
            return -1;
        if (r && strcmp(buf, "de") != 0 && strcmp(buf, "at") != 0)
            return tariff_err(err, errlen, "awattar.country: \"de\" or \"at\""), -1;
        if (r && strcmp(buf, "at") == 0 && !cJSON_GetObjectItemCaseSensitive(cfg, "url"))
            snprintf(p->url, sizeof p->url, "https://api.awattar.at/v1/marketdata");
        return 0;
    case TARIFF_ENTSOE:
        return str_key(cfg, "security_token", p->token, sizeof p->token, true, w, err, errlen) < 0 ||
                       str_key(cfg, "area", p->area, sizeof p->area, true, w, err, errlen) < 0
                   ? -1
                   : 0;
    case TARIFF_ENERGY_CHARTS:
        snprintf(p->area, sizeof p->area, "DE-LU");
        return str_key(cfg, "bzn", p->area, sizeof p->area, false, w, err, errlen) < 0 ? -1 : 0;
    case TARIFF_OCTOPUS:
        return parse_octopus(p, cfg, err, errlen);
    case TARIFF_TIBBER:
        return parse_tibber(p, cfg, err, errlen);
    case TARIFF_ELERING:
        snprintf(p->area, sizeof p->area, "ee");
        if (str_key(cfg, "area", p->area, sizeof p->area, false, w, err, errlen) < 0)
            return -1;
        if (strcmp(p->area, "ee") && strcmp(p->area, "fi") && strcmp(p->area, "lv") && strcmp(p->area, "lt"))
            return tariff_err(err, errlen, "elering.area: one of \"ee\", \"fi\", \"lv\", \"lt\""), -1;
        return 0;
    case TARIFF_GENERIC_JSON:
        return parse_json_map(p, cfg, err, errlen);
    case TARIFF_CSV:
        p->multiplier = 1;
        if ((r = str_key(cfg, "file", p->csv_file, sizeof p->csv_file, false, w, err, errlen)) < 0)
            return -1;
        if (!r == !p->url[0])
            return tariff_err(err, errlen, "csv: need exactly one of \"file\" and \"url\""), -1;
        if ((r = num_key(cfg, "resolution_min", 5, 1440, &v, false, w, err, errlen)) < 0)
            return -1;
        p->resolution_min = r ? (int)v : 60;
        if ((r = num_key(cfg, "multiplier", -1e6, 1e6, &v, false, w, err, errlen)) < 0)
            return -1;
        if (r)
            p->multiplier = v;
        return 0;
    case TARIFF_TOU:
        return tariff_tou_from_json(cJSON_GetObjectItemCaseSensitive(cfg, "bands"), "tou.bands", &p->tou, err,
                                    errlen);
    case TARIFF_FIXED:
        /* "value": a series that is not a price (a building's kW), without the price's plausible range. */
        if (cJSON_GetObjectItemCaseSensitive(cfg, "value"))
            return num_key(cfg, "value", -1e6, 1e6, &p->fixed_price, true, w, err, errlen) < 0 ? -1 : 0;
        return num_key(cfg, "price", -10, 10, &p->fixed_price, true, w, err, errlen) < 0 ? -1 : 0;
    default:
        return -1;
    }
}

static int check_keys(const cJSON *cfg, enum tariff_kind k, char *err, size_t errlen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cfg) {
        bool ok = false;
        for (const char *const *a = k_common; *a && !ok; a++)
            ok = strcmp(it->string, *a) == 0;
        for (const char *const *a = kinds[k].keys; *a && !ok; a++)
            ok = strcmp(it->string, *a) == 0;
        if (!ok)
            return tariff_err(err, errlen, "%s: unknown key '%s'", tariff_kind_name(k), it->string), -1;
    }
    return 0;
}

static int parse_publication(tariff_provider *p, const cJSON *cfg, const char *zdir, char *err, size_t errlen)
{
    static const char *const keys[] = {"time", "zone", "delay_min", NULL};
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cfg, "publication");
    const struct kind_info *ki = &kinds[p->kind];
    char zone[64], t[16];
    double v;
    snprintf(zone, sizeof zone, "%s", ki->pub_zone ? ki->pub_zone : tariff_tz_name(p->tz));
    p->pub_minute = ki->pub_minute;
    p->pub_delay_ms = 10 * TARIFF_MS_PER_MIN;
    if (o) {
        int h, m, r;
        char tail;
        if (!cJSON_IsObject(o) || tariff_json_keys(o, "publication", keys, err, errlen) < 0)
            return cJSON_IsObject(o) ? -1 : (tariff_err(err, errlen, "publication: need an object"), -1);
        if ((r = str_key(o, "time", t, sizeof t, false, "publication", err, errlen)) < 0)
            return -1;
        if (r) {
            if (sscanf(t, "%2d:%2d%c", &h, &m, &tail) != 2 || h > 23 || m > 59 || h < 0 || m < 0)
                return tariff_err(err, errlen, "publication.time: need \"HH:MM\""), -1;
            p->pub_minute = h * 60 + m;
        }
        if (str_key(o, "zone", zone, sizeof zone, false, "publication", err, errlen) < 0)
            return -1;
        if ((r = num_key(o, "delay_min", 0, 600, &v, false, "publication", err, errlen)) < 0)
            return -1;
        if (r)
            p->pub_delay_ms = (int64_t)(v * TARIFF_MS_PER_MIN);
    }
    if (!(p->pub_tz = tariff_tz_load(zone, zdir, err, errlen)))
        return -1;
    return 0;
}

tariff_provider *tariff_provider_from_json(const cJSON *cfg, char *err, size_t errlen)
{
    char type[32], zone[64] = "UTC", zdir[256] = "";
    if (!cJSON_IsObject(cfg))
        return tariff_err(err, errlen, "tariff provider: need an object"), NULL;
    if (str_key(cfg, "type", type, sizeof type, true, "tariff provider", err, errlen) < 0)
        return NULL;
    int kind = -1;
    for (int k = 0; k < TARIFF_KIND_COUNT; k++)
        if (strcmp(type, tariff_kind_name(k)) == 0)
            kind = k;
    if (kind < 0)
        return tariff_err(err, errlen, "type: unknown provider type '%s'", type), NULL;
    if (check_keys(cfg, kind, err, errlen) < 0)
        return NULL;
    tariff_provider *p = calloc(1, sizeof *p);
    if (!p)
        return tariff_err(err, errlen, "out of memory"), NULL;
    p->kind = kind;
    const char *w = type;
    snprintf(p->name, sizeof p->name, "%s", type);
    snprintf(p->currency, sizeof p->currency, "%s", kinds[kind].currency ? kinds[kind].currency : "EUR");
    snprintf(p->url, sizeof p->url, "%s", kinds[kind].url ? kinds[kind].url : "");
    p->min_price = -1.0;
    p->max_price = 5.0;
    if (str_key(cfg, "name", p->name, sizeof p->name, false, w, err, errlen) < 0 ||
        str_key(cfg, "zone", zone, sizeof zone, false, w, err, errlen) < 0 ||
        str_key(cfg, "zoneinfo_dir", zdir, sizeof zdir, false, w, err, errlen) < 0 ||
        str_key(cfg, "currency", p->currency, sizeof p->currency, false, w, err, errlen) < 0 ||
        str_key(cfg, "url", p->url, sizeof p->url, false, w, err, errlen) < 0)
        goto fail;
    if (strlen(p->currency) != 3)
        goto fail_msg_currency;
    if (kinds[kind].currency && strcmp(p->currency, kinds[kind].currency) != 0) {
        tariff_err(err, errlen, "%s.currency: this provider prices in %s", w, kinds[kind].currency);
        goto fail;
    }
    if (p->url[0] && strncmp(p->url, "https://", 8) != 0 && strncmp(p->url, "http://", 7) != 0) {
        tariff_err(err, errlen, "%s.url: need an http:// or https:// URL", w);
        goto fail;
    }
    if (!(p->tz = tariff_tz_load(zone, zdir[0] ? zdir : NULL, err, errlen)))
        goto fail;
    if (parse_http(cJSON_GetObjectItemCaseSensitive(cfg, "http"), &p->http, err, errlen) < 0 ||
        parse_composition(cJSON_GetObjectItemCaseSensitive(cfg, "composition"), &p->comp, err, errlen) < 0 ||
        parse_publication(p, cfg, zdir[0] ? zdir : NULL, err, errlen) < 0 || parse_kind_keys(p, cfg, err, errlen) < 0)
        goto fail;
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(cfg, "plausible");
    if (pl) {
        /* "min"/"max": the same band for a series that is not a price (a building's kW). */
        static const char *const keys[] = {"min_per_kwh", "max_per_kwh", "min", "max", NULL};
        if (!cJSON_IsObject(pl) || tariff_json_keys(pl, "plausible", keys, err, errlen) < 0 ||
            num_key(pl, "min_per_kwh", -1e4, 1e4, &p->min_price, false, "plausible", err, errlen) < 0 ||
            num_key(pl, "max_per_kwh", -1e4, 1e4, &p->max_price, false, "plausible", err, errlen) < 0 ||
            num_key(pl, "min", -1e6, 1e6, &p->min_price, false, "plausible", err, errlen) < 0 ||
            num_key(pl, "max", -1e6, 1e6, &p->max_price, false, "plausible", err, errlen) < 0) {
            if (!cJSON_IsObject(pl))
                tariff_err(err, errlen, "plausible: need an object");
            goto fail;
        }
        if (p->max_price <= p->min_price) {
            tariff_err(err, errlen, "plausible.max_per_kwh: must be above min_per_kwh");
            goto fail;
        }
    }
    return p;
fail_msg_currency:
    tariff_err(err, errlen, "%s.currency: need an ISO 4217 code like \"EUR\"", w);
fail:
    tariff_provider_free(p);
    return NULL;
}

void tariff_provider_free(tariff_provider *p)
{
    if (!p)
        return;
    tariff_tz_free(p->tz);
    tariff_tz_free(p->pub_tz);
    free(p);
}

enum tariff_kind tariff_provider_kind(const tariff_provider *p) { return p->kind; }
const char *tariff_provider_name(const tariff_provider *p) { return p->name; }
const tariff_tz *tariff_provider_zone(const tariff_provider *p) { return p->tz; }
bool tariff_provider_is_static(const tariff_provider *p) { return p->kind == TARIFF_TOU || p->kind == TARIFF_FIXED; }

int tariff_static_price(const tariff_provider *p, int64_t utc_ms, double *price)
{
    if (p->kind == TARIFF_TOU)
        *price = tariff_compose(p, utc_ms, tariff_tou_at(&p->tou, p->tz, utc_ms));
    else if (p->kind == TARIFF_FIXED)
        *price = tariff_compose(p, utc_ms, p->fixed_price);
    else
        return -1;
    return 0;
}
