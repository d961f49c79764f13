/*
 * control_caps.c - ChargingStationMaxProfile station maxima that follow the plan (README "Smart charging"): how
 * each station is counted against the site limit, the plan's caps in the saga (decreases in phase 1, raises in
 * phase 2 only if they fit), the write-ahead of raises, the answers, the station_cap events and, after a restart,
 * the caps restored from the newest one. The caps themselves come from the planner (control_plan.c) and
 * sched_cap_move (schedule.c). Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"

/* ---- counting ----------------------------------------------------------------------------------------------- */

void ctl_cap_base(const struct control *ctl, const struct ctl_station *cs, struct sched *out)
{
    int64_t now = ctl_now(ctl);
    if (cs->failsafe_rejected) sched_const(out, now, ctl_station_hw_w(ctl, cs));
    else if (cs->cap_known) *out = *cs->cap;
    else sched_const(out, now, ctl_failsafe_cap_w(ctl, cs));
}

void ctl_cap_counted(const struct control *ctl, const struct ctl_station *cs, struct sched *out)
{
    ctl_cap_base(ctl, cs, out);
    if (cs->cap_inflight && !cs->failsafe_rejected) sched_max(out, cs->cap_sent, ctl_now(ctl), out);
}

double ctl_cap_counted_w(const struct control *ctl, const struct ctl_station *cs)
{
    struct sched s;
    ctl_cap_counted(ctl, cs, &s);
    int64_t now = ctl_now(ctl);
    return sched_max_over(&s, now, INT64_MAX);
}

double ctl_caps_unseen_w(const struct control *ctl)
{
    size_t n = ctl->port.stations_known(ctl->port.ctx), known = 0;
    if ((size_t)ctl->cfg.failsafe_stations > n) n = (size_t)ctl->cfg.failsafe_stations;
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next) known++;
    return n > known ? (double)(n - known) * ctl_failsafe_station_w(ctl) : 0;
}

double ctl_caps_limit_w(const struct control *ctl, int64_t now)
{
    return ctl_site_limit_kw(ctl, now) * 1000.0;
}

double ctl_caps_limit_over_w(const struct control *ctl, int64_t now, int64_t from, int64_t to)
{
    double fs = ctl_failsafe_limit_kw(ctl, now);
    if (!ctl->load.on) return fs * 1000.0; /* the limit now, for as long as the caps hold */
    if (to == INT64_MAX || from >= ctl->load.start_ms + ctl->load.n * ctl->load.slot_ms) return fs * 1000.0;
    /* The caps hold while depotd is down: they count the building without PV or a battery to help. */
    return fmax(0, fmin(ctl_connection_kw(ctl, now), ctl->cfg.site_limit_kw - ctl_site_building_max_kw(ctl, from, to))) * 1000.0;
}

void ctl_caps_limit(const struct control *ctl, int64_t now, struct sched *out)
{
    const struct ctl_site_load *l = &ctl->load;
    sched_const(out, now, ctl_caps_limit_over_w(ctl, now, now, INT64_MAX));
    if (!l->on) return;
    out->n = 0;
    for (int k = 0; k < l->n && out->n < SCHED_MAX - 1; k++) {
        int64_t a = l->start_ms + k * l->slot_ms, b = a + l->slot_ms;
        if (b <= now) continue;
        out->t[out->n] = a > now ? a : now;
        out->w[out->n++] = ctl_caps_limit_over_w(ctl, now, a > now ? a : now, b);
    }
    out->t[out->n] = l->start_ms + (int64_t)l->n * l->slot_ms;
    if (out->n && out->t[out->n] <= out->t[out->n - 1]) out->t[out->n] = out->t[out->n - 1] + 1;
    out->w[out->n++] = ctl_caps_limit_over_w(ctl, now, now, INT64_MAX);
    sched_merge_equal(out);
}

