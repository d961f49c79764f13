/*
 * api_internal.h - shared by the api*.c files only: the request being served, the route table's handler
 * type, the reader thread's jobs, and the helpers every handler uses to answer.
 *
 *   api.c          HTTP on lws: requests, bodies, the route table, auth, writing answers; start and stop
 *   api_reply.c    answers, problem+json, parked requests, query arguments and body members, audit events
 *   api_reader.c   the reader thread and its read-only SQLite connection (job queue, results via depot_post)
 *   api_read.c     GET stations and sessions (SQL on the reader thread)
 *   api_events.c   GET events (windowed scans of the log on the reader thread)
 *   api_ops.c      healthz, readyz, metrics, prices, the site limit
 *   api_vehicles.c vehicles and the dispatcher's departures (ETag, If-Match, fleet scope), answered from the
 *                  control loop's registry (control_query.c); a departure's answer waits for its plan
 *   api_plan.c     the plan in force (from the control loop) and the plan at a time (from the event log)
 *   api_cmd.c      station commands: CALLs with tagged cookies, Idempotency-Key, 504 on timeout
 *   api_web.c      the operator page's files (web.h) on paths no route has, and GET /me, the page's first call
 *
 * Threads: loop thread, except the api_job `run` functions, which run on the reader thread and may only touch
 * their job and the SQLite connection they are given.
 */
#ifndef DEPOTD_API_INTERNAL_H
#define DEPOTD_API_INTERNAL_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "api.h"
#include "control.h"
#include "depot.h"

#define API_PREFIX "/api/v1"
#define API_PAGE_DEFAULT 50
#define API_PAGE_MAX 500
#define API_PATH_MAX 512
#define API_PARAM_MAX 160         /* one path parameter (station id, session id, vehicle id) */
#define API_NAME_MAX 64           /* token names, fleets, vehicle ids */
#define API_VEHICLE_MAX 48

/* HEAD is answered with the headers GET would have and no body; only the page's files have it (api_web.c). */
enum api_method {
    API_GET = 1, API_PUT = 2, API_POST = 4, API_DELETE = 8, API_PATCH = 16, API_OTHER = 32, API_HEAD = 64
};
enum api_role { API_PUBLIC = 0, API_VIEWER, API_DISPATCHER, API_ADMIN };

struct api_token {
    char name[API_NAME_MAX + 1];
    unsigned char hash[32];       /* SHA-256 of the token */
    enum api_role role;
    char fleet[API_NAME_MAX + 1]; /* "": every fleet */
    bool manage_tokens;           /* may add and remove a vehicle's id tokens (who may charge): admins, and
                                   * dispatchers given it */
};

/* One HTTP transaction (lws per-session data; one per connection, serial tells a parked one from its successor). */
struct api_req {
    struct lws *wsi;
    uint64_t serial;              /* 0: idle */
    enum api_method method;
    char method_name[8];
    char path[API_PATH_MAX];
    char params[3][API_PARAM_MAX];
    const struct api_op *op;
    const struct api_token *token;
    long long content_length;     /* -1: not given */
    char *body;
    size_t body_len;
    bool body_overflow;
    /* the answer */
    int status;
    unsigned char *out;           /* LWS_PRE bytes of headroom, then out_len bytes */
    size_t out_len, out_off;
    const char *content_type;
    char allow[64];
    char etag[72];
    const char *cache_control;    /* NULL: "no-store", as every API answer (static string) */
    bool page;                    /* one of the page's files: the browser's security headers too (api_web.c) */
    cJSON *audit;                 /* extra members for this write's "api" event (owned) */
    int retry_after_s;
    bool www_authenticate;
    bool replayed;                /* an Idempotency-Key retry answered from the first result */
    bool dispatched, answered, headers_sent;
    bool waiting;                 /* in api->waiting until an async result comes */
    struct api_req *next_waiting;
    uint64_t hold_ticket;         /* a write's answer waits until its "api" event is durable */
    bool held;                    /* in api->held until then */
    struct api_req *next_held;
};

typedef void (*api_handler)(struct api *a, struct api_req *r, const cJSON *body);

