/* Time-of-use bands: the static tariff, and grid fees on top of market prices. Evaluated in local time, so a
 * band "from 07:00" starts at 07:00 on the 23- and 25-hour days too. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static int parse_hhmm(const char *s, int *minute)
{
    int h, m;
    char tail;
    if (!s || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
        return -1;
    *minute = h * 60 + m;
    return 0;
}

static int parse_bands(const cJSON *arr, const char *key, const char *which, int *n,
                       struct tariff_tou_band *bands, char *err, size_t errlen)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > TARIFF_TOU_MAX_BANDS)
        return tariff_err(err, errlen, "%s.%s: need an array of 1..%d bands", key, which, TARIFF_TOU_MAX_BANDS), -1;
    *n = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, arr) {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(b, "from");
        const cJSON *price = cJSON_GetObjectItemCaseSensitive(b, "price");
        static const char *const keys[] = {"from", "price", "name", NULL};
        char where[96];
        snprintf(where, sizeof where, "%s.%s[%d]", key, which, *n);
        if (tariff_json_keys(b, where, keys, err, errlen) < 0)
            return -1;
        if (parse_hhmm(cJSON_GetStringValue(from), &bands[*n].minute_of_day) < 0)
            return tariff_err(err, errlen, "%s.from: need \"HH:MM\"", where), -1;
        if (!cJSON_IsNumber(price))
            return tariff_err(err, errlen, "%s.price: need a number (currency per kWh)", where), -1;
        bands[*n].price = price->valuedouble;
        if (*n == 0 && bands[0].minute_of_day != 0)
            return tariff_err(err, errlen, "%s.from: the first band must start at 00:00", where), -1;
        if (*n > 0 && bands[*n].minute_of_day <= bands[*n - 1].minute_of_day)
            return tariff_err(err, errlen, "%s.from: bands must be in ascending order", where), -1;
        (*n)++;
    }
    return 0;
}

int tariff_tou_from_json(const cJSON *obj, const char *key, struct tariff_tou *out, char *err, size_t errlen)
{
    static const char *const keys[] = {"weekday", "weekend", "holidays", NULL};
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(obj))
        return tariff_err(err, errlen, "%s: need an object with \"weekday\" bands", key), -1;
    if (tariff_json_keys(obj, key, keys, err, errlen) < 0)
        return -1;
    if (parse_bands(cJSON_GetObjectItemCaseSensitive(obj, "weekday"), key, "weekday", &out->n_weekday,
                    out->weekday, err, errlen) < 0)
        return -1;
    const cJSON *we = cJSON_GetObjectItemCaseSensitive(obj, "weekend");
    if (we) {
        if (parse_bands(we, key, "weekend", &out->n_weekend, out->weekend, err, errlen) < 0)
            return -1;
    } else {
        out->n_weekend = out->n_weekday;
        memcpy(out->weekend, out->weekday, sizeof out->weekday);
    }
    const cJSON *hol = cJSON_GetObjectItemCaseSensitive(obj, "holidays"), *h;
    if (hol && (!cJSON_IsArray(hol) || cJSON_GetArraySize(hol) > TARIFF_TOU_MAX_HOLIDAYS))
        return tariff_err(err, errlen, "%s.holidays: need an array of at most %d \"YYYY-MM-DD\"", key,
                          TARIFF_TOU_MAX_HOLIDAYS),
               -1;
    cJSON_ArrayForEach(h, hol) {
        int y, m, d;
        char tail;
        const char *s = cJSON_GetStringValue(h);
        if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
            return tariff_err(err, errlen, "%s.holidays[%d]: need \"YYYY-MM-DD\"", key, out->n_holidays), -1;
        out->holidays[out->n_holidays++] = y * 10000 + m * 100 + d;
    }
    return 0;
}

double tariff_tou_at(const struct tariff_tou *tou, const tariff_tz *tz, int64_t utc_ms)
{
    struct tariff_local lt;
    tariff_tz_to_local(tz, utc_ms, &lt);
    bool weekend = lt.wday == 0 || lt.wday == 6;
    int ymd = lt.year * 10000 + lt.month * 100 + lt.day;
    for (int i = 0; i < tou->n_holidays && !weekend; i++)
        weekend = tou->holidays[i] == ymd;
    int n = weekend ? tou->n_weekend : tou->n_weekday;
    int mod = lt.hour * 60 + lt.minute;
    double price = 0;
    for (int i = 0; i < n; i++) {
        int from = weekend ? tou->weekend[i].minute_of_day : tou->weekday[i].minute_of_day;
        if (from > mod)
            break;
        price = weekend ? tou->weekend[i].price : tou->weekday[i].price;
    }
    return price;
}
