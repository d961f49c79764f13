/*
 * decimal.c - exact decimal comparisons for JSON Schema minimum / maximum / multipleOf.
 *
 * cJSON keeps every number as a double, and 8.1 is not a multiple of 0.1 in binary floating point
 * (fmod(8.1, 0.1) == 0.0999...). A known bug in another implementation rejected 8.1 A charging limits
 * that way. JSON Schema defines these keywords on the number's value, so we recover the decimal the peer
 * wrote (the shortest text that reads back as the same double) and compare decimals exactly.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEC_EXP_LIMIT 100000 /* |exponent| beyond this is not a number any OCPP field can carry */

int ocpp_dec_parse(const char *text, struct ocpp_dec *out)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    if (*p == '-' || *p == '+')
        out->neg = *p++ == '-';
    char all[128];
    int n = 0, frac = 0;
    bool any = false, dot = false;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            any = true;
            if (n == 0 && *p == '0') { /* leading zero: only shifts the exponent if after the dot */
                if (dot)
                    frac++;
                continue;
            }
            if (n >= (int)sizeof all)
                return -1;
            all[n++] = *p;
            if (dot)
                frac++;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any)
        return -1;
    long e = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        bool eneg = false;
        if (*p == '-' || *p == '+')
            eneg = *p++ == '-';
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
            e = e * 10 + (*p - '0');
            if (e > DEC_EXP_LIMIT)
                return -1;
        }
        if (eneg)
            e = -e;
    }
    if (*p != '\0')
        return -1;
    while (n > 0 && all[n - 1] == '0') { /* trailing zeros move into the exponent */
        n--;
        e++;
    }
    if (n > 40)
        return -1;
    memcpy(out->digits, all, (size_t)n);
    out->digits[n] = '\0';
    out->ndigits = n;
    out->exp = n ? (int)(e - frac) : 0;
    if (n == 0)
        out->neg = false;
    return 0;
}

int ocpp_dec_from_double(double v, struct ocpp_dec *out)
{
    if (!isfinite(v))
        return -1;
    char text[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        if (strtod(text, NULL) == v)
            break;
    }
    return ocpp_dec_parse(text, out);
}

static int sign_of(const struct ocpp_dec *d)
{
    return d->ndigits == 0 ? 0 : d->neg ? -1 : 1;
}

int ocpp_dec_cmp(const struct ocpp_dec *a, const struct ocpp_dec *b)
{
    int sa = sign_of(a), sb = sign_of(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int mag; /* magnitude comparison */
    long adj_a = (long)a->ndigits + a->exp, adj_b = (long)b->ndigits + b->exp;
    if (adj_a != adj_b) {
        mag = adj_a < adj_b ? -1 : 1;
    } else {
        int n = a->ndigits < b->ndigits ? a->ndigits : b->ndigits;
        int c = memcmp(a->digits, b->digits, (size_t)n);
        if (c != 0)
            mag = c < 0 ? -1 : 1;
        else /* no trailing zeros: the longer one has a further non-zero digit */
            mag = a->ndigits == b->ndigits ? 0 : a->ndigits < b->ndigits ? -1 : 1;
    }
    return sa * mag;
}

bool ocpp_dec_multiple_of(const struct ocpp_dec *a, const struct ocpp_dec *m)
{
    if (a->ndigits == 0)
        return true;
    if (m->ndigits == 0 || m->ndigits > 18) /* gen_schemas.py refuses such a multipleOf */
        return false;
    /* With e = min(exponents): A = a.digits * 10^(a.exp - e), B = m.digits * 10^(m.exp - e). */
    uint64_t dm = strtoull(m->digits, NULL, 10);
    if (m->exp <= a->exp) {
        /* B = dm < 10^18, so r * 10 + 9 never overflows 64 bits. */
        uint64_t r = 0;
        for (int i = 0; i < a->ndigits; i++)
            r = (r * 10 + (uint64_t)(a->digits[i] - '0')) % dm;
        for (long k = (long)a->exp - m->exp; k > 0 && r != 0; k--)
            r = r * 10 % dm;
        return r == 0;
    }
    /* e = a.exp: A = a.digits, whose last digit is non-zero, and B = dm * 10^(m.exp - a.exp) is a
     * multiple of 10. Every multiple of B ends in 0, so A is never one. */
    return false;
}
