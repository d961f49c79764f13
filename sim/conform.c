/*
 * The conformance catalogue: the steps scenarios share, the operator trigger, and the run. Names: a scenario that
 * follows an OCA OCPP 2.0.1 CSMS test case carries its id (TC_K_03_CSMS), written from the test case's purpose,
 * steps and tool validations as the station side can check them (a step only the CSMS's operator can see, such
 * as what a console shows, is said in the scenario); the others carry the Part 2 use case they check (E12, G02)
 * or RPC for the OCPP-J framework. Every scenario returns PASS, FAIL (with the frames as evidence) or SKIP with
 * the reason: something the CSMS does not do, refuses, or an option not given, is never a PASS.
 */
#include "conform_internal.h"

#include "simtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void cf_set(struct verdict *r, enum cf_verdict v, const cf_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->v = v;
    if (v == CF_FAIL && c)
        cf_evidence(c, r->evidence, sizeof r->evidence);
}

char *cf_now_text(char *buf, int64_t offset_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return sim_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms, buf);
}

static cJSON *boot_payload(void)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "reason", "PowerUp");
    cJSON *cs = cJSON_AddObjectToObject(p, "chargingStation");
    cJSON_AddStringToObject(cs, "model", "conform");
    cJSON_AddStringToObject(cs, "vendorName", "depotsim");
    return p;
}

const char *cf_str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

/* Boot and expect `want`; returns the connection (caller closes) or NULL with r set. */
cf_conn *cf_boot(const char *id, const char *pw, const char *want, struct verdict *r)
{
    int status = 0;
    cf_conn *c = cf_open(id, pw, &status);
    if (!cf_connected(c)) {
        cf_set(r, CF_FAIL, c, "%s: websocket not opened (HTTP %d)", id, status);
        cf_close(c);
        return NULL;
    }
    cJSON *p = boot_payload(), *res = NULL;
    enum ocpp_error code = OCPP_OK;
    int rc = cf_call(c, "BootNotification", p, &res, &code);
    cJSON_Delete(p);
    if (rc != 0) {
        cf_set(r, CF_FAIL, c, "BootNotification: %s", rc > 0 ? ocpp_error_name(code) : "no valid answer");
    } else if (strcmp(cf_str(res, "status"), want) != 0) {
        cf_set(r, CF_FAIL, c, "BootNotification status %s, expected %s", cf_str(res, "status"), want);
    } else {
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(res, "interval");
        int64_t t;
        if (!cJSON_IsNumber(iv) || iv->valueint < 0 || (strcmp(want, "Accepted") != 0 && iv->valueint <= 0))
            cf_set(r, CF_FAIL, c, "BootNotification interval missing or unusable for %s", want);
        else if (ocpp_time_parse(cf_str(res, "currentTime"), &t) != 0)
            cf_set(r, CF_FAIL, c, "currentTime is not RFC 3339");
        else {
            cJSON_Delete(res);
            return c;
        }
    }
    cJSON_Delete(res);
    cf_close(c);
    return NULL;
}

int cf_simple_call(cf_conn *c, const char *action, cJSON *p, struct verdict *r, cJSON **out)
{
    enum ocpp_error code = OCPP_OK;
    cJSON *res = NULL;
    int rc = cf_call(c, action, p, &res, &code);
    cJSON_Delete(p);
    if (rc != 0) {
        cf_set(r, CF_FAIL, c, "%s: %s", action, rc > 0 ? ocpp_error_name(code) : "no valid answer in time");
        cJSON_Delete(res);
        return -1;
    }
    if (out)
        *out = res;
    else
        cJSON_Delete(res);
    return 0;
}

cJSON *cf_status_payload(int evse, const char *status)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "timestamp", cf_now_text(tb, 0));
    cJSON_AddStringToObject(p, "connectorStatus", status);
    cJSON_AddNumberToObject(p, "evseId", evse);
    cJSON_AddNumberToObject(p, "connectorId", 1);
    return p;
}

cJSON *cf_tx_payload(const char *type, const char *trigger, int seq, const char *txid, int64_t offset_ms,
                         double wh, bool offline, const char *token)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "eventType", type);
    cJSON_AddStringToObject(p, "timestamp", cf_now_text(tb, offset_ms));
    cJSON_AddStringToObject(p, "triggerReason", trigger);
    cJSON_AddNumberToObject(p, "seqNo", seq);
    if (offline)
        cJSON_AddBoolToObject(p, "offline", true);
    cJSON *ti = cJSON_AddObjectToObject(p, "transactionInfo");
    cJSON_AddStringToObject(ti, "transactionId", txid);
    if (strcmp(type, "Ended") == 0)
        cJSON_AddStringToObject(ti, "stoppedReason", "EVDisconnected");
    cJSON *ev = cJSON_AddObjectToObject(p, "evse");
    cJSON_AddNumberToObject(ev, "id", 1);
    cJSON_AddNumberToObject(ev, "connectorId", 1);
    if (token) {
        cJSON *t = cJSON_AddObjectToObject(p, "idToken");
        cJSON_AddStringToObject(t, "idToken", token);
        cJSON_AddStringToObject(t, "type", "ISO14443");
    }
    cJSON *mv = cJSON_AddArrayToObject(p, "meterValue"), *m = cJSON_CreateObject();
    cJSON_AddItemToArray(mv, m);
    cJSON_AddStringToObject(m, "timestamp", tb);
    cJSON *sv = cJSON_AddArrayToObject(m, "sampledValue"), *s = cJSON_CreateObject();
    cJSON_AddItemToArray(sv, s);
    cJSON_AddNumberToObject(s, "value", wh);
    cJSON_AddStringToObject(s, "measurand", "Energy.Active.Import.Register");
    return p;
}

