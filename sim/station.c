/*
 * A simulated station's own messages (OCPP 2.0.1 B01 boot, B05 heartbeat, G01 status, C01 authorize,
 * E transactions with meter values, K15 charging needs), queued with offline=true while it is not Accepted
 * on a connection. What it answers to the CSMS is in handlers.c; the connection and the offline queue (boot or
 * resume, E12 replay) are in link.c.
 */
#include "sim.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void begin_tx(struct sim_station *st, int evse_id, int64_t t_sim, bool remote);

static char *fmt_time(int64_t ms, char *buf)
{
    return sim_time_format(ms, buf);
}

static int64_t now_sim(const struct sim_station *st)
{
    /* Fault: a station whose clock is off by skew_ms stamps everything it sends with it. */
    return sim_clock_now(&st->w->clock, sim_real_ms()) + st->skew_ms;
}

static int call(struct sim_station *st, const char *action, const cJSON *payload, void *user)
{
    if (!st->session)
        return -1;
    char err[256];
    if (ocpp_session_call(st->session, action, payload, user, sim_real_ms(), NULL, err, sizeof err) != 0) {
        if (st->w->opt.progress)
            fprintf(stderr, "%s: %s not sent: %s\n", st->cfg->id, action, err);
        return -1;
    }
    sim_station_flush(st);
    return 0;
}

/* Takes p: the payload rides along as the call's user pointer until the CSMS answers (link.c). */
static void send_tx_event(struct sim_station *st, cJSON *p)
{
    if (call(st, "TransactionEvent", p, p) != 0)
        sim_station_keep_offline(st, p);
}

static void send_boot(struct sim_station *st)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "reason", st->w->stop ? "Unknown" : st->boot_reason ? st->boot_reason : "PowerUp");
    cJSON *cs = cJSON_AddObjectToObject(p, "chargingStation");
    cJSON_AddStringToObject(cs, "model", st->cfg->model);
    cJSON_AddStringToObject(cs, "vendorName", st->cfg->vendor);
    cJSON_AddStringToObject(cs, "firmwareVersion", st->cfg->firmware);
    if (call(st, "BootNotification", p, NULL) == 0)
        st->boot_in_flight = true;
    cJSON_Delete(p);
}

static void send_status(struct sim_station *st, int evse_id)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "timestamp", fmt_time(now_sim(st), tb));
    /* G01/G03: an inoperative EVSE is Unavailable; one with a session still running stays Occupied until it ends. */
    const struct sim_evse *e = &st->evse[evse_id];
    cJSON_AddStringToObject(p, "connectorStatus", e->visit >= 0 ? "Occupied" : e->inoperative ? "Unavailable" : "Available");
    cJSON_AddNumberToObject(p, "evseId", evse_id);
    cJSON_AddNumberToObject(p, "connectorId", 1);
    call(st, "StatusNotification", p, NULL);
    cJSON_Delete(p);
}

static cJSON *meter_value(const struct sim_station *st, int evse_id, int64_t t_sim)
{
    const struct sim_evse *e = &st->evse[evse_id];
    char tb[32], num[32];
    cJSON *arr = cJSON_CreateArray();
    cJSON *mv = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, mv);
    cJSON_AddStringToObject(mv, "timestamp", fmt_time(t_sim, tb));
    cJSON *sv = cJSON_AddArrayToObject(mv, "sampledValue");
    double power = e->charging ? e->ev.power_w : 0;
    double amps = st->cfg->spec.dc ? power / st->cfg->spec.voltage_v /* per phase: a 1-phase EV's all on one */
                                   : power / (sim_draw_phases(&st->cfg->spec, e->ev.spec.phases) * st->cfg->spec.voltage_v);
    struct { const char *measurand; double value; const char *unit; } v[4] = {
        {"Energy.Active.Import.Register", e->register_wh, "Wh"},
        {"Power.Active.Import", power, "W"},
        {"Current.Import", amps, "A"},
        {"SoC", e->ev.soc * 100.0, "Percent"},
    };
    for (int i = 0; i < 4; i++) {
        cJSON *s = cJSON_CreateObject();
        /* One decimal: the values stay readable and exact enough for any CSMS. */
        snprintf(num, sizeof num, "%.1f", v[i].value);
        cJSON_AddNumberToObject(s, "value", strtod(num, NULL));
        cJSON_AddStringToObject(s, "measurand", v[i].measurand);
        cJSON_AddItemToObject(s, "unitOfMeasure", cJSON_CreateObject());
        cJSON_AddStringToObject(cJSON_GetObjectItem(s, "unitOfMeasure"), "unit", v[i].unit);
        cJSON_AddItemToArray(sv, s);
    }
    return arr;
}

