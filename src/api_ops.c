/*
 * api_ops.c - the operator's routes answered from the loop's memory: /healthz, /readyz, /metrics, prices and
 * the site limit. Thread: the loop thread only (the store read of /readyz runs on the reader thread).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api_internal.h"
#include "control.h"
#include "prices.h"
#include "site_load.h"

#ifndef DEPOTD_VERSION
#define DEPOTD_VERSION "dev"
#endif


#define READY_LAG_MS 2000
#define READY_FREE_BYTES (16LL << 20)

/* ---- health ----------------------------------------------------------------------------------------- */

void api_get_healthz(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    (void)a;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "version", DEPOTD_VERSION);
    api_reply(r, 200, o);
}

/* Reader thread: the store answers a read, and the loop-side checks decide the status. */
static int run_ready(sqlite3 *db, struct api_job *job)
{
    cJSON *checks = cJSON_GetObjectItemCaseSensitive(job->in, "checks");
    cJSON *c = cJSON_CreateObject();
    sqlite3_stmt *s = NULL;
    bool ok = sqlite3_prepare_v2(db, "SELECT max(seq) FROM events", -1, &s, NULL) == SQLITE_OK &&
              sqlite3_step(s) == SQLITE_ROW;
    cJSON_AddBoolToObject(c, "ok", ok);
    if (ok) cJSON_AddNumberToObject(c, "last_seq", (double)sqlite3_column_int64(s, 0));
    else cJSON_AddStringToObject(c, "detail", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    cJSON_AddItemToObject(checks, "store_read", c);
    bool all = true;
    cJSON *it;
    cJSON_ArrayForEach(it, checks) all = all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "ok"));
    job->out = cJSON_CreateObject();
    cJSON_AddStringToObject(job->out, "status", all ? "ready" : "not_ready");
    cJSON_AddItemToObject(job->out, "checks", cJSON_DetachItemFromObjectCaseSensitive(job->in, "checks"));
    return all ? 200 : 503;
}

static cJSON *check(cJSON *checks, const char *name, bool ok, const char *detail)
{
    cJSON *c = cJSON_AddObjectToObject(checks, name);
    cJSON_AddBoolToObject(c, "ok", ok);
    if (detail) cJSON_AddStringToObject(c, "detail", detail);
    return c;
}

void api_get_readyz(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct depot *d = a->d;
    cJSON *in = cJSON_CreateObject(), *checks = cJSON_AddObjectToObject(in, "checks");
    /* The loop: its 1 s heartbeat timer came on time (a stalled loop would not answer at all; a slow one shows
     * here). */
    int64_t since_tick = depot_mono_ms() - a->tick_last_mono;
    bool loop_ok = a->lag_ms < READY_LAG_MS && since_tick < 1000 + READY_LAG_MS;
    cJSON *c = check(checks, "loop", loop_ok, loop_ok ? NULL : "the event loop is running late");
    cJSON_AddNumberToObject(c, "lag_ms", (double)a->lag_ms);
    /* The store: the database and its directory writable (WAL, journal) on a file system mounted read-write
     * (access() says yes to root whatever the modes: the mount flag and the commits are what tell then), room
     * on the disk, and the writer's last commit of the event log (any event, not only the API's) not failed. */
    char dir[520];
    snprintf(dir, sizeof dir, "%s", d->cfg.database);
    char *slash = strrchr(dir, '/');
    if (slash) *(slash == dir ? slash + 1 : slash) = 0;
    else snprintf(dir, sizeof dir, ".");
    struct statvfs vfs;
    bool have_vfs = statvfs(dir, &vfs) == 0;
    bool read_only_fs = have_vfs && (vfs.f_flag & ST_RDONLY);
    bool writable = access(d->cfg.database, W_OK) == 0 && access(dir, W_OK) == 0 && !read_only_fs;
    check(checks, "store_writable", writable,
          writable ? NULL : read_only_fs ? "the file system of the database is mounted read-only"
                                         : "the database or its directory is not writable");
    long long free_bytes = have_vfs ? (long long)vfs.f_bavail * (long long)vfs.f_frsize : -1;
    bool disk_ok = free_bytes >= READY_FREE_BYTES;
    struct store_disk_state ds;
    store_disk(d->store, &ds);
    /* Below the watermarks depotd still serves (ready), and says so. */
    c = check(checks, "disk", disk_ok,
              !disk_ok  ? "less than 16 MiB free"
              : ds.lean ? "below disk_min_free_mb: Heartbeat, MeterValues and periodic TransactionEvent frames are not written"
              : ds.low  ? "below disk_warn_free_mb"
                        : NULL);
    cJSON_AddNumberToObject(c, "free_bytes", (double)free_bytes);
    struct store_health h;
    store_health(d->store, &h);
    bool commit_ok = h.last_commit_ok;
    char detail[300];
    /* Public: no SQLite text here (it names files and tables); depotd's log has it. */
    snprintf(detail, sizeof detail, "the last commit to the event log failed (the error is in depotd's log)");
    c = check(checks, "store_commit", commit_ok, commit_ok ? NULL : detail);
    cJSON_AddNumberToObject(c, "commits_failed", h.commits_failed);
    api_reader_submit(a, r, run_ready, in);
}

