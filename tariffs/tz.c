/* Local time from the system zoneinfo files (RFC 8536 TZif, version 2+ 64-bit data, POSIX TZ footer for
 * instants after the last transition). Read once, immutable afterwards: safe to share between threads, unlike
 * setenv("TZ") + localtime_r, which is process-global. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct posix_rule {
    char kind;           /* 'M', 'J' (1..365, no Feb 29), 'N' (0..365) */
    int m, w, d, n;
    int time_s;          /* local time of the change, may be negative or > 24 h */
};

struct tariff_tz {
    char name[64];
    int64_t *trans;      /* seconds */
    unsigned char *idx;
    int32_t *utoff;      /* per type */
    int ntrans, ntypes;
    /* footer */
    bool has_footer, footer_dst;
    int32_t std_off, dst_off;
    struct posix_rule start, end;
};

/* ---- civil calendar (proleptic Gregorian, days since 1970-01-01) ---- */

int64_t tariff_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tariff_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int tariff_weekday(int64_t days) { return (int)(((days % 7) + 11) % 7); } /* 1970-01-01: Thursday */

int64_t tariff_floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int mdays(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* ---- POSIX TZ footer ---- */

static const char *parse_tzname(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *s = p;
    while (isalpha((unsigned char)*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] */
static const char *parse_hms(const char *p, int *out)
{
    int sign = 1, h = 0, mi = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return NULL;
    h = (int)strtol(p, (char **)&p, 10);
    if (*p == ':') {
        mi = (int)strtol(p + 1, (char **)&p, 10);
        if (*p == ':')
            s = (int)strtol(p + 1, (char **)&p, 10);
    }
    *out = sign * (h * 3600 + mi * 60 + s);
    return p;
}

static const char *parse_rule(const char *p, struct posix_rule *r)
{
    r->time_s = 7200;
    if (*p == 'M') {
        r->kind = 'M';
        if (sscanf(p + 1, "%d.%d.%d", &r->m, &r->w, &r->d) != 3 || r->m < 1 || r->m > 12 || r->w < 1 ||
            r->w > 5 || r->d < 0 || r->d > 6)
            return NULL;
        p++;
        while (isdigit((unsigned char)*p) || *p == '.')
            p++;
    } else if (*p == 'J') {
        r->kind = 'J';
        r->n = (int)strtol(p + 1, (char **)&p, 10);
    } else if (isdigit((unsigned char)*p)) {
        r->kind = 'N';
        r->n = (int)strtol(p, (char **)&p, 10);
    } else {
        return NULL;
    }
    if (*p == '/')
        p = parse_hms(p + 1, &r->time_s);
    return p;
}

static bool parse_footer(struct tariff_tz *z, const char *s)
{
    int v;
    const char *p = parse_tzname(s);
    if (!p || !(p = parse_hms(p, &v)))
        return false;
    z->std_off = -v;
    z->has_footer = true;
    if (!*p)
        return true;
    if (!(p = parse_tzname(p)))
        return false;
    z->dst_off = z->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &v)))
            return false;
        z->dst_off = -v;
    }
    if (*p != ',' || !(p = parse_rule(p + 1, &z->start)) || *p != ',' || !(p = parse_rule(p + 1, &z->end)))
        return false; /* DST without rules: the old implied US rules; no current zone uses that */
    z->footer_dst = true;
    return *p == '\0';
}

/* UTC seconds of a rule's change in year y, the local clock running at offset off. */
static int64_t rule_utc(const struct posix_rule *r, int y, int32_t off)
{
    int64_t day;
    if (r->kind == 'M') {
        int64_t first = tariff_days_from_civil(y, r->m, 1);
        int dom = 1 + ((r->d - tariff_weekday(first)) + 7) % 7 + (r->w - 1) * 7;
        if (dom > mdays(y, r->m))
            dom -= 7;
        day = first + dom - 1;
    } else if (r->kind == 'J') {
        day = tariff_days_from_civil(y, 1, 1) + r->n - 1 + (leap(y) && r->n >= 60);
    } else {
        day = tariff_days_from_civil(y, 1, 1) + r->n;
    }
    return day * 86400 + r->time_s - off;
}

