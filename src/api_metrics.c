/*
 * api_metrics.c - GET /metrics in the Prometheus text format: stations and OCPP frames, plans and the site, the
 * feeds, the API, the disk and the loop. Read from the loop's memory on the loop thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "control.h"
#include "prices.h"
#include "site_load.h"

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

/* Stations, connections and OCPP frames. */
static void metrics_ocpp(FILE *f, struct depot *d)
{
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
}

/* Plans, profiles, sessions, the site and its fail-safe. */
static void metrics_control(FILE *f, struct api *a, struct depot *d)
{
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
}

/* control.circuits: limit, planned peak and measured now of each circuit. */
static void metrics_circuits(FILE *f, struct depot *d)
{
    static const struct { const char *name, *member, *help; } series[] = {
        {"depotd_circuit_limit_kw", "limit_kw", "control.circuits: a circuit's limit (kW; per phase when per_phase)."},
        {"depotd_circuit_planned_peak_kw", "planned_peak_kw",
         "control.circuits: the plan in force's peak on the circuit (kW; its worst phase when per_phase)."},
        {"depotd_circuit_measured_kw", "measured_kw",
         "control.circuits: what the stations on the circuit measure now (kW; its worst phase when per_phase)."},
    };
    cJSON *circuits = control_circuits_json(d), *c;
    if (!circuits) return;
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", series[i].name, series[i].help, series[i].name);
        cJSON_ArrayForEach(c, circuits)
            fprintf(f, "%s{circuit=\"%s\"} %g\n", series[i].name, cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")),
                    cJSON_GetNumberValue(cJSON_GetObjectItem(c, series[i].member)));
    }
    cJSON_Delete(circuits);
}

/* The price and building-load feeds. */
static void metrics_feeds(FILE *f, struct depot *d)
{
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
}

/* The API itself, the disk and the loop. */
static void metrics_api(FILE *f, struct api *a, struct depot *d)
{
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
}

void api_get_metrics(struct api *a, struct api_req *r, const cJSON *body)
{
    (void)body;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        api_problem(r, 500, NULL, "out of memory");
        return;
    }
    metrics_ocpp(f, a->d);
    metrics_control(f, a, a->d);
    metrics_circuits(f, a->d);
    metrics_feeds(f, a->d);
    metrics_api(f, a, a->d);
    fclose(f);
    api_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

