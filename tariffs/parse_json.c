/* Parsers for the JSON price APIs. Each turns one response body into raw market prices per kWh, checking the
 * unit the provider states; contiguity and the plausible band are checked afterwards for all providers alike
 * (tariff_series_validate). */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARSE_FAIL(code, ...) do { tariff_err(err, errlen, __VA_ARGS__); rc = -(code); goto done; } while (0)

static cJSON *parse_body(const char *body, size_t len, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        tariff_err(err, errlen, "malformed JSON near byte %zu", at);
    }
    return root;
}

/* "EUR / MWh", "Eur/MWh", "eur/mwh" are the same unit. */
static bool unit_is(const char *got, const char *want)
{
    if (!got)
        return false;
    while (*got || *want) {
        while (*got == ' ')
            got++;
        while (*want == ' ')
            want++;
        if (tolower((unsigned char)*got) != tolower((unsigned char)*want))
            return false;
        if (*got)
            got++, want++;
    }
    return true;
}

/* Interval length of a series given only start times: the smallest step. A missing point then shows up as a
 * gap in validation instead of silently stretching its neighbour. */
static int64_t infer_step(const int64_t *t, size_t n)
{
    int64_t step = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t d = t[i] - t[i - 1];
        if (d > 0 && (step == 0 || d < step))
            step = d;
    }
    return step ? step : TARIFF_MS_PER_HOUR;
}

static int push_starts(struct tariff_series *out, int64_t *t, double *v, size_t n, char *err, size_t errlen)
{
    int64_t step = infer_step(t, n);
    size_t n0 = out->n;
    for (size_t i = 0; i < n; i++)
        if (tariff_series_push(out, t[i], t[i] + step, v[i], TARIFF_SRC_MARKET) < 0) {
            out->n = n0;
            return tariff_err(err, errlen, "out of memory"), -TARIFF_ERR_PARSE;
        }
    tariff_series_sort(out, n0);
    return 0;
}

static bool num(const cJSON *o, const char *k, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return false;
    *v = it->valuedouble;
    return true;
}

int tariff_parse_awattar(const char *body, size_t len, struct tariff_series *out, char *err, size_t errlen)
{
    int rc = 0;
    size_t n0 = out->n;
    cJSON *root = parse_body(body, len, err, errlen), *it;
    if (!root)
        return -TARIFF_ERR_PARSE;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data))
        PARSE_FAIL(TARIFF_ERR_PARSE, "awattar: no \"data\" array");
    int i = 0;
    cJSON_ArrayForEach(it, data) {
        double s, e, p;
        if (!num(it, "start_timestamp", &s) || !num(it, "end_timestamp", &e) || !num(it, "marketprice", &p))
            PARSE_FAIL(TARIFF_ERR_PARSE, "awattar: data[%d] lacks start_timestamp/end_timestamp/marketprice", i);
        const char *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "unit"));
        if (!unit_is(unit, "Eur/MWh"))
            PARSE_FAIL(TARIFF_ERR_IMPLAUSIBLE, "awattar: data[%d] unit '%s', expected Eur/MWh", i, unit ? unit : "");
        if (!(fabs(s) < 1e15 && fabs(e) < 1e15)) /* ms beyond any plausible time: not one (nor an int64) */
            PARSE_FAIL(TARIFF_ERR_PARSE, "awattar: data[%d] timestamps are not times", i);
        if (tariff_series_push(out, (int64_t)s, (int64_t)e, p / 1000.0, TARIFF_SRC_MARKET) < 0)
            PARSE_FAIL(TARIFF_ERR_PARSE, "out of memory");
        i++;
    }
    if (out->n == n0)
        PARSE_FAIL(TARIFF_ERR_EMPTY, "awattar: empty data array");
    tariff_series_sort(out, n0);
done:
    if (rc)
        out->n = n0;
    cJSON_Delete(root);
    return rc;
}