/* E01 / E06 / E12: one TransactionEvent; queued with offline=true when there is no CSMS to take it. */
static void tx_event(struct sim_station *st, int evse_id, const char *type, const char *trigger, const char *state,
                     bool with_token, bool with_meter, const char *stopped)
{
    struct sim_evse *e = &st->evse[evse_id];
    int64_t t = now_sim(st);
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "eventType", type);
    cJSON_AddStringToObject(p, "timestamp", fmt_time(t, tb));
    cJSON_AddStringToObject(p, "triggerReason", trigger);
    cJSON_AddNumberToObject(p, "seqNo", e->seq++);
    cJSON *ti = cJSON_AddObjectToObject(p, "transactionInfo");
    cJSON_AddStringToObject(ti, "transactionId", st->tx[evse_id].tx_id);
    if (state)
        cJSON_AddStringToObject(ti, "chargingState", state);
    if (stopped)
        cJSON_AddStringToObject(ti, "stoppedReason", stopped);
    if (e->remote_start_id >= 0 && with_token) {
        /* F01/F02: the first event after a RequestStartTransaction carries its remoteStartId. */
        cJSON_AddNumberToObject(ti, "remoteStartId", e->remote_start_id);
        e->remote_start_id = -1;
    }
    if (strcmp(type, "Started") == 0 || with_token) {
        cJSON *ev = cJSON_AddObjectToObject(p, "evse");
        cJSON_AddNumberToObject(ev, "id", evse_id);
        cJSON_AddNumberToObject(ev, "connectorId", 1);
    }
    if (with_token && e->visit >= 0) {
        cJSON *tok = cJSON_AddObjectToObject(p, "idToken");
        cJSON_AddStringToObject(tok, "idToken", e->token[0] ? e->token : e->ev.spec.id_token);
        cJSON_AddStringToObject(tok, "type", e->token_type[0] ? e->token_type : "ISO14443");
    }
    if (with_meter)
        cJSON_AddItemToObject(p, "meterValue", meter_value(st, evse_id, t));
    if (st->session && st->booted)
        send_tx_event(st, p);
    else
        sim_station_keep_offline(st, p);
}

static void send_needs(struct sim_station *st, int evse_id, const struct sim_visit *v)
{
    char tb[32];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "evseId", evse_id);
    cJSON *n = cJSON_AddObjectToObject(p, "chargingNeeds");
    bool dc = st->cfg->spec.dc;
    int phases = sim_draw_phases(&st->cfg->spec, v->ev.phases); /* a 1-phase EV on a 3-phase station: single */
    cJSON_AddStringToObject(n, "requestedEnergyTransfer", dc ? "DC" : phases == 3 ? "AC_three_phase" : "AC_single_phase");
    int64_t dep = v->requested_departure_ms ? v->requested_departure_ms : v->departure_ms;
    cJSON_AddStringToObject(n, "departureTime", fmt_time(dep, tb));
    int energy = (int)(sim_ev_energy_to_target_wh(&st->evse[evse_id].ev) + 0.5);
    if (dc) {
        cJSON *d = cJSON_AddObjectToObject(n, "dcChargingParameters");
        cJSON_AddNumberToObject(d, "evMaxCurrent", (int)(v->ev.max_power_w / st->cfg->spec.voltage_v));
        cJSON_AddNumberToObject(d, "evMaxVoltage", (int)st->cfg->spec.voltage_v);
        cJSON_AddNumberToObject(d, "energyAmount", energy);
        cJSON_AddNumberToObject(d, "evMaxPower", (int)v->ev.max_power_w);
        cJSON_AddNumberToObject(d, "stateOfCharge", (int)(st->evse[evse_id].ev.soc * 100));
        cJSON_AddNumberToObject(d, "evEnergyCapacity", (int)v->ev.capacity_wh);
    } else {
        cJSON *a = cJSON_AddObjectToObject(n, "acChargingParameters");
        cJSON_AddNumberToObject(a, "energyAmount", energy);
        cJSON_AddNumberToObject(a, "evMinCurrent", 6);
        cJSON_AddNumberToObject(a, "evMaxCurrent", (int)(v->ev.max_power_w / (phases * st->cfg->spec.voltage_v)));
        cJSON_AddNumberToObject(a, "evMaxVoltage", (int)st->cfg->spec.voltage_v);
    }
    call(st, "NotifyEVChargingNeeds", p, (void *)(intptr_t)evse_id);
    cJSON_Delete(p);
}