struct api_op {
    enum api_method method;
    enum api_role role;
    bool body;                    /* takes a JSON body */
    bool write;                   /* recorded in the event log */
    api_handler fn;
};

struct api_cmd;                   /* api_cmd.c */
struct api_idem;                  /* api_cmd.c */
struct api_reader;                /* api_reader.c */
struct api_dep_wait;              /* api_vehicles.c */

struct api {
    struct depot *d;
    struct lws_vhost *vhost;
    int port;
    struct api_token *tokens;
    int n_tokens;
    struct api_dep_wait *dep_waits; /* departures waiting for the plan that includes them (api_vehicles.c) */
    lws_sorted_usec_list_t dep_timer;
    uint64_t next_serial;
    struct api_req *waiting;
    struct api_req *held;         /* answers of writes waiting for their event to commit */
    lws_sorted_usec_list_t hold_timer;
    struct api_reader *reader;
    /* commands (api_cmd.c) */
    struct api_cmd *cmds;
    struct api_idem *idem;
    int n_idem;
    uint64_t next_cmd;
    int remote_start_id;
    /* the temporary site limit the API set (the only writer of control's override) */
    /* readiness: the loop's own heartbeat and the API's last write to the event log */
    lws_sorted_usec_list_t tick;
    int64_t tick_due_mono, tick_last_mono, lag_ms, lag_max_ms;
    uint64_t last_write_ticket;
    /* plan metrics, counted as the plans come (api_count_plan) */
    uint64_t plan_hist[10], plan_count, plans_failed_seen;
    double plan_sum_s;
    bool last_plan_failed;
    /* metrics */
    uint64_t requests, by_status[6], auth_failures, reader_jobs, reader_refused, commands, command_timeouts;
};

/* ---- api_auth.c: the bearer tokens ---- */
/* api_tokens of the config into a->tokens; 0, or -1 with err saying which entry and why. */
int api_tokens_parse(struct api *a, const cJSON *arr, char *err, size_t err_len);
/* The token the request's Authorization header names, or NULL with *why saying what is wrong. */
const struct api_token *api_authenticate(struct api *a, struct api_req *r, const char **why);