void ctl_caps_sum(const struct control *ctl, const struct ctl_station *except, struct sched *out)
{
    int64_t now = ctl_now(ctl);
    struct sched one;
    sched_const(out, now, ctl_caps_unseen_w(ctl));
    for (const struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (cs == except) continue;
        ctl_cap_counted(ctl, cs, &one);
        sched_add(out, &one, now, out);
    }
}

double ctl_caps_sum_w(const struct control *ctl)
{
    struct sched s;
    ctl_caps_sum(ctl, NULL, &s);
    return sched_max_over(&s, ctl_now(ctl), INT64_MAX);
}

static void feeder_sum(const struct control *ctl, int k, const struct ctl_station *except, struct sched *out);

bool ctl_caps_fit_why(const struct control *ctl, const struct ctl_station *cs, const struct sched *s, char *why,
                      size_t len)
{
    int64_t now = ctl_now(ctl), at = now;
    struct sched sum, limit;
    ctl_caps_sum(ctl, cs, &sum);
    sched_add(&sum, s, now, &sum);
    ctl_caps_limit(ctl, now, &limit);
    double over = sched_max_excess(&sum, &limit, now, &at);
    char tb[40];
    if (over > 0.5) {
        if (why) snprintf(why, len, "the site's caps %.2f kW over its room at %s", over / 1000, ocpp_time_format(at, tb));
        return false;
    }
    if (!ctl->cfg.n_circuits) return true;
    struct sched room;
    ctl_caps_feeder_room(ctl, cs, &room);
    over = sched_max_excess(s, &room, now, &at);
    if (over <= 0.5) return true;
    if (why) {
        /* Which feeder, and what the others hold under it then. */
        const struct ctl_config *cfg = &ctl->cfg;
        int n = snprintf(why, len, "%.2f kW over what its feeders leave at %s:", over / 1000, ocpp_time_format(at, tb));
        for (int k = ctl_circuit_of(cfg, cs->st->id, 0); k >= 0 && n > 0 && (size_t)n < len; k = cfg->circuits[k].parent) {
            struct sched others;
            feeder_sum(ctl, k, cs, &others);
            n += snprintf(why + n, len - (size_t)n, " %s %.2f kW, the others %.2f, this %.2f;", cfg->circuits[k].id,
                          ctl_circuit_limit_kw(ctl, k, at), sched_at(&others, at) / 1000, sched_at(s, at) / 1000);
        }
    }
    return false;
}

bool ctl_caps_fit(const struct control *ctl, const struct ctl_station *cs, const struct sched *s)
{
    return ctl_caps_fit_why(ctl, cs, s, NULL, 0);
}

bool ctl_cap_adjustable(const struct control *ctl, const struct ctl_station *cs)
{
    return ctl_connected(ctl, cs) && cs->cap_known && !cs->cap_inflight && !cs->cap_stuck && !cs->failsafe_rejected;
}

double ctl_idle_floor_w(const struct control *ctl, const struct ctl_station *cs, const struct ctl_evse *e)
{
    /* failsafe_evse_kw when set, else the least a car can charge with at all (min_current_a on its phases). */
    struct sched_unit u;
    ctl_unit(ctl, cs, e, &u);
    double w = ctl->cfg.failsafe_evse_kw > 0 ? ctl->cfg.failsafe_evse_kw * 1000.0 : u.min_w;
    double m = ctl_evse_max_w(ctl, cs, e);
    return w < m ? w : m;
}

/* ---- feeders (control.circuits) ------------------------------------------------------------------------------ */

static bool under(const struct ctl_config *cfg, int c, int k)
{
    for (; c >= 0; c = cfg->circuits[c].parent)
        if (c == k) return true;
    return false;
}

