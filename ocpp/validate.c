/*
 * validate.c - JSON Schema (draft-06 subset used by OCPP 2.0.1) on the generated constant tables.
 *
 * Error code per violated keyword (OCPP-J 2.0.1 section 4.3 defines the codes, not this mapping; we choose
 * the code whose definition names the fault):
 *   type                                   -> TypeConstraintViolation   ("a field contains a value of the
 *                                             wrong data type", e.g. "somestring" for an integer)
 *   required, minItems, maxItems,
 *   additionalProperties (must not occur)  -> OccurrenceConstraintViolation ("payload is syntactically
 *                                             correct but at least one field contains an occurrence
 *                                             constraint violation")
 *   enum, maxLength, minLength, minimum,
 *   maximum, multipleOf                    -> PropertyConstraintViolation ("a field contains an invalid
 *                                             value", e.g. -1 where only positives are allowed)
 *   format (date-time)                     -> FormatViolation ("payload is syntactically incorrect")
 * Keywords are checked in a fixed order (type, then the instance's own keywords, required before the
 * members, members in document order) so the first error found is deterministic.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct vctx {
    char path[384];
    size_t plen;
    char *desc;
    size_t desc_len;
};

static void push_name(struct vctx *c, const char *name)
{
    size_t room = sizeof c->path - c->plen;
    int n = snprintf(c->path + c->plen, room, c->plen ? ".%s" : "%s", name);
    c->plen = (n < 0 || (size_t)n >= room) ? sizeof c->path - 1 : c->plen + (size_t)n;
}

static void push_index(struct vctx *c, int i)
{
    size_t room = sizeof c->path - c->plen;
    int n = snprintf(c->path + c->plen, room, "[%d]", i);
    c->plen = (n < 0 || (size_t)n >= room) ? sizeof c->path - 1 : c->plen + (size_t)n;
}

static void pop(struct vctx *c, size_t plen)
{
    c->plen = plen;
    c->path[plen] = '\0';
}

static enum ocpp_error fail(struct vctx *c, enum ocpp_error code, const char *fmt, const char *arg)
{
    if (c->desc && c->desc_len) {
        char reason[160], full[sizeof c->path + sizeof reason + 4];
        snprintf(reason, sizeof reason, fmt, arg);
        snprintf(full, sizeof full, "%s: %s", c->plen ? c->path : "payload", reason);
        size_t cap = c->desc_len < OCPP_ERROR_DESC_MAX + 1 ? c->desc_len : OCPP_ERROR_DESC_MAX + 1;
        ocpp_utf8_copy(c->desc, cap, full);
    }
    return code;
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case SCH_STRING: return "a string";
    case SCH_OBJECT: return "an object";
    case SCH_INTEGER: return "an integer";
    case SCH_NUMBER: return "a number";
    case SCH_BOOLEAN: return "a boolean";
    case SCH_ARRAY: return "an array";
    default: return "a value";
    }
}

static bool type_ok(uint8_t t, const cJSON *v)
{
    switch (t) {
    case SCH_STRING: return cJSON_IsString(v) && v->valuestring;
    case SCH_OBJECT: return cJSON_IsObject(v);
    case SCH_INTEGER: /* JSON Schema: any number with a zero fractional part, so 1.0 is an integer */
        return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble);
    case SCH_NUMBER: return cJSON_IsNumber(v);
    case SCH_BOOLEAN: return cJSON_IsBool(v);
    case SCH_ARRAY: return cJSON_IsArray(v);
    default: return true;
    }
}

static enum ocpp_error check_string(struct vctx *c, const struct sch_node *n, const char *s)
{
    if (n->max_length >= 0 || n->min_length >= 0) {
        size_t cp = ocpp_utf8_count(s); /* JSON Schema counts characters, not bytes */
        char lim[24];
        if (n->max_length >= 0 && cp > (size_t)n->max_length) {
            snprintf(lim, sizeof lim, "%d", (int)n->max_length);
            return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "longer than %s characters", lim);
        }
        if (n->min_length >= 0 && cp < (size_t)n->min_length) {
            snprintf(lim, sizeof lim, "%d", (int)n->min_length);
            return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "shorter than %s characters", lim);
        }
    }
    if (n->enums) {
        bool found = false;
        for (int32_t i = 0; i < n->n_enums && !found; i++)
            found = strcmp(n->enums[i], s) == 0;
        if (!found) {
            char list[140] = "";
            size_t used = 0;
            for (int32_t i = 0; i < n->n_enums && used < sizeof list; i++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", n->enums[i]);
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "must be one of %s", list);
        }
    }
    if (n->format == SCH_FORMAT_DATE_TIME && ocpp_time_parse(s, NULL) != 0)
        return fail(c, OCPP_E_FORMAT_VIOLATION, "%s", "not an RFC 3339 date-time");
    return OCPP_OK;
}

