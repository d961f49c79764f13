/*
 * sim.h - the networked simulator: stations on ocpp_session over one libwebsockets client context.
 *
 * Thread: everything here is owned by the single lws event-loop thread (sim_run). Times: *_sim are
 * simulated ms since the epoch (what stations put in messages and apply schedules on); *_real are
 * monotonic real ms (what call timeouts and reconnect delays use).
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include "ev.h"
#include "profiles.h"
#include "report.h"
#include "scenario.h"
#include "simtime.h"
#include "wsauth.h"

#include <ocpp.h>

#define SIM_OFFLINE_MAX 4096  /* TransactionEvents a station keeps while offline */
#define SIM_OUT_MAX 512       /* frames waiting for the socket per station */
#define SIM_LATE_MAX 32       /* CSMS calls a late-answering station holds at once */
#define SIM_EXTRA_VISITS 256  /* walk-in vehicles plugged by RequestStartTransaction */

struct sim_options {
    char host[128];
    int port;
    char path[256];           /* prefix; the station id is appended */
    struct sim_tls tls;       /* wss:// */
    double speed;
    int meter_interval_s;     /* simulated seconds between periodic meter values */
    int tick_ms;              /* real ms between simulation steps */
    bool progress;
    uint64_t seed;
    int64_t run_until_sim;    /* stop when the simulated clock passes this */
    int64_t max_real_ms;      /* and in any case after this much real time */
    /* Fault injection as fractions of the fleet (chosen with the seed). */
    double f_reject_profiles, f_drop, f_offline, f_silent, f_malformed, f_skew, f_late;
    double f_ignore_profiles, f_wrong_composite;
    int64_t late_ms;          /* fault late: how long the answer to a CSMS call is held back (real ms) */
    int64_t skew_ms;          /* clock skew of a skewed station (sign alternates with the seed) */
    int64_t clock_offset_ms;  /* --fault-clock-offset: this skew, signed, for the skewed stations (all by default) */
    bool has_clock_offset;
    int64_t drop_delay_ms;    /* real ms before reconnecting after a drop */
    int64_t offline_sim_ms;   /* how long an offline period lasts, simulated */
    bool reboot_on_reconnect; /* --reboot-on-reconnect: BootNotification on every connection (the old way) */
    /* --clock-anchor: simulated time = scenario start + (CLOCK_REALTIME - anchor) x speed, the formula depotd
     * is given too. Before the anchor the stations connect and boot but the scenario does not advance. */
    bool has_anchor;
    int64_t anchor_unix_ms;
    int table_minutes;        /* --table: one row per this many simulated minutes; 0: no table */
    double grid_limit_w;      /* the site's limit the report and table use (0: none) */
    FILE *table_out;
};

struct sim_evse {
    int visit;                /* index in the scenario, -1: free */
    struct sim_ev ev;
    bool authorized, charging;
    bool ev_stopped;          /* told SuspendedEV: the EV stopped by itself (its target reached) */
    int seq;                  /* seqNo of the next TransactionEvent */
    double register_wh;       /* energy register of the EVSE, never reset */
    int64_t next_meter_sim;
    bool needs_sent;
    char token[SIM_ID_MAX + 1];   /* the idToken the transaction runs under (the EV's, or a remote start's) */
    char token_type[21];
    int remote_start_id;          /* RequestStartTransaction's remoteStartId, told in the next event; -1: none */
    bool inoperative;             /* ChangeAvailability Inoperative: Unavailable, nobody plugs in */
    bool inoperative_pending;     /* asked while a transaction ran: applied when it ends */
    bool restart_after_boot;      /* its transaction ended with an immediate reset; the EV is still plugged */
};

struct sim_world;

struct sim_station {
    struct sim_world *w;
    int index;
    const struct sim_station_cfg *cfg;
    sim_profiles *profiles;
    struct sim_evse evse[SIM_EVSE_MAX + 1];
    struct sim_evse_tx tx[SIM_EVSE_MAX + 1];
    int tx_counter;

