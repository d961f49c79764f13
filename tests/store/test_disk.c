/*
 * The disk watermarks (store_set_watermarks): which events are essential, the low/lean verdict and its
 * hysteresis (through the seam store_disk_update), and a real store on a real file system in lean mode (a
 * minimum above the disk's free space): essential events are written, the rest are not and are counted, and
 * their tickets do not overtake what came before them. Retention (store_set_retention): old frames that are not
 * essential go, the rest stays, the projections do not change, and a rebuild from the pruned log gives them again.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "store_internal.h"

static struct store_event frame(int msg_type, const char *action, const char *data)
{
    return (struct store_event){.time_ms = 1764000000000, .type = msg_type == 2 ? STORE_EV_OCPP_IN : STORE_EV_OCPP_OUT,
                                .station = "CS1", .msg_type = msg_type, .action = action, .message_id = "m1",
                                .status = "ok", .data = data};
}

#define PERIODIC "[2,\"m1\",\"TransactionEvent\",{\"eventType\":\"Updated\",\"triggerReason\":\"MeterValuePeriodic\"," \
                 "\"seqNo\":3,\"timestamp\":\"2026-12-07T00:00:00Z\",\"transactionInfo\":{\"transactionId\":\"T1\"}}]"

static void test_essential(void)
{
    struct store_event hb = frame(2, "Heartbeat", "[2,\"m1\",\"Heartbeat\",{}]");
    struct store_event hb_answer = frame(3, "Heartbeat", "[3,\"m1\",{\"currentTime\":\"2026-12-07T00:00:00Z\"}]");
    struct store_event mv = frame(2, "MeterValues", "[2,\"m1\",\"MeterValues\",{\"evseId\":1,\"meterValue\":[]}]");
    struct store_event boot = frame(2, "BootNotification", "[2,\"m1\",\"BootNotification\",{}]");
    struct store_event periodic = frame(2, "TransactionEvent", PERIODIC);
    struct store_event ended = frame(2, "TransactionEvent",
                                     "[2,\"m1\",\"TransactionEvent\",{\"eventType\":\"Ended\",\"triggerReason\":"
                                     "\"EVDeparted\",\"idToken\":{\"idToken\":\"MeterValuePeriodic\",\"type\":\"Local\"}}]");
    struct store_event tx_answer = frame(3, "TransactionEvent", "[3,\"m1\",{}]");
    struct store_event broken = frame(2, "TransactionEvent", "[2,\"m1\",\"TransactionEvent\",{\"eventType\":");
    struct store_event plan = {.time_ms = 1, .type = "plan", .data = "{\"plan\":1}"};
    struct store_event connect = {.time_ms = 1, .type = STORE_EV_CONNECT, .station = "CS1", .data = "{}"};
    CHECK(!store_event_essential(&hb) && !store_event_essential(&hb_answer), "Heartbeat and its answer: not essential");
    CHECK(!store_event_essential(&mv), "MeterValues: not essential");
    CHECK(!store_event_essential(&periodic), "a periodic TransactionEvent Updated: not essential");
    CHECK(store_event_essential(&ended), "TransactionEvent Ended (with a token named like the trigger): essential");
    CHECK(store_event_essential(&tx_answer), "an answer to a TransactionEvent: essential");
    CHECK(store_event_essential(&broken), "a TransactionEvent that does not parse: essential (kept as evidence)");
    CHECK(store_event_essential(&boot), "BootNotification: essential");
    CHECK(store_event_essential(&plan) && store_event_essential(&connect), "plan and connect events: essential");
}

static void test_verdict(void)
{
    struct store_disk dk;
    memset(&dk, 0, sizeof dk);
    store_disk_init(&dk, "/var/lib/depotd/depotd.db");
    CHECK(strcmp(dk.dir, "/var/lib/depotd") == 0 && atomic_load(&dk.free_bytes) == -1, "the directory (%s), unknown",
          dk.dir);
    store_disk_init(&dk, "depotd.db");
    CHECK(strcmp(dk.dir, ".") == 0, "a bare file name: the current directory (%s)", dk.dir);
    atomic_store(&dk.warn_bytes, 200);
    atomic_store(&dk.min_bytes, 100);
    store_disk_update(&dk, 250);
    CHECK(!atomic_load(&dk.low) && !atomic_load(&dk.lean), "250 free: neither");
    store_disk_update(&dk, 150);
    CHECK(atomic_load(&dk.low) && !atomic_load(&dk.lean), "150: low, not lean");
    store_disk_update(&dk, 99);
    CHECK(atomic_load(&dk.lean), "99: lean");
    store_disk_update(&dk, 120);
    CHECK(atomic_load(&dk.lean), "120: still lean (out only at 125)");
    store_disk_update(&dk, -1);
    CHECK(atomic_load(&dk.lean) && atomic_load(&dk.free_bytes) == -1, "unknown: as it was");
    store_disk_update(&dk, 125);
    CHECK(!atomic_load(&dk.lean) && atomic_load(&dk.low), "125: not lean, still low");
    atomic_store(&dk.min_bytes, 0);
    atomic_store(&dk.warn_bytes, 0);
    store_disk_update(&dk, 1);
    CHECK(!atomic_load(&dk.lean) && !atomic_load(&dk.low), "marks off: neither at 1 byte");
}

static int count(const char *path, const char *where)
{
    sqlite3 *db;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE %s", where);
    sqlite3_stmt *s;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void wait_settled(store *st, uint64_t ticket)
{
    for (int i = 0; i < 500 && store_settled(st) < ticket; i++) usleep(2000);
}

/* A minimum far above what any disk has free: lean from the first measurement, on a real file system. */
static void test_lean_store(const char *path)
{
    char err[256];
    store *st = store_open(path, NULL, NULL, err, sizeof err);
    CHECK(st, "store opened (%s)", st ? "" : err);
    if (!st) return;
    store_set_watermarks(st, INT64_MAX / 4, INT64_MAX / 8);
    struct store_disk_state ds;
    store_disk(st, &ds);
    CHECK(ds.free_bytes > 0 && ds.low && ds.lean, "measured %lld bytes free: low and lean", (long long)ds.free_bytes);
    struct store_event boot = frame(2, "BootNotification", "[2,\"m1\",\"BootNotification\",{}]");
    struct store_event hb = frame(2, "Heartbeat", "[2,\"m2\",\"Heartbeat\",{}]");
    struct store_event periodic = frame(2, "TransactionEvent", PERIODIC);
    uint64_t t_boot = store_append(st, &boot);
    uint64_t t_hb = store_append(st, &hb);
    CHECK(t_hb == t_boot, "a Heartbeat not written waits for the Boot before it (ticket %llu, %llu)",
          (unsigned long long)t_hb, (unsigned long long)t_boot);
    store_flush(st);
    uint64_t t_alone = store_append(st, &periodic);
    CHECK(t_alone == t_boot, "with nothing filling, the last ticket handed out (%llu)", (unsigned long long)t_alone);
    wait_settled(st, t_boot);
    store_disk(st, &ds);
    CHECK(ds.dropped == 2, "two events not written, counted (%llu)", (unsigned long long)ds.dropped);
    store_set_watermarks(st, 0, 0);
    store_disk(st, &ds);
    CHECK(!ds.lean && !ds.low, "marks off: written again");
    uint64_t t = store_append(st, &hb);
    store_flush(st);
    wait_settled(st, t);
    store_close(st);
    CHECK(count(path, "action = 'BootNotification'") == 1, "the Boot is in the log");
    CHECK(count(path, "action = 'Heartbeat'") == 1, "one Heartbeat, the one after the marks were lifted");
    CHECK(count(path, "action = 'TransactionEvent'") == 0, "no periodic TransactionEvent");
}