int sim_station_init(struct sim_station *st, struct sim_world *w, int index, const struct sim_station_cfg *cfg)
{
    memset(st, 0, sizeof *st);
    st->w = w;
    st->index = index;
    st->cfg = cfg;
    snprintf(st->password, sizeof st->password, "%s", cfg->password);
    st->profiles = sim_profiles_new(&cfg->spec);
    st->heartbeat_s = 60;
    for (int e = 0; e <= SIM_EVSE_MAX; e++) {
        st->evse[e].visit = -1;
        st->evse[e].remote_start_id = -1;
    }
    return st->profiles ? 0 : -1;
}

void sim_station_free(struct sim_station *st)
{
    if (st->session)
        ocpp_session_close(st->session, sim_station_on_event, st); /* frees the payloads riding on unanswered calls */
    st->session = NULL;
    for (int i = 0; i < st->out_n; i++)
        free(st->out[(st->out_head + i) % SIM_OUT_MAX]);
    st->out_n = 0;
    for (int i = 0; i < st->offline_n; i++)
        cJSON_Delete(st->offline_q[i]);
    st->offline_n = 0;
    sim_profiles_free(st->profiles);
    st->profiles = NULL;
    free(st->cert_key_pem);
    free(st->cert_chain_pem);
    st->cert_key_pem = st->cert_chain_pem = NULL;
}

void sim_station_receive(struct sim_station *st, const char *msg, size_t len, int64_t now_real)
{
    if (!st->session)
        return;
    sim_report_counters(st->w->report)->received++;
    ocpp_session_feed(st->session, msg, len, now_real, sim_station_on_event, st);
    sim_station_flush(st);
}

static void on_boot_result(struct sim_station *st, const cJSON *p)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(p, "status");
    const cJSON *interval = cJSON_GetObjectItemCaseSensitive(p, "interval");
    st->boot_in_flight = false;
    if (cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0) {
        st->booted = st->registered = true;
        st->resumed = false; /* booted on this connection: a later SecurityError is not a lost registration */
        /* B01.FR.xx: heartbeat at the interval the CSMS returns. */
        if (cJSON_IsNumber(interval) && interval->valueint > 0)
            st->heartbeat_s = interval->valueint;
        st->next_heartbeat_sim = now_sim(st) + (int64_t)(st->heartbeat_s * 1000 * st->w->opt.speed);
        sim_station_replay_offline(st);
        st->boot_reason = NULL;
        for (int e = 1; e <= st->cfg->spec.evse_count; e++)
            send_status(st, e);
        int64_t t = now_sim(st);
        for (int e = 1; e <= st->cfg->spec.evse_count; e++)
            if (st->evse[e].restart_after_boot && st->evse[e].visit >= 0)
                begin_tx(st, e, t, false); /* still plugged after a reset: a new transaction */
    } else {
        /* B02 / B03: Pending or Rejected; boot again after the interval given (real time). */
        int64_t wait_s = cJSON_IsNumber(interval) && interval->valueint > 0 ? interval->valueint : 10;
        st->boot_retry_real = sim_real_ms() + wait_s * 1000;
    }
}

static void on_authorize_result(struct sim_station *st, int evse_id, const cJSON *p)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(p, "idTokenInfo");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(info, "status");
    struct sim_evse *e = &st->evse[evse_id];
    if (e->visit < 0 || e->authorized)
        return;
    if (cJSON_IsString(status) && strcmp(status->valuestring, "Accepted") == 0) {
        e->authorized = e->charging = true;
        tx_event(st, evse_id, "Updated", "Authorized", "Charging", true, false, NULL);
    }
}

