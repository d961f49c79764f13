/*
 * frame.c - the OCPP-J envelope: [2, id, action, payload], [3, id, payload], [4, id, code, desc, details].
 *
 * Which error answers which broken frame (OCPP-J 2.0.1 section 4):
 *   not JSON (or not UTF-8), not an array, empty array,
 *   unreadable id                                        -> RpcFrameworkError, id "-1" (we cannot correlate)
 *   MessageTypeId not 2, 3 or 4                          -> MessageTypeNotSupported (the id echoed if readable)
 *   CALL with a wrong element count or non-string action -> RpcFrameworkError
 *   CALL payload that is not a JSON object               -> ProtocolError
 *   a broken CALLRESULT / CALLERROR                      -> never answered (reply = false): answering a
 *                                                           response could start an endless error ping-pong
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_fault(struct ocpp_fault *f, enum ocpp_error code, const char *id, bool reply, const char *desc)
{
    if (f) {
        f->code = code;
        ocpp_utf8_copy(f->id, sizeof f->id, id && *id ? id : "-1");
        f->reply = reply;
        ocpp_utf8_copy(f->description, sizeof f->description, desc);
    }
    return -1;
}

static bool id_valid(const cJSON *v)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return false;
    size_t n = strlen(v->valuestring);
    return n >= 1 && n <= OCPP_MSG_ID_MAX;
}

/* [2, id, action, {payload}]: false with the fault set when it is not. */
static bool parse_call(cJSON *root, int n, const char *id, struct ocpp_frame *out, struct ocpp_fault *fault)
{
    const cJSON *jaction = cJSON_GetArrayItem(root, 2);
    if (n != 4) {
        set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, id, true, "CALL must have 4 elements");
        return false;
    }
    if (!cJSON_IsString(jaction) || !jaction->valuestring) {
        set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, id, true, "CALL action is not a string");
        return false;
    }
    if (strlen(jaction->valuestring) > OCPP_ACTION_MAX) {
        /* No 2.0.1 action is this long: it is unknown, which is what NotImplemented means. */
        set_fault(fault, OCPP_E_NOT_IMPLEMENTED, id, true, "unknown action");
        return false;
    }
    const cJSON *payload = cJSON_GetArrayItem(root, 3);
    if (!cJSON_IsObject(payload)) {
        set_fault(fault, OCPP_E_PROTOCOL_ERROR, id, true, "Payload for Action is not conform the PDU structure");
        return false;
    }
    strcpy(out->action, jaction->valuestring);
    out->payload = cJSON_DetachItemFromArray(root, 3);
    return true;
}

/* [3, id, {payload}]. */
static bool parse_result(cJSON *root, int n, const char *id, struct ocpp_frame *out, struct ocpp_fault *fault)
{
    const cJSON *payload = cJSON_GetArrayItem(root, 2);
    if (n != 3 || !cJSON_IsObject(payload)) {
        set_fault(fault, n != 3 ? OCPP_E_RPC_FRAMEWORK_ERROR : OCPP_E_PROTOCOL_ERROR, id, false,
                  n != 3 ? "CALLRESULT must have 3 elements" : "CALLRESULT payload is not an object");
        return false;
    }
    out->payload = cJSON_DetachItemFromArray(root, 2);
    return true;
}

/* [4, id, errorCode, errorDescription, {errorDetails}]. */
static bool parse_error(cJSON *root, int n, const char *id, struct ocpp_frame *out, struct ocpp_fault *fault)
{
    const cJSON *code = cJSON_GetArrayItem(root, 2), *desc = cJSON_GetArrayItem(root, 3),
                *details = cJSON_GetArrayItem(root, 4);
    if (n != 5 || !cJSON_IsString(code) || !cJSON_IsString(desc) || !cJSON_IsObject(details)) {
        set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, id, false,
                  "CALLERROR must be [4, id, errorCode, errorDescription, errorDetails{}]");
        return false;
    }
    /* An unknown code still means the call failed; keep the correlation and call it GenericError
     * rather than leave our CALL waiting for its timeout. */
    int c = ocpp_error_from_name(code->valuestring);
    out->error_code = c > 0 ? (enum ocpp_error)c : OCPP_E_GENERIC_ERROR;
    ocpp_utf8_copy(out->error_description, sizeof out->error_description, desc->valuestring);
    out->payload = cJSON_DetachItemFromArray(root, 4);
    return true;
}

