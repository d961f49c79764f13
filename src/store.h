/*
 * store.h - the event log (SQLite, WAL) and the projections derived from it.
 *
 * Every OCPP frame in and out, every connect and disconnect, every registry or config change is appended to
 * the `events` table, which is append-only (triggers refuse UPDATE and DELETE; the one exception is the
 * retention policy's pruning of old frames that are not essential, store_set_retention). The projections (stations,
 * connectors, transactions, meter values, EV charging needs, station capabilities, charging limits) are
 * derived from the events by one function, used both live and by store_rebuild_projections(), so they can be
 * rebuilt from the log alone.
 *
 * Threads: store_append/store_flush/store_ticket/store_durable and the store_load_* readers are called from the
 * event loop thread only. A writer thread owned by the store commits each flushed batch in one SQLite
 * transaction (group commit: one fsync per batch, never one per message) and then calls `notify` from the
 * writer thread; notify must be thread-safe (depotd passes a function that calls lws_cancel_service()).
 *
 * Durability: a CALL that changes state is answered only once store_durable() has reached the ticket its
 * events were appended under (synchronous=FULL: the WAL is fsynced at each commit).
 */
#ifndef DEPOTD_STORE_H
#define DEPOTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* Event types written by depotd. */
#define STORE_EV_OCPP_IN "ocpp_in"
#define STORE_EV_OCPP_OUT "ocpp_out"
#define STORE_EV_CONNECT "connect"
#define STORE_EV_DISCONNECT "disconnect"
#define STORE_EV_RESUME "resume"      /* a connection without a boot: the station's registration stands */
#define STORE_EV_REFUSED "refused"
#define STORE_EV_REGISTRY "registry"
#define STORE_EV_CONFIG "config"
#define STORE_EV_START "start"
#define STORE_EV_STOP "stop"
#define STORE_EV_PRICES "prices"      /* a price fetch: {"provider", "outcome", "breaker", "prices": [[s,e,p],...]} */
#define STORE_EV_SITE_LOAD "site_load" /* a building load fetch: as "prices", the values in kW */
#define STORE_EV_SITE_SUPPLY "site_supply" /* a PV or battery fetch (site_load.pv/.battery): the same, kW */

struct store_event {
    int64_t time_ms;           /* wall clock, ms since the epoch, UTC */
    const char *type;          /* STORE_EV_* */
    const char *station;       /* may be NULL */
    int msg_type;              /* OCPP-J MessageTypeId (2, 3, 4) for frames, else 0 */
    const char *action;        /* for frames: the CALL's action (also on its CALLRESULT / CALLERROR) */
    const char *message_id;    /* for frames */
    const char *status;        /* for frames: "ok", or the OCPP-J error code the frame was refused with */
    const char *data;          /* the frame text, or a JSON object describing the event */
};

enum store_ticket_state { STORE_PENDING, STORE_DURABLE, STORE_FAILED };
/* What store_append returns when it could not take the event (out of memory): a ticket that never becomes
 * durable; store_ticket_state says STORE_FAILED at once. */
#define STORE_TICKET_LOST UINT64_MAX

/* Opens (creating and migrating as needed) and starts the writer thread. notify may be NULL. */
store *store_open(const char *path, void (*notify)(void *ctx), void *notify_ctx, char *err, size_t err_len);
/* Flushes what is appended, waits for the writer, stops it, closes. Returns -1 if a commit failed. */
int store_close(store *st);

/* Copies the event into the current batch. Returns the batch's ticket, or STORE_TICKET_LOST. An event the batch
 * could not take fails the whole batch: its ticket reads STORE_FAILED and none of it is committed. */
uint64_t store_append(store *st, const struct store_event *ev);
/* Hands the current batch to the writer (no-op when empty). Call once per loop turn. */
void store_flush(store *st);
/* Whether the batch with this ticket is committed, still pending, or failed to commit. Every failed ticket is
 * remembered (as ranges), however many there are. */
enum store_ticket_state store_ticket_state(store *st, uint64_t ticket);
/* The highest ticket such that it and all before it are settled (durable or failed). */
uint64_t store_settled(store *st);

/* Queries other modules run on the log, kept here so the store's indexes are made for them (and its tests check
 * their query plans). STORE_SQL_API_EVENTS: every "api" event in order (index events_type). STORE_PLAN_START_SQL:
 * a "plan" event's planning-clock start, an RFC 3339 text as ocpp_time_format writes it, so texts compare as
 * times (index events_plan_start; a query must use this exact expression and `type = 'plan'`). */
#define STORE_SQL_API_EVENTS "SELECT seq, time_ms, data FROM events WHERE type = 'api' ORDER BY seq"
/* The "api" events recorded (wall clock) at or after ?1, in order. */
#define STORE_SQL_API_EVENTS_SINCE                                                                            \
    "SELECT seq, time_ms, data FROM events WHERE type = 'api' AND time_ms >= ?1 ORDER BY seq"
#define STORE_PLAN_START_SQL "CASE WHEN json_valid(data) THEN json_extract(data, '$.start') END"
/* The newest "plan" events whose planning-clock start is at or before ?1 (RFC 3339 text), at most ?2. */
#define STORE_SQL_PLANS_AT                                                                                    \
    "SELECT seq, time_ms, data FROM events INDEXED BY events_plan_start WHERE type = 'plan' AND "               \
    STORE_PLAN_START_SQL " <= ?1 ORDER BY " STORE_PLAN_START_SQL " DESC, seq DESC LIMIT ?2"

