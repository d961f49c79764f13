/*
 * api_ops.c - the operator's routes answered from the loop's memory: /healthz, /readyz, prices and the site
 * (its limit, its load); /metrics is api_metrics.c. Thread: the loop thread only (the store read of /readyz runs
 * on the reader thread).
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