int tariff_parse_energy_charts(const char *body, size_t len, struct tariff_series *out, char *err, size_t errlen)
{
    int rc = 0;
    int64_t *t = NULL;
    double *v = NULL;
    cJSON *root = parse_body(body, len, err, errlen);
    if (!root)
        return -TARIFF_ERR_PARSE;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "unix_seconds");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(root, "price");
    const char *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "unit"));
    if (!cJSON_IsArray(ts) || !cJSON_IsArray(pr))
        PARSE_FAIL(TARIFF_ERR_PARSE, "energy-charts: need \"unix_seconds\" and \"price\" arrays");
    int n = cJSON_GetArraySize(ts);
    if (n != cJSON_GetArraySize(pr))
        PARSE_FAIL(TARIFF_ERR_PARSE, "energy-charts: %d timestamps but %d prices", n, cJSON_GetArraySize(pr));
    if (n == 0)
        PARSE_FAIL(TARIFF_ERR_EMPTY, "energy-charts: no prices");
    if (!unit_is(unit, "EUR / MWh"))
        PARSE_FAIL(TARIFF_ERR_IMPLAUSIBLE, "energy-charts: unit '%s', expected EUR / MWh", unit ? unit : "");
    t = malloc(sizeof *t * (size_t)n);
    v = malloc(sizeof *v * (size_t)n);
    if (!t || !v)
        PARSE_FAIL(TARIFF_ERR_PARSE, "out of memory");
    for (int i = 0; i < n; i++) {
        const cJSON *a = cJSON_GetArrayItem(ts, i), *b = cJSON_GetArrayItem(pr, i);
        if (!cJSON_IsNumber(a))
            PARSE_FAIL(TARIFF_ERR_PARSE, "energy-charts: unix_seconds[%d] is not a number", i);
        if (!cJSON_IsNumber(b)) /* null marks a missing value */
            PARSE_FAIL(TARIFF_ERR_IMPLAUSIBLE, "energy-charts: price[%d] missing", i);
        if (!(fabs(a->valuedouble) < 1e12)) /* beyond any plausible time (and int64 ms) */
            PARSE_FAIL(TARIFF_ERR_PARSE, "energy-charts: unix_seconds[%d] is not a time", i);
        t[i] = (int64_t)a->valuedouble * 1000;
        v[i] = b->valuedouble / 1000.0;
    }
    rc = push_starts(out, t, v, (size_t)n, err, errlen);
done:
    free(t);
    free(v);
    cJSON_Delete(root);
    return rc;
}

int tariff_parse_octopus(const char *body, size_t len, bool inc_vat, char *next, size_t next_len,
                         struct tariff_series *out, char *err, size_t errlen)
{
    int rc = 0, i = 0;
    size_t n0 = out->n;
    if (next && next_len)
        next[0] = '\0';
    cJSON *root = parse_body(body, len, err, errlen), *it;
    if (!root)
        return -TARIFF_ERR_PARSE;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
    if (!cJSON_IsArray(res))
        PARSE_FAIL(TARIFF_ERR_PARSE, "octopus: no \"results\" array");
    cJSON_ArrayForEach(it, res) {
        double p;
        int64_t s, e;
        const char *from = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "valid_from"));
        const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "valid_to"));
        if (!num(it, inc_vat ? "value_inc_vat" : "value_exc_vat", &p))
            PARSE_FAIL(TARIFF_ERR_PARSE, "octopus: results[%d] lacks %s", i, inc_vat ? "value_inc_vat" : "value_exc_vat");
        if (tariff_parse_iso8601(from, NULL, &s) < 0 || tariff_parse_iso8601(to, NULL, &e) < 0)
            PARSE_FAIL(TARIFF_ERR_PARSE, "octopus: results[%d] has no valid valid_from/valid_to", i);
        if (tariff_series_push(out, s, e, p / 100.0, TARIFF_SRC_MARKET) < 0) /* pence -> pounds */
            PARSE_FAIL(TARIFF_ERR_PARSE, "out of memory");
        i++;
    }
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(root, "next");
    if (cJSON_IsString(nx) && next && next_len) {
        if (strlen(nx->valuestring) >= next_len)
            PARSE_FAIL(TARIFF_ERR_PARSE, "octopus: next URL too long");
        strcpy(next, nx->valuestring);
    }
    tariff_series_sort(out, n0); /* Octopus lists newest first */
done:
    if (rc)
        out->n = n0;
    cJSON_Delete(root);
    return rc;
}