/* The writer's last commit, for readiness: ok, or the SQLite error it failed with (a full disk, a read-only
 * file system, a database another process broke). A later successful commit makes it ok again. Any thread. */
struct store_health {
    bool last_commit_ok;
    int commits_failed;          /* since open */
    int64_t last_failed_ms;      /* wall clock; 0: never */
    char last_error[200];
};
void store_health(store *st, struct store_health *out);

/* Disk watermarks, in bytes free on the database's file system (0: off). Below warn, store_disk says so; below
 * min, events that are not essential are not written (and counted) until the free space is back a quarter
 * above min, so a full disk does not take the answers to boots, sessions and plans down with it. Measured by
 * the writer after its commits, at most once a second (and once here). Loop thread. */
void store_set_watermarks(store *st, int64_t warn_free_bytes, int64_t min_free_bytes);
/* Essential: everything but the frames of Heartbeat, MeterValues, NotifyEvent, LogStatusNotification,
 * FirmwareStatusNotification, DataTransfer (either direction, CALL and answer) and the TransactionEvent CALLs
 * sent for periodic meter values (eventType Updated, triggerReason MeterValuePeriodic). */
bool store_event_essential(const struct store_event *ev);
struct store_disk_state {
    int64_t free_bytes;          /* -1: unknown */
    bool low, lean;
    uint64_t dropped;            /* events not written for lack of disk, since open */
    uint64_t frames_pruned;      /* frames deleted by store_set_retention's policy, since open */
    uint64_t prune_errors;       /* pruning steps that failed (retried an hour later), since open */
};
void store_disk(store *st, struct store_disk_state *out);
/* Retention: the frames that are not essential (above) are deleted once older than keep_frames_ms (wall clock;
 * 0: kept for ever), by the writer in short steps between its batches (an hour apart once caught up). Everything
 * else stays, and so does what the pruned frames put in the projections (store_rebuild_projections keeps it). */
void store_set_retention(store *st, int64_t keep_frames_ms);

/* Schema version after migrations (PRAGMA user_version). */
int store_schema_version(void);

/* Offline: drop and rebuild every projection from the event log. depotd must not be running on it. */
int store_rebuild_projections(const char *path, char *err, size_t err_len);

/* ---- Reads for start-up (loop thread, own read connection) ---- */

struct store_station_row {
    const char *id;
    const char *boot_status;     /* last status depotd answered, or NULL */
    const char *password_hash;   /* registered by auto-registration, or NULL */
};
/* Calls fn for every station known to the store. Returns 0 or -1. */
int store_each_station(store *st, void (*fn)(void *ctx, const struct store_station_row *row), void *ctx);
/* Calls fn for every stored price (currency per kWh, composed) overlapping [from_ms, to_ms). */
int store_each_price(store *st, int64_t from_ms, int64_t to_ms,
                     void (*fn)(void *ctx, const char *provider, int64_t start_ms, int64_t end_ms, double price),
                     void *ctx);
/* The data of every event of this type logged at or after from_ms, oldest first. Returns 0 or -1. */
int store_each_event_since(store *st, const char *type, int64_t from_ms, void (*fn)(void *ctx, const char *data),
                           void *ctx);
/* Every charging limit a station reported and has not cleared (NotifyChargingLimit's payload, and when it came:
 * wall clock). 0 or -1. */
int store_each_charging_limit(store *st,
                              void (*fn)(void *ctx, const char *station, const char *payload, int64_t received_ms),
                              void *ctx);
/* Every profile of the stations' last ReportChargingProfiles (its source, EVSE, the profile as JSON, when it came:
 * wall clock). 0 or -1. */
int store_each_reported_profile(store *st,
                                void (*fn)(void *ctx, const char *station, const char *source, int evse_id,
                                           const char *profile, int64_t received_ms),
                                void *ctx);
/* The data of the newest event of this type (malloc'd; NULL when there is none). */
char *store_last_event_data(store *st, const char *type);
/* The data of one station's (NULL: every station's) newest events of this type (at most limit), newest first, until
 * fn returns nonzero. */
int store_each_station_event(store *st, const char *type, const char *station, int limit,
                             int (*fn)(void *ctx, const char *data), void *ctx);
/* Every transaction not ended, with the EV's last needs on its EVSE (control restores its model from it). */
struct store_active_tx {
    const char *station, *tx_id, *id_token, *charging_state;
    int evse_id;
    int64_t started_ms;
    bool has_energy;
    double energy_first_wh, energy_last_wh;
    int64_t energy_last_ms;
    const char *needs_payload;   /* NotifyEVChargingNeeds payload for this EVSE since the start, or NULL */
    double needs_base_wh;        /* the register the EV's energyAmount counts from (the session's first) */
};
int store_each_active_transaction(store *st, void (*fn)(void *ctx, const struct store_active_tx *row), void *ctx);
/* Number of transactions not ended (for start-up logs and tests). */
int store_count_active_transactions(store *st);

#endif