int ctl_caps_fit_feeders(const struct ctl_job *j, struct sched_cap *row, int n, int t, int T)
{
    const struct ctl_config *cfg = &j->ctl->cfg; /* immutable after start: the worker may read it */
    int rc = 0;
    /* Children before parents: what a feeder takes back also lowers the sums above it. */
    for (int k = cfg->n_circuits - 1; k >= 0; k--) {
        double limit = j->feeder_w[(size_t)k * (T + 1) + t], sum = 0, fill = 0, want = 0;
        for (int c = 0; c < n; c++) {
            if (!under(cfg, j->cap_feeder[c], k)) continue;
            sum += row[c].cap_w;
            if (!row[c].adjustable) continue;
            fill += fmax(0, row[c].cap_w - fmax(row[c].want_w, row[c].floor_w));
            want += fmax(0, fmax(row[c].want_w, row[c].floor_w) - row[c].floor_w);
        }
        double excess = sum - limit;
        if (excess <= 0.5) continue;
        /* First what the share added above the wants; then the wants down toward the floors (the planner then
         * plans within the caps); the floors fit each feeder already (control_floors.c). */
        double from_fill = fmin(excess, fill), from_want = fmin(excess - from_fill, want);
        if (from_want > 0) rc = 1;
        for (int c = 0; c < n; c++) {
            if (!row[c].adjustable || !under(cfg, j->cap_feeder[c], k)) continue;
            double w = fmax(row[c].want_w, row[c].floor_w), f = fmax(0, row[c].cap_w - w), a = w - row[c].floor_w;
            double cap = row[c].cap_w - (fill > 0 ? f / fill * from_fill : 0) - (want > 0 ? a / want * from_want : 0);
            row[c].cap_w = floor(fmax(row[c].floor_w, cap));
        }
    }
    return rc;
}

/* The fail-safe cap of one station: the site's share, and under each feeder above it that feeder's limit shared by
 * the stations listed under it (less the hardware of those that refused their fail-safe). */
static double share_at(const struct control *ctl, int circuit)
{
    const struct ctl_config *cfg = &ctl->cfg;
    double w = ctl_failsafe_station_w(ctl);
    for (int k = circuit; k >= 0; k = cfg->circuits[k].parent) {
        double room = ctl_circuit_limit_kw(ctl, k, ctl_now(ctl)) * 1000.0;
        int n = 0;
        for (int i = 0; i < cfg->n_attach; i++) {
            if (!under(cfg, cfg->attach[i].circuit, k)) continue;
            const struct ctl_station *x = ctl_station_find((struct control *)ctl, cfg->attach[i].station);
            if (x && x->failsafe_rejected) room -= ctl_station_hw_w(ctl, x);
            else n++;
        }
        if (n > 0) w = fmin(w, fmax(0, floor(room / n)));
    }
    return w;
}

double ctl_failsafe_cap_w(const struct control *ctl, const struct ctl_station *cs)
{
    if (!cs || !ctl->cfg.n_circuits) return ctl_failsafe_station_w(ctl);
    return share_at(ctl, ctl_circuit_of(&ctl->cfg, cs->st->id, 0));
}

double ctl_caps_feeder_unseen_w(const struct control *ctl, int k)
{
    const struct ctl_config *cfg = &ctl->cfg;
    double w = 0;
    for (int i = 0; i < cfg->n_attach; i++)
        if (under(cfg, cfg->attach[i].circuit, k) && !ctl_station_find((struct control *)ctl, cfg->attach[i].station))
            w += share_at(ctl, cfg->attach[i].circuit);
    return w;
}

/* Station caps under feeder k at every moment from now, but for `except`: the known ones as counted, the listed
 * stations depotd has not seen at their fail-safe share. */
static void feeder_sum(const struct control *ctl, int k, const struct ctl_station *except, struct sched *out)
{
    const struct ctl_config *cfg = &ctl->cfg;
    int64_t now = ctl_now(ctl);
    struct sched one;
    sched_const(out, now, 0);
    for (int i = 0; i < cfg->n_attach; i++) {
        if (!under(cfg, cfg->attach[i].circuit, k)) continue;
        const struct ctl_station *x = ctl_station_find((struct control *)ctl, cfg->attach[i].station);
        if (x == except && except) continue;
        if (x) ctl_cap_counted(ctl, x, &one);
        else sched_const(&one, now, share_at(ctl, cfg->attach[i].circuit));
        sched_add(out, &one, now, out);
    }
}