static int tibber_day(const cJSON *arr, const char *field, char currency[4], int64_t **t, double **v, size_t *n,
                      size_t *cap, char *err, size_t errlen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        double p;
        int64_t s;
        const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "startsAt"));
        const char *cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "currency"));
        if (!num(it, field, &p) || tariff_parse_iso8601(at, NULL, &s) < 0)
            return tariff_err(err, errlen, "tibber: price entry lacks %s or a valid startsAt", field),
                   -TARIFF_ERR_PARSE;
        if (!cur || strlen(cur) != 3)
            return tariff_err(err, errlen, "tibber: price entry lacks a currency"), -TARIFF_ERR_PARSE;
        if (currency[0] && strcmp(currency, cur) != 0)
            return tariff_err(err, errlen, "tibber: mixed currencies %s and %s", currency, cur),
                   -TARIFF_ERR_IMPLAUSIBLE;
        memcpy(currency, cur, 4);
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 128;
            int64_t *nt = realloc(*t, *cap * sizeof **t);
            if (nt)
                *t = nt;
            double *nv = realloc(*v, *cap * sizeof **v);
            if (nv)
                *v = nv;
            if (!nt || !nv)
                return tariff_err(err, errlen, "out of memory"), -TARIFF_ERR_PARSE;
        }
        (*t)[*n] = s;
        (*v)[(*n)++] = p;
    }
    return 0;
}

int tariff_parse_tibber(const char *body, size_t len, int home, const char *field, char currency[4],
                        struct tariff_series *out, char *err, size_t errlen)
{
    int rc = 0;
    int64_t *t = NULL;
    double *v = NULL;
    size_t n = 0, cap = 0;
    currency[0] = '\0';
    cJSON *root = parse_body(body, len, err, errlen);
    if (!root)
        return -TARIFF_ERR_PARSE;
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
        const char *msg = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, 0), "message"));
        PARSE_FAIL(TARIFF_ERR_PARSE, "tibber: GraphQL error: %.160s", msg ? msg : "(no message)");
    }
    const cJSON *homes = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "viewer"), "homes");
    if (!cJSON_IsArray(homes))
        PARSE_FAIL(TARIFF_ERR_PARSE, "tibber: no data.viewer.homes array");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(homes, home), "currentSubscription"), "priceInfo");
    if (!cJSON_IsObject(info))
        PARSE_FAIL(TARIFF_ERR_PARSE, "tibber: home %d has no currentSubscription.priceInfo", home);
    const char *days[] = {"today", "tomorrow"};
    for (int d = 0; d < 2; d++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(info, days[d]);
        if (arr && !cJSON_IsArray(arr) && !cJSON_IsNull(arr))
            PARSE_FAIL(TARIFF_ERR_PARSE, "tibber: priceInfo.%s is not an array", days[d]);
        if ((rc = tibber_day(arr, field, currency, &t, &v, &n, &cap, err, errlen)) < 0)
            goto done;
    }
    if (n == 0)
        PARSE_FAIL(TARIFF_ERR_EMPTY, "tibber: no prices for today or tomorrow");
    rc = push_starts(out, t, v, n, err, errlen); /* already per kWh in the home's currency */
done:
    free(t);
    free(v);
    cJSON_Delete(root);
    return rc;
}

int tariff_parse_elering(const char *body, size_t len, const char *area, struct tariff_series *out, char *err,
                         size_t errlen)
{
    int rc = 0, i = 0;
    int64_t *t = NULL;
    double *v = NULL;
    cJSON *root = parse_body(body, len, err, errlen), *it;
    if (!root)
        return -TARIFF_ERR_PARSE;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "success")))
        PARSE_FAIL(TARIFF_ERR_PARSE, "elering: \"success\" is not true");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), area);
    if (!cJSON_IsArray(arr))
        PARSE_FAIL(TARIFF_ERR_PARSE, "elering: no data.%s array", area);
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        PARSE_FAIL(TARIFF_ERR_EMPTY, "elering: data.%s is empty", area);
    t = malloc(sizeof *t * (size_t)n);
    v = malloc(sizeof *v * (size_t)n);
    if (!t || !v)
        PARSE_FAIL(TARIFF_ERR_PARSE, "out of memory");
    cJSON_ArrayForEach(it, arr) {
        double ts, p;
        if (!num(it, "timestamp", &ts) || !num(it, "price", &p))
            PARSE_FAIL(TARIFF_ERR_PARSE, "elering: data.%s[%d] lacks timestamp/price", area, i);
        /* Seconds; accept milliseconds too, since clients disagree on what the API returned over the years. */
        if (!(fabs(ts) < 1e15)) /* beyond any plausible time in seconds or ms (and int64 ms) */
            PARSE_FAIL(TARIFF_ERR_PARSE, "elering: data.%s[%d].timestamp is not a time", area, i);
        t[i] = ts > 1e11 ? (int64_t)ts : (int64_t)ts * 1000;
        v[i++] = p / 1000.0;
    }
    rc = push_starts(out, t, v, (size_t)n, err, errlen);
