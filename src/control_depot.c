/*
 * control_depot.c - the control loop inside depotd: the planning clock, the port (control_internal.h's seam) that
 * takes the loop's calls to the stations, the event log and lws' timers, and control.h's entry points, which find
 * the control and hand it the station's message. Loop thread only, except the clock and post.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "log.h"
#include "prices.h"
#include "site_load.h"

/* ---- the planning clock --------------------------------------------------------------------------------------- */

static struct {
    bool simulated;
    int64_t start_ms, anchor_ms;
    double speed;
} clk;

int depot_clock_configure(const cJSON *c, char *err, size_t err_len)
{
    memset(&clk, 0, sizeof clk);
    if (!c) return 0;
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(c, "start");
    const cJSON *speed = cJSON_GetObjectItemCaseSensitive(c, "speed");
    const cJSON *anchor = cJSON_GetObjectItemCaseSensitive(c, "anchor_unix_ms");
    const cJSON *it;
    cJSON_ArrayForEach(it, c) {
        if (it->string[0] != '_' && strcmp(it->string, "start") && strcmp(it->string, "speed") &&
            strcmp(it->string, "anchor_unix_ms")) {
            snprintf(err, err_len, "clock.%s: unknown key (start, speed, anchor_unix_ms)", it->string);
            return -1;
        }
    }
    if (!cJSON_IsString(start) || ocpp_time_parse(start->valuestring, &clk.start_ms)) {
        snprintf(err, err_len, "clock.start: an RFC 3339 time");
        return -1;
    }
    if (!cJSON_IsNumber(speed) || speed->valuedouble <= 0 || speed->valuedouble > 100000) {
        snprintf(err, err_len, "clock.speed: a number in (0, 100000]");
        return -1;
    }
    clk.speed = speed->valuedouble;
    clk.anchor_ms = cJSON_IsNumber(anchor) ? (int64_t)anchor->valuedouble : depot_wall_ms();
    clk.simulated = true;
    return 0;
}

bool depot_clock_simulated(void) { return clk.simulated; }

double depot_clock_speed(void) { return clk.simulated ? clk.speed : 1.0; }

int64_t depot_now_ms(void)
{
    int64_t wall = depot_wall_ms();
    if (!clk.simulated) return wall;
    return clk.start_ms + (int64_t)((double)(wall - clk.anchor_ms) * clk.speed);
}

int64_t depot_clock_real_delay_ms(int64_t t)
{
    int64_t now = depot_now_ms();
    if (t <= now) return 0;
    double real = (double)(t - now) / (clk.simulated ? clk.speed : 1.0);
    return (int64_t)ceil(real);
}

/* ---- the port ---------------------------------------------------------------------------------------------------- */

static int64_t port_now(void *ctx)
{
    (void)ctx;
    return depot_now_ms();
}

static int64_t port_mono(void *ctx)
{
    (void)ctx;
    return depot_mono_ms();
}

static int64_t port_real_delay(void *ctx, int64_t t)
{
    (void)ctx;
    return depot_clock_real_delay_ms(t);
}

static bool port_connected(void *ctx, const struct station *st)
{
    (void)ctx;
    return st->conn != NULL;
}

static int port_call(void *ctx, struct station *st, const char *action, const cJSON *req, uint64_t cookie, char *err,
                     size_t err_len)
{
    (void)ctx;
    if (!st->conn) {
        snprintf(err, err_len, "not connected");
        return -1;
    }
    return depot_call_user(st->conn, action, req, (void *)(uintptr_t)cookie, err, err_len);
}

static uint64_t port_log_event(void *ctx, const char *type, const char *station, const char *json)
{
    struct control *ctl = ctx;
    return depot_log_station_event(ctl->d, type, station, json);
}

struct durable_wait {
    void (*fn)(struct control *ctl, void *arg, bool durable);
    void *arg;
    struct control *ctl;
};

