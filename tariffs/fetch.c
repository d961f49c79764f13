/* One fetch: build the provider's request, run it (and its pages) within one time budget, parse, check the
 * series, compose the price the operator pays. Blocking; runs on depotd's tariff worker. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void iso_utc(int64_t ms, char *buf, size_t len, bool millis)
{
    int y, m, d;
    int64_t sec = tariff_floor_div(ms, 1000), days = tariff_floor_div(sec, 86400), sod = sec - days * 86400;
    tariff_civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, millis ? "%04d-%02d-%02dT%02d:%02d:%02d.000Z" : "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

/* ENTSO-E wants yyyyMMddHHmm in UTC. */
static void entsoe_time(int64_t ms, char *buf, size_t len)
{
    int y, m, d;
    int64_t sec = tariff_floor_div(ms, 1000), days = tariff_floor_div(sec, 86400), sod = sec - days * 86400;
    tariff_civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04d%02d%02d%02d%02d", y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60));
}

static void pct(const char *s, char *out, size_t len)
{
    size_t k = 0;
    for (; *s && k + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, len - k, "%%%02X", c);
    }
    out[k] = '\0';
}

/* {start_iso} {end_iso} {start_s} {end_s} {start_ms} {end_ms} in a configured URL. */
static int expand(const char *tpl, int64_t from, int64_t to, char *out, size_t len)
{
    size_t k = 0;
    while (*tpl) {
        char v[40] = "";
        size_t skip = 0;
        if (strncmp(tpl, "{start_iso}", 11) == 0)
            iso_utc(from, v, sizeof v, false), skip = 11;
        else if (strncmp(tpl, "{end_iso}", 9) == 0)
            iso_utc(to, v, sizeof v, false), skip = 9;
        else if (strncmp(tpl, "{start_s}", 9) == 0)
            snprintf(v, sizeof v, "%lld", (long long)(from / 1000)), skip = 9;
        else if (strncmp(tpl, "{end_s}", 7) == 0)
            snprintf(v, sizeof v, "%lld", (long long)(to / 1000)), skip = 7;
        else if (strncmp(tpl, "{start_ms}", 10) == 0)
            snprintf(v, sizeof v, "%lld", (long long)from), skip = 10;
        else if (strncmp(tpl, "{end_ms}", 8) == 0)
            snprintf(v, sizeof v, "%lld", (long long)to), skip = 8;
        if (skip) {
            size_t l = strlen(v);
            if (k + l >= len)
                return -1;
            memcpy(out + k, v, l);
            k += l;
            tpl += skip;
        } else {
            if (k + 1 >= len)
                return -1;
            out[k++] = *tpl++;
        }
    }
    out[k] = '\0';
    return 0;
}

int tariff_build_request(const tariff_provider *p, int64_t from, int64_t to, struct tariff_request *rq, char *err,
                         size_t errlen)
{
    char a[40], b[40], tok[1024], area[192];
    int n = 0;
    memset(rq, 0, sizeof *rq);
    const char *sep = strchr(p->url, '?') ? "&" : "?";
    switch (p->kind) {
    case TARIFF_AWATTAR:
        n = snprintf(rq->url, sizeof rq->url, "%s%sstart=%lld&end=%lld", p->url, sep, (long long)from, (long long)to);
        break;
    case TARIFF_ENTSOE:
        entsoe_time(from, a, sizeof a);
        entsoe_time(to, b, sizeof b);
        pct(p->token, tok, sizeof tok);
        pct(p->area, area, sizeof area);
        n = snprintf(rq->url, sizeof rq->url,
                     "%s%ssecurityToken=%s&documentType=A44&in_Domain=%s&out_Domain=%s&periodStart=%s&periodEnd=%s",
                     p->url, sep, tok, area, area, a, b);
        break;
    case TARIFF_ENERGY_CHARTS:
        iso_utc(from, a, sizeof a, false);
        iso_utc(to, b, sizeof b, false);
        pct(p->area, area, sizeof area);
        n = snprintf(rq->url, sizeof rq->url, "%s%sbzn=%s&start=%s&end=%s", p->url, sep, area, a, b);
        break;
    case TARIFF_OCTOPUS:
        iso_utc(from, a, sizeof a, false);
        iso_utc(to, b, sizeof b, false);
        n = snprintf(rq->url, sizeof rq->url, "%s%speriod_from=%s&period_to=%s&page_size=1500", p->url, sep, a, b);
        break;
    case TARIFF_TIBBER: {
        const char *fields = "{total energy tax startsAt currency}";
        n = snprintf(rq->url, sizeof rq->url, "%s", p->url);
        snprintf(rq->headers, sizeof rq->headers, "Authorization: Bearer %s\nContent-Type: application/json",
                 p->token);
        snprintf(rq->body, sizeof rq->body,
                 "{\"query\":\"{viewer{homes{currentSubscription{priceInfo%s{today%s tomorrow%s}}}}}\"}",
                 p->resolution_min == 15 ? "(resolution: QUARTER_HOURLY)" : "", fields, fields);
        break;
    }
    case TARIFF_ELERING:
        iso_utc(from, a, sizeof a, true);
        iso_utc(to, b, sizeof b, true);
        n = snprintf(rq->url, sizeof rq->url, "%s%sstart=%s&end=%s", p->url, sep, a, b);
        break;
    case TARIFF_GENERIC_JSON:
    case TARIFF_CSV:
        if (p->csv_file[0]) {
            n = snprintf(rq->url, sizeof rq->url, "file:%s", p->csv_file);
            break;
        }
        if (expand(p->url, from, to, rq->url, sizeof rq->url) < 0)
            return tariff_err(err, errlen, "%s: url too long after expansion", p->name), -1;
        snprintf(rq->headers, sizeof rq->headers, "%s", p->kind == TARIFF_GENERIC_JSON ? p->token : "");
        break;
    case TARIFF_TOU:
    case TARIFF_FIXED:
        return tariff_err(err, errlen, "%s: a static tariff makes no request", p->name), -1;
    default:
        return -1;
    }
    if (n < 0 || (size_t)n >= sizeof rq->url)
        return tariff_err(err, errlen, "%s: request URL too long", p->name), -1;
    return 0;
}