    char password[65];        /* Basic auth: the config's, until the CSMS sets a new one (A01) */
    char *cert_key_pem;       /* A02/A03: the key of its last CSR, and the chain the CSMS signed for it */
    char *cert_chain_pem;
    ocpp_session *session;    /* NULL while disconnected */
    int64_t charged_until;    /* simulated time the EVs were charged up to (sim_station_charge) */
    struct lws *wsi;
    bool connected, booted, boot_in_flight; /* booted: Accepted on this connection */
    /* Accepted since the station last (re)booted. OCPP 2.0.1 sends BootNotification only when a station boots,
     * so a new connection then resumes Accepted without one (link.c); a Reset clears it. */
    bool registered;
    bool resumed;             /* this connection resumed without BootNotification and has not booted since */
    int64_t heartbeat_s;
    int64_t next_heartbeat_sim;
    int64_t boot_retry_real;
    int64_t reconnect_at_real; /* 0: not waiting */
    int64_t offline_until_sim; /* fault: stay away until then */
    bool fault_reject_profiles, fault_drop, fault_offline, fault_done;
    bool fault_silent;        /* never answers the CSMS's CALLs */
    bool fault_late;          /* answers the CSMS's CALLs late_ms after they came */
    bool fault_ignore_profiles; /* accepts profiles but draws as if it had none (a non-compliant charger) */
    bool fault_wrong_composite; /* GetCompositeSchedule answers the hardware maximum, not what is in force */
    struct sim_late_call {
        int64_t due_real;
        char id[OCPP_MSG_ID_MAX + 1];
        char action[OCPP_ACTION_MAX + 1];
        cJSON *payload;
    } late[SIM_LATE_MAX];
    int late_n;
    bool fault_malformed, malformed_sent; /* sends one broken frame after boot */
    int64_t skew_ms;          /* added to every timestamp it sends */
    /* Reset (B11/B12): the reboot closes the connection once the answer has left; OnIdle waits for no
     * transaction. The next BootNotification says why. */
    int64_t reset_at_real;    /* 0: none due */
    bool reset_on_idle;
    const char *boot_reason;  /* NULL: PowerUp */

    char *out[SIM_OUT_MAX];   /* frames for the socket, oldest first */
    int out_head, out_n;
    char rx[65536 + 1];       /* fragment reassembly */
    size_t rx_len;

    cJSON *offline_q[SIM_OFFLINE_MAX]; /* TransactionEvent payloads made while not connected */
    int offline_n;
};

struct sim_world {
    struct sim_options opt;
    struct sim_clock clock;
    const struct sim_depot *depot;
    const struct sim_scenario *scenario;
    struct sim_report *report;
    const struct sim_prices *prices; /* NULL without --prices */
    /* Walk-in vehicles: a RequestStartTransaction on a free EVSE plugs one (visit index scenario->n + k). */
    struct sim_visit extra_visits[SIM_EXTRA_VISITS];
    int n_extra_visits;
    struct sim_station *stations;
    int nstations;
    int next_visit;
    int64_t last_step_sim;
    int64_t start_real;
    struct lws_context *ctx;
    bool stop, done;
    int64_t stop_at_real;
    int64_t table_next_sim;   /* the next row's time (a multiple of table_minutes); 0: not started */
    int table_rows;
};

int64_t sim_real_ms(void);   /* CLOCK_MONOTONIC, ms */
int64_t sim_wall_ms(void);   /* CLOCK_REALTIME, ms since the Unix epoch */

/* station.c: behaviour, driven by the loop */
int sim_station_init(struct sim_station *st, struct sim_world *w, int index, const struct sim_station_cfg *cfg);
void sim_station_free(struct sim_station *st);
void sim_station_receive(struct sim_station *st, const char *msg, size_t len, int64_t now_real);
/* What the station's ocpp_session reports (ctx: the station). */
void sim_station_on_event(void *ctx, const struct ocpp_event *ev);
void sim_station_step(struct sim_station *st, int64_t now_sim, int64_t dt_sim, int64_t now_real);
/* charge.c: the EVs charge from where they were charged until to now_sim, piece by piece wherever a limit in force
 * changes or an EV leaves. Called at every step and before the limits change (a profile set or cleared). */
void sim_station_charge(struct sim_station *st, int64_t now_sim);
bool sim_station_plug(struct sim_station *st, int evse_id, int visit, int64_t now_sim, int64_t now_real);
void sim_station_unplug(struct sim_station *st, int evse_id, int64_t now_sim, int64_t now_real);
/* A visit by index: the scenario's, then the walk-ins'. */
const struct sim_visit *sim_visit_at(const struct sim_world *w, int visit);