static void on_durable(struct depot *d, void *arg, enum store_ticket_state state)
{
    struct durable_wait *w = arg;
    if (d->control == w->ctl) w->fn(w->ctl, w->arg, state == STORE_DURABLE);
    free(w);
}

static int port_after_durable(void *ctx, uint64_t ticket, void (*fn)(struct control *ctl, void *arg, bool durable),
                              void *arg)
{
    struct control *ctl = ctx;
    struct durable_wait *w = malloc(sizeof *w);
    if (!w) return -1;
    *w = (struct durable_wait){.fn = fn, .arg = arg, .ctl = ctl};
    if (depot_after_durable(ctl->d, ticket, on_durable, w)) {
        free(w);
        return -1;
    }
    return 0;
}

static void on_replan_timer(lws_sorted_usec_list_t *sul)
{
    ctl_on_timer(lws_container_of(sul, struct control, replan_sul), CTL_TIMER_REPLAN);
}

static void on_boundary(lws_sorted_usec_list_t *sul)
{
    ctl_on_timer(lws_container_of(sul, struct control, boundary_sul), CTL_TIMER_BOUNDARY);
}

static void port_arm(void *ctx, enum ctl_timer which, int64_t real_ms)
{
    struct control *ctl = ctx;
    if (which == CTL_TIMER_REPLAN)
        lws_sul_schedule(ctl->d->lws, 0, &ctl->replan_sul, on_replan_timer, (lws_usec_t)real_ms * 1000);
    else
        lws_sul_schedule(ctl->d->lws, 0, &ctl->boundary_sul, on_boundary, (lws_usec_t)real_ms * 1000);
}

static void port_station_clock(void *ctx, const struct station *st, int64_t *off, int64_t *unc)
{
    struct control *ctl = ctx;
    depot_station_clock(ctl->d, st, off, unc);
}

static int port_prices(void *ctx, int64_t slot0, int64_t slot_ms, size_t n, struct tariff_price *out, char *err,
                       size_t err_len)
{
    struct control *ctl = ctx;
    return prices_slots(ctl->d, slot0, slot_ms, n, out, err, err_len);
}

static int port_site_load(void *ctx, int64_t slot0, int64_t slot_ms, size_t n, double *kw, double *building)
{
    struct control *ctl = ctx;
    return site_load_slots(ctl->d, slot0, slot_ms, n, kw, building);
}

static size_t port_stations_known(void *ctx)
{
    struct control *ctl = ctx;
    return ctl->d->n_stations;
}

struct ctl_posted {
    void (*fn)(struct control *ctl, void *arg);
    void *arg;
    struct control *ctl;
};

static void on_posted(struct depot *d, void *arg)
{
    struct ctl_posted *p = arg;
    /* Handed over just before control_stop joined the worker: the server runs it after every module stopped. */
    p->fn(d->control == p->ctl ? p->ctl : NULL, p->arg);
    free(p);
}

static int port_post(void *ctx, void (*fn)(struct control *ctl, void *arg), void *arg)
{
    struct control *ctl = ctx;
    struct ctl_posted *p = malloc(sizeof *p);
    if (!p) return -1;
    *p = (struct ctl_posted){.fn = fn, .arg = arg, .ctl = ctl};
    if (depot_post(ctl->d, on_posted, p)) {
        free(p);
        return -1;
    }
    return 0;
}

static void port_planned(void *ctx)
{
    struct control *ctl = ctx;
    control_query_plan_done(ctl->d);
}

/* ---- start and stop ------------------------------------------------------------------------------------------- */

static void on_prices(struct depot *d) { control_replan(d, "prices"); }

void control_site_load_changed(struct depot *d)
{
    struct control *ctl = d->control;
    if (ctl && ctl->cfg.enabled && ctl_site_load_refresh(ctl)) control_replan(d, "site_load");
}

