#include "simtime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t days_from_civil(int y, int m, int d)
{
    /* Howard Hinnant's algorithm: no timegm() so the result never depends on TZ. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int civil_ok(int y, int mo, int d, int h, int mi, int s)
{
    return y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h <= 23 && mi <= 59 &&
           s <= 60;
}

int sim_time_parse(const char *t, int64_t *ms_out)
{
    int y, mo, d, h, mi, s;
    if (!t || strlen(t) < 20)
        return -1;
    if (digits(t, 4, &y) || t[4] != '-' || digits(t + 5, 2, &mo) || t[7] != '-' || digits(t + 8, 2, &d) ||
        (t[10] != 'T' && t[10] != 't') || digits(t + 11, 2, &h) || t[13] != ':' || digits(t + 14, 2, &mi) ||
        t[16] != ':' || digits(t + 17, 2, &s))
        return -1;
    if (!civil_ok(y, mo, d, h, mi, s))
        return -1;
    const char *p = t + 19;
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        int64_t scale = 100;
        while (isdigit((unsigned char)*p)) {
            frac_ms += (*p - '0') * scale;
            scale /= 10;
            p++;
            n++;
        }
        if (n == 0)
            return -1;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
    *ms_out = secs * 1000 + frac_ms;
    return 0;
}

int sim_time_parse_rfc1123(const char *t, int64_t *ms_out)
{
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wd[4], mon[4], zone[4];
    int d, y, h, mi, s, used = 0;
    if (!t || sscanf(t, "%3s, %d %3s %d %d:%d:%d %3s%n", wd, &d, mon, &y, &h, &mi, &s, zone, &used) != 8 ||
        t[used] != '\0' || strcmp(zone, "GMT") != 0 || strlen(wd) != 3)
        return -1;
    int mo = 0;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            mo = i + 1;
    if (!mo || !civil_ok(y, mo, d, h, mi, s) || h < 0 || mi < 0 || s < 0)
        return -1;
    *ms_out = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
    return 0;
}

char *sim_time_format(int64_t ms, char *buf)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - secs * 1000);
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    /* Years past 9999 cannot occur on the simulated clock; the modulos let the compiler prove the width. */
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
             tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, msec % 1000);
    return buf;
}

int64_t sim_clock_now(const struct sim_clock *c, int64_t real_now_ms)
{
    return c->sim_start_ms + (int64_t)((double)(real_now_ms - c->real_start_ms) * c->speed);
}

int64_t sim_clock_real_delay(const struct sim_clock *c, int64_t real_now_ms, int64_t sim_ms)
{
    int64_t now = sim_clock_now(c, real_now_ms);
    if (sim_ms <= now)
        return 0;
    return (int64_t)((double)(sim_ms - now) / c->speed) + 1;
}

void sim_clock_anchor(struct sim_clock *c, int64_t sim_start_ms, double speed, int64_t anchor_unix_ms,
                      int64_t wall_now_ms, int64_t mono_now_ms)
{
    c->sim_start_ms = sim_start_ms;
    c->speed = speed;
    c->real_start_ms = mono_now_ms + (anchor_unix_ms - wall_now_ms);
}
