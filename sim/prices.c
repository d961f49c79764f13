/* Price file for the report's cost. */
#include "report.h"
#include "scenario.h"
#include "simtime.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ENTSO-E export: "01jan2022 00:00:00". */
static int parse_entsoe(const char *t, int64_t *ms)
{
    static const char *mon[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    int d, y, h, mi, s;
    char m[4];
    if (sscanf(t, "%2d%3s%4d %d:%d:%d", &d, m, &y, &h, &mi, &s) != 6)
        return -1;
    for (int i = 0; i < 12; i++)
        if (strcasecmp(m, mon[i]) == 0) {
            char iso[40];
            snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y % 10000, (i + 1) % 100, d % 100, h % 100,
                     mi % 100, s % 100);
            return sim_time_parse(iso, ms);
        }
    return -1;
}

int sim_prices_load(const char *path, struct sim_prices *out, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    char *text = sim_read_file(path, 64 << 20, err, len);
    if (!text)
        return -1;
    int cap = 0, line = 0;
    char *save = NULL;
    for (char *ln = strtok_r(text, "\r\n", &save); ln; ln = strtok_r(NULL, "\r\n", &save)) {
        line++;
        char *comma = strchr(ln, ',');
        if (!comma)
            continue;
        *comma = '\0';
        int64_t t;
        if (sim_time_parse(ln, &t) && parse_entsoe(ln, &t)) {
            if (line == 1)
                continue; /* header */
            snprintf(err, len, "%s:%d: time not RFC 3339 or ENTSO-E", path, line);
            goto bad;
        }
        char *end;
        double p = strtod(comma + 1, &end);
        if (end == comma + 1 || !isfinite(p)) {
            snprintf(err, len, "%s:%d: price not a number", path, line);
            goto bad;
        }
        if (out->n && t <= out->t_ms[out->n - 1]) {
            /* The usual cause: an ENTSO-E export in local time, whose autumn DST day repeats an hour. */
            snprintf(err, len, "%s:%d: times must increase%s", path, line,
                     isdigit((unsigned char)ln[0]) && !isdigit((unsigned char)ln[2])
                         ? " (local times with a repeated DST hour? give UTC RFC 3339, as examples/prices does)"
                         : "");
            goto bad;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *nt = realloc(out->t_ms, (size_t)cap * sizeof *nt);
            if (nt)
                out->t_ms = nt;
            double *np = realloc(out->eur_kwh, (size_t)cap * sizeof *np);
            if (np)
                out->eur_kwh = np;
            if (!nt || !np) {
                snprintf(err, len, "%s: out of memory", path);
                goto bad;
            }
        }
        out->t_ms[out->n] = t;
        out->eur_kwh[out->n++] = p;
    }
    free(text);
    if (!out->n) {
        snprintf(err, len, "%s: no prices", path);
        return -1;
    }
    return 0;
bad:
    free(text);
    sim_prices_free(out);
    return -1;
}

void sim_prices_free(struct sim_prices *p)
{
    free(p->t_ms);
    free(p->eur_kwh);
    memset(p, 0, sizeof *p);
}

double sim_prices_at(const struct sim_prices *p, int64_t t)
{
    if (!p->n || t < p->t_ms[0])
        return NAN;
    int lo = 0, hi = p->n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (p->t_ms[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return p->eur_kwh[lo];
}