/* What the feeders above cs leave it at every moment: room = min over them of limit - the others' caps. */
void ctl_caps_feeder_room(const struct control *ctl, const struct ctl_station *cs, struct sched *room)
{
    const struct ctl_config *cfg = &ctl->cfg;
    int64_t now = ctl_now(ctl);
    sched_const(room, now, INFINITY);
    struct sched sum, lim;
    for (int k = ctl_circuit_of(cfg, cs->st->id, 0); k >= 0; k = cfg->circuits[k].parent) {
        feeder_sum(ctl, k, cs, &sum);
        for (int p = 0; p < sum.n; p++) sum.w[p] = -sum.w[p];
        sched_const(&lim, now, ctl_circuit_limit_kw(ctl, k, now) * 1000.0);
        sched_add(&lim, &sum, now, &lim);
        sched_min(room, &lim, now, room);
    }
    for (int p = 0; p < room->n; p++) room->w[p] = fmax(0, room->w[p]);
}

/* ---- the log ------------------------------------------------------------------------------------------------ */

/* Every change of a station maximum, sent or answered, with every station's counted cap (its highest from now on):
 * the log shows the sum in force at each step, and a restarted depotd takes the caps from the newest one
 * (ctl_caps_restore). "periods" is the cap this event is about, from now on: [unix ms, kW] pairs. */
uint64_t ctl_caps_log(struct control *ctl, struct ctl_station *cs, const char *what, const struct sched *cap,
                      uint64_t plan_id, int phase)
{
    int64_t now = ctl_now(ctl);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "what", what);
    cJSON_AddNumberToObject(o, "at", (double)now); /* planning clock, unix ms */
    cJSON_AddNumberToObject(o, "kw", round(sched_max_over(cap, now, INT64_MAX)) / 1000.0);
    cJSON *per = cJSON_AddArrayToObject(o, "periods");
    for (int k = 0; k < cap->n; k++) {
        if (k + 1 < cap->n && cap->t[k + 1] <= now) continue;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)(cap->t[k] > now ? cap->t[k] : now)));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(round(cap->w[k]) / 1000.0));
        cJSON_AddItemToArray(per, pair);
    }
    if (plan_id) cJSON_AddNumberToObject(o, "plan", (double)plan_id);
    cJSON_AddNumberToObject(o, "phase", phase);
    cJSON *m = cJSON_AddObjectToObject(o, "caps");
    for (struct ctl_station *x = ctl->stations; x; x = x->next)
        cJSON_AddNumberToObject(m, x->st->id, round(ctl_cap_counted_w(ctl, x)) / 1000.0);
    cJSON_AddNumberToObject(o, "unseen_kw", round(ctl_caps_unseen_w(ctl)) / 1000.0);
    cJSON_AddNumberToObject(o, "sum_kw", round(ctl_caps_sum_w(ctl)) / 1000.0);
    cJSON_AddNumberToObject(o, "limit_kw", round(ctl_caps_limit_w(ctl, now)) / 1000.0);
    return ctl_log_event(ctl, "station_cap", cs->st->id, o);
}

/* After a restart the stations still hold the caps of the last run, which need not be equal shares. Each station
 * counts at its newest accepted cap, raised to every cap it was sent or announced since (one of them may be in
 * force); without an accepted one in its last events, at the highest the newest station_cap event counted it at, for
 * ever. So a station that reconnects first cannot be given room another one still uses. */
struct restore {
    struct sched cap;
    bool any, done;
};