/* ---- metrics ---------------------------------------------------------------------------------------- */

static void metric(FILE *f, const char *name, const char *type, const char *help, double v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

/* A feed's breaker (1 for the state it is in), fetches, failures and last success, as depotd_<name>_...: prices
 * and the building's load the same way. */
static void feed_metrics(FILE *f, const char *name, const char *what, const struct feed_status *st)
{
    fprintf(f, "# HELP depotd_%s_breaker_state Circuit breaker of %s (1 for the state it is in).\n"
               "# TYPE depotd_%s_breaker_state gauge\n", name, what, name);
    static const char *const states[] = {"closed", "open", "half_open", "none"};
    const char *now = st->breaker ? st->breaker : "none";
    for (int i = 0; i < 4; i++)
        fprintf(f, "depotd_%s_breaker_state{provider=\"%s\",state=\"%s\"} %d\n", name,
                st->provider[0] ? st->provider : "none", states[i], strcmp(now, states[i]) == 0);
    char key[96], help[160];
    snprintf(key, sizeof key, "depotd_%s_fetches_total", name);
    snprintf(help, sizeof help, "Fetches from %s.", what);
    metric(f, key, "counter", help, (double)st->fetches);
    snprintf(key, sizeof key, "depotd_%s_fetch_failures_total", name);
    snprintf(help, sizeof help, "Fetches from %s that failed.", what);
    metric(f, key, "counter", help, (double)st->failures);
    snprintf(key, sizeof key, "depotd_%s_last_success_timestamp_seconds", name);
    snprintf(help, sizeof help, "When %s last answered (0: never).", what);
    metric(f, key, "gauge", help, (double)st->last_success_ms / 1000.0);
}

/* A Prometheus label value: station-chosen text (an unknown action) must not break the exposition format. */
static void label_value(char *out, size_t len, const char *in)
{
    size_t o = 0;
    for (; *in && o + 1 < len; in++) {
        unsigned char ch = (unsigned char)*in;
        out[o++] = ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x7f ? '_' : (char)ch;
    }
    out[o] = 0;
}

const double api_plan_bucket_s[API_PLAN_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

void api_count_plan(struct api *a)
{
    struct control_stats cs;
    control_stats(a->d, &cs);
    a->last_plan_failed = cs.plans_failed > a->plans_failed_seen;
    a->plans_failed_seen = cs.plans_failed;
    if (a->last_plan_failed) return;
    double s = cs.last_solve_ms / 1000.0;
    a->plan_count++;
    a->plan_sum_s += s;
    for (int i = 0; i < API_PLAN_BUCKETS; i++)
        if (s <= api_plan_bucket_s[i]) {
            a->plan_hist[i]++;
            break;
        }
}

/* Each station's measured clock offset, and how many are beyond clock_skew_tolerance_s (stations.c). */
static void station_clocks(FILE *f, const struct depot *d)
{
    int beyond = 0;
    fprintf(f, "# HELP depotd_station_clock_offset_seconds A station's clock minus depotd's, from its message "
               "timestamps (stations measured so far).\n# TYPE depotd_station_clock_offset_seconds gauge\n");
    for (size_t b = 0; d->buckets && b < d->n_buckets; b++)
        for (const struct station *st = d->buckets[b]; st; st = st->next) {
            if (!st->clock.known) continue;
            char id[2 * CFG_STATION_ID_MAX + 2];
            label_value(id, sizeof id, st->id);
            fprintf(f, "depotd_station_clock_offset_seconds{station=\"%s\"} %.3f\n", id, st->clock.offset_ms / 1000.0);
            beyond += st->clock_warned;
        }
    metric(f, "depotd_stations_clock_beyond_tolerance", "gauge",
           "Stations whose clock is further from depotd's than clock_skew_tolerance_s.", (double)beyond);
}

void api_get_metrics(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct depot *d = a->d;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    const struct depot_counters *k = &d->counters;
    metric(f, "depotd_stations_known", "gauge", "Stations in the registry (config and auto-registered).",
           (double)d->n_stations);
    metric(f, "depotd_stations_connected", "gauge", "Stations connected now.", (double)d->n_connected);
    station_clocks(f, d);
    metric(f, "depotd_connections_total", "counter", "Websocket connections accepted.", (double)k->connections);
    metric(f, "depotd_connections_refused_total", "counter", "Websocket handshakes refused.", (double)k->refused);
    metric(f, "depotd_stations_throttled_total", "counter",
           "Times a station was not read for a while (max_messages_per_s, max_unanswered).", (double)k->throttled);
    metric(f, "depotd_ocpp_frames_in_total", "counter", "OCPP-J frames received.", (double)k->frames_in);
    metric(f, "depotd_ocpp_frames_out_total", "counter", "OCPP-J frames sent.", (double)k->frames_out);
    metric(f, "depotd_ocpp_calls_sent_total", "counter", "CALLs depotd sent to stations.", (double)k->calls_out);
    metric(f, "depotd_ocpp_callerrors_sent_total", "counter", "CALLERRORs depotd sent to stations.",
           (double)k->callerrors_out);
    metric(f, "depotd_ocpp_call_timeouts_total", "counter", "CALLs a station did not answer in call_timeout_s.",
           (double)k->timeouts);
    fprintf(f, "# HELP depotd_ocpp_messages_total OCPP-J frames by direction, message type, action and status (ok, or "
               "the error code a CALLERROR carried or a refused frame got).\n# TYPE depotd_ocpp_messages_total counter\n");
    static const char *const types[] = {"invalid", "", "call", "callresult", "callerror"};
    for (int i = 0; i < k->n_frames; i++) {
        const struct depot_frame_count *fc = &k->frames[i];
        char act[sizeof fc->action], st[sizeof fc->status];
        label_value(act, sizeof act, fc->action);
        label_value(st, sizeof st, fc->status);
        fprintf(f, "depotd_ocpp_messages_total{direction=\"%s\",type=\"%s\",action=\"%s\",status=\"%s\"} %llu\n",
                fc->out ? "out" : "in", fc->msg_type >= 2 && fc->msg_type <= 4 ? types[fc->msg_type] : types[0], act, st,
                (unsigned long long)fc->n);
    }

    struct control_stats cs;
    control_stats(d, &cs);
    metric(f, "depotd_plans_total", "counter", "Charging plans solved.", (double)cs.plans);
    metric(f, "depotd_plans_failed_total", "counter", "Plans that failed (the fallback plan was used).",
           (double)cs.plans_failed);
    metric(f, "depotd_plan_solve_seconds", "gauge", "Duration of the last solve.", cs.last_solve_ms / 1000.0);
    metric(f, "depotd_departure_hedge_percent", "gauge",
           "Plans are done this share of a stay before the told departure (configured, or learned from ended sessions).",
           cs.departure_hedge_pct);
    fprintf(f, "# HELP depotd_plan_duration_seconds Solve time of each plan since the API started.\n"
               "# TYPE depotd_plan_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < API_PLAN_BUCKETS; i++) {
        cum += a->plan_hist[i];
        fprintf(f, "depotd_plan_duration_seconds_bucket{le=\"%g\"} %llu\n", api_plan_bucket_s[i], (unsigned long long)cum);
    }
    fprintf(f, "depotd_plan_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)a->plan_count);
    fprintf(f, "depotd_plan_duration_seconds_sum %.17g\ndepotd_plan_duration_seconds_count %llu\n", a->plan_sum_s,
            (unsigned long long)a->plan_count);
    fprintf(f, "# HELP depotd_plan_solver_status The last plan's solver method and outcome (1 for the one it had).\n"
               "# TYPE depotd_plan_solver_status gauge\n");
    if (a->plan_count || a->plans_failed_seen)
        fprintf(f, "depotd_plan_solver_status{method=\"%s\",status=\"%s\"} 1\n",
                a->last_plan_failed ? "none" : cs.last_method ? cs.last_method : "none",
                a->last_plan_failed ? "failed" : "solved");
    fprintf(f, "# HELP depotd_charging_profiles_total SetChargingProfile calls by result.\n"
               "# TYPE depotd_charging_profiles_total counter\n"
               "depotd_charging_profiles_total{result=\"sent\"} %llu\n"
               "depotd_charging_profiles_total{result=\"accepted\"} %llu\n"
               "depotd_charging_profiles_total{result=\"rejected\"} %llu\n"
               "depotd_charging_profiles_total{result=\"failed\"} %llu\n",
            (unsigned long long)cs.profiles_sent, (unsigned long long)cs.profiles_accepted,
            (unsigned long long)cs.profiles_rejected, (unsigned long long)cs.profiles_failed);
    metric(f, "depotd_compensations_total", "counter", "EVSEs planned around at their fail-safe limit.",
           (double)cs.compensations);
    metric(f, "depotd_noncompliant_total", "counter", "EVSEs found drawing above their limit.", (double)cs.noncompliant);
    metric(f, "depotd_sessions", "gauge", "Charging sessions the control loop follows.", cs.sessions);
    metric(f, "depotd_sessions_at_risk", "gauge", "Sessions planned to miss their departure need.", cs.sessions_at_risk);
    metric(f, "depotd_site_limit_kw", "gauge", "Site limit in force (kW).", cs.site_limit_kw);
    metric(f, "depotd_site_planned_kw", "gauge", "Site power the plan in force draws now (kW).", cs.planned_site_kw);
    metric(f, "depotd_site_measured_kw", "gauge", "Site power measured from the stations' meter values (kW).",
           cs.measured_site_kw);
    cJSON *circuits = control_circuits_json(d), *c;
    if (circuits) {
        fprintf(f, "# HELP depotd_circuit_limit_kw control.circuits: a circuit's limit (kW; per phase when per_phase).\n"
                   "# TYPE depotd_circuit_limit_kw gauge\n");
        cJSON_ArrayForEach(c, circuits)
            fprintf(f, "depotd_circuit_limit_kw{circuit=\"%s\"} %g\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")),
                    cJSON_GetNumberValue(cJSON_GetObjectItem(c, "limit_kw")));
        fprintf(f, "# HELP depotd_circuit_planned_peak_kw control.circuits: the plan in force's peak on the circuit "
                   "(kW; its worst phase when per_phase).\n# TYPE depotd_circuit_planned_peak_kw gauge\n");
        cJSON_ArrayForEach(c, circuits)
            fprintf(f, "depotd_circuit_planned_peak_kw{circuit=\"%s\"} %g\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")),
                    cJSON_GetNumberValue(cJSON_GetObjectItem(c, "planned_peak_kw")));
        fprintf(f, "# HELP depotd_circuit_measured_kw control.circuits: what the stations on the circuit measure now "
                   "(kW; its worst phase when per_phase).\n# TYPE depotd_circuit_measured_kw gauge\n");
        cJSON_ArrayForEach(c, circuits)
            fprintf(f, "depotd_circuit_measured_kw{circuit=\"%s\"} %g\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")),
                    cJSON_GetNumberValue(cJSON_GetObjectItem(c, "measured_kw")));
        cJSON_Delete(circuits);
    }
    if (cs.site_load_on) {
        metric(f, "depotd_site_load_kw", "gauge",
               "site_load: the building's load now as planned with (kW, margin included; below 0: PV feeds in).",
               cs.site_load_kw);
        metric(f, "depotd_site_load_peak_kw", "gauge",
               "site_load: the horizon's highest load, which the fail-safe leaves room for (kW).", cs.site_load_peak_kw);
    }
    metric(f, "depotd_failsafe_limit_kw", "gauge",
           "What the fail-safe keeps the site under while depotd is down: the limit less the building's highest (kW).",
           cs.failsafe_limit_kw);
    metric(f, "depotd_demand_peak_kw", "gauge",
           "control.demand: the billing period's peak so far, the highest interval mean of charging (kW; 0: none).",
           cs.demand_peak_kw);

    struct feed_status ps;
    prices_status(d, &ps);
    feed_metrics(f, "price", "the price provider", &ps);
    struct site_load_status sl;
    site_load_status(d, &sl);
    if (sl.configured) {
        feed_metrics(f, "site_load", "the building's load", &sl.feed);
        if (!isnan(sl.reading_kw))
            metric(f, "depotd_site_load_reading_kw", "gauge", "site_load: the latest value for now (kW, no margin).",
                   sl.reading_kw);
    }

    metric(f, "depotd_api_requests_total", "counter", "API requests.", (double)a->requests);
    fprintf(f, "# HELP depotd_api_responses_total API responses by status class.\n"
               "# TYPE depotd_api_responses_total counter\n");
    for (int i = 2; i < 6; i++)
        fprintf(f, "depotd_api_responses_total{class=\"%dxx\"} %llu\n", i, (unsigned long long)a->by_status[i]);
    metric(f, "depotd_api_auth_failures_total", "counter", "API requests refused 401.", (double)a->auth_failures);
    metric(f, "depotd_api_reads_refused_total", "counter", "API reads refused 503 (reader queue full).",
           (double)a->reader_refused);
    metric(f, "depotd_api_commands_total", "counter", "Station commands sent through the API.", (double)a->commands);
    metric(f, "depotd_api_command_timeouts_total", "counter", "Station commands answered 504.",
           (double)a->command_timeouts);
    struct store_disk_state ds;
    store_disk(d->store, &ds);
    metric(f, "depotd_disk_free_bytes", "gauge", "Free space on the database's file system (-1: unknown).",
           (double)ds.free_bytes);
    metric(f, "depotd_disk_low", "gauge", "1 while the free space is below disk_warn_free_mb.", ds.low);
    metric(f, "depotd_event_log_lean", "gauge",
           "1 while the free space is below disk_min_free_mb: frames that are not essential are not written.", ds.lean);
    metric(f, "depotd_events_not_written_total", "counter", "Events not written for lack of disk (disk_min_free_mb).",
           (double)ds.dropped);
    metric(f, "depotd_event_log_frames_pruned_total", "counter",
           "Frames deleted from the event log by keep_frames_days since start.", (double)ds.frames_pruned);
    metric(f, "depotd_loop_lag_seconds", "gauge", "How late the event loop ran its last 1 s timer.", a->lag_ms / 1000.0);
    metric(f, "depotd_loop_lag_max_seconds", "gauge", "The largest loop lag since start.", a->lag_max_ms / 1000.0);
    fclose(f);
    api_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