void sim_station_on_event(void *ctx, const struct ocpp_event *ev)
{
    struct sim_station *st = ctx;
    struct sim_counters *c = sim_report_counters(st->w->report);
    switch (ev->type) {
    case OCPP_EV_CALL:
        sim_station_handle_call(st, ev, sim_real_ms());
        break;
    case OCPP_EV_RESULT:
        if (strcmp(ev->action, "TransactionEvent") == 0) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->user, "offline")))
                c->replayed++; /* delivered: an offline event sent twice (refused once) counts once */
            cJSON_Delete(ev->user);
        }
        if (strcmp(ev->action, "BootNotification") == 0)
            on_boot_result(st, ev->payload);
        else if (strcmp(ev->action, "Authorize") == 0)
            on_authorize_result(st, (int)(intptr_t)ev->user, ev->payload);
        break;
    case OCPP_EV_ERROR: {
        /* Refused after a reconnect without boot: the CSMS did not know the station, so it judged nothing
         * (link.c boots, and counts the CALLERROR itself). */
        bool refused = sim_station_refused(st, ev);
        bool unjudged = ev->closed || ev->timed_out || refused;
        if (ev->timed_out)
            c->timeouts++;
        else if (!unjudged)
            c->callerrors_in++;
        if (ev->action && strcmp(ev->action, "TransactionEvent") == 0) {
            /* Not judged: try again once Accepted on a connection. A CALLERROR is the CSMS's verdict on it. */
            if (unjudged)
                sim_station_keep_offline(st, ev->user);
            else
                cJSON_Delete(ev->user);
        }
        if (ev->action && strcmp(ev->action, "NotifyEVChargingNeeds") == 0 && refused)
            st->evse[(int)(intptr_t)ev->user].needs_sent = false; /* told again after the boot */
        if (ev->action && strcmp(ev->action, "Authorize") == 0 && unjudged) {
            /* C15: the CSMS went away (or did not know the station) before it answered; a known vehicle may
             * charge and the station tells later, as when it was offline at plug-in. */
            int evse_id = (int)(intptr_t)ev->user;
            struct sim_evse *e = &st->evse[evse_id];
            if (e->visit >= 0 && !e->authorized) {
                e->authorized = e->charging = true;
                tx_event(st, evse_id, "Updated", "Authorized", "Charging", true, false, NULL);
            }
        }
        if (ev->action && strcmp(ev->action, "BootNotification") == 0) {
            st->boot_in_flight = false;
            st->boot_retry_real = sim_real_ms() + 5000;
        }
        break;
    }
    case OCPP_EV_PROTOCOL:
        /* The CSMS sent something invalid: a conformance failure, counted and shown. */
        c->invalid_frames++;
        if (st->w->opt.progress && ev->fault)
            fprintf(stderr, "%s: invalid frame from CSMS: %s %s\n", st->cfg->id, ocpp_error_name(ev->fault->code),
                    ev->fault->description);
        break;
    }
}

const struct sim_visit *sim_visit_at(const struct sim_world *w, int visit)
{
    if (visit < w->scenario->n)
        return &w->scenario->visits[visit];
    return &w->extra_visits[visit - w->scenario->n];
}

/* E02: a transaction starts when the cable is plugged in (trigger CablePluggedIn) or when the CSMS started it
 * on a free EVSE (RemoteStart: authorized already, AuthorizeRemoteStart being false); authorization follows. */
static void begin_tx(struct sim_station *st, int evse_id, int64_t t_sim, bool remote)
{
    struct sim_evse *e = &st->evse[evse_id];
    const struct sim_visit *v = sim_visit_at(st->w, e->visit);
    e->authorized = e->charging = e->needs_sent = e->restart_after_boot = e->ev_stopped = false;
    e->seq = 0;
    e->next_meter_sim = t_sim + (int64_t)st->w->opt.meter_interval_s * 1000;
    snprintf(st->tx[evse_id].tx_id, sizeof st->tx[evse_id].tx_id, "%.24s-%d-%d", st->cfg->id,
             evse_id % 100, ++st->tx_counter % 100000);
    st->tx[evse_id].start_ms = t_sim;
    if (remote) {
        e->authorized = e->charging = true;
        tx_event(st, evse_id, "Started", "RemoteStart", "Charging", true, true, NULL);
    } else {
        tx_event(st, evse_id, "Started", "CablePluggedIn", "EVConnected", false, true, NULL);
        if (st->booted) {
            cJSON *p = cJSON_CreateObject();
            cJSON *tok = cJSON_AddObjectToObject(p, "idToken");
            cJSON_AddStringToObject(tok, "idToken", v->ev.id_token);
            cJSON_AddStringToObject(tok, "type", "ISO14443");
            call(st, "Authorize", p, (void *)(intptr_t)evse_id);
            cJSON_Delete(p);
        } else {
            /* C15 offline authorization: the station lets a known vehicle charge and tells later. */
            e->authorized = e->charging = true;
            tx_event(st, evse_id, "Updated", "Authorized", "Charging", true, false, NULL);
        }
    }
    if (v->iso15118 && st->booted) {
        send_needs(st, evse_id, v);
        e->needs_sent = true;
    }
}