static int restore_event(void *ctx, const char *data)
{
    struct restore *r = ctx;
    cJSON *o = cJSON_Parse(data);
    const cJSON *what = cJSON_GetObjectItemCaseSensitive(o, "what");
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(o, "periods");
    if (cJSON_IsString(what) && strcmp(what->valuestring, "withheld") != 0 && cJSON_GetArraySize(per) > 0) {
        struct sched s = {0};
        const cJSON *pair;
        cJSON_ArrayForEach(pair, per) {
            const cJSON *t = cJSON_GetArrayItem(pair, 0), *kw = cJSON_GetArrayItem(pair, 1);
            if (!cJSON_IsNumber(t) || !cJSON_IsNumber(kw) || s.n >= SCHED_MAX) continue;
            s.t[s.n] = (int64_t)t->valuedouble;
            s.w[s.n++] = ceil(kw->valuedouble * 1000.0 - 1e-6);
        }
        if (s.n) {
            if (r->any) sched_max(&r->cap, &s, s.t[0] < r->cap.t[0] ? s.t[0] : r->cap.t[0], &r->cap);
            else r->cap = s;
            r->any = true;
            r->done = strcmp(what->valuestring, "accepted") == 0;
        }
    }
    cJSON_Delete(o);
    return r->done;
}

void ctl_caps_restore(struct control *ctl)
{
    char *data = store_last_event_data(ctl->d->store, "station_cap");
    cJSON *o = data ? cJSON_Parse(data) : NULL;
    free(data);
    const cJSON *it;
    int n = 0;
    struct restore *r = malloc(sizeof *r);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "caps")) {
        struct station *st = depot_station_find(ctl->d, it->string);
        struct ctl_station *cs = st && cJSON_IsNumber(it) ? ctl_station(ctl, st) : NULL;
        if (!cs || !r || !ctl_caps_alloc(cs)) continue;
        *r = (struct restore){0};
        store_each_station_event(ctl->d->store, "station_cap", cs->st->id, 64, restore_event, r);
        cs->cap_known = true;
        if (r->done) *cs->cap = r->cap;
        else sched_const(cs->cap, ctl_now(ctl), ceil(it->valuedouble * 1000.0 - 1e-6));
        n++;
    }
    free(r);
    cJSON_Delete(o);
    if (n) log_info("control", NULL, "station caps of %d stations restored from the event log (up to %.1f kW of %.1f kW)", n,
                    ctl_caps_sum_w(ctl) / 1000.0, ctl_caps_limit_w(ctl, ctl_now(ctl)) / 1000.0);
}

/* ---- raises, written ahead ------------------------------------------------------------------------------ */

/* Write-ahead for a cap raise. A raise gives a station room the others may no longer use, and a restarted depotd
 * counts each station from the newest station_cap event; so the station must never hold a cap the log has not seen.
 * The frame and the event would otherwise both be queued (the frame written at the next writable callback, the
 * event committed by the store's writer whenever it gets to it), and a kill between the two leaves the station
 * raised behind the log's back. Hence the order: count the raise (cap_inflight), append its "sending" event, and
 * only when that event is durable (depot_after_durable) queue the SetChargingProfile. If the commit fails, or the
 * station went away meanwhile, the raise is withheld: not sent, uncounted again, and re-planned. Decreases need no
 * write-ahead: a lost event of a decrease only counts the station higher than it is. */
static void on_cap_raise_durable(struct control *ctl, void *arg, bool durable);
static void cap_raise_withheld(struct control *ctl, struct ctl_call *c, const char *why, bool in_saga);

void ctl_caps_hold_raise(struct control *ctl, struct ctl_station *cs, struct ctl_call *c, cJSON *req)
{
    c->held_req = req;
    cs->cap_inflight = true;
    *cs->cap_sent = c->sched;
    cs->failsafe_sent = true;
    cs->failsafe_due = false;
    uint64_t ticket = ctl_caps_log(ctl, cs, "sending", &c->sched, c->plan_id, c->phase);
    if (!ticket || ctl->port.after_durable(ctl->port.ctx, ticket, on_cap_raise_durable, (void *)(uintptr_t)c->cookie)) {
        cap_raise_withheld(ctl, c, "out of memory", false); /* not counted in the saga yet */
        return;
    }
    if (c->phase != 0) ctl->saga_in_flight++;
    ctl->caps_held++;
}