/* ---- prices ----------------------------------------------------------------------------------------- */

void api_get_prices(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    struct depot *d = a->d;
    char buf[32];
    long slot_min = 15;
    if (api_arg(r, "slot_minutes", buf, sizeof buf)) {
        char *end;
        slot_min = strtol(buf, &end, 10);
        if (*end || end == buf || slot_min < 1 || slot_min > 1440 || 1440 % slot_min) {
            api_problem(r, 400, "slot_minutes", "slot_minutes: must divide a day (1, 5, 15, 30, 60, ...)");
            return;
        }
    }
    int64_t slot_ms = slot_min * 60000, from = 0, to = 0;
    int hf = api_arg_time(r, "from", &from), ht = hf < 0 ? -1 : api_arg_time(r, "to", &to);
    if (hf < 0 || ht < 0) return;
    if (!hf) from = depot_now_ms() / slot_ms * slot_ms;
    if (!ht) to = from + (int64_t)d->cfg.price_horizon_h * 3600000;
    if (to <= from) {
        api_problem(r, 400, "to", "to: must be after from");
        return;
    }
    int64_t n = (to - from + slot_ms - 1) / slot_ms;
    if (n > 2000) {
        api_problem(r, 400, "to", "to: at most 2000 slots per request (%lld asked); narrow the range or widen slot_minutes",
                    (long long)n);
        return;
    }
    struct tariff_price *slots = calloc((size_t)n, sizeof *slots);
    char err[256];
    if (!slots || prices_slots(d, from, slot_ms, (size_t)n, slots, err, sizeof err)) {
        free(slots);
        api_problem(r, 503, NULL, "prices are not available: %s", slots ? err : "out of memory");
        return;
    }
    struct feed_status ps;
    prices_status(d, &ps);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "provider", ps.provider[0] ? ps.provider : "none");
    cJSON_AddStringToObject(o, "breaker", ps.breaker ? ps.breaker : "none");
    cJSON_AddStringToObject(o, "last_outcome", ps.last_outcome ? ps.last_outcome : "none");
    api_add_time(o, "last_success_at", ps.last_success_ms);
    api_add_time(o, "covered_until", ps.covered_until_ms);
    cJSON_AddNumberToObject(o, "slot_minutes", (double)slot_min);
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    for (int64_t i = 0; i < n; i++) {
        cJSON *p = cJSON_CreateObject();
        api_add_time(p, "start", slots[i].start_ms);
        api_add_time(p, "end", slots[i].end_ms);
        cJSON_AddNumberToObject(p, "price_per_kwh", slots[i].price);
        cJSON_AddStringToObject(p, "source", tariff_source_name(slots[i].source));
        cJSON_AddItemToArray(items, p);
    }
    free(slots);
    api_reply(r, 200, o);
}

