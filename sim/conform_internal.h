/*
 * conform_internal.h - what the catalogue's scenario files share (conform.c, conform_basic.c, conform_ops.c,
 * conform_k.c): the verdict, the steps every scenario is written with, and the operator trigger.
 */
#ifndef SIM_CONFORM_INTERNAL_H
#define SIM_CONFORM_INTERNAL_H

#include "conform.h"

struct verdict {
    enum cf_verdict v;
    char why[512];
    char evidence[8192];
};

typedef void (*scenario_fn)(const struct cf_options *o, struct verdict *r, const void *arg);
struct cf_scenario {
    const char *name, *what;   /* name: the OCA test case id (TC_X_NN_CSMS), else the use case it checks */
    scenario_fn fn;
    const void *arg;
};
/* Each scenario file's part of the catalogue, in order. */
extern const struct cf_scenario cf_basic[], cf_ops[], cf_smart[];
extern const int cf_n_basic, cf_n_ops, cf_n_smart;

void cf_set(struct verdict *r, enum cf_verdict v, const cf_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
char *cf_now_text(char *buf, int64_t offset_ms);   /* RFC 3339, now + offset; buf of 32 */
const char *cf_str(const cJSON *o, const char *k); /* "" when absent */
/* Boot and expect `want`; the connection (caller closes) or NULL with r set. */
cf_conn *cf_boot(const char *id, const char *pw, const char *want, struct verdict *r);
/* A CALL (p freed) that must be answered with a CALLRESULT; 0, or -1 with r set. *out (optional) is the result. */
int cf_simple_call(cf_conn *c, const char *action, cJSON *p, struct verdict *r, cJSON **out);
cJSON *cf_status_payload(int evse, const char *status);
cJSON *cf_tx_payload(const char *type, const char *trigger, int seq, const char *txid, int64_t offset_ms, double wh,
                     bool offline, const char *token);
void cf_tx_id(char *buf, const char *tag);          /* buf of 40 */
int cf_send_tx(cf_conn *c, cJSON *p, struct verdict *r);

/* The operator's part of a test case: runs `--trigger PROGRAM` as PROGRAM TC STATION ACTION REQUEST_JSON (not
 * waited for: the scenario goes on answering the CSMS). False when no --trigger was given (an operator at the
 * CSMS's console may still do it while the scenario waits). */
bool cf_trigger(const struct cf_options *o, const char *tc, const char *action, const char *request);
/* The exit status of the trigger that ended last in this scenario (0: the CSMS took the request), -1: none yet. */
int cf_trigger_status(void);
/* Waits (pumping c) for the scenario's triggers to end, at most wait_s; kills what is left. */
void cf_trigger_reap(cf_conn *c, double wait_s);

/* ---- a test case the operator starts (conform_ops.c) ---- */
enum cf_setup { CF_IDLE, CF_CHARGING };    /* EVSE 1 Available, or a transaction charging on it */
struct cf_op;
/* What the station sends after answering the CSMS's CALL m (a reboot, a report, ...): 0, or -1 with r set. */
typedef int (*cf_follow_fn)(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                            struct verdict *r);
struct cf_op {
    const char *action;        /* the CALL the CSMS must send */
    const char *request;       /* what the operator asks for ($TX: the setup's transactionId) */
    const char *checks;        /* on the CALL, ';'-separated: "a.b.0.c=v" equal, "a!=v", "a" present, "!a" absent */
    const char *answer;        /* the station's answer (JSON, "!Code" a CALLERROR), NULL: the default */
    enum cf_setup setup;
    cf_follow_fn follow;       /* NULL: nothing */
    const char *then;          /* a second request (the same action) after the first is answered, or NULL */
    const char *then_checks;   /* what the second CALL must pass (NULL: checks) */
};
/* Follow-ups the smart charging cases share: ReportChargingProfiles of what GetChargingProfiles asked for, as the
 * CSO's TxDefaultProfile or as an EMS's ChargingStationExternalConstraints. */
int cf_follow_report_profiles(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                              struct verdict *r);
int cf_follow_report_external(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                              struct verdict *r);
int cf_follow_heartbeat(const struct cf_options *o, cf_conn **c, const struct cf_msg *m, const char *tx,
                        struct verdict *r);
/* Runs one: sets up, triggers, waits for a CALL that passes the checks (the CSMS may also send it by itself).
 * PASS when it came and the follow-up was answered; FAIL when the CALLs that came fail the checks or a follow-up
 * was refused; SKIP when nothing came and the CSMS refused the request (trigger exit != 0) or none was given. */
void cf_op_run(const struct cf_options *o, struct verdict *r, const void *op);

#endif