int control_start(struct depot *d, char *err, size_t err_len)
{
    struct ctl_port port = {
        .now_ms = port_now, .mono_ms = port_mono, .real_delay_ms = port_real_delay, .connected = port_connected,
        .call = port_call, .log_event = port_log_event, .after_durable = port_after_durable, .arm = port_arm,
        .station_clock = port_station_clock, .prices = port_prices, .site_load = port_site_load,
        .stations_known = port_stations_known,
        .post = port_post, .planned = port_planned,
    };
    /* The port's context is the control itself (ctx NULL): its depot, its timers. */
    struct control *ctl = ctl_new(&d->cfg, &port, err, err_len);
    if (!ctl) return -1;
    ctl->d = d;
    d->control = ctl;
    if (control_query_restore(d, err, err_len)) return -1;
    if (ctl_restore(ctl, err, err_len)) return -1;
    if (!ctl->cfg.enabled) return 0;
    if (ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX) ctl_caps_restore(ctl);
    prices_on_update = on_prices;
    log_info("control", NULL, "smart charging on: site limit %.1f kW, %s of %.1f kW per station, %d-minute slots over %d h%s",
             ctl->cfg.site_limit_kw,
             ctl->cfg.failsafe == CTL_FAILSAFE_STATION_MAX ? "ChargingStationMaxProfile" : "TxDefaultProfile",
             ctl_failsafe_station_w(ctl) / 1000.0, ctl->cfg.slot_minutes, ctl->cfg.horizon_h,
             depot_clock_simulated() ? " (simulated clock)" : "");
    return 0;
}

/* After the lws context exists: the first plan (sessions restored from the log) and the slot timer. */
void control_loop_started(struct depot *d)
{
    if (d->control) ctl_begin(d->control);
}

void control_stop(struct depot *d)
{
    struct control *ctl = d->control;
    if (!ctl) return;
    if (d->lws) {
        lws_sul_cancel(&ctl->replan_sul);
        lws_sul_cancel(&ctl->boundary_sul);
    }
    ctl_free(ctl);
    d->control = NULL;
}

/* ---- dispatcher and operator --------------------------------------------------------------------------------------------- */

int control_set_need(struct depot *d, const char *vehicle, const struct control_need *need, const char *who, char *err,
                     size_t err_len)
{
    struct control *ctl = d->control;
    struct ctl_vehicle *v = ctl ? ctl_vehicle_find(ctl, vehicle) : NULL;
    if (!v) {
        snprintf(err, err_len, "vehicle: unknown vehicle \"%s\"", vehicle);
        return -1;
    }
    v->has_need = need != NULL;
    if (need) v->need = *need;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "vehicle", vehicle);
    cJSON_AddStringToObject(o, "by", who ? who : "");
    if (need) {
        char buf[40];
        cJSON_AddStringToObject(o, "departure", ocpp_time_format(need->departure_ms, buf));
        if (need->energy_kwh >= 0) cJSON_AddNumberToObject(o, "energy_kwh", need->energy_kwh);
        if (need->target_soc >= 0) cJSON_AddNumberToObject(o, "target_soc", need->target_soc);
    }
    ctl_log_event(ctl, "need", NULL, o);
    ctl_replan(ctl, "needs");
    return 0;
}