static bool plug(struct sim_station *st, int evse_id, int visit, int64_t t_sim, bool remote)
{
    struct sim_evse *e = &st->evse[evse_id];
    const struct sim_visit *v = sim_visit_at(st->w, visit);
    if (e->visit >= 0 || e->inoperative)
        return false;
    e->visit = visit;
    sim_ev_init(&e->ev, &v->ev, v->arrival_soc, v->target_soc);
    if (!remote) {
        snprintf(e->token, sizeof e->token, "%s", v->ev.id_token);
        snprintf(e->token_type, sizeof e->token_type, "ISO14443");
    }
    if (st->booted)
        send_status(st, evse_id);
    begin_tx(st, evse_id, t_sim, remote);
    return true;
}

bool sim_station_plug(struct sim_station *st, int evse_id, int visit, int64_t t_sim, int64_t now_real)
{
    (void)now_real;
    return plug(st, evse_id, visit, t_sim, false);
}

/* The transaction ends; the EV stays plugged (its visit goes on) unless the caller unplugs it. */
static void end_tx(struct sim_station *st, int evse_id, const char *trigger, const char *stopped)
{
    struct sim_evse *e = &st->evse[evse_id];
    if (!st->tx[evse_id].tx_id[0])
        return;
    e->charging = e->authorized = false;
    tx_event(st, evse_id, "Ended", trigger, e->visit >= 0 && strcmp(trigger, "EVDeparted") ? "EVConnected" : "Idle",
             false, true, stopped);
    sim_profiles_transaction_ended(st->profiles, st->tx[evse_id].tx_id);
    st->tx[evse_id].tx_id[0] = '\0';
    e->token[0] = e->token_type[0] = '\0';
    e->remote_start_id = -1;
}

static void leave(struct sim_station *st, int evse_id, int64_t t_sim, const char *trigger, const char *stopped)
{
    struct sim_evse *e = &st->evse[evse_id];
    if (e->visit < 0)
        return;
    (void)t_sim;
    struct sim_vehicle_result *r = sim_report_vehicle(st->w->report);
    const struct sim_visit *v = sim_visit_at(st->w, e->visit);
    if (r) {
        snprintf(r->ev, sizeof r->ev, "%s", v->ev.id);
        snprintf(r->station, sizeof r->station, "%s", st->cfg->id);
        r->evse = evse_id;
        r->arrival_ms = v->arrival_ms;
        r->departure_ms = v->departure_ms;
        r->requested_wh = v->requested_wh;
        r->delivered_wh = e->ev.grid_wh;
        r->max_power_w = fmin(v->ev.max_power_w, sim_evse_max_w_for(&st->cfg->spec, v->ev.phases)); /* 1-phase: a third */
        r->plugged = true;
    }
    end_tx(st, evse_id, trigger, stopped);
    e->visit = -1;
    e->restart_after_boot = false;
    if (e->inoperative_pending) {
        e->inoperative = true;
        e->inoperative_pending = false;
    }
    if (st->booted)
        send_status(st, evse_id);
}

void sim_station_unplug(struct sim_station *st, int evse_id, int64_t t_sim, int64_t now_real)
{
    (void)now_real;
    leave(st, evse_id, t_sim, "EVDeparted", "EVDisconnected");
}

/* ---- the CSMS's commands (handlers.c answers, these act) ---- */