/* Heartbeat frames are gathered a few ms before their commit (nobody waits for them): a batch that must be on disk
 * behind them is committed with them, in order, and a close in the middle of the gathering loses nothing. */
static void test_gathered(const char *path)
{
    char err[256];
    store *st = store_open(path, NULL, NULL, err, sizeof err);
    CHECK(st, "store opened (%s)", st ? "" : err);
    if (!st) return;
    struct store_event hb = frame(2, "Heartbeat", "[2,\"m2\",\"Heartbeat\",{}]");
    struct store_event boot = frame(2, "BootNotification", "[2,\"m1\",\"BootNotification\",{}]");
    uint64_t t_hb = store_append(st, &hb);
    store_flush(st);
    uint64_t t_boot = store_append(st, &boot);
    store_flush(st);
    wait_settled(st, t_boot);
    CHECK(store_settled(st) >= t_boot && store_ticket_state(st, t_hb) == STORE_DURABLE,
          "a Boot behind a gathered Heartbeat: both settled");
    for (int i = 0; i < 3; i++) {
        store_append(st, &hb);
        store_flush(st);
    }
    store_close(st); /* the writer is still gathering them */
    CHECK(count(path, "action = 'Heartbeat'") == 4, "closed while gathering: every Heartbeat in the log (%d)",
          count(path, "action = 'Heartbeat'"));
    CHECK(count(path, "action = 'BootNotification'") == 1, "and the Boot");
}

