/*
 * depot.h - depotd's live state and the seams between its parts.
 *
 * Threads: everything here belongs to the event loop thread (the one running lws_service), except where a
 * function says otherwise. Other threads (the store writer; later the solver and the price fetcher) talk to
 * it only through their own locked queues and lws_cancel_service().
 */
#ifndef DEPOTD_DEPOT_H
#define DEPOTD_DEPOT_H

#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "auth.h"
#include "clock_offset.h"
#include "config.h"
#include "doors.h"
#include "ocpp.h"
#include "store.h"

struct conn;
struct depot;
struct price_feed;
struct control;
struct api;

/* A station depotd knows: from the config, or registered by auto-registration. Lives as long as depotd. */
struct station {
    char id[CFG_STATION_ID_MAX + 1];
    enum cfg_boot registry_boot;         /* how its BootNotification is answered */
    /* What depotd answered its last BootNotification (OCPP_BOOT_NONE: never), from the event log at start, then
     * live. The registration is the station's, not the connection's: a station that reconnects without booting
     * is served in this state (B01: it boots only when it reboots). */
    enum ocpp_boot_state last_boot;
    int items_per_get;                   /* DeviceDataCtrlr ItemsPerMessage GetVariables; 0: not known */
    bool caps_read;                      /* its SmartChargingCtrlr capabilities were read since it booted */
    /* Its clock against depotd's planning clock, from the timestamps of what it sends as it happens
     * (StatusNotification, TransactionEvent not offline; not what waited in its queue): clock_offset.h. */
    struct clock_offset clock;
    bool clock_reported;             /* a clock_offset event was logged (once the offset settled) */
    bool clock_warned;               /* beyond clock_skew_tolerance_s, warned */
    int64_t clock_logged_ms;         /* the offset last logged */
    char password_hash[AUTH_HASH_MAX];
    char previous_hash[AUTH_HASH_MAX];   /* before an A01 rotation: valid until it connects with the new one */
    bool rotation_restored;              /* start-up: its newest rotation was looked at */
    int security_profile;                /* 1: ws:// or wss:// with Basic auth; 2: wss:// only; 3: wss:// with its
                                          * client certificate (config_station_profile) */
    /* HMACs (under a key made at start) of the password that verified and of the last one that failed: a
     * reconnect, or a retry of the same wrong password, is decided without PBKDF2. A station with a verified
     * password is refused any other at once (its hash changes only with the config, which clears both). */
    unsigned char verified_mac[32], failed_mac[32];
    bool has_verified_mac, has_failed_mac;
    struct conn *conn;                   /* the live connection, or NULL */
    uint64_t evses_seen;                 /* bit n: EVSE n reported a status (n < 64) */
    uint64_t evses_queried;              /* bit n: EVSE n's capabilities were asked for */
    struct station *next;                /* hash chain */
};

/* An answer to a station's CALL, held until the events it depends on are durable. */
struct held_reply {
    char id[OCPP_MSG_ID_MAX + 1];
    char action[OCPP_ACTION_MAX + 1];
    cJSON *payload;
    uint64_t ticket;
    bool lost;                           /* its event never reached the store: answered InternalError in turn */
    struct held_reply *next;
};

/* Work that must wait until a ticket's events are durable (depot_after_durable). */
struct after_durable {
    uint64_t ticket;
    bool lost;                           /* STORE_TICKET_LOST: runs in turn with STORE_FAILED */
    void (*fn)(struct depot *d, void *arg, enum store_ticket_state state);
    void *arg;
    struct after_durable *next;
};

struct raw_frame {
    char *text;
    struct raw_frame *next;
};