/* The raise did not leave: the station keeps the cap it has, counted as such again (the "sending" event, if it
 * was stored, only counts it higher). The saga goes on without it; the next plan tries again. */
static void cap_raise_withheld(struct control *ctl, struct ctl_call *c, const char *why, bool in_saga)
{
    struct ctl_station *cs = ctl_station_find(ctl, c->station);
    uint64_t plan_id = c->plan_id;
    int phase = c->phase;
    if (cs) {
        cs->cap_inflight = false;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "plan", (double)plan_id);
        cJSON_AddStringToObject(o, "action", "station cap raise withheld");
        cJSON_AddStringToObject(o, "why", why);
        double kw = sched_max_over(&c->sched, ctl_now(ctl), INT64_MAX) / 1000.0;
        cJSON_AddNumberToObject(o, "kw", round(kw * 1000.0) / 1000.0);
        ctl_log_event(ctl, "compensation", cs->st->id, o);
        ctl_caps_log(ctl, cs, "withheld", &c->sched, plan_id, phase);
        log_warn("control", cs->st->id, "station cap raise (up to %.1f kW) withheld: %s", kw, why);
    }
    ctl_call_drop(ctl, c);
    ctl_replan(ctl, "failsafe");
    if (in_saga && phase != 0) ctl_saga_call_done(ctl, plan_id);
}

static void on_cap_raise_durable(struct control *ctl, void *arg, bool durable)
{
    uint64_t cookie = (uint64_t)(uintptr_t)arg;
    struct ctl_call *c = ctl->calls;
    while (c && c->cookie != cookie) c = c->next;
    if (!c || !c->held_req) return; /* withheld already (the station went away) */
    ctl->caps_held--;
    struct ctl_station *cs = ctl_station_find(ctl, c->station);
    char err[200] = "the station is not connected, or refused its fail-safe";
    cJSON *req = c->held_req;
    c->held_req = NULL;
    bool sent = false;
    if (durable && cs && ctl_connected(ctl, cs) && !cs->failsafe_rejected) {
        if (ctl_send(ctl, cs, "SetChargingProfile", req, cookie, err, sizeof err) == 0) {
            sent = true;
            ctl->stats.profiles_sent++;
        }
    } else if (!durable) {
        snprintf(err, sizeof err, "its station_cap event could not be stored");
    }
    cJSON_Delete(req);
    /* Phase 2's TxProfiles go out behind the last cap raise, so each station finds its room already there. */
    if (ctl->caps_held == 0 && ctl->saga_tx_deferred) {
        ctl->saga_tx_deferred = false;
        ctl_saga_send_increases(ctl);
    }
    if (!sent) cap_raise_withheld(ctl, c, err, true);
}

void ctl_caps_on_disconnect(struct control *ctl, const char *station)
{
    /* A raise still waiting for its write-ahead event is not sent to a later connection (which boots and gets
     * its fail-safe again). */
    for (struct ctl_call *c = ctl->calls, *next; c; c = next) {
        next = c->next;
        if (c->held_req && strcmp(c->station, station) == 0) {
            ctl->caps_held--;
            if (ctl->caps_held == 0 && ctl->saga_tx_deferred) {
                ctl->saga_tx_deferred = false;
                ctl_saga_send_increases(ctl);
            }
            cap_raise_withheld(ctl, c, "the station disconnected", true);
            next = ctl->calls; /* the list may have changed: withheld ones are gone, so start over */
        }
    }
}

/* ---- the plan's caps in the saga -------------------------------------------------------------------------- */

/* A plan's station cap as a schedule on depotd's clock: its slots, then what it keeps after the horizon. */
static void plan_cap_sched(struct control *ctl, const struct ctl_plan *plan, struct ctl_station *cs, const double *w,
                           struct sched *out)
{
    struct sched_unit u;
    ctl_unit(ctl, cs, NULL, &u);
    u.min_w = 0; /* a cap, not a charging limit */
    double kw[SCHED_MAX];
    int n = plan->slots + 1 < SCHED_MAX ? plan->slots + 1 : SCHED_MAX;
    for (int t = 0; t < n; t++) kw[t] = w[t] / 1000.0;
    sched_from_slots(out, &u, plan->at, kw, n);
    int maxp = cs->periods_per_schedule > 0 ? cs->periods_per_schedule : CTL_CAP_PERIODS_DEFAULT;
    sched_compress(out, maxp, plan->at[plan->slots] - plan->start_ms); /* merges into the lower: never raises */
}