int ocpp_frame_parse(const char *buf, size_t len, struct ocpp_frame *out, struct ocpp_fault *fault)
{
    memset(out, 0, sizeof *out);
    if (fault)
        memset(fault, 0, sizeof *fault);
    /* cJSON wants a NUL-terminated text; a raw NUL inside would end it early and hide trailing bytes. */
    if (!buf || len == 0 || memchr(buf, '\0', len))
        return set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, NULL, true, "message is not JSON");
    /* JSON text is UTF-8 (RFC 8259); accepting anything else would let broken bytes flow into our
     * answers (descriptions quote ids and names) and make a strict peer drop the connection. */
    if (!ocpp_utf8_valid(buf, len))
        return set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, NULL, true, "message is not valid UTF-8");
    char *text = malloc(len + 1);
    if (!text)
        return set_fault(fault, OCPP_E_INTERNAL_ERROR, NULL, true, "out of memory");
    memcpy(text, buf, len);
    text[len] = '\0';
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, true);
    free(text);
    if (!root)
        return set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, NULL, true, "message is not JSON");
    int rc = -1;
    int n = cJSON_GetArraySize(root);
    if (!cJSON_IsArray(root) || n == 0) {
        set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, NULL, true,
                  cJSON_IsArray(root) ? "message is an empty array" : "message is not a JSON array");
        goto done;
    }
    const cJSON *jtype = cJSON_GetArrayItem(root, 0);
    const cJSON *jid = cJSON_GetArrayItem(root, 1);
    const char *id = id_valid(jid) ? jid->valuestring : NULL;
    double t = cJSON_IsNumber(jtype) ? jtype->valuedouble : 0;
    if (!cJSON_IsNumber(jtype) || (t != 2 && t != 3 && t != 4)) {
        set_fault(fault, OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED, id, true, "MessageTypeId must be 2, 3 or 4");
        goto done;
    }
    out->type = (enum ocpp_msg_type)(int)t;
    bool is_call = out->type == OCPP_CALL;
    if (!id) {
        set_fault(fault, OCPP_E_RPC_FRAMEWORK_ERROR, NULL, is_call,
                  !jid ? "message id missing"
                       : !cJSON_IsString(jid) ? "message id is not a string"
                                              : "message id must be 1 to 36 characters");
        goto done;
    }
    strcpy(out->id, id);
    bool ok = out->type == OCPP_CALL ? parse_call(root, n, id, out, fault)
              : out->type == OCPP_CALLRESULT ? parse_result(root, n, id, out, fault)
                                             : parse_error(root, n, id, out, fault);
    if (!ok)
        goto done;
    rc = 0;
done:
    cJSON_Delete(root);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

void ocpp_frame_clear(struct ocpp_frame *f)
{
    if (!f)
        return;
    cJSON_Delete(f->payload);
    memset(f, 0, sizeof *f);
}

static void add_payload(struct ocpp_buf *b, const cJSON *payload)
{
    if (!payload) {
        ocpp_buf_adds(b, "{}");
        return;
    }
    char *p = cJSON_PrintUnformatted(payload);
    if (!p) {
        b->failed = true;
        return;
    }
    ocpp_buf_adds(b, p);
    cJSON_free(p);
}

char *ocpp_frame_call(const char *id, const char *action, const cJSON *payload)
{
    struct ocpp_buf b = {0};
    ocpp_buf_adds(&b, "[2,");
    ocpp_buf_add_json_string(&b, id ? id : "");
    ocpp_buf_adds(&b, ",");
    ocpp_buf_add_json_string(&b, action ? action : "");
    ocpp_buf_adds(&b, ",");
    add_payload(&b, payload);
    ocpp_buf_adds(&b, "]");
    return ocpp_buf_finish(&b);
}

char *ocpp_frame_result(const char *id, const cJSON *payload)
{
    struct ocpp_buf b = {0};
    ocpp_buf_adds(&b, "[3,");
    ocpp_buf_add_json_string(&b, id ? id : "");
    ocpp_buf_adds(&b, ",");
    add_payload(&b, payload);
    ocpp_buf_adds(&b, "]");
    return ocpp_buf_finish(&b);
}

char *ocpp_frame_error(const char *id, enum ocpp_error code, const char *description, const cJSON *details)
{
    char desc[OCPP_ERROR_DESC_MAX + 1];
    ocpp_utf8_copy(desc, sizeof desc, description ? description : "");
    struct ocpp_buf b = {0};
    ocpp_buf_adds(&b, "[4,");
    ocpp_buf_add_json_string(&b, id ? id : "-1");
    ocpp_buf_adds(&b, ",");
    ocpp_buf_add_json_string(&b, ocpp_error_name(code == OCPP_OK ? OCPP_E_GENERIC_ERROR : code));
    ocpp_buf_adds(&b, ",");
    ocpp_buf_add_json_string(&b, desc);
    ocpp_buf_adds(&b, ",");
    add_payload(&b, details);
    ocpp_buf_adds(&b, "]");
    return ocpp_buf_finish(&b);
}