static int32_t footer_offset(const struct tariff_tz *z, int64_t t)
{
    if (!z->footer_dst)
        return z->std_off;
    int y, m, d;
    tariff_civil_from_days(tariff_floor_div(t + z->std_off, 86400), &y, &m, &d);
    int64_t s = rule_utc(&z->start, y, z->std_off), e = rule_utc(&z->end, y, z->dst_off);
    bool dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
    return dst ? z->dst_off : z->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

static bool name_ok(const char *n)
{
    if (!*n || *n == '/' || strstr(n, "..") || strlen(n) >= 64)
        return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
            return false;
    return true;
}

static int load_tzif(struct tariff_tz *z, const unsigned char *b, size_t len, char *err, size_t errlen)
{
    if (len < 44 || memcmp(b, "TZif", 4) != 0)
        return tariff_err(err, errlen, "zone %s: not a TZif file", z->name), -1;
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(b + 20 + 4 * i);
    size_t v1 = (size_t)c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (b[4] < '2' || 44 + v1 + 44 > len)
        return tariff_err(err, errlen, "zone %s: need a version 2+ TZif file", z->name), -1;
    const unsigned char *h = b + 44 + v1;
    if (memcmp(h, "TZif", 4) != 0)
        return tariff_err(err, errlen, "zone %s: bad second TZif header", z->name), -1;
    for (int i = 0; i < 6; i++)
        c[i] = be32(h + 20 + 4 * i);
    uint32_t isut = c[0], isstd = c[1], leapc = c[2], timec = c[3], typec = c[4], charc = c[5];
    size_t need = (size_t)timec * 9 + typec * 6 + charc + leapc * 12 + isstd + isut;
    const unsigned char *p = h + 44;
    if (typec == 0 || typec > 256 || timec > 100000 || (size_t)(p - b) + need > len)
        return tariff_err(err, errlen, "zone %s: truncated TZif data", z->name), -1;
    z->ntrans = (int)timec;
    z->ntypes = (int)typec;
    z->trans = calloc(timec + 1, sizeof *z->trans);
    z->idx = calloc(timec + 1, 1);
    z->utoff = calloc(typec, sizeof *z->utoff);
    if (!z->trans || !z->idx || !z->utoff)
        return tariff_err(err, errlen, "out of memory"), -1;
    for (uint32_t i = 0; i < timec; i++)
        z->trans[i] = be64(p + 8 * i);
    p += 8 * timec;
    for (uint32_t i = 0; i < timec; i++)
        if ((z->idx[i] = p[i]) >= typec)
            return tariff_err(err, errlen, "zone %s: bad type index", z->name), -1;
    p += timec;
    for (uint32_t i = 0; i < typec; i++)
        z->utoff[i] = (int32_t)be32(p + 6 * i);
    p += need - (size_t)timec * 9;
    /* footer: "\n<TZ string>\n" */
    if ((size_t)(p - b) < len && *p == '\n') {
        char foot[128];
        const unsigned char *q = memchr(p + 1, '\n', len - (size_t)(p - b) - 1);
        size_t fl = q ? (size_t)(q - p - 1) : 0;
        if (q && fl > 0 && fl < sizeof foot) {
            memcpy(foot, p + 1, fl);
            foot[fl] = '\0';
            if (!parse_footer(z, foot))
                return tariff_err(err, errlen, "zone %s: unsupported TZ footer '%s'", z->name, foot), -1;
        }
    }
    return 0;
}

tariff_tz *tariff_tz_load(const char *name, const char *dir, char *err, size_t errlen)
{
    if (!name || !name_ok(name))
        return tariff_err(err, errlen, "zone: invalid zone name '%s'", name ? name : "(null)"), NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tariff_err(err, errlen, "zone: cannot open %s: %s", path, strerror(errno)), NULL;
    unsigned char *buf = malloc(1 << 20);
    size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    struct tariff_tz *z = calloc(1, sizeof *z);
    if (!buf || !z) {
        free(buf);
        free(z);
        return tariff_err(err, errlen, "out of memory"), NULL;
    }
    snprintf(z->name, sizeof z->name, "%s", name);
    int rc = load_tzif(z, buf, len, err, errlen);
    free(buf);
    if (rc < 0) {
        tariff_tz_free(z);
        return NULL;
    }
    return z;
}

void tariff_tz_free(tariff_tz *z)
{
    if (!z)
        return;
    free(z->trans);
    free(z->idx);
    free(z->utoff);
    free(z);
}

const char *tariff_tz_name(const tariff_tz *z) { return z ? z->name : "UTC"; }

static int32_t offset_s(const struct tariff_tz *z, int64_t t)
{
    if (!z)
        return 0;
    if (z->ntrans == 0 || t < z->trans[0])
        return z->ntrans == 0 && z->has_footer ? footer_offset(z, t) : z->utoff[0];
    if (t >= z->trans[z->ntrans - 1] && z->has_footer)
        return footer_offset(z, t);
    int lo = 0, hi = z->ntrans - 1; /* last transition <= t */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return z->utoff[z->idx[lo]];
}

int tariff_tz_offset(const tariff_tz *z, int64_t utc_ms) { return offset_s(z, tariff_floor_div(utc_ms, 1000)); }

void tariff_tz_to_local(const tariff_tz *z, int64_t utc_ms, struct tariff_local *o)
{
    int64_t l = tariff_floor_div(utc_ms, 1000) + offset_s(z, tariff_floor_div(utc_ms, 1000));
    int64_t days = tariff_floor_div(l, 86400), sod = l - days * 86400;
    tariff_civil_from_days(days, &o->year, &o->month, &o->day);
    o->hour = (int)(sod / 3600);
    o->minute = (int)(sod / 60 % 60);
    o->second = (int)(sod % 60);
    o->wday = tariff_weekday(days);
}

int64_t tariff_tz_from_local(const tariff_tz *z, int y, int mo, int d, int h, int mi, int s, bool later)
{
    int64_t l = tariff_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    /* Transitions are far more than a day apart, so the offsets a day either side are the only candidates. */
    int32_t oa = offset_s(z, l - 86400), ob = offset_s(z, l + 86400);
    int64_t ta = l - oa, tb = l - ob;
    bool va = offset_s(z, ta) == oa, vb = offset_s(z, tb) == ob;
    int64_t t;
    if (va && vb)
        t = ta == tb ? ta : (later ? (ta > tb ? ta : tb) : (ta < tb ? ta : tb));
    else if (va)
        t = ta;
    else if (vb)
        t = tb;
    else
        t = ta; /* in the gap: the offset before the change moves the time forward by the gap */
    return t * 1000;
}

int64_t tariff_tz_day_start(const tariff_tz *z, int64_t utc_ms)
{
    struct tariff_local lt;
    tariff_tz_to_local(z, utc_ms, &lt);
    return tariff_tz_from_local(z, lt.year, lt.month, lt.day, 0, 0, 0, false);
}

/* ---- ISO 8601 ---- */

static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

int tariff_parse_iso8601(const char *s, const tariff_tz *tz, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (!s || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
        return -1;
    const char *p = s + 10;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo))
        return -1;
    if (*p == 'T' || *p == ' ') {
        if (!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi))
            return -1;
        p += 6;
        if (*p == ':') {
            if (!digits(p + 1, 2, &sec))
                return -1;
            p += 3;
            if (*p == '.' || *p == ',') {
                int scale = 100;
                for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
                    ms += (*p - '0') * scale;
            }
        }
    }
    if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || ms)))
        return -1;
    int64_t base = tariff_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    if (*p == 'Z' || *p == 'z') {
        if (p[1])
            return -1;
        *out_ms = base * 1000 + ms;
        return 0;
    }
    if (*p == '+' || *p == '-') {
        int oh, om = 0, sign = *p == '-' ? -1 : 1;
        if (!digits(p + 1, 2, &oh))
            return -1;
        p += 3;
        if (*p == ':')
            p++;
        if (*p && (!digits(p, 2, &om) || p[2]))
            return -1;
        if (oh > 18 || om > 59)
            return -1;
        *out_ms = (base - sign * (oh * 3600 + om * 60)) * 1000 + ms;
        return 0;
    }
    if (*p)
        return -1;
    if (h == 24) { /* 24:00 is the next day's midnight, local */
        int64_t next = tariff_days_from_civil(y, mo, d) + 1;
        tariff_civil_from_days(next, &y, &mo, &d);
        h = 0;
    }
    *out_ms = tariff_tz_from_local(tz, y, mo, d, h, mi, sec, false) + ms;
    return 0;
}