/* A plan's station maxima (ChargingStationMaxProfile, one schedule per station): a cap in force that covers the
 * plan's want at every moment and lies under the new one is kept (fewer messages); one lower everywhere goes out
 * now with the TxProfile decreases (phase 1); one higher anywhere waits in cap_next for phase 2, and where it is
 * lower somewhere too, its lower part (the pointwise minimum) goes out in phase 1, so raises never wait on each
 * other (A gives up the morning B gets, B the evening A gets). */
void ctl_caps_plan(struct control *ctl, struct ctl_plan *plan, int *decreases, int *increases)
{
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) cs->cap_raise = false;
    if (!plan->caps) return;
    int64_t now = ctl_now(ctl);
    struct sched old, want, next, lower;
    for (int c = 0; c < plan->n_caps; c++) {
        const struct ctl_plan_cap *pc = &plan->caps[c];
        struct ctl_station *cs = ctl_station_find(ctl, pc->station);
        if (!cs || !pc->adjustable || !ctl_cap_adjustable(ctl, cs) || !pc->cap_slot_w || !ctl_caps_alloc(cs)) continue;
        ctl_cap_counted(ctl, cs, &old);
        plan_cap_sched(ctl, plan, cs, pc->want_slot_w, &want);
        plan_cap_sched(ctl, plan, cs, pc->cap_slot_w, &next);
        bool step_needed;
        switch (sched_cap_move(&old, &want, &next, now, &lower, &step_needed)) {
        case SCHED_CAP_KEEP:
            break;
        case SCHED_CAP_DECREASE:
            ctl_send_failsafe_sched(ctl, cs, &next, plan->id, 1);
            (*decreases)++;
            break;
        case SCHED_CAP_RAISE:
            if (step_needed) {
                ctl_send_failsafe_sched(ctl, cs, &lower, plan->id, 1);
                (*decreases)++;
            }
            cs->cap_raise = true;
            *cs->cap_next = next;
            (*increases)++;
            break;
        }
    }
}

/* What a station's cap may be at every moment from now without the caps counted going above the site's limit or a
 * feeder's: the least of the site's room and its feeders' (W, never below 0). */
void ctl_caps_room(const struct control *ctl, const struct ctl_station *cs, struct sched *room)
{
    int64_t now = ctl_now(ctl);
    struct sched sum, feeders;
    ctl_caps_sum(ctl, cs, &sum);
    for (int p = 0; p < sum.n; p++) sum.w[p] = -sum.w[p];
    ctl_caps_limit(ctl, now, room);
    sched_add(room, &sum, now, room);
    if (ctl->cfg.n_circuits) {
        ctl_caps_feeder_room(ctl, cs, &feeders);
        sched_min(room, &feeders, now, room);
    }
    for (int p = 0; p < room->n; p++) room->w[p] = fmax(0, floor(room->w[p]));
}

/* Phase 2 for the station maxima: each raise if the caps counted, with it, still fit under the site limit and every
 * feeder at every moment (the decreases that make room were answered in phase 1). Where they do not (a station that
 * went away or refused keeps its cap counted; a plan made while another's cap was still on its way), the raise goes
 * as far as the room allows, never above the plan's cap, and a re-plan follows: a raise withheld outright on every
 * plan left a station at its lower cap for hours under a busy feeder (feeders_day stationmax). */
