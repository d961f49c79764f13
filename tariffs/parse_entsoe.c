/* ENTSO-E Transparency Platform, day-ahead prices (documentType A44), IEC 62325-451-3 Publication_MarketDocument.
 * Elements are matched by local name: the namespace version changes (7:0, 7:3) without the shape changing. */
#include "internal.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PERIODS 512

static bool is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

/* Element text into buf, trimmed; "" when absent. */
static const char *text(const xmlNode *n, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!n)
        return buf;
    xmlChar *s = xmlNodeGetContent(n);
    if (!s)
        return buf;
    const char *p = (const char *)s;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    snprintf(buf, len, "%s", p);
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == ' ' || buf[l - 1] == '\n' || buf[l - 1] == '\t' || buf[l - 1] == '\r'))
        buf[--l] = '\0';
    xmlFree(s);
    return buf;
}

struct period {
    const xmlNode *node;
    int64_t start, end, res;
    bool a03;
};

static int parse_ack(const xmlNode *root, char *err, size_t errlen)
{
    char code[32], msg[200];
    const xmlNode *reason = child(root, "Reason");
    text(child(reason, "code"), code, sizeof code);
    text(child(reason, "text"), msg, sizeof msg);
    tariff_err(err, errlen, "entsoe: acknowledgement, reason %s: %s", code[0] ? code : "?", msg);
    /* 999 with "No matching data" is the platform's way of saying the prices are not published yet. */
    return strcmp(code, "999") == 0 && strstr(msg, "No matching data") ? -TARIFF_ERR_EMPTY : -TARIFF_ERR_PARSE;
}

static int read_period(const xmlNode *ts, const xmlNode *pn, struct period *p, char *err, size_t errlen)
{
    char b[64];
    const xmlNode *ti = child(pn, "timeInterval");
    if (tariff_parse_iso8601(text(child(ti, "start"), b, sizeof b), NULL, &p->start) < 0 ||
        tariff_parse_iso8601(text(child(ti, "end"), b, sizeof b), NULL, &p->end) < 0 || p->end <= p->start)
        return tariff_err(err, errlen, "entsoe: Period without a valid timeInterval"), -TARIFF_ERR_PARSE;
    text(child(pn, "resolution"), b, sizeof b);
    if (strcmp(b, "PT15M") == 0)
        p->res = 15 * TARIFF_MS_PER_MIN;
    else if (strcmp(b, "PT30M") == 0)
        p->res = 30 * TARIFF_MS_PER_MIN;
    else if (strcmp(b, "PT60M") == 0 || strcmp(b, "PT1H") == 0)
        p->res = TARIFF_MS_PER_HOUR;
    else
        return tariff_err(err, errlen, "entsoe: unsupported resolution '%s'", b), -TARIFF_ERR_IMPLAUSIBLE;
    if ((p->end - p->start) % p->res != 0)
        return tariff_err(err, errlen, "entsoe: timeInterval is not a whole number of %s", b),
               -TARIFF_ERR_IMPLAUSIBLE;
    p->a03 = strcmp(text(child(ts, "curveType"), b, sizeof b), "A03") == 0;
    p->node = pn;
    return 0;
}

static int emit_period(const struct period *p, struct tariff_series *out, char *err, size_t errlen)
{
    char b[64];
    int64_t npos = (p->end - p->start) / p->res;
    int64_t last_pos = 0;
    double last_price = NAN;
    for (const xmlNode *pt = p->node->children;; pt = pt->next) {
        if (pt && !is(pt, "Point"))
            continue;
        int64_t pos = npos + 1; /* sentinel: the end of the period */
        double price = NAN;
        if (pt) {
            char *end;
            pos = strtoll(text(child(pt, "position"), b, sizeof b), &end, 10);
            if (!b[0] || *end || pos < 1 || pos > npos || pos <= last_pos)
                return tariff_err(err, errlen, "entsoe: bad or unordered Point position '%s'", b), -TARIFF_ERR_PARSE;
            price = strtod(text(child(pt, "price.amount"), b, sizeof b), &end);
            if (!b[0] || *end || !isfinite(price))
                return tariff_err(err, errlen, "entsoe: Point %lld has no valid price.amount", (long long)pos),
                       -TARIFF_ERR_PARSE;
        }
        /* A03: a point left out repeats the previous price, up to the next point or the end of the period.
         * A01 (every point present): a hole stays a hole, and validation reports it as a gap. */
        if (p->a03 && last_pos > 0)
            for (int64_t q = last_pos + 1; q < pos; q++)
                if (tariff_series_push(out, p->start + (q - 1) * p->res, p->start + q * p->res, last_price / 1000.0,
                                       TARIFF_SRC_MARKET) < 0)
                    return tariff_err(err, errlen, "out of memory"), -TARIFF_ERR_PARSE;
        if (!pt)
            break;
        if (tariff_series_push(out, p->start + (pos - 1) * p->res, p->start + pos * p->res, price / 1000.0,
                               TARIFF_SRC_MARKET) < 0)
            return tariff_err(err, errlen, "out of memory"), -TARIFF_ERR_PARSE;
        last_pos = pos;
        last_price = price;
    }
    return 0;
}

