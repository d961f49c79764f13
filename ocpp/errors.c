/* errors.c - OCPP-J 2.0.1 error codes (section 4.3) and small string helpers shared by the module. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const error_names[] = {
    [OCPP_OK] = "NoError", /* not a wire code; never sent */
    [OCPP_E_FORMAT_VIOLATION] = "FormatViolation",
    [OCPP_E_GENERIC_ERROR] = "GenericError",
    [OCPP_E_INTERNAL_ERROR] = "InternalError",
    [OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED] = "MessageTypeNotSupported",
    [OCPP_E_NOT_IMPLEMENTED] = "NotImplemented",
    [OCPP_E_NOT_SUPPORTED] = "NotSupported",
    [OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION] = "OccurrenceConstraintViolation",
    [OCPP_E_PROPERTY_CONSTRAINT_VIOLATION] = "PropertyConstraintViolation",
    [OCPP_E_PROTOCOL_ERROR] = "ProtocolError",
    [OCPP_E_RPC_FRAMEWORK_ERROR] = "RpcFrameworkError",
    [OCPP_E_SECURITY_ERROR] = "SecurityError",
    [OCPP_E_TYPE_CONSTRAINT_VIOLATION] = "TypeConstraintViolation",
};
#define N_ERRORS (sizeof error_names / sizeof error_names[0])

const char *ocpp_error_name(enum ocpp_error code)
{
    /* An out-of-range value is a caller bug; answering GenericError keeps the wire valid. */
    if ((unsigned)code >= N_ERRORS || code == OCPP_OK)
        return code == OCPP_OK ? error_names[OCPP_OK] : "GenericError";
    return error_names[code];
}

int ocpp_error_from_name(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 1; i < N_ERRORS; i++)
        if (strcmp(error_names[i], name) == 0)
            return (int)i;
    return -1;
}

char *ocpp_utf8_copy(char *dst, size_t dst_len, const char *src)
{
    if (dst_len == 0)
        return dst;
    size_t n = src ? strlen(src) : 0;
    if (n >= dst_len) {
        n = dst_len - 1;
        /* Step back over continuation bytes so we never split a code point. */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
    return dst;
}

size_t ocpp_utf8_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool ocpp_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || c > 0xF4 || end - p < len)
            return false;
        for (int i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629). */
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
            (c == 0xF4 && p[1] > 0x8F))
            return false;
        p += len;
    }
    return true;
}

void ocpp_buf_add(struct ocpp_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ocpp_buf_adds(struct ocpp_buf *b, const char *s)
{
    ocpp_buf_add(b, s, strlen(s));
}

void ocpp_buf_add_json_string(struct ocpp_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    ocpp_buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[7];
        switch (*p) {
        case '"': ocpp_buf_add(b, "\\\"", 2); break;
        case '\\': ocpp_buf_add(b, "\\\\", 2); break;
        case '\n': ocpp_buf_add(b, "\\n", 2); break;
        case '\r': ocpp_buf_add(b, "\\r", 2); break;
        case '\t': ocpp_buf_add(b, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                ocpp_buf_add(b, esc, 6);
            } else {
                ocpp_buf_add(b, (const char *)p, 1);
            }
        }
    }
    ocpp_buf_add(b, "\"", 1);
}

char *ocpp_buf_finish(struct ocpp_buf *b)
{
    if (b->failed || !b->p) {
        free(b->p);
        b->p = NULL;
        if (!b->failed) /* nothing added: an empty string is still a valid result */
            return strdup("");
        return NULL;
    }
    char *p = b->p;
    b->p = NULL;
    return p;
}