void ctl_caps_send_raises(struct control *ctl)
{
    for (struct ctl_station *cs = ctl->stations; cs; cs = cs->next) {
        if (!cs->cap_raise) continue;
        cs->cap_raise = false;
        if (ctl->saga_failed || !ctl_cap_adjustable(ctl, cs)) continue;
        char why[400];
        if (ctl_caps_fit_why(ctl, cs, cs->cap_next, why, sizeof why)) {
            ctl_send_failsafe_sched(ctl, cs, cs->cap_next, ctl->saga_plan->id, 2);
            continue;
        }
        int64_t now = ctl_now(ctl);
        struct sched room, part, counted;
        ctl_caps_room(ctl, cs, &room);
        sched_min(cs->cap_next, &room, now, &part);
        sched_merge_equal(&part);
        ctl_cap_counted(ctl, cs, &counted);
        bool raise = !sched_le(&part, &counted, now) && ctl_caps_fit(ctl, cs, &part);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "plan", (double)ctl->saga_plan->id);
        cJSON_AddStringToObject(o, "action", raise ? "station cap raised in part" : "station cap raise withheld");
        cJSON_AddNumberToObject(o, "kw", round(sched_max_over(cs->cap_next, now, INT64_MAX)) / 1000.0);
        if (raise) cJSON_AddNumberToObject(o, "kw_sent", round(sched_max_over(&part, now, INT64_MAX)) / 1000.0);
        cJSON_AddStringToObject(o, "why", why);
        ctl_log_event(ctl, "compensation", cs->st->id, o);
        if (raise) {
            *cs->cap_next = part;
            ctl_send_failsafe_sched(ctl, cs, cs->cap_next, ctl->saga_plan->id, 2);
        }
        ctl_replan(ctl, "failsafe");
    }
}

/* A station cap answered: accepted, it is in force; not answered, either may be (the higher one counts at every
 * moment); refused, the old one stays. Outside the saga (phase 0: boot, reconnect) as in it. */
void ctl_caps_on_answer(struct control *ctl, struct ctl_station *cs, const struct ctl_call *c, bool accepted,
                        bool answered)
{
    struct sched base;
    ctl_cap_base(ctl, cs, &base);
    cs->cap_inflight = false;
    if (accepted) {
        cs->cap_known = true;
        *cs->cap = c->sched;
    } else if (!answered) {
        sched_max(&base, &c->sched, ctl_now(ctl), cs->cap);
        cs->cap_known = true;
    }
}

/* The answer to a plan's cap change (saga phase 1 or 2). */
void ctl_caps_answer(struct control *ctl, struct ctl_station *cs, struct ctl_call *c, bool accepted, const char *status,
                     const char *why)
{
    ctl_caps_on_answer(ctl, cs, c, accepted, status != NULL);
    if (accepted) {
        cs->failsafe_accepted = true;
        cs->failsafe_sent_w = c->sched.w[0];
    } else {
        /* Refused or not answered: this station's cap is left alone (planned within it) until it boots again; a
         * decrease that did not land withholds the plan's increases, as for TxProfiles. */
        cs->cap_stuck = true;
        if (c->phase == 1) ctl->saga_failed = true;
        ctl->stats.compensations++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "plan", (double)c->plan_id);
        cJSON_AddStringToObject(o, "why", c->phase == 1 ? "station cap decrease" : "station cap raise");
        cJSON_AddStringToObject(o, "status", why);
        cJSON_AddNumberToObject(o, "assumed_kw", round(ctl_cap_counted_w(ctl, cs)) / 1000.0);
        ctl_log_event(ctl, "compensation", cs->st->id, o);
        log_warn("control", cs->st->id, "station cap (up to %.1f kW) %s: up to %.1f kW counted",
                 sched_max_over(&c->sched, ctl_now(ctl), INT64_MAX) / 1000.0, why, ctl_cap_counted_w(ctl, cs) / 1000.0);
        ctl_replan(ctl, "compensation");
    }
    ctl_caps_log(ctl, cs, accepted ? "accepted" : why, &c->sched, c->plan_id, c->phase);
    ctl_saga_call_done(ctl, c->plan_id);
}
