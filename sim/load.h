/*
 * load.h - `depotsim load`: K stations on one libwebsockets client context, each sending Heartbeat or
 * MeterValues at R per second for S seconds, and the CSMS's throughput and round-trip latency.
 *
 * Open loop: the g-th message of the run (g = 0 .. K*R*S-1) is due at start + g / (K*R) on station g mod K,
 * whatever the CSMS does. OCPP-J lets a station have one CALL in flight, so a station whose previous CALL is
 * still unanswered sends the due one as soon as the answer arrives: `rtt` is write -> answer, `lag` is
 * due -> answer (the latency a station behind a slow CSMS sees, without coordinated omission).
 *
 * Thread: one thread, the lws loop's. Bounded: at most SIM_LOAD_MAX_STATIONS connections and
 * SIM_LOAD_MAX_MESSAGES messages per run, and the run ends after connect + S + drain seconds whatever happens.
 */
#ifndef SIM_LOAD_H
#define SIM_LOAD_H

#include "wsauth.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_LOAD_MAX_STATIONS 60000
#define SIM_LOAD_MAX_MESSAGES 50000000

struct sim_load_options {
    char host[128];
    int port;
    char path[256];          /* prefix; "/<station id>" is appended */
    struct sim_tls tls;      /* wss:// */
    char id_prefix[32];      /* station ids are <prefix><00001..> */
    char password[64];       /* HTTP Basic password, "" for none */
    int stations;            /* K */
    double rate;             /* R: messages per second per station */
    double seconds;          /* S */
    bool meter_values;       /* MeterValues instead of Heartbeat */
    int connect_batch;       /* handshakes in progress at once */
    double connect_timeout_s; /* connect + boot phase bound */
    double call_timeout_s;   /* an unanswered CALL counts as a timeout after this */
    bool validate;           /* check every answer against the official response schema */
};

struct sim_load_result {
    int stations, connected, booted, connect_failed, boot_rejected, dropped;
    uint64_t planned, sent, answered, callerrors, timeouts, invalid, not_sent, behind;
    uint64_t csms_calls;     /* CALLs the CSMS sent us (GetVariables after boot ...) */
    double connect_s;        /* connect + boot phase, wall */
    double load_s;           /* first due message to last answer, wall */
    double throughput;       /* answered per second over load_s */
    double rtt_ms[5];        /* p50, p95, p99, max, mean */
    double lag_ms[5];
    double cpu_s;            /* depotsim's own user+sys CPU during the load phase */
    double cpu_us_per_msg;
    const char *event_loop;  /* "libuv" or "poll" */
};

/* Runs the whole thing. 0, or -1 with err (bad options, no lws context, out of memory). */
int sim_load_run(const struct sim_load_options *o, struct sim_load_result *r, char *err, size_t err_len);
void sim_load_print(const struct sim_load_options *o, const struct sim_load_result *r, bool json, FILE *out);

#endif
