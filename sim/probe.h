/*
 * probe.h - `depotsim probe`: depotsim as the CSMS side of a test bench, walking a charger through a catalogue
 * of checks a depot buying chargers cares about (OCPP 2.0.1 B, E, F, G, J, K), with the composite schedule it
 * expects computed by the same code as depotsim's own stations (profiles.h) and the meter values held against
 * the limit in force, with a tolerance and a reaction time.
 *
 * One station at a time, on ws:// or wss:// (security profile 2, or 3 with a CA for the stations' certificates) at
 * an IPv4 address (127.0.0.1 in the tests; a bench charger reaches the probe on its LAN address). The cases run in order on one charging session: each
 * PASS, FAIL (with the frames as evidence) or SKIP with the reason. The driver (probe_ws.c) is synchronous like
 * conform's: a case sends a CALL and runs the loop until the answer or the station's next message comes.
 * Thread: one.
 */
#ifndef SIM_PROBE_H
#define SIM_PROBE_H

#include <ocpp.h>
#include <stdbool.h>
#include <stdint.h>

#include "wsauth.h"

struct pr_options {
    char host[64];              /* the IPv4 address to listen on (127.0.0.1 for tests) */
    int port;                   /* 0: any free one (said on stderr: "probe listening on ws://...") */
    struct sim_tls tls;         /* wss://: cert and key are the probe's (the CSMS's) certificate; with ca, stations
                                 * must show a certificate of that CA (security profile 3) */
    char path[128];             /* "/ocpp/": the station connects to <path><station id> */
    char station[64];           /* the station expected ("": the first that connects) */
    char password[64];          /* its Basic auth password ("": none asked) */
    char id_token[40];          /* for the remote start */
    double wait_s;              /* how long to wait for each answer or message */
    double tolerance_pct;       /* power above the limit in force still counted as following it */
    double reaction_s;          /* how long a station may take to follow a new limit */
    double offline_s;           /* how long the probe stays away in the offline case */
    const char *json_path, *junit_path;
};

int sim_probe_run(const struct pr_options *o);

/* ---- the driver (probe_ws.c) ---- */
struct pr_msg {                 /* one CALL of the station, answered by the driver, kept for the cases */
    char action[OCPP_ACTION_MAX + 1];
    cJSON *payload;
    int64_t at_ms;              /* depotsim's wall clock when it came */
    int connection;             /* which connection of the station it came on (1, 2, ...) */
    bool taken;
};

int pr_init(const struct pr_options *o, char *err, size_t err_len);
void pr_shutdown(void);
/* Runs the loop until a station is connected (and booted, when boot), at most wait_s. */
bool pr_wait_connected(double wait_s);
bool pr_connected(void);
const char *pr_station_id(void);
int pr_connections(void);       /* how many times the station has connected */
/* A CALL to the station; 0: CALLRESULT (*result, caller frees), 1: CALLERROR (*code), -1: none in time. */
int pr_call(const char *action, const cJSON *payload, cJSON **result, enum ocpp_error *code);
/* The first station CALL of action not taken yet for which match (NULL: any) holds, taken; waits up to wait_s. */
struct pr_msg *pr_wait_msg(const char *action, bool (*match)(const struct pr_msg *m, const void *arg),
                           const void *arg, double wait_s);
void pr_pump(double s);
/* Every station CALL received so far (taken or not), in order. */
void pr_each(void (*fn)(const struct pr_msg *m, void *arg), void *arg);
/* Closes the connection and refuses the station's reconnections for refuse_s. */
void pr_drop(double refuse_s);
int pr_faults(void);            /* invalid frames the station sent */
void pr_evidence(char *buf, size_t len);

#endif