/* ---- api.c: answering ---- */
/* Answers with a JSON document (takes j; NULL answers an empty body). */
void api_reply(struct api_req *r, int status, cJSON *j);
/* Answers with text of a content type (copies text). */
void api_reply_text(struct api_req *r, int status, const char *content_type, const char *text, size_t len);
/* application/problem+json: `field` (may be NULL) names the member at fault, detail says why. */
void api_problem(struct api_req *r, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parks the request until an async result (reader job, station answer) comes; returns its serial. */
uint64_t api_wait(struct api *a, struct api_req *r);
/* Takes a parked request off the list (its connection closed). */
void api_unwait(struct api *a, struct api_req *r);
/* The request still waiting under this serial, or NULL (the client went away); takes it off the list. */
struct api_req *api_resume(struct api *a, uint64_t serial);
/* Query argument `name` (url-decoded) into buf; false when absent. */
bool api_arg(struct api_req *r, const char *name, char *buf, size_t len);
/* An RFC 3339 time from the query; 0 absent, 1 parsed, -1 invalid (answered 400 already). */
int api_arg_time(struct api_req *r, const char *name, int64_t *ms);
/* limit=1..API_PAGE_MAX (default API_PAGE_DEFAULT); -1 when invalid (answered 400 already). */
int api_arg_limit(struct api_req *r);
/* A boolean query argument: 0 false, 1 true, 2 absent, -1 invalid (answered 400 already). */
int api_arg_bool(struct api_req *r, const char *name);
/* Appends an "api" event to the log: who wrote what, and how it was answered. The answer is held until the
 * event is durable, so a client that got its answer finds the write in the audit trail. */
void api_log_write(struct api *a, struct api_req *r, int status, const cJSON *extra);
/* cursor=<n> as given out in next_cursor; false when invalid (answered 400 already). */
bool api_arg_cursor(struct api_req *r, long long *out);
/* Body members: refuses members not in `allowed` (NULL-terminated), so a typo ("untill") is not silently
 * ignored; a required RFC 3339 time; an optional number in [lo, hi] (*out untouched when absent). Each
 * answers 422 itself and returns false. */
bool api_body_only(struct api_req *r, const cJSON *body, const char *const *allowed);
bool api_body_time(struct api_req *r, const cJSON *body, const char *name, int64_t *ms);
bool api_body_number(struct api_req *r, const cJSON *body, const char *name, double lo, double hi, double *out);
/* "2024-05-01T06:00:00.000Z" into a JSON object, or null when ms is 0. */
void api_add_time(cJSON *o, const char *name, int64_t ms);
/* next_cursor of a page keyed by a log sequence: the last one given when more may follow, else null. */
void api_add_cursor(cJSON *o, bool more, int64_t last);
const char *api_role_name(enum api_role role);

/* ---- api_ops.c: plan durations for /metrics (histogram bounds in seconds) ---- */
#define API_PLAN_BUCKETS 10
extern const double api_plan_bucket_s[API_PLAN_BUCKETS];
/* A plan came (solved or failed): count it. */
void api_count_plan(struct api *a);

/* ---- api_reader.c ---- */
struct api_job {
    uint64_t serial;              /* the request waiting for it */
    int (*run)(sqlite3 *db, struct api_job *job); /* reader thread: returns an HTTP status, fills out or detail */
    cJSON *in;                    /* parameters (owned) */
    int status;
    cJSON *out;                   /* the answer document (owned) */
    char field[48], detail[256];  /* the problem, when status >= 400 */
    struct api_job *next;
};
int api_reader_start(struct api *a, char *err, size_t err_len);
void api_reader_stop(struct api *a);
/* Hands a job to the reader and parks the request; answers 503 itself when the queue is full. Takes `in`. */
void api_reader_submit(struct api *a, struct api_req *r, int (*run)(sqlite3 *, struct api_job *), cJSON *in);
/* Reader thread helpers: the job's problem, its parameters, columns into JSON (NULL as null, ms as RFC 3339). */
int api_job_problem(struct api_job *job, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int api_db_error(struct api_job *job, sqlite3 *db);
const char *api_in_str(const struct api_job *job, const char *name);
double api_in_num(const struct api_job *job, const char *name, double def);
void api_col_str(cJSON *o, const char *name, sqlite3_stmt *s, int i);
void api_col_time(cJSON *o, const char *name, sqlite3_stmt *s, int i);
void api_col_num(cJSON *o, const char *name, sqlite3_stmt *s, int i, double scale);
/* A JSON text from the store as JSON, or as a string when it is not JSON (a refused frame is kept verbatim). */
cJSON *api_json_or_string(const char *text);

/* ---- api_variables.c: the station's device model ---- */
#define API_VARIABLE_COLUMNS \
    "component, component_instance, evse_id, variable, variable_instance, attribute_type, value, status, updated_ms"
/* One row of the device model (API_VARIABLE_COLUMNS from column i on) as its JSON. */
cJSON *api_variable_from_row(sqlite3_stmt *s, int i);

/* ---- handlers ---- */
void api_get_stations(struct api *a, struct api_req *r, const cJSON *body);
void api_get_station(struct api *a, struct api_req *r, const cJSON *body);
void api_get_station_variables(struct api *a, struct api_req *r, const cJSON *body);
void api_get_sessions(struct api *a, struct api_req *r, const cJSON *body);
void api_get_session(struct api *a, struct api_req *r, const cJSON *body);
void api_get_events(struct api *a, struct api_req *r, const cJSON *body);
void api_get_healthz(struct api *a, struct api_req *r, const cJSON *body);
void api_get_readyz(struct api *a, struct api_req *r, const cJSON *body);
void api_get_metrics(struct api *a, struct api_req *r, const cJSON *body);
void api_get_prices(struct api *a, struct api_req *r, const cJSON *body);
void api_get_site_limit(struct api *a, struct api_req *r, const cJSON *body);
void api_get_site(struct api *a, struct api_req *r, const cJSON *body);
#define LIMIT_MAX_AHEAD_MS (7LL * 86400 * 1000) /* a curtailment lasts hours, not weeks */
/* A temporary limit's `until` from the body: false (answered 422) unless in the future and at most 7 days ahead. */
bool api_body_until(struct api_req *r, const cJSON *body, const char *standing, int64_t *until);
/* api_circuits.c: the feeder tree (control.circuits) and its temporary limits */
void api_get_circuits(struct api *a, struct api_req *r, const cJSON *body);
void api_put_circuit_limit(struct api *a, struct api_req *r, const cJSON *body);
void api_delete_circuit_limit(struct api *a, struct api_req *r, const cJSON *body);
void api_put_site_limit(struct api *a, struct api_req *r, const cJSON *body);
void api_delete_site_limit(struct api *a, struct api_req *r, const cJSON *body);
void api_get_vehicles(struct api *a, struct api_req *r, const cJSON *body);
void api_get_vehicle(struct api *a, struct api_req *r, const cJSON *body);
void api_post_vehicle(struct api *a, struct api_req *r, const cJSON *body);
void api_put_vehicle(struct api *a, struct api_req *r, const cJSON *body);
void api_delete_vehicle(struct api *a, struct api_req *r, const cJSON *body);
void api_get_plan(struct api *a, struct api_req *r, const cJSON *body);
void api_get_departure(struct api *a, struct api_req *r, const cJSON *body);
void api_put_departure(struct api *a, struct api_req *r, const cJSON *body);
void api_delete_departure(struct api *a, struct api_req *r, const cJSON *body);
void api_post_command(struct api *a, struct api_req *r, const cJSON *body);
/* api_password.c (A01): a station's new Basic auth password; the station's answer; forget waiting rotations. */
void api_post_password(struct api *a, struct api_req *r, const cJSON *body);
void api_password_on_answer(struct depot *d, const struct ocpp_event *ev);
void api_password_stop(struct api *a);

/* api_vehicles.c: listens for plans (departure answers); stop answers the waiting ones and forgets them. */
void api_vehicles_start(struct api *a);
void api_vehicles_stop(struct api *a);
/* {"<id token>": "<vehicle>"} as sessions are matched now (a copy a reader job may own). */
cJSON *api_token_vehicles(struct api *a);
/* Shared by api_vehicles.c and api_departures.c: a strong ETag of text; the vehicle of the path or a 404 (for
 * reads also when it is another fleet's: api_vehicle_visible); If-Match against the tag the thing has now (412,
 * 428 answered here); a departure's document and tag. */
void api_etag_of(const char *text, size_t n, char *out, size_t len);
bool api_vehicle_or_404(struct api *a, struct api_req *r, struct control_vehicle *v);
bool api_vehicle_visible(struct api *a, struct api_req *r, struct control_vehicle *v);
bool api_if_match(struct api_req *r, bool exists, const char *have, const char *what, const char *id);
void api_need_etag(const char *vehicle, bool has, const struct control_need *n, char *out, size_t len);
cJSON *api_departure_doc(const char *vehicle, const struct control_need *n, const char *who, int64_t set_ms);
/* Fleet scope of a read: a token with a fleet reads only that fleet's vehicles and what they did. NULL when the
 * token sees every fleet; else a JSON array of its fleet's vehicle ids (tokens: their id tokens). */
cJSON *api_fleet_scope(struct api *a, const struct api_req *r, bool tokens);
/* Keeps a plan document to the vehicles listed (api_plan.c): their EVSE rows and risks, no inputs. */
void api_plan_scope(cJSON *plan, const cJSON *vehicles);
/* api_web.c: answers a request no route matched when its path is one of the page's files (true), else leaves it
 * unanswered (false: the caller's 404). The headers every page answer adds (false when they do not fit). */
bool api_web_answer(struct api_req *r);
bool api_web_headers(struct lws *wsi, unsigned char **p, unsigned char *end);
void api_get_me(struct api *a, struct api_req *r, const cJSON *body);
/* api_cmd.c; restore: the Idempotency-Keys of the retention window from the event log (at start). */
void api_cmd_free(struct api *a);
int api_cmd_restore(struct api *a, char *err, size_t err_len);

#endif