/* ---- the site limit --------------------------------------------------------------------------------- */

static double configured_limit_kw(struct depot *d)
{
    const cJSON *v = d->cfg.control ? cJSON_GetObjectItemCaseSensitive(d->cfg.control, "site_limit_kw") : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static cJSON *site_limit_doc(struct api *a)
{
    struct control_stats cs;
    control_stats(a->d, &cs);
    cJSON *o = cJSON_CreateObject();
    double conf = configured_limit_kw(a->d);
    /* Enabled even when nothing is left for charging (a curtailment to 0, a building drawing it all). */
    cJSON_AddBoolToObject(o, "control_enabled", cs.enabled);
    if (conf > 0) cJSON_AddNumberToObject(o, "configured_kw", conf);
    else cJSON_AddNullToObject(o, "configured_kw");
    cJSON_AddNumberToObject(o, "in_force_kw", cs.site_limit_kw);
    cJSON_AddNumberToObject(o, "planned_kw", cs.planned_site_kw);
    cJSON_AddNumberToObject(o, "measured_kw", cs.measured_site_kw);
    double okw;
    int64_t until;
    const char *by;
    if (control_site_override(a->d, &okw, &until, &by)) {
        cJSON *t = cJSON_AddObjectToObject(o, "temporary");
        cJSON_AddNumberToObject(t, "kw", okw);
        api_add_time(t, "until", until);
        cJSON_AddStringToObject(t, "set_by", by);
    } else {
        cJSON_AddNullToObject(o, "temporary");
    }
    return o;
}

void api_get_site_limit(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    api_reply(r, 200, site_limit_doc(a));
}

static int cmp_station_item(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    return strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "id")),
                  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "id")));
}