void cf_tx_id(char *buf, const char *tag)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, 36, "cf-%s-%lld", tag, (long long)ts.tv_sec % 100000000);
}

int cf_send_tx(cf_conn *c, cJSON *p, struct verdict *r)
{
    return cf_simple_call(c, "TransactionEvent", p, r, NULL);
}

/* ---- the operator's trigger ---------------------------------------------------------------------------------- */

#define CF_TRIGGERS 8
static pid_t g_triggers[CF_TRIGGERS];
static const char *g_tc;                /* the scenario running */
static int g_last = -1;                 /* the exit status of the trigger that ended last */

bool cf_trigger(const struct cf_options *o, const char *tc, const char *action, const char *request)
{
    if (!o->trigger)
        return false;
    int k = 0;
    while (k < CF_TRIGGERS && g_triggers[k])
        k++;
    if (k == CF_TRIGGERS)
        return false;
    char *argv[] = {(char *)o->trigger, (char *)(tc ? tc : g_tc), (char *)o->id, (char *)action, (char *)request, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 2, 1); /* its words go to stderr: stdout is the verdict table */
    pid_t pid;
    int rc = posix_spawnp(&pid, o->trigger, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "depotsim conform: cannot run the trigger %s\n", o->trigger);
        return true; /* asked for, and failed: the scenario's wait says what did not come */
    }
    g_triggers[k] = pid;
    g_last = -1;
    return true;
}

/* The exit status of the scenario's trigger that ended last, -1 while none has; reaps what ended. */
int cf_trigger_status(void)
{
    for (int k = 0; k < CF_TRIGGERS; k++) {
        int st;
        if (g_triggers[k] && waitpid(g_triggers[k], &st, WNOHANG) == g_triggers[k]) {
            g_triggers[k] = 0;
            g_last = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
        }
    }
    return g_last;
}

static bool triggers_running(void)
{
    cf_trigger_status();
    for (int k = 0; k < CF_TRIGGERS; k++)
        if (g_triggers[k])
            return true;
    return false;
}

void cf_trigger_reap(cf_conn *c, double wait_s)
{
    for (double t = 0; triggers_running() && t < wait_s; t += 0.05)
        cf_pump(c, 0.05);
    for (int k = 0; k < CF_TRIGGERS; k++)
        if (g_triggers[k]) {
            kill(g_triggers[k], SIGKILL);
            waitpid(g_triggers[k], NULL, 0);
            g_triggers[k] = 0;
        }
}

/* ---- the run --------------------------------------------------------------------------------------------------- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct {
    const struct cf_scenario *list;
    const int *n;
} parts[] = {{cf_basic, &cf_n_basic}, {cf_ops, &cf_n_ops}, {cf_smart, &cf_n_smart}};

static void run_one(const struct cf_options *o, const struct cf_scenario *s, struct cf_result *x)
{
    static struct verdict r;
    memset(&r, 0, sizeof r);
    g_tc = s->name;
    double t0 = mono_s();
    s->fn(o, &r, s->arg);
    cf_trigger_reap(NULL, 0);
    *x = (struct cf_result){.name = s->name, .what = s->what, .v = r.v, .seconds = mono_s() - t0};
    snprintf(x->why, sizeof x->why, "%s", r.why);
    if (r.v == CF_FAIL)
        snprintf(x->evidence, sizeof x->evidence, "%s", r.evidence);
    cf_result_print(x);
}

int sim_conform_run(const struct cf_options *o)
{
    char err[256];
    if (cf_init(o, err, sizeof err) != 0) {
        fprintf(stderr, "depotsim conform: %s\n", err);
        return 2;
    }
    int total = 0;
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
        total += *parts[p].n;
    struct cf_result *results = calloc((size_t)total, sizeof *results);
    if (!results) {
        cf_shutdown();
        return 2;
    }
    int n = 0, count[3] = {0};
    printf("%-24s %-5s %s\n", "scenario", "", "result");
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
        for (int i = 0; i < *parts[p].n; i++) {
            if (o->only && !strstr(parts[p].list[i].name, o->only))
                continue;
            run_one(o, &parts[p].list[i], &results[n]);
            count[results[n++].v]++;
        }
    printf("%d passed, %d failed, %d skipped\n", count[CF_PASS], count[CF_FAIL], count[CF_SKIP]);
    cf_shutdown();
    int rc = count[CF_FAIL] ? 1 : 0;
    if (cf_reports_write(o->json_path, o->junit_path, results, n, "depotsim conform"))
        rc = 2;
    free(results);
    return rc;
}
