/* CSV prices "time,price" (or ';'), as exported by market platforms and spreadsheets. Local times without an
 * offset are common in such exports; the repeated hour of a fall-back day is resolved by order. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};

/* "01jan2022 00:00:00" (Stata-style export): local wall time. */
static bool parse_dmy(const char *s, int *y, int *mo, int *d, int *h, int *mi, int *sec)
{
    char mon[4];
    char tail;
    if (sscanf(s, "%2d%3[A-Za-z]%4d %2d:%2d:%2d%c", d, mon, y, h, mi, sec, &tail) != 6)
        return false;
    for (int i = 0; i < 12; i++)
        if (strcasecmp(mon, months[i]) == 0) {
            *mo = i + 1;
            return *d >= 1 && *d <= 31 && *h < 24 && *mi < 60 && *sec < 61;
        }
    return false;
}

/* Local wall time -> UTC, choosing the later instant of a repeated hour when the earlier one would not move
 * forward from the previous row. */
static int64_t local_after(const tariff_tz *tz, int y, int mo, int d, int h, int mi, int s, int64_t prev)
{
    int64_t a = tariff_tz_from_local(tz, y, mo, d, h, mi, s, false);
    if (a > prev)
        return a;
    return tariff_tz_from_local(tz, y, mo, d, h, mi, s, true);
}

static int parse_time(const char *f, const tariff_tz *tz, int64_t prev, int64_t *out)
{
    int y, mo, d, h, mi, s;
    if (parse_dmy(f, &y, &mo, &d, &h, &mi, &s)) {
        *out = local_after(tz, y, mo, d, h, mi, s, prev);
        return 0;
    }
    bool all_digits = *f != '\0';
    for (const char *p = f; *p; p++)
        all_digits &= isdigit((unsigned char)*p) != 0;
    if (all_digits && strlen(f) >= 9 && strlen(f) <= 11) {
        *out = strtoll(f, NULL, 10) * 1000;
        return 0;
    }
    /* ISO without offset is local: resolve a repeated hour the same way. */
    size_t l = strlen(f);
    bool has_offset = l > 0 && (f[l - 1] == 'Z' || (l > 16 && (strchr(f + 16, '+') || strchr(f + 16, '-'))));
    s = 0;
    if (!has_offset && sscanf(f, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) >= 5) {
        int64_t t;
        if (tariff_parse_iso8601(f, tz, &t) < 0) /* validates the fields */
            return -1;
        *out = local_after(tz, y, mo, d, h, mi, s, prev);
        return 0;
    }
    return tariff_parse_iso8601(f, tz, out);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s) || *s == '"')
        s++;
    size_t l = strlen(s);
    while (l && (isspace((unsigned char)s[l - 1]) || s[l - 1] == '"'))
        s[--l] = '\0';
    return s;
}

int tariff_parse_csv(const char *body, size_t len, const tariff_tz *tz, int resolution_min, double multiplier,
                     struct tariff_series *out, char *err, size_t errlen)
{
    size_t n0 = out->n;
    int64_t prev = INT64_MIN;
    int lineno = 0;
    char line[256];
    if (resolution_min <= 0)
        return tariff_err(err, errlen, "csv: resolution_min must be positive"), -TARIFF_ERR_PARSE;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - (body + pos)) : len - pos;
        lineno++;
        if (l >= sizeof line) {
            out->n = n0;
            return tariff_err(err, errlen, "csv: line %d too long", lineno), -TARIFF_ERR_PARSE;
        }
        memcpy(line, body + pos, l);
        line[l] = '\0';
        pos += l + 1;
        char *sep = strpbrk(line, ",;");
        if (!*trim(line) || line[0] == '#')
            continue;
        if (!sep) {
            out->n = n0;
            return tariff_err(err, errlen, "csv: line %d: need \"time,price\"", lineno), -TARIFF_ERR_PARSE;
        }
        *sep = '\0';
        char *tf = trim(line), *pf = trim(sep + 1);
        char *extra = strpbrk(pf, ",;");
        if (extra)
            *extra = '\0';
        int64_t t;
        char *end;
        double p = strtod(pf, &end);
        if (parse_time(tf, tz, prev, &t) < 0 || !*pf || *trim(end) || !isfinite(p)) {
            if (out->n == n0 && lineno == 1)
                continue; /* a header line */
            out->n = n0;
            return tariff_err(err, errlen, "csv: line %d: cannot read time '%.40s' or price '%.40s'", lineno, tf, pf),
                   -TARIFF_ERR_PARSE;
        }
        if (tariff_series_push(out, t, t + resolution_min * TARIFF_MS_PER_MIN, p * multiplier, TARIFF_SRC_MARKET) < 0) {
            out->n = n0;
            return tariff_err(err, errlen, "out of memory"), -TARIFF_ERR_PARSE;
        }
        prev = t;
    }
    if (out->n == n0)
        return tariff_err(err, errlen, "csv: no prices"), -TARIFF_ERR_EMPTY;
    tariff_series_sort(out, n0);
    return 0;
}