/* One websocket connection (lws per-session data points at it). Freed in LWS_CALLBACK_CLOSED. */
struct conn {
    struct lws *wsi;
    struct depot *depot;
    struct station *station;
    ocpp_session *session;
    char *rx;                       /* message being reassembled from fragments */
    size_t rx_len, rx_cap, rx_total;
    bool rx_binary, rx_overflow;
    struct held_reply *held_head, *held_tail;
    struct raw_frame *raw_head, *raw_tail; /* frames depotd builds outside the session (oversize, binary) */
    bool closing;                   /* replaced by a newer connection: close at the next WRITEABLE */
    bool frame_logged;              /* the current incoming frame is in the event log already */
    lws_sorted_usec_list_t sul;     /* the session's next call timeout */
    struct conn *next_held;         /* in depot.held_list while it holds replies */
    bool in_held_list;
    /* The capability reads (GetVariables, handlers.c) in flight, oldest first: answers come back in the order the
     * CALLs went out (one in flight per session), so the head is the one answered. */
    unsigned char gv_kind[16];
    int gv_head, gv_n;
    bool caps_after_limit, evses_after_limit; /* waiting for ItemsPerMessage before reading */
    /* Monotonic microseconds, for telling a message sent as it happened from one that waited in the station's
     * queue (server.c depot_conn_sent_fresh): */
    int64_t opened_us, rx_at_us;    /* connection up; the frame being handled arrived */
    int64_t answered_us;            /* depotd's last answer to a station CALL went out */
    int64_t call_out_us;            /* depotd's own CALL went out, awaiting its answer (0: none) */
    int64_t rtt_us;                 /* round trip of depotd's CALLs, a slowly decaying maximum (0: none yet) */
    struct pw_job *auth_job;        /* its password being checked: not yet attached to a station, not read */
    /* Inflow: a token bucket of max_messages_per_s, and CALLs received less answers written. */
    double tokens;
    int64_t tokens_ms;
    uint64_t calls_in, answers_out;
    bool throttled;                 /* not read until throttle_sul (rate) or answers drain (backlog) */
    bool throttled_rate;            /* the first of those */
    lws_sorted_usec_list_t throttle_sul;
    const char *close_why;          /* closing: the reason sent with the close frame */
    char *signed_chain;             /* A03: the chain to send once the SignCertificate answer is out */
};

/* OCPP-J frames counted by direction, message type, action and status ("ok" or the error code), for /metrics.
 * Bounded: kinds past DEPOT_FRAME_KINDS are counted under action "other". */
#define DEPOT_FRAME_KINDS 96
struct depot_frame_count {
    bool out;
    int msg_type;                /* 2 CALL, 3 CALLRESULT, 4 CALLERROR, 0 not a valid frame */
    char action[40];
    char status[32];
    uint64_t n;
};

struct depot_counters {
    uint64_t connections, refused, frames_in, frames_out, callerrors_out, calls_out, timeouts;
    uint64_t throttled;          /* times a station was stopped being read (rate or backlog) */
    struct depot_frame_count frames[DEPOT_FRAME_KINDS];
    int n_frames;
};

/* Work handed to the loop thread by another thread (depot_post). */
struct posted {
    void (*fn)(struct depot *d, void *arg);
    void *arg;
    bool embedded;                       /* part of arg (depot_post_node): not freed after fn */
    struct posted *next;
};

/* pwpool.c: password hashing off the loop (PBKDF2 on password_threads workers). A job is the pool's until its
 * done(d, job) runs on the loop thread, which then owns (and frees) it; the connection waiting for it points
 * at it (conn.auth_job) and is cleared from it if it closes first. */
enum pw_kind { PW_VERIFY, PW_HASH };
struct pw_job {
    enum pw_kind kind;
    char station[CFG_STATION_ID_MAX + 1];
    char addr[64];
    char password[128];                  /* wiped by done */
    char hash[AUTH_HASH_MAX];            /* VERIFY: the stored hash; HASH: the new one */
    char hash2[AUTH_HASH_MAX];           /* VERIFY: the previous one too ("": none) */
    bool used_previous;                  /* VERIFY: it was the previous one that matched */
    int iterations;                      /* HASH */
    bool ok, cancelled;                  /* the outcome; cancelled: depotd stopped first */
    struct conn *conn;                   /* loop thread: the connection waiting, NULL once it closed */
    struct posted post;                  /* how it goes back to the loop */
    struct pw_job *next;                 /* the pool's queue */
    struct pw_job *lprev, *lnext;        /* loop thread: every job out with the pool (depot.auth_jobs) */
};