done:
    free(t);
    free(v);
    cJSON_Delete(root);
    return rc;
}

/* RFC 6901 JSON pointer; "" is the document itself. */
static const cJSON *pointer(const cJSON *doc, const char *ptr)
{
    if (!*ptr)
        return doc;
    if (*ptr != '/')
        return NULL;
    char tok[128];
    while (doc && *ptr == '/') {
        size_t k = 0;
        for (ptr++; *ptr && *ptr != '/'; ptr++) {
            char c = *ptr;
            if (c == '~') {
                c = ptr[1] == '1' ? '/' : ptr[1] == '0' ? '~' : 0;
                if (!c)
                    return NULL;
                ptr++;
            }
            if (k + 1 >= sizeof tok)
                return NULL;
            tok[k++] = c;
        }
        tok[k] = '\0';
        if (cJSON_IsArray(doc)) {
            char *end;
            long idx = strtol(tok, &end, 10);
            doc = *tok && !*end && idx >= 0 ? cJSON_GetArrayItem(doc, (int)idx) : NULL;
        } else {
            doc = cJSON_GetObjectItemCaseSensitive(doc, tok);
        }
    }
    return doc;
}

static int json_time(const cJSON *v, int fmt, const tariff_tz *tz, int64_t *out)
{
    if (fmt == TARIFF_TIME_ISO)
        return tariff_parse_iso8601(cJSON_GetStringValue(v), tz, out);
    double d;
    if (cJSON_IsNumber(v))
        d = v->valuedouble;
    else if (cJSON_IsString(v) && *v->valuestring) {
        char *end;
        d = strtod(v->valuestring, &end);
        if (*end)
            return -1;
    } else
        return -1;
    if (!isfinite(d) || fabs(d) > 1e15)
        return -1;
    *out = fmt == TARIFF_TIME_EPOCH_MS ? (int64_t)d : (int64_t)(d * 1000);
    return 0;
}

int tariff_parse_json_mapped(const char *body, size_t len, const struct tariff_json_map *map, const tariff_tz *tz,
                             struct tariff_series *out, char *err, size_t errlen)
{
    int rc = 0, i = 0;
    size_t n0 = out->n;
    cJSON *root = parse_body(body, len, err, errlen), *it;
    if (!root)
        return -TARIFF_ERR_PARSE;
    const cJSON *arr = pointer(root, map->array);
    if (!cJSON_IsArray(arr))
        PARSE_FAIL(TARIFF_ERR_PARSE, "json: pointer '%s' is not an array", map->array);
    cJSON_ArrayForEach(it, arr) {
        int64_t s, e;
        const cJSON *pv = pointer(it, map->price);
        if (json_time(pointer(it, map->start), map->time_format, tz, &s) < 0)
            PARSE_FAIL(TARIFF_ERR_PARSE, "json: item %d: no valid start at '%s'", i, map->start);
        if (map->end[0]) {
            if (json_time(pointer(it, map->end), map->time_format, tz, &e) < 0)
                PARSE_FAIL(TARIFF_ERR_PARSE, "json: item %d: no valid end at '%s'", i, map->end);
        } else {
            e = s + map->resolution_min * TARIFF_MS_PER_MIN;
        }
        double p;
        if (cJSON_IsNumber(pv))
            p = pv->valuedouble;
        else if (cJSON_IsString(pv) && *pv->valuestring) {
            char *end;
            p = strtod(pv->valuestring, &end);
            if (*end)
                PARSE_FAIL(TARIFF_ERR_PARSE, "json: item %d: price at '%s' is not a number", i, map->price);
        } else
            PARSE_FAIL(TARIFF_ERR_PARSE, "json: item %d: no price at '%s'", i, map->price);
        if (tariff_series_push(out, s, e, p * map->multiplier, TARIFF_SRC_MARKET) < 0)
            PARSE_FAIL(TARIFF_ERR_PARSE, "out of memory");
        i++;
    }
    if (out->n == n0)
        PARSE_FAIL(TARIFF_ERR_EMPTY, "json: no prices at '%s'", map->array);
    tariff_series_sort(out, n0);
done:
    if (rc)
        out->n = n0;
    cJSON_Delete(root);
    return rc;
}
