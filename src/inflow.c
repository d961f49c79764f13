/*
 * inflow.c - what depotd takes from one station is bounded: read at most max_messages_per_s (bursts of 10
 * seconds' worth, per simulated second on a simulated clock), and not past max_unanswered CALLs waiting for
 * their answers. Beyond either the station is not read for a while: its frames wait in TCP, nothing is lost.
 * Counted and logged (folded). Loop thread.
 */
#include <stdio.h>

#include "control.h"
#include "depot.h"
#include "log.h"

/* CALLs received and not answered yet (answers the session gives by itself count too, hence the floor). */
static uint64_t backlog(const struct conn *c)
{
    return c->calls_in > c->answers_out ? c->calls_in - c->answers_out : 0;
}

static void unthrottle(lws_sorted_usec_list_t *sul)
{
    struct conn *c = lws_container_of(sul, struct conn, throttle_sul);
    if (!c->throttled || !c->wsi) return;
    c->throttled = c->throttled_rate = false;
    lws_rx_flow_control(c->wsi, 1);
}

static void throttle(struct conn *c, const char *why, int64_t wait_ms)
{
    struct depot *d = c->depot;
    c->throttled = true;
    c->throttled_rate = wait_ms > 0;
    lws_rx_flow_control(c->wsi, 0);
    d->counters.throttled++;
    if (wait_ms > 0) lws_sul_schedule(lws_get_context(c->wsi), 0, &c->throttle_sul, unthrottle, wait_ms * 1000);
    int folded = 0;
    char key[96];
    snprintf(key, sizeof key, "%s|throttled %s", c->station ? c->station->id : "", why);
    if (!doors_log_refusal(d->doors, key, depot_mono_ms(), &folded)) return;
    log_warn("ocpp", c->station ? c->station->id : NULL, "not read for a while: %s", why);
    char json[160];
    snprintf(json, sizeof json, "{\"reason\":\"%s\",\"folded\":%d}", why, folded);
    depot_log_station_event(d, "throttled", c->station ? c->station->id : NULL, json);
}

/* After a whole frame: a token, and a bound on what depotd holds for the station; either stops its reading. */
void depot_inflow(struct depot *d, struct conn *c)
{
    /* On a simulated clock a station's messages come speed times as fast: the limit is per simulated second. */
    double speed = depot_clock_speed() > 1 ? depot_clock_speed() : 1;
    double rate = d->cfg.max_messages_per_s * speed, burst = 10 * rate;
    int64_t now = depot_mono_ms();
    if (!c->tokens_ms) c->tokens = burst;
    else c->tokens += (double)(now - c->tokens_ms) * rate / 1000.0;
    if (c->tokens > burst) c->tokens = burst;
    c->tokens_ms = now;
    c->tokens -= 1;
    if (c->throttled || !c->wsi) return;
    if (c->tokens < 0) throttle(c, "above max_messages_per_s", (int64_t)(-c->tokens * 1000.0 / rate) + 1);
    else if (backlog(c) >= (uint64_t)d->cfg.max_unanswered)
        throttle(c, "max_unanswered CALLs waiting for their answers", 0); /* written() reopens it */
}

void depot_inflow_written(struct conn *c)
{
    /* A backlog stop ends when half of it is written (a rate stop ends on its timer). */
    if (c->throttled && !c->throttled_rate && backlog(c) < (uint64_t)c->depot->cfg.max_unanswered / 2) {
        c->throttled = false;
        lws_rx_flow_control(c->wsi, 1);
    }
}