int sim_station_remote_start(struct sim_station *st, int evse_id, const char *token, const char *type, int remote_id,
                             char *tx_id, size_t tx_len)
{
    struct sim_world *w = st->w;
    int64_t t = sim_clock_now(&w->clock, sim_real_ms());
    struct sim_evse *e = &st->evse[evse_id];
    tx_id[0] = '\0';
    if (e->inoperative || e->inoperative_pending || (e->visit >= 0 && e->authorized))
        return -1;
    if (e->visit >= 0) {
        /* F02: the cable was plugged in first; the CSMS's token authorizes the transaction already running. */
        if (!st->tx[evse_id].tx_id[0])
            return -1; /* between a reset's end and the reboot */
        snprintf(tx_id, tx_len, "%s", st->tx[evse_id].tx_id);
        snprintf(e->token, sizeof e->token, "%s", token);
        snprintf(e->token_type, sizeof e->token_type, "%s", type);
        e->remote_start_id = remote_id;
        e->authorized = e->charging = true;
        tx_event(st, evse_id, "Updated", "RemoteStart", "Charging", true, false, NULL);
        return 1;
    }
    /* F01: nobody is plugged in; in the simulator a driver plugs a walk-in EV at once: 60 kWh, the EVSE's
     * power, 20 % -> 80 %, staying 8 hours. */
    if (w->n_extra_visits >= SIM_EXTRA_VISITS)
        return -1;
    int k = w->n_extra_visits++;
    struct sim_visit *v = &w->extra_visits[k];
    memset(v, 0, sizeof *v);
    snprintf(v->station, sizeof v->station, "%s", st->cfg->id);
    v->evse = evse_id;
    v->arrival_ms = t;
    v->departure_ms = t + 8 * 3600000LL;
    v->arrival_soc = 0.2;
    v->target_soc = 0.8;
    snprintf(v->ev.id, sizeof v->ev.id, "REMOTE-%.28s", token);
    snprintf(v->ev.id_token, sizeof v->ev.id_token, "%s", token);
    v->ev.capacity_wh = 60000;
    v->ev.max_power_w = st->cfg->spec.evse_max_w;
    v->ev.taper_soc = 0.8;
    v->ev.taper_floor = 0.1;
    v->ev.efficiency = 0.92;
    v->requested_wh = (v->target_soc - v->arrival_soc) * v->ev.capacity_wh / v->ev.efficiency;
    snprintf(e->token, sizeof e->token, "%s", token);
    snprintf(e->token_type, sizeof e->token_type, "%s", type);
    e->remote_start_id = remote_id;
    if (!plug(st, evse_id, w->scenario->n + k, t, true)) {
        w->n_extra_visits--;
        e->remote_start_id = -1;
        return -1;
    }
    return 2;
}

int sim_station_remote_stop(struct sim_station *st, const char *tx_id)
{
    for (int e = 1; e <= st->cfg->spec.evse_count; e++)
        if (st->tx[e].tx_id[0] && strcmp(st->tx[e].tx_id, tx_id) == 0) {
            /* F03: the session ends; the simulated driver then takes the vehicle away. */
            leave(st, e, sim_clock_now(&st->w->clock, sim_real_ms()), "RemoteStop", "Remote");
            return 0;
        }
    return -1;
}

bool sim_station_idle(const struct sim_station *st)
{
    for (int e = 1; e <= st->cfg->spec.evse_count; e++)
        if (st->tx[e].tx_id[0])
            return false;
    return true;
}

void sim_station_reset_now(struct sim_station *st)
{
    /* B12: transactions end (ImmediateReset) before the reboot; the vehicles stay plugged and get a new
     * transaction once the station is back. */
    for (int e = 1; e <= st->cfg->spec.evse_count; e++)
        if (st->tx[e].tx_id[0]) {
            end_tx(st, e, "ResetCommand", "ImmediateReset");
            st->evse[e].restart_after_boot = st->evse[e].visit >= 0;
        }
    st->reset_on_idle = false;
    st->registered = false; /* a reboot: the next connection boots (B11/B12), with the reason below */
    st->boot_reason = "RemoteReset";
    st->reset_at_real = sim_real_ms() + 100; /* net.c closes once the answer and the Ended events are out */
}

const char *sim_station_availability(struct sim_station *st, int evse_id, bool operative)
{
    struct sim_evse *e = &st->evse[evse_id];
    if (operative) {
        bool changed = e->inoperative;
        e->inoperative = e->inoperative_pending = false;
        if (changed && st->booted)
            send_status(st, evse_id);
        return "Accepted";
    }
    if (st->tx[evse_id].tx_id[0] || e->visit >= 0) {
        /* G03.FR.05: a running transaction is not interrupted; Unavailable once the vehicle has gone. */
        e->inoperative_pending = true;
        return "Scheduled";
    }
    bool changed = !e->inoperative;
    e->inoperative = true;
    if (changed && st->booted)
        send_status(st, evse_id);
    return "Accepted";
}

void sim_station_send_status(struct sim_station *st, int evse_id) { send_status(st, evse_id); }