static int fail(struct tariff_fetch_result *res, enum tariff_outcome o, const tariff_provider *p, const char *msg)
{
    res->outcome = o;
    snprintf(res->error, sizeof res->error, "%.60s: %.190s", p->name, msg);
    return -1;
}

/* Octopus "next" must stay on the configured host: a page link is data, not a place to send requests to. */
static bool same_origin(const char *base, const char *next)
{
    const char *s = strstr(base, "://");
    if (!s)
        return false;
    const char *e = strchr(s + 3, '/');
    size_t l = e ? (size_t)(e - base) : strlen(base);
    return strncmp(base, next, l) == 0 && (next[l] == '/' || next[l] == '\0');
}

static int read_file(const tariff_provider *p, char **body, size_t *len, struct tariff_fetch_result *res)
{
    FILE *f = fopen(p->csv_file, "rb");
    char msg[200];
    if (!f) {
        snprintf(msg, sizeof msg, "cannot open %.120s: %.60s", p->csv_file, strerror(errno));
        return fail(res, TARIFF_ERR_CONFIG, p, msg);
    }
    *body = malloc(p->http.max_body + 1);
    *len = *body ? fread(*body, 1, p->http.max_body + 1, f) : 0;
    fclose(f);
    if (!*body)
        return fail(res, TARIFF_ERR_TRANSPORT, p, "out of memory");
    if (*len > p->http.max_body)
        return fail(res, TARIFF_ERR_TOO_LARGE, p, "file over http.max_body_bytes");
    (*body)[*len] = '\0';
    return 0;
}

static int parse_page(const tariff_provider *p, const char *body, size_t len, char *next, size_t nextlen,
                      char currency[4], struct tariff_series *raw, char *err, size_t errlen)
{
    switch (p->kind) {
    case TARIFF_AWATTAR: return tariff_parse_awattar(body, len, raw, err, errlen);
    case TARIFF_ENTSOE: return tariff_parse_entsoe(body, len, raw, err, errlen);
    case TARIFF_ENERGY_CHARTS: return tariff_parse_energy_charts(body, len, raw, err, errlen);
    case TARIFF_OCTOPUS: return tariff_parse_octopus(body, len, p->inc_vat, next, nextlen, raw, err, errlen);
    case TARIFF_TIBBER: return tariff_parse_tibber(body, len, p->home, p->field, currency, raw, err, errlen);
    case TARIFF_ELERING: return tariff_parse_elering(body, len, p->area, raw, err, errlen);
    case TARIFF_GENERIC_JSON: return tariff_parse_json_mapped(body, len, &p->map, p->tz, raw, err, errlen);
    case TARIFF_CSV:
        return tariff_parse_csv(body, len, p->tz, p->resolution_min, p->multiplier, raw, err, errlen);
    default: return -TARIFF_ERR_PARSE;
    }
}

static int fetch_static(const tariff_provider *p, int64_t from, int64_t to, struct tariff_series *out,
                        struct tariff_fetch_result *res)
{
    const int64_t step = 15 * TARIFF_MS_PER_MIN;
    size_t n0 = out->n;
    for (int64_t t = tariff_floor_div(from, step) * step; t < to; t += step) {
        double v;
        tariff_static_price(p, t, &v);
        if (tariff_series_push(out, t, t + step, v, TARIFF_SRC_MARKET) < 0) {
            out->n = n0;
            return fail(res, TARIFF_ERR_TRANSPORT, p, "out of memory");
        }
    }
    return 0;
}