struct depot {
    struct config cfg;
    store *store;
    struct lws_context *lws;
    struct uv_loop_s *uv;               /* the loop lws runs on (server.c); NULL: lws's own poll() loop */
    struct station **buckets;
    size_t n_buckets, n_stations, n_connected;
    unsigned char mac_key[32];
    struct conn *held_list;
    struct after_durable *after_head, *after_tail;  /* in ticket order */
    struct depot_counters counters;
    uint64_t conn_serial;
    volatile sig_atomic_t stop;
    volatile sig_atomic_t reload_tls;   /* SIGHUP: load the TLS certificate, key and CA again */
    struct lws_vhost *tls_vhost;        /* tls.c: the wss:// listener, or NULL */
    void *tls_ctx;                      /* its SSL_CTX (set while the vhost is created) */
    void *api_tls_ctx;                  /* the API's SSL_CTX when api_tls_cert_file is set */
    struct feed *prices;                /* prices.c */
    struct site_load *site_load;        /* site_load.c: the building's load, or NULL */
    struct control *control;            /* control.c: the smart-charging loop */
    struct api *api;                    /* api.c: the JSON API (NULL when off) */
    pthread_mutex_t post_mu;            /* guards posted_head/tail: the only state other threads touch */
    struct posted *posted_head, *posted_tail;
    struct pw_pool *pw;                 /* pwpool.c */
    size_t n_auth_pending;              /* connections waiting for the pool */
    struct pw_job *auth_jobs;           /* loop thread: the jobs out with the pool */
    size_t n_auto_registered;           /* stations that registered themselves (auto_register_max) */
    struct doors *doors;                /* doors.h: login back-off, folded refusals */
    uint64_t settled_seen;              /* durable.c: the store's settled ticket last looked at */
    int commits_failed_seen;            /* and its failed commits then (each new one is logged) */
    bool disk_low_seen, disk_lean_seen; /* the disk watermarks as last logged (depot_log_disk) */
    uint64_t prune_errors_seen;         /* and the failed pruning steps */
};

/* Monotonic milliseconds (for sessions and timers) and wall-clock milliseconds (for the event log). */
int64_t depot_mono_ms(void);
int64_t depot_mono_us(void);
int64_t depot_wall_ms(void);

/* stations.c */
struct station *depot_station_find(struct depot *d, const char *id);
struct station *depot_station_add(struct depot *d, const char *id, enum cfg_boot boot, const char *password_hash);
int depot_load_stations(struct depot *d, char *err, size_t err_len);
/* Whether the CALL being handled was sent as it happened rather than after waiting in the station's queue. */
bool depot_conn_sent_fresh(const struct conn *c);
/* A timestamp the station sent just now (its clock) and depotd's planning clock when it came. */
void depot_station_clock_sample(struct depot *d, struct station *st, int64_t station_ms, int64_t now_ms);
/* How to tell this station a time: add *offset_ms; known to within *uncertainty_ms (the tolerance until measured). */
void depot_station_clock(const struct depot *d, const struct station *st, int64_t *offset_ms, int64_t *uncertainty_ms);
/* Whether password is known without hashing: 1 the one it verified with, 0 wrong (not the verified one, or the
 * last that failed), -1 unknown (to be checked by the pool). */
int depot_station_password_known(const struct depot *d, const struct station *st, const char *password);
/* A01: new_hash is in force from now on, the old one until the station connects with the new one; logged. */
void depot_station_rotate_password(struct depot *d, struct station *st, const char *new_hash);
/* Remembers the pool's verdict on password. */
void depot_station_password_checked(const struct depot *d, struct station *st, const char *password, bool ok);