static enum ocpp_error check_number(struct vctx *c, const struct sch_node *n, double v)
{
    if (!n->minimum && !n->maximum && !n->multiple_of)
        return OCPP_OK;
    struct ocpp_dec val, lim;
    if (ocpp_dec_from_double(v, &val) != 0)
        return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "%s", "number out of range");
    if (n->minimum && ocpp_dec_parse(n->minimum, &lim) == 0) {
        int cmp = ocpp_dec_cmp(&val, &lim);
        if (cmp < 0 || (cmp == 0 && n->exclusive_min))
            return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, n->exclusive_min ? "must be > %s" : "must be >= %s",
                        n->minimum);
    }
    if (n->maximum && ocpp_dec_parse(n->maximum, &lim) == 0) {
        int cmp = ocpp_dec_cmp(&val, &lim);
        if (cmp > 0 || (cmp == 0 && n->exclusive_max))
            return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, n->exclusive_max ? "must be < %s" : "must be <= %s",
                        n->maximum);
    }
    if (n->multiple_of && ocpp_dec_parse(n->multiple_of, &lim) == 0 && !ocpp_dec_multiple_of(&val, &lim))
        return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "must be a multiple of %s", n->multiple_of);
    return OCPP_OK;
}

static enum ocpp_error check_node(struct vctx *c, int32_t idx, const cJSON *v);

static enum ocpp_error check_object(struct vctx *c, const struct sch_node *n, const cJSON *v)
{
    size_t base = c->plen;
    for (int32_t i = 0; i < n->n_props; i++) {
        if (n->props[i].required && !cJSON_GetObjectItemCaseSensitive(v, n->props[i].name)) {
            push_name(c, n->props[i].name);
            return fail(c, OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "%s", "required property missing");
        }
    }
    for (const cJSON *m = v->child; m; m = m->next) {
        const char *name = m->string ? m->string : "";
        const struct sch_prop *p = NULL;
        for (int32_t i = 0; i < n->n_props && !p; i++)
            if (strcmp(n->props[i].name, name) == 0)
                p = &n->props[i];
        push_name(c, name);
        if (!p) {
            if (n->no_additional)
                return fail(c, OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "%s", "property not allowed");
        } else {
            enum ocpp_error e = check_node(c, p->node, m);
            if (e != OCPP_OK)
                return e;
        }
        pop(c, base);
    }
    return OCPP_OK;
}

static enum ocpp_error check_array(struct vctx *c, const struct sch_node *n, const cJSON *v)
{
    int count = cJSON_GetArraySize(v);
    char lim[24];
    if (n->min_items >= 0 && count < n->min_items) {
        snprintf(lim, sizeof lim, "%d", (int)n->min_items);
        return fail(c, OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "fewer than %s items", lim);
    }
    if (n->max_items >= 0 && count > n->max_items) {
        snprintf(lim, sizeof lim, "%d", (int)n->max_items);
        return fail(c, OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION, "more than %s items", lim);
    }
    if (n->items < 0)
        return OCPP_OK;
    size_t base = c->plen;
    int i = 0;
    for (const cJSON *m = v->child; m; m = m->next, i++) {
        push_index(c, i);
        enum ocpp_error e = check_node(c, n->items, m);
        if (e != OCPP_OK)
            return e;
        pop(c, base);
    }
    return OCPP_OK;
}

static enum ocpp_error check_node(struct vctx *c, int32_t idx, const cJSON *v)
{
    const struct sch_node *n = &ocpp_sch_nodes[idx];
    if (!type_ok(n->type, v))
        return fail(c, OCPP_E_TYPE_CONSTRAINT_VIOLATION, "must be %s", type_name(n->type));
    if (cJSON_IsString(v) && v->valuestring)
        return check_string(c, n, v->valuestring);
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble)) /* 1e999: valid JSON, but no OCPP field can hold it */
            return fail(c, OCPP_E_PROPERTY_CONSTRAINT_VIOLATION, "%s", "number out of range");
        return check_number(c, n, v->valuedouble);
    }
    if (cJSON_IsObject(v))
        return check_object(c, n, v);
    if (cJSON_IsArray(v))
        return check_array(c, n, v);
    return OCPP_OK;
}

enum ocpp_error ocpp_validate(const char *action, bool response, const cJSON *payload, char *desc,
                              size_t desc_len)
{
    struct vctx c = {.plen = 0, .desc = desc, .desc_len = desc_len};
    c.path[0] = '\0';
    if (desc && desc_len)
        desc[0] = '\0';
    const struct sch_action *a = ocpp_sch_action(action);
    if (!a) {
        if (desc && desc_len)
            snprintf(desc, desc_len < OCPP_ERROR_DESC_MAX + 1 ? desc_len : OCPP_ERROR_DESC_MAX + 1,
                     "unknown action %s", action ? action : "(null)");
        return OCPP_E_NOT_IMPLEMENTED;
    }
    if (!payload)
        return fail(&c, OCPP_E_TYPE_CONSTRAINT_VIOLATION, "%s", "must be an object");
    return check_node(&c, response ? a->response : a->request, payload);
}