/* control knows the stations that ever connected; the registry also those that never did (an alarm on the
 * page): added without EVSEs, and the whole list put in id order. */

/* The building's load for /api/v1/site: the feed, the latest reading, what control plans with now and the room the
 * fail-safe leaves; null without a site_load section. */
static cJSON *site_load_doc(struct depot *d)
{
    struct site_load_status sl;
    site_load_status(d, &sl);
    if (!sl.configured) return cJSON_CreateNull();
    struct control_stats cs;
    control_stats(d, &cs);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "provider", sl.feed.provider);
    cJSON_AddStringToObject(o, "breaker", sl.feed.breaker ? sl.feed.breaker : "none");
    if (isnan(sl.reading_kw)) {
        cJSON_AddNullToObject(o, "reading_kw");
        cJSON_AddNullToObject(o, "reading_at");
    } else {
        cJSON_AddNumberToObject(o, "reading_kw", round(sl.reading_kw * 1000) / 1000);
        api_add_time(o, "reading_at", sl.reading_at_ms);
    }
    cJSON_AddNumberToObject(o, "margin_kw", sl.margin_kw);
    cJSON_AddNumberToObject(o, "planned_kw", round(cs.site_load_kw * 1000) / 1000);
    cJSON_AddNumberToObject(o, "peak_kw", round(cs.site_load_peak_kw * 1000) / 1000);
    cJSON_AddNumberToObject(o, "failsafe_limit_kw", round(cs.failsafe_limit_kw * 1000) / 1000);
    return o;
}