int tariff_fetch(const tariff_provider *p, int64_t from, int64_t to, struct tariff_series *out,
                 struct tariff_fetch_result *res)
{
    return tariff_fetch_cancellable(p, from, to, out, res, NULL);
}

int tariff_fetch_cancellable(const tariff_provider *p, int64_t from, int64_t to, struct tariff_series *out,
                             struct tariff_fetch_result *res, const atomic_int *cancel)
{
    memset(res, 0, sizeof *res);
    char err[200] = "", next[2048] = "", currency[4] = "";
    if (to <= from)
        return fail(res, TARIFF_ERR_CONFIG, p, "empty time range");
    if (tariff_provider_is_static(p))
        return fetch_static(p, from, to, out, res);
    struct tariff_request rq;
    if (tariff_build_request(p, from, to, &rq, err, sizeof err) < 0)
        return fail(res, TARIFF_ERR_CONFIG, p, err);
    struct tariff_series raw = {0};
    const char *headers[8] = {0};
    int nh = 0;
    char *save = NULL;
    for (char *h = strtok_r(rq.headers, "\n", &save); h && nh < 7; h = strtok_r(NULL, "\n", &save))
        headers[nh++] = h;
    int rc = -1;
    const char *url = rq.url;
    char page_url[2048];
    for (int page = 0;; page++) {
        char *body = NULL;
        size_t len = 0;
        if (p->csv_file[0]) {
            rc = read_file(p, &body, &len, res);
        } else {
            long budget = p->http.timeout_ms - (long)res->duration_ms;
            if (budget <= 0) {
                rc = fail(res, TARIFF_ERR_TIMEOUT, p, "timeout_ms spent before the last page");
                break;
            }
            struct tariff_http_req hr = {url, headers, p->kind == TARIFF_TIBBER ? rq.body : NULL, cancel};
            int64_t before = res->duration_ms;
            rc = tariff_http(&p->http, &hr, budget, &body, &len, res);
            res->duration_ms += before;
            res->pages++;
            if (rc < 0) {
                char msg[sizeof res->error];
                snprintf(msg, sizeof msg, "%s", res->error);
                fail(res, res->outcome, p, msg);
            }
        }
        if (rc < 0) {
            free(body);
            break;
        }
        rc = parse_page(p, body, len, next, sizeof next, currency, &raw, err, sizeof err);
        free(body);
        if (rc < 0) {
            rc = fail(res, (enum tariff_outcome)-rc, p, err);
            break;
        }
        if (!next[0] || p->kind != TARIFF_OCTOPUS)
            break;
        if (!same_origin(p->url, next)) {
            rc = fail(res, TARIFF_ERR_PARSE, p, "next page URL leaves the configured host");
            break;
        }
        if (page + 1 >= p->http.max_pages) {
            rc = fail(res, TARIFF_ERR_IMPLAUSIBLE, p, "more pages than http.max_pages");
            break;
        }
        snprintf(page_url, sizeof page_url, "%s", next);
        url = page_url;
    }
    if (rc == 0 && p->kind == TARIFF_TIBBER && strcmp(currency, p->currency) != 0) {
        snprintf(err, sizeof err, "prices in %s, configured currency is %s", currency, p->currency);
        rc = fail(res, TARIFF_ERR_IMPLAUSIBLE, p, err);
    }
    if (rc == 0) {
        /* Keep what overlaps the range asked for; providers round ranges to days. Pages come newest first. */
        tariff_series_sort(&raw, 0);
        size_t k = 0;
        for (size_t i = 0; i < raw.n; i++)
            if (raw.v[i].end_ms > from && raw.v[i].start_ms < to)
                raw.v[k++] = raw.v[i];
        raw.n = k;
        bool any_res = p->kind == TARIFF_GENERIC_JSON || p->kind == TARIFF_CSV;
        int v = tariff_series_validate(&raw, p->min_price, p->max_price, any_res, err, sizeof err);
        if (v < 0)
            rc = fail(res, (enum tariff_outcome)-v, p, err);
    }
    if (rc == 0) {
        size_t n0 = out->n;
        for (size_t i = 0; i < raw.n && rc == 0; i++)
            if (tariff_series_push(out, raw.v[i].start_ms, raw.v[i].end_ms,
                                   tariff_compose(p, raw.v[i].start_ms, raw.v[i].price), TARIFF_SRC_MARKET) < 0) {
                out->n = n0;
                rc = fail(res, TARIFF_ERR_TRANSPORT, p, "out of memory");
            }
    }
    if (rc == 0)
        res->outcome = TARIFF_OK;
    tariff_series_free(&raw);
    return rc;
}