static void dump_table(sqlite3 *db, const char *sql, char *out, size_t cap, size_t *len)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        *len += (size_t)snprintf(out + *len, cap - *len, "ERROR %s\n", sqlite3_errmsg(db));
        return;
    }
    while (sqlite3_step(s) == SQLITE_ROW && *len < cap - 200)
        for (int i = 0; i < sqlite3_column_count(s); i++) {
            const char *t = (const char *)sqlite3_column_text(s, i);
            *len += (size_t)snprintf(out + *len, cap - *len, "%s%s", t ? t : "NULL",
                                     i + 1 < sqlite3_column_count(s) ? "|" : "\n");
        }
    sqlite3_finalize(s);
}

/* Every projection a session touches, as text. */
static char *projections(const char *path)
{
    static const char *const q[] = {
        "SELECT * FROM transactions ORDER BY station, id", "SELECT * FROM transaction_events ORDER BY event_seq",
        "SELECT * FROM meter_values ORDER BY event_seq, idx", "SELECT * FROM stations ORDER BY id",
        "SELECT * FROM connectors ORDER BY station, evse_id"};
    sqlite3 *db;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) dump_table(db, q[i], out, cap, &len);
    sqlite3_close(db);
    return out;
}

static const char *delete_refused(const char *path, const char *where)
{
    static char msg[200];
    sqlite3 *db;
    sqlite3_open(path, &db);
    char sql[200], *e = NULL;
    snprintf(sql, sizeof sql, "DELETE FROM events WHERE %s", where);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &e);
    snprintf(msg, sizeof msg, "%s", rc == SQLITE_OK ? "deleted" : e ? e : "?");
    sqlite3_free(e);
    sqlite3_close(db);
    return msg;
}

#define DAY_MS 86400000LL
#define TE(type, why, seq, mv) "[2,\"t" #seq "\",\"TransactionEvent\",{\"eventType\":\"" type "\",\"timestamp\":" \
    "\"2026-08-01T0" #seq ":00:00Z\",\"triggerReason\":\"" why "\",\"seqNo\":" #seq ",\"transactionInfo\":" \
    "{\"transactionId\":\"T1\",\"chargingState\":\"Charging\"},\"evse\":{\"id\":1,\"connectorId\":1}" mv "}]"
#define MV(wh, seq) ",\"meterValue\":[{\"timestamp\":\"2026-08-01T0" #seq ":00:00Z\",\"sampledValue\":[{\"value\":" \
    #wh ",\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}]"

/* A session whose first reading is in a periodic frame 100 days old, a Heartbeat and a MeterValues as old, the
 * rest recent. Keeping 30 days prunes the four old frames that are not essential and nothing else. */