static int add_registry_stations(struct depot *d, cJSON *stations)
{
    size_t n = (size_t)cJSON_GetArraySize(stations), cap = n + d->n_stations + 1, k = 0;
    cJSON **v = malloc(cap * sizeof *v);
    if (!v) return -1;
    while (stations->child && k < cap) v[k++] = cJSON_DetachItemViaPointer(stations, stations->child);
    qsort(v, k, sizeof *v, cmp_station_item);
    size_t known = k;
    for (size_t b = 0; b < d->n_buckets; b++)
        for (struct station *s = d->buckets[b]; s && k < cap; s = s->next) {
            cJSON key = {.type = cJSON_Object}, id = {.type = cJSON_String, .valuestring = s->id, .string = "id"};
            key.child = &id;
            const cJSON *kp = &key;
            if (bsearch(&kp, v, known, sizeof *v, cmp_station_item)) continue;
            cJSON *st = cJSON_CreateObject();
            cJSON_AddStringToObject(st, "id", s->id);
            cJSON_AddBoolToObject(st, "connected", s->conn != NULL);
            cJSON_AddArrayToObject(st, "evses");
            v[k++] = st;
        }
    qsort(v, k, sizeof *v, cmp_station_item);
    for (size_t i = 0; i < k; i++) cJSON_AddItemToArray(stations, v[i]);
    free(v);
    return 0;
}