static int cmp_res(const void *a, const void *b)
{
    const struct period *x = a, *y = b;
    if (x->res != y->res)
        return x->res < y->res ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

int tariff_parse_entsoe(const char *body, size_t len, struct tariff_series *out, char *err, size_t errlen)
{
    int rc = 0, np = 0;
    size_t n0 = out->n;
    struct period *per = NULL;
    if (len > INT32_MAX)
        return tariff_err(err, errlen, "entsoe: body too large"), -TARIFF_ERR_PARSE;
    /* No entity expansion, no DTD loading, no network: a price document needs none of them. */
    xmlDoc *doc = xmlReadMemory(body, (int)len, "entsoe.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                                     XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc)
        return tariff_err(err, errlen, "entsoe: malformed XML"), -TARIFF_ERR_PARSE;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (is(root, "Acknowledgement_MarketDocument")) {
        rc = parse_ack(root, err, errlen);
        goto done;
    }
    if (!is(root, "Publication_MarketDocument")) {
        tariff_err(err, errlen, "entsoe: unexpected document <%s>", root ? (const char *)root->name : "");
        rc = -TARIFF_ERR_PARSE;
        goto done;
    }
    per = calloc(MAX_PERIODS, sizeof *per);
    if (!per) {
        rc = -TARIFF_ERR_PARSE;
        goto done;
    }
    for (const xmlNode *ts = root->children; ts; ts = ts->next) {
        if (!is(ts, "TimeSeries"))
            continue;
        char cur[16], unit[16];
        text(child(ts, "currency_Unit.name"), cur, sizeof cur);
        text(child(ts, "price_Measure_Unit.name"), unit, sizeof unit);
        if (strcmp(cur, "EUR") != 0 || strcmp(unit, "MWH") != 0) {
            tariff_err(err, errlen, "entsoe: prices in %s/%s, expected EUR/MWH", cur, unit);
            rc = -TARIFF_ERR_IMPLAUSIBLE;
            goto done;
        }
        for (const xmlNode *pn = ts->children; pn; pn = pn->next) {
            if (!is(pn, "Period"))
                continue;
            if (np == MAX_PERIODS) {
                tariff_err(err, errlen, "entsoe: more than %d periods", MAX_PERIODS);
                rc = -TARIFF_ERR_PARSE;
                goto done;
            }
            if ((rc = read_period(ts, pn, &per[np], err, errlen)) < 0)
                goto done;
            np++;
        }
    }
    if (np == 0) {
        tariff_err(err, errlen, "entsoe: document has no TimeSeries/Period");
        rc = -TARIFF_ERR_EMPTY;
        goto done;
    }
    /* Zones in transition to 15-minute products publish the same day at two resolutions: keep the finest and
     * drop any period overlapping one already kept. */
    qsort(per, (size_t)np, sizeof *per, cmp_res);
    for (int i = 0; i < np; i++) {
        bool overlap = false;
        for (int j = 0; j < i && !overlap; j++)
            overlap = per[j].node && per[j].start < per[i].end && per[i].start < per[j].end;
        if (overlap) {
            per[i].node = NULL;
            continue;
        }
        if ((rc = emit_period(&per[i], out, err, errlen)) < 0)
            goto done;
    }
    tariff_series_sort(out, n0);
done:
    if (rc)
        out->n = n0;
    free(per);
    xmlFreeDoc(doc);
    return rc;
}