static void test_retention(const char *path)
{
    char err[256];
    store *st = store_open(path, NULL, NULL, err, sizeof err);
    CHECK(st, "store opened (%s)", st ? "" : err);
    if (!st) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000, old = now - 100 * DAY_MS;
    struct { int64_t t; int msg_type; const char *action, *data; } evs[] = {
        {old, 2, "BootNotification", "[2,\"b1\",\"BootNotification\",{\"reason\":\"PowerUp\",\"chargingStation\":"
                                     "{\"model\":\"m\",\"vendorName\":\"v\"}}]"},
        {old, 2, "TransactionEvent", TE("Started", "CablePluggedIn", 0, "")},
        {old, 2, "TransactionEvent", TE("Updated", "MeterValuePeriodic", 1, MV(5000, 1))},
        {old, 2, "MeterValues", "[2,\"m1\",\"MeterValues\",{\"evseId\":1,\"meterValue\":[{\"timestamp\":"
                                "\"2026-08-01T01:30:00Z\",\"sampledValue\":[{\"value\":5500}]}]}]"},
        {old, 2, "Heartbeat", "[2,\"h1\",\"Heartbeat\",{}]"},
        {old, 3, "Heartbeat", "[3,\"h1\",{\"currentTime\":\"2026-08-01T02:00:00Z\"}]"},
        {now, 2, "TransactionEvent", TE("Updated", "MeterValuePeriodic", 2, MV(8000, 2))},
        {now, 2, "Heartbeat", "[2,\"h2\",\"Heartbeat\",{}]"},
        {now, 2, "TransactionEvent", TE("Ended", "EVDeparted", 3, "")},
    };
    struct store_event reg = {.time_ms = old, .type = STORE_EV_CONNECT, .station = "CS1", .data = "{}"};
    store_append(st, &reg);
    uint64_t t = 0;
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        struct store_event ev = frame(evs[i].msg_type, evs[i].action, evs[i].data);
        ev.time_ms = evs[i].t;
        t = store_append(st, &ev);
    }
    store_flush(st);
    wait_settled(st, t);
    char *before = projections(path);
    CHECK(strstr(before, "|5000.0|Wh") && strstr(before, "T1|1|1|"), "the session's projections are there");
    store_set_retention(st, 30 * DAY_MS);
    struct store_disk_state ds = {0};
    for (int i = 0; i < 100 && ds.frames_pruned < 4; i++) {
        usleep(50000);
        store_disk(st, &ds);
    }
    CHECK(ds.frames_pruned == 4 && ds.prune_errors == 0, "four frames pruned (%llu, %llu errors)",
          (unsigned long long)ds.frames_pruned, (unsigned long long)ds.prune_errors);
    CHECK(count(path, "action = 'Heartbeat'") == 1 && count(path, "action = 'MeterValues'") == 0,
          "the old Heartbeat (in and out) and MeterValues are gone, the recent Heartbeat stays");
    CHECK(count(path, "action = 'TransactionEvent'") == 3, "Started, the recent Updated and Ended stay (%d)",
          count(path, "action = 'TransactionEvent'"));
    CHECK(count(path, "action = 'BootNotification'") == 1 && count(path, "type = 'connect'") == 1,
          "the old Boot and connect stay");
    char *after = projections(path);
    CHECK(strcmp(before, after) == 0, "the projections did not change");
    CHECK(strstr(delete_refused(path, "action = 'Heartbeat'"), "append-only"), "a recent frame cannot be deleted (%s)",
          delete_refused(path, "action = 'Heartbeat'"));
    CHECK(strstr(delete_refused(path, "action = 'BootNotification'"), "append-only"), "nor an old boot");
    store_close(st);
    CHECK(store_rebuild_projections(path, err, sizeof err) == 0, "rebuilt (%s)", err);
    char *rebuilt = projections(path);
    CHECK(strcmp(before, rebuilt) == 0, "the rebuild from the pruned log gives the same projections");
    if (strcmp(before, rebuilt) != 0) printf("before:\n%s\nrebuilt:\n%s\n", before, rebuilt);
    free(before), free(after), free(rebuilt);
}

int main(void)
{
    char dir[] = "/tmp/depotd-disk-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/depotd.db", dir);
    test_essential();
    test_verdict();
    test_lean_store(path);
    char path2[300];
    snprintf(path2, sizeof path2, "%s/retention.db", dir);
    test_retention(path2);
    char path3[300];
    snprintf(path3, sizeof path3, "%s/gathered.db", dir);
    test_gathered(path3);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return CHECK_DONE();
}
