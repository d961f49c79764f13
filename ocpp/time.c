/*
 * time.c - RFC 3339 date-time, the "format": "date-time" of the OCPP 2.0.1 schemas.
 *
 * Accepted: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm). The T and Z may be lower case (RFC 3339 5.6
 * note). Seconds are required (OCPP timestamps always carry them; a date alone is not a date-time).
 * Second 60 is accepted only where a leap second can be, at 23:59 UTC, and counts as the next minute's
 * start: OCPP has no use for leap-second precision. Fractions beyond milliseconds are truncated.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int ocpp_time_parse(const char *text, int64_t *ms_out)
{
    if (!text)
        return -1;
    size_t len = strlen(text);
    /* "YYYY-MM-DDTHH:MM:SS" is 19 characters, then the fraction and the offset. */
    if (len < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
        text[13] != ':' || text[16] != ':')
        return -1;
    int year = digits(text, 4), mon = digits(text + 5, 2), day = digits(text + 8, 2);
    int hour = digits(text + 11, 2), min = digits(text + 14, 2), sec = digits(text + 17, 2);
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 || min > 59 ||
        sec < 0 || sec > 60)
        return -1;
    if (day > month_days(year, mon))
        return -1;
    const char *p = text + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                ms = ms * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = -1;
        if (oh >= 0 && p[3] == ':')
            om = digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset_min * 60;
    if (sec == 60) {
        /* A leap second is the last second of a UTC day: the UTC time must be 23:59:60. */
        int64_t utc_sod = ((t - 1) % 86400 + 86400) % 86400; /* t counts :60 as the next minute */
        if (utc_sod != 86399)
            return -1;
    }
    if (ms_out)
        *ms_out = t * 1000 + ms;
    return 0;
}

char *ocpp_time_format(int64_t ms, char *buf)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int msec = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    /* Years outside 0000..9999 cannot be written as RFC 3339; clamp rather than emit an invalid text. */
    if (y < 0) {
        strcpy(buf, "0000-01-01T00:00:00.000Z");
        return buf;
    }
    if (y > 9999) {
        strcpy(buf, "9999-12-31T23:59:59.999Z");
        return buf;
    }
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), msec);
    return buf;
}
