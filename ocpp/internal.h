/*
 * internal.h - helpers shared by the ocpp/ sources. Not installed, not part of the contract.
 */
#ifndef OCPP_INTERNAL_H
#define OCPP_INTERNAL_H

#include "ocpp.h"
#include "schema_tables.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy src into dst (dst_len bytes, always NUL-terminated), cutting at a UTF-8 code point boundary so
 * a truncated description is still valid UTF-8. Returns dst. */
char *ocpp_utf8_copy(char *dst, size_t dst_len, const char *src);
/* Whether the n bytes are well-formed UTF-8 (RFC 3629). */
bool ocpp_utf8_valid(const char *s, size_t n);
/* Unicode code points in a UTF-8 string (continuation bytes are not counted). */
size_t ocpp_utf8_count(const char *s);

/* The action's table entry, or NULL. */
const struct sch_action *ocpp_sch_action(const char *action);

/* A decimal number as value = sign * digits * 10^exp, digits without leading/trailing zeros
 * (zero: ndigits == 0). At most 40 significant digits (schema bounds and the shortest round-trip
 * form of a double both need far fewer). */
struct ocpp_dec {
    bool neg;
    int ndigits;
    char digits[41];
    int exp;
};
/* Parse JSON-number text ("-12.5e3"). Returns 0, or -1 when it is not a number we can hold. */
int ocpp_dec_parse(const char *text, struct ocpp_dec *out);
/* The shortest decimal that reads back as the same double (what the peer most likely wrote). */
int ocpp_dec_from_double(double v, struct ocpp_dec *out);
/* -1, 0, 1 as a <, ==, > b, exactly. */
int ocpp_dec_cmp(const struct ocpp_dec *a, const struct ocpp_dec *b);
/* Whether a is an integer multiple of m (m > 0), exactly. */
bool ocpp_dec_multiple_of(const struct ocpp_dec *a, const struct ocpp_dec *m);

/* Growable string for serializers. On allocation failure it latches failed and drops further text. */
struct ocpp_buf {
    char *p;
    size_t len, cap;
    bool failed;
};
void ocpp_buf_add(struct ocpp_buf *b, const char *s, size_t n);
void ocpp_buf_adds(struct ocpp_buf *b, const char *s);
void ocpp_buf_add_json_string(struct ocpp_buf *b, const char *s);
/* Takes ownership of the text (NULL when failed). */
char *ocpp_buf_finish(struct ocpp_buf *b);

#endif