int control_set_site_limit(struct depot *d, double kw, int64_t until_ms, const char *who, char *err, size_t err_len)
{
    struct control *ctl = d->control;
    if (!ctl || !ctl->cfg.enabled) {
        snprintf(err, err_len, "control is not enabled");
        return -1;
    }
    ctl->override_kw = kw;
    ctl->override_until_ms = until_ms;
    snprintf(ctl->override_by, sizeof ctl->override_by, "%s", who ? who : "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "kw", kw);
    char buf[40];
    cJSON_AddStringToObject(o, "until", ocpp_time_format(until_ms, buf));
    cJSON_AddStringToObject(o, "by", who ? who : "");
    ctl_log_event(ctl, "site_limit", NULL, o);
    ctl_replan(ctl, "limit");
    return 0;
}

bool control_site_override(struct depot *d, double *kw, int64_t *until_ms, const char **by)
{
    struct control *ctl = d->control;
    if (!ctl || ctl->override_kw < 0 || ctl->override_until_ms <= ctl_now(ctl)) return false;
    *kw = ctl->override_kw, *until_ms = ctl->override_until_ms, *by = ctl->override_by;
    return true;
}

void control_stats(struct depot *d, struct control_stats *out)
{
    struct control *ctl = d->control;
    memset(out, 0, sizeof *out);
    if (!ctl) return;
    *out = ctl->stats;
    out->enabled = ctl->cfg.enabled;
    out->site_limit_kw = ctl_site_limit_kw(ctl, ctl_now(ctl));
    out->measured_site_kw = ctl_measured_site_w(ctl) / 1000.0;
    out->demand_peak_kw = ctl_demand_peak_kw(ctl, ctl_now(ctl));
    out->departure_hedge_pct = ctl_hedge_pct(ctl);
    out->site_load_on = ctl->load.on;
    out->site_load_kw = ctl_site_load_kw(ctl, ctl_now(ctl));
    out->site_load_peak_kw = ctl->load.peak_kw;
    out->failsafe_limit_kw = ctl_failsafe_limit_kw(ctl, ctl_now(ctl));
}

/* ---- start and stop ------------------------------------------------------------------------------------------------------ */

/* ---- the stations' messages ---------------------------------------------------------------------------------- */

void control_replan(struct depot *d, const char *reason)
{
    if (d->control) ctl_replan(d->control, reason);
}

void control_on_boot_accepted(struct depot *d, struct station *st, bool caps_coming)
{
    if (d->control) ctl_on_boot_accepted(d->control, st, caps_coming);
}

void control_on_reconnect(struct depot *d, struct station *st, bool caps_coming)
{
    if (d->control) ctl_on_reconnect(d->control, st, caps_coming);
}

void control_on_disconnect(struct depot *d, struct station *st)
{
    if (d->control) ctl_on_disconnect(d->control, st);
}

void control_on_status(struct depot *d, struct station *st, const cJSON *payload)
{
    if (d->control) ctl_on_status(d->control, st, payload);
}

void control_on_call(struct depot *d, struct station *st)
{
    if (d->control && st) ctl_on_call(d->control, st);
}

void control_on_transaction_event(struct depot *d, struct station *st, const cJSON *payload)
{
    if (d->control) ctl_on_transaction_event(d->control, st, payload);
}

void control_on_meter_values(struct depot *d, struct station *st, const cJSON *payload)
{
    if (d->control) ctl_on_meter_values(d->control, st, payload);
}

void control_on_ev_needs(struct depot *d, struct station *st, const cJSON *payload)
{
    if (d->control) ctl_on_ev_needs(d->control, st, payload);
}

void control_on_charging_limit(struct depot *d, struct station *st, const cJSON *payload, bool cleared)
{
    if (d->control) ctl_on_charging_limit(d->control, st, payload, cleared);
}

void control_on_reported_profiles(struct depot *d, struct station *st, const cJSON *payload)
{
    if (d->control) ctl_on_reported_profiles(d->control, st, payload);
}

int control_operator_profile_refused(struct depot *d, const char *action, const cJSON *request, char *why, size_t len)
{
    return d->control ? ctl_operator_profile_refused(d->control, action, request, why, len) : 0;
}

void control_on_operator_profile(struct depot *d, struct station *st, const char *action, const cJSON *request,
                                 const cJSON *response)
{
    if (d->control) ctl_on_operator_profile(d->control, st, action, request, response);
}

void control_on_variables(struct depot *d, struct station *st, const cJSON *result)
{
    if (d->control) ctl_on_variables(d->control, st, result);
}

void control_on_capabilities_read(struct depot *d, struct station *st)
{
    if (d->control) ctl_on_capabilities_read(d->control, st);
}

void control_on_answer(struct depot *d, const struct ocpp_event *ev)
{
    if (d->control) ctl_on_answer(d->control, ev);
}