/* station.c, for the CSMS's commands (handlers.c). All answer after the CALLRESULT is queued. */
/* RequestStartTransaction: authorizes the plugged EV's transaction with token, or plugs a walk-in EV on a
 * free EVSE. 1 started on a plugged EV (tx_id set), 2 walk-in plugged, -1 cannot (occupied by an authorized
 * session, inoperative, no walk-in room). */
int sim_station_remote_start(struct sim_station *st, int evse_id, const char *token, const char *type, int remote_id,
                             char *tx_id, size_t tx_len);
/* RequestStopTransaction: the session ends (RemoteStop / Remote) and the driver unplugs. 0, or -1 unknown. */
int sim_station_remote_stop(struct sim_station *st, const char *tx_id);
/* Ends every transaction (ImmediateReset) keeping the EVs plugged, and reboots. */
void sim_station_reset_now(struct sim_station *st);
bool sim_station_idle(const struct sim_station *st);
/* ChangeAvailability for one EVSE: "Accepted", or "Scheduled" while a transaction runs. */
const char *sim_station_availability(struct sim_station *st, int evse_id, bool operative);
void sim_station_send_status(struct sim_station *st, int evse_id);
void sim_station_send_meter_values(struct sim_station *st, int evse_id);
void sim_station_send_heartbeat(struct sim_station *st);
/* Any CALL of the station's whose answer needs nothing done (a report part); 0, or -1 when it cannot go now. */
int sim_station_send(struct sim_station *st, const char *action, const cJSON *payload);
/* certs.c: a new key and a CSR for the station's id (PEM, malloc'd; NULL on failure); and the chain of a
 * CertificateSigned, kept when its first certificate is for that key. */
char *sim_cert_csr(struct sim_station *st);
bool sim_cert_install(struct sim_station *st, const char *chain);
void sim_station_send_sign_certificate(struct sim_station *st);
void sim_station_send_boot(struct sim_station *st, const char *reason);

/* link.c: the connection to the CSMS. A new connection boots, or resumes Accepted when the station is
 * registered (and --reboot-on-reconnect is off); closing it sends unanswered TransactionEvents back to the
 * offline queue. */
void sim_station_connected(struct sim_station *st, int64_t now_real);
void sim_station_disconnected(struct sim_station *st, int64_t now_real);
void sim_station_flush(struct sim_station *st);  /* move session output to the socket queue */
char *sim_station_next_out(struct sim_station *st);
/* A TransactionEvent payload (taken) goes to the offline queue with offline=true; dropped when full. */
void sim_station_keep_offline(struct sim_station *st, cJSON *p);
/* E12: sends the offline queue, oldest first. */
void sim_station_replay_offline(struct sim_station *st);
/* A CALLERROR SecurityError on a resumed connection: the CSMS has lost the registration, so the station boots
 * (once per connection: no loop). true when ev was that refusal (or a queued call the fallback refused). */
bool sim_station_refused(struct sim_station *st, const struct ocpp_event *ev);

/* handlers.c: the CSMS's CALLs */
void sim_station_handle_call(struct sim_station *st, const struct ocpp_event *ev, int64_t now_real);
/* Fault late: answers the held CSMS calls that are due (called every tick). */
void sim_station_answer_late(struct sim_station *st, int64_t now_real);

/* net.c */
int sim_run(struct sim_world *w);

/* table.c: --table, a row each time the simulated clock t passes a row boundary (called every tick). */
void sim_table_tick(struct sim_world *w, int64_t t);

/* main.c: ws://host:port/path into host[128], port, path[256] (no trailing slash). 0, or -1. */
int sim_parse_url(const char *url, char *host, int *port, char *path, bool *tls);
/* main.c: the URL into o's host, port, path and TLS (checked against the TLS options); 0, or -1. */
int sim_parse_options_url(const char *url, struct sim_options *o);
/* main.c: the commands and their options. */
void sim_usage(FILE *o);

/* replay.c: `depotsim run` and `depotsim baseline`; the process's exit code. */
int sim_cmd_run(int argc, char **argv);
int sim_cmd_baseline(int argc, char **argv);

#endif
