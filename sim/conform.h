/*
 * conform.h - `depotsim conform`: a catalogue of checks against any OCPP 2.0.1 CSMS.
 *
 * Scenarios are written as straight-line scripts on a synchronous driver (conform_ws.c): each step runs the
 * libwebsockets loop until the frame it waits for arrives or its deadline passes, so a scenario reads like
 * the spec's sequence diagram. The station side is an ocpp_session in the station role with outgoing
 * validation on: every frame the CSMS sends is checked against the official schemas, and a CSMS CALL that
 * is invalid is a failure with the frame as evidence.
 *
 * Thread: one thread. Every wait is bounded (--wait seconds).
 */
#ifndef SIM_CONFORM_H
#define SIM_CONFORM_H

#include "wsauth.h"

#include <ocpp.h>
#include <stdbool.h>
#include <stdint.h>

struct cf_options {
    char host[128];
    int port;
    char path[256];
    struct sim_tls tls;                    /* wss:// */
    char id[64], password[64];             /* a station the CSMS accepts */
    char pending_id[64], pending_password[64];
    char rejected_id[64], rejected_password[64];
    char id_token[40];
    double wait_s;                         /* how long to wait for something the CSMS may or may not send */
    int periods_per_schedule;              /* what this station declares in SmartChargingCtrlr */
    bool rate_unit_w;                      /* declares RateUnit "W" (default "A") */
    const char *only;                      /* run only scenarios whose name contains this */
    const char *json_path, *junit_path;    /* reports to write (NULL: none) */
    const char *trigger;                   /* the operator's program (conform_internal.h cf_trigger), or NULL */
};

enum cf_verdict { CF_PASS, CF_FAIL, CF_SKIP };
const char *cf_verdict_name(enum cf_verdict v);    /* "PASS", "FAIL", "SKIP" */

/* One scenario's outcome, for the reports (conform_report.c). */
struct cf_result {
    const char *name, *what;
    enum cf_verdict v;
    char why[512];
    char evidence[8192];
    double seconds;
};
/* The catalogue's results as JSON ({"scenarios": [...], "passed", "failed", "skipped"}) and as JUnit XML. 0, or -1
 * with err. */
int cf_report_json(const char *path, const struct cf_result *r, int n, char *err, size_t err_len);
int cf_report_junit(const char *path, const struct cf_result *r, int n, char *err, size_t err_len);
/* One result as the table's line (and a FAIL's frames) on stdout. */
void cf_result_print(const struct cf_result *x);
/* Both reports where asked for (NULL: not): 0, or -1 having said why on stderr as `who`. */
int cf_reports_write(const char *json_path, const char *junit_path, const struct cf_result *r, int n, const char *who);

/* ---- the synchronous driver (conform_ws.c) ---- */
typedef struct cf_conn cf_conn;

enum cf_answer_mode { CF_ANSWER, CF_ANSWER_ERROR, CF_ANSWER_NEVER };

struct cf_msg {                 /* one CSMS CALL received, kept for the scenario */
    char id[OCPP_MSG_ID_MAX + 1];
    char action[OCPP_ACTION_MAX + 1];
    cJSON *payload;
    int64_t at_ms;
    bool answered;
    bool taken;                 /* a scenario has looked at it already */
};

int cf_init(const struct cf_options *o, char *err, size_t err_len);
void cf_shutdown(void);
/* Connects as station id; NULL on refusal or timeout (http status in *status when known). */
cf_conn *cf_open(const char *id, const char *password, int *status);
void cf_close(cf_conn *c);
bool cf_connected(const cf_conn *c);
void cf_set_answer_mode(cf_conn *c, enum cf_answer_mode m);
/* Sends a CALL and waits for its answer. 0: CALLRESULT (*result owned by caller), 1: CALLERROR
 * (*code set), -1: timeout/closed/invalid (the reason in the evidence). */
int cf_call(cf_conn *c, const char *action, const cJSON *payload, cJSON **result, enum ocpp_error *code);
/* Sends raw text (for malformed frames) and waits for the next frame back that is not a CSMS CALL; returns it
 * (caller frees) or NULL. */
char *cf_raw(cf_conn *c, const char *text, double wait_s);
/* Waits up to wait_s for a CSMS CALL of action (NULL: any) not yet taken, and takes it; NULL on timeout. Borrowed. */
struct cf_msg *cf_wait_call(cf_conn *c, const char *action, double wait_s);
/* The first CALL of action not yet taken for which match (NULL: any) is true, taken; NULL when none came yet. */
struct cf_msg *cf_find_call(cf_conn *c, const char *action, bool (*match)(const cJSON *payload, const void *arg),
                            const void *arg);
/* How the station answers the CSMS's CALLs of action for which match (NULL: any) is true, from now on: a JSON
 * payload text (kept by the caller), "!<ErrorCode>" for a CALLERROR ("!NotSupported"), or NULL for the default. */
void cf_answer_with(cf_conn *c, const char *action, const char *answer,
                    bool (*match)(const cJSON *payload, const void *arg), const void *arg);
void cf_reply(cf_conn *c, struct cf_msg *m, cJSON *payload); /* payload freed */
/* Runs the loop for s seconds (answers CSMS CALLs per the mode meanwhile). */
void cf_pump(cf_conn *c, double s);
int cf_protocol_faults(const cf_conn *c);   /* invalid frames the CSMS sent */
/* The last frames both ways, for the evidence of a failure. */
void cf_evidence(const cf_conn *c, char *buf, size_t len);
/* What this station declared and what the CSMS sent it (smart charging). */
struct cf_sc_seen {
    int set_profiles, set_profiles_bad, clears, composites;
    char bad_reason[256];
};
const struct cf_sc_seen *cf_sc(const cf_conn *c);

int sim_conform_run(const struct cf_options *o);

#endif