void sim_station_send_meter_values(struct sim_station *st, int evse_id)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "evseId", evse_id);
    cJSON_AddItemToObject(p, "meterValue", meter_value(st, evse_id, now_sim(st)));
    call(st, "MeterValues", p, NULL);
    cJSON_Delete(p);
}

int sim_station_send(struct sim_station *st, const char *action, const cJSON *payload)
{
    return call(st, action, payload, NULL);
}

void sim_station_send_heartbeat(struct sim_station *st)
{
    cJSON *p = cJSON_CreateObject();
    call(st, "Heartbeat", p, NULL);
    cJSON_Delete(p);
}

void sim_station_send_boot(struct sim_station *st, const char *reason)
{
    st->boot_reason = reason;
    send_boot(st);
}

void sim_station_step(struct sim_station *st, int64_t t_sim, int64_t dt_sim, int64_t now_real)
{
    int n = st->cfg->spec.evse_count;
    (void)dt_sim;
    sim_station_charge(st, t_sim);
    /* Profiles run on the station's own clock: a skewed one applies each period skew_ms early (ahead) or late. */
    sim_profiles_expire(st->profiles, t_sim + st->skew_ms);
    for (int e = 1; e <= n; e++) {
        struct sim_evse *ev = &st->evse[e];
        if (ev->visit < 0)
            continue;
        /* E02: a change of the charging state is told at once (ChargingStateChanged), not at the next meter value:
         * an EV that stopped at its target frees its power for the others only once the CSMS knows. Only the EV's
         * own stop and resume: a limit of 0 (SuspendedEVSE) is the CSMS's own doing. */
        bool stopped = ev->charging && sim_ev_limit_w(&ev->ev) <= 0;
        if (st->tx[e].tx_id[0] && stopped != ev->ev_stopped) {
            ev->ev_stopped = stopped;
            tx_event(st, e, "Updated", "ChargingStateChanged", stopped ? "SuspendedEV" : "Charging", false, true, NULL);
        }
        if (t_sim >= ev->next_meter_sim && st->tx[e].tx_id[0]) {
            ev->next_meter_sim = t_sim + (int64_t)st->w->opt.meter_interval_s * 1000;
            /* OCPP 2.0.1 ChargingStateEnumType: the EV stopped by itself (at its target) is SuspendedEV; the
             * EVSE offering it nothing (a limit under its minimum) is SuspendedEVSE. */
            const char *state = ev->charging && ev->ev.power_w > 0 ? "Charging"
                                : sim_ev_limit_w(&ev->ev) <= 0 ? "SuspendedEV" : "SuspendedEVSE";
            tx_event(st, e, "Updated", "MeterValuePeriodic", state, false, true, NULL);
        }
        if (st->booted && !ev->needs_sent && sim_visit_at(st->w, ev->visit)->iso15118) {
            send_needs(st, e, sim_visit_at(st->w, ev->visit));
            ev->needs_sent = true;
        }
    }
    if (st->session && !st->booted && !st->boot_in_flight && st->boot_retry_real && now_real >= st->boot_retry_real) {
        st->boot_retry_real = 0;
        send_boot(st);
    }
    if (st->booted && st->fault_malformed && !st->malformed_sent && st->out_n < SIM_OUT_MAX) {
        /* Fault: one truncated CALL; the CSMS must answer RpcFrameworkError (OCPP-J 4.2.3) and carry on. */
        st->malformed_sent = true;
        st->out[(st->out_head + st->out_n++) % SIM_OUT_MAX] = strdup("[2,\"bad-1\",\"Heartbeat\",{");
    }
    if (st->reset_on_idle && sim_station_idle(st))
        sim_station_reset_now(st);
    if (st->booted && t_sim >= st->next_heartbeat_sim) {
        st->next_heartbeat_sim = t_sim + (int64_t)(st->heartbeat_s * 1000 * st->w->opt.speed);
        cJSON *p = cJSON_CreateObject();
        call(st, "Heartbeat", p, NULL);
        cJSON_Delete(p);
    }
    if (st->session) {
        ocpp_session_tick(st->session, now_real, sim_station_on_event, st);
        sim_station_flush(st);
    }
}

void sim_station_send_sign_certificate(struct sim_station *st)
{
    char *csr = sim_cert_csr(st);
    if (!csr)
        return;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "csr", csr);
    cJSON_AddStringToObject(p, "certificateType", "ChargingStationCertificate");
    call(st, "SignCertificate", p, NULL);
    cJSON_Delete(p);
    free(csr);
}