/* certs.c: the depot CA signs csr_pem for station (its own CN only). A malloc'd PEM chain, or NULL and why. */
char *depot_cert_sign(const struct config *cfg, const char *csr_pem, const char *station, char *why, size_t why_len);

/* certs.c: the depot CA signs csr_pem for station (its own CN only). A malloc'd PEM chain, or NULL and why. */
char *depot_cert_sign(const struct config *cfg, const char *csr_pem, const char *station, char *why, size_t why_len);

/* tls.c: the wss:// listener (security profiles 2 and 3); nothing when tls_cert_file is not set. */
int depot_tls_start(struct depot *d, const struct lws_protocols *protocols, char *err, size_t err_len);
/* From LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: versions, ciphers, certificate, key, client CAs
 * (api: the JSON API's listener, api_tls_*, no client certificates). */
int depot_tls_setup_ctx(struct depot *d, void *ssl_ctx, bool api);
/* Loads the TLS files of both listeners again; on an error the old ones stay in force. */
int depot_tls_reload(struct depot *d, char *err, size_t err_len);
/* Profile 3: 0 when wsi's client certificate chains to tls_ca_file and its subject CN is station; else -1, why. */
int depot_tls_check_client(struct lws *wsi, const char *station, char *why, size_t why_len);

/* server.c */
int depot_server_start(struct depot *d, char *err, size_t err_len);
/* loop.c: the lws context on its loop (libuv when the plugin loads, else poll()), and its end. */
int depot_loop_create(struct depot *d, struct lws_context_creation_info *info);
extern const lws_retry_bo_t depot_no_validity; /* every vhost's retry_and_idle_policy */
void depot_loop_destroy(struct depot *d);
/* Runs the loop until d->stop. */
void depot_server_run(struct depot *d);
/* One turn of it (serve what is ready, run posted work, flush commits); -1 when lws gave up. A test that
 * drives the loop itself (tests/store/fuzz_api.c) calls this. */
int depot_server_turn(struct depot *d);
void depot_server_stop(struct depot *d);
/* Any thread: wake the loop (the store writer calls it after each commit). */
void depot_wake_loop(void *depot);
/* Any thread: run fn(d, arg) on the loop thread at its next turn (workers hand results back this way).
 * Returns 0, or -1 if out of memory (fn is then not called). fn owns arg. */
int depot_post(struct depot *d, void (*fn)(struct depot *d, void *arg), void *arg);
/* The same without allocating: node (fn, arg, embedded set) is the caller's and must live until fn runs. */
void depot_post_node(struct depot *d, struct posted *node);
int depot_pw_start(struct depot *d, char *err, size_t err_len);
/* Stops the workers; jobs not started come back to the loop cancelled (run them with the posted work). */
void depot_pw_stop(struct depot *d);
void depot_pw_submit(struct depot *d, struct pw_job *job, void (*done)(struct depot *d, void *job));
/* durable.c: answers whose events are now settled go out; a closing connection's held answers are dropped. */
void depot_release_durable(struct depot *d);
/* Logs a crossing of the disk watermarks (store_set_watermarks) since the last call. */
void depot_log_disk(struct depot *d);
void depot_drop_held(struct conn *c);
/* inflow.c: after each whole frame a station sent, and after each answer written to it. */
void depot_inflow(struct depot *d, struct conn *c);
void depot_inflow_written(struct conn *c);
/* server.c: ask lws for a WRITEABLE on c (no-op once closed). */
void depot_want_write(struct conn *c);
/* Writes what is ready now when the socket takes it (else as depot_want_write): from the loop, never from inside
 * this connection's WRITEABLE callback. */