/* The depot now, for the operator page's first view in one request: the site limit as GET /site/limit has it,
 * the price feed's breaker, and control's view of every station and EVSE (a fleet-scoped token does not see
 * other fleets' vehicles there), with the registered stations that never connected. */
void api_get_site(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    cJSON *o = control_live_json(a->d, r->token->fleet[0] ? r->token->fleet : NULL);
    if (!o) { /* smart charging off */
        o = cJSON_CreateObject();
        api_add_time(o, "at", depot_now_ms());
        cJSON_AddNullToObject(o, "failsafe");
        cJSON_AddNullToObject(o, "plan_id");
        cJSON_AddNullToObject(o, "demand");
        cJSON_AddArrayToObject(o, "stations");
    }
    if (add_registry_stations(a->d, cJSON_GetObjectItemCaseSensitive(o, "stations"))) {
        cJSON_Delete(o);
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    cJSON_AddItemToObject(o, "limit", site_limit_doc(a));
    cJSON *circuits = control_circuits_json(a->d);
    cJSON_AddItemToObject(o, "circuits", circuits ? circuits : cJSON_CreateArray());
    struct feed_status ps;
    prices_status(a->d, &ps);
    cJSON *feed = cJSON_AddObjectToObject(o, "price_feed");
    cJSON_AddStringToObject(feed, "provider", ps.provider[0] ? ps.provider : "none");
    cJSON_AddStringToObject(feed, "breaker", ps.breaker ? ps.breaker : "none");
    cJSON_AddItemToObject(o, "site_load", site_load_doc(a->d));
    api_reply(r, 200, o);
}

/* A temporary limit's `until`: in the future, at most 7 days ahead (a standing change belongs in `standing`). */
bool api_body_until(struct api_req *r, const cJSON *body, const char *standing, int64_t *until)
{
    int64_t now = depot_now_ms();
    if (!api_body_time(r, body, "until", until)) return false;
    if (*until <= now) {
        api_problem(r, 422, "until", "until: is not in the future (depotd's clock reads %s)",
                    ocpp_time_format(now, (char[40]){0}));
        return false;
    }
    if (*until > now + LIMIT_MAX_AHEAD_MS) {
        api_problem(r, 422, "until", "until: more than 7 days ahead; a standing change belongs in %s", standing);
        return false;
    }
    return true;
}

void api_put_site_limit(struct api *a, struct api_req *r, const cJSON *body)
{
    static const char *const allowed[] = {"kw", "until", NULL};
    if (!api_body_only(r, body, allowed)) return;
    double conf = configured_limit_kw(a->d), kw = -1;
    if (!cJSON_GetObjectItemCaseSensitive(body, "kw")) {
        api_problem(r, 422, "kw", "kw: required (the temporary site limit in kW)");
        return;
    }
    if (!api_body_number(r, body, "kw", 0, 1e6, &kw)) return;
    /* A temporary limit is a curtailment: it may lower the limit the grid connection is sized for, never raise
     * it, or a typo could overload the main breaker. */
    if (conf > 0 && kw > conf) {
        api_problem(r, 422, "kw", "kw: %g is above the configured site limit of %g kW; a temporary limit may only lower it",
                    kw, conf);
        return;
    }
    int64_t until;
    if (!api_body_until(r, body, "control.site_limit_kw", &until)) return;
    char err[256];
    if (control_set_site_limit(a->d, kw, until, r->token->name, err, sizeof err)) {
        api_problem(r, 409, NULL, "the site limit cannot be set: %s", err);
        return;
    }
    api_reply(r, 200, site_limit_doc(a));
}

void api_delete_site_limit(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    char err[256];
    if (control_set_site_limit(a->d, -1, 0, r->token->name, err, sizeof err)) {
        api_problem(r, 409, NULL, "the site limit cannot be changed: %s", err);
        return;
    }
    api_reply(r, 200, site_limit_doc(a));
}
