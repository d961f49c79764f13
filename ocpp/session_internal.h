/*
 * session_internal.h - the state of one OCPP-J connection, shared by session.c (what comes in) and
 * session_out.c (what goes out). Private to ocpp/.
 */
#ifndef OCPP_SESSION_INTERNAL_H
#define OCPP_SESSION_INTERNAL_H

#include "internal.h"

/* CALLs of the peer we have not answered yet. OCPP-J lets a peer have one CALL outstanding; a few more
 * tolerate sloppy peers, and the bound keeps a flooding peer from growing our memory. */
#define OCPP_SESSION_MAX_UNANSWERED 16
#define OCPP_SESSION_PREFIX_MAX 16 /* prefix + a 20-digit counter fit the 36-character message id */

struct out_frame {
    struct out_frame *next;
    char *text;
};

struct our_call {
    struct our_call *next;
    char id[OCPP_MSG_ID_MAX + 1];
    char action[OCPP_ACTION_MAX + 1];
    char *frame;
    void *user;
};

struct peer_call {
    bool used;
    char id[OCPP_MSG_ID_MAX + 1];
    char action[OCPP_ACTION_MAX + 1];
    uint64_t hash; /* of the raw message, to tell a retransmission from a new CALL reusing an id */
};

struct ocpp_session {
    enum ocpp_role role;
    int64_t call_timeout_ms;
    size_t queue_max;
    bool validate_outgoing;
    char prefix[OCPP_SESSION_PREFIX_MAX + 1];
    uint64_t counter;

    enum ocpp_boot_state boot;
    unsigned granted; /* bit per trigger_actions[] entry: what the station may send before Accepted */

    struct out_frame *out_head, *out_tail;

    struct our_call *inflight;
    int64_t deadline;
    struct our_call *q_head, *q_tail;
    size_t q_len;

    struct peer_call unanswered[OCPP_SESSION_MAX_UNANSWERED];
    /* The last CALL we answered and the frame we answered with, to re-send it on a retransmission. */
    char last_id[OCPP_MSG_ID_MAX + 1];
    char last_action[OCPP_ACTION_MAX + 1];
    uint64_t last_hash;
    char *last_answer;

    struct ocpp_session_stats st;
};

/* session.c */
void ocpp_ses_set_boot(ocpp_session *s, enum ocpp_boot_state state);
void ocpp_ses_grant(ocpp_session *s, const char *action, const cJSON *payload);
bool ocpp_ses_may_send(const ocpp_session *s, const char *action, char *err, size_t err_len);

/* session_out.c */
int ocpp_ses_push(ocpp_session *s, char *frame); /* takes the frame; -1 on ENOMEM (frame freed) */
void ocpp_ses_pump(ocpp_session *s, int64_t now_ms, ocpp_event_fn fn, void *ctx);
void ocpp_ses_fail_call(struct our_call *c, enum ocpp_error code, const char *desc, bool timed_out, bool closed,
                        ocpp_event_fn fn, void *ctx);
void ocpp_ses_free_call(struct our_call *c);
/* Queue an answer to the peer's CALL and remember it as the last one answered. */
void ocpp_ses_answer(ocpp_session *s, const char *id, const char *action, uint64_t hash, char *frame, bool error);

#endif