void depot_send_now(struct conn *c);
/* A connection becomes the station's live one (a previous one is closed), logged; then the station resumes. */
void depot_conn_attach(struct conn *c, struct station *st);
/* Closes c at its next WRITEABLE with a policy-violation close frame saying why (a static string). */
void depot_conn_close(struct conn *c, const char *why);
/* Send a CALL to a station (logged). Returns 0 or -1 with err. */
int depot_call(struct conn *c, const char *action, const cJSON *payload, char *err, size_t err_len);
/* The same, with a non-NULL `user` cookie: its answer, error or timeout goes to control_on_answer(). */
int depot_call_user(struct conn *c, const char *action, const cJSON *payload, void *user, char *err, size_t err_len);
/* Queue an answer held until `ticket` is durable (ticket 0: now). Takes the payload. */
void depot_hold_reply(struct conn *c, const char *id, const char *action, cJSON *payload, uint64_t ticket);
/* Run fn(d, arg, state) on the loop thread once `ticket` is settled: state STORE_DURABLE, or STORE_FAILED when its
 * batch could not be committed. For what must not leave before the log has it (write-ahead: control's station cap
 * raises). Entries not settled when the server stops are dropped without calling fn, so arg must need no freeing
 * (a cookie). Returns 0, or -1 if out of memory (fn is then not called). */
int depot_after_durable(struct depot *d, uint64_t ticket, void (*fn)(struct depot *d, void *arg, enum store_ticket_state state),
                        void *arg);
/* Append a frame event for this connection's station to the log; returns the batch ticket. */
uint64_t depot_log_frame(struct conn *c, const char *type, int msg_type, const char *action, const char *id,
                         const char *status, const char *text);

/* Append a non-frame event (connect, refused, registry...) for a station; json is the event's data. Returns the
 * batch ticket. */
uint64_t depot_log_station_event(struct depot *d, const char *type, const char *station, const char *json);

/* What the handshake filter let through, for LWS_CALLBACK_ESTABLISHED. */
struct door_pass {
    char station[CFG_STATION_ID_MAX + 2];
    struct pw_job *job;                  /* its password still to be checked (or hashed, to register it) */
};
/* handshake.c: checks an upgrade request (FILTER_PROTOCOL_CONNECTION): 0 (let in, maybe pending pass->job), or
 * -1 refused. */
int depot_handshake_filter(struct depot *d, struct lws *wsi, struct door_pass *pass);
/* Whether an auto-registration of id waits for the pool. */
bool depot_auth_registering(const struct depot *d, const char *id);
/* Hands c's pending password to the pool (c does not read until the verdict, depot_auth_done). */
void depot_auth_submit(struct depot *d, struct conn *c, struct pw_job *job);
/* c closed before its verdict: the job, when it comes back, is dropped. */
void depot_auth_forget(struct depot *d, struct conn *c);
/* HTTP_CONFIRM_UPGRADE: refuses upgrades that do not offer ocpp2.0.1 (returns 1 when it answered). */
int depot_handshake_confirm_upgrade(struct depot *d, struct lws *wsi, const void *in);
/* Answers a handshake with an HTTP status, logs and records why; returns -1 (close). */
int depot_refuse(struct depot *d, struct lws *wsi, unsigned int http_status, const char *station, const char *why);

/* handlers.c: the station's CALLs (ocpp_event type OCPP_EV_CALL). */
void depot_handle_call(struct conn *c, const struct ocpp_event *ev, uint64_t ticket);
/* After depotd answered a BootNotification or saw a new EVSE: read capabilities (GetVariables). */
void depot_after_reply(struct conn *c, const char *action, const cJSON *payload);
/* A new connection of a station whose registration stands (no BootNotification on it): restores the session's
 * boot state; when Accepted, re-reads what may have moved on and has control re-send its profiles. */
void depot_resume_station(struct conn *c);
/* Answers (results and errors) to the GetVariables depotd sent without a cookie. */
void depot_handle_result(struct conn *c, const struct ocpp_event *ev);
void depot_handle_call_error(struct conn *c, const struct ocpp_event *ev);

#endif
